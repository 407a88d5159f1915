#include "logs_query.h"

#include "text.h"

#include <errno.h>
#include <inttypes.h>
#include <jansson.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>

/* ------------------------------------------------------------------ errors */

static void set_error(struct logs_query_error *err, const char *code, const char *field,
                      enum vote_lang lang, const char *es, const char *en)
{
    err->code = code;
    snprintf(err->field, sizeof(err->field), "%s", field != NULL ? field : "");
    snprintf(err->message, sizeof(err->message), "%s", lang == VOTE_LANG_EN ? en : es);
}

/* Names an argument in a message only when it is short, printable UTF-8, so
 * the error body stays valid JSON and cannot carry a long payload back. */
static const char *printable_name(const char *name)
{
    size_t len = strlen(name);

    if (len == 0 || len > 40 || !text_is_utf8(name, len) || text_has_control(name))
        return NULL;
    return name;
}

static void set_unknown(struct logs_query_error *err, const char *name, enum vote_lang lang)
{
    const char *shown = printable_name(name);

    err->code = "unknown_parameter";
    snprintf(err->field, sizeof(err->field), "%s", shown != NULL ? shown : "");
    if (lang == VOTE_LANG_EN)
        snprintf(err->message, sizeof(err->message),
                 "unknown parameter \"%s\"; use limit, cursor, band, album, route, from or to",
                 shown != NULL ? shown : "?");
    else
        snprintf(err->message, sizeof(err->message),
                 "parámetro desconocido \"%s\"; use limit, cursor, band, album, route, from o to",
                 shown != NULL ? shown : "?");
}

/* -------------------------------------------------------------- ISO 8601 */

/* Days from 1970-01-01 to the given proleptic Gregorian date (Howard
 * Hinnant's days_from_civil). */
static int64_t days_from_civil(int64_t year, int month, int day)
{
    int64_t era, yoe, doy, doe;

    year -= month <= 2;
    era = (year >= 0 ? year : year - 399) / 400;
    yoe = year - era * 400;
    doy = (153 * (month + (month > 2 ? -3 : 9)) + 2) / 5 + day - 1;
    doe = yoe * 365 + yoe / 4 - yoe / 100 + doy;
    return era * 146097 + doe - 719468;
}

static int days_in_month(int year, int month)
{
    static const int days[] = {31, 28, 31, 30, 31, 30, 31, 31, 30, 31, 30, 31};
    int leap = (year % 4 == 0 && year % 100 != 0) || year % 400 == 0;

    return month == 2 && leap ? 29 : days[month - 1];
}

/* Reads exactly n digits at *p into value and advances *p. */
static int read_digits(const char **p, int n, int *value)
{
    *value = 0;
    for (int i = 0; i < n; i++) {
        if ((*p)[i] < '0' || (*p)[i] > '9')
            return -1;
        *value = *value * 10 + ((*p)[i] - '0');
    }
    *p += n;
    return 0;
}

static int expect_char(const char **p, char c)
{
    if (**p != c)
        return -1;
    (*p)++;
    return 0;
}

/* Reads ":SS" and ".fff…" when present; the fraction is cut to milliseconds. */
static int read_seconds(const char **p, int *second, int *millis)
{
    int digits = 0;

    *second = 0;
    *millis = 0;
    if (**p != ':')
        return 0;
    (*p)++;
    if (read_digits(p, 2, second) != 0 || *second > 59)
        return -1;
    if (**p != '.' && **p != ',')
        return 0;
    (*p)++;
    for (; **p >= '0' && **p <= '9'; (*p)++, digits++) {
        if (digits == 9)
            return -1;
        if (digits < 3)
            *millis = *millis * 10 + (**p - '0');
    }
    if (digits == 0)
        return -1;
    for (int i = digits; i < 3; i++)
        *millis *= 10;
    return 0;
}

