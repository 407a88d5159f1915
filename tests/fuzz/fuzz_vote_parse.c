/* libFuzzer target for the ballot parser (vote_parse_json, with and without
 * the contest's catalog) and the Kafka record parser (vote_record_parse).
 * Each input goes through all three parses and every outcome is checked
 * against the vote model's rules. */
#include "catalog.h"
#include "fuzz_invariants.h"
#include "vote.h"

#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

static struct catalog *contest_catalog;

/* Loads data/catalog.json once, or the file named by URNA_CATALOG. */
int LLVMFuzzerInitialize(int *argc, char ***argv)
{
    const char *path = getenv("URNA_CATALOG");
    char errbuf[512];

    (void)argc;
    (void)argv;
    if (path == NULL || path[0] == '\0')
        path = URNA_SOURCE_DIR "/data/catalog.json";
    contest_catalog = catalog_load(path, errbuf, sizeof(errbuf));
    if (contest_catalog == NULL) {
        fprintf(stderr, "fuzz_vote_parse: cannot load the catalog %s: %s\n", path, errbuf);
        exit(1);
    }
    return 0;
}

static int is_vote_field(const char *field)
{
    return strcmp(field, "name") == 0 || strcmp(field, "album") == 0 ||
           strcmp(field, "year") == 0 || strcmp(field, "rank") == 0 ||
           strcmp(field, "voter") == 0;
}

/* Requires the optional voter id to be empty or 1 to 128 printable ASCII
 * characters without spaces, as vote.h documents. */
static void check_voter(const struct vote *vote)
{
    size_t len = strnlen(vote->voter, sizeof(vote->voter));

    FUZZ_REQUIRE(len < sizeof(vote->voter), "voter is not NUL-terminated in its buffer");
    for (size_t i = 0; i < len; i++) {
        FUZZ_REQUIRE(vote->voter[i] > ' ' && vote->voter[i] <= '~',
                     "voter has byte 0x%02x at %zu", (unsigned char)vote->voter[i], i);
    }
}

/* Checks a rejection: consistent status, a known field, a 400 or 422, and
 * messages that format in both languages. */
static void check_rejection(enum vote_status status, const struct vote_error *err)
{
    char message[512];

    /* NOTE: VOTE_INVALID_VOTER is the last status of enum vote_status today. */
    FUZZ_REQUIRE(status > VOTE_OK && status <= VOTE_INVALID_VOTER, "status %d is out of range",
                 (int)status);
    FUZZ_REQUIRE(err->status == status, "err.status %d differs from the returned %d",
                 (int)err->status, (int)status);
    FUZZ_REQUIRE(err->field == NULL || is_vote_field(err->field), "unknown field \"%s\"",
                 err->field);
    FUZZ_REQUIRE(vote_status_http(status) == 400 || vote_status_http(status) == 422,
                 "status %d maps to HTTP %d", (int)status, vote_status_http(status));
    FUZZ_REQUIRE(vote_status_code(status) != NULL, "status %d has no code", (int)status);
    FUZZ_REQUIRE(memchr(err->json_detail, '\0', sizeof(err->json_detail)) != NULL,
                 "json_detail is not NUL-terminated");

    vote_error_message(err, VOTE_LANG_ES, message, sizeof(message));
    FUZZ_REQUIRE(message[0] != '\0', "empty Spanish message for %s", vote_status_code(status));
    vote_error_message(err, VOTE_LANG_EN, message, sizeof(message));
    FUZZ_REQUIRE(message[0] != '\0', "empty English message for %s", vote_status_code(status));
}

static int is_catalog_status(enum vote_status status)
{
    return status == VOTE_UNKNOWN_BAND || status == VOTE_UNKNOWN_ALBUM ||
           status == VOTE_YEAR_MISMATCH;
}

/* Parses the input as a ballot without and with the catalog. The catalog is
 * checked last, so both parses must agree on everything before it. */
static void fuzz_ballot(const char *body, size_t len)
{
    struct vote open_vote, contest_vote;
    struct vote_error open_err, contest_err;
    enum vote_status open_status, contest_status;
    int expected_year = 0;

    open_status = vote_parse_json(body, len, NULL, &open_vote, &open_err);
    contest_status = vote_parse_json(body, len, contest_catalog, &contest_vote, &contest_err);

    if (open_status != VOTE_OK) {
        check_rejection(open_status, &open_err);
        FUZZ_REQUIRE(!is_catalog_status(open_status), "catalog status %s without a catalog",
                     vote_status_code(open_status));
        FUZZ_REQUIRE(contest_status == open_status,
                     "without the catalog %s, with it %s: the catalog must be checked last",
                     vote_status_code(open_status), vote_status_code(contest_status));
        return;
    }

    fuzz_check_ballot(&open_vote);
    check_voter(&open_vote);
    fuzz_check_record_round_trip(&open_vote);

    if (contest_status != VOTE_OK) {
        check_rejection(contest_status, &contest_err);
        FUZZ_REQUIRE(is_catalog_status(contest_status),
                     "%s only when the catalog is loaded", vote_status_code(contest_status));
        return;
    }
    FUZZ_REQUIRE(strcmp(contest_vote.name, open_vote.name) == 0 &&
                     strcmp(contest_vote.album, open_vote.album) == 0 &&
                     contest_vote.year == open_vote.year && contest_vote.rank == open_vote.rank &&
                     strcmp(contest_vote.voter, open_vote.voter) == 0,
                 "the catalog changed the parsed vote");
    FUZZ_REQUIRE(catalog_check(contest_catalog, contest_vote.name, contest_vote.album,
                               contest_vote.year, &expected_year) == CATALOG_MATCH,
                 "accepted \"%s\" / \"%s\" / %d is not in the catalog", contest_vote.name,
                 contest_vote.album, contest_vote.year);
}

/* Parses the input as a Kafka record, as the tally does. A record carries no
 * range checks, so only its buffers, route and round trip are checked. */
static void fuzz_record(const char *buf, size_t len)
{
    struct vote record;

    if (vote_record_parse(buf, len, &record) != 0)
        return;

    fuzz_check_text_buffer("record id", record.id, sizeof(record.id));
    fuzz_check_text_buffer("record name", record.name, sizeof(record.name));
    fuzz_check_text_buffer("record album", record.album, sizeof(record.album));
    FUZZ_REQUIRE(vote_route_is_valid(record.route), "record route \"%s\" accepted",
                 record.route);
    fuzz_check_record_round_trip(&record);
}

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
    fuzz_ballot((const char *)data, size);
    fuzz_record((const char *)data, size);
    return 0;
}
