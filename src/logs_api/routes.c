#include "routes.h"

#include <curl/curl.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#define METRICS_BODY_MAX (4 * 1024 * 1024) /* bytes; a front renders a few KiB */

/* Adds count to the bucket of bound, keeping bounds sorted. */
static int add_bucket(struct routes_histogram *histogram, double bound, double count)
{
    int i = 0;

    while (i < histogram->bucket_count && histogram->bounds[i] < bound)
        i++;
    if (i < histogram->bucket_count && histogram->bounds[i] == bound) {
        histogram->cumulative[i] += count;
        return 0;
    }
    if (histogram->bucket_count == ROUTES_BUCKETS_MAX)
        return -1;
    memmove(&histogram->bounds[i + 1], &histogram->bounds[i],
            (size_t)(histogram->bucket_count - i) * sizeof(double));
    memmove(&histogram->cumulative[i + 1], &histogram->cumulative[i],
            (size_t)(histogram->bucket_count - i) * sizeof(double));
    histogram->bounds[i] = bound;
    histogram->cumulative[i] = count;
    histogram->bucket_count++;
    return 0;
}

/* Reads one "name{labels} value" line of metric's _bucket series. Returns 1
 * when the line matched and was added, 0 when it is another series, -1 on
 * an overflow. */
static int parse_bucket_line(const char *line, size_t len, const char *bucket_name,
                             const char *label, struct routes_histogram *histogram)
{
    char text[1024], *close, *le, *end;
    double bound, count;
    size_t name_len = strlen(bucket_name);

    if (len >= sizeof(text) || len <= name_len || strncmp(line, bucket_name, name_len) != 0 ||
        line[name_len] != '{')
        return 0;
    memcpy(text, line, len);
    text[len] = '\0';
    close = strchr(text, '}');
    if (close == NULL)
        return 0;
    *close = '\0';
    if (strstr(text, label) == NULL || (le = strstr(text, "le=\"")) == NULL)
        return 0;

    le += 4;
    if (strncmp(le, "+Inf\"", 5) == 0) {
        histogram->count += strtod(close + 1, NULL);
        return 1;
    }
    bound = strtod(le, &end);
    if (end == le || *end != '"')
        return 0;
    count = strtod(close + 1, &end);
    if (end == close + 1)
        return 0;
    return add_bucket(histogram, bound, count) == 0 ? 1 : -1;
}

int routes_parse_histogram(const char *exposition, const char *metric, const char *label,
                           struct routes_histogram *histogram)
{
    char bucket_name[160];
    int matched = 0;

    memset(histogram, 0, sizeof(*histogram));
    snprintf(bucket_name, sizeof(bucket_name), "%s_bucket", metric);
    for (const char *line = exposition; *line != '\0';) {
        size_t len = strcspn(line, "\n");
        int rc = parse_bucket_line(line, len, bucket_name, label, histogram);

        if (rc < 0)
            return -1;
        matched += rc;
        line += len;
        if (*line == '\n')
            line++;
    }
    return matched > 0 ? 0 : -1;
}

double routes_histogram_quantile(const struct routes_histogram *histogram, double q)
{
    double rank = q * histogram->count, lower = 0, below = 0;

    if (histogram->count <= 0 || histogram->bucket_count == 0)
        return 0;
    for (int i = 0; i < histogram->bucket_count; i++) {
        double in_bucket = histogram->cumulative[i] - below;

        if (histogram->cumulative[i] >= rank && in_bucket > 0)
            return lower + (histogram->bounds[i] - lower) * (rank - below) / in_bucket;
        below = histogram->cumulative[i];
        lower = histogram->bounds[i];
    }
    return histogram->bounds[histogram->bucket_count - 1];
}

/* A growing body buffer for libcurl's write callback. */
struct body {
    char *data;
    size_t len;
};

static size_t on_body(char *chunk, size_t size, size_t count, void *userdata)
{
    struct body *body = userdata;
    size_t n = size * count;
    char *grown;

    if (body->len + n > METRICS_BODY_MAX)
        return 0;
    grown = realloc(body->data, body->len + n + 1);
    if (grown == NULL)
        return 0;
    body->data = grown;
    memcpy(body->data + body->len, chunk, n);
    body->len += n;
    body->data[body->len] = '\0';
    return n;
}

char *routes_fetch_metrics(const char *url, long timeout_ms, char *errbuf, size_t errlen)
{
    CURL *curl = curl_easy_init();
    struct body body = {NULL, 0};
    CURLcode code;
    long status = 0;

    if (curl == NULL) {
        snprintf(errbuf, errlen, "cannot create a libcurl handle");
        return NULL;
    }
    curl_easy_setopt(curl, CURLOPT_URL, url);
    curl_easy_setopt(curl, CURLOPT_TIMEOUT_MS, timeout_ms);
    curl_easy_setopt(curl, CURLOPT_NOSIGNAL, 1L);
    curl_easy_setopt(curl, CURLOPT_PROTOCOLS_STR, "http,https");
    curl_easy_setopt(curl, CURLOPT_WRITEFUNCTION, on_body);
    curl_easy_setopt(curl, CURLOPT_WRITEDATA, &body);

    code = curl_easy_perform(curl);
    curl_easy_getinfo(curl, CURLINFO_RESPONSE_CODE, &status);
    curl_easy_cleanup(curl);
    if (code != CURLE_OK || status != 200 || body.data == NULL) {
        snprintf(errbuf, errlen, "scraping %s failed: %s", url,
                 code != CURLE_OK ? curl_easy_strerror(code) : "status not 200 or empty body");
        free(body.data);
        return NULL;
    }
    return body.data;
}
