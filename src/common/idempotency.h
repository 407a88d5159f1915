/* Client retries and the per-voter rule, kept in Redis so that they hold
 * across routes and front instances. A request carrying an Idempotency-Key
 * keeps the vote id of its first attempt; the tally counts each id once. */
#ifndef URNA_IDEMPOTENCY_H
#define URNA_IDEMPOTENCY_H

#include <stddef.h>
#include <stdint.h>

struct idempotency;

enum idempotency_status {
    IDEMPOTENCY_NEW,         /* first time: send the vote with the given id */
    IDEMPOTENCY_RETRY,       /* seen, not yet confirmed: send again with the stored id */
    IDEMPOTENCY_DELIVERED,   /* seen and confirmed: respond 202 with the stored id */
    IDEMPOTENCY_MISMATCH,    /* the key was used for a different ballot */
    IDEMPOTENCY_VOTER_LIMIT, /* the voter already cast the allowed number of votes */
    IDEMPOTENCY_UNAVAILABLE, /* Redis did not respond: the guarantee cannot be kept */
};

struct idempotency_config {
    char host[64];
    int port;
    char password[256];
    const char *prefix;
    long window_s;        /* how long keys are remembered */
    long votes_per_voter; /* 0: no per-voter rule */
};

/* Reads URNA_REDIS_ADDR, URNA_REDIS_PASSWORD, URNA_REDIS_PREFIX,
 * URNA_IDEMPOTENCY_WINDOW_S (default 86400) and URNA_VOTES_PER_VOTER. */
int idempotency_config_from_env(struct idempotency_config *config, char *errbuf, size_t errlen);

/* Connections are opened lazily, one per calling thread. */
struct idempotency *idempotency_create(const struct idempotency_config *config);

void idempotency_free(struct idempotency *idempotency);

/* Returns non-zero when a request with this key or voter must go through
 * idempotency_claim (otherwise no Redis round trip is needed). */
int idempotency_needed(const struct idempotency *idempotency, const char *key, const char *voter);

/* Claims key (may be NULL) for the ballot whose hash is ballot_hash, and
 * counts one vote for voter (may be NULL). id contains the new vote's id and
 * receives the stored id for RETRY, DELIVERED and MISMATCH. */
enum idempotency_status idempotency_claim(struct idempotency *idempotency, const char *key,
                                          uint64_t ballot_hash, const char *voter, char id[37]);

/* Records that the vote of key was confirmed by Kafka, so that later retries
 * get a response without sending it again. */
void idempotency_mark_delivered(struct idempotency *idempotency, const char *key,
                                uint64_t ballot_hash, const char id[37]);

/* Gives a voter's vote back when it was not delivered and no key will retry it. */
void idempotency_release_voter(struct idempotency *idempotency, const char *voter);

/* Returns non-zero when key is 1 to 128 printable ASCII characters. */
int idempotency_key_is_valid(const char *key);

/* FNV-1a over the ballot's bytes. */
uint64_t idempotency_hash(const char *data, size_t len);

#endif
