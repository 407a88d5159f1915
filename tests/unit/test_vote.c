/* Table-driven tests of vote_parse_json: every rule of the vote model. */
#include "../../src/common/catalog.h"
#include "../../src/common/vote.h"
#include "check.h"

#include <math.h>
#include <stdlib.h>
#include <time.h>

struct vote_case {
    const char *label;
    const char *body;
    size_t len; /* 0 means strlen(body) */
    enum vote_status status;
    const char *field;
};

static const struct vote_case cases[] = {
    {"original format, strings", "{\"name\":\"Bohemia Suburbana\",\"album\":\"Imaginaria Sonora\",\"year\":\"2015\",\"rank\":\"5.2\"}", 0, VOTE_OK, NULL},
    {"numbers for year and rank", "{\"name\":\"Bohemia Suburbana\",\"album\":\"Imaginaria Sonora\",\"year\":2015,\"rank\":5.2}", 0, VOTE_OK, NULL},
    {"integer rank", "{\"name\":\"Bohemia Suburbana\",\"album\":\"Imaginaria Sonora\",\"year\":2015,\"rank\":7}", 0, VOTE_OK, NULL},
    {"rank 0 and 100 bounds", "{\"name\":\"Bohemia Suburbana\",\"album\":\"Imaginaria Sonora\",\"year\":2015,\"rank\":\"100\"}", 0, VOTE_OK, NULL},
    {"accented band", "{\"name\":\"Malacates Trébol Shop\",\"album\":\"Sólo éxitos… (dicen)\",\"year\":\"2005\",\"rank\":\"9.1\"}", 0, VOTE_OK, NULL},
    {"degree signs", "{\"name\":\"Bohemia Suburbana\",\"album\":\"Santiago 14° 91°\",\"year\":\"2020\",\"rank\":\"3\"}", 0, VOTE_OK, NULL},
    {"album named 13", "{\"name\":\"Viento en Contra\",\"album\":\"13\",\"year\":\"2001\",\"rank\":\"4.4\"}", 0, VOTE_OK, NULL},
    {"album named 8", "{\"name\":\"Viento en Contra\",\"album\":\"8\",\"year\":2023,\"rank\":\"0\"}", 0, VOTE_OK, NULL},
    {"combining accent matches precomposed", "{\"name\":\"Malacates Tre\xcc\x81""bol Shop\",\"album\":\"Paquetecuetes\",\"year\":1999,\"rank\":1}", 0, VOTE_OK, NULL},
    {"voter field", "{\"name\":\"Viento en Contra\",\"album\":\"8\",\"year\":2023,\"rank\":1,\"voter\":\"v-1\"}", 0, VOTE_OK, NULL},
    {"voter with a space", "{\"name\":\"Viento en Contra\",\"album\":\"8\",\"year\":2023,\"rank\":1,\"voter\":\"a b\"}", 0, VOTE_INVALID_VOTER, "voter"},
    {"voter not a string", "{\"name\":\"Viento en Contra\",\"album\":\"8\",\"year\":2023,\"rank\":1,\"voter\":5}", 0, VOTE_INVALID_VOTER, "voter"},
    {"extra fields ignored", "{\"name\":\"Viento en Contra\",\"album\":\"8\",\"year\":2023,\"rank\":1,\"extra\":[1]}", 0, VOTE_OK, NULL},

    {"not JSON", "{\"name\":", 0, VOTE_MALFORMED_JSON, NULL},
    {"empty body", "", 0, VOTE_MALFORMED_JSON, NULL},
    {"array, not object", "[1,2]", 0, VOTE_NOT_AN_OBJECT, NULL},
    {"duplicate keys", "{\"name\":\"a\",\"name\":\"b\",\"album\":\"8\",\"year\":2023,\"rank\":1}", 0, VOTE_MALFORMED_JSON, NULL},
    {"missing name", "{\"album\":\"8\",\"year\":2023,\"rank\":1}", 0, VOTE_MISSING_FIELD, "name"},
    {"missing album", "{\"name\":\"Viento en Contra\",\"year\":2023,\"rank\":1}", 0, VOTE_MISSING_FIELD, "album"},
    {"missing year", "{\"name\":\"Viento en Contra\",\"album\":\"8\",\"rank\":1}", 0, VOTE_MISSING_FIELD, "year"},
    {"missing rank", "{\"name\":\"Viento en Contra\",\"album\":\"8\",\"year\":2023}", 0, VOTE_MISSING_FIELD, "rank"},
    {"null rank", "{\"name\":\"Viento en Contra\",\"album\":\"8\",\"year\":2023,\"rank\":null}", 0, VOTE_MISSING_FIELD, "rank"},
    {"name is a number", "{\"name\":7,\"album\":\"8\",\"year\":2023,\"rank\":1}", 0, VOTE_WRONG_TYPE, "name"},
    {"album is an object", "{\"name\":\"Viento en Contra\",\"album\":{},\"year\":2023,\"rank\":1}", 0, VOTE_WRONG_TYPE, "album"},
    {"year has decimals", "{\"name\":\"Viento en Contra\",\"album\":\"8\",\"year\":2023.5,\"rank\":1}", 0, VOTE_WRONG_TYPE, "year"},
    {"year text not digits", "{\"name\":\"Viento en Contra\",\"album\":\"8\",\"year\":\"20x3\",\"rank\":1}", 0, VOTE_WRONG_TYPE, "year"},
    {"year negative text", "{\"name\":\"Viento en Contra\",\"album\":\"8\",\"year\":\"-2023\",\"rank\":1}", 0, VOTE_WRONG_TYPE, "year"},
    {"year before 1900", "{\"name\":\"Viento en Contra\",\"album\":\"8\",\"year\":\"1899\",\"rank\":1}", 0, VOTE_YEAR_OUT_OF_RANGE, "year"},
    {"year in the future", "{\"name\":\"Viento en Contra\",\"album\":\"8\",\"year\":9999,\"rank\":1}", 0, VOTE_YEAR_OUT_OF_RANGE, "year"},
    {"year huge text", "{\"name\":\"Viento en Contra\",\"album\":\"8\",\"year\":\"99999999999999999999\",\"rank\":1}", 0, VOTE_YEAR_OUT_OF_RANGE, "year"},
    {"year boolean", "{\"name\":\"Viento en Contra\",\"album\":\"8\",\"year\":true,\"rank\":1}", 0, VOTE_WRONG_TYPE, "year"},
    {"rank negative", "{\"name\":\"Viento en Contra\",\"album\":\"8\",\"year\":2023,\"rank\":\"-0.1\"}", 0, VOTE_RANK_OUT_OF_RANGE, "rank"},
    {"rank over 100", "{\"name\":\"Viento en Contra\",\"album\":\"8\",\"year\":2023,\"rank\":100.01}", 0, VOTE_RANK_OUT_OF_RANGE, "rank"},
    {"rank exponent text", "{\"name\":\"Viento en Contra\",\"album\":\"8\",\"year\":2023,\"rank\":\"1e1\"}", 0, VOTE_WRONG_TYPE, "rank"},
    {"rank nan text", "{\"name\":\"Viento en Contra\",\"album\":\"8\",\"year\":2023,\"rank\":\"nan\"}", 0, VOTE_WRONG_TYPE, "rank"},
    {"rank trailing dot", "{\"name\":\"Viento en Contra\",\"album\":\"8\",\"year\":2023,\"rank\":\"5.\"}", 0, VOTE_WRONG_TYPE, "rank"},
    {"rank huge literal", "{\"name\":\"Viento en Contra\",\"album\":\"8\",\"year\":2023,\"rank\":1e999}", 0, VOTE_NUMBER_TOO_LARGE, NULL},
    {"integer overflow literal", "{\"name\":\"Viento en Contra\",\"album\":\"8\",\"year\":99999999999999999999999,\"rank\":1}", 0, VOTE_NUMBER_TOO_LARGE, NULL},
    {"empty name", "{\"name\":\"\",\"album\":\"8\",\"year\":2023,\"rank\":1}", 0, VOTE_EMPTY_TEXT, "name"},
    {"blank album", "{\"name\":\"Viento en Contra\",\"album\":\"   \",\"year\":2023,\"rank\":1}", 0, VOTE_EMPTY_TEXT, "album"},
    {"control character", "{\"name\":\"Viento\\n en Contra\",\"album\":\"8\",\"year\":2023,\"rank\":1}", 0, VOTE_CONTROL_CHARACTER, "name"},
    {"escaped NUL", "{\"name\":\"Viento\\u0000\",\"album\":\"8\",\"year\":2023,\"rank\":1}", 0, VOTE_CONTROL_CHARACTER, NULL},
    {"raw NUL byte", "{\"name\":\"Vi\0\",\"album\":\"8\",\"year\":2023,\"rank\":1}", 47, VOTE_MALFORMED_JSON, NULL},
    {"invalid UTF-8 in name", "{\"name\":\"Viento \xff\",\"album\":\"8\",\"year\":2023,\"rank\":1}", 0, VOTE_INVALID_UTF8, NULL},
    {"invalid UTF-8 in album", "{\"name\":\"Viento en Contra\",\"album\":\"\xc3\x28\",\"year\":2023,\"rank\":1}", 0, VOTE_INVALID_UTF8, NULL},
    {"invalid UTF-8 in year", "{\"name\":\"Viento en Contra\",\"album\":\"8\",\"year\":\"20\xe2\x82\",\"rank\":1}", 0, VOTE_INVALID_UTF8, NULL},
    {"lone surrogate escape", "{\"name\":\"\\ud800\",\"album\":\"8\",\"year\":2023,\"rank\":1}", 0, VOTE_MALFORMED_JSON, NULL},

    {"unknown band", "{\"name\":\"Los Beatles\",\"album\":\"8\",\"year\":2023,\"rank\":1}", 0, VOTE_UNKNOWN_BAND, "name"},
    {"album of another band", "{\"name\":\"Viento en Contra\",\"album\":\"Conquista\",\"year\":1982,\"rank\":1}", 0, VOTE_UNKNOWN_ALBUM, "album"},
    {"year does not match album", "{\"name\":\"Viento en Contra\",\"album\":\"8\",\"year\":2022,\"rank\":1}", 0, VOTE_YEAR_MISMATCH, "year"},
    {"band differs in case", "{\"name\":\"viento en contra\",\"album\":\"8\",\"year\":2023,\"rank\":1}", 0, VOTE_UNKNOWN_BAND, "name"},
};

