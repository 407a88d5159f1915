/* libFuzzer target for the HTTP front as a client sees it. LLVMFuzzerInitialize
 * starts the real libmicrohttpd server of http_server.c on a free loopback
 * port. Each input is written as raw bytes to a new TCP connection to
 * 127.0.0.1, so libmicrohttpd's request-line and header parsing, Content-Length
 * and chunked bodies run as well as the ballot's validation. The response must
 * start with a well-formed HTTP status line (or the server closes without
 * one), and a valid vote sent afterwards must still get 202. */
#include "catalog.h"
#include "front_check.h"
#include "fuzz_invariants.h"
#include "http_server.h"
#include "log.h"
#include "vote.h"
#include "vote_id.h"

#include <arpa/inet.h>
#include <errno.h>
#include <jansson.h>
#include <netinet/in.h>
#include <poll.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/socket.h>
#include <time.h>
#include <unistd.h>

#define FRONT_ROUTE "rest"
#define FRONT_VOTE_PATH "/" FRONT_ROUTE "/vote"
#define FRONT_TIMEOUT_S 1     /* idle connections are cut after this */
#define CLIENT_WAIT_MS 3000   /* max wait for the response to one input */
#define RESPONSE_MAX 65536    /* bytes of the response that are read and checked */

/* A ballot from data/catalog.json that the front accepts. */
#define VALID_VOTE_BODY                                                        \
    "{\"name\":\"Viento en Contra\",\"album\":\"8\",\"year\":2023,\"rank\":\"4.4\"}"

struct fuzz_front {
    struct catalog *catalog;
    size_t body_max;
};

static struct fuzz_front front;
static struct http_server *front_server;
static int front_port;
static char valid_vote_request[512]; /* VALID_VOTE_BODY as a whole request */

/* ---- The server side: src/common/front.c without its servers ----------- */

/* The request checks are front.c's own (front_check_request). Two steps of
 * front.c are left out because they need other servers: the Redis claim of
 * apply_claim and the forwarding to the producer service. In their place
 * the vote is checked and gets the 202 response of a delivered vote. */

static void respond_accepted(struct http_response *res, const struct vote *vote)
{
    json_t *body = json_pack("{s:s, s:s}", "id", vote->id, "route", vote->route);

    http_respond_json(res, 202, body != NULL ? json_dumps(body, JSON_COMPACT) : NULL);
    json_decref(body);
}

static void handle_vote(const struct http_request *req, struct http_response *res)
{
    struct vote vote;

    FUZZ_REQUIRE(req->body != NULL, "the server passed a NULL body");
    FUZZ_REQUIRE(req->body[req->body_len] == '\0', "the body copy is not NUL-terminated");
    FUZZ_REQUIRE(req->body_too_large || req->body_len <= front.body_max,
                 "a body of %zu bytes passed the %zu-byte limit", req->body_len, front.body_max);
    if (front_check_request(req, front.catalog, front.body_max, &vote, res) != 0)
        return;

    vote.received_at_ms = vote_now_ms();
    snprintf(vote.route, sizeof(vote.route), "%s", FRONT_ROUTE);
    FUZZ_REQUIRE(vote_id_generate(vote.received_at_ms, vote.id) == 0,
                 "vote_id_generate failed");
    fuzz_check_ballot(&vote);
    fuzz_check_record_round_trip(&vote);
    respond_accepted(res, &vote);
}

/* The front's /metrics is left out: it only renders the metrics registry. */
static void on_request(void *ctx, const struct http_request *req, struct http_response *res)
{
    (void)ctx;
    if (strcmp(req->path, FRONT_VOTE_PATH) == 0)
        handle_vote(req, res);
    else if (strcmp(req->path, "/healthz") == 0 || strcmp(req->path, "/readyz") == 0)
        http_respond_json(res, 200, strdup("{\"status\":\"ok\"}"));
    else
        http_respond_not_found(res, req);
}

/* ---- The client side ----------------------------------------------------- */

/* Asks the kernel for a free loopback port. Another process could take it
 * before the server binds it, and then http_server_start reports the error. */
