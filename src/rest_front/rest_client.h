/* The HTTP/JSON hop of the rest route, client side: each connection thread
 * keeps one keep-alive connection to the producer service and reuses it. */
#ifndef URNA_REST_CLIENT_H
#define URNA_REST_CLIENT_H

#include "producer.h"
#include "vote.h"

struct rest_client;

/* base_url is the producer service, e.g. http://127.0.0.1:8080. */
struct rest_client *rest_client_create(const char *base_url, long timeout_ms);

void rest_client_destroy(struct rest_client *client);

/* POSTs the vote record to base_url/votes and waits for the answer:
 * 201 is delivered, anything else (503, a refused connection) is not. */
void rest_client_submit(void *client, const struct vote *vote, struct producer_result *result);

#endif
