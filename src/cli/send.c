/* urna send: sends a votes file through the ingress with many requests in
 * flight, retries what the service could not confirm, and reports. */
#include "cli.h"

#include "results.h"
#include "vote_id.h"

#include <curl/curl.h>
#include <jansson.h>
#include <pthread.h>
#include <stdatomic.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>
#include <unistd.h>

#define REASONS_MAX 32

struct send_options {
    const char *file;
    const char *url;
    const char *route; /* grpc, rest or both */
    long concurrency;
    long retries;
    const char *acked_ids;
    const char *stats_json;
    int reconcile;
    long wait_s;
};

/* One ballot of the file and what became of it. */
struct ballot {
    char *body;
    const char *route;
    char idempotency_key[37];
    char vote_id[37];
    int status;     /* final HTTP status, 0 for a transport failure */
    char reason[48]; /* the error code of a rejection */
};

struct reason_count {
    char code[48];
    int status;
    long count;
};

struct send_run {
    const struct send_options *options;
    struct ballot *ballots;
    size_t count;
    atomic_size_t next;
    atomic_size_t done;
    atomic_long retries;
    atomic_long unavailable;   /* 503 responses seen, retried or not */
    atomic_long transport_errors;
    atomic_int finished;
};

static int parse_options(int argc, char **argv, struct send_options *options)
{
    const char *url = getenv("URNA_INGRESS_URL");

    *options = (struct send_options){.url = url != NULL && url[0] != '\0' ? url : "http://127.0.0.1:8088",
                                     .route = "both", .concurrency = 32, .retries = 5, .wait_s = 120};
    for (int i = 1; i < argc; i++) {
        const char *arg = argv[i];
        const char *value = i + 1 < argc ? argv[i + 1] : NULL;

        if (strcmp(arg, "--reconcile") == 0) {
            options->reconcile = 1;
            continue;
        }
        if (arg[0] != '-') {
            options->file = arg;
            continue;
        }
        if (value == NULL) {
            fprintf(stderr, "urna send: %s needs a value\n", arg);
            return -1;
        }
        i++;
        if (strcmp(arg, "--route") == 0)
            options->route = value;
        else if (strcmp(arg, "--url") == 0)
            options->url = value;
        else if (strcmp(arg, "--concurrency") == 0)
            options->concurrency = strtol(value, NULL, 10);
        else if (strcmp(arg, "--retries") == 0)
            options->retries = strtol(value, NULL, 10);
        else if (strcmp(arg, "--acked-ids") == 0)
            options->acked_ids = value;
        else if (strcmp(arg, "--stats-json") == 0)
            options->stats_json = value;
        else if (strcmp(arg, "--wait-s") == 0)
            options->wait_s = strtol(value, NULL, 10);
        else {
            fprintf(stderr, "urna send: unknown option %s\n", arg);
            return -1;
        }
    }
    if (options->file == NULL || options->concurrency < 1 || options->concurrency > 1024 ||
        options->retries < 0 || options->wait_s < 1 ||
        (strcmp(options->route, "grpc") != 0 && strcmp(options->route, "rest") != 0 &&
         strcmp(options->route, "both") != 0)) {
        fprintf(stderr, "urna send: expected FILE, --route grpc|rest|both, --concurrency 1..1024, "
                        "--retries 0 or more, --wait-s 1 or more\n");
        return -1;
    }
    return 0;
}

/* Loads the JSON array; each element is sent exactly as written. With route
 * "both", even positions go through grpc and odd ones through rest. */
static struct ballot *load_ballots(const struct send_options *options, size_t *count)
{
    json_error_t error;
    json_t *root = json_load_file(options->file, 0, &error);
    struct ballot *ballots;
    json_t *element;
    size_t index;

