/* The vote: parsing and validating what a voter sends, and the record that
 * travels through Kafka to the tally. */
#ifndef URNA_VOTE_H
#define URNA_VOTE_H

#include <stddef.h>
#include <stdint.h>

struct catalog;

#define VOTE_TEXT_MAX 200 /* bytes of UTF-8 in name or album */
#define VOTE_ID_LEN 36    /* a UUID in its 8-4-4-4-12 text form */
#define VOTE_YEAR_MIN 1900
#define VOTE_RANK_MAX 100.0

struct vote {
    char id[VOTE_ID_LEN + 1];
    char name[VOTE_TEXT_MAX + 1];
    char album[VOTE_TEXT_MAX + 1];
    int year;
    double rank;
    char route[8];          /* "grpc" or "rest" */
    int64_t received_at_ms; /* Unix epoch milliseconds at the first hop */
    char voter[129];        /* optional voter id; never leaves the front */
};

enum vote_status {
    VOTE_OK = 0,
    VOTE_MALFORMED_JSON,  /* 400 */
    VOTE_NOT_AN_OBJECT,   /* 400 */
    VOTE_MISSING_FIELD,   /* 422 from here on */
    VOTE_WRONG_TYPE,
    VOTE_EMPTY_TEXT,
    VOTE_TEXT_TOO_LONG,
    VOTE_CONTROL_CHARACTER,
    VOTE_INVALID_UTF8,
    VOTE_NUMBER_TOO_LARGE,
    VOTE_YEAR_OUT_OF_RANGE,
    VOTE_RANK_OUT_OF_RANGE,
    VOTE_UNKNOWN_BAND,
    VOTE_UNKNOWN_ALBUM,
    VOTE_YEAR_MISMATCH,
    VOTE_INVALID_VOTER,
};

/* Why a vote was rejected: the status, the field concerned (or NULL) and,
 * for a year mismatch, the catalog's year. */
struct vote_error {
    enum vote_status status;
    const char *field;
    int expected_year;
    char json_detail[160]; /* the JSON parser's own message, for 400s */
};

enum vote_lang { VOTE_LANG_ES, VOTE_LANG_EN };

/* Parses a ballot in the original format and validates every rule: name and
 * album non-empty NFC UTF-8 up to 200 bytes, year an integer from 1900 to the
 * current year, rank a decimal from 0 to 100, year and rank as strings or
 * numbers, and a catalog match when catalog is not NULL. An optional
 * "voter" string (1 to 128 printable ASCII characters) goes to out->voter. Fills out (without
 * id, route or time) and returns VOTE_OK, or fills err and returns its status. */
enum vote_status vote_parse_json(const char *body, size_t len, const struct catalog *catalog,
                                 struct vote *out, struct vote_error *err);

/* The HTTP status for a rejection: 400 for malformed JSON, 422 otherwise. */
int vote_status_http(enum vote_status status);

/* A stable machine-readable code such as "year_out_of_range". */
const char *vote_status_code(enum vote_status status);

/* Writes a message a voter can act on, in Spanish or English. */
void vote_error_message(const struct vote_error *err, enum vote_lang lang, char *buf,
                        size_t len);

/* Serializes the complete vote (with id, route and received_at) as the JSON
 * record put on Kafka. Returns a malloc'd string or NULL when out of memory. */
char *vote_record_to_json(const struct vote *vote);

/* Parses a record written by vote_record_to_json; returns 0, or -1 when a
 * field is missing or vote_check_record rejects the vote. */
int vote_record_parse(const char *buf, size_t len, struct vote *out);

/* Checks a complete vote received from another hop (the gRPC or HTTP/JSON
 * producer services, the tally): the same rules as vote_parse_json minus the
 * catalog, plus a valid id and route. Returns NULL, or what is wrong. */
const char *vote_check_record(const struct vote *vote);

/* Returns non-zero when route is "grpc" or "rest". */
int vote_route_is_valid(const char *route);

#endif
