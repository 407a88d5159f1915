/* The tally: consumes votes from Kafka in batches, counts each one in Redis,
 * hands the batch to a second thread that logs it in MongoDB, and commits the
 * offsets once both are done. Delivery is at-least-once and both writes are
 * idempotent, so every vote is counted exactly once. */
#ifndef URNA_TALLY_H
#define URNA_TALLY_H

#include <stddef.h>

struct tally_config {
    const char *brokers;
    const char *topic;
    const char *group;
    long batch_max;
    long batch_wait_ms;
    long log_queue; /* counted batches that may wait for MongoDB */
    char redis_host[64];
    int redis_port;
    char redis_password[256];
    const char *redis_prefix;
    long dedup_window_s;
    const char *mongo_uri;
    const char *mongo_db;
};

/* Reads every URNA_* variable the tally uses. */
int tally_config_from_env(struct tally_config *config, char *errbuf, size_t errlen);

/* Consumes until SIGTERM; returns the process exit code. */
int tally_run(const struct tally_config *config);

#endif
