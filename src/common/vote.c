#include "vote.h"

#include "catalog.h"
#include "text.h"
#include "vote_id.h"

#include <errno.h>
#include <jansson.h>
#include <math.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>

struct vote_text {
    enum vote_status status;
    const char *code;
    const char *es;
    const char *en;
};

/* Indexed by enum vote_status. "%s" is the field name where one applies. */
static const struct vote_text vote_texts[] = {
    {VOTE_OK, "ok", "voto aceptado", "vote accepted"},
    {VOTE_MALFORMED_JSON, "malformed_json",
     "el cuerpo no es JSON válido (%s); envíe un objeto como {\"name\": \"...\", \"album\": \"...\", \"year\": \"2015\", \"rank\": \"5.2\"}",
     "the body is not valid JSON (%s); send an object such as {\"name\": \"...\", \"album\": \"...\", \"year\": \"2015\", \"rank\": \"5.2\"}"},
    {VOTE_NOT_AN_OBJECT, "not_an_object",
     "el voto debe ser un objeto JSON con name, album, year y rank",
     "the vote must be a JSON object with name, album, year and rank"},
    {VOTE_MISSING_FIELD, "missing_field", "falta el campo \"%s\"", "the field \"%s\" is missing"},
    {VOTE_WRONG_TYPE, "wrong_type",
     "el campo \"%s\" tiene un tipo inválido: name y album son texto; year es un entero y rank un decimal, como número o como texto",
     "the field \"%s\" has the wrong type: name and album are strings; year is an integer and rank a decimal, as a number or a string"},
    {VOTE_EMPTY_TEXT, "empty_text", "el campo \"%s\" no puede estar vacío",
     "the field \"%s\" must not be empty"},
    {VOTE_TEXT_TOO_LONG, "text_too_long", "el campo \"%s\" supera los 200 bytes",
     "the field \"%s\" is longer than 200 bytes"},
    {VOTE_CONTROL_CHARACTER, "control_character",
     "el campo \"%s\" contiene caracteres de control; quítelos y envíe de nuevo",
     "the field \"%s\" contains control characters; remove them and send again"},
    {VOTE_INVALID_UTF8, "invalid_utf8", "el voto contiene texto que no es UTF-8 válido",
     "the vote contains text that is not valid UTF-8"},
    {VOTE_NUMBER_TOO_LARGE, "number_too_large",
     "el voto contiene un número demasiado grande; year va de 1900 al año actual y rank de 0 a 100",
     "the vote contains a number that is too large; year goes from 1900 to the current year and rank from 0 to 100"},
    {VOTE_YEAR_OUT_OF_RANGE, "year_out_of_range",
     "el año debe ser un entero entre 1900 y el año actual",
     "the year must be an integer from 1900 to the current year"},
    {VOTE_RANK_OUT_OF_RANGE, "rank_out_of_range", "rank debe ser un decimal entre 0 y 100",
     "rank must be a decimal from 0 to 100"},
    {VOTE_UNKNOWN_BAND, "unknown_band",
     "la banda no participa en el concurso; revise el nombre exacto en el catálogo",
     "the band is not a contestant; check its exact name in the catalog"},
    {VOTE_UNKNOWN_ALBUM, "unknown_album",
     "el álbum no pertenece a esa banda en el catálogo del concurso",
     "the album does not belong to that band in the contest's catalog"},
    {VOTE_YEAR_MISMATCH, "year_mismatch", "el año no coincide con el álbum; el catálogo dice %d",
     "the year does not match the album; the catalog says %d"},
    {VOTE_INVALID_VOTER, "invalid_voter",
     "el campo \"%s\" debe tener de 1 a 128 caracteres ASCII imprimibles, sin espacios",
     "the field \"%s\" must have 1 to 128 printable ASCII characters, without spaces"},
};

int vote_status_http(enum vote_status status)
{
    if (status == VOTE_OK)
        return 200;
    if (status == VOTE_MALFORMED_JSON || status == VOTE_NOT_AN_OBJECT)
        return 400;
    return 422;
}