/* Reads Z, +HH:MM, -HH:MM or nothing (UTC); stores the offset in minutes. */
static int read_zone(const char **p, int *offset_minutes)
{
    int hours, minutes, sign;

    *offset_minutes = 0;
    if (**p == '\0')
        return 0;
    if (**p == 'Z' || **p == 'z') {
        (*p)++;
        return 0;
    }
    if (**p != '+' && **p != '-')
        return -1;
    sign = **p == '-' ? -1 : 1;
    (*p)++;
    if (read_digits(p, 2, &hours) != 0 || hours > 23)
        return -1;
    if (**p == ':')
        (*p)++;
    if (read_digits(p, 2, &minutes) != 0 || minutes > 59)
        return -1;
    *offset_minutes = sign * (hours * 60 + minutes);
    return 0;
}

int logs_parse_instant(const char *text, int64_t *ms)
{
    const char *p = text;
    int year, month, day, hour = 0, minute = 0, second = 0, millis = 0, offset = 0;
    int64_t days;

    if (read_digits(&p, 4, &year) != 0 || year < 1 || expect_char(&p, '-') != 0 ||
        read_digits(&p, 2, &month) != 0 || month < 1 || month > 12 ||
        expect_char(&p, '-') != 0 || read_digits(&p, 2, &day) != 0 || day < 1 ||
        day > days_in_month(year, month))
        return -1;

    if (*p == 'T' || *p == 't' || *p == ' ') {
        p++;
        if (read_digits(&p, 2, &hour) != 0 || hour > 23 || expect_char(&p, ':') != 0 ||
            read_digits(&p, 2, &minute) != 0 || minute > 59)
            return -1;
        if (read_seconds(&p, &second, &millis) != 0 || read_zone(&p, &offset) != 0)
            return -1;
    }
    if (*p != '\0')
        return -1;

    days = days_from_civil(year, month, day);
    *ms = ((days * 86400 + hour * 3600 + minute * 60 + second) - (int64_t)offset * 60) * 1000 +
          millis;
    return 0;
}

void logs_format_instant(int64_t ms, char *out, size_t outlen)
{
    time_t seconds = (time_t)(ms >= 0 ? ms / 1000 : (ms - 999) / 1000);
    int millis = (int)(ms - (int64_t)seconds * 1000);
    struct tm tm;

    gmtime_r(&seconds, &tm);
    snprintf(out, outlen, "%04d-%02d-%02dT%02d:%02d:%02d.%03dZ", tm.tm_year + 1900, tm.tm_mon + 1,
             tm.tm_mday, tm.tm_hour, tm.tm_min, tm.tm_sec, millis);
}

/* ----------------------------------------------------------------- cursor */

static const char base64url[] =
    "ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz0123456789-_";

static char *base64url_encode(const unsigned char *data, size_t len)
{
    char *out = malloc(len / 3 * 4 + 5);
    size_t o = 0;

    if (out == NULL)
        return NULL;
    for (size_t i = 0; i < len; i += 3) {
        uint32_t chunk = (uint32_t)data[i] << 16;
        size_t left = len - i;

        if (left > 1)
            chunk |= (uint32_t)data[i + 1] << 8;
        if (left > 2)
            chunk |= data[i + 2];
        out[o++] = base64url[(chunk >> 18) & 63];
        out[o++] = base64url[(chunk >> 12) & 63];
        if (left > 1)
            out[o++] = base64url[(chunk >> 6) & 63];
        if (left > 2)
            out[o++] = base64url[chunk & 63];
    }
    out[o] = '\0';
    return out;
}

/* Decodes unpadded base64url into out (at most outlen - 1 bytes, then NUL);
 * returns the length, or -1 on a character outside the alphabet. */
