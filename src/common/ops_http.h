/* The operations endpoint of a service whose main protocol is not HTTP:
 * GET /healthz, /readyz and /metrics on a port of its own. */
#ifndef URNA_OPS_HTTP_H
#define URNA_OPS_HTTP_H

#include <stddef.h>

struct http_server;

/* Returns non-zero when the service can do its work (its stores answer). */
typedef int (*ops_ready_fn)(void *ctx);

/* Listens on the address in listen_var (or listen_default). ready may be NULL,
 * in which case /readyz matches /healthz. Returns NULL with errbuf filled. */
struct http_server *ops_http_start(const char *service, const char *listen_var,
                                   const char *listen_default, ops_ready_fn ready, void *ctx,
                                   char *errbuf, size_t errlen);

#endif
