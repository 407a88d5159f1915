/* The gRPC hop of the grpc route, client side: one long-lived channel on
 * which every connection thread keeps its own call in flight. */
#ifndef URNA_GRPC_CLIENT_H
#define URNA_GRPC_CLIENT_H

#include "producer.h"
#include "vote.h"

#define GRPC_SUBMIT_VOTE_METHOD "/urna.v1.VoteService/SubmitVote"

struct grpc_client;

/* Opens the channel to target (host:port). deadline_ms bounds each call. */
struct grpc_client *grpc_client_create(const char *target, long deadline_ms);

void grpc_client_destroy(struct grpc_client *client);

/* Calls SubmitVote and waits for its answer; thread-safe. UNAVAILABLE,
 * DEADLINE_EXCEEDED and every other failure become PRODUCER_NOT_DELIVERED. */
void grpc_client_submit(void *client, const struct vote *vote, struct producer_result *result);

#endif