static long base64url_decode(const char *text, unsigned char *out, size_t outlen)
{
    uint32_t chunk = 0;
    size_t o = 0;
    int bits = 0;

    for (const char *p = text; *p != '\0'; p++) {
        const char *at = strchr(base64url, *p);

        if (at == NULL)
            return -1;
        chunk = (chunk << 6) | (uint32_t)(at - base64url);
        bits += 6;
        if (bits >= 8) {
            bits -= 8;
            if (o + 1 >= outlen)
                return -1;
            out[o++] = (unsigned char)((chunk >> bits) & 0xff);
        }
    }
    if (bits >= 6)
        return -1;
    out[o] = '\0';
    return (long)o;
}

char *logs_cursor_encode(const struct logs_cursor *cursor)
{
    char raw[LOGS_ID_MAX + 32];
    int len = snprintf(raw, sizeof(raw), "%" PRId64 ":%s", cursor->received_at_ms, cursor->id);

    if (len < 0 || (size_t)len >= sizeof(raw))
        return NULL;
    return base64url_encode((const unsigned char *)raw, (size_t)len);
}

static int is_id_text(const char *id)
{
    size_t len = strlen(id);

    if (len == 0 || len > LOGS_ID_MAX)
        return 0;
    return strspn(id, "0123456789abcdefABCDEF-") == len;
}

int logs_cursor_decode(const char *text, struct logs_cursor *cursor)
{
    unsigned char raw[LOGS_ID_MAX + 32];
    char *colon, *end;
    long long ms;

    if (strlen(text) > (sizeof(raw) - 1) / 3 * 4 ||
        base64url_decode(text, raw, sizeof(raw)) <= 0)
        return -1;
    colon = strchr((char *)raw, ':');
    if (colon == NULL || colon == (char *)raw || raw[0] == '-' || raw[0] == '+')
        return -1;
    *colon = '\0';

    errno = 0;
    ms = strtoll((char *)raw, &end, 10);
    if (errno != 0 || *end != '\0' || ms < 0 || !is_id_text(colon + 1))
        return -1;
    cursor->received_at_ms = ms;
    snprintf(cursor->id, sizeof(cursor->id), "%s", colon + 1);
    return 0;
}

/* ------------------------------------------------------------- parameters */

static int parse_limit(const char *value, enum vote_lang lang, struct logs_query *query,
                       struct logs_query_error *err)
{
    char *end;
    long limit;

    errno = 0;
    limit = strtol(value, &end, 10);
    if (value[0] < '0' || value[0] > '9' || *end != '\0' || errno != 0 || limit < 1 ||
        limit > LOGS_LIMIT_MAX) {
        set_error(err, "invalid_parameter", "limit", lang,
                  "limit debe ser un número entero entre 1 y 500",
                  "limit must be a whole number from 1 to 500");
        return -1;
    }
    query->limit = (int)limit;
    return 0;
}

/* Copies a band or album filter in NFC, so "Jose\u0301" finds "José". */
static int parse_text(const char *field, const char *value, enum vote_lang lang, char *out,
                      size_t outlen, struct logs_query_error *err)
{
    size_t len = strlen(value);
    char *normalized;

    if (len > LOGS_TEXT_MAX || !text_is_utf8(value, len) || text_has_control(value)) {
        set_error(err, "invalid_parameter", field, lang,
                  "el texto debe ser UTF-8 válido, sin caracteres de control, de 256 bytes como máximo",
                  "the text must be valid UTF-8 without control characters, at most 256 bytes");
        return -1;
    }
    normalized = text_nfc_dup(value);
    if (normalized == NULL || strlen(normalized) >= outlen) {
        free(normalized);
        set_error(err, "invalid_parameter", field, lang,
                  "el texto no se pudo normalizar (NFC); acórtelo",
                  "the text could not be normalized (NFC); shorten it");
        return -1;
    }
    snprintf(out, outlen, "%s", normalized);
    free(normalized);
    return 0;
}

static int parse_route(const char *value, enum vote_lang lang, struct logs_query *query,
                       struct logs_query_error *err)
{
    if (strcmp(value, "grpc") != 0 && strcmp(value, "rest") != 0) {
        set_error(err, "invalid_parameter", "route", lang, "route debe ser grpc o rest",
                  "route must be grpc or rest");
        return -1;
    }
    snprintf(query->route, sizeof(query->route), "%s", value);
    return 0;
}

