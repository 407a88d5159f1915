/* Time-ordered vote ids (UUID version 7, RFC 9562). */
#ifndef URNA_VOTE_ID_H
#define URNA_VOTE_ID_H

#include <stdint.h>

/* Writes a new UUIDv7 for the time now_ms into out (37 bytes with the NUL).
 * Returns 0, or -1 when the kernel's random source fails. Thread-safe.
 * libuuid 2.38 in Debian 12 has no v7 generator, hence this one. */
int vote_id_generate(int64_t now_ms, char out[37]);

/* Returns non-zero when id is a lowercase 8-4-4-4-12 hexadecimal UUID. */
int vote_id_is_valid(const char *id);

/* Returns the current Unix time in milliseconds. */
int64_t vote_now_ms(void);

#endif
