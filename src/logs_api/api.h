/* urna-logs-api's shared state and the handlers of its endpoints. */
#ifndef URNA_LOGS_API_H
#define URNA_LOGS_API_H

#include "http_server.h"
#include "logs_mongo.h"
#include "metrics.h"
#include "results.h"
#include "stream.h"

struct logs_api_config {
    char host[64];
    int port;
    char redis_host[64];
    int redis_port;
    char redis_password[256];
    const char *redis_prefix;
    const char *mongo_uri;
    const char *mongo_db;
    const char *cors_origin;
    long sse_max_clients;
    const char *metrics_urls[RESULTS_ROUTE_COUNT]; /* per results_routes entry */
};

/* Endpoints with their own latency histogram, in metrics order. */
enum api_endpoint { API_LOGS, API_RESULTS, API_ROUTES, API_STREAM, API_ENDPOINT_COUNT };

struct logs_api {
    const struct logs_api_config *config;
    struct logs_mongo *mongo;
    struct results_store *results;
    struct stream_hub *hub;
    struct metric_histogram *seconds[API_ENDPOINT_COUNT];
    struct metric_counter *store_errors;
    struct metric_counter *sse_rejected;
};

/* Reads every URNA_* variable the service uses. Returns 0, or -1 with errbuf
 * filled. */
int logs_api_config_from_env(struct logs_api_config *config, char *errbuf, size_t errlen);

/* Answers one request; the http_handler_fn of the service. */
void logs_api_handle(void *ctx, const struct http_request *req, struct http_response *res);

/* Handlers of the /api/ endpoints (handlers.c); each may assume a GET whose
 * query string was not yet checked. */
void api_get_logs(struct logs_api *api, const struct http_request *req, struct http_response *res);
void api_get_results(struct logs_api *api, const struct http_request *req,
                     struct http_response *res);
void api_get_routes(struct logs_api *api, const struct http_request *req,
                    struct http_response *res);
void api_get_stream(struct logs_api *api, const struct http_request *req,
                    struct http_response *res);

#endif
