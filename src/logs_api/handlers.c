/* The /api/ endpoints of urna-logs-api. */
#include "api.h"

#include "log.h"
#include "routes.h"
#include "text.h"
#include "vote_id.h"

#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#define SCRAPE_TIMEOUT_MS 1000

static const char *pick(const struct http_request *req, const char *es, const char *en)
{
    return http_request_lang(req) == VOTE_LANG_EN ? en : es;
}

/* Answers 503 when a store failed; the detail goes to the log only. */
static void respond_store_unavailable(struct logs_api *api, struct http_response *res,
                                      const struct http_request *req, const char *store,
                                      const char *detail)
{
    char message[200];

    metric_inc(api->store_errors);
    log_warn("%s %s: %s", req->method, req->path, detail);
    snprintf(message, sizeof(message),
             pick(req, "%s no responde; reintente en unos segundos",
                  "%s does not answer; retry in a few seconds"),
             store);
    http_respond_error(res, 503, "store_unavailable", message, NULL);
    res->retry_after_s = 1;
}

/* Collects query-string arguments for logs_query_parse; stops one past the
 * maximum so that too many arguments are detected. */
struct param_list {
    struct logs_param params[LOGS_PARAMS_MAX + 1];
    size_t count;
};

static int collect_param(void *ctx, const char *name, const char *value)
{
    struct param_list *list = ctx;

    list->params[list->count].name = name;
    list->params[list->count].value = value;
    list->count++;
    return list->count == LOGS_PARAMS_MAX + 1;
}

/* Rejects every query-string argument: the endpoint takes none. Returns 0
 * when there is none. The argument is named in field only when it is short,
 * printable UTF-8. */
static int reject_params(const struct http_request *req, struct http_response *res)
{
    struct param_list list = {.count = 0};
    const char *name;
    size_t len;

    http_request_query_each(req, collect_param, &list);
    if (list.count == 0)
        return 0;
    name = list.params[0].name;
    len = strlen(name);
    if (len == 0 || len > 40 || !text_is_utf8(name, len) || text_has_control(name))
        name = NULL;
    http_respond_error(res, 400, "unknown_parameter",
                       pick(req, "esta ruta no acepta parámetros", "this path takes no parameters"),
                       name);
    return -1;
}

void api_get_logs(struct logs_api *api, const struct http_request *req, struct http_response *res)
{
    struct param_list list = {.count = 0};
    struct logs_query_error err;
    struct logs_query query;
    char errbuf[512];
    json_t *page;

    http_request_query_each(req, collect_param, &list);
    if (logs_query_parse(list.params, list.count, http_request_lang(req), &query, &err) != 0) {
        log_debug("GET /api/logs rejected: %s (%s)", err.code, err.field);
        http_respond_error(res, 400, err.code, err.message, err.field[0] != '\0' ? err.field : NULL);
        return;
    }

    page = logs_mongo_page(api->mongo, &query, errbuf, sizeof(errbuf));
    if (page == NULL) {
        respond_store_unavailable(api, res, req, "MongoDB", errbuf);
        return;
    }
    http_respond_json(res, 200, json_dumps(page, API_JSON_FLAGS));
    json_decref(page);
}

void api_get_results(struct logs_api *api, const struct http_request *req,
                     struct http_response *res)
{
    struct results_snapshot snapshot;
    char errbuf[512];
    json_t *json;

    if (reject_params(req, res) != 0)
        return;
    if (results_store_read(api->results, vote_now_ms() / 1000, &snapshot, errbuf,
                           sizeof(errbuf)) != 0) {
        results_snapshot_free(&snapshot);
        respond_store_unavailable(api, res, req, "Redis", errbuf);
        return;
    }
    json = results_snapshot_json(&snapshot);
    results_snapshot_free(&snapshot);
    http_respond_json(res, 200, json != NULL ? json_dumps(json, API_JSON_FLAGS) : NULL);
    json_decref(json);
}

/* Scrapes one front and fills latency_ms from its hop="front" histogram.
 * The percentiles cover every request since that front started, and they
 * are bucket estimates (see routes_histogram_quantile), not measurements.
 * Returns whether the front answered with such a histogram. */
static int route_latency(const char *url, json_t **latency)
{
    struct routes_histogram histogram;
    char errbuf[256], *body;
    int found;

    body = routes_fetch_metrics(url, SCRAPE_TIMEOUT_MS, errbuf, sizeof(errbuf));
    if (body == NULL)
        log_debug("routes: %s", errbuf);
    found = body != NULL && routes_parse_histogram(body, "urna_request_duration_seconds",
                                                   "hop=\"front\"", &histogram) == 0;
    free(body);
    if (!found)
        memset(&histogram, 0, sizeof(histogram));
    *latency = json_pack("{s:f, s:f, s:f}", "p50", routes_histogram_quantile(&histogram, 0.5) * 1000,
                         "p90", routes_histogram_quantile(&histogram, 0.9) * 1000, "p99",
                         routes_histogram_quantile(&histogram, 0.99) * 1000);
    return found;
}

void api_get_routes(struct logs_api *api, const struct http_request *req,
                    struct http_response *res)
{
    struct results_snapshot snapshot;
    json_t *routes = json_array(), *body;
    char errbuf[512];

    if (reject_params(req, res) != 0) {
        json_decref(routes);
        return;
    }
    if (results_store_read(api->results, vote_now_ms() / 1000, &snapshot, errbuf,
                           sizeof(errbuf)) != 0) {
        results_snapshot_free(&snapshot);
        json_decref(routes);
        respond_store_unavailable(api, res, req, "Redis", errbuf);
        return;
    }

    for (int r = 0; r < RESULTS_ROUTE_COUNT; r++) {
        json_t *latency = NULL;
        int available = route_latency(api->config->metrics_urls[r], &latency);

        json_array_append_new(routes, json_pack("{s:s, s:I, s:f, s:o, s:b}", "route",
                                                results_routes[r], "acknowledged",
                                                (json_int_t)snapshot.by_route[r], "rate",
                                                snapshot.rate[r], "latency_ms", latency,
                                                "latency_available", available));
    }
    results_snapshot_free(&snapshot);
    body = json_pack("{s:o}", "routes", routes);
    http_respond_json(res, 200, body != NULL ? json_dumps(body, API_JSON_FLAGS) : NULL);
    json_decref(body);
}

void api_get_stream(struct logs_api *api, const struct http_request *req,
                    struct http_response *res)
{
    struct stream_client *client;
    char message[200];

    if (reject_params(req, res) != 0)
        return;
    client = stream_client_open(api->hub, http_request_header(req, "Last-Event-ID"));
    if (client == NULL) {
        metric_inc(api->sse_rejected);
        snprintf(message, sizeof(message),
                 pick(req, "hay %ld clientes del flujo en vivo conectados, el máximo; reintente más tarde",
                      "%ld live-stream clients are connected, the maximum; retry later"),
                 api->config->sse_max_clients);
        http_respond_error(res, 503, "too_many_clients", message, NULL);
        res->retry_after_s = 5;
        return;
    }
    res->status = 200;
    res->content_type = "text/event-stream; charset=utf-8";
    http_response_add_header(res, "Cache-Control", "no-cache");
    /* nginx must pass each event on instead of buffering the response. */
    http_response_add_header(res, "X-Accel-Buffering", "no");
    res->stream_read = stream_client_read;
    res->stream_free = stream_client_free;
    res->stream_ctx = client;
}