const char *vote_status_code(enum vote_status status)
{
    return vote_texts[status].code;
}

void vote_error_message(const struct vote_error *err, enum vote_lang lang, char *buf,
                        size_t len)
{
    const char *format = lang == VOTE_LANG_EN ? vote_texts[err->status].en
                                              : vote_texts[err->status].es;

    switch (err->status) {
    case VOTE_MALFORMED_JSON:
        snprintf(buf, len, format, err->json_detail);
        break;
    case VOTE_YEAR_MISMATCH:
        snprintf(buf, len, format, err->expected_year);
        break;
    default:
        snprintf(buf, len, format, err->field != NULL ? err->field : "");
        break;
    }
}

static enum vote_status fail(struct vote_error *err, enum vote_status status, const char *field)
{
    err->status = status;
    err->field = field;
    return status;
}

/* Maps a jansson parse error to the status a voter sees. */
static enum vote_status fail_json(struct vote_error *err, const json_error_t *error)
{
    switch (json_error_code(error)) {
    case json_error_invalid_utf8:
        return fail(err, VOTE_INVALID_UTF8, NULL);
    case json_error_numeric_overflow:
        return fail(err, VOTE_NUMBER_TOO_LARGE, NULL);
    case json_error_null_character:
        return fail(err, VOTE_CONTROL_CHARACTER, NULL);
    default:
        snprintf(err->json_detail, sizeof(err->json_detail), "%s", error->text);
        return fail(err, VOTE_MALFORMED_JSON, NULL);
    }
}

/* Validates one text field and stores it in NFC form. */
static enum vote_status parse_text(json_t *root, const char *field, char *out,
                                   struct vote_error *err)
{
    json_t *value = json_object_get(root, field);
    const char *text;
    char *normalized;
    size_t len;

    if (value == NULL || json_is_null(value))
        return fail(err, VOTE_MISSING_FIELD, field);
    if (!json_is_string(value))
        return fail(err, VOTE_WRONG_TYPE, field);

    text = json_string_value(value);
    if (json_string_length(value) != strlen(text))
        return fail(err, VOTE_CONTROL_CHARACTER, field);
    if (text_has_control(text))
        return fail(err, VOTE_CONTROL_CHARACTER, field);
    if (text[strspn(text, " \t")] == '\0')
        return fail(err, VOTE_EMPTY_TEXT, field);

    normalized = text_nfc_dup(text);
    if (normalized == NULL)
        return fail(err, VOTE_INVALID_UTF8, field);
    len = strlen(normalized);
    if (len <= VOTE_TEXT_MAX)
        memcpy(out, normalized, len + 1);
    free(normalized);
    return len <= VOTE_TEXT_MAX ? VOTE_OK : fail(err, VOTE_TEXT_TOO_LONG, field);
}

static int current_year(void)
{
    time_t now = time(NULL);
    struct tm utc;

    gmtime_r(&now, &utc);
    return utc.tm_year + 1900;
}

/* Accepts 2015 or "2015": digits only, no sign, no decimals. */
static enum vote_status parse_year(json_t *root, int *year, struct vote_error *err)
{
    json_t *value = json_object_get(root, "year");
    long long parsed;

    if (value == NULL || json_is_null(value))
        return fail(err, VOTE_MISSING_FIELD, "year");

    if (json_is_integer(value)) {
        parsed = json_integer_value(value);
    } else if (json_is_string(value)) {
        const char *text = json_string_value(value);
        size_t digits = strspn(text, "0123456789");

        if (digits == 0 || text[digits] != '\0')
            return fail(err, VOTE_WRONG_TYPE, "year");
        if (digits > 6)
            return fail(err, VOTE_YEAR_OUT_OF_RANGE, "year");
        parsed = strtoll(text, NULL, 10);
    } else {
        return fail(err, VOTE_WRONG_TYPE, "year");
    }

    if (parsed < VOTE_YEAR_MIN || parsed > current_year())
        return fail(err, VOTE_YEAR_OUT_OF_RANGE, "year");
    *year = (int)parsed;
    return VOTE_OK;
}

