/* The checks a front makes on a vote request before it touches Redis or the
 * next hop. They are apart from front.c so that the HTTP fuzz target runs
 * this same code without those servers. */
#ifndef URNA_FRONT_CHECK_H
#define URNA_FRONT_CHECK_H

#include <stddef.h>

#include "http_server.h"
#include "vote.h"

struct catalog;

/* Checks method, body size, content type, the ballot (against catalog when
 * it is not NULL) and the format of Idempotency-Key and the voter id.
 * Returns 0 with vote filled, or -1 with res filled with the rejection. */
int front_check_request(const struct http_request *req, const struct catalog *catalog,
                        size_t body_max, struct vote *vote, struct http_response *res);

/* Returns the request's voter id: the ballot's voter field, or else the
 * X-Voter-Id header; NULL when neither is given. */
const char *front_request_voter(const struct http_request *req, const struct vote *vote);

#endif