    if (!json_is_array(root)) {
        fprintf(stderr, "urna send: %s is not a JSON array of votes (line %d: %s)\n",
                options->file, error.line, root == NULL ? error.text : "not an array");
        json_decref(root);
        return NULL;
    }
    *count = json_array_size(root);
    ballots = calloc(*count + 1, sizeof(*ballots));
    json_array_foreach(root, index, element) {
        struct ballot *ballot = &ballots[index];

        ballot->body = json_dumps(element, JSON_COMPACT | JSON_PRESERVE_ORDER | JSON_ENCODE_ANY);
        if (strcmp(options->route, "both") == 0)
            ballot->route = index % 2 == 0 ? "grpc" : "rest";
        else
            ballot->route = options->route;
        vote_id_generate(vote_now_ms(), ballot->idempotency_key);
    }
    json_decref(root);
    return ballots;
}

struct reply {
    char data[1024];
    size_t len;
};

static size_t on_body(char *chunk, size_t size, size_t count, void *userdata)
{
    struct reply *reply = userdata;
    size_t bytes = size * count;
    size_t kept = bytes < sizeof(reply->data) - 1 - reply->len ? bytes : sizeof(reply->data) - 1 - reply->len;

    memcpy(reply->data + reply->len, chunk, kept);
    reply->len += kept;
    reply->data[reply->len] = '\0';
    return bytes;
}

/* Stores the vote id of a 202 or the error code of a rejection. */
static void read_answer(struct ballot *ballot, const struct reply *reply)
{
    json_t *body = json_loadb(reply->data, reply->len, 0, NULL);
    const char *text;

    if (ballot->status == 202)
        text = json_string_value(json_object_get(body, "id"));
    else
        text = json_string_value(json_object_get(body, "error"));
    if (ballot->status == 202)
        snprintf(ballot->vote_id, sizeof(ballot->vote_id), "%s", text != NULL ? text : "");
    else
        snprintf(ballot->reason, sizeof(ballot->reason), "%s", text != NULL ? text : "http_error");
    json_decref(body);
}

/* Sends one ballot, retrying 5xx responses and transport errors with the same
 * Idempotency-Key. */
static void send_ballot(struct send_run *run, CURL *handle, struct ballot *ballot)
{
    char url[512], key_header[80];
    struct curl_slist *headers = NULL;

    snprintf(url, sizeof(url), "%s/%s/vote", run->options->url, ballot->route);
    snprintf(key_header, sizeof(key_header), "Idempotency-Key: %s", ballot->idempotency_key);
    headers = curl_slist_append(headers, "Content-Type: application/json");
    headers = curl_slist_append(headers, "Expect:");
    headers = curl_slist_append(headers, key_header);
    curl_easy_setopt(handle, CURLOPT_URL, url);
    curl_easy_setopt(handle, CURLOPT_HTTPHEADER, headers);
    curl_easy_setopt(handle, CURLOPT_POSTFIELDS, ballot->body);

    for (long attempt = 0; attempt <= run->options->retries; attempt++) {
        struct reply reply = {.len = 0};
        long status = 0;

        if (attempt > 0) {
            atomic_fetch_add(&run->retries, 1);
            usleep((useconds_t)(200000 * (attempt < 10 ? attempt : 10)));
        }
        reply.data[0] = '\0';
        curl_easy_setopt(handle, CURLOPT_WRITEDATA, &reply);
        if (curl_easy_perform(handle) == CURLE_OK)
            curl_easy_getinfo(handle, CURLINFO_RESPONSE_CODE, &status);
        ballot->status = (int)status;
        if (status == 503)
            atomic_fetch_add(&run->unavailable, 1);
        else if (status == 0)
            atomic_fetch_add(&run->transport_errors, 1);
        if (status != 0)
            read_answer(ballot, &reply);
        else
            snprintf(ballot->reason, sizeof(ballot->reason), "connection_failed");
        if (status != 0 && status < 500)
            break;
    }
    curl_slist_free_all(headers);
}

