/* The Kafka producer every route's last hop uses: idempotent, acks=all, and a
 * vote counts as delivered only when its delivery report confirms it. */
#ifndef URNA_PRODUCER_H
#define URNA_PRODUCER_H

#include <stddef.h>
#include <stdint.h>

struct producer;

struct producer_config {
    const char *brokers;
    const char *topic;
    long delivery_timeout_ms; /* message.timeout.ms: the delivery report comes by then */
    long linger_ms;
    const char *client_id;
};

enum producer_status {
    PRODUCER_DELIVERED = 0,
    PRODUCER_QUEUE_FULL,   /* the local queue is full: the broker is slow or away */
    PRODUCER_NOT_DELIVERED, /* the delivery report carried an error or timed out */
    PRODUCER_STOPPING,
};

struct producer_result {
    enum producer_status status;
    int32_t partition;
    int64_t offset;
    char error[128]; /* the broker's or librdkafka's reason when not delivered */
};

/* Called once per vote on the producer's poll thread when the delivery report
 * arrives (or the send fails). Must not block. */
typedef void (*producer_done_fn)(void *opaque, const struct producer_result *result);

/* Fills result as a failure with status (not PRODUCER_DELIVERED) and reason. */
void producer_result_fail(struct producer_result *result, enum producer_status status,
                          const char *reason);

/* Reads URNA_KAFKA_BROKERS, URNA_KAFKA_TOPIC, URNA_DELIVERY_TIMEOUT_MS and
 * URNA_KAFKA_LINGER_MS. */
int producer_config_from_env(struct producer_config *config, const char *client_id,
                             char *errbuf, size_t errlen);

/* Creates the producer and its poll thread. Returns NULL with errbuf filled. */
struct producer *producer_create(const struct producer_config *config, char *errbuf,
                                 size_t errlen);

/* Queues one record; done runs exactly once, later on the poll thread, or
 * right now on this thread when queueing fails. */
void producer_send_async(struct producer *producer, const char *key, const char *payload,
                         size_t len, producer_done_fn done, void *opaque);

/* Queues one record and blocks until its delivery report. */
void producer_send_wait(struct producer *producer, const char *key, const char *payload,
                        size_t len, struct producer_result *result);

/* Messages queued locally and not yet acknowledged by the broker. */
int producer_queue_depth(struct producer *producer);

/* Recreations after a fatal error of the idempotent producer. */
unsigned long producer_restarts(struct producer *producer);

/* Flushes for up to timeout_ms, logs what stayed undelivered, and frees.
 * Returns the number of undelivered messages. */
int producer_destroy(struct producer *producer, int timeout_ms);

#endif
