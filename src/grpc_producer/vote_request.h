/* The gRPC producer's reading of a VoteRequest, apart from grpc_service.c so
 * that the gRPC fuzz target runs this same code without gRPC. */
#ifndef URNA_VOTE_REQUEST_H
#define URNA_VOTE_REQUEST_H

#include "vote.h"
#include "vote.pb-c.h"

/* Copies a decoded VoteRequest into vote (route "grpc") and checks it with
 * vote_check_record. Returns NULL, or a message saying what is wrong. */
const char *vote_request_to_vote(const Urna__V1__VoteRequest *request, struct vote *vote);

#endif
