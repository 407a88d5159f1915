/* The tally: two consumer groups read the votes topic in batches, one
 * counting each vote in Redis and one logging it in MongoDB, and each commits
 * its offsets after its own writes. Delivery is at-least-once and both
 * writes skip what they applied before (offsets and vote ids in Redis, _id in
 * MongoDB), so every vote is counted and logged exactly once. */
#ifndef URNA_TALLY_H
#define URNA_TALLY_H

#include <stddef.h>

struct tally_config {
    const char *brokers;
    const char *topic;
    const char *group;     /* the count stage's consumer group */
    const char *log_group; /* the log stage's consumer group */
    long batch_max;
    long batch_wait_ms;
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

/* Moves both consumer groups to the end of the topic, so that a new round
 * does not read the votes of the last one. Run it while no tally runs.
 * Returns the process exit code. */
int tally_skip_to_end(const struct tally_config *config);

/* Consumes until SIGTERM; returns the process exit code. */
int tally_run(const struct tally_config *config);

#endif