static int find_free_port(void)
{
    struct sockaddr_in addr = {.sin_family = AF_INET, .sin_addr.s_addr = htonl(INADDR_LOOPBACK)};
    socklen_t addr_len = sizeof(addr);
    int fd = socket(AF_INET, SOCK_STREAM, 0);
    int port = -1;

    if (fd < 0)
        return -1;
    if (bind(fd, (struct sockaddr *)&addr, sizeof(addr)) == 0 &&
        getsockname(fd, (struct sockaddr *)&addr, &addr_len) == 0)
        port = ntohs(addr.sin_port);
    close(fd);
    return port;
}

static void stop_front(void)
{
    http_server_stop(front_server);
    front_server = NULL;
    catalog_free(front.catalog);
}

int LLVMFuzzerInitialize(int *argc, char ***argv)
{
    const char *path = getenv("URNA_CATALOG");
    struct http_server_options options;
    char errbuf[512];

    (void)argc;
    (void)argv;
    log_init("fuzz_http_front", LOG_LEVEL_ERROR);
    if (path == NULL || path[0] == '\0')
        path = URNA_SOURCE_DIR "/data/catalog.json";
    front.catalog = catalog_load(path, errbuf, sizeof(errbuf));
    if (front.catalog == NULL) {
        fprintf(stderr, "fuzz_http_front: cannot load the catalog %s: %s\n", path, errbuf);
        exit(1);
    }

    if (http_server_options_from_env(&options, "fuzz_http_front", errbuf, sizeof(errbuf)) != 0) {
        fprintf(stderr, "fuzz_http_front: %s\n", errbuf);
        exit(1);
    }
    options.timeout_s = FRONT_TIMEOUT_S;
    front.body_max = options.body_max;

    front_port = find_free_port();
    front_server = front_port > 0 ? http_server_start("127.0.0.1", front_port, on_request, NULL,
                                                      &options, errbuf, sizeof(errbuf))
                                  : NULL;
    if (front_server == NULL) {
        fprintf(stderr, "fuzz_http_front: cannot start the front on 127.0.0.1:%d: %s\n",
                front_port, front_port > 0 ? errbuf : "no free port");
        exit(1);
    }
    atexit(stop_front);

    snprintf(valid_vote_request, sizeof(valid_vote_request),
             "POST %s HTTP/1.1\r\nHost: 127.0.0.1\r\nContent-Type: application/json\r\n"
             "Connection: close\r\nContent-Length: %zu\r\n\r\n%s",
             FRONT_VOTE_PATH, strlen(VALID_VOTE_BODY), VALID_VOTE_BODY);
    return 0;
}

/* Connects fd to addr. libFuzzer's timer signal can interrupt connect(); the
 * connection then completes in the background, so wait for it and read its
 * result instead of failing. Returns 0, or -1 with errno set. */
static int connect_retrying(int fd, const struct sockaddr_in *addr)
{
    struct pollfd writable = {.fd = fd, .events = POLLOUT};
    socklen_t len = sizeof(int);
    int error = 0;

    if (connect(fd, (const struct sockaddr *)addr, sizeof(*addr)) == 0)
        return 0;
    if (errno != EINTR && errno != EINPROGRESS)
        return -1;
    while (poll(&writable, 1, 5000) < 0) {
        if (errno != EINTR)
            return -1;
    }
    if (getsockopt(fd, SOL_SOCKET, SO_ERROR, &error, &len) != 0)
        return -1;
    errno = error;
    return error == 0 ? 0 : -1;
}

/* Connects to the front. The socket closes with a reset rather than
 * TIME_WAIT, so a long run does not use up the loopback's ephemeral ports. */
static int connect_front(void)
{
    struct sockaddr_in addr = {.sin_family = AF_INET, .sin_port = htons((uint16_t)front_port),
                               .sin_addr.s_addr = htonl(INADDR_LOOPBACK)};
    struct linger reset = {.l_onoff = 1, .l_linger = 0};
    int fd = socket(AF_INET, SOCK_STREAM, 0);

    FUZZ_REQUIRE(fd >= 0, "socket failed: %s", strerror(errno));
    FUZZ_REQUIRE(setsockopt(fd, SOL_SOCKET, SO_LINGER, &reset, sizeof(reset)) == 0,
                 "SO_LINGER failed: %s", strerror(errno));
    FUZZ_REQUIRE(connect_retrying(fd, &addr) == 0, "cannot connect to the front on 127.0.0.1:%d: %s",
                 front_port, strerror(errno));
    return fd;
}