static void *worker(void *arg)
{
    struct send_run *run = arg;
    CURL *handle = curl_easy_init();
    size_t index;

    curl_easy_setopt(handle, CURLOPT_NOSIGNAL, 1L);
    curl_easy_setopt(handle, CURLOPT_TIMEOUT_MS, 30000L);
    curl_easy_setopt(handle, CURLOPT_TCP_NODELAY, 1L);
    curl_easy_setopt(handle, CURLOPT_WRITEFUNCTION, on_body);
    while ((index = atomic_fetch_add(&run->next, 1)) < run->count) {
        send_ballot(run, handle, &run->ballots[index]);
        atomic_fetch_add(&run->done, 1);
    }
    curl_easy_cleanup(handle);
    return NULL;
}

static double seconds_now(void)
{
    struct timespec now;

    clock_gettime(CLOCK_MONOTONIC, &now);
    return (double)now.tv_sec + (double)now.tv_nsec / 1e9;
}

/* Draws a progress bar on stderr while the workers run (only on a terminal). */
static void *progress(void *arg)
{
    struct send_run *run = arg;
    double started = seconds_now();

    while (!atomic_load(&run->finished)) {
        size_t done = atomic_load(&run->done);
        int filled = run->count > 0 ? (int)(30 * done / run->count) : 30;
        double elapsed = seconds_now() - started;

        fprintf(stderr, "\r[%.*s%*s] %zu/%zu  %.0f votes/s ", filled,
                "##############################", 30 - filled, "", done, run->count,
                elapsed > 0 ? (double)done / elapsed : 0.0);
        usleep(200000);
    }
    fputc('\n', stderr);
    return NULL;
}

static void tally_reasons(const struct send_run *run, struct reason_count *reasons, size_t *kinds)
{
    *kinds = 0;
    for (size_t i = 0; i < run->count; i++) {
        const struct ballot *ballot = &run->ballots[i];
        size_t k;

        if (ballot->status == 202)
            continue;
        for (k = 0; k < *kinds; k++) {
            if (reasons[k].status == ballot->status && strcmp(reasons[k].code, ballot->reason) == 0)
                break;
        }
        if (k == *kinds && *kinds < REASONS_MAX) {
            snprintf(reasons[k].code, sizeof(reasons[k].code), "%s", ballot->reason);
            reasons[k].status = ballot->status;
            (*kinds)++;
        }
        if (k < *kinds)
            reasons[k].count++;
    }
}

/* Prints the summary; returns the number of acknowledged votes. */
static long report(const struct send_run *run, double elapsed)
{
    struct reason_count reasons[REASONS_MAX] = {0};
    long acked_grpc = 0, acked_rest = 0;
    size_t kinds;
    int en = cli_english();

    for (size_t i = 0; i < run->count; i++) {
        if (run->ballots[i].status == 202)
            (*run->ballots[i].route == 'g' ? &acked_grpc : &acked_rest)[0]++;
    }
    tally_reasons(run, reasons, &kinds);

    printf("%s: %zu  %s: %ld (grpc %ld, rest %ld)  %s: %zu  %s: %ld\n", en ? "sent" : "enviados",
           run->count, en ? "acknowledged" : "aceptados", acked_grpc + acked_rest, acked_grpc,
           acked_rest, en ? "not acknowledged" : "no aceptados",
           run->count - (size_t)(acked_grpc + acked_rest), en ? "retries" : "reintentos",
           atomic_load(&run->retries));
    for (size_t k = 0; k < kinds; k++)
        printf("  %s %d %s: %ld\n", en ? "status" : "estado", reasons[k].status, reasons[k].code,
               reasons[k].count);
    printf("%s: %.1f s, %.0f %s/s\n", en ? "time" : "tiempo", elapsed,
           elapsed > 0 ? (double)run->count / elapsed : 0.0, en ? "votes" : "votos");
    return acked_grpc + acked_rest;
}

static int write_acked_ids(const struct send_run *run, const char *path)
{
    FILE *file = fopen(path, "w");

    if (file == NULL) {
        perror(path);
        return -1;
    }
    for (size_t i = 0; i < run->count; i++) {
        if (run->ballots[i].status == 202)
            fprintf(file, "%s %s\n", run->ballots[i].vote_id, run->ballots[i].route);
    }
    return fclose(file);
}

