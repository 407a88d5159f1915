#include "idempotency.h"

#include "config.h"
#include "log.h"

#include <hiredis/hiredis.h>
#include <pthread.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

/* KEYS[1] idempotency key or "", KEYS[2] voter key or "".
 * ARGV: new id, ballot hash, window seconds, votes per voter.
 * Returns {status, id}. The stored value is "<id> <hash> <state>". */
static const char claim_script[] =
    "if KEYS[1] ~= '' then\n"
    "  local stored = redis.call('GET', KEYS[1])\n"
    "  if stored then\n"
    "    local id, hash, state = string.match(stored, '^(%S+) (%S+) (%S+)$')\n"
    "    if hash ~= ARGV[2] then return {'mismatch', id} end\n"
    "    return {state, id}\n"
    "  end\n"
    "end\n"
    "if KEYS[2] ~= '' and tonumber(ARGV[4]) > 0 then\n"
    "  local cast = redis.call('INCR', KEYS[2])\n"
    "  redis.call('EXPIRE', KEYS[2], ARGV[3])\n"
    "  if cast > tonumber(ARGV[4]) then\n"
    "    redis.call('DECR', KEYS[2])\n"
    "    return {'limit', ''}\n"
    "  end\n"
    "end\n"
    "if KEYS[1] ~= '' then\n"
    "  redis.call('SET', KEYS[1], ARGV[1] .. ' ' .. ARGV[2] .. ' pending', 'EX', ARGV[3])\n"
    "end\n"
    "return {'new', ARGV[1]}\n";

struct idempotency {
    struct idempotency_config config;
    pthread_key_t connection_key;
};

int idempotency_config_from_env(struct idempotency_config *config, char *errbuf, size_t errlen)
{
    if (config_host_port("URNA_REDIS_ADDR", "127.0.0.1:6379", config->host, sizeof(config->host),
                         &config->port, errbuf, errlen) ||
        config_secret("URNA_REDIS_PASSWORD", config_is_production(), config->password,
                      sizeof(config->password), errbuf, errlen) ||
        config_string("URNA_REDIS_PREFIX", "urna:", &config->prefix, errbuf, errlen) ||
        config_long("URNA_IDEMPOTENCY_WINDOW_S", 86400, 60, 30L * 86400, &config->window_s,
                    errbuf, errlen) ||
        config_long("URNA_VOTES_PER_VOTER", 0, 0, 1000000, &config->votes_per_voter, errbuf,
                    errlen))
        return -1;
    return 0;
}

static void free_connection(void *context)
{
    redisFree(context);
}

struct idempotency *idempotency_create(const struct idempotency_config *config)
{
    struct idempotency *idempotency = calloc(1, sizeof(*idempotency));

    if (idempotency == NULL)
        return NULL;
    idempotency->config = *config;
    if (pthread_key_create(&idempotency->connection_key, free_connection) != 0) {
        free(idempotency);
        return NULL;
    }
    return idempotency;
}

void idempotency_free(struct idempotency *idempotency)
{
    if (idempotency == NULL)
        return;
    pthread_key_delete(idempotency->connection_key);
    free(idempotency);
}

int idempotency_needed(const struct idempotency *idempotency, const char *key, const char *voter)
{
    return key != NULL || (voter != NULL && idempotency->config.votes_per_voter > 0);
}

/* Returns this thread's connection, opening (and authenticating) it when needed. */
static redisContext *connection(struct idempotency *idempotency)
{
    redisContext *context = pthread_getspecific(idempotency->connection_key);
    struct timeval timeout = {1, 0};
    redisReply *reply;

    if (context != NULL && context->err == 0)
        return context;
    if (context != NULL)
        redisFree(context);
    pthread_setspecific(idempotency->connection_key, NULL);

    context = redisConnectWithTimeout(idempotency->config.host, idempotency->config.port, timeout);
    if (context == NULL || context->err) {
        log_warn_limited("idempotency: cannot connect to Redis at %s:%d: %s", idempotency->config.host,
                 idempotency->config.port, context != NULL ? context->errstr : "out of memory");
        redisFree(context);
        return NULL;
    }
    redisSetTimeout(context, timeout);
    if (idempotency->config.password[0] != '\0') {
        reply = redisCommand(context, "AUTH %s", idempotency->config.password);
        if (reply == NULL || reply->type == REDIS_REPLY_ERROR) {
            log_warn_limited("idempotency: Redis rejected the password in URNA_REDIS_PASSWORD%s", "");
            freeReplyObject(reply);
            redisFree(context);
            return NULL;
        }
        freeReplyObject(reply);
    }
    pthread_setspecific(idempotency->connection_key, context);
    return context;
}

