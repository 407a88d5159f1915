#include "front.h"

#include "catalog.h"
#include "config.h"
#include "front_check.h"
#include "http_server.h"
#include "idempotency.h"
#include "log.h"
#include "metrics.h"
#include "service.h"
#include "vote_id.h"

#include <jansson.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

/* The statuses a front returns, each with its own request counter. */
static const int front_statuses[] = {202, 400, 404, 405, 409, 413, 415, 422, 500, 503};
#define FRONT_STATUS_COUNT (sizeof(front_statuses) / sizeof(front_statuses[0]))

struct front {
    const struct front_route *route;
    struct catalog *catalog;
    struct idempotency *idempotency;
    size_t body_max;
    long idempotency_limit;
    char vote_path[32];
    struct metric_counter *requests[FRONT_STATUS_COUNT];
    struct metric_counter *acknowledged;
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
                                             "HTTP requests responded to, by status", strdup(labels));
    }
    snprintf(labels, sizeof(labels), "route=\"%s\"", route);
    front->acknowledged = metrics_counter("urna_votes_acknowledged_total",
                                          "Votes confirmed by Kafka and acknowledged with 202 for the first time",
                                          strdup(labels));
    snprintf(labels, sizeof(labels), "service=\"%s\",route=\"%s\",hop=\"front\"", service, route);
    front->front_seconds = metrics_histogram("urna_request_duration_seconds",
                                             "Time to respond to a vote, by hop", strdup(labels));
    snprintf(labels, sizeof(labels), "service=\"%s\",route=\"%s\",hop=\"%s\"", service, route,
             route);
    front->hop_seconds = metrics_histogram("urna_request_duration_seconds",
                                           "Time to respond to a vote, by hop", strdup(labels));
}

static void respond_accepted(struct http_response *res, const struct vote *vote)
{
    json_t *body = json_pack("{s:s, s:s}", "id", vote->id, "route", vote->route);

    http_respond_json(res, 202, body != NULL ? json_dumps(body, JSON_COMPACT) : NULL);
    json_decref(body);
}

static void respond_unavailable(struct http_response *res, enum vote_lang lang)
{
    http_respond_error(res, 503, "kafka_unavailable",
                       lang == VOTE_LANG_EN
                           ? "the vote was not confirmed by the queue in time and was not counted; send it again in a moment"
                           : "la cola no confirmó el voto a tiempo y no se contó; envíelo de nuevo en un momento",
                       NULL);
    res->retry_after_s = 1;
}

/* The retry and per-voter context of one request; key and voter point into
 * the request's headers or the vote. */
struct ballot_claim {
    const char *key;   /* Idempotency-Key, or NULL */
    const char *voter; /* voter id, or NULL */
    uint64_t hash;
    int claimed;       /* went through idempotency_claim */
};

/* A vote on its way to Kafka, with what the response needs once the producer
 * service reports the delivery. The forward owns it until then. */
struct front_vote {
    struct front *front;
    struct http_deferred *deferred;
    struct vote vote;
    enum vote_lang lang;
    int claimed;
    int has_key;
    char key[129];
    char voter[129];
    uint64_t hash;
    double started;     /* when the request arrived */
    double hop_started; /* when the vote left for the producer service */
};

/* Reads Idempotency-Key, the voter id and the ballot's hash; their format
 * was checked by front_check_request. */
static void read_claim(const struct http_request *req, const struct vote *vote,
                       struct ballot_claim *claim)
{
    claim->key = http_request_header(req, "Idempotency-Key");
    claim->voter = front_request_voter(req, vote);
    claim->hash = idempotency_hash(req->body, req->body_len);
    claim->claimed = 0;
}

/* Applies the retry and per-voter rules in Redis. Returns 1 to send the
 * vote (vote->id may now be a retried vote's id), 0 when res already contains
 * the response. */
static int apply_claim(struct front *front, const struct http_request *req, struct vote *vote,
                       struct ballot_claim *claim, struct http_response *res)
{
    int english = http_request_lang(req) == VOTE_LANG_EN;
    char message[200];

    if (!idempotency_needed(front->idempotency, claim->key, claim->voter))
        return 1;
    claim->claimed = 1;
    switch (idempotency_claim(front->idempotency, claim->key, claim->hash, claim->voter, vote->id)) {
    case IDEMPOTENCY_NEW:
    case IDEMPOTENCY_RETRY:
        return 1;
    case IDEMPOTENCY_DELIVERED:
        respond_accepted(res, vote);
        return 0;
    case IDEMPOTENCY_MISMATCH:
        http_respond_error(res, 422, "idempotency_key_reused",
                           english ? "this Idempotency-Key was already used for a different vote; use a new key for a new vote"
                                   : "esta Idempotency-Key ya se usó para otro voto; use una clave nueva para un voto nuevo",
                           NULL);
        return 0;
    case IDEMPOTENCY_VOTER_LIMIT:
        snprintf(message, sizeof(message),
                 english ? "this voter already cast the %ld votes allowed in this contest"
                         : "este votante ya emitió los %ld votos permitidos en este concurso",
                 front->idempotency_limit);
        http_respond_error(res, 409, "voter_limit_reached", message, "voter");
        return 0;
    default:
        respond_unavailable(res, http_request_lang(req));
        return 0;
    }
}

/* Finishes a forwarded vote once its delivery is known: records the retry
 * state, counts it and gives the deferred request its response. Runs on the
 * client's thread. */
