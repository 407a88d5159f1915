#include "text.h"

#include <stdint.h>
#include <stdlib.h>
#include <string.h>
#include <uninorm.h>
#include <unistr.h>

char *text_nfc_dup(const char *s)
{
    size_t in_len = strlen(s);
    size_t out_len = 0;
    uint8_t *normalized;
    char *copy;

    if (u8_check((const uint8_t *)s, in_len) != NULL)
        return NULL;

    normalized = u8_normalize(UNINORM_NFC, (const uint8_t *)s, in_len, NULL, &out_len);
    if (normalized == NULL)
        return NULL;

    copy = malloc(out_len + 1);
    if (copy != NULL) {
        memcpy(copy, normalized, out_len);
        copy[out_len] = '\0';
    }
    free(normalized);
    return copy;
}

int text_is_utf8(const char *s, size_t len)
{
    return u8_check((const uint8_t *)s, len) == NULL;
}

int text_has_control(const char *s)
{
    for (const unsigned char *p = (const unsigned char *)s; *p != '\0'; p++) {
        if (*p < 0x20 || *p == 0x7f)
            return 1;
    }
    return 0;
}
