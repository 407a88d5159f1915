#include "tally_redis.h"

#include "log.h"

#include <hiredis/hiredis.h>
#include <jansson.h>
#include <pthread.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

/* Counts one partition's votes and moves its applied offset, atomically.
 * ARGV: prefix, "topic:partition", seconds to remember counted ids, then
 * seven values per vote: offset, id, route, band, album field, rank, receive
 * second. A vote is skipped when its offset was applied before (a redelivered
 * batch) or its id was counted before (a client retry that reached Kafka
 * twice). Returns one flag per vote: 1 when counted now, 0 when skipped. */
static const char count_script[] =
    "local p = ARGV[1]\n"
    "local applied = tonumber(redis.call('HGET', p .. 'applied_offsets', ARGV[2]) or '-1')\n"
    "local last = applied\n"
    "local flags = {}\n"
    "for i = 4, #ARGV, 7 do\n"
    "  local offset = tonumber(ARGV[i])\n"
    "  if offset > last then last = offset end\n"
    "  flags[#flags + 1] = 0\n"
    "  if offset > applied and redis.call('SET', p .. 'counted:' .. ARGV[i+1], 1, 'NX', 'EX', ARGV[3]) then\n"
    "    local route, band, album, rank = ARGV[i+2], ARGV[i+3], ARGV[i+4], ARGV[i+5]\n"
    "    redis.call('INCR', p .. 'total')\n"
    "    redis.call('HINCRBY', p .. 'by_route', route, 1)\n"
    "    redis.call('HINCRBY', p .. 'by_band', band, 1)\n"
    "    redis.call('HINCRBYFLOAT', p .. 'rank_sum:by_band', band, rank)\n"
    "    redis.call('HINCRBY', p .. 'by_album', album, 1)\n"
    "    redis.call('HINCRBYFLOAT', p .. 'rank_sum:by_album', album, rank)\n"
    "    local rate = p .. 'rate:' .. route .. ':' .. ARGV[i+6]\n"
    "    redis.call('INCR', rate)\n"
    "    redis.call('EXPIRE', rate, 120)\n"
    "    flags[#flags] = 1\n"
    "  end\n"
    "end\n"
    "if last > applied then redis.call('HSET', p .. 'applied_offsets', ARGV[2], last) end\n"
    "return flags\n";

struct tally_redis {
    char host[64];
    int port;
    char password[256];
    char prefix[64];
    char dedup_window[24];
    char script_sha[41];
    /* The count stage and the /readyz probe run on different threads, and a
     * hiredis context is not thread-safe, so every use takes this lock. */
    pthread_mutex_t lock;
    redisContext *context;
};

char *tally_album_field(const char *band, const char *album, int year)
{
    json_t *field = json_pack("[s, s, i]", band, album, year);
    char *text = field != NULL ? json_dumps(field, JSON_COMPACT) : NULL;

    json_decref(field);
    return text;
}

/* Runs one command given as argv; returns the reply or NULL with errbuf filled. */
static redisReply *run(struct tally_redis *redis, int argc, const char **argv,
                       const size_t *lens, char *errbuf, size_t errlen)
{
    redisReply *reply = redisCommandArgv(redis->context, argc, argv, lens);

    if (reply == NULL) {
        snprintf(errbuf, errlen, "redis %s:%d: %s", redis->host, redis->port,
                 redis->context->errstr);
        return NULL;
    }
    if (reply->type == REDIS_REPLY_ERROR) {
        snprintf(errbuf, errlen, "redis %s:%d: %s failed: %s", redis->host, redis->port, argv[0],
                 reply->str);
        freeReplyObject(reply);
        return NULL;
    }
    return reply;
}

/* Opens the connection, authenticates and loads the script. */
static int open_connection(struct tally_redis *redis, char *errbuf, size_t errlen)
{
    struct timeval timeout = {2, 0};
    const char *load[] = {"SCRIPT", "LOAD", count_script};
    redisReply *reply;

    redis->context = redisConnectWithTimeout(redis->host, redis->port, timeout);
    if (redis->context == NULL || redis->context->err) {
        snprintf(errbuf, errlen, "cannot connect to redis at %s:%d: %s", redis->host, redis->port,
                 redis->context != NULL ? redis->context->errstr : "out of memory");
        goto fail;
    }
    redisSetTimeout(redis->context, timeout);

    if (redis->password[0] != '\0') {
        const char *auth[] = {"AUTH", redis->password};
        reply = run(redis, 2, auth, NULL, errbuf, errlen);
        if (reply == NULL)
            goto fail;
        freeReplyObject(reply);
    }

    reply = run(redis, 3, load, NULL, errbuf, errlen);
    if (reply == NULL)
        goto fail;
    snprintf(redis->script_sha, sizeof(redis->script_sha), "%s", reply->str);
    freeReplyObject(reply);
    return 0;

fail:
    if (redis->context != NULL)
        redisFree(redis->context);
    redis->context = NULL;
    return -1;
}