static void test_cases(const struct catalog *catalog)
{
    for (size_t i = 0; i < sizeof(cases) / sizeof(cases[0]); i++) {
        const struct vote_case *c = &cases[i];
        struct vote vote;
        struct vote_error err;
        size_t len = c->len != 0 ? c->len : strlen(c->body);
        enum vote_status status = vote_parse_json(c->body, len, catalog, &vote, &err);

        CHECK_STR(vote_status_code(status), vote_status_code(c->status), c->label);
        if (c->status != VOTE_OK)
            CHECK_STR(err.field, c->field, c->label);
    }
}

static void test_text_limits(const struct catalog *catalog)
{
    char body[1024], name[256];
    struct vote vote;
    struct vote_error err;

    memset(name, 'a', 200);
    name[200] = '\0';
    snprintf(body, sizeof(body), "{\"name\":\"%s\",\"album\":\"x\",\"year\":2000,\"rank\":1}", name);
    CHECK_INT(vote_parse_json(body, strlen(body), NULL, &vote, &err), VOTE_OK, "200-byte name");
    CHECK_INT(strlen(vote.name), 200, "200-byte name kept whole");

    name[200] = 'a';
    name[201] = '\0';
    snprintf(body, sizeof(body), "{\"name\":\"%s\",\"album\":\"x\",\"year\":2000,\"rank\":1}", name);
    CHECK_INT(vote_parse_json(body, strlen(body), NULL, &vote, &err), VOTE_TEXT_TOO_LONG,
              "201-byte name");
    CHECK_INT(vote_parse_json(body, strlen(body), catalog, &vote, &err), VOTE_TEXT_TOO_LONG,
              "length is checked before the catalog");
}

