#include "front.h"

#include "catalog.h"
#include "config.h"
#include "http_server.h"
#include "log.h"
#include "metrics.h"
#include "service.h"
#include "vote_id.h"

#include <jansson.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

/* Statuses a front answers, each with its own request counter. */
static const int front_statuses[] = {202, 400, 404, 405, 413, 415, 422, 500, 503};
#define FRONT_STATUS_COUNT (sizeof(front_statuses) / sizeof(front_statuses[0]))

struct front {
    const struct front_route *route;
    struct catalog *catalog;
    size_t body_max;
    char vote_path[32];
    struct metric_counter *requests[FRONT_STATUS_COUNT];
    struct metric_histogram *front_seconds;
    struct metric_histogram *hop_seconds;
};

static void count_status(struct front *front, int status)
{
    for (size_t i = 0; i < FRONT_STATUS_COUNT; i++) {
        if (front_statuses[i] == status) {
            metric_inc(front->requests[i]);
            return;
        }
    }
}

static void register_metrics(struct front *front)
{
    const char *service = front->route->service;
    const char *route = front->route->route;
    char labels[160];

    for (size_t i = 0; i < FRONT_STATUS_COUNT; i++) {
        snprintf(labels, sizeof(labels), "service=\"%s\",route=\"%s\",status=\"%d\"", service,
                 route, front_statuses[i]);
        front->requests[i] = metrics_counter("urna_http_requests_total",
                                             "HTTP requests answered, by status", strdup(labels));
    }
    snprintf(labels, sizeof(labels), "service=\"%s\",route=\"%s\",hop=\"front\"", service, route);
    front->front_seconds = metrics_histogram("urna_request_duration_seconds",
                                             "Time to answer a vote, by hop", strdup(labels));
    snprintf(labels, sizeof(labels), "service=\"%s\",route=\"%s\",hop=\"%s\"", service, route,
             route);
    front->hop_seconds = metrics_histogram("urna_request_duration_seconds",
                                           "Time to answer a vote, by hop", strdup(labels));
}

static void respond_accepted(struct http_response *res, const struct vote *vote)
{
    json_t *body = json_pack("{s:s, s:s}", "id", vote->id, "route", vote->route);

    http_respond_json(res, 202, body != NULL ? json_dumps(body, JSON_COMPACT) : NULL);
    json_decref(body);
}

static void respond_unavailable(struct http_response *res, const struct http_request *req)
{
    int english = http_request_lang(req) == VOTE_LANG_EN;

    http_respond_error(res, 503, "kafka_unavailable",
                       english ? "the vote was not confirmed by the queue in time and was not counted; send it again in a moment"
                               : "la cola no confirmó el voto a tiempo y no se contó; envíelo de nuevo en un momento",
                       NULL);
    res->retry_after_s = 1;
}

/* Checks method, size, content type and the ballot itself; returns 0 with
 * vote filled, or -1 with res filled with the rejection. */
static int accept_ballot(struct front *front, const struct http_request *req,
                         struct http_response *res, struct vote *vote)
{
    struct vote_error err;

    if (strcmp(req->method, "POST") != 0) {
        http_respond_method_not_allowed(res, req, "POST");
        return -1;
    }
    if (req->body_too_large) {
        http_respond_too_large(res, req, front->body_max);
        return -1;
    }
    if (!http_request_is_json(req)) {
        http_respond_not_json(res, req);
        return -1;
    }
    if (vote_parse_json(req->body, req->body_len, front->catalog, vote, &err) != VOTE_OK) {
        log_debug("rejected ballot: %s field=%s", vote_status_code(err.status),
                  err.field != NULL ? err.field : "-");
        http_respond_vote_error(res, req, &err);
        return -1;
    }
    return 0;
}

/* Validates, stamps and forwards one ballot; fills res with the answer. */
static void handle_vote(struct front *front, const struct http_request *req,
                        struct http_response *res)
{
    struct vote vote;
    struct producer_result result;
    double started;

    if (accept_ballot(front, req, res, &vote) != 0)
        return;

    vote.received_at_ms = vote_now_ms();
    snprintf(vote.route, sizeof(vote.route), "%s", front->route->route);
    if (vote_id_generate(vote.received_at_ms, vote.id) != 0) {
        log_error("cannot generate a vote id: the kernel's random source failed");
        http_respond_error(res, 500, "internal", "internal error", NULL);
        return;
    }

    started = metrics_clock();
    front->route->forward(front->route->forward_ctx, &vote, &result);
    metric_observe(front->hop_seconds, metrics_clock() - started);

    if (result.status != PRODUCER_DELIVERED) {
        log_warn("vote %s not confirmed by Kafka: %s", vote.id, result.error);
        respond_unavailable(res, req);
        return;
    }
    log_debug("vote %s delivered to partition %d offset %lld", vote.id, (int)result.partition,
              (long long)result.offset);
    respond_accepted(res, &vote);
}

static void on_request(void *ctx, const struct http_request *req, struct http_response *res)
{
    struct front *front = ctx;
    double started = metrics_clock();

    if (strcmp(req->path, front->vote_path) == 0) {
        handle_vote(front, req, res);
        metric_observe(front->front_seconds, metrics_clock() - started);
    } else if (strcmp(req->path, "/healthz") == 0 || strcmp(req->path, "/readyz") == 0) {
        http_respond_json(res, 200, strdup("{\"status\":\"ok\"}"));
    } else if (strcmp(req->path, "/metrics") == 0) {
        res->status = 200;
        res->body = metrics_render();
        res->content_type = "text/plain; version=0.0.4";
    } else {
        http_respond_not_found(res, req);
    }
    count_status(front, res->status);
}

static int load_catalog(struct front *front, char *errbuf, size_t errlen)
{
    const char *path;

    if (config_string("URNA_CATALOG", "", &path, errbuf, errlen) != 0)
        return -1;
    if (path[0] == '\0') {
        log_info("URNA_CATALOG is empty: any band and album are accepted");
        return 0;
    }
    front->catalog = catalog_load(path, errbuf, errlen);
    if (front->catalog == NULL)
        return -1;
    log_info("catalog %s loaded: %zu albums", path, catalog_album_count(front->catalog));
    return 0;
}

int front_run(const struct front_route *route)
{
    struct front front = {.route = route};
    struct http_server_options options;
    struct http_server *server;
    char errbuf[512], host[64];
    int port;

    snprintf(front.vote_path, sizeof(front.vote_path), "/%s/vote", route->route);
    if (http_server_options_from_env(&options, route->service, errbuf, sizeof(errbuf)) != 0 ||
        config_host_port(route->listen_var, route->listen_default, host, sizeof(host), &port,
                         errbuf, sizeof(errbuf)) != 0 ||
        load_catalog(&front, errbuf, sizeof(errbuf)) != 0) {
        log_error("%s", errbuf);
        return 1;
    }
    front.body_max = options.body_max;
    service_install_signals();
    register_metrics(&front);

    server = http_server_start(host, port, on_request, &front, &options, errbuf, sizeof(errbuf));
    if (server == NULL) {
        log_error("%s", errbuf);
        catalog_free(front.catalog);
        return 1;
    }
    log_info("listening on %s:%d, votes at POST %s", host, port, front.vote_path);

    service_wait_for_stop();
    log_info("stopping: answering the votes in flight");
    http_server_stop(server);
    catalog_free(front.catalog);
    log_info("stopped");
    return 0;
}
