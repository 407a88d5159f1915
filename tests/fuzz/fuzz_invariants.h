/* Invariants shared by urna's fuzz targets. A broken invariant prints what
 * failed and aborts, so libFuzzer stores the input as a crash artifact. */
#ifndef URNA_FUZZ_INVARIANTS_H
#define URNA_FUZZ_INVARIANTS_H

#include "vote.h"

#include <stddef.h>

/* Aborts with the condition's text and a formatted explanation. */
#define FUZZ_REQUIRE(condition, ...)                                           \
    do {                                                                       \
        if (!(condition))                                                      \
            fuzz_fail(__FILE__, __LINE__, #condition, __VA_ARGS__);            \
    } while (0)

_Noreturn void fuzz_fail(const char *file, int line, const char *condition, const char *fmt,
                         ...) __attribute__((format(printf, 4, 5)));

/* Checks the vote model's rules on a vote that vote_parse_json accepted.
 * Name and album are non-empty, at most 200 bytes, valid UTF-8 without
 * control characters and already in NFC. The year is from 1900 to the
 * current UTC year, and rank is a finite decimal from 0 to 100. */
void fuzz_check_ballot(const struct vote *vote);

/* Checks that a text field read from outside is NUL-terminated inside its
 * buffer of size bytes, non-empty and valid UTF-8. */
void fuzz_check_text_buffer(const char *label, const char *text, size_t size);

/* Serializes vote as the Kafka record, parses the record back and requires
 * every field to come back unchanged. An empty id, route or received_at is
 * replaced by a fixed valid value first, as the front stamps them. */
void fuzz_check_record_round_trip(const struct vote *vote);

#endif
