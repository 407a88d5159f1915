/* The tally's Redis side: real-time counters, applied once per Kafka offset. */
#ifndef URNA_TALLY_REDIS_H
#define URNA_TALLY_REDIS_H

#include <stddef.h>
#include <stdint.h>

#include "vote.h"

struct tally_redis;

/* One counted vote and where it came from. */
struct tally_entry {
    struct vote vote;
    int32_t partition;
    int64_t offset;
};

/* Connects to host:port, authenticates when password is not empty, and loads
 * the counting script. Counted vote ids are remembered for dedup_window_s.
 * Returns NULL with errbuf filled. */
struct tally_redis *tally_redis_connect(const char *host, int port, const char *password,
                                        const char *prefix, long dedup_window_s, char *errbuf,
                                        size_t errlen);

void tally_redis_free(struct tally_redis *redis);

/* Applies the entries of one partition (ascending offsets) in one atomic
 * script run: offsets at or below the stored applied offset of that
 * partition are skipped, so a redelivered batch changes nothing, and so are
 * vote ids counted before. Sets flags[i] to 1 for each entry counted
 * now and 0 for each skipped, and stores their number in counted. Returns 0, or -1 with errbuf
 * filled (the connection is then dropped and reopened on the next call). */
int tally_redis_apply_partition(struct tally_redis *redis, const char *topic,
                                const struct tally_entry *entries, size_t count,
                                unsigned char *flags, size_t *counted, char *errbuf,
                                size_t errlen);

/* Returns non-zero when Redis responds to PING. */
int tally_redis_ping(struct tally_redis *redis);

/* The album field of the by_album hashes: ["band","album",year]. Returns a
 * malloc'd string. */
char *tally_album_field(const char *band, const char *album, int year);

#endif
