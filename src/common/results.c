#include "results.h"

#include "log.h"

#include <hiredis/hiredis.h>
#include <pthread.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#define RESULTS_POOL_MAX 64

const char *const results_routes[RESULTS_ROUTE_COUNT] = {"grpc", "rest"};

/* Idle connections wait in idle[]; a thread that finds none opens one while
 * fewer than max are open, and waits otherwise. */
struct results_store {
    char host[64];
    int port;
    char password[256];
    char prefix[64];
    int max;
    int open;
    redisContext *idle[RESULTS_POOL_MAX];
    int idle_count;
    pthread_mutex_t lock;
    pthread_cond_t released;
};

struct results_store *results_store_new(const char *host, int port, const char *password,
                                        const char *prefix, int max_connections)
{
    struct results_store *store = calloc(1, sizeof(*store));

    if (store == NULL)
        return NULL;
    snprintf(store->host, sizeof(store->host), "%s", host);
    store->port = port;
    snprintf(store->password, sizeof(store->password), "%s", password);
    snprintf(store->prefix, sizeof(store->prefix), "%s", prefix);
    store->max = max_connections < 1 ? 1
                 : max_connections > RESULTS_POOL_MAX ? RESULTS_POOL_MAX
                                                      : max_connections;
    pthread_mutex_init(&store->lock, NULL);
    pthread_cond_init(&store->released, NULL);
    return store;
}

void results_store_free(struct results_store *store)
{
    if (store == NULL)
        return;
    for (int i = 0; i < store->idle_count; i++)
        redisFree(store->idle[i]);
    pthread_mutex_destroy(&store->lock);
    pthread_cond_destroy(&store->released);
    free(store);
}

