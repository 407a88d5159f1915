#include "tally.h"

#include "config.h"
#include "handoff.h"
#include "http_server.h"
#include "log.h"
#include "metrics.h"
#include "ops_http.h"
#include "service.h"
#include "tally_mongo.h"
#include "tally_redis.h"
#include "vote_id.h"

#include <librdkafka/rdkafka.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>

#define BACKOFF_MAX_MS 5000

struct tally {
    const struct tally_config *config;
    rd_kafka_t *consumer;
    rd_kafka_queue_t *queue;
    struct tally_redis *redis;
    struct tally_mongo *mongo;
    struct handoff *handoff; /* counted batches on their way to MongoDB */
    int log_failed;          /* a batch was left unlogged at stop: commit nothing more */
    struct tally_entry *entries;
    unsigned char *flags; /* per entry of one partition: counted now or skipped */
    rd_kafka_message_t **messages;
    struct metric_counter *counted_grpc;
    struct metric_counter *counted_rest;
    struct metric_counter *malformed;
    struct metric_histogram *batch_size;
    struct metric_histogram *redis_seconds;
    struct metric_histogram *mongo_seconds;
    struct metric_histogram *freshness;
};

int tally_config_from_env(struct tally_config *config, char *errbuf, size_t errlen)
{
    if (config_string("URNA_KAFKA_BROKERS", "127.0.0.1:9092", &config->brokers, errbuf, errlen) ||
        config_string("URNA_KAFKA_TOPIC", "votes", &config->topic, errbuf, errlen) ||
        config_string("URNA_KAFKA_GROUP", "urna-tally", &config->group, errbuf, errlen) ||
        config_long("URNA_TALLY_BATCH_MAX", 500, 1, 10000, &config->batch_max, errbuf, errlen) ||
        config_long("URNA_TALLY_BATCH_WAIT_MS", 50, 1, 10000, &config->batch_wait_ms, errbuf,
                    errlen) ||
        config_long("URNA_TALLY_LOG_QUEUE", 8, 1, 1000, &config->log_queue, errbuf, errlen) ||
        config_host_port("URNA_REDIS_ADDR", "127.0.0.1:6379", config->redis_host,
                         sizeof(config->redis_host), &config->redis_port, errbuf, errlen) ||
        config_secret("URNA_REDIS_PASSWORD", config_is_production(), config->redis_password,
                      sizeof(config->redis_password), errbuf, errlen) ||
        config_string("URNA_REDIS_PREFIX", "urna:", &config->redis_prefix, errbuf, errlen) ||
        config_long("URNA_DEDUP_WINDOW_S", 2 * 86400, 60, 90L * 86400, &config->dedup_window_s,
                    errbuf, errlen) ||
        config_string("URNA_MONGO_URI", "mongodb://127.0.0.1:27017", &config->mongo_uri, errbuf,
                      errlen) ||
        config_string("URNA_MONGO_DB", "urna", &config->mongo_db, errbuf, errlen) ||
        config_check_mongo_uri(config->mongo_uri, errbuf, errlen))
        return -1;
    return 0;
}

static void on_consumer_error(rd_kafka_t *rk, int err, const char *reason, void *opaque)
{
    (void)rk;
    (void)opaque;
    log_warn_limited("kafka: %s: %s", rd_kafka_err2name((rd_kafka_resp_err_t)err), reason);
}

/* Before partitions go to another consumer, logs and commits what was
 * counted from them, so the committed offsets never move back. */
static void on_rebalance(rd_kafka_t *rk, rd_kafka_resp_err_t err,
                         rd_kafka_topic_partition_list_t *partitions, void *opaque)
{
    struct tally *tally = opaque;

    if (err == RD_KAFKA_RESP_ERR__ASSIGN_PARTITIONS) {
        rd_kafka_assign(rk, partitions);
        return;
    }
    if (tally->handoff != NULL)
        handoff_wait_idle(tally->handoff);
    rd_kafka_assign(rk, NULL);
}

