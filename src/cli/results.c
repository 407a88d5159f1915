/* urna results: the tally as stored in Redis. */
#include "cli.h"

#include "config.h"

#include <hiredis/hiredis.h>
#include <jansson.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

/* Connects and authenticates; returns NULL with errbuf filled. */
static redisContext *connect_redis(char *errbuf, size_t errlen)
{
    struct timeval timeout = {3, 0};
    char host[64], password[256];
    redisContext *context;
    redisReply *reply;
    int port;

    if (config_host_port("URNA_REDIS_ADDR", "127.0.0.1:6379", host, sizeof(host), &port, errbuf,
                         errlen) != 0 ||
        config_secret("URNA_REDIS_PASSWORD", 0, password, sizeof(password), errbuf, errlen) != 0)
        return NULL;

    context = redisConnectWithTimeout(host, port, timeout);
    if (context == NULL || context->err) {
        snprintf(errbuf, errlen, "cannot connect to Redis at %s:%d (URNA_REDIS_ADDR): %s", host,
                 port, context != NULL ? context->errstr : "out of memory");
        redisFree(context);
        return NULL;
    }
    if (password[0] != '\0') {
        reply = redisCommand(context, "AUTH %s", password);
        if (reply == NULL || reply->type == REDIS_REPLY_ERROR) {
            snprintf(errbuf, errlen, "Redis rejected the password in URNA_REDIS_PASSWORD");
            freeReplyObject(reply);
            redisFree(context);
            return NULL;
        }
        freeReplyObject(reply);
    }
    return context;
}

/* Runs HGETALL prefix+key; returns the reply (an array) or NULL. */
static redisReply *hgetall(redisContext *context, const char *prefix, const char *key,
                           char *errbuf, size_t errlen)
{
    redisReply *reply = redisCommand(context, "HGETALL %s%s", prefix, key);

    if (reply == NULL || reply->type != REDIS_REPLY_ARRAY) {
        snprintf(errbuf, errlen, "HGETALL %s%s failed: %s", prefix, key,
                 reply != NULL && reply->str != NULL ? reply->str : context->errstr);
        freeReplyObject(reply);
        return NULL;
    }
    return reply;
}

/* Returns the float value of field in an HGETALL reply, or 0. */
static double lookup(const redisReply *hash, const char *field)
{
    for (size_t i = 0; i + 1 < hash->elements; i += 2) {
        if (strcmp(hash->element[i]->str, field) == 0)
            return strtod(hash->element[i + 1]->str, NULL);
    }
    return 0;
}

static void fill_bands(struct results *results, const redisReply *votes, const redisReply *ranks)
{
    results->band_count = votes->elements / 2;
    results->bands = calloc(results->band_count + 1, sizeof(*results->bands));
    for (size_t i = 0; i < results->band_count; i++) {
        struct band_tally *band = &results->bands[i];

        band->band = strdup(votes->element[2 * i]->str);
        band->votes = strtoll(votes->element[2 * i + 1]->str, NULL, 10);
        band->rank_sum = lookup(ranks, band->band);
    }
}

/* Album fields are JSON arrays ["band","album",year]; see docs/data-model.md. */
static void fill_albums(struct results *results, const redisReply *votes, const redisReply *ranks)
{
    size_t count = 0;

    results->albums = calloc(votes->elements / 2 + 1, sizeof(*results->albums));
    for (size_t i = 0; i + 1 < votes->elements; i += 2) {
        const char *field = votes->element[i]->str;
        json_t *parsed = json_loads(field, 0, NULL);
        struct album_tally *album = &results->albums[count];

        if (!json_is_array(parsed) || json_array_size(parsed) != 3) {
            fprintf(stderr, "urna: skipping malformed album field %s\n", field);
            json_decref(parsed);
            continue;
        }
        album->band = strdup(json_string_value(json_array_get(parsed, 0)));
        album->album = strdup(json_string_value(json_array_get(parsed, 1)));
        album->year = (int)json_integer_value(json_array_get(parsed, 2));
        album->votes = strtoll(votes->element[i + 1]->str, NULL, 10);
        album->rank_sum = lookup(ranks, field);
        json_decref(parsed);
        count++;
    }
    results->album_count = count;
}

static int by_band_votes(const void *a, const void *b)
{
    const struct band_tally *x = a, *y = b;

    return x->votes != y->votes ? (x->votes < y->votes ? 1 : -1) : strcmp(x->band, y->band);
}

static int by_album_votes(const void *a, const void *b)
{
    const struct album_tally *x = a, *y = b;

    if (x->votes != y->votes)
        return x->votes < y->votes ? 1 : -1;
    return strcmp(x->band, y->band) != 0 ? strcmp(x->band, y->band) : strcmp(x->album, y->album);
}