static void test_parsed_values(const struct catalog *catalog)
{
    const char *body = "{\"name\":\"Malacates Tre\xcc\x81""bol Shop\",\"album\":\"Paquetecuetes\",\"year\":\"1999\",\"rank\":\"5.25\"}";
    struct vote vote;
    struct vote_error err;

    CHECK_INT(vote_parse_json(body, strlen(body), catalog, &vote, &err), VOTE_OK, "parse");
    CHECK_STR(vote.name, "Malacates Trébol Shop", "name is stored in NFC");
    CHECK_INT(vote.year, 1999, "year");
    CHECK(vote.rank == 5.25);
}

static void test_current_year_accepted(void)
{
    char body[160];
    struct vote vote;
    struct vote_error err;
    time_t now = time(NULL);
    struct tm utc;

    gmtime_r(&now, &utc);
    snprintf(body, sizeof(body), "{\"name\":\"x\",\"album\":\"y\",\"year\":%d,\"rank\":1}",
             utc.tm_year + 1900);
    CHECK_INT(vote_parse_json(body, strlen(body), NULL, &vote, &err), VOTE_OK, "current year");
    snprintf(body, sizeof(body), "{\"name\":\"x\",\"album\":\"y\",\"year\":%d,\"rank\":1}",
             utc.tm_year + 1901);
    CHECK_INT(vote_parse_json(body, strlen(body), NULL, &vote, &err), VOTE_YEAR_OUT_OF_RANGE,
              "next year");
}

