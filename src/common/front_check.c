#include "front_check.h"

#include "idempotency.h"
#include "log.h"

#include <string.h>

/* Checks method, size, content type and the ballot itself. */
static int check_ballot(const struct http_request *req, const struct catalog *catalog,
                        size_t body_max, struct vote *vote, struct http_response *res)
{
    struct vote_error err;

    if (strcmp(req->method, "POST") != 0) {
        http_respond_method_not_allowed(res, req, "POST");
        return -1;
    }
    if (req->body_too_large) {
        http_respond_too_large(res, req, body_max);
        return -1;
    }
    if (!http_request_is_json(req)) {
        http_respond_not_json(res, req);
        return -1;
    }
    if (vote_parse_json(req->body, req->body_len, catalog, vote, &err) != VOTE_OK) {
        log_debug("rejected ballot: %s field=%s", vote_status_code(err.status),
                  err.field != NULL ? err.field : "-");
        http_respond_vote_error(res, req, &err);
        return -1;
    }
    return 0;
}

const char *front_request_voter(const struct http_request *req, const struct vote *vote)
{
    return vote->voter[0] != '\0' ? vote->voter : http_request_header(req, "X-Voter-Id");
}

/* Checks the format of Idempotency-Key and of the voter id. */
static int check_claim_format(const struct http_request *req, const struct vote *vote,
                              struct http_response *res)
{
    int english = http_request_lang(req) == VOTE_LANG_EN;
    const char *key = http_request_header(req, "Idempotency-Key");
    const char *voter = front_request_voter(req, vote);

    if (key != NULL && !idempotency_key_is_valid(key)) {
        http_respond_error(res, 400, "invalid_idempotency_key",
                           english ? "Idempotency-Key must have 1 to 128 printable ASCII characters, without spaces"
                                   : "Idempotency-Key debe tener de 1 a 128 caracteres ASCII imprimibles, sin espacios",
                           NULL);
        return -1;
    }
    if (voter != NULL && !idempotency_key_is_valid(voter)) {
        http_respond_error(res, 400, "invalid_voter",
                           english ? "X-Voter-Id must have 1 to 128 printable ASCII characters, without spaces"
                                   : "X-Voter-Id debe tener de 1 a 128 caracteres ASCII imprimibles, sin espacios",
                           NULL);
        return -1;
    }
    return 0;
}

int front_check_request(const struct http_request *req, const struct catalog *catalog,
                        size_t body_max, struct vote *vote, struct http_response *res)
{
    if (check_ballot(req, catalog, body_max, vote, res) != 0)
        return -1;
    return check_claim_format(req, vote, res);
}
