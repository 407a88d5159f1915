#include "producer.h"

#include "config.h"
#include "log.h"

#include <errno.h>
#include <librdkafka/rdkafka.h>
#include <pthread.h>
#include <stdatomic.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>

struct producer {
    struct producer_config config;
    pthread_rwlock_t lock; /* writers only when replacing rk after a fatal error */
    rd_kafka_t *rk;
    pthread_t poll_thread;
    atomic_int stopping;
    atomic_int fatal;
    atomic_ulong restarts;
};

/* The per-message opaque that the delivery report hands back. */
struct delivery {
    producer_done_fn done;
    void *opaque;
};

int producer_config_from_env(struct producer_config *config, const char *client_id,
                             char *errbuf, size_t errlen)
{
    config->client_id = client_id;
    if (config_string("URNA_KAFKA_BROKERS", "127.0.0.1:9092", &config->brokers, errbuf,
                      errlen) != 0 ||
        config_string("URNA_KAFKA_TOPIC", "votes", &config->topic, errbuf, errlen) != 0 ||
        config_long("URNA_DELIVERY_TIMEOUT_MS", 5000, 100, 300000,
                    &config->delivery_timeout_ms, errbuf, errlen) != 0 ||
        config_long("URNA_KAFKA_LINGER_MS", 2, 0, 1000, &config->linger_ms, errbuf,
                    errlen) != 0)
        return -1;
    return 0;
}

void producer_result_fail(struct producer_result *result, enum producer_status status,
                          const char *reason)
{
    result->status = status;
    result->partition = -1;
    result->offset = -1;
    snprintf(result->error, sizeof(result->error), "%s", reason);
}

/* Handles the delivery report (the broker's result for one message) on the poll thread. */
static void on_delivery(rd_kafka_t *rk, const rd_kafka_message_t *message, void *opaque)
{
    struct delivery *delivery = message->_private;
    struct producer_result result;

    (void)rk;
    (void)opaque;
    if (message->err == RD_KAFKA_RESP_ERR_NO_ERROR) {
        result.status = PRODUCER_DELIVERED;
        result.partition = message->partition;
        result.offset = message->offset;
        result.error[0] = '\0';
    } else {
        /* A timed-out message may still have reached the broker: the vote
         * then carries an id the client never saw acknowledged. */
        producer_result_fail(&result, PRODUCER_NOT_DELIVERED, rd_kafka_err2str(message->err));
        log_warn_limited("delivery failed: %s (status %s)", rd_kafka_err2str(message->err),
                 rd_kafka_message_status(message) == RD_KAFKA_MSG_STATUS_POSSIBLY_PERSISTED
                     ? "possibly persisted"
                     : "not persisted");
    }
    delivery->done(delivery->opaque, &result);
    free(delivery);
}

static void on_error(rd_kafka_t *rk, int err, const char *reason, void *opaque)
{
    struct producer *producer = opaque;

    (void)rk;
    if (err == RD_KAFKA_RESP_ERR__FATAL) {
        char fatal_reason[256];

        rd_kafka_fatal_error(rk, fatal_reason, sizeof(fatal_reason));
        log_error("kafka producer fatal error: %s; recreating the producer", fatal_reason);
        atomic_store(&producer->fatal, 1);
        return;
    }
    log_warn_limited("kafka: %s: %s", rd_kafka_err2name((rd_kafka_resp_err_t)err), reason);
}

static int set_conf(rd_kafka_conf_t *conf, const char *name, const char *value, char *errbuf,
                    size_t errlen)
{
    char reason[256];

    if (rd_kafka_conf_set(conf, name, value, reason, sizeof(reason)) != RD_KAFKA_CONF_OK) {
        snprintf(errbuf, errlen, "kafka setting %s=%s rejected: %s", name, value, reason);
        return -1;
    }
    return 0;
}