/* Writes the run's figures for scripts: sent, acknowledged, retries, 503s. */
static int write_stats(const struct send_run *run, long acknowledged, double elapsed,
                       const char *path)
{
    json_t *stats = json_pack("{s:I, s:I, s:I, s:I, s:I, s:f}", "sent", (json_int_t)run->count,
                              "acknowledged", (json_int_t)acknowledged, "retries",
                              (json_int_t)atomic_load(&run->retries), "status_503",
                              (json_int_t)atomic_load(&run->unavailable), "transport_errors",
                              (json_int_t)atomic_load(&run->transport_errors), "seconds", elapsed);
    int rc = json_dump_file(stats, path, JSON_INDENT(2));

    json_decref(stats);
    if (rc != 0)
        fprintf(stderr, "urna send: cannot write %s\n", path);
    return rc;
}

/* Reads the current number of votes counted in Redis and logged in MongoDB. */
static int read_totals(long long *counted, long long *logged)
{
    struct results_snapshot results;
    char errbuf[1024];

    if (cli_read_results(&results, errbuf, sizeof(errbuf)) != 0) {
        fprintf(stderr, "urna send: %s\n", errbuf);
        results_snapshot_free(&results);
        return -1;
    }
    *counted = results.total;
    results_snapshot_free(&results);
    *logged = audit_count_logs(errbuf, sizeof(errbuf));
    if (*logged < 0) {
        fprintf(stderr, "urna send: %s\n", errbuf);
        return -1;
    }
    return 0;
}

/* Waits until the votes acknowledged by this run are counted and logged (the
 * counters' growth since the run began), then prints the reconciled line. */
static int reconcile(const struct send_run *run, long acknowledged, long long counted_before,
                     long long logged_before)
{
    long long counted = 0, logged = 0;
    double deadline = seconds_now() + (double)run->options->wait_s;

    do {
        if (read_totals(&counted, &logged) != 0)
            return 1;
        counted -= counted_before;
        logged -= logged_before;
        if (counted >= acknowledged && logged >= acknowledged)
            break;
        usleep(250000);
    } while (seconds_now() < deadline);

    printf("reconciled: sent=%zu acknowledged=%ld counted=%lld logged=%lld\n", run->count,
           acknowledged, counted, logged);
    return (long long)run->count == acknowledged && counted == acknowledged && logged == acknowledged
               ? 0
               : 1;
}

int cli_send(int argc, char **argv)
{
    struct send_options options;
    struct send_run run = {0};
    pthread_t *threads, bar;
    long long counted_before = 0, logged_before = 0;
    long acknowledged;
    double started, elapsed;
    int code, show_bar = isatty(STDERR_FILENO);

    if (parse_options(argc, argv, &options) != 0)
        return 2;
    run.options = &options;
    run.ballots = load_ballots(&options, &run.count);
    if (run.ballots == NULL)
        return 1;
    if (options.reconcile && read_totals(&counted_before, &logged_before) != 0)
        return 1;

    started = seconds_now();
    threads = calloc((size_t)options.concurrency, sizeof(*threads));
    if (show_bar)
        pthread_create(&bar, NULL, progress, &run);
    for (long i = 0; i < options.concurrency; i++)
        pthread_create(&threads[i], NULL, worker, &run);
    for (long i = 0; i < options.concurrency; i++)
        pthread_join(threads[i], NULL);
    atomic_store(&run.finished, 1);
    if (show_bar)
        pthread_join(bar, NULL);

    elapsed = seconds_now() - started;
    acknowledged = report(&run, elapsed);
    code = acknowledged == (long)run.count ? 0 : 1;
    if (options.stats_json != NULL && write_stats(&run, acknowledged, elapsed, options.stats_json) != 0)
        code = 1;
    if (options.acked_ids != NULL && write_acked_ids(&run, options.acked_ids) != 0)
        code = 1;
    if (options.reconcile)
        code = reconcile(&run, acknowledged, counted_before, logged_before);

    for (size_t i = 0; i < run.count; i++)
        free(run.ballots[i].body);
    free(run.ballots);
    free(threads);
    return code;
}
