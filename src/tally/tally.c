#include "tally.h"

#include "config.h"
#include "http_server.h"
#include "log.h"
#include "metrics.h"
#include "ops_http.h"
#include "service.h"
#include "tally_mongo.h"
#include "tally_redis.h"
#include "vote_id.h"

#include <librdkafka/rdkafka.h>
#include <pthread.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>

#define BACKOFF_MAX_MS 5000

struct tally;

/* One consumer group reading the votes topic and the store it writes: the
 * count stage writes the Redis counters, the log stage the MongoDB log.
 * Each commits its own offsets after its own writes, so the counters never
 * wait for the slower log store, and Kafka keeps what the log stage has not
 * written yet. */
struct stage {
    struct tally *tally;
    const char *name;  /* "count" or "log", for logs and the lag metric */
    int (*write)(struct stage *stage, size_t count);
    rd_kafka_t *consumer;
    rd_kafka_queue_t *queue;
    pthread_t thread;
    int started;
    struct tally_entry *entries;
    unsigned char *flags; /* per entry of one partition: counted now or skipped */
    rd_kafka_message_t **messages;
};

struct tally {
    const struct tally_config *config;
    struct tally_redis *redis;
    struct tally_mongo *mongo;
    struct stage count;
    struct stage log;
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
        config_string("URNA_KAFKA_LOG_GROUP", "urna-tally-log", &config->log_group, errbuf,
                      errlen) ||
        config_long("URNA_TALLY_BATCH_MAX", 500, 1, 10000, &config->batch_max, errbuf, errlen) ||
        config_long("URNA_TALLY_BATCH_WAIT_MS", 50, 1, 10000, &config->batch_wait_ms, errbuf,
                    errlen) ||
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
    if (strcmp(config->group, config->log_group) == 0) {
        snprintf(errbuf, errlen,
                 "URNA_KAFKA_GROUP and URNA_KAFKA_LOG_GROUP are both \"%s\"; give them different names",
                 config->group);
        return -1;
    }
    return 0;
}

static void on_consumer_error(rd_kafka_t *rk, int err, const char *reason, void *opaque)
{
    (void)rk;
    (void)opaque;
    log_warn_limited("kafka: %s: %s", rd_kafka_err2name((rd_kafka_resp_err_t)err), reason);
}

/* Creates a consumer in group, not yet subscribed. */
static rd_kafka_t *new_consumer(const struct tally_config *config, const char *group,
                                char *errbuf, size_t errlen)
{
    rd_kafka_conf_t *conf = rd_kafka_conf_new();
    const char *settings[][2] = {
        {"bootstrap.servers", config->brokers},
        {"group.id", group},
        {"client.id", "urna-tally"},
        /* Offsets are committed by hand, after the stage's store has the batch. */
        {"enable.auto.commit", "false"},
        {"enable.auto.offset.store", "false"},
        {"auto.offset.reset", "earliest"},
        {"isolation.level", "read_committed"},
        /* Prefetch a few batches, not librdkafka's default of 64 MiB. The
         * prefetch is most of the tally's memory. Measured on two cores,
         * 512 KiB cut RSS from 45 to 36 MiB but left 82 % of the votes more
         * than 1 s behind, and 2 MiB counted all of them within 0.5 s. */
        {"queued.max.messages.kbytes", "2048"},
    };
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

    /* rd_kafka_new owns conf from here on when it succeeds. */
    rk = rd_kafka_new(RD_KAFKA_CONSUMER, conf, reason, sizeof(reason));
    if (rk == NULL) {
        snprintf(errbuf, errlen, "cannot create the Kafka consumer: %s", reason);
        rd_kafka_conf_destroy(conf);
        return NULL;
    }
    rd_kafka_poll_set_consumer(rk);
    return rk;
}