static rd_kafka_t *create_consumer(struct tally *tally, char *errbuf, size_t errlen)
{
    const struct tally_config *config = tally->config;
    rd_kafka_conf_t *conf = rd_kafka_conf_new();
    const char *settings[][2] = {
        {"bootstrap.servers", config->brokers},
        {"group.id", config->group},
        {"client.id", "urna-tally"},
        /* Offsets are committed by hand, after both stores have the batch. */
        {"enable.auto.commit", "false"},
        {"enable.auto.offset.store", "false"},
        {"auto.offset.reset", "earliest"},
        {"isolation.level", "read_committed"},
    };
    rd_kafka_topic_partition_list_t *topics;
    rd_kafka_t *rk;
    char reason[256];

    for (size_t i = 0; i < sizeof(settings) / sizeof(settings[0]); i++) {
        if (rd_kafka_conf_set(conf, settings[i][0], settings[i][1], reason, sizeof(reason)) !=
            RD_KAFKA_CONF_OK) {
            snprintf(errbuf, errlen, "kafka setting %s rejected: %s", settings[i][0], reason);
            rd_kafka_conf_destroy(conf);
            return NULL;
        }
    }
    rd_kafka_conf_set_error_cb(conf, on_consumer_error);
    rd_kafka_conf_set_rebalance_cb(conf, on_rebalance);
    rd_kafka_conf_set_opaque(conf, tally);

    /* rd_kafka_new owns conf from here on when it succeeds. */
    rk = rd_kafka_new(RD_KAFKA_CONSUMER, conf, reason, sizeof(reason));
    if (rk == NULL) {
        snprintf(errbuf, errlen, "cannot create the Kafka consumer: %s", reason);
        rd_kafka_conf_destroy(conf);
        return NULL;
    }
    rd_kafka_poll_set_consumer(rk);

    topics = rd_kafka_topic_partition_list_new(1);
    rd_kafka_topic_partition_list_add(topics, config->topic, RD_KAFKA_PARTITION_UA);
    if (rd_kafka_subscribe(rk, topics) != RD_KAFKA_RESP_ERR_NO_ERROR) {
        snprintf(errbuf, errlen, "cannot subscribe to topic %s", config->topic);
        rd_kafka_topic_partition_list_destroy(topics);
        rd_kafka_destroy(rk);
        return NULL;
    }
    rd_kafka_topic_partition_list_destroy(topics);
    return rk;
}

/* Sleeps for the backoff of attempt n (100 ms doubling up to 5 s), waking
 * early on SIGTERM. */
static void backoff(int attempt)
{
    long ms = 100L << (attempt < 6 ? attempt : 6);
    struct timespec pause;

    if (ms > BACKOFF_MAX_MS)
        ms = BACKOFF_MAX_MS;
    for (long slept = 0; slept < ms && !service_stop_requested(); slept += 100) {
        pause.tv_sec = 0;
        pause.tv_nsec = 100 * 1000 * 1000;
        nanosleep(&pause, NULL);
    }
}

/* Turns the batch's messages into entries; malformed records and Kafka
 * errors are logged and skipped. Returns the number of entries. */
static size_t read_batch(struct tally *tally, ssize_t received)
{
    size_t count = 0;

    for (ssize_t i = 0; i < received; i++) {
        rd_kafka_message_t *message = tally->messages[i];
        struct tally_entry *entry = &tally->entries[count];

        if (message->err != RD_KAFKA_RESP_ERR_NO_ERROR) {
            if (message->err != RD_KAFKA_RESP_ERR__PARTITION_EOF)
                log_warn_limited("kafka consume: %s", rd_kafka_message_errstr(message));
            continue;
        }
        if (vote_record_parse(message->payload, message->len, &entry->vote) != 0) {
            metric_inc(tally->malformed);
            log_error("skipping malformed record at partition %d offset %lld",
                      (int)message->partition, (long long)message->offset);
            continue;
        }
        entry->partition = message->partition;
        entry->offset = message->offset;
        count++;
    }
    return count;
}

static int compare_entries(const void *a, const void *b)
{
    const struct tally_entry *x = a, *y = b;

    if (x->partition != y->partition)
        return x->partition < y->partition ? -1 : 1;
    return x->offset < y->offset ? -1 : x->offset > y->offset;
}

/* Writes a batch's log documents, retrying with backoff until MongoDB takes
 * them; once a stop is requested it tries one last time. Returns 0 when written. */