/* Opens and authenticates one connection; returns NULL with errbuf filled. */
static redisContext *open_connection(struct results_store *store, char *errbuf, size_t errlen)
{
    struct timeval timeout = {2, 0};
    redisContext *context = redisConnectWithTimeout(store->host, store->port, timeout);
    redisReply *reply;

    if (context == NULL || context->err) {
        snprintf(errbuf, errlen, "cannot connect to Redis at %s:%d (URNA_REDIS_ADDR): %s",
                 store->host, store->port, context != NULL ? context->errstr : "out of memory");
        redisFree(context);
        return NULL;
    }
    redisSetTimeout(context, timeout);
    if (store->password[0] != '\0') {
        reply = redisCommand(context, "AUTH %s", store->password);
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

/* Takes an idle connection, or opens one; returns NULL with errbuf filled. */
static redisContext *acquire(struct results_store *store, char *errbuf, size_t errlen)
{
    redisContext *context;

    pthread_mutex_lock(&store->lock);
    while (store->idle_count == 0 && store->open >= store->max)
        pthread_cond_wait(&store->released, &store->lock);
    if (store->idle_count > 0) {
        context = store->idle[--store->idle_count];
        pthread_mutex_unlock(&store->lock);
        return context;
    }
    store->open++;
    pthread_mutex_unlock(&store->lock);

    context = open_connection(store, errbuf, errlen);
    if (context == NULL) {
        pthread_mutex_lock(&store->lock);
        store->open--;
        pthread_cond_signal(&store->released);
        pthread_mutex_unlock(&store->lock);
    }
    return context;
}

/* Returns a connection to the pool; a broken one (broken != 0) is closed. */
static void release(struct results_store *store, redisContext *context, int broken)
{
    if (broken || context->err) {
        redisFree(context);
        context = NULL;
    }
    pthread_mutex_lock(&store->lock);
    if (context != NULL)
        store->idle[store->idle_count++] = context;
    else
        store->open--;
    pthread_cond_signal(&store->released);
    pthread_mutex_unlock(&store->lock);
}

int results_store_ping(struct results_store *store)
{
    char errbuf[256];
    redisContext *context = acquire(store, errbuf, sizeof(errbuf));
    redisReply *reply;
    int ok;

    if (context == NULL)
        return 0;
    reply = redisCommand(context, "PING");
    ok = reply != NULL && reply->type == REDIS_REPLY_STATUS && strcmp(reply->str, "PONG") == 0;
    freeReplyObject(reply);
    release(store, context, !ok);
    return ok;
}

/* ------------------------------------------------------------ reading */

enum {
    REPLY_TOTAL,
    REPLY_BY_BAND,
    REPLY_RANK_BY_BAND,
    REPLY_BY_ALBUM,
    REPLY_RANK_BY_ALBUM,
    REPLY_BY_ROUTE,
    REPLY_RATE_FIRST, /* one MGET per route follows */
    REPLY_COUNT = REPLY_RATE_FIRST + RESULTS_ROUTE_COUNT,
};

/* Queues MGET of the rate keys of route for the window before now_s. */
static int append_rate_keys(redisContext *context, const char *prefix, const char *route,
                            int64_t now_s)
{
    char keys[RESULTS_RATE_WINDOW_S][96];
    const char *argv[RESULTS_RATE_WINDOW_S + 1] = {"MGET"};

    for (int i = 0; i < RESULTS_RATE_WINDOW_S; i++) {
        snprintf(keys[i], sizeof(keys[i]), "%srate:%s:%lld", prefix, route,
                 (long long)(now_s - 1 - i));
        argv[i + 1] = keys[i];
    }
    return redisAppendCommandArgv(context, RESULTS_RATE_WINDOW_S + 1, argv, NULL);
}

/* Sends every read in one round trip and collects the replies in order. */
static int read_replies(redisContext *context, const char *prefix, int64_t now_s,
                        redisReply *replies[REPLY_COUNT], char *errbuf, size_t errlen)
{
    int queued = 0;

    queued |= redisAppendCommand(context, "GET %stotal", prefix);
    queued |= redisAppendCommand(context, "HGETALL %sby_band", prefix);
    queued |= redisAppendCommand(context, "HGETALL %srank_sum:by_band", prefix);
    queued |= redisAppendCommand(context, "HGETALL %sby_album", prefix);
    queued |= redisAppendCommand(context, "HGETALL %srank_sum:by_album", prefix);
    queued |= redisAppendCommand(context, "HGETALL %sby_route", prefix);
    for (int r = 0; r < RESULTS_ROUTE_COUNT; r++)
        queued |= append_rate_keys(context, prefix, results_routes[r], now_s);
    if (queued != REDIS_OK) {
        snprintf(errbuf, errlen, "cannot queue the Redis reads: %s", context->errstr);
        return -1;
    }

    for (int i = 0; i < REPLY_COUNT; i++) {
        void *reply = NULL;

        if (redisGetReply(context, &reply) != REDIS_OK) {
            snprintf(errbuf, errlen, "reading the tally from Redis failed: %s", context->errstr);
            return -1;
        }
        replies[i] = reply;
        if (replies[i]->type == REDIS_REPLY_ERROR) {
            snprintf(errbuf, errlen, "Redis rejected a tally read: %s", replies[i]->str);
            return -1;
        }
    }
    return 0;
}

/* Returns non-zero when reply is an array of strings of even length. */
static int is_hash(const redisReply *reply)
{
    if (reply->type != REDIS_REPLY_ARRAY || reply->elements % 2 != 0)
        return 0;
    for (size_t i = 0; i < reply->elements; i++) {
        if (reply->element[i]->type != REDIS_REPLY_STRING)
            return 0;
    }
    return 1;
}

static const char *hash_lookup(const redisReply *hash, const char *field)
{
    for (size_t i = 0; i + 1 < hash->elements; i += 2) {
        if (strcmp(hash->element[i]->str, field) == 0)
            return hash->element[i + 1]->str;
    }
    return NULL;
}

static int fill_bands(struct results_snapshot *snapshot, const redisReply *votes,
                      const redisReply *ranks)
{
    snapshot->bands = calloc(votes->elements / 2 + 1, sizeof(*snapshot->bands));
    if (snapshot->bands == NULL)
        return -1;
    for (size_t i = 0; i + 1 < votes->elements; i += 2) {
        struct results_band *band = &snapshot->bands[snapshot->band_count];
        const char *rank_sum;

        band->band = strdup(votes->element[i]->str);
        if (band->band == NULL)
            return -1;
        band->votes = strtoll(votes->element[i + 1]->str, NULL, 10);
        rank_sum = hash_lookup(ranks, band->band);
        band->rank_sum = rank_sum != NULL ? strtod(rank_sum, NULL) : 0;
        snapshot->band_count++;
    }
    return 0;
}

/* Album fields are JSON arrays ["band","album",year]; a field of another
 * shape is logged and skipped. */
static int fill_albums(struct results_snapshot *snapshot, const redisReply *votes,
                       const redisReply *ranks)
{
    snapshot->albums = calloc(votes->elements / 2 + 1, sizeof(*snapshot->albums));
    if (snapshot->albums == NULL)
        return -1;
    for (size_t i = 0; i + 1 < votes->elements; i += 2) {
        const char *field = votes->element[i]->str, *rank_sum = hash_lookup(ranks, field);
        json_t *parsed = json_loads(field, 0, NULL);
        struct results_album *album = &snapshot->albums[snapshot->album_count];

        if (!json_is_array(parsed) || json_array_size(parsed) != 3 ||
            !json_is_string(json_array_get(parsed, 0)) ||
            !json_is_string(json_array_get(parsed, 1)) ||
            !json_is_integer(json_array_get(parsed, 2))) {
            log_warn("skipping malformed album field in by_album: %.120s", field);
            json_decref(parsed);
            continue;
        }
        album->band = strdup(json_string_value(json_array_get(parsed, 0)));
        album->album = strdup(json_string_value(json_array_get(parsed, 1)));
        album->year = (int)json_integer_value(json_array_get(parsed, 2));
        album->votes = strtoll(votes->element[i + 1]->str, NULL, 10);
        album->rank_sum = rank_sum != NULL ? strtod(rank_sum, NULL) : 0;
        json_decref(parsed);
        snapshot->album_count++;
        if (album->band == NULL || album->album == NULL)
            return -1;
    }
    return 0;
}

/* Averages the counters of one MGET reply over the window; missing keys
 * (seconds without votes, or expired) count as zero. */
static double window_rate(const redisReply *reply)
{
    long long sum = 0;

    for (size_t i = 0; i < reply->elements; i++) {
        if (reply->element[i]->type == REDIS_REPLY_STRING)
            sum += strtoll(reply->element[i]->str, NULL, 10);
    }
    return (double)sum / RESULTS_RATE_WINDOW_S;
}

static int by_band_votes(const void *a, const void *b)
{
    const struct results_band *x = a, *y = b;

    return x->votes != y->votes ? (x->votes < y->votes ? 1 : -1) : strcmp(x->band, y->band);
}

static int by_album_votes(const void *a, const void *b)
{
    const struct results_album *x = a, *y = b;

    if (x->votes != y->votes)
        return x->votes < y->votes ? 1 : -1;
    return strcmp(x->band, y->band) != 0 ? strcmp(x->band, y->band) : strcmp(x->album, y->album);
}

/* Turns the replies into snapshot; returns 0, or -1 with errbuf filled. */
static int fill_snapshot(struct results_snapshot *snapshot, redisReply *replies[REPLY_COUNT],
                         char *errbuf, size_t errlen)
{
    const redisReply *total = replies[REPLY_TOTAL];

    if (!is_hash(replies[REPLY_BY_BAND]) || !is_hash(replies[REPLY_RANK_BY_BAND]) ||
        !is_hash(replies[REPLY_BY_ALBUM]) ||
        !is_hash(replies[REPLY_RANK_BY_ALBUM]) || !is_hash(replies[REPLY_BY_ROUTE]) ||
        (total->type != REDIS_REPLY_STRING && total->type != REDIS_REPLY_NIL)) {
        snprintf(errbuf, errlen, "a tally key in Redis has an unexpected type; see docs/data-model.md");
        return -1;
    }
    snapshot->total = total->type == REDIS_REPLY_STRING ? strtoll(total->str, NULL, 10) : 0;
    for (int r = 0; r < RESULTS_ROUTE_COUNT; r++) {
        const char *votes = hash_lookup(replies[REPLY_BY_ROUTE], results_routes[r]);

        snapshot->by_route[r] = votes != NULL ? strtoll(votes, NULL, 10) : 0;
        snapshot->rate[r] = replies[REPLY_RATE_FIRST + r]->type == REDIS_REPLY_ARRAY
                                ? window_rate(replies[REPLY_RATE_FIRST + r])
                                : 0;
    }
    if (fill_bands(snapshot, replies[REPLY_BY_BAND], replies[REPLY_RANK_BY_BAND]) != 0 ||
        fill_albums(snapshot, replies[REPLY_BY_ALBUM], replies[REPLY_RANK_BY_ALBUM]) != 0) {
        snprintf(errbuf, errlen, "out of memory while reading the tally");
        return -1;
    }
    qsort(snapshot->bands, snapshot->band_count, sizeof(*snapshot->bands), by_band_votes);
    qsort(snapshot->albums, snapshot->album_count, sizeof(*snapshot->albums), by_album_votes);
    return 0;
}

int results_store_read(struct results_store *store, int64_t now_s,
                       struct results_snapshot *snapshot, char *errbuf, size_t errlen)
{
    redisReply *replies[REPLY_COUNT] = {NULL};
    redisContext *context;
    int rc = -1, broken = 0;

    memset(snapshot, 0, sizeof(*snapshot));
    context = acquire(store, errbuf, errlen);
    if (context == NULL)
        return -1;

    if (read_replies(context, store->prefix, now_s, replies, errbuf, errlen) != 0)
        broken = 1;
    else if (fill_snapshot(snapshot, replies, errbuf, errlen) == 0)
        rc = 0;

    for (int i = 0; i < REPLY_COUNT; i++)
        freeReplyObject(replies[i]);
    /* A failed pipeline may leave unread replies, so that connection is closed. */
    release(store, context, broken);
    return rc;
}

void results_snapshot_free(struct results_snapshot *snapshot)
{
    for (size_t i = 0; i < snapshot->band_count; i++)
        free(snapshot->bands[i].band);
    for (size_t i = 0; i < snapshot->album_count; i++) {
        free(snapshot->albums[i].band);
        free(snapshot->albums[i].album);
    }
    free(snapshot->bands);
    free(snapshot->albums);
    memset(snapshot, 0, sizeof(*snapshot));
}

/* ------------------------------------------------------------ rendering */

json_t *results_snapshot_json(const struct results_snapshot *snapshot)
{
    json_t *root = json_object(), *by_route = json_object(), *bands = json_object();
    json_t *albums = json_array(), *rate = json_object();

    for (int r = 0; r < RESULTS_ROUTE_COUNT; r++) {
        json_object_set_new(by_route, results_routes[r], json_integer(snapshot->by_route[r]));
        json_object_set_new(rate, results_routes[r], json_real(snapshot->rate[r]));
    }
    for (size_t i = 0; i < snapshot->band_count; i++)
        json_object_set_new(bands, snapshot->bands[i].band,
                            json_integer(snapshot->bands[i].votes));
    for (size_t i = 0; i < snapshot->album_count; i++) {
        const struct results_album *album = &snapshot->albums[i];
        double average = album->votes > 0 ? album->rank_sum / (double)album->votes : 0;

        json_array_append_new(albums, json_pack("{s:s, s:s, s:i, s:I, s:f}", "band", album->band,
                                                "album", album->album, "year", album->year,
                                                "votes", (json_int_t)album->votes, "avg_rank",
                                                average));
    }

    json_object_set_new(root, "total", json_integer(snapshot->total));
    json_object_set_new(root, "by_route", by_route);
    json_object_set_new(root, "by_band", bands);
    json_object_set_new(root, "by_album", albums);
    json_object_set_new(root, "rate", rate);
    return root;
}
