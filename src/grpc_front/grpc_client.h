/* The gRPC hop of the grpc route, client side: one long-lived channel on
 * which every vote in flight is its own asynchronous call, and one thread
 * that reads the replies from a completion queue. */
#ifndef URNA_GRPC_CLIENT_H
#define URNA_GRPC_CLIENT_H

#include "front.h"
#include "producer.h"
#include "vote.h"

#define GRPC_SUBMIT_VOTE_METHOD "/urna.v1.VoteService/SubmitVote"

struct grpc_client;

/* Opens the channel to target (host:port) and starts the completion thread.
 * deadline_ms bounds each call. Returns NULL when a resource is missing. */
struct grpc_client *grpc_client_create(const char *target, long deadline_ms);

/* Stops the completion thread and closes the channel; call it once no vote
 * is in flight. */
void grpc_client_destroy(struct grpc_client *client);

/* grpc_client_destroy for front_route.forward_close. */
void grpc_client_close(void *client);

/* Starts a SubmitVote call; a front_forward_fn. done runs on the completion
 * thread with the reply. UNAVAILABLE, DEADLINE_EXCEEDED and every other
 * failure become PRODUCER_NOT_DELIVERED. */
void grpc_client_submit(void *client, const struct vote *vote, front_done_fn done, void *opaque);

#endif