static rd_kafka_t *create_rk(struct producer *producer, char *errbuf, size_t errlen)
{
    const struct producer_config *config = &producer->config;
    rd_kafka_conf_t *conf = rd_kafka_conf_new();
    char timeout[32], linger[32], reason[256];
    rd_kafka_t *rk;

    snprintf(timeout, sizeof(timeout), "%ld", config->delivery_timeout_ms);
    snprintf(linger, sizeof(linger), "%ld", config->linger_ms);
    if (set_conf(conf, "bootstrap.servers", config->brokers, errbuf, errlen) != 0 ||
        set_conf(conf, "client.id", config->client_id, errbuf, errlen) != 0 ||
        set_conf(conf, "enable.idempotence", "true", errbuf, errlen) != 0 ||
        set_conf(conf, "acks", "all", errbuf, errlen) != 0 ||
        set_conf(conf, "message.timeout.ms", timeout, errbuf, errlen) != 0 ||
        set_conf(conf, "linger.ms", linger, errbuf, errlen) != 0 ||
        set_conf(conf, "compression.type", "lz4", errbuf, errlen) != 0) {
        rd_kafka_conf_destroy(conf);
        return NULL;
    }
    rd_kafka_conf_set_dr_msg_cb(conf, on_delivery);
    rd_kafka_conf_set_error_cb(conf, on_error);
    rd_kafka_conf_set_opaque(conf, producer);

    /* rd_kafka_new owns conf from here on when it succeeds. */
    rk = rd_kafka_new(RD_KAFKA_PRODUCER, conf, reason, sizeof(reason));
    if (rk == NULL) {
        snprintf(errbuf, errlen, "cannot create the Kafka producer: %s", reason);
        rd_kafka_conf_destroy(conf);
    }
    return rk;
}

/* Flushes and destroys rk; returns how many messages stayed undelivered. */
static int close_rk(rd_kafka_t *rk, int timeout_ms)
{
    int left;

    if (rd_kafka_flush(rk, timeout_ms) != RD_KAFKA_RESP_ERR_NO_ERROR)
        log_warn("kafka flush timed out after %d ms", timeout_ms);
    /* Purging makes librdkafka emit a failed delivery report for each
     * message still queued, so every waiting client gets a response. */
    rd_kafka_purge(rk, RD_KAFKA_PURGE_F_QUEUE | RD_KAFKA_PURGE_F_INFLIGHT);
    rd_kafka_poll(rk, 0);
    left = rd_kafka_outq_len(rk);
    rd_kafka_destroy(rk);
    return left;
}

/* Replaces a producer that hit a fatal idempotence error: stops new sends,
 * fails what the old one holds, and starts a fresh one. */
static void recreate_after_fatal(struct producer *producer)
{
    char errbuf[256];
    rd_kafka_t *fresh = create_rk(producer, errbuf, sizeof(errbuf));
    int left;

    if (fresh == NULL) {
        log_error("%s; retrying in 1 s", errbuf);
        return;
    }
    pthread_rwlock_wrlock(&producer->lock);
    left = close_rk(producer->rk, 2000);
    producer->rk = fresh;
    atomic_store(&producer->fatal, 0);
    atomic_fetch_add(&producer->restarts, 1);
    pthread_rwlock_unlock(&producer->lock);
    log_warn("kafka producer recreated; %d messages were left undelivered", left);
}

static void *poll_loop(void *arg)
{
    struct producer *producer = arg;

    while (!atomic_load(&producer->stopping)) {
        if (atomic_load(&producer->fatal)) {
            recreate_after_fatal(producer);
            if (atomic_load(&producer->fatal)) {
                struct timespec pause = {1, 0};
                nanosleep(&pause, NULL);
            }
            continue;
        }
        pthread_rwlock_rdlock(&producer->lock);
        rd_kafka_poll(producer->rk, 50);
        pthread_rwlock_unlock(&producer->lock);
    }
    return NULL;
}

struct producer *producer_create(const struct producer_config *config, char *errbuf,
                                 size_t errlen)
{
    struct producer *producer = calloc(1, sizeof(*producer));

    if (producer == NULL) {
        snprintf(errbuf, errlen, "out of memory");
        return NULL;
    }
    producer->config = *config;
    pthread_rwlock_init(&producer->lock, NULL);

    producer->rk = create_rk(producer, errbuf, errlen);
    if (producer->rk == NULL)
        goto fail;
    if (pthread_create(&producer->poll_thread, NULL, poll_loop, producer) != 0) {
        snprintf(errbuf, errlen, "cannot start the Kafka poll thread");
        rd_kafka_destroy(producer->rk);
        goto fail;
    }
    return producer;

fail:
    pthread_rwlock_destroy(&producer->lock);
    free(producer);
    return NULL;
}