struct tally_redis *tally_redis_connect(const char *host, int port, const char *password,
                                        const char *prefix, long dedup_window_s, char *errbuf,
                                        size_t errlen)
{
    struct tally_redis *redis = calloc(1, sizeof(*redis));

    if (redis == NULL)
        return NULL;
    snprintf(redis->host, sizeof(redis->host), "%s", host);
    snprintf(redis->password, sizeof(redis->password), "%s", password);
    snprintf(redis->prefix, sizeof(redis->prefix), "%s", prefix);
    snprintf(redis->dedup_window, sizeof(redis->dedup_window), "%ld", dedup_window_s);
    redis->port = port;
    if (open_connection(redis, errbuf, errlen) != 0) {
        free(redis);
        return NULL;
    }
    pthread_mutex_init(&redis->lock, NULL);
    return redis;
}

void tally_redis_free(struct tally_redis *redis)
{
    if (redis == NULL)
        return;
    if (redis->context != NULL)
        redisFree(redis->context);
    pthread_mutex_destroy(&redis->lock);
    free(redis);
}

int tally_redis_ping(struct tally_redis *redis)
{
    const char *ping[] = {"PING"};
    char errbuf[256];
    redisReply *reply = NULL;

    pthread_mutex_lock(&redis->lock);
    if (redis->context != NULL)
        reply = run(redis, 1, ping, NULL, errbuf, sizeof(errbuf));
    pthread_mutex_unlock(&redis->lock);

    if (reply == NULL)
        return 0;
    freeReplyObject(reply);
    return 1;
}

/* The per-vote text arguments of the script, owned by the caller. */
struct vote_args {
    char offset[24];
    char rank[32];
    char second[24];
    char *album_field;
};

/* tally_redis_apply_partition with redis->lock held. */
static int apply_partition_locked(struct tally_redis *redis, const char *topic,
                                  const struct tally_entry *entries, size_t count,
                                  unsigned char *flags, size_t *counted, char *errbuf,
                                  size_t errlen)
{
    size_t argc = 6 + 7 * count, n = 0;
    const char **argv = calloc(argc, sizeof(*argv));
    struct vote_args *args = calloc(count, sizeof(*args));
    char partition_field[160];
    redisReply *reply = NULL;
    int rc = -1;

    if (argv == NULL || args == NULL) {
        snprintf(errbuf, errlen, "out of memory for a batch of %zu votes", count);
        goto out;
    }
    if (redis->context == NULL && open_connection(redis, errbuf, errlen) != 0)
        goto out;

    snprintf(partition_field, sizeof(partition_field), "%s:%d", topic, (int)entries[0].partition);
    argv[n++] = "EVALSHA";
    argv[n++] = redis->script_sha;
    argv[n++] = "0";
    argv[n++] = redis->prefix;
    argv[n++] = partition_field;
    argv[n++] = redis->dedup_window;
    for (size_t i = 0; i < count; i++) {
        const struct vote *vote = &entries[i].vote;

        snprintf(args[i].offset, sizeof(args[i].offset), "%lld", (long long)entries[i].offset);
        snprintf(args[i].rank, sizeof(args[i].rank), "%.15g", vote->rank);
        snprintf(args[i].second, sizeof(args[i].second), "%lld",
                 (long long)(vote->received_at_ms / 1000));
        args[i].album_field = tally_album_field(vote->name, vote->album, vote->year);
        if (args[i].album_field == NULL) {
            snprintf(errbuf, errlen, "out of memory");
            goto out;
        }
        argv[n++] = args[i].offset;
        argv[n++] = vote->id;
        argv[n++] = vote->route;
        argv[n++] = vote->name;
        argv[n++] = args[i].album_field;
        argv[n++] = args[i].rank;
        argv[n++] = args[i].second;
    }

    reply = run(redis, (int)n, argv, NULL, errbuf, errlen);
    if (reply == NULL || reply->type != REDIS_REPLY_ARRAY || reply->elements != count) {
        /* A dropped connection or a restarted Redis without the script: reopen. */
        redisFree(redis->context);
        redis->context = NULL;
        goto out;
    }
    *counted = 0;
    for (size_t i = 0; i < count; i++) {
        flags[i] = reply->element[i]->type == REDIS_REPLY_INTEGER && reply->element[i]->integer == 1;
        *counted += flags[i];
    }
    rc = 0;

out:
    if (reply != NULL)
        freeReplyObject(reply);
    for (size_t i = 0; args != NULL && i < count; i++)
        free(args[i].album_field);
    free(args);
    free(argv);
    return rc;
}

int tally_redis_apply_partition(struct tally_redis *redis, const char *topic,
                                const struct tally_entry *entries, size_t count,
                                unsigned char *flags, size_t *counted, char *errbuf,
                                size_t errlen)
{
    int rc;

    pthread_mutex_lock(&redis->lock);
    rc = apply_partition_locked(redis, topic, entries, count, flags, counted, errbuf, errlen);
    pthread_mutex_unlock(&redis->lock);
    return rc;
}
