/* urna-logs-api: the read side for people. GET /api/logs pages through the
 * vote logs in MongoDB, /api/results and /api/routes read the tally in Redis
 * and the fronts' metrics, and /api/stream pushes both live as Server-Sent
 * Events. */
#include "api.h"

#include "config.h"
#include "log.h"
#include "service.h"

#include <curl/curl.h>
#include <mongoc/mongoc.h>
#include <stdio.h>
#include <string.h>

static double sse_clients(void *ctx)
{
    return stream_hub_client_count(ctx);
}

static void register_metrics(struct logs_api *api)
{
    static const char *const labels[API_ENDPOINT_COUNT] = {
        "service=\"logs-api\",endpoint=\"/api/logs\"",
        "service=\"logs-api\",endpoint=\"/api/results\"",
        "service=\"logs-api\",endpoint=\"/api/routes\"",
        "service=\"logs-api\",endpoint=\"/api/stream\""};

    for (int i = 0; i < API_ENDPOINT_COUNT; i++)
        api->seconds[i] = metrics_histogram("urna_api_request_duration_seconds",
                                            "Time to respond to an API request, by endpoint",
                                            labels[i]);
    api->store_errors = metrics_counter("urna_api_store_errors_total",
                                        "API requests answered 503 because Redis or MongoDB failed",
                                        "service=\"logs-api\"");
    api->sse_rejected = metrics_counter("urna_api_sse_rejected_total",
                                        "Stream clients rejected at URNA_SSE_MAX_CLIENTS",
                                        "service=\"logs-api\"");
    metrics_gauge("urna_api_sse_clients", "Connected stream clients", "service=\"logs-api\"",
                  sse_clients, api->hub);
}

/* Opens the stores and the stream hub; returns 0, or -1 with errbuf filled. */
static int open_stores(struct logs_api *api, const struct logs_api_config *config, char *errbuf,
                       size_t errlen)
{
    api->mongo = logs_mongo_connect(config->mongo_uri, config->mongo_db, errbuf, errlen);
    if (api->mongo == NULL)
        return -1;
    api->results = results_store_new(config->redis_host, config->redis_port,
                                     config->redis_password, config->redis_prefix, 32);
    if (api->results == NULL) {
        snprintf(errbuf, errlen, "out of memory for the Redis pool");
        return -1;
    }
    api->hub = stream_hub_start(api->mongo, api->results, (int)config->sse_max_clients, errbuf,
                                errlen);
    return api->hub != NULL ? 0 : -1;
}

static void close_stores(struct logs_api *api)
{
    stream_hub_stop(api->hub);
    results_store_free(api->results);
    logs_mongo_free(api->mongo);
}

int main(void)
{
    struct logs_api_config config = {0};
    struct logs_api api = {.config = &config};
    struct http_server_options options;
    struct http_server *server;
    char errbuf[512];

    if (config_init_logging("logs-api", errbuf, sizeof(errbuf)) != 0 ||
        logs_api_config_from_env(&config, errbuf, sizeof(errbuf)) != 0 ||
        http_server_options_from_env(&options, "logs-api", errbuf, sizeof(errbuf)) != 0) {
        fprintf(stderr, "logs-api: %s\n", errbuf);
        return 1;
    }
    service_install_signals();
    mongoc_init();
    curl_global_init(CURL_GLOBAL_DEFAULT);

    if (open_stores(&api, &config, errbuf, sizeof(errbuf)) != 0) {
        log_error("%s", errbuf);
        close_stores(&api);
        mongoc_cleanup();
        curl_global_cleanup();
        return 1;
    }
    register_metrics(&api);

    server = http_server_start(config.host, config.port, logs_api_handle, &api, &options, errbuf,
                               sizeof(errbuf));
    if (server == NULL) {
        log_error("%s", errbuf);
        close_stores(&api);
        mongoc_cleanup();
        curl_global_cleanup();
        return 1;
    }
    log_info("listening on %s:%d, MongoDB database %s, CORS origin %s, at most %ld stream clients",
             config.host, config.port, config.mongo_db, config.cors_origin,
             config.sse_max_clients);

    service_wait_for_stop();
    log_info("stopping: closing %d stream clients", stream_hub_client_count(api.hub));
    stream_hub_close_clients(api.hub);
    http_server_stop(server);
    close_stores(&api);
    mongoc_cleanup();
    curl_global_cleanup();
    log_info("stopped");
    return 0;
}
