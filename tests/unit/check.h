/* A minimal harness for urna's unit tests: every failed check prints both
 * values and is counted; check_exit() returns non-zero when any failed. */
#ifndef URNA_CHECK_H
#define URNA_CHECK_H

#include <stdio.h>
#include <string.h>

static int check_failures;
static int check_count;

#define CHECK(cond)                                                                    \
    do {                                                                               \
        check_count++;                                                                 \
        if (!(cond)) {                                                                 \
            check_failures++;                                                          \
            fprintf(stderr, "%s:%d: check failed: %s\n", __FILE__, __LINE__, #cond);   \
        }                                                                              \
    } while (0)

#define CHECK_INT(actual, expected, label)                                             \
    do {                                                                               \
        long long check_a = (long long)(actual), check_e = (long long)(expected);      \
        check_count++;                                                                 \
        if (check_a != check_e) {                                                      \
            check_failures++;                                                          \
            fprintf(stderr, "%s:%d: %s: got %lld, expected %lld\n", __FILE__, __LINE__, \
                    (label), check_a, check_e);                                        \
        }                                                                              \
    } while (0)

#define CHECK_STR(actual, expected, label)                                             \
    do {                                                                               \
        const char *check_a = (actual), *check_e = (expected);                         \
        check_count++;                                                                 \
        if ((check_a == NULL) != (check_e == NULL) ||                                  \
            (check_a != NULL && strcmp(check_a, check_e) != 0)) {                      \
            check_failures++;                                                          \
            fprintf(stderr, "%s:%d: %s: got \"%s\", expected \"%s\"\n", __FILE__,      \
                    __LINE__, (label), check_a ? check_a : "(null)",                   \
                    check_e ? check_e : "(null)");                                     \
        }                                                                              \
    } while (0)

static inline int check_exit(const char *suite)
{
    printf("%s: %d checks, %d failed\n", suite, check_count, check_failures);
    return check_failures == 0 ? 0 : 1;
}

#endif
