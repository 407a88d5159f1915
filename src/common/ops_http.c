#include "ops_http.h"

#include "config.h"
#include "http_server.h"
#include "metrics.h"

#include <stdlib.h>
#include <string.h>

struct ops_http {
    ops_ready_fn ready;
    void *ctx;
};

static void on_request(void *ctx, const struct http_request *req, struct http_response *res)
{
    struct ops_http *ops = ctx;

    if (strcmp(req->path, "/healthz") == 0) {
        http_respond_json(res, 200, strdup("{\"status\":\"ok\"}"));
    } else if (strcmp(req->path, "/readyz") == 0) {
        if (ops->ready == NULL || ops->ready(ops->ctx))
            http_respond_json(res, 200, strdup("{\"status\":\"ready\"}"));
        else
            http_respond_error(res, 503, "not_ready", "a store this service needs does not answer",
                               NULL);
    } else if (strcmp(req->path, "/metrics") == 0) {
        res->status = 200;
        res->body = metrics_render();
        res->content_type = "text/plain; version=0.0.4";
    } else {
        http_respond_not_found(res, req);
    }
}

struct http_server *ops_http_start(const char *service, const char *listen_var,
                                   const char *listen_default, ops_ready_fn ready, void *ctx,
                                   char *errbuf, size_t errlen)
{
    static struct ops_http ops; /* one operations endpoint per process */
    struct http_server_options options = {
        .body_max = 1024, .max_connections = 64, .timeout_s = 10, .name = service};
    char host[64];
    int port;

    if (config_host_port(listen_var, listen_default, host, sizeof(host), &port, errbuf,
                         errlen) != 0)
        return NULL;
    ops.ready = ready;
    ops.ctx = ctx;
    return http_server_start(host, port, on_request, &ops, &options, errbuf, errlen);
}