static int log_batch(struct tally *tally, const struct tally_entry *entries, size_t count)
{
    char errbuf[512];
    double started;

    for (int attempt = 0;; attempt++) {
        started = metrics_clock();
        if (tally_mongo_insert(tally->mongo, entries, count, errbuf, sizeof(errbuf)) == 0) {
            metric_observe(tally->mongo_seconds, metrics_clock() - started);
            if (attempt > 0)
                log_info("MongoDB is back after %d retries", attempt);
            return 0;
        }
        if (service_stop_requested()) {
            log_warn("%s; stopping without committing, the batch will be redelivered", errbuf);
            return -1;
        }
        log_warn("%s; not committing, retry %d", errbuf, attempt + 1);
        backoff(attempt);
    }
}

/* Records the votes Redis counted now; skipped redeliveries are left out. */
static void observe_counted(struct tally *tally, const struct tally_entry *entries,
                            const unsigned char *flags, size_t count)
{
    int64_t now = vote_now_ms();

    for (size_t i = 0; i < count; i++) {
        if (!flags[i])
            continue;
        metric_inc(strcmp(entries[i].vote.route, "grpc") == 0 ? tally->counted_grpc
                                                             : tally->counted_rest);
        metric_observe(tally->freshness, (double)(now - entries[i].vote.received_at_ms) / 1000.0);
    }
}

/* Counts one partition's run of entries, retrying like log_batch. */
static int count_partition(struct tally *tally, const struct tally_entry *entries, size_t count)
{
    char errbuf[512];
    size_t counted = 0;
    double started;

    for (int attempt = 0; !service_stop_requested(); attempt++) {
        started = metrics_clock();
        if (tally_redis_apply_partition(tally->redis, tally->config->topic, entries, count,
                                        tally->flags, &counted, errbuf, sizeof(errbuf)) == 0) {
            metric_observe(tally->redis_seconds, metrics_clock() - started);
            if (counted < count)
                log_info("partition %d: %zu of %zu votes were counted before (redelivery)",
                         (int)entries[0].partition, count - counted, count);
            observe_counted(tally, entries, tally->flags, count);
            return 0;
        }
        log_warn("%s; not committing, retry %d", errbuf, attempt + 1);
        backoff(attempt);
    }
    return -1;
}

static int count_batch(struct tally *tally, size_t count)
{
    size_t start = 0;

    qsort(tally->entries, count, sizeof(*tally->entries), compare_entries);
    while (start < count) {
        size_t end = start;

        while (end < count && tally->entries[end].partition == tally->entries[start].partition)
            end++;
        if (count_partition(tally, &tally->entries[start], end - start) != 0)
            return -1;
        start = end;
    }
    return 0;
}

/* A counted batch on its way to MongoDB, with the offsets to commit once it
 * is logged. */
struct logged_batch {
    struct tally_entry *entries;
    size_t count;
    rd_kafka_topic_partition_list_t *offsets;
};

/* Lists, for each partition in the batch, the offset after its last message. */
static rd_kafka_topic_partition_list_t *batch_offsets(struct tally *tally, ssize_t received)
{
    rd_kafka_topic_partition_list_t *offsets = rd_kafka_topic_partition_list_new((int)received);

    for (ssize_t i = 0; i < received; i++) {
        const rd_kafka_message_t *message = tally->messages[i];
        rd_kafka_topic_partition_t *slot;

        if (message->err != RD_KAFKA_RESP_ERR_NO_ERROR)
            continue;
        slot = rd_kafka_topic_partition_list_find(offsets, rd_kafka_topic_name(message->rkt),
                                                  message->partition);
        if (slot == NULL)
            slot = rd_kafka_topic_partition_list_add(offsets, rd_kafka_topic_name(message->rkt),
                                                     message->partition);
        if (message->offset + 1 > slot->offset)
            slot->offset = message->offset + 1;
    }
    return offsets;
}

static void commit_offsets(struct tally *tally, rd_kafka_topic_partition_list_t *offsets)
{
    rd_kafka_resp_err_t err;

    if (offsets->cnt == 0)
        return;
    err = rd_kafka_commit(tally->consumer, offsets, 0);
    if (err != RD_KAFKA_RESP_ERR_NO_ERROR)
        log_warn("offset commit failed: %s; the batch will be redelivered and skipped",
                 rd_kafka_err2str(err));
}