/* Creates a consumer in group subscribed to the votes topic. */
static rd_kafka_t *create_consumer(const struct tally_config *config, const char *group,
                                   char *errbuf, size_t errlen)
{
    rd_kafka_topic_partition_list_t *topics;
    rd_kafka_t *rk = new_consumer(config, group, errbuf, errlen);

    if (rk == NULL)
        return NULL;
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
 * errors are logged (by the count stage) and skipped. Returns the number of
 * entries. */
static size_t read_batch(struct stage *stage, ssize_t received)
{
    int counting = stage == &stage->tally->count;
    size_t count = 0;

    for (ssize_t i = 0; i < received; i++) {
        rd_kafka_message_t *message = stage->messages[i];
        struct tally_entry *entry = &stage->entries[count];

        if (message->err != RD_KAFKA_RESP_ERR_NO_ERROR) {
            if (message->err != RD_KAFKA_RESP_ERR__PARTITION_EOF)
                log_warn_limited("kafka consume (%s): %s", stage->name,
                                 rd_kafka_message_errstr(message));
            continue;
        }
        if (vote_record_parse(message->payload, message->len, &entry->vote) != 0) {
            if (counting) {
                metric_inc(stage->tally->malformed);
                log_error("skipping malformed record at partition %d offset %lld",
                          (int)message->partition, (long long)message->offset);
            }
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
 * them or a stop is requested. Returns 0 when written. */
static int log_batch(struct stage *stage, size_t count)
{
    struct tally *tally = stage->tally;
    char errbuf[512];
    double started;

    for (int attempt = 0; !service_stop_requested(); attempt++) {
        started = metrics_clock();
        if (tally_mongo_insert(tally->mongo, stage->entries, count, errbuf, sizeof(errbuf)) == 0) {
            metric_observe(tally->mongo_seconds, metrics_clock() - started);
            if (attempt > 0)
                log_info("MongoDB is back after %d retries", attempt);
            return 0;
        }
        log_warn("%s; not committing the log stage, retry %d", errbuf, attempt + 1);
        backoff(attempt);
    }
    return -1;
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
static int count_partition(struct stage *stage, const struct tally_entry *entries, size_t count)
{
    struct tally *tally = stage->tally;
    char errbuf[512];
    size_t counted = 0;
    double started;

    for (int attempt = 0; !service_stop_requested(); attempt++) {
        started = metrics_clock();
        if (tally_redis_apply_partition(tally->redis, tally->config->topic, entries, count,
                                        stage->flags, &counted, errbuf, sizeof(errbuf)) == 0) {
            metric_observe(tally->redis_seconds, metrics_clock() - started);
            if (counted < count)
                log_info("partition %d: %zu of %zu votes were counted before (redelivery)",
                         (int)entries[0].partition, count - counted, count);
            observe_counted(tally, entries, stage->flags, count);
            return 0;
        }
        log_warn("%s; not committing the count stage, retry %d", errbuf, attempt + 1);
        backoff(attempt);
    }
    return -1;
}

static int count_batch(struct stage *stage, size_t count)
{
    struct tally_entry *entries = stage->entries;
    size_t start = 0;

    metric_observe(stage->tally->batch_size, (double)count / 1000.0);
    qsort(entries, count, sizeof(*entries), compare_entries);
    while (start < count) {
        size_t end = start;

        while (end < count && entries[end].partition == entries[start].partition)
            end++;
        if (count_partition(stage, &entries[start], end - start) != 0)
            return -1;
        start = end;
    }
    return 0;
}

/* Commits, for each partition in the batch, the offset after its last message. */
static void commit_batch(struct stage *stage, ssize_t received)
{
    rd_kafka_topic_partition_list_t *offsets = rd_kafka_topic_partition_list_new((int)received);
    rd_kafka_resp_err_t err;

    for (ssize_t i = 0; i < received; i++) {
        const rd_kafka_message_t *message = stage->messages[i];
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

    err = offsets->cnt > 0 ? rd_kafka_commit(stage->consumer, offsets, 0)
                           : RD_KAFKA_RESP_ERR_NO_ERROR;
    if (err != RD_KAFKA_RESP_ERR_NO_ERROR)
        log_warn("%s stage: offset commit failed: %s; the batch will be redelivered and skipped",
                 stage->name, rd_kafka_err2str(err));
    rd_kafka_topic_partition_list_destroy(offsets);
}

/* One cycle of a stage: take a batch, write it to the stage's store, commit. */
static void process_batch(struct stage *stage)
{
    ssize_t received = rd_kafka_consume_batch_queue(
        stage->queue, (int)stage->tally->config->batch_wait_ms, stage->messages,
        (size_t)stage->tally->config->batch_max);
    size_t count;

    if (received <= 0)
        return;
    count = read_batch(stage, received);
    if (count == 0 || stage->write(stage, count) == 0)
        commit_batch(stage, received);

    for (ssize_t i = 0; i < received; i++)
        rd_kafka_message_destroy(stage->messages[i]);
}

static void *run_stage(void *arg)
{
    struct stage *stage = arg;

    while (!service_stop_requested())
        process_batch(stage);
    return NULL;
}

/* Emits, per stage and assigned partition, the messages not yet applied:
 * the partition's high watermark (as last fetched) minus the stage's
 * committed offset. A batch being retried (its store is down) still counts
 * as not applied, which the consumer's position would hide. */
static void report_stage_lag(struct stage *stage, metric_emit_fn emit, void *out)
{
    rd_kafka_topic_partition_list_t *assigned = NULL;
    char labels[96];

    if (stage->consumer == NULL || rd_kafka_assignment(stage->consumer, &assigned) != 0)
        return;
    if (rd_kafka_committed(stage->consumer, assigned, 1000) != RD_KAFKA_RESP_ERR_NO_ERROR) {
        rd_kafka_topic_partition_list_destroy(assigned);
        return;
    }
    for (int i = 0; i < assigned->cnt; i++) {
        const rd_kafka_topic_partition_t *part = &assigned->elems[i];
        int64_t low, high;

        if (rd_kafka_get_watermark_offsets(stage->consumer, part->topic, part->partition, &low,
                                           &high) != RD_KAFKA_RESP_ERR_NO_ERROR || high < 0)
            continue;
        snprintf(labels, sizeof(labels), "stage=\"%s\",partition=\"%d\"", stage->name,
                 (int)part->partition);
        emit(out, labels, (double)(part->offset >= 0 ? high - part->offset : high - low));
    }
    rd_kafka_topic_partition_list_destroy(assigned);
}

static void report_lag(void *ctx, metric_emit_fn emit, void *out)
{
    struct tally *tally = ctx;

    report_stage_lag(&tally->count, emit, out);
    report_stage_lag(&tally->log, emit, out);
}

static int tally_ready(void *ctx)
{
    struct tally *tally = ctx;

    return tally_redis_ping(tally->redis) && tally_mongo_ping(tally->mongo);
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
                                          "Votes per consumed batch of the count stage, in thousands",
                                          NULL);
    tally->redis_seconds = metrics_histogram("urna_tally_store_write_seconds",
                                             "Time to write one batch, by store", "store=\"redis\"");
    tally->mongo_seconds = metrics_histogram("urna_tally_store_write_seconds",
                                             "Time to write one batch, by store", "store=\"mongodb\"");
    tally->freshness = metrics_histogram("urna_tally_freshness_seconds",
                                         "Time from a vote's receipt to its count in Redis", NULL);
    metrics_gauge_family("urna_tally_consumer_lag",
                         "Messages of each assigned partition not yet applied, by stage",
                         report_lag, tally);
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

/* Allocates a stage's batch buffers and creates its consumer. */
static int stage_init(struct stage *stage, struct tally *tally, const char *name,
                      const char *group, int (*write)(struct stage *, size_t), char *errbuf,
                      size_t errlen)
{
    size_t batch_max = (size_t)tally->config->batch_max;

    stage->tally = tally;
    stage->name = name;
    stage->write = write;
    stage->entries = calloc(batch_max, sizeof(*stage->entries));
    stage->messages = calloc(batch_max, sizeof(*stage->messages));
    stage->flags = calloc(batch_max, sizeof(*stage->flags));
    if (stage->entries == NULL || stage->messages == NULL || stage->flags == NULL) {
        snprintf(errbuf, errlen, "out of memory for batches of %zu votes", batch_max);
        return -1;
    }
    stage->consumer = create_consumer(tally->config, group, errbuf, errlen);
    if (stage->consumer == NULL)
        return -1;
    stage->queue = rd_kafka_queue_get_consumer(stage->consumer);
    return 0;
}

static int stage_start(struct stage *stage, char *errbuf, size_t errlen)
{
    if (pthread_create(&stage->thread, NULL, run_stage, stage) != 0) {
        snprintf(errbuf, errlen, "cannot start the %s stage's thread", stage->name);
        return -1;
    }
    stage->started = 1;
    return 0;
}

/* Waits for the stage's thread, leaves its consumer group and frees. */
static void stage_close(struct stage *stage)
{
    if (stage->started)
        pthread_join(stage->thread, NULL);
    if (stage->queue != NULL)
        rd_kafka_queue_destroy(stage->queue);
    if (stage->consumer != NULL) {
        rd_kafka_consumer_close(stage->consumer);
        rd_kafka_destroy(stage->consumer);
    }
    free(stage->entries);
    free(stage->messages);
    free(stage->flags);
}

/* Lists every partition of the topic with its high watermark as the offset. */
static rd_kafka_topic_partition_list_t *end_offsets(rd_kafka_t *rk, const char *topic,
                                                    char *errbuf, size_t errlen)
{
    const struct rd_kafka_metadata *metadata = NULL;
    rd_kafka_topic_partition_list_t *offsets = NULL;
    rd_kafka_topic_t *handle = rd_kafka_topic_new(rk, topic, NULL);
    rd_kafka_resp_err_t err;
    int64_t low, high;

    err = rd_kafka_metadata(rk, 0, handle, &metadata, 10000);
    if (err != RD_KAFKA_RESP_ERR_NO_ERROR || metadata->topic_cnt != 1 ||
        metadata->topics[0].err != RD_KAFKA_RESP_ERR_NO_ERROR) {
        snprintf(errbuf, errlen, "cannot read the partitions of topic %s: %s; is Kafka up?",
                 topic, rd_kafka_err2str(err != RD_KAFKA_RESP_ERR_NO_ERROR ? err
                                         : metadata->topic_cnt == 1 ? metadata->topics[0].err
                                                                    : RD_KAFKA_RESP_ERR__UNKNOWN_TOPIC));
        goto out;
    }

    offsets = rd_kafka_topic_partition_list_new(metadata->topics[0].partition_cnt);
    for (int i = 0; i < metadata->topics[0].partition_cnt; i++) {
        int32_t partition = metadata->topics[0].partitions[i].id;

        err = rd_kafka_query_watermark_offsets(rk, topic, partition, &low, &high, 10000);
        if (err != RD_KAFKA_RESP_ERR_NO_ERROR) {
            snprintf(errbuf, errlen, "cannot read the end of %s partition %d: %s", topic,
                     (int)partition, rd_kafka_err2str(err));
            rd_kafka_topic_partition_list_destroy(offsets);
            offsets = NULL;
            goto out;
        }
        rd_kafka_topic_partition_list_add(offsets, topic, partition)->offset = high;
    }

out:
    if (metadata != NULL)
        rd_kafka_metadata_destroy(metadata);
    rd_kafka_topic_destroy(handle);
    return offsets;
}

/* Commits the end of the topic as the group's position. */
static int skip_group_to_end(const struct tally_config *config, const char *group, char *errbuf,
                             size_t errlen)
{
    rd_kafka_t *rk = new_consumer(config, group, errbuf, errlen);
    rd_kafka_topic_partition_list_t *offsets;
    rd_kafka_resp_err_t err;
    int rc = -1;

    if (rk == NULL)
        return -1;
    offsets = end_offsets(rk, config->topic, errbuf, errlen);
    if (offsets != NULL) {
        err = rd_kafka_commit(rk, offsets, 0);
        if (err == RD_KAFKA_RESP_ERR_NO_ERROR) {
            log_info("group %s now starts at the end of %s (%d partitions)", group,
                     config->topic, offsets->cnt);
            rc = 0;
        } else {
            snprintf(errbuf, errlen,
                     "cannot commit the end offsets of group %s: %s; stop every tally first",
                     group, rd_kafka_err2str(err));
        }
        rd_kafka_topic_partition_list_destroy(offsets);
    }
    rd_kafka_destroy(rk);
    return rc;
}

int tally_skip_to_end(const struct tally_config *config)
{
    char errbuf[512];

    if (skip_group_to_end(config, config->group, errbuf, sizeof(errbuf)) != 0 ||
        skip_group_to_end(config, config->log_group, errbuf, sizeof(errbuf)) != 0) {
        log_error("%s", errbuf);
        return 1;
    }
    return 0;
}

int tally_run(const struct tally_config *config)
{
    struct tally tally = {.config = config};
    struct http_server *ops = NULL;
    char errbuf[512];
    int code = 1;

    register_metrics(&tally);
    if (connect_stores(&tally, errbuf, sizeof(errbuf)) != 0 ||
        stage_init(&tally.count, &tally, "count", config->group, count_batch, errbuf,
                   sizeof(errbuf)) != 0 ||
        stage_init(&tally.log, &tally, "log", config->log_group, log_batch, errbuf,
                   sizeof(errbuf)) != 0 ||
        (ops = ops_http_start("tally", "URNA_TALLY_LISTEN", "127.0.0.1:9100", tally_ready, &tally,
                              errbuf, sizeof(errbuf))) == NULL ||
        stage_start(&tally.count, errbuf, sizeof(errbuf)) != 0 ||
        stage_start(&tally.log, errbuf, sizeof(errbuf)) != 0) {
        log_error("%s", errbuf);
        service_request_stop();
        goto out;
    }
    log_info("consuming %s as groups %s (Redis %s:%d) and %s (MongoDB database %s)",
             config->topic, config->group, config->redis_host, config->redis_port,
             config->log_group, config->mongo_db);

    service_wait_for_stop();
    log_info("stopping: finishing the current batches, then leaving the consumer groups");
    code = 0;

out:
    /* The metrics endpoint reads the consumers, so it stops first. */
    http_server_stop(ops);
    stage_close(&tally.count);
    stage_close(&tally.log);
    tally_redis_free(tally.redis);
    tally_mongo_free(tally.mongo);
    return code;
}
