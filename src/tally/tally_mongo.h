/* The tally's MongoDB side: one log document per vote. */
#ifndef URNA_TALLY_MONGO_H
#define URNA_TALLY_MONGO_H

#include <stddef.h>

#include "tally_redis.h"

struct tally_mongo;

/* Connects to uri and ensures the newest-first index on received_at.
 * Returns NULL with errbuf filled. */
struct tally_mongo *tally_mongo_connect(const char *uri, const char *database,
                                        char *errbuf, size_t errlen);

void tally_mongo_free(struct tally_mongo *mongo);

/* Inserts one document per entry, unordered; a duplicate _id (the vote was
 * logged before a redelivery) counts as success. Returns 0, or -1 with
 * errbuf filled. */
int tally_mongo_insert(struct tally_mongo *mongo, const struct tally_entry *entries,
                       size_t count, char *errbuf, size_t errlen);

/* Returns non-zero when the server responds to ping. */
int tally_mongo_ping(struct tally_mongo *mongo);

#endif