/* The handoff's side: logs a counted batch in MongoDB, then commits its
 * offsets. Batches arrive in consumption order, so commits only move forward;
 * after a batch is left unlogged at stop, later ones are not committed either. */
static void finish_batch(void *ctx, void *item)
{
    struct tally *tally = ctx;
    struct logged_batch *batch = item;

    if (!tally->log_failed && batch->count > 0 &&
        log_batch(tally, batch->entries, batch->count) != 0)
        tally->log_failed = 1;
    if (!tally->log_failed)
        commit_offsets(tally, batch->offsets);

    rd_kafka_topic_partition_list_destroy(batch->offsets);
    free(batch->entries);
    free(batch);
}

/* Passes the counted entries and the batch's offsets to the handoff; returns
 * -1 when out of memory (the batch is then redelivered after a restart). */
static int hand_off_batch(struct tally *tally, size_t count, ssize_t received)
{
    struct logged_batch *batch = calloc(1, sizeof(*batch));

    if (batch == NULL ||
        (count > 0 && (batch->entries = malloc(count * sizeof(*batch->entries))) == NULL)) {
        log_error("out of memory for a batch of %zu votes; stopping so it is redelivered", count);
        free(batch);
        return -1;
    }
    if (count > 0)
        memcpy(batch->entries, tally->entries, count * sizeof(*batch->entries));
    batch->count = count;
    batch->offsets = batch_offsets(tally, received);
    handoff_push(tally->handoff, batch, count);
    return 0;
}

/* One cycle: take a batch, count it in Redis, and hand it off to be logged
 * and committed. Returns -1 on a failure that must stop the tally. */
static int process_batch(struct tally *tally)
{
    ssize_t received = rd_kafka_consume_batch_queue(tally->queue, (int)tally->config->batch_wait_ms,
                                                    tally->messages, (size_t)tally->config->batch_max);
    size_t count;
    int rc = 0;

    if (received <= 0)
        return 0;
    count = read_batch(tally, received);
    metric_observe(tally->batch_size, (double)count / 1000.0);

    /* Redis first and without waiting for MongoDB: the live counters should
     * not wait for the slower log store. Both writes are idempotent, and the
     * offsets are committed only after both, so the order does not affect
     * correctness. */
    if (count == 0 || count_batch(tally, count) == 0)
        rc = hand_off_batch(tally, count, received);

    for (ssize_t i = 0; i < received; i++)
        rd_kafka_message_destroy(tally->messages[i]);
    return rc;
}

/* Emits, per assigned partition, the messages not yet consumed: the
 * partition's high watermark (as last fetched) minus the consumer's position. */
static void report_lag(void *ctx, metric_emit_fn emit, void *out)
{
    struct tally *tally = ctx;
    rd_kafka_topic_partition_list_t *assigned = NULL;
    char labels[64];

    if (tally->consumer == NULL || rd_kafka_assignment(tally->consumer, &assigned) != 0)
        return;
    rd_kafka_position(tally->consumer, assigned);
    for (int i = 0; i < assigned->cnt; i++) {
        const rd_kafka_topic_partition_t *part = &assigned->elems[i];
        int64_t low, high;

        if (rd_kafka_get_watermark_offsets(tally->consumer, part->topic, part->partition, &low,
                                           &high) != RD_KAFKA_RESP_ERR_NO_ERROR || high < 0)
            continue;
        snprintf(labels, sizeof(labels), "partition=\"%d\"", (int)part->partition);
        emit(out, labels, (double)(part->offset >= 0 ? high - part->offset : high - low));
    }
    rd_kafka_topic_partition_list_destroy(assigned);
}

static int tally_ready(void *ctx)
{
    struct tally *tally = ctx;

    return tally_redis_ping(tally->redis) && tally_mongo_ping(tally->mongo);
}

static double log_backlog(void *ctx)
{
    struct tally *tally = ctx;

    return tally->handoff != NULL ? (double)handoff_pending_votes(tally->handoff) : 0.0;
}

