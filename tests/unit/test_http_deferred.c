/* Tests of deferred responses on the pooled HTTP server: requests wait
 * without a thread and get their responses later from another thread, in any
 * order, and stopping drains them. Runs a real server on loopback with libcurl. */
#include "../../src/common/http_server.h"
#include "check.h"

#include <arpa/inet.h>
#include <curl/curl.h>
#include <netinet/in.h>
#include <pthread.h>
#include <stdatomic.h>
#include <stdlib.h>
#include <string.h>
#include <sys/socket.h>
#include <time.h>
#include <unistd.h>

#define WAITING_MAX 16

static struct http_deferred *waiting[WAITING_MAX];
static atomic_int deferred_count;

/* Responds with {"n":N}, the request's own number. */
static void respond_number(struct http_response *res, int n)
{
    char body[32];

    snprintf(body, sizeof(body), "{\"n\":%d}", n);
    http_respond_json(res, 200, strdup(body));
}

static void on_request(void *ctx, const struct http_request *req, struct http_response *res)
{
    const char *arg = http_request_query(req, "n");
    int n = arg != NULL ? atoi(arg) : 0;
    struct http_deferred *deferred;

    (void)ctx;
    if (n < 0 || n >= WAITING_MAX) {
        http_respond_error(res, 400, "bad_n", "n out of range", NULL);
        return;
    }
    deferred = http_request_defer(req);
    if (deferred == NULL) {
        http_respond_error(res, 503, "cannot_defer", "this server cannot defer", NULL);
        return;
    }
    if (strcmp(req->path, "/inline") == 0) {
        /* Responds before the handler returns. */
        respond_number(res, n);
        http_deferred_respond(deferred, res);
        return;
    }
    waiting[n] = deferred;
    atomic_fetch_add(&deferred_count, 1);
}

static void respond_waiting(int n)
{
    struct http_response res = {.status = 500};

    respond_number(&res, n);
    http_deferred_respond(waiting[n], &res);
}

struct fetched {
    char body[128];
    size_t len;
    long status;
};

static size_t on_body(char *data, size_t size, size_t count, void *userdata)
{
    struct fetched *out = userdata;
    size_t n = size * count;

    if (out->len + n < sizeof(out->body)) {
        memcpy(out->body + out->len, data, n);
        out->len += n;
        out->body[out->len] = '\0';
    }
    return n;
}

static CURL *request(int port, const char *path, int n, struct fetched *out)
{
    CURL *curl = curl_easy_init();
    char url[128];

    memset(out, 0, sizeof(*out));
    snprintf(url, sizeof(url), "http://127.0.0.1:%d%s?n=%d", port, path, n);
    curl_easy_setopt(curl, CURLOPT_URL, url);
    curl_easy_setopt(curl, CURLOPT_TIMEOUT_MS, 10000L);
    curl_easy_setopt(curl, CURLOPT_WRITEFUNCTION, on_body);
    curl_easy_setopt(curl, CURLOPT_WRITEDATA, out);
    return curl;
}

/* Sends WAITING_MAX requests at once, responds to them once all wait, in
 * reverse order, and checks that each got its own response. */
static void test_answers_in_any_order(int port)
{
    CURLM *multi = curl_multi_init();
    CURL *curls[WAITING_MAX];
    struct fetched out[WAITING_MAX];
    int running = 1, answered = 0;

    atomic_store(&deferred_count, 0);
    for (int i = 0; i < WAITING_MAX; i++) {
        curls[i] = request(port, "/later", i, &out[i]);
        curl_multi_add_handle(multi, curls[i]);
    }
    while (running > 0) {
        curl_multi_perform(multi, &running);
        if (!answered && atomic_load(&deferred_count) == WAITING_MAX) {
            for (int i = WAITING_MAX - 1; i >= 0; i--)
                respond_waiting(i);
            answered = 1;
        }
        curl_multi_poll(multi, NULL, 0, 50, NULL);
    }
    CHECK(answered);

    for (int i = 0; i < WAITING_MAX; i++) {
        char expected[32];

        curl_easy_getinfo(curls[i], CURLINFO_RESPONSE_CODE, &out[i].status);
        snprintf(expected, sizeof(expected), "{\"n\":%d}", i);
        CHECK_INT(out[i].status, 200, "deferred status");
        CHECK_STR(out[i].body, expected, "deferred body");
        curl_multi_remove_handle(multi, curls[i]);
        curl_easy_cleanup(curls[i]);
    }
    curl_multi_cleanup(multi);
}

static void test_answer_inside_handler(int port)
{
    struct fetched out;
    CURL *curl = request(port, "/inline", 3, &out);

    CHECK_INT(curl_easy_perform(curl), CURLE_OK, "inline request");
    curl_easy_getinfo(curl, CURLINFO_RESPONSE_CODE, &out.status);
    CHECK_INT(out.status, 200, "inline status");
    CHECK_STR(out.body, "{\"n\":3}", "inline body");
    curl_easy_cleanup(curl);
}

/* Sends a request on a raw socket and closes it before the response comes,
 * as a client that gives up does. Returns 0 once the request was sent. */
