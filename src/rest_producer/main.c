/* urna-rest-producer: the HTTP/JSON producer service of the rest route.
 * POST /votes takes a vote record from the rest front, produces it to Kafka,
 * and responds 201 once the delivery report confirmed it, 503 otherwise. */
#include "config.h"
#include "http_server.h"
#include "log.h"
#include "metrics.h"
#include "producer.h"
#include "service.h"
#include "vote.h"

#include <jansson.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

struct rest_producer {
    struct producer *producer;
    struct metric_counter *delivered;
    struct metric_counter *failed;
    struct metric_histogram *delivery_seconds;
};

/* A record waiting for its delivery report, with what its response needs. */
struct pending_record {
    struct rest_producer *service;
    struct http_deferred *deferred;
    char id[37];
    double started;
};

static void respond_delivered(struct http_response *res, const char *id,
                              const struct producer_result *result)
{
    json_t *body = json_pack("{s:s, s:i, s:I}", "id", id, "partition", result->partition,
                             "offset", (json_int_t)result->offset);

    http_respond_json(res, 201, body != NULL ? json_dumps(body, JSON_COMPACT) : NULL);
    json_decref(body);
}

static void respond_undelivered(struct http_response *res, const struct producer_result *result)
{
    http_respond_error(res, 503, "kafka_unavailable", result->error, NULL);
    res->retry_after_s = 1;
}

/* Responds to a record once Kafka's delivery report arrived. Runs on the
 * producer's poll thread. */
static void on_delivery(void *opaque, const struct producer_result *result)
{
    struct pending_record *record = opaque;
    struct rest_producer *service = record->service;
    struct http_response res = {.status = 500};

    metric_observe(service->delivery_seconds, metrics_clock() - record->started);
    if (result->status != PRODUCER_DELIVERED) {
        metric_inc(service->failed);
        respond_undelivered(&res, result);
    } else {
        metric_inc(service->delivered);
        respond_delivered(&res, record->id, result);
    }
    http_deferred_respond(record->deferred, &res);
    free(record);
}

/* Produces one record; the response waits for its delivery report. */
static void handle_produce(struct rest_producer *service, const struct http_request *req,
                           struct http_response *res)
{
    struct pending_record *record;
    struct producer_result result;
    struct vote vote;

    if (strcmp(req->method, "POST") != 0) {
        http_respond_method_not_allowed(res, req, "POST");
        return;
    }
    if (req->body_too_large) {
        http_respond_too_large(res, req, HTTP_BODY_MAX_DEFAULT);
        return;
    }
    if (vote_record_parse(req->body, req->body_len, &vote) != 0 || strcmp(vote.route, "rest") != 0) {
        http_respond_error(res, 400, "invalid_record",
                           "the body must be a vote record with id, name, album, year, rank, route \"rest\" and received_at",
                           NULL);
        return;
    }

    record = malloc(sizeof(*record));
    if (record != NULL)
        record->deferred = http_request_defer(req);
    if (record == NULL || record->deferred == NULL) {
        free(record);
        metric_inc(service->failed);
        producer_result_fail(&result, PRODUCER_NOT_DELIVERED,
                             "out of memory in the rest producer; send the vote again in a moment");
        respond_undelivered(res, &result);
        return;
    }
    record->service = service;
    record->started = metrics_clock();
    memcpy(record->id, vote.id, sizeof(record->id));
    producer_send_async(service->producer, vote.id, req->body, req->body_len, on_delivery, record);
}

static void on_request(void *ctx, const struct http_request *req, struct http_response *res)
{
    if (strcmp(req->path, "/votes") == 0) {
        handle_produce(ctx, req, res);
    } else if (strcmp(req->path, "/healthz") == 0 || strcmp(req->path, "/readyz") == 0) {
        http_respond_json(res, 200, strdup("{\"status\":\"ok\"}"));
    } else if (strcmp(req->path, "/metrics") == 0) {
        res->status = 200;
        res->body = metrics_render();
        res->content_type = "text/plain; version=0.0.4";
    } else {
        http_respond_not_found(res, req);
    }
}

static double queue_depth(void *ctx)
{
    return producer_queue_depth(ctx);
}

static void register_metrics(struct rest_producer *service)
{
    service->delivered = metrics_counter("urna_producer_votes_total", "Votes produced, by outcome",
                                         "service=\"rest-producer\",outcome=\"delivered\"");
    service->failed = metrics_counter("urna_producer_votes_total", "Votes produced, by outcome",
                                      "service=\"rest-producer\",outcome=\"failed\"");
    service->delivery_seconds = metrics_histogram(
        "urna_request_duration_seconds", "Time to respond to a vote, by hop",
        "service=\"rest-producer\",route=\"rest\",hop=\"kafka_delivery\"");
    metrics_gauge("urna_producer_queue_depth", "Votes queued for Kafka and not yet confirmed",
                  "service=\"rest-producer\"", queue_depth, service->producer);
}

int main(void)
{
    struct rest_producer service = {0};
    struct producer_config kafka;
    struct http_server_options options;
    struct http_server *server;
    char errbuf[512], host[64];
    int port, left;

    if (config_init_logging("rest-producer", errbuf, sizeof(errbuf)) != 0 ||
        config_host_port("URNA_REST_PRODUCER_LISTEN", "127.0.0.1:8080", host, sizeof(host), &port,
                         errbuf, sizeof(errbuf)) != 0 ||
        http_server_options_from_env(&options, "rest-producer", errbuf, sizeof(errbuf)) != 0 ||
        http_server_options_pooled(&options, errbuf, sizeof(errbuf)) != 0 ||
        producer_config_from_env(&kafka, "urna-rest-producer", errbuf, sizeof(errbuf)) != 0) {
        fprintf(stderr, "rest-producer: %s\n", errbuf);
        return 1;
    }
    options.drain_ms = kafka.delivery_timeout_ms + 1000;
    service_install_signals();

    service.producer = producer_create(&kafka, errbuf, sizeof(errbuf));
    if (service.producer == NULL) {
        log_error("%s", errbuf);
        return 1;
    }
    register_metrics(&service);

    server = http_server_start(host, port, on_request, &service, &options, errbuf, sizeof(errbuf));
    if (server == NULL) {
        log_error("%s", errbuf);
        producer_destroy(service.producer, 1000);
        return 1;
    }
    log_info("listening on %s:%d, Kafka %s topic %s", host, port, kafka.brokers, kafka.topic);

    service_wait_for_stop();
    log_info("stopping: responding to the votes in flight");
    http_server_stop(server);
    left = producer_destroy(service.producer, (int)kafka.delivery_timeout_ms);
    log_info("stopped after %s", left == 0 ? "a clean drain" : "losing undelivered votes");
    return left == 0 ? 0 : 2;
}
