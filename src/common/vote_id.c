#include "vote_id.h"

#include <stdio.h>
#include <string.h>
#include <sys/random.h>
#include <time.h>

int vote_id_generate(int64_t now_ms, char out[37])
{
    unsigned char bytes[16];
    uint64_t ms = (uint64_t)now_ms;

    if (getrandom(bytes + 6, 10, 0) != 10)
        return -1;

    /* 48 bits of milliseconds, then version 7 and the RFC 4122 variant. */
    for (int i = 0; i < 6; i++)
        bytes[i] = (unsigned char)(ms >> (40 - 8 * i));
    bytes[6] = (unsigned char)(0x70 | (bytes[6] & 0x0f));
    bytes[8] = (unsigned char)(0x80 | (bytes[8] & 0x3f));

    snprintf(out, 37,
             "%02x%02x%02x%02x-%02x%02x-%02x%02x-%02x%02x-%02x%02x%02x%02x%02x%02x",
             bytes[0], bytes[1], bytes[2], bytes[3], bytes[4], bytes[5], bytes[6], bytes[7],
             bytes[8], bytes[9], bytes[10], bytes[11], bytes[12], bytes[13], bytes[14],
             bytes[15]);
    return 0;
}

int vote_id_is_valid(const char *id)
{
    static const char dashes[] = {8, 13, 18, 23};

    if (strlen(id) != 36)
        return 0;
    for (int i = 0; i < 36; i++) {
        int is_dash = i == dashes[0] || i == dashes[1] || i == dashes[2] || i == dashes[3];
        char c = id[i];

        if (is_dash ? c != '-' : !((c >= '0' && c <= '9') || (c >= 'a' && c <= 'f')))
            return 0;
    }
    return 1;
}

int64_t vote_now_ms(void)
{
    struct timespec now;

    clock_gettime(CLOCK_REALTIME, &now);
    return (int64_t)now.tv_sec * 1000 + now.tv_nsec / 1000000;
}