static int send_and_hang_up(int port, int n)
{
    struct sockaddr_in addr = {.sin_family = AF_INET, .sin_port = htons((uint16_t)port)};
    char request[128];
    int fd = socket(AF_INET, SOCK_STREAM, 0);
    int len, rc = -1;

    addr.sin_addr.s_addr = htonl(INADDR_LOOPBACK);
    len = snprintf(request, sizeof(request),
                   "GET /later?n=%d HTTP/1.1\r\nHost: 127.0.0.1\r\n\r\n", n);
    if (fd >= 0 && connect(fd, (struct sockaddr *)&addr, sizeof(addr)) == 0 &&
        write(fd, request, (size_t)len) == len)
        rc = 0;

    /* The server must see the request before the close. */
    while (rc == 0 && atomic_load(&deferred_count) == 0)
        nanosleep(&(struct timespec){0, 5 * 1000 * 1000}, NULL);
    if (fd >= 0)
        close(fd);
    return rc;
}

/* Responds to a request whose client already left: the server drops the
 * response and frees the request, and keeps serving. */
static void test_client_gone_before_response(int port)
{
    struct fetched out;
    CURL *curl;

    atomic_store(&deferred_count, 0);
    CHECK_INT(send_and_hang_up(port, 5), 0, "request sent before hanging up");
    respond_waiting(5);

    curl = request(port, "/inline", 6, &out);
    CHECK_INT(curl_easy_perform(curl), CURLE_OK, "request after a client left");
    curl_easy_getinfo(curl, CURLINFO_RESPONSE_CODE, &out.status);
    CHECK_INT(out.status, 200, "status after a client left");
    CHECK_STR(out.body, "{\"n\":6}", "body after a client left");
    curl_easy_cleanup(curl);
}

struct client {
    int port;
    struct fetched out;
};

static void *fetch_one(void *arg)
{
    struct client *client = arg;
    CURL *curl = request(client->port, "/later", 0, &client->out);

    if (curl_easy_perform(curl) == CURLE_OK)
        curl_easy_getinfo(curl, CURLINFO_RESPONSE_CODE, &client->out.status);
    curl_easy_cleanup(curl);
    return NULL;
}

static void *answer_soon(void *arg)
{
    struct timespec pause = {0, 100 * 1000 * 1000};

    (void)arg;
    nanosleep(&pause, NULL);
    respond_waiting(0);
    return NULL;
}

/* Stops the server while a response is owed. The stop waits for it, so the
 * client still gets its response. */
static void test_stop_drains(struct http_server *server, int port)
{
    struct client client = {.port = port};
    struct timespec pause = {0, 10 * 1000 * 1000};
    pthread_t client_thread, answer_thread;

    atomic_store(&deferred_count, 0);
    pthread_create(&client_thread, NULL, fetch_one, &client);
    while (atomic_load(&deferred_count) == 0)
        nanosleep(&pause, NULL);

    pthread_create(&answer_thread, NULL, answer_soon, NULL);
    http_server_stop(server);
    pthread_join(answer_thread, NULL);
    pthread_join(client_thread, NULL);
    CHECK_INT(client.out.status, 200, "status of the response owed at stop");
    CHECK_STR(client.out.body, "{\"n\":0}", "body of the response owed at stop");
}

/* A server with one thread per connection cannot defer, so the handler
 * responds as usual. */
static void test_thread_per_connection_refuses(void)
{
    struct http_server_options options = {
        .body_max = 1024, .max_connections = 8, .timeout_s = 5, .threads = 0, .name = "test"};
    struct http_server *server;
    struct fetched out;
    char errbuf[256];
    CURL *curl;

    server = http_server_start("127.0.0.1", 0, on_request, NULL, &options, errbuf, sizeof(errbuf));
    CHECK(server != NULL);
    if (server == NULL)
        return;
    curl = request(http_server_port(server), "/later", 1, &out);
    CHECK_INT(curl_easy_perform(curl), CURLE_OK, "request to a thread-per-connection server");
    curl_easy_getinfo(curl, CURLINFO_RESPONSE_CODE, &out.status);
    CHECK_INT(out.status, 503, "status when deferring is refused");
    curl_easy_cleanup(curl);
    http_server_stop(server);
}

int main(void)
{
    struct http_server_options options = {.body_max = 1024,
                                          .max_connections = 64,
                                          .timeout_s = 5,
                                          .threads = 2,
                                          .drain_ms = 5000,
                                          .name = "test"};
    struct http_server *server;
    char errbuf[256];

    curl_global_init(CURL_GLOBAL_DEFAULT);
    server = http_server_start("127.0.0.1", 0, on_request, NULL, &options, errbuf, sizeof(errbuf));
    CHECK(server != NULL);
    if (server == NULL) {
        fprintf(stderr, "http server did not start: %s\n", errbuf);
    } else {
        int port = http_server_port(server);

        test_answers_in_any_order(port);
        test_answer_inside_handler(port);
        test_client_gone_before_response(port);
        test_stop_drains(server, port);
    }
    test_thread_per_connection_refuses();
    curl_global_cleanup();
    return check_exit("http_deferred");
}