static void register_metrics(struct tally *tally)
{
    tally->counted_grpc = metrics_counter("urna_tally_votes_counted_total",
                                          "Votes counted in Redis, by route", "route=\"grpc\"");
    tally->counted_rest = metrics_counter("urna_tally_votes_counted_total",
                                          "Votes counted in Redis, by route", "route=\"rest\"");
    tally->malformed = metrics_counter("urna_tally_malformed_records_total",
                                       "Kafka records skipped because they do not parse", NULL);
    tally->batch_size = metrics_histogram("urna_tally_batch_size",
                                          "Votes per consumed batch, in thousands", NULL);
    tally->redis_seconds = metrics_histogram("urna_tally_store_write_seconds",
                                             "Time to write one batch, by store", "store=\"redis\"");
    tally->mongo_seconds = metrics_histogram("urna_tally_store_write_seconds",
                                             "Time to write one batch, by store", "store=\"mongodb\"");
    tally->freshness = metrics_histogram("urna_tally_freshness_seconds",
                                         "Time from a vote's receipt to its count in Redis", NULL);
    metrics_gauge("urna_tally_log_backlog_votes",
                  "Votes counted in Redis and not yet logged in MongoDB", NULL, log_backlog, tally);
    metrics_gauge_family("urna_tally_consumer_lag",
                         "Messages of each assigned partition not yet consumed", report_lag, tally);
}

static int connect_stores(struct tally *tally, char *errbuf, size_t errlen)
{
    const struct tally_config *config = tally->config;

    tally->redis = tally_redis_connect(config->redis_host, config->redis_port,
                                       config->redis_password, config->redis_prefix,
                                       config->dedup_window_s, errbuf, errlen);
    if (tally->redis == NULL)
        return -1;
    tally->mongo = tally_mongo_connect(config->mongo_uri, config->mongo_db, errbuf, errlen);
    return tally->mongo == NULL ? -1 : 0;
}

int tally_run(const struct tally_config *config)
{
    struct tally tally = {.config = config};
    struct http_server *ops = NULL;
    char errbuf[512];
    int code = 1;

    tally.entries = calloc((size_t)config->batch_max, sizeof(*tally.entries));
    tally.messages = calloc((size_t)config->batch_max, sizeof(*tally.messages));
    tally.flags = calloc((size_t)config->batch_max, sizeof(*tally.flags));
    if (tally.entries == NULL || tally.messages == NULL || tally.flags == NULL) {
        log_error("out of memory for batches of %ld votes", config->batch_max);
        goto out;
    }
    register_metrics(&tally);
    if (connect_stores(&tally, errbuf, sizeof(errbuf)) != 0 ||
        (tally.consumer = create_consumer(&tally, errbuf, sizeof(errbuf))) == NULL ||
        (ops = ops_http_start("tally", "URNA_TALLY_LISTEN", "127.0.0.1:9100", tally_ready, &tally,
                              errbuf, sizeof(errbuf))) == NULL) {
        log_error("%s", errbuf);
        goto out;
    }
    tally.handoff = handoff_start((size_t)config->log_queue, finish_batch, &tally);
    if (tally.handoff == NULL) {
        log_error("cannot start the MongoDB log thread: out of memory or threads");
        goto out;
    }
    tally.queue = rd_kafka_queue_get_consumer(tally.consumer);
    log_info("consuming %s as group %s; Redis %s:%d, MongoDB database %s", config->topic,
             config->group, config->redis_host, config->redis_port, config->mongo_db);

    code = 0;
    while (!service_stop_requested() && code == 0)
        code = process_batch(&tally) == 0 ? 0 : 1;

    log_info("stopping: logging the counted batches, then leaving the consumer group");

out:
    /* The metrics endpoint reads the consumer and the handoff, so it stops
     * first; the handoff commits through the consumer, so it stops before it. */
    http_server_stop(ops);
    handoff_stop(tally.handoff);
    tally.handoff = NULL;
    if (tally.queue != NULL)
        rd_kafka_queue_destroy(tally.queue);
    if (tally.consumer != NULL) {
        rd_kafka_consumer_close(tally.consumer);
        rd_kafka_destroy(tally.consumer);
    }
    tally_redis_free(tally.redis);
    tally_mongo_free(tally.mongo);
    free(tally.entries);
    free(tally.messages);
    free(tally.flags);
    return code;
}
