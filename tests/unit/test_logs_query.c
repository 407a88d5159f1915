/* Tests of GET /api/logs parameter parsing, the page cursor, ISO 8601
 * instants, the MongoDB filter and the rendering of a vote document. */
#include "../../src/logs_api/logs_query.h"
#include "check.h"

#include <bson/bson.h>
#include <jansson.h>
#include <stdlib.h>


static int parse(const struct logs_param *params, size_t count, struct logs_query *query,
                 struct logs_query_error *err)
{
    return logs_query_parse(params, count, VOTE_LANG_ES, query, err);
}

static void test_defaults(void)
{
    struct logs_query query;
    struct logs_query_error err;

    CHECK_INT(parse(NULL, 0, &query, &err), 0, "no parameters");
    CHECK_INT(query.limit, LOGS_LIMIT_DEFAULT, "default limit");
    CHECK_INT(query.has_cursor, 0, "no cursor");
    CHECK_STR(query.band, "", "no band");
}

static void test_valid_parameters(void)
{
    struct logs_param params[] = {{"limit", "500"},     {"band", "Malacates Trébol Shop"},
                                  {"album", "Conquista"}, {"route", "grpc"},
                                  {"from", "2024-12-04T12:30:00-06:00"},
                                  {"to", "2024-12-04T18:31:00.250Z"}};
    struct logs_query query;
    struct logs_query_error err;

    CHECK_INT(parse(params, 6, &query, &err), 0, "every filter");
    CHECK_INT(query.limit, 500, "limit");
    CHECK_STR(query.band, "Malacates Trébol Shop", "band");
    CHECK_STR(query.album, "Conquista", "album");
    CHECK_STR(query.route, "grpc", "route");
    CHECK_INT(query.from_ms, 1733337000000LL, "from with offset");
    CHECK_INT(query.to_ms, 1733337060250LL, "to with milliseconds");
}

static void test_band_is_normalized(void)
{
    struct logs_param params[] = {{"band", "Extincio\xcc\x81n"}}; /* o + U+0301 */
    struct logs_query query;
    struct logs_query_error err;

    CHECK_INT(parse(params, 1, &query, &err), 0, "combining accent");
    CHECK_STR(query.band, "Extinción", "band in NFC");
}

/* Each rejected query: its arguments, the error code and the field. */
struct rejected_case {
    const char *label;
    struct logs_param params[3];
    size_t count;
    const char *code;
    const char *field;
};

static const struct rejected_case rejected_cases[] = {
    {"operator in name", {{"band[$ne]", "x"}}, 1, "unknown_parameter", "band[$ne]"},
    {"where in name", {{"$where", "1"}}, 1, "unknown_parameter", "$where"},
    {"unknown name", {{"sort", "name"}}, 1, "unknown_parameter", "sort"},
    {"repeated name", {{"limit", "1"}, {"limit", "2"}}, 2, "duplicate_parameter", "limit"},
    {"empty band", {{"band", ""}}, 1, "invalid_parameter", "band"},
    {"band without value", {{"band", NULL}}, 1, "invalid_parameter", "band"},
    {"limit zero", {{"limit", "0"}}, 1, "invalid_parameter", "limit"},
    {"limit above max", {{"limit", "501"}}, 1, "invalid_parameter", "limit"},
    {"limit negative", {{"limit", "-5"}}, 1, "invalid_parameter", "limit"},
    {"limit with text", {{"limit", "20abc"}}, 1, "invalid_parameter", "limit"},
    {"limit as object", {{"limit", "{\"$gt\":0}"}}, 1, "invalid_parameter", "limit"},
    {"route unknown", {{"route", "soap"}}, 1, "invalid_parameter", "route"},
    {"route operator", {{"route", "{\"$ne\":\"x\"}"}}, 1, "invalid_parameter", "route"},
    {"from not a date", {{"from", "yesterday"}}, 1, "invalid_parameter", "from"},
    {"to bad month", {{"to", "2024-13-01"}}, 1, "invalid_parameter", "to"},
    {"from after to", {{"from", "2024-12-05"}, {"to", "2024-12-04"}}, 2, "invalid_parameter",
     "from"},
    {"cursor garbage", {{"cursor", "!!!"}}, 1, "invalid_parameter", "cursor"},
    {"band invalid UTF-8", {{"band", "Viento \xff"}}, 1, "invalid_parameter", "band"},
    {"band control char", {{"band", "a\nb"}}, 1, "invalid_parameter", "band"},
};