/* Accepts a plain decimal such as "5.2", "-1" or "100": no exponent, hex,
 * infinity or NaN, so the text means the same to every reader. */
static int decimal_is_plain(const char *text)
{
    const char *p = text;

    if (*p == '-')
        p++;
    if (!(*p >= '0' && *p <= '9'))
        return 0;
    p += strspn(p, "0123456789");
    if (*p == '.') {
        p++;
        if (!(*p >= '0' && *p <= '9'))
            return 0;
        p += strspn(p, "0123456789");
    }
    return *p == '\0' && (p - text) <= 32;
}

static enum vote_status parse_rank(json_t *root, double *rank, struct vote_error *err)
{
    json_t *value = json_object_get(root, "rank");
    double parsed;

    if (value == NULL || json_is_null(value))
        return fail(err, VOTE_MISSING_FIELD, "rank");

    if (json_is_number(value)) {
        parsed = json_number_value(value);
    } else if (json_is_string(value)) {
        const char *text = json_string_value(value);

        if (!decimal_is_plain(text))
            return fail(err, VOTE_WRONG_TYPE, "rank");
        parsed = strtod(text, NULL);
    } else {
        return fail(err, VOTE_WRONG_TYPE, "rank");
    }

    if (!isfinite(parsed) || parsed < 0.0 || parsed > VOTE_RANK_MAX)
        return fail(err, VOTE_RANK_OUT_OF_RANGE, "rank");
    *rank = parsed;
    return VOTE_OK;
}

/* Reads the optional voter id; returns VOTE_OK when absent. */
static enum vote_status parse_voter(json_t *root, char *out, struct vote_error *err)
{
    json_t *value = json_object_get(root, "voter");
    const char *text;
    size_t len;

    if (value == NULL || json_is_null(value))
        return VOTE_OK;
    if (!json_is_string(value))
        return fail(err, VOTE_INVALID_VOTER, "voter");
    text = json_string_value(value);
    len = strlen(text);
    if (len == 0 || len > 128)
        return fail(err, VOTE_INVALID_VOTER, "voter");
    for (size_t i = 0; i < len; i++) {
        if (text[i] <= ' ' || text[i] > '~')
            return fail(err, VOTE_INVALID_VOTER, "voter");
    }
    memcpy(out, text, len + 1);
    return VOTE_OK;
}

static enum vote_status check_catalog(const struct catalog *catalog, const struct vote *vote,
                                      struct vote_error *err)
{
    switch (catalog_check(catalog, vote->name, vote->album, vote->year, &err->expected_year)) {
    case CATALOG_MATCH:
        return VOTE_OK;
    case CATALOG_UNKNOWN_BAND:
        return fail(err, VOTE_UNKNOWN_BAND, "name");
    case CATALOG_UNKNOWN_ALBUM:
        return fail(err, VOTE_UNKNOWN_ALBUM, "album");
    default:
        return fail(err, VOTE_YEAR_MISMATCH, "year");
    }
}

enum vote_status vote_parse_json(const char *body, size_t len, const struct catalog *catalog,
                                 struct vote *out, struct vote_error *err)
{
    json_error_t error;
    json_t *root;
    enum vote_status status;

    memset(out, 0, sizeof(*out));
    memset(err, 0, sizeof(*err));

    root = json_loadb(body, len, JSON_REJECT_DUPLICATES, &error);
    if (root == NULL)
        return fail_json(err, &error);
    if (!json_is_object(root)) {
        json_decref(root);
        return fail(err, VOTE_NOT_AN_OBJECT, NULL);
    }

    status = parse_text(root, "name", out->name, err);
    if (status == VOTE_OK)
        status = parse_text(root, "album", out->album, err);
    if (status == VOTE_OK)
        status = parse_year(root, &out->year, err);
    if (status == VOTE_OK)
        status = parse_rank(root, &out->rank, err);
    if (status == VOTE_OK)
        status = parse_voter(root, out->voter, err);
    if (status == VOTE_OK && catalog != NULL)
        status = check_catalog(catalog, out, err);

