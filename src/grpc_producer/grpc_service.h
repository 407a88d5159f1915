/* The gRPC hop of the grpc route, server side: SubmitVote produces the vote
 * to Kafka and responds from the delivery report, without blocking a thread
 * per call. */
#ifndef URNA_GRPC_SERVICE_H
#define URNA_GRPC_SERVICE_H

#include "producer.h"

struct grpc_service;

/* Listens on host:port with threads completion-queue threads. Returns NULL
 * with errbuf filled. */
struct grpc_service *grpc_service_start(const char *listen, int threads,
                                        struct producer *producer, char *errbuf,
                                        size_t errlen);

/* Stops accepting calls, waits up to drain_ms for the calls in flight to be
 * responded to, cancels the rest, and frees. */
void grpc_service_stop(struct grpc_service *service, long drain_ms);

unsigned long grpc_service_calls(struct grpc_service *service);

#endif
