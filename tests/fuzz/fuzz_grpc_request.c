/* libFuzzer target for the gRPC producer's request decoding: arbitrary bytes
 * as a VoteRequest message, then the checks of read_request in
 * src/grpc_producer/grpc_service.c. A request that passes them is what the
 * producer serializes with vote_record_to_json and puts on Kafka, so the
 * record must be written and must read back unchanged. */
#include "fuzz_invariants.h"
#include "vote.h"
#include "vote.pb-c.h"

#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

/* Mirrors read_request in grpc_service.c, which is static there: returns NULL
 * with vote filled, or what is wrong with the request. Keep the two in step. */
static const char *check_request(const Urna__V1__VoteRequest *request, struct vote *vote)
{
    if (strlen(request->id) > VOTE_ID_LEN || strlen(request->name) > VOTE_TEXT_MAX ||
        strlen(request->album) > VOTE_TEXT_MAX)
        return "id, name or album is too long";

    memset(vote, 0, sizeof(*vote));
    snprintf(vote->id, sizeof(vote->id), "%s", request->id);
    snprintf(vote->name, sizeof(vote->name), "%s", request->name);
    snprintf(vote->album, sizeof(vote->album), "%s", request->album);
    snprintf(vote->route, sizeof(vote->route), "grpc");
    vote->year = request->year;
    vote->rank = request->rank;
    vote->received_at_ms = request->received_at_ms;
    return vote_check_record(vote);
}

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
    if (check_request(request, &vote) == NULL)
        fuzz_check_record_round_trip(&vote);

    urna__v1__vote_request__free_unpacked(request, NULL);
    return 0;
}
