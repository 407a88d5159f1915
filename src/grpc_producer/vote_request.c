#include "vote_request.h"

#include <stdio.h>
#include <string.h>

const char *vote_request_to_vote(const Urna__V1__VoteRequest *request, struct vote *vote)
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
