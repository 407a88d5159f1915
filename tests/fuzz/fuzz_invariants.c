#include "fuzz_invariants.h"

#include "text.h"

#include <math.h>
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>

#define FUZZ_VOTE_ID "01890a5d-ac96-774b-bcce-b302099a8057"
#define FUZZ_RECEIVED_AT_MS 1733340000123LL

void fuzz_fail(const char *file, int line, const char *condition, const char *fmt, ...)
{
    va_list ap;

    fprintf(stderr, "\nfuzz invariant failed at %s:%d: %s\n  ", file, line, condition);
    va_start(ap, fmt);
    vfprintf(stderr, fmt, ap);
    va_end(ap);
    fputc('\n', stderr);
    abort();
}

static int current_utc_year(void)
{
    time_t now = time(NULL);
    struct tm utc;

    gmtime_r(&now, &utc);
    return utc.tm_year + 1900;
}

void fuzz_check_text_buffer(const char *label, const char *text, size_t size)
{
    size_t len = strnlen(text, size);

    FUZZ_REQUIRE(len < size, "%s is not NUL-terminated inside its %zu-byte buffer", label, size);
    FUZZ_REQUIRE(len > 0, "%s is empty", label);
    FUZZ_REQUIRE(text_is_utf8(text, len), "%s is not valid UTF-8", label);
}

/* Requires text to be already in NFC, so the catalog comparison and the
 * tally's keys see one spelling per album. */
static void check_nfc_stable(const char *label, const char *text)
{
    char *normalized = text_nfc_dup(text);

    FUZZ_REQUIRE(normalized != NULL, "%s cannot be normalized: \"%s\"", label, text);
    FUZZ_REQUIRE(strcmp(normalized, text) == 0, "%s is not in NFC: \"%s\" normalizes to \"%s\"",
                 label, text, normalized);
    free(normalized);
}

static void check_ballot_text(const char *label, const char *text, size_t size)
{
    fuzz_check_text_buffer(label, text, size);
    FUZZ_REQUIRE(strlen(text) <= VOTE_TEXT_MAX, "%s has %zu bytes, over %d", label, strlen(text),
                 VOTE_TEXT_MAX);
    FUZZ_REQUIRE(text[strspn(text, " \t")] != '\0', "%s is blank", label);
    FUZZ_REQUIRE(!text_has_control(text), "%s contains a control character", label);
    check_nfc_stable(label, text);
}

void fuzz_check_ballot(const struct vote *vote)
{
    int year_max = current_utc_year();

    check_ballot_text("name", vote->name, sizeof(vote->name));
    check_ballot_text("album", vote->album, sizeof(vote->album));
    FUZZ_REQUIRE(vote->year >= VOTE_YEAR_MIN && vote->year <= year_max,
                 "accepted year %d is outside %d..%d", vote->year, VOTE_YEAR_MIN, year_max);
    FUZZ_REQUIRE(isfinite(vote->rank) && vote->rank >= 0.0 && vote->rank <= VOTE_RANK_MAX,
                 "accepted rank %.17g is outside 0..100", vote->rank);
}

/* Compares doubles bit for bit, so -0.0 must come back as -0.0. */
static int same_double(double a, double b)
{
    return memcmp(&a, &b, sizeof(a)) == 0;
}

void fuzz_check_record_round_trip(const struct vote *vote)
{
    struct vote stamped = *vote;
    struct vote parsed;
    char *record;

    if (stamped.id[0] == '\0')
        snprintf(stamped.id, sizeof(stamped.id), "%s", FUZZ_VOTE_ID);
    if (stamped.route[0] == '\0')
        snprintf(stamped.route, sizeof(stamped.route), "rest");
    if (stamped.received_at_ms == 0)
        stamped.received_at_ms = FUZZ_RECEIVED_AT_MS;

    record = vote_record_to_json(&stamped);
    FUZZ_REQUIRE(record != NULL,
                 "vote_record_to_json failed for name \"%s\" album \"%s\" year %d rank %.17g",
                 stamped.name, stamped.album, stamped.year, stamped.rank);
    FUZZ_REQUIRE(vote_record_parse(record, strlen(record), &parsed) == 0,
                 "vote_record_parse rejects the record it wrote: %s", record);

    FUZZ_REQUIRE(strcmp(parsed.id, stamped.id) == 0, "id changed in record %s", record);
    FUZZ_REQUIRE(strcmp(parsed.name, stamped.name) == 0, "name changed in record %s", record);
    FUZZ_REQUIRE(strcmp(parsed.album, stamped.album) == 0, "album changed in record %s", record);
    FUZZ_REQUIRE(parsed.year == stamped.year, "year changed in record %s", record);
    FUZZ_REQUIRE(same_double(parsed.rank, stamped.rank), "rank %.17g came back as %.17g in %s",
                 stamped.rank, parsed.rank, record);
    FUZZ_REQUIRE(strcmp(parsed.route, stamped.route) == 0, "route changed in record %s", record);
    FUZZ_REQUIRE(parsed.received_at_ms == stamped.received_at_ms,
                 "received_at changed in record %s", record);
    free(record);
}