static int parse_time(const char *field, const char *value, enum vote_lang lang, int64_t *ms,
                      int *has, struct logs_query_error *err)
{
    char es[200], en[200];

    if (logs_parse_instant(value, ms) != 0) {
        snprintf(es, sizeof(es),
                 "%s debe ser un instante ISO 8601, por ejemplo 2024-12-04T18:30:00Z o "
                 "2024-12-04T12:30:00-06:00",
                 field);
        snprintf(en, sizeof(en),
                 "%s must be an ISO 8601 instant, for example 2024-12-04T18:30:00Z or "
                 "2024-12-04T12:30:00-06:00",
                 field);
        set_error(err, "invalid_parameter", field, lang, es, en);
        return -1;
    }
    *has = 1;
    return 0;
}

static int parse_one(const struct logs_param *param, enum vote_lang lang,
                     struct logs_query *query, struct logs_query_error *err)
{
    const char *name = param->name, *value = param->value;

    if (strcmp(name, "limit") == 0)
        return parse_limit(value, lang, query, err);
    if (strcmp(name, "cursor") == 0) {
        if (logs_cursor_decode(value, &query->cursor) != 0) {
            set_error(err, "invalid_parameter", "cursor", lang,
                      "cursor no es válido; use el next_cursor de la página anterior",
                      "cursor is invalid; use the next_cursor of the previous page");
            return -1;
        }
        query->has_cursor = 1;
        return 0;
    }
    if (strcmp(name, "band") == 0)
        return parse_text("band", value, lang, query->band, sizeof(query->band), err);
    if (strcmp(name, "album") == 0)
        return parse_text("album", value, lang, query->album, sizeof(query->album), err);
    if (strcmp(name, "route") == 0)
        return parse_route(value, lang, query, err);
    if (strcmp(name, "from") == 0)
        return parse_time("from", value, lang, &query->from_ms, &query->has_from, err);
    return parse_time("to", value, lang, &query->to_ms, &query->has_to, err);
}

/* Returns the index of name among the accepted parameters, or -1. */
static int known_index(const char *name)
{
    static const char *const known[] = {"limit", "cursor", "band", "album", "route", "from", "to"};

    for (int i = 0; i < (int)(sizeof(known) / sizeof(known[0])); i++) {
        if (strcmp(name, known[i]) == 0)
            return i;
    }
    return -1;
}

/* Rejects unknown, repeated and empty arguments before any value is read. */
static int check_names(const struct logs_param *params, size_t count, enum vote_lang lang,
                       struct logs_query_error *err)
{
    unsigned seen = 0;

    if (count > LOGS_PARAMS_MAX) {
        set_error(err, "invalid_parameter", NULL, lang, "la consulta tiene demasiados parámetros",
                  "the query has too many parameters");
        return -1;
    }
    for (size_t i = 0; i < count; i++) {
        int index = known_index(params[i].name);
        char es[160], en[160];

        if (index < 0) {
            set_unknown(err, params[i].name, lang);
            return -1;
        }
        if (seen & (1u << index)) {
            snprintf(es, sizeof(es), "el parámetro %s aparece más de una vez", params[i].name);
            snprintf(en, sizeof(en), "parameter %s appears more than once", params[i].name);
            set_error(err, "duplicate_parameter", params[i].name, lang, es, en);
            return -1;
        }
        seen |= 1u << index;
        if (params[i].value == NULL || params[i].value[0] == '\0') {
            snprintf(es, sizeof(es), "el parámetro %s está vacío; omítalo para no filtrar",
                     params[i].name);
            snprintf(en, sizeof(en), "parameter %s is empty; leave it out to not filter",
                     params[i].name);
            set_error(err, "invalid_parameter", params[i].name, lang, es, en);
            return -1;
        }
    }
    return 0;
}

