/* urna-logs-api's configuration, request routing and CORS. */
#include "api.h"

#include "config.h"
#include "log.h"

#include <stdio.h>
#include <stdlib.h>
#include <string.h>

int logs_api_config_from_env(struct logs_api_config *config, char *errbuf, size_t errlen)
{
    if (config_host_port("URNA_LOGS_API_LISTEN", "127.0.0.1:5000", config->host,
                         sizeof(config->host), &config->port, errbuf, errlen) ||
        config_host_port("URNA_REDIS_ADDR", "127.0.0.1:6379", config->redis_host,
                         sizeof(config->redis_host), &config->redis_port, errbuf, errlen) ||
        config_secret("URNA_REDIS_PASSWORD", config_is_production(), config->redis_password,
                      sizeof(config->redis_password), errbuf, errlen) ||
        config_string("URNA_REDIS_PREFIX", "urna:", &config->redis_prefix, errbuf, errlen) ||
        config_string("URNA_MONGO_URI", "mongodb://127.0.0.1:27017", &config->mongo_uri, errbuf,
                      errlen) ||
        config_string("URNA_MONGO_DB", "urna", &config->mongo_db, errbuf, errlen) ||
        config_check_mongo_uri(config->mongo_uri, errbuf, errlen) ||
        config_string("URNA_CORS_ORIGIN", "http://127.0.0.1:8088", &config->cors_origin, errbuf,
                      errlen) ||
        config_long("URNA_SSE_MAX_CLIENTS", 200, 1, 10000, &config->sse_max_clients, errbuf,
                    errlen) ||
        config_string("URNA_GRPC_FRONT_METRICS_URL", "http://127.0.0.1:3000/metrics",
                      &config->metrics_urls[0], errbuf, errlen) ||
        config_string("URNA_REST_FRONT_METRICS_URL", "http://127.0.0.1:8000/metrics",
                      &config->metrics_urls[1], errbuf, errlen))
        return -1;
    return 0;
}

/* Allows the configured origin, and only it, to read the responses from a
 * browser; other origins get no Access-Control-Allow-Origin at all. */
static void add_cors_headers(const struct logs_api *api, const struct http_request *req,
                             struct http_response *res)
{
    const char *origin = http_request_header(req, "Origin");

    http_response_add_header(res, "Vary", "Origin");
    if (origin != NULL && strcmp(origin, api->config->cors_origin) == 0)
        http_response_add_header(res, "Access-Control-Allow-Origin", api->config->cors_origin);
}

/* Answers a CORS preflight; the headers listed are those the web app and
 * EventSource send. */
static void respond_preflight(struct http_response *res)
{
    res->status = 204;
    res->content_type = "text/plain";
    http_response_add_header(res, "Access-Control-Allow-Methods", "GET, OPTIONS");
    http_response_add_header(res, "Access-Control-Allow-Headers",
                             "Accept, Accept-Language, Cache-Control, Last-Event-ID");
    http_response_add_header(res, "Access-Control-Max-Age", "600");
}

static void respond_not_found(struct http_response *res, const struct http_request *req)
{
    http_respond_error(res, 404, "not_found",
                       http_request_lang(req) == VOTE_LANG_EN
                           ? "no such path; the API serves GET /api/logs, /api/results, /api/routes and /api/stream"
                           : "la ruta no existe; la API ofrece GET /api/logs, /api/results, /api/routes y /api/stream",
                       NULL);
}

static void handle_ops(struct logs_api *api, const struct http_request *req,
                       struct http_response *res)
{
    int redis_ok, mongo_ok;
    char message[160];

    if (strcmp(req->path, "/healthz") == 0) {
        http_respond_json(res, 200, strdup("{\"status\":\"ok\"}"));
        return;
    }
    if (strcmp(req->path, "/metrics") == 0) {
        res->status = 200;
        res->body = metrics_render();
        res->content_type = "text/plain; version=0.0.4";
        return;
    }

    redis_ok = results_store_ping(api->results);
    mongo_ok = logs_mongo_ping(api->mongo);
    if (redis_ok && mongo_ok) {
        http_respond_json(res, 200, strdup("{\"status\":\"ready\"}"));
        return;
    }
    snprintf(message, sizeof(message), "%s%s%s does not answer", !redis_ok ? "Redis" : "",
             !redis_ok && !mongo_ok ? " and " : "", !mongo_ok ? "MongoDB" : "");
    http_respond_error(res, 503, "not_ready", message, NULL);
}

/* Returns the endpoint of an /api/ path, or -1. */
static int find_endpoint(const char *path)
{
    static const char *const paths[API_ENDPOINT_COUNT] = {"/api/logs", "/api/results",
                                                          "/api/routes", "/api/stream"};

    for (int i = 0; i < API_ENDPOINT_COUNT; i++) {
        if (strcmp(path, paths[i]) == 0)
            return i;
    }
    return -1;
}

static void handle_api(struct logs_api *api, int endpoint, const struct http_request *req,
                       struct http_response *res)
{
    double started = metrics_clock();

    add_cors_headers(api, req, res);
    if (strcmp(req->method, "OPTIONS") == 0) {
        respond_preflight(res);
        return;
    }
    if (strcmp(req->method, "GET") != 0) {
        http_respond_method_not_allowed(res, req, "GET, OPTIONS");
        return;
    }

    if (endpoint == API_LOGS)
        api_get_logs(api, req, res);
    else if (endpoint == API_RESULTS)
        api_get_results(api, req, res);
    else if (endpoint == API_ROUTES)
        api_get_routes(api, req, res);
    else
        api_get_stream(api, req, res);
    /* For the stream this is the time to open it, not its lifetime. */
    metric_observe(api->seconds[endpoint], metrics_clock() - started);
}

void logs_api_handle(void *ctx, const struct http_request *req, struct http_response *res)
{
    struct logs_api *api = ctx;
    int endpoint = find_endpoint(req->path);

    if (endpoint >= 0) {
        handle_api(api, endpoint, req, res);
    } else if (strcmp(req->path, "/healthz") == 0 || strcmp(req->path, "/readyz") == 0 ||
               strcmp(req->path, "/metrics") == 0) {
        if (strcmp(req->method, "GET") != 0)
            http_respond_method_not_allowed(res, req, "GET");
        else
            handle_ops(api, req, res);
    } else {
        respond_not_found(res, req);
    }
}