static void test_rejected(void)
{
    for (size_t i = 0; i < sizeof(rejected_cases) / sizeof(rejected_cases[0]); i++) {
        const struct rejected_case *c = &rejected_cases[i];
        struct logs_query query;
        struct logs_query_error err = {0};

        CHECK_INT(parse(c->params, c->count, &query, &err), -1, c->label);
        CHECK_STR(err.code, c->code, c->label);
        CHECK_STR(err.field, c->field, c->label);
        CHECK(err.message[0] != '\0');
    }
}

static void test_operator_value_is_text(void)
{
    struct logs_param params[] = {{"band", "{\"$ne\":1}"}};
    struct logs_query query;
    struct logs_query_error err;

    CHECK_INT(parse(params, 1, &query, &err), 0, "operator text as band");
    CHECK_STR(query.band, "{\"$ne\":1}", "band kept verbatim");
}

static void test_messages_follow_language(void)
{
    struct logs_param params[] = {{"limit", "0"}};
    struct logs_query query;
    struct logs_query_error es, en;

    logs_query_parse(params, 1, VOTE_LANG_ES, &query, &es);
    logs_query_parse(params, 1, VOTE_LANG_EN, &query, &en);
    CHECK_STR(es.message, "limit debe ser un número entero entre 1 y 500", "Spanish");
    CHECK_STR(en.message, "limit must be a whole number from 1 to 500", "English");
}

static void test_too_many_parameters(void)
{
    struct logs_param params[LOGS_PARAMS_MAX + 1];
    struct logs_query query;
    struct logs_query_error err;

    for (int i = 0; i <= LOGS_PARAMS_MAX; i++)
        params[i] = (struct logs_param){"limit", "1"};
    CHECK_INT(parse(params, LOGS_PARAMS_MAX + 1, &query, &err), -1, "too many");
}

struct instant_case {
    const char *text;
    int ok;
    long long ms;
};

static const struct instant_case instant_cases[] = {
    {"1970-01-01", 1, 0},
    {"2024-12-04T18:30:00Z", 1, 1733337000000LL},
    {"2024-12-04T18:30:00.123Z", 1, 1733337000123LL},
    {"2024-12-04T18:30:00.5Z", 1, 1733337000500LL},
    {"2024-12-04T18:30:00.123456789Z", 1, 1733337000123LL},
    {"2024-12-04T18:30Z", 1, 1733337000000LL},
    {"2024-12-04T18:30:00", 1, 1733337000000LL},
    {"2024-12-04T12:30:00-06:00", 1, 1733337000000LL},
    {"2024-12-04T12:30:00-0600", 1, 1733337000000LL},
    {"2024-02-29", 1, 1709164800000LL},
    {"2023-02-29", 0, 0},
    {"2024-12-04T24:00:00Z", 0, 0},
    {"2024-12-04T18:30:60Z", 0, 0},
    {"2024-12-04T18:30:00.Z", 0, 0},
    {"2024-12-04T18:30:00.1234567890Z", 0, 0},
    {"2024-12-04T18:30:00+25:00", 0, 0},
    {"2024-12-04T18:30:00Zjunk", 0, 0},
    {"24-12-04", 0, 0},
    {"", 0, 0},
};

static void test_instants(void)
{
    char text[32];

    for (size_t i = 0; i < sizeof(instant_cases) / sizeof(instant_cases[0]); i++) {
        const struct instant_case *c = &instant_cases[i];
        int64_t ms = -1;
        int rc = logs_parse_instant(c->text, &ms);

        CHECK_INT(rc, c->ok ? 0 : -1, c->text);
        if (c->ok)
            CHECK_INT(ms, c->ms, c->text);
    }
    logs_format_instant(1733337000123LL, text, sizeof(text));
    CHECK_STR(text, "2024-12-04T18:30:00.123Z", "format");
    logs_format_instant(0, text, sizeof(text));
    CHECK_STR(text, "1970-01-01T00:00:00.000Z", "format epoch");
}

