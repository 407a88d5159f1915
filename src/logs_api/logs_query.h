/* GET /api/logs: its query-string parameters, the page cursor and the
 * MongoDB filter they become. Parsing never touches the network, so unit
 * tests drive it with plain name/value pairs. */
#ifndef URNA_LOGS_QUERY_H
#define URNA_LOGS_QUERY_H

#include <bson/bson.h>
#include <jansson.h>
#include <stddef.h>
#include <stdint.h>

#include "vote.h"

#define LOGS_LIMIT_DEFAULT 20
#define LOGS_LIMIT_MAX 500
#define LOGS_TEXT_MAX 256   /* bytes of a band or album filter */
#define LOGS_ID_MAX 64      /* bytes of a vote id inside a cursor */
#define LOGS_PARAMS_MAX 16  /* query-string arguments accepted per request */

/* Compact JSON whose reals keep 15 significant digits, so a rank stored as
 * 6.9 prints as 6.9 and not as its 17-digit binary expansion. */
#define API_JSON_FLAGS (JSON_COMPACT | JSON_REAL_PRECISION(15))

/* One query-string argument as the server decoded it; value is NULL when the
 * argument had no "=". */
struct logs_param {
    const char *name;
    const char *value;
};

/* Position after the last item of a page: the next page contains the votes
 * strictly older in (received_at, _id) order. */
struct logs_cursor {
    int64_t received_at_ms;
    char id[LOGS_ID_MAX + 1];
};

/* The validated request. Text filters are in Unicode NFC; a time filter is
 * present when its has_ flag is set. */
struct logs_query {
    int limit;
    int has_cursor;
    struct logs_cursor cursor;
    char band[LOGS_TEXT_MAX + 1];
    char album[LOGS_TEXT_MAX + 1];
    char route[8];
    int has_from;
    int64_t from_ms; /* inclusive */
    int has_to;
    int64_t to_ms; /* inclusive */
};

/* Why a request was rejected: a stable code, the parameter, and a message in
 * the request's language. */
struct logs_query_error {
    const char *code;
    char field[48];
    char message[320];
};

/* Validates the arguments into query. Unknown, repeated or empty arguments,
 * and values of the wrong type, fail. Returns 0, or -1 with err filled. */
int logs_query_parse(const struct logs_param *params, size_t count, enum vote_lang lang,
                     struct logs_query *query, struct logs_query_error *err);

/* Parses an ISO 8601 instant: YYYY-MM-DD, or YYYY-MM-DDTHH:MM[:SS[.fff]]
 * followed by Z, +HH:MM or -HH:MM (UTC when no zone is given). Returns 0 and
 * stores milliseconds since the Unix epoch, or -1. */
int logs_parse_instant(const char *text, int64_t *ms);

/* Writes ms as "YYYY-MM-DDTHH:MM:SS.fffZ" (24 bytes and a NUL). */
void logs_format_instant(int64_t ms, char *out, size_t outlen);

/* Encodes a cursor as URL-safe base64 without padding; returns a malloc'd
 * string or NULL. */
char *logs_cursor_encode(const struct logs_cursor *cursor);

/* Decodes what logs_cursor_encode produced. Returns 0, or -1 on any other
 * text. */
int logs_cursor_decode(const char *text, struct logs_cursor *cursor);

/* Builds the MongoDB filter of query: every filter is an explicit $eq or
 * range on a typed value, and the cursor adds the keyset condition
 * received_at < t OR (received_at == t AND _id < id). The caller destroys
 * the result. */
bson_t *logs_query_filter(const struct logs_query *query);

/* Renders one vote document as the JSON object of a log item. Returns a new
 * jansson reference, or NULL when a field is missing or mistyped. Stores the
 * document's page cursor too when cursor is not NULL. */
json_t *logs_document_json(const bson_t *document, struct logs_cursor *cursor);

#endif
