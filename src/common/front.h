/* The HTTP front of a route: the first hop, identical for both routes so that
 * comparing them compares only the transport to the producer service. It
 * validates the ballot, assigns the vote id, forwards the vote, and answers
 * 202 only after the producer service reported Kafka's delivery. */
#ifndef URNA_FRONT_H
#define URNA_FRONT_H

#include "producer.h"
#include "vote.h"

/* Receives the outcome of a forwarded vote's delivery to Kafka. */
typedef void (*front_done_fn)(void *opaque, const struct producer_result *result);

/* Sends one vote to the route's producer service without waiting: done runs
 * exactly once with the outcome, on the client's own thread or, when the
 * vote cannot be sent, right away on the caller's. Called concurrently from
 * the HTTP threads. */
typedef void (*front_forward_fn)(void *ctx, const struct vote *vote, front_done_fn done,
                                 void *opaque);

struct front_route {
    const char *route;       /* "grpc" or "rest" */
    const char *service;     /* component name for logs and metrics */
    const char *listen_var;  /* the variable holding this front's listen address */
    const char *listen_default;
    front_forward_fn forward;
    void *forward_ctx;
    long hop_timeout_ms;     /* the forward reports an outcome within this */
    /* Stops the forward's threads and frees forward_ctx. front_run calls it
     * once no vote is in flight, before it closes the Redis connections
     * those threads opened. */
    void (*forward_close)(void *ctx);
};

/* Runs the front until SIGTERM: reads its configuration (URNA_CATALOG and the
 * HTTP limits), listens, then drains in-flight votes and closes the forward.
 * Returns the exit code. */
int front_run(const struct front_route *route);

#endif
