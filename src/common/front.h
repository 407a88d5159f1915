/* The HTTP front of a route: the first hop, identical for both routes so that
 * comparing them compares only the transport to the producer service. It
 * validates the ballot, assigns the vote id, forwards the vote, and answers
 * 202 only after the producer service reported Kafka's delivery. */
#ifndef URNA_FRONT_H
#define URNA_FRONT_H

#include "producer.h"
#include "vote.h"

/* Sends one vote to the route's producer service and waits for the outcome
 * of its delivery to Kafka. Called concurrently from connection threads. */
typedef void (*front_forward_fn)(void *ctx, const struct vote *vote,
                                 struct producer_result *result);

struct front_route {
    const char *route;       /* "grpc" or "rest" */
    const char *service;     /* component name for logs and metrics */
    const char *listen_var;  /* the variable holding this front's listen address */
    const char *listen_default;
    front_forward_fn forward;
    void *forward_ctx;
};

/* Runs the front until SIGTERM: reads its configuration (URNA_CATALOG and the
 * HTTP limits), listens, then drains in-flight votes. Returns the exit code. */
int front_run(const struct front_route *route);

#endif