static void finish_vote(void *opaque, const struct producer_result *result)
{
    struct front_vote *call = opaque;
    struct front *front = call->front;
    struct http_response res = {.status = 500};
    double now = metrics_clock();

    metric_observe(front->hop_seconds, now - call->hop_started);
    if (result->status != PRODUCER_DELIVERED) {
        log_warn_limited("vote %s not confirmed by Kafka: %s", call->vote.id, result->error);
        /* With a key, the client's retry reuses the claim; without one the
         * voter's vote is given back. */
        if (call->claimed && !call->has_key)
            idempotency_release_voter(front->idempotency, call->voter);
        respond_unavailable(&res, call->lang);
    } else {
        if (call->claimed && call->has_key)
            idempotency_mark_delivered(front->idempotency, call->key, call->hash, call->vote.id);
        log_debug("vote %s delivered to partition %d offset %lld", call->vote.id,
                  (int)result->partition, (long long)result->offset);
        metric_inc(front->acknowledged);
        respond_accepted(&res, &call->vote);
    }

    metric_observe(front->front_seconds, now - call->started);
    count_status(front, res.status);
    http_deferred_respond(call->deferred, &res);
    free(call);
}

/* Copies what finish_vote needs out of the request, which it outlives. */
static struct front_vote *front_vote_create(struct front *front, const struct http_request *req,
                                            const struct vote *vote,
                                            const struct ballot_claim *claim, double started)
{
    struct front_vote *call = malloc(sizeof(*call));

    if (call == NULL)
        return NULL;
    call->front = front;
    call->deferred = NULL;
    call->vote = *vote;
    call->lang = http_request_lang(req);
    call->claimed = claim->claimed;
    call->has_key = claim->key != NULL;
    snprintf(call->key, sizeof(call->key), "%s", claim->key != NULL ? claim->key : "");
    snprintf(call->voter, sizeof(call->voter), "%s", claim->voter != NULL ? claim->voter : "");
    call->hash = claim->hash;
    call->started = started;
    return call;
}

/* Validates, stamps and forwards one ballot. Returns 1 when the response is
 * deferred until the delivery report, 0 when res already contains it. */
static int handle_vote(struct front *front, const struct http_request *req,
                       struct http_response *res, double started)
{
    struct vote vote;
    struct ballot_claim claim;
    struct front_vote *call;

    if (front_check_request(req, front->catalog, front->body_max, &vote, res) != 0)
        return 0;
    read_claim(req, &vote, &claim);

    vote.received_at_ms = vote_now_ms();
    snprintf(vote.route, sizeof(vote.route), "%s", front->route->route);
    if (vote_id_generate(vote.received_at_ms, vote.id) != 0) {
        log_error("cannot generate a vote id: the kernel's random source failed");
        http_respond_error(res, 500, "internal", "internal error", NULL);
        return 0;
    }
    if (!apply_claim(front, req, &vote, &claim, res))
        return 0;

    call = front_vote_create(front, req, &vote, &claim, started);
    if (call != NULL)
        call->deferred = http_request_defer(req);
    if (call == NULL || call->deferred == NULL) {
        log_error("cannot hold vote %s for its delivery report: out of memory", vote.id);
        if (claim.claimed && claim.key == NULL)
            idempotency_release_voter(front->idempotency, claim.voter);
        free(call);
        respond_unavailable(res, http_request_lang(req));
        return 0;
    }
    call->hop_started = metrics_clock();
    front->route->forward(front->route->forward_ctx, &call->vote, finish_vote, call);
    return 1;
}

static void on_request(void *ctx, const struct http_request *req, struct http_response *res)
{
    struct front *front = ctx;
    double started = metrics_clock();

    if (strcmp(req->path, front->vote_path) == 0) {
        if (handle_vote(front, req, res, started))
            return;
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

static int start_idempotency(struct front *front, char *errbuf, size_t errlen)
{
    struct idempotency_config config;

    if (idempotency_config_from_env(&config, errbuf, errlen) != 0)
        return -1;
    front->idempotency = idempotency_create(&config);
    front->idempotency_limit = config.votes_per_voter;
    if (front->idempotency == NULL) {
        snprintf(errbuf, errlen, "out of memory");
        return -1;
    }
    if (config.votes_per_voter > 0)
        log_info("per-voter rule on: %ld votes per voter", config.votes_per_voter);
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
        http_server_options_pooled(&options, errbuf, sizeof(errbuf)) != 0 ||
        config_host_port(route->listen_var, route->listen_default, host, sizeof(host), &port,
                         errbuf, sizeof(errbuf)) != 0 ||
        load_catalog(&front, errbuf, sizeof(errbuf)) != 0) {
        log_error("%s", errbuf);
        route->forward_close(route->forward_ctx);
        return 1;
    }
    front.body_max = options.body_max;
    options.drain_ms = route->hop_timeout_ms + 1000;
    if (start_idempotency(&front, errbuf, sizeof(errbuf)) != 0) {
        log_error("%s", errbuf);
        route->forward_close(route->forward_ctx);
        catalog_free(front.catalog);
        return 1;
    }
    service_install_signals();
    register_metrics(&front);

    server = http_server_start(host, port, on_request, &front, &options, errbuf, sizeof(errbuf));
    if (server == NULL) {
        log_error("%s", errbuf);
        route->forward_close(route->forward_ctx);
        idempotency_free(front.idempotency);
        catalog_free(front.catalog);
        return 1;
    }
    log_info("listening on %s:%d, votes at POST %s", host, port, front.vote_path);

    service_wait_for_stop();
    log_info("stopping: responding to the votes in flight");
    http_server_stop(server);
    /* The forward's threads may hold Redis connections of the idempotency
     * module; they close them as they end, which needs the module alive. */
    route->forward_close(route->forward_ctx);
    idempotency_free(front.idempotency);
    catalog_free(front.catalog);
    log_info("stopped");
    return 0;
}