static enum idempotency_status status_from_text(const char *text)
{
    if (strcmp(text, "new") == 0)
        return IDEMPOTENCY_NEW;
    if (strcmp(text, "pending") == 0)
        return IDEMPOTENCY_RETRY;
    if (strcmp(text, "delivered") == 0)
        return IDEMPOTENCY_DELIVERED;
    if (strcmp(text, "mismatch") == 0)
        return IDEMPOTENCY_MISMATCH;
    if (strcmp(text, "limit") == 0)
        return IDEMPOTENCY_VOTER_LIMIT;
    return IDEMPOTENCY_UNAVAILABLE;
}

enum idempotency_status idempotency_claim(struct idempotency *idempotency, const char *key,
                                          uint64_t ballot_hash, const char *voter, char id[37])
{
    const struct idempotency_config *config = &idempotency->config;
    redisContext *context = connection(idempotency);
    char key_name[256] = "", voter_name[256] = "", hash[24], window[24], limit[24];
    enum idempotency_status status;
    redisReply *reply;

    if (context == NULL)
        return IDEMPOTENCY_UNAVAILABLE;
    if (key != NULL)
        snprintf(key_name, sizeof(key_name), "%sidem:%s", config->prefix, key);
    if (voter != NULL)
        snprintf(voter_name, sizeof(voter_name), "%svoter:%s", config->prefix, voter);
    snprintf(hash, sizeof(hash), "%016llx", (unsigned long long)ballot_hash);
    snprintf(window, sizeof(window), "%ld", config->window_s);
    snprintf(limit, sizeof(limit), "%ld", config->votes_per_voter);

    /* EVAL every time: Redis caches the compiled script by its hash. */
    reply = redisCommand(context, "EVAL %s 2 %s %s %s %s %s %s", claim_script, key_name,
                         voter_name, id, hash, window, limit);
    if (reply == NULL || reply->type != REDIS_REPLY_ARRAY || reply->elements != 2) {
        log_warn_limited("idempotency: Redis claim failed: %s",
                 reply == NULL ? context->errstr : reply->str != NULL ? reply->str : "bad reply");
        freeReplyObject(reply);
        return IDEMPOTENCY_UNAVAILABLE;
    }
    status = status_from_text(reply->element[0]->str);
    if (status != IDEMPOTENCY_VOTER_LIMIT && reply->element[1]->len == 36)
        memcpy(id, reply->element[1]->str, 37);
    freeReplyObject(reply);
    return status;
}

void idempotency_mark_delivered(struct idempotency *idempotency, const char *key,
                                uint64_t ballot_hash, const char id[37])
{
    redisContext *context = connection(idempotency);
    redisReply *reply;
    char value[80];

    if (context == NULL || key == NULL)
        return;

    /* One argument, "<id> <hash> delivered", as the claim script stores it. */
    snprintf(value, sizeof(value), "%s %016llx delivered", id, (unsigned long long)ballot_hash);
    reply = redisCommand(context, "SET %sidem:%s %s EX %ld", idempotency->config.prefix, key, value,
                         idempotency->config.window_s);
    if (reply == NULL || reply->type == REDIS_REPLY_ERROR)
        log_warn_limited("idempotency: cannot mark key as delivered (%s); a retry will send vote %s "
                         "again and the tally will count it once",
                         reply == NULL ? context->errstr : reply->str, id);
    freeReplyObject(reply);
}

void idempotency_release_voter(struct idempotency *idempotency, const char *voter)
{
    redisContext *context = connection(idempotency);
    redisReply *reply;

    if (context == NULL || voter == NULL || idempotency->config.votes_per_voter == 0)
        return;
    reply = redisCommand(context, "DECR %svoter:%s", idempotency->config.prefix, voter);
    freeReplyObject(reply);
}

int idempotency_key_is_valid(const char *key)
{
    size_t len = strlen(key);

    if (len == 0 || len > 128)
        return 0;
    for (size_t i = 0; i < len; i++) {
        if (key[i] <= ' ' || key[i] > '~')
            return 0;
    }
    return 1;
}

uint64_t idempotency_hash(const char *data, size_t len)
{
    uint64_t hash = 14695981039346656037ULL;

    for (size_t i = 0; i < len; i++) {
        hash ^= (unsigned char)data[i];
        hash *= 1099511628211ULL;
    }
    return hash;
}