void producer_send_async(struct producer *producer, const char *key, const char *payload,
                         size_t len, producer_done_fn done, void *opaque)
{
    struct delivery *delivery = malloc(sizeof(*delivery));
    struct producer_result result;
    rd_kafka_resp_err_t err;

    if (delivery == NULL) {
        producer_result_fail(&result, PRODUCER_QUEUE_FULL, "out of memory");
        done(opaque, &result);
        return;
    }
    if (atomic_load(&producer->stopping)) {
        free(delivery);
        producer_result_fail(&result, PRODUCER_STOPPING, "the service is shutting down");
        done(opaque, &result);
        return;
    }
    delivery->done = done;
    delivery->opaque = opaque;

    pthread_rwlock_rdlock(&producer->lock);
    err = rd_kafka_producev(producer->rk, RD_KAFKA_V_TOPIC(producer->config.topic),
                            RD_KAFKA_V_KEY(key, strlen(key)),
                            RD_KAFKA_V_VALUE((void *)payload, len),
                            RD_KAFKA_V_MSGFLAGS(RD_KAFKA_MSG_F_COPY),
                            RD_KAFKA_V_OPAQUE(delivery), RD_KAFKA_V_END);
    pthread_rwlock_unlock(&producer->lock);

    if (err != RD_KAFKA_RESP_ERR_NO_ERROR) {
        free(delivery);
        producer_result_fail(&result,
                     err == RD_KAFKA_RESP_ERR__QUEUE_FULL ? PRODUCER_QUEUE_FULL
                                                          : PRODUCER_NOT_DELIVERED,
                     rd_kafka_err2str(err));
        done(opaque, &result);
    }
}

/* A blocking caller's side of one delivery. Two owners (the caller and the
 * delivery report); the last one to let go frees it. */
struct waiter {
    pthread_mutex_t mutex;
    pthread_cond_t cond;
    int finished;
    int owners;
    struct producer_result result;
};

static void waiter_release(struct waiter *waiter)
{
    int last;

    pthread_mutex_lock(&waiter->mutex);
    last = --waiter->owners == 0;
    pthread_mutex_unlock(&waiter->mutex);
    if (last) {
        pthread_cond_destroy(&waiter->cond);
        pthread_mutex_destroy(&waiter->mutex);
        free(waiter);
    }
}

static void on_wait_done(void *opaque, const struct producer_result *result)
{
    struct waiter *waiter = opaque;

    pthread_mutex_lock(&waiter->mutex);
    waiter->result = *result;
    waiter->finished = 1;
    pthread_cond_signal(&waiter->cond);
    pthread_mutex_unlock(&waiter->mutex);
    waiter_release(waiter);
}

void producer_send_wait(struct producer *producer, const char *key, const char *payload,
                        size_t len, struct producer_result *result)
{
    struct waiter *waiter = calloc(1, sizeof(*waiter));
    struct timespec deadline;

    if (waiter == NULL) {
        producer_result_fail(result, PRODUCER_QUEUE_FULL, "out of memory");
        return;
    }
    pthread_mutex_init(&waiter->mutex, NULL);
    pthread_cond_init(&waiter->cond, NULL);
    waiter->owners = 2;

    producer_send_async(producer, key, payload, len, on_wait_done, waiter);

    /* message.timeout.ms bounds the report; the extra second covers a
     * producer being recreated meanwhile. */
    clock_gettime(CLOCK_REALTIME, &deadline);
    deadline.tv_sec += producer->config.delivery_timeout_ms / 1000 + 2;
    pthread_mutex_lock(&waiter->mutex);
    while (!waiter->finished) {
        if (pthread_cond_timedwait(&waiter->cond, &waiter->mutex, &deadline) == ETIMEDOUT)
            break;
    }
    if (waiter->finished)
        *result = waiter->result;
    else
        producer_result_fail(result, PRODUCER_NOT_DELIVERED, "no delivery report in time");
    pthread_mutex_unlock(&waiter->mutex);
    waiter_release(waiter);
}

int producer_queue_depth(struct producer *producer)
{
    int depth;

    pthread_rwlock_rdlock(&producer->lock);
    depth = rd_kafka_outq_len(producer->rk);
    pthread_rwlock_unlock(&producer->lock);
    return depth;
}

unsigned long producer_restarts(struct producer *producer)
{
    return atomic_load(&producer->restarts);
}

int producer_destroy(struct producer *producer, int timeout_ms)
{
    int left;

    if (producer == NULL)
        return 0;
    atomic_store(&producer->stopping, 1);
    pthread_join(producer->poll_thread, NULL);

    left = close_rk(producer->rk, timeout_ms);
    if (left > 0)
        log_error("%d votes were left undelivered at shutdown; their clients got an error", left);
    else
        log_info("kafka producer flushed; every queued vote was delivered or reported failed");
    pthread_rwlock_destroy(&producer->lock);
    free(producer);
    return left;
}
