/* libFuzzer target for the gRPC producer's request decoding: arbitrary bytes
 * as a VoteRequest message, then the producer's own checks (vote_request_to_vote
 * in src/grpc_producer/vote_request.c). A request that passes them is what the
 * producer serializes with vote_record_to_json and puts on Kafka, so the
 * record must be written and must read back unchanged. */
#include "fuzz_invariants.h"
#include "vote.h"
#include "vote.pb-c.h"
#include "vote_request.h"

#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
    Urna__V1__VoteRequest *request = urna__v1__vote_request__unpack(NULL, size, data);
    struct vote vote;

    if (request == NULL)
        return 0;
    FUZZ_REQUIRE(request->id != NULL && request->name != NULL && request->album != NULL,
                 "a decoded VoteRequest has a NULL string");

    /* The producer replies RESOURCE_EXHAUSTED "out of memory" whenever
     * vote_record_to_json fails, so an accepted request must serialize. */
    if (vote_request_to_vote(request, &vote) == NULL)
        fuzz_check_record_round_trip(&vote);

    urna__v1__vote_request__free_unpacked(request, NULL);
    return 0;
}
