/* Hands batches from the tally's counting thread to a second thread that
 * finishes them in order (logs them in MongoDB and commits their offsets),
 * so the live counters do not wait for the slower log store. The queue is
 * bounded: when the log store falls behind by that much, counting waits. */
#ifndef URNA_HANDOFF_H
#define URNA_HANDOFF_H

#include <stddef.h>

struct handoff;

/* Finishes one batch on the handoff's thread; it owns the batch from here. */
typedef void (*handoff_fn)(void *ctx, void *batch);

/* Starts the thread. capacity is the number of batches that may wait.
 * Returns NULL when memory or a thread is missing. */
struct handoff *handoff_start(size_t capacity, handoff_fn finish, void *ctx);

/* Queues a batch that contains the given number of votes; waits while the
 * queue is full. */
void handoff_push(struct handoff *handoff, void *batch, size_t votes);

/* Votes queued or being finished: how far the log store is behind. */
size_t handoff_pending_votes(struct handoff *handoff);

/* Waits until every queued batch is finished. */
void handoff_wait_idle(struct handoff *handoff);

/* Finishes every queued batch, stops the thread and frees. */
void handoff_stop(struct handoff *handoff);

#endif