/* Writes the request and closes the sending side, so the server detects the
 * end of an incomplete request at once instead of waiting for its timeout.
 * The server may close early (a header too large, say), so a write error
 * ends the request without failing it. */
static void send_request(int fd, const uint8_t *data, size_t size)
{
    size_t sent = 0;

    while (sent < size) {
        ssize_t n = send(fd, data + sent, size - sent, MSG_NOSIGNAL);

        if (n < 0 && errno == EINTR)
            continue;
        if (n <= 0)
            break;
        sent += (size_t)n;
    }
    shutdown(fd, SHUT_WR);
}

static int64_t monotonic_ms(void)
{
    struct timespec now;

    clock_gettime(CLOCK_MONOTONIC, &now);
    return (int64_t)now.tv_sec * 1000 + now.tv_nsec / 1000000;
}

/* Reads until the server closes, the buffer is full or CLIENT_WAIT_MS pass,
 * and NUL-terminates what it read. Returns the bytes read and sets
 * *timed_out when the wait ran out. */
static size_t read_response(int fd, char *buf, size_t cap, int *timed_out)
{
    int64_t deadline = monotonic_ms() + CLIENT_WAIT_MS;
    size_t len = 0;

    *timed_out = 0;
    while (len + 1 < cap) {
        struct pollfd pfd = {.fd = fd, .events = POLLIN};
        int64_t left = deadline - monotonic_ms();
        ssize_t n;
        int ready;

        if (left <= 0) {
            *timed_out = 1;
            break;
        }
        ready = poll(&pfd, 1, (int)left);
        if (ready < 0 && errno == EINTR)
            continue;
        if (ready == 0) {
            *timed_out = 1;
            break;
        }
        n = recv(fd, buf + len, cap - 1 - len, 0);
        if (n < 0 && errno == EINTR)
            continue;
        if (n <= 0)
            break; /* closed, or reset after an early response */
        len += (size_t)n;
    }
    buf[len] = '\0';
    return len;
}

/* Returns the status code of a response starting "HTTP/1.x NNN", or -1. */
static int status_line_code(const char *response, size_t len)
{
    int code;

    if (len < 13 || memcmp(response, "HTTP/1.", 7) != 0 || (response[7] != '0' && response[7] != '1') ||
        response[8] != ' ' || response[12] != ' ')
        return -1;
    for (int i = 9; i < 12; i++) {
        if (response[i] < '0' || response[i] > '9')
            return -1;
    }
    code = (response[9] - '0') * 100 + (response[10] - '0') * 10 + (response[11] - '0');
    return code >= 100 && code <= 599 ? code : -1;
}

/* Sends raw bytes as one connection. Returns the response's status code, or
 * 0 when the server closed without responding. */
static int exchange(const uint8_t *data, size_t size, char *response, size_t cap, size_t *len)
{
    int fd = connect_front();
    int timed_out, code;

    send_request(fd, data, size);
    *len = read_response(fd, response, cap, &timed_out);
    close(fd);

    FUZZ_REQUIRE(!timed_out || *len > 0,
                 "the front neither responded nor closed within %d ms of a %zu-byte request",
                 CLIENT_WAIT_MS, size);
    if (*len == 0)
        return 0;
    code = status_line_code(response, *len);
    FUZZ_REQUIRE(code > 0, "the response does not start with an HTTP status line: \"%.*s\"",
                 (int)(*len < 80 ? *len : 80), response);
    return code;
}

/* Requires the front to accept a valid vote, proving it still serves. */
static void check_still_serving(void)
{
    char response[4096];
    size_t len;
    int code = exchange((const uint8_t *)valid_vote_request, strlen(valid_vote_request), response,
                        sizeof(response), &len);

    FUZZ_REQUIRE(code == 202, "a valid vote after the input got %d: \"%.*s\"", code, (int)len,
                 response);
    FUZZ_REQUIRE(strstr(response, "\"route\":\"" FRONT_ROUTE "\"") != NULL,
                 "the 202 response names no route: \"%.*s\"", (int)len, response);
}

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
    static char response[RESPONSE_MAX];
    size_t len;
    int code = exchange(data, size, response, sizeof(response), &len);

    /* The front sends 500 only when memory runs out, so any 500 here is a bug. */
    FUZZ_REQUIRE(code != 500, "the front responded 500: \"%.*s\"",
                 (int)(len < 400 ? len : 400), response);
    check_still_serving();
    return 0;
}
