/* GET /api/stream: Server-Sent Events of the tally and of each new vote log.
 *
 * One hub thread feeds every client. Once a second it reads the tally from
 * Redis and, when it changed, publishes an `event: results`. Every
 * STREAM_POLL_MS it tails MongoDB by counted_at, the time the tally wrote the
 * document, rather than by received_at: a vote received long ago can be
 * written late (a consumer catching up after an outage), and a tail by
 * received_at would skip it. Two tally instances do not write in counted_at
 * order either, so each poll looks STREAM_LOOKBACK_MS behind the newest
 * counted_at seen and drops the ids it already published. Each new vote goes
 * into a ring of recent events that clients read at their own pace.
 *
 * Every event carries `id: <epoch>.<position>.<counted_at>`: the process's
 * start time, the client's position in the ring, and the counted_at of the
 * last vote sent. A client that reconnects to the same process with
 * Last-Event-ID resumes from its position in the ring; a client of another
 * or a restarted process gets the votes counted since that counted_at
 * (minus the lookback) replayed from MongoDB, at most STREAM_REPLAY_MAX. A
 * resumed client may thus see a vote twice, never misses one within those
 * bounds, and the web app drops duplicates by id. */
#ifndef URNA_STREAM_H
#define URNA_STREAM_H

#include <stddef.h>
#include <stdint.h>
#include <sys/types.h>

#include "logs_mongo.h"
#include "results.h"

#define STREAM_POLL_MS 500
#define STREAM_RESULTS_MS 1000
#define STREAM_LOOKBACK_MS 2000
#define STREAM_RING_SIZE 4096    /* events kept for slow and resuming clients */
#define STREAM_POLL_MAX 5000     /* documents read per poll */
#define STREAM_REPLAY_MAX 500    /* documents replayed to a client from another process */
#define STREAM_KEEPALIVE_MS 5000 /* comment line sent when nothing else was */

struct stream_hub;
struct stream_client;

/* Starts the hub thread. Returns NULL with errbuf filled. */
struct stream_hub *stream_hub_start(struct logs_mongo *mongo, struct results_store *results,
                                    int max_clients, char *errbuf, size_t errlen);

/* Makes every client's stream end within STREAM_POLL_MS; call before
 * stopping the HTTP server so its connection threads can finish. */
void stream_hub_close_clients(struct stream_hub *hub);

/* Stops the hub thread and frees the hub; no client may remain. */
void stream_hub_stop(struct stream_hub *hub);

/* Returns the number of connected clients. */
int stream_hub_client_count(struct stream_hub *hub);

/* Registers a client that resumes after last_event_id (NULL for a new
 * client). Returns NULL when max_clients are connected. */
struct stream_client *stream_client_open(struct stream_hub *hub, const char *last_event_id);

/* The http_stream_read_fn of a client: blocks until it has events, a
 * keep-alive or the end of the stream to write. */
ssize_t stream_client_read(void *client, uint64_t pos, char *buf, size_t max);

/* The http_stream_free_fn of a client: unregisters and frees it. */
void stream_client_free(void *client);

/* Parses "<epoch>.<position>.<counted_at>" (decimal digits only). Returns 0,
 * or -1 on any other text. */
int stream_parse_event_id(const char *text, int64_t *epoch, uint64_t *position,
                          int64_t *counted_at_ms);

#endif