    json_decref(root);
    return status;
}

char *vote_record_to_json(const struct vote *vote)
{
    json_t *record;
    char *text;

    record = json_pack("{s:s, s:s, s:s, s:i, s:f, s:s, s:I}", "id", vote->id, "name",
                       vote->name, "album", vote->album, "year", vote->year, "rank",
                       vote->rank, "route", vote->route, "received_at",
                       (json_int_t)vote->received_at_ms);
    if (record == NULL)
        return NULL;
    text = json_dumps(record, JSON_COMPACT | JSON_PRESERVE_ORDER);
    json_decref(record);
    return text;
}

int vote_route_is_valid(const char *route)
{
    return strcmp(route, "grpc") == 0 || strcmp(route, "rest") == 0;
}

/* Returns NULL when text is non-empty valid NFC UTF-8 without control
 * characters, or what is wrong with it. */
static const char *check_text(const char *text)
{
    char *normalized;
    int same;

    if (text[0] == '\0')
        return "name and album must not be empty";
    if (!text_is_utf8(text, strlen(text)))
        return "name and album must be valid UTF-8";
    if (text_has_control(text))
        return "name and album must not contain control characters";
    normalized = text_nfc_dup(text);
    same = normalized != NULL && strcmp(normalized, text) == 0;
    free(normalized);
    return same ? NULL : "name and album must be in Unicode NFC";
}

const char *vote_check_record(const struct vote *vote)
{
    const char *problem;

    if (!vote_id_is_valid(vote->id))
        return "id must be a lowercase UUID";
    if (!vote_route_is_valid(vote->route))
        return "route must be grpc or rest";
    if (strlen(vote->name) > VOTE_TEXT_MAX || strlen(vote->album) > VOTE_TEXT_MAX)
        return "name and album must have at most 200 bytes";
    if ((problem = check_text(vote->name)) != NULL || (problem = check_text(vote->album)) != NULL)
        return problem;
    if (vote->year < VOTE_YEAR_MIN || vote->year > current_year())
        return "year must be from 1900 to the current year";
    if (!isfinite(vote->rank) || vote->rank < 0.0 || vote->rank > VOTE_RANK_MAX)
        return "rank must be a number from 0 to 100";
    if (vote->received_at_ms <= 0)
        return "received_at must be positive";
    return NULL;
}

/* Copies a string member of at most max bytes; returns 0 or -1. */
static int copy_member(json_t *root, const char *key, char *out, size_t max)
{
    json_t *value = json_object_get(root, key);

    if (!json_is_string(value) || json_string_length(value) == 0 ||
        json_string_length(value) > max)
        return -1;
    memcpy(out, json_string_value(value), json_string_length(value) + 1);
    return 0;
}

int vote_record_parse(const char *buf, size_t len, struct vote *out)
{
    json_t *root = json_loadb(buf, len, 0, NULL);
    json_t *year, *rank, *received;
    int rc = -1;

    memset(out, 0, sizeof(*out));
    if (root == NULL)
        return -1;

    year = json_object_get(root, "year");
    rank = json_object_get(root, "rank");
    received = json_object_get(root, "received_at");
    if (copy_member(root, "id", out->id, VOTE_ID_LEN) != 0 ||
        copy_member(root, "name", out->name, VOTE_TEXT_MAX) != 0 ||
        copy_member(root, "album", out->album, VOTE_TEXT_MAX) != 0 ||
        copy_member(root, "route", out->route, sizeof(out->route) - 1) != 0 ||
        !json_is_integer(year) || !json_is_number(rank) || !json_is_integer(received))
        goto out;
    if (json_integer_value(year) < VOTE_YEAR_MIN || json_integer_value(year) > 9999)
        goto out;

    out->year = (int)json_integer_value(year);
    out->rank = json_number_value(rank);
    out->received_at_ms = (int64_t)json_integer_value(received);
    rc = vote_check_record(out) == NULL ? 0 : -1;

out:
    json_decref(root);
    return rc;
}