int logs_query_parse(const struct logs_param *params, size_t count, enum vote_lang lang,
                     struct logs_query *query, struct logs_query_error *err)
{
    memset(query, 0, sizeof(*query));
    query->limit = LOGS_LIMIT_DEFAULT;

    if (check_names(params, count, lang, err) != 0)
        return -1;
    for (size_t i = 0; i < count; i++) {
        if (parse_one(&params[i], lang, query, err) != 0)
            return -1;
    }

    if (query->has_from && query->has_to && query->from_ms > query->to_ms) {
        set_error(err, "invalid_parameter", "from", lang, "from es posterior a to",
                  "from is later than to");
        return -1;
    }
    return 0;
}

/* ----------------------------------------------------------------- filter */

static void append_equal(bson_t *and, int index, const char *field, const char *value)
{
    char key[16];
    const char *key_text;
    bson_t condition, operand;

    bson_uint32_to_string((uint32_t)index, &key_text, key, sizeof(key));
    bson_append_document_begin(and, key_text, -1, &condition);
    bson_append_document_begin(&condition, field, -1, &operand);
    bson_append_utf8(&operand, "$eq", -1, value, -1);
    bson_append_document_end(&condition, &operand);
    bson_append_document_end(and, &condition);
}

static void append_time_range(bson_t *and, int index, const struct logs_query *query)
{
    char key[16];
    const char *key_text;
    bson_t condition, range;

    bson_uint32_to_string((uint32_t)index, &key_text, key, sizeof(key));
    bson_append_document_begin(and, key_text, -1, &condition);
    bson_append_document_begin(&condition, "received_at", -1, &range);
    if (query->has_from)
        bson_append_date_time(&range, "$gte", -1, query->from_ms);
    if (query->has_to)
        bson_append_date_time(&range, "$lte", -1, query->to_ms);
    bson_append_document_end(&condition, &range);
    bson_append_document_end(and, &condition);
}

/* {$or: [{received_at: {$lt: t}}, {received_at: t, _id: {$lt: id}}]} */
static void append_keyset(bson_t *and, int index, const struct logs_cursor *cursor)
{
    bson_t *condition = BCON_NEW(
        "$or", "[", "{", "received_at", "{", "$lt", BCON_DATE_TIME(cursor->received_at_ms), "}",
        "}", "{", "received_at", "{", "$eq", BCON_DATE_TIME(cursor->received_at_ms), "}", "_id",
        "{", "$lt", BCON_UTF8(cursor->id), "}", "}", "]");
    char key[16];
    const char *key_text;

    bson_uint32_to_string((uint32_t)index, &key_text, key, sizeof(key));
    bson_append_document(and, key_text, -1, condition);
    bson_destroy(condition);
}

bson_t *logs_query_filter(const struct logs_query *query)
{
    bson_t *filter = bson_new();
    bson_t and;
    int index = 0;

    if (query->band[0] == '\0' && query->album[0] == '\0' && query->route[0] == '\0' &&
        !query->has_from && !query->has_to && !query->has_cursor)
        return filter;

    bson_append_array_begin(filter, "$and", -1, &and);
    if (query->band[0] != '\0')
        append_equal(&and, index++, "name", query->band);
    if (query->album[0] != '\0')
        append_equal(&and, index++, "album", query->album);
    if (query->route[0] != '\0')
        append_equal(&and, index++, "route", query->route);
    if (query->has_from || query->has_to)
        append_time_range(&and, index++, query);
    if (query->has_cursor)
        append_keyset(&and, index++, &query->cursor);
    bson_append_array_end(filter, &and);
    return filter;
}

/* --------------------------------------------------------------- document */

/* Fields of a vote document, read by type; see docs/data-model.md. */
struct document_fields {
    const char *id, *name, *album, *route;
    int64_t year, partition, offset, received_at_ms, counted_at_ms;
    double rank;
    unsigned found;
};