static void test_messages(void)
{
    struct vote_error err = {.status = VOTE_YEAR_MISMATCH, .field = "year", .expected_year = 2023};
    char message[256];

    vote_error_message(&err, VOTE_LANG_ES, message, sizeof(message));
    CHECK(strstr(message, "2023") != NULL);
    CHECK(strstr(message, "año") != NULL);
    vote_error_message(&err, VOTE_LANG_EN, message, sizeof(message));
    CHECK(strstr(message, "the catalog says 2023") != NULL);

    err = (struct vote_error){.status = VOTE_MISSING_FIELD, .field = "rank"};
    vote_error_message(&err, VOTE_LANG_ES, message, sizeof(message));
    CHECK_STR(message, "falta el campo \"rank\"", "missing field message");
    CHECK_INT(vote_status_http(VOTE_MALFORMED_JSON), 400, "malformed JSON status");
    CHECK_INT(vote_status_http(VOTE_UNKNOWN_BAND), 422, "unknown band status");
}

static void test_record_round_trip(void)
{
    struct vote vote = {.id = "01890a5d-ac96-774b-bcce-b302099a8057", .name = "Sara Curruchich",
                        .album = "Somos", .year = 2019, .rank = 8.5, .route = "grpc",
                        .received_at_ms = 1733340000123};
    struct vote parsed;
    char *record = vote_record_to_json(&vote);

    CHECK(record != NULL);
    CHECK_INT(vote_record_parse(record, strlen(record), &parsed), 0, "record parses");
    CHECK_STR(parsed.id, vote.id, "id");
    CHECK_STR(parsed.name, vote.name, "name");
    CHECK_STR(parsed.route, "grpc", "route");
    CHECK_INT(parsed.received_at_ms, vote.received_at_ms, "received_at");
    CHECK(parsed.rank == 8.5);
    free(record);

    CHECK_INT(vote_record_parse("{\"id\":\"x\"}", 10, &parsed), -1, "incomplete record");
    record = "{\"id\":\"01890a5d-ac96-774b-bcce-b302099a8057\",\"name\":\"b\",\"album\":\"c\",\"year\":1,\"rank\":1,\"route\":\"ftp\",\"received_at\":1}";
    CHECK_INT(vote_record_parse(record, strlen(record), &parsed), -1, "unknown route");
    record = "{\"id\":\"01890a5d-ac96-774b-bcce-b302099a8057\",\"name\":\"b\",\"album\":\"c\",\"year\":1099511627776,\"rank\":1,\"route\":\"rest\",\"received_at\":1}";
    CHECK_INT(vote_record_parse(record, strlen(record), &parsed), -1, "year beyond int");
}

static void test_check_record(void)
{
    struct vote good = {.id = "01890a5d-ac96-774b-bcce-b302099a8057", .name = "Sara Curruchich",
                        .album = "Somos", .year = 2019, .rank = 8.5, .route = "rest",
                        .received_at_ms = 1733340000123};
    struct vote bad;

    CHECK(vote_check_record(&good) == NULL);

    bad = good;
    snprintf(bad.name, sizeof(bad.name), "\xff");
    CHECK(vote_check_record(&bad) != NULL);
    bad = good;
    snprintf(bad.album, sizeof(bad.album), "Tre\xcc\x81""bol");
    CHECK(vote_check_record(&bad) != NULL); /* not NFC */
    bad = good;
    bad.rank = NAN;
    CHECK(vote_check_record(&bad) != NULL);
    bad = good;
    bad.rank = INFINITY;
    CHECK(vote_check_record(&bad) != NULL);
    bad = good;
    bad.year = 1;
    CHECK(vote_check_record(&bad) != NULL);
    bad = good;
    snprintf(bad.id, sizeof(bad.id), "not-a-uuid");
    CHECK(vote_check_record(&bad) != NULL);
    bad = good;
    snprintf(bad.route, sizeof(bad.route), "ftp");
    CHECK(vote_check_record(&bad) != NULL);
    bad = good;
    snprintf(bad.name, sizeof(bad.name), "a\tb");
    CHECK(vote_check_record(&bad) != NULL);
}

int main(void)
{
    char errbuf[256];
    struct catalog *catalog = catalog_load(URNA_SOURCE_DIR "/data/catalog.json", errbuf,
                                           sizeof(errbuf));

    if (catalog == NULL) {
        fprintf(stderr, "%s\n", errbuf);
        return 1;
    }
    test_cases(catalog);
    test_text_limits(catalog);
    test_parsed_values(catalog);
    test_current_year_accepted();
    test_messages();
    test_record_round_trip();
    test_check_record();
    catalog_free(catalog);
    return check_exit("vote");
}
