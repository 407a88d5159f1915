/* The logs API's MongoDB side: pages of vote logs and the newest logs for
 * the stream, through a pool of clients shared by the connection threads. */
#ifndef URNA_LOGS_MONGO_H
#define URNA_LOGS_MONGO_H

#include <bson/bson.h>
#include <jansson.h>
#include <stddef.h>
#include <stdint.h>

#include "logs_query.h"

struct logs_mongo;

/* Creates the client pool for uri and database and ensures the indexes the
 * queries sort on. Returns NULL with errbuf filled. */
struct logs_mongo *logs_mongo_connect(const char *uri, const char *database, char *errbuf,
                                      size_t errlen);

void logs_mongo_free(struct logs_mongo *mongo);

/* Returns non-zero when the server answers ping. */
int logs_mongo_ping(struct logs_mongo *mongo);

/* Reads one page for query, newest first, as {"items": [...], "next_cursor":
 * text or null}. Returns a new reference, or NULL with errbuf filled. */
json_t *logs_mongo_page(struct logs_mongo *mongo, const struct logs_query *query, char *errbuf,
                        size_t errlen);

/* Called for each document of logs_mongo_counted_since, oldest first. */
typedef void (*logs_visit_fn)(void *ctx, const bson_t *document);

/* Visits up to limit documents whose counted_at is at or after since_ms, in
 * (counted_at, _id) order. Returns the number visited, or -1 with errbuf
 * filled. */
long logs_mongo_counted_since(struct logs_mongo *mongo, int64_t since_ms, long limit,
                              logs_visit_fn visit, void *ctx, char *errbuf, size_t errlen);

#endif
