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