int results_load(struct results *results, char *errbuf, size_t errlen)
{
    const char *names[] = {"by_band", "rank_sum:by_band", "by_album", "rank_sum:by_album",
                           "by_route"};
    redisReply *hashes[5] = {NULL};
    redisContext *context;
    redisReply *total;
    const char *prefix;
    int rc = -1;

    memset(results, 0, sizeof(*results));
    if (config_string("URNA_REDIS_PREFIX", "urna:", &prefix, errbuf, errlen) != 0 ||
        (context = connect_redis(errbuf, errlen)) == NULL)
        return -1;

    for (int i = 0; i < 5; i++) {
        hashes[i] = hgetall(context, prefix, names[i], errbuf, errlen);
        if (hashes[i] == NULL)
            goto out;
    }
    total = redisCommand(context, "GET %stotal", prefix);
    results->total = total != NULL && total->type == REDIS_REPLY_STRING ? strtoll(total->str, NULL, 10) : 0;
    freeReplyObject(total);

    fill_bands(results, hashes[0], hashes[1]);
    fill_albums(results, hashes[2], hashes[3]);
    results->grpc = (long long)lookup(hashes[4], "grpc");
    results->rest = (long long)lookup(hashes[4], "rest");
    qsort(results->bands, results->band_count, sizeof(*results->bands), by_band_votes);
    qsort(results->albums, results->album_count, sizeof(*results->albums), by_album_votes);
    rc = 0;

out:
    for (int i = 0; i < 5; i++)
        freeReplyObject(hashes[i]);
    redisFree(context);
    return rc;
}

void results_free(struct results *results)
{
    for (size_t i = 0; i < results->band_count; i++)
        free(results->bands[i].band);
    for (size_t i = 0; i < results->album_count; i++) {
        free(results->albums[i].band);
        free(results->albums[i].album);
    }
    free(results->bands);
    free(results->albums);
}

static double average(double sum, long long votes)
{
    return votes > 0 ? sum / (double)votes : 0;
}

static void print_json(const struct results *results)
{
    json_t *root = json_pack("{s:I, s:{s:I, s:I}}", "total", (json_int_t)results->total, "by_route",
                             "grpc", (json_int_t)results->grpc, "rest", (json_int_t)results->rest);
    json_t *bands = json_object();
    json_t *albums = json_array();
    char *text;

    for (size_t i = 0; i < results->band_count; i++)
        json_object_set_new(bands, results->bands[i].band, json_integer(results->bands[i].votes));
    for (size_t i = 0; i < results->album_count; i++) {
        const struct album_tally *album = &results->albums[i];

        json_array_append_new(albums, json_pack("{s:s, s:s, s:i, s:I, s:f}", "band", album->band,
                                                "album", album->album, "year", album->year,
                                                "votes", (json_int_t)album->votes, "avg_rank",
                                                average(album->rank_sum, album->votes)));
    }
    json_object_set_new(root, "by_band", bands);
    json_object_set_new(root, "by_album", albums);
    text = json_dumps(root, JSON_INDENT(2) | JSON_PRESERVE_ORDER);
    puts(text);
    free(text);
    json_decref(root);
}

/* Prints s padded with spaces to width display columns (UTF-8 aware). */
static void print_padded(const char *s, int width)
{
    int columns = 0;

    for (const unsigned char *p = (const unsigned char *)s; *p != '\0'; p++)
        columns += (*p & 0xc0) != 0x80;
    fputs(s, stdout);
    for (; columns < width; columns++)
        putchar(' ');
}

static void print_table(const struct results *results, size_t top_albums)
{
    int en = cli_english();

    printf("%s: %lld  (grpc %lld, rest %lld)\n\n", en ? "Total votes" : "Votos totales",
           results->total, results->grpc, results->rest);
    print_padded(en ? "Band" : "Banda", 34);
    printf("%8s %7s %9s\n", en ? "votes" : "votos", "%", en ? "avg rank" : "rank prom");
    for (size_t i = 0; i < results->band_count; i++) {
        const struct band_tally *band = &results->bands[i];

        print_padded(band->band, 34);
        printf("%8lld %6.2f%% %9.2f\n", band->votes,
               results->total > 0 ? 100.0 * (double)band->votes / (double)results->total : 0.0,
               average(band->rank_sum, band->votes));
    }

    printf("\n%s\n", en ? "Top albums" : "Álbumes más votados");
    for (size_t i = 0; i < results->album_count && i < top_albums; i++) {
        const struct album_tally *album = &results->albums[i];
        char label[480];

        snprintf(label, sizeof(label), "%s — %s (%d)", album->band, album->album, album->year);
        print_padded(label, 60);
        printf("%8lld %9.2f\n", album->votes, average(album->rank_sum, album->votes));
    }
}

int cli_results(int argc, char **argv)
{
    struct results results;
    char errbuf[1024];
    int as_json = argc > 1 && strcmp(argv[1], "--json") == 0;

    if (argc > 2 || (argc == 2 && !as_json)) {
        fprintf(stderr, "usage: urna results [--json]\n");
        return 2;
    }
    if (results_load(&results, errbuf, sizeof(errbuf)) != 0) {
        fprintf(stderr, "urna results: %s\n", errbuf);
        return 1;
    }
    if (as_json)
        print_json(&results);
    else
        print_table(&results, 10);
    results_free(&results);
    return 0;
}
