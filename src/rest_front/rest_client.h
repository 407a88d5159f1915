/* The HTTP/JSON hop of the rest route, client side: one thread drives every
 * vote in flight through libcurl's multi interface over a pool of keep-alive
 * connections to the producer service. */
#ifndef URNA_REST_CLIENT_H
#define URNA_REST_CLIENT_H

#include "front.h"
#include "producer.h"
#include "vote.h"

struct rest_client;

/* base_url is the producer service, e.g. http://127.0.0.1:8080; at most
 * connections requests are in flight to it, the rest wait their turn.
 * Returns NULL when libcurl or a thread cannot be set up. */
struct rest_client *rest_client_create(const char *base_url, long timeout_ms, long connections);

/* Finishes the transfers in flight, stops the thread and frees. */
void rest_client_destroy(struct rest_client *client);

/* rest_client_destroy for front_route.forward_close. */
void rest_client_close(void *client);

/* POSTs the vote record to base_url/votes; a front_forward_fn. done runs on
 * the client's thread: 201 is delivered, anything else (503, a refused
 * connection, the timeout) is not. */
void rest_client_submit(void *client, const struct vote *vote, front_done_fn done, void *opaque);

#endif