enum {
    FIELD_ID = 1u << 0,
    FIELD_NAME = 1u << 1,
    FIELD_ALBUM = 1u << 2,
    FIELD_ROUTE = 1u << 3,
    FIELD_YEAR = 1u << 4,
    FIELD_RANK = 1u << 5,
    FIELD_RECEIVED = 1u << 6,
    FIELD_COUNTED = 1u << 7,
    FIELD_PARTITION = 1u << 8,
    FIELD_OFFSET = 1u << 9,
    FIELD_ALL = (1u << 10) - 1,
};

static int is_number(const bson_iter_t *iter)
{
    bson_type_t type = bson_iter_type(iter);

    return type == BSON_TYPE_INT32 || type == BSON_TYPE_INT64 || type == BSON_TYPE_DOUBLE;
}

static void read_field(const bson_iter_t *iter, struct document_fields *fields)
{
    const char *key = bson_iter_key(iter);
    int is_text = BSON_ITER_HOLDS_UTF8(iter), is_date = BSON_ITER_HOLDS_DATE_TIME(iter);

    if (is_text && strcmp(key, "_id") == 0) {
        fields->id = bson_iter_utf8(iter, NULL);
        fields->found |= FIELD_ID;
    } else if (is_text && strcmp(key, "name") == 0) {
        fields->name = bson_iter_utf8(iter, NULL);
        fields->found |= FIELD_NAME;
    } else if (is_text && strcmp(key, "album") == 0) {
        fields->album = bson_iter_utf8(iter, NULL);
        fields->found |= FIELD_ALBUM;
    } else if (is_text && strcmp(key, "route") == 0) {
        fields->route = bson_iter_utf8(iter, NULL);
        fields->found |= FIELD_ROUTE;
    } else if (is_number(iter) && strcmp(key, "year") == 0) {
        fields->year = bson_iter_as_int64(iter);
        fields->found |= FIELD_YEAR;
    } else if (is_number(iter) && strcmp(key, "rank") == 0) {
        fields->rank = bson_iter_as_double(iter);
        fields->found |= FIELD_RANK;
    } else if (is_number(iter) && strcmp(key, "partition") == 0) {
        fields->partition = bson_iter_as_int64(iter);
        fields->found |= FIELD_PARTITION;
    } else if (is_number(iter) && strcmp(key, "offset") == 0) {
        fields->offset = bson_iter_as_int64(iter);
        fields->found |= FIELD_OFFSET;
    } else if (is_date && strcmp(key, "received_at") == 0) {
        fields->received_at_ms = bson_iter_date_time(iter);
        fields->found |= FIELD_RECEIVED;
    } else if (is_date && strcmp(key, "counted_at") == 0) {
        fields->counted_at_ms = bson_iter_date_time(iter);
        fields->found |= FIELD_COUNTED;
    }
}

json_t *logs_document_json(const bson_t *document, struct logs_cursor *cursor)
{
    struct document_fields fields = {0};
    char received[32], counted[32];
    bson_iter_t iter;

    if (!bson_iter_init(&iter, document))
        return NULL;
    while (bson_iter_next(&iter))
        read_field(&iter, &fields);
    if (fields.found != FIELD_ALL || strlen(fields.id) > LOGS_ID_MAX)
        return NULL;

    if (cursor != NULL) {
        cursor->received_at_ms = fields.received_at_ms;
        snprintf(cursor->id, sizeof(cursor->id), "%s", fields.id);
    }
    logs_format_instant(fields.received_at_ms, received, sizeof(received));
    logs_format_instant(fields.counted_at_ms, counted, sizeof(counted));
    return json_pack("{s:s, s:s, s:s, s:I, s:f, s:s, s:s, s:s, s:I, s:I}", "id", fields.id,
                     "name", fields.name, "album", fields.album, "year", (json_int_t)fields.year,
                     "rank", fields.rank, "route", fields.route, "received_at", received,
                     "counted_at", counted, "partition", (json_int_t)fields.partition, "offset",
                     (json_int_t)fields.offset);
}