static void test_cursor_round_trip(void)
{
    struct logs_cursor cursor = {1733337000123LL, "01939150-b5a8-7c3a-9a55-3f5e0b1c2d4e"};
    struct logs_cursor decoded;
    char *text = logs_cursor_encode(&cursor);

    CHECK(text != NULL);
    CHECK(strspn(text, "ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz0123456789-_") ==
          strlen(text));
    CHECK_INT(logs_cursor_decode(text, &decoded), 0, "decode");
    CHECK_INT(decoded.received_at_ms, cursor.received_at_ms, "received_at");
    CHECK_STR(decoded.id, cursor.id, "id");
    free(text);

    /* "abc" (no colon), "-5:ab" (negative), "5:{$gt}" (not an id). */
    CHECK_INT(logs_cursor_decode("YWJj", &decoded), -1, "no colon");
    CHECK_INT(logs_cursor_decode("LTU6YWI", &decoded), -1, "negative time");
    CHECK_INT(logs_cursor_decode("NTp7JGd0fQ", &decoded), -1, "id with operator");
    CHECK_INT(logs_cursor_decode("", &decoded), -1, "empty");
}

static char *filter_json(const struct logs_query *query)
{
    bson_t *filter = logs_query_filter(query);
    char *json = bson_as_relaxed_extended_json(filter, NULL);

    bson_destroy(filter);
    return json;
}

static void test_filter(void)
{
    struct logs_param params[] = {{"band", "{\"$ne\":1}"}, {"route", "rest"},
                                  {"from", "2024-12-04T18:30:00Z"}};
    struct logs_query query;
    struct logs_query_error err;
    char *json;

    parse(NULL, 0, &query, &err);
    json = filter_json(&query);
    CHECK_STR(json, "{ }", "no filter");
    bson_free(json);

    parse(params, 3, &query, &err);
    query.has_cursor = 1;
    query.cursor.received_at_ms = 1733337000123LL;
    snprintf(query.cursor.id, sizeof(query.cursor.id), "01939150-b5a8-7c3a-9a55-3f5e0b1c2d4e");
    json = filter_json(&query);
    CHECK_STR(json,
              "{ \"$and\" : [ { \"name\" : { \"$eq\" : \"{\\\"$ne\\\":1}\" } }, "
              "{ \"route\" : { \"$eq\" : \"rest\" } }, "
              "{ \"received_at\" : { \"$gte\" : { \"$date\" : \"2024-12-04T18:30:00Z\" } } }, "
              "{ \"$or\" : [ { \"received_at\" : { \"$lt\" : { \"$date\" : "
              "\"2024-12-04T18:30:00.123Z\" } } }, { \"received_at\" : { \"$eq\" : { \"$date\" : "
              "\"2024-12-04T18:30:00.123Z\" } }, \"_id\" : { \"$lt\" : "
              "\"01939150-b5a8-7c3a-9a55-3f5e0b1c2d4e\" } } ] } ] }",
              "filter with every part");
    bson_free(json);
}

static void test_document_json(void)
{
    bson_t *document = BCON_NEW(
        "_id", BCON_UTF8("01939150-b5a8-7c3a-9a55-3f5e0b1c2d4e"), "name", BCON_UTF8("Gaby Moreno"),
        "album", BCON_UTF8("Ilusión"), "year", BCON_INT32(2016), "rank", BCON_DOUBLE(6.9),
        "route", BCON_UTF8("grpc"), "received_at", BCON_DATE_TIME(1733337000123LL), "counted_at",
        BCON_DATE_TIME(1733337000200LL), "partition", BCON_INT32(3), "offset", BCON_INT64(42));
    bson_t *partial = BCON_NEW("_id", BCON_UTF8("x"), "name", BCON_INT32(1));
    struct logs_cursor cursor;
    json_t *item = logs_document_json(document, &cursor);
    char *text = item != NULL ? json_dumps(item, API_JSON_FLAGS | JSON_SORT_KEYS) : NULL;

    CHECK_STR(text,
              "{\"album\":\"Ilusión\",\"counted_at\":\"2024-12-04T18:30:00.200Z\","
              "\"id\":\"01939150-b5a8-7c3a-9a55-3f5e0b1c2d4e\",\"name\":\"Gaby Moreno\","
              "\"offset\":42,\"partition\":3,\"rank\":6.9,\"received_at\":"
              "\"2024-12-04T18:30:00.123Z\",\"route\":\"grpc\",\"year\":2016}",
              "item");
    CHECK_INT(cursor.received_at_ms, 1733337000123LL, "cursor time");
    CHECK(logs_document_json(partial, NULL) == NULL);

    free(text);
    json_decref(item);
    bson_destroy(document);
    bson_destroy(partial);
}

int main(void)
{
    test_defaults();
    test_valid_parameters();
    test_band_is_normalized();
    test_rejected();
    test_operator_value_is_text();
    test_messages_follow_language();
    test_too_many_parameters();
    test_instants();
    test_cursor_round_trip();
    test_filter();
    test_document_json();
    return check_exit("logs_query");
}
