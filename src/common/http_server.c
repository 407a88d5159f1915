#include "http_server.h"

#include "config.h"
#include "log.h"

#include <arpa/inet.h>
#include <jansson.h>
#include <microhttpd.h>
#include <netinet/in.h>
#include <errno.h>
#include <pthread.h>
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <strings.h>
#include <time.h>
#include <unistd.h>

struct http_server {
    struct MHD_Daemon *daemon;
    http_handler_fn handler;
    void *ctx;
    struct http_server_options options;

    /* Deferred requests not yet completed, for the drain at stop. */
    pthread_mutex_t lock;
    pthread_cond_t drained;
    long owed;
};

/* Per-request state kept by libmicrohttpd between calls of the access handler.
 * A deferred request's handle (struct http_deferred, never defined) is a
 * pointer to this state. */
struct request_state {
    char *body;
    size_t len;
    size_t cap;
    int too_large;

    struct http_server *server;
    struct MHD_Connection *connection;
    int deferred;  /* suspended until http_deferred_respond */
    int answered;  /* response contains the deferred response */
    struct http_response response;
};

int http_server_options_from_env(struct http_server_options *options, const char *name,
                                 char *errbuf, size_t errlen)
{
    long max_connections, timeout_s;

    if (config_long("URNA_HTTP_MAX_CONNECTIONS", 1024, 1, 65536, &max_connections, errbuf,
                    errlen) != 0 ||
        config_long("URNA_HTTP_TIMEOUT_S", 10, 1, 3600, &timeout_s, errbuf, errlen) != 0)
        return -1;

    options->body_max = HTTP_BODY_MAX_DEFAULT;
    options->max_connections = (unsigned)max_connections;
    options->timeout_s = (unsigned)timeout_s;
    options->threads = 0;
    options->drain_ms = 0;
    options->name = name;
    return 0;
}

int http_server_options_pooled(struct http_server_options *options, char *errbuf, size_t errlen)
{
    long threads;

    if (config_long("URNA_HTTP_THREADS", 2, 1, 64, &threads, errbuf, errlen) != 0)
        return -1;
    options->threads = (unsigned)threads;
    return 0;
}

/* Appends an upload chunk, keeping at most body_max bytes; a larger body is
 * drained and marked so the handler responds 413. */
static void state_append(struct request_state *state, const char *data, size_t size,
                         size_t body_max)
{
    if (state->too_large)
        return;
    if (state->len + size > body_max) {
        state->too_large = 1;
        return;
    }
    if (state->len + size + 1 > state->cap) {
        size_t cap = state->cap == 0 ? 1024 : state->cap;
        char *grown;

        while (cap < state->len + size + 1)
            cap *= 2;
        grown = realloc(state->body, cap);
        if (grown == NULL) {
            state->too_large = 1;
            return;
        }
        state->body = grown;
        state->cap = cap;
    }
    memcpy(state->body + state->len, data, size);
    state->len += size;
    state->body[state->len] = '\0';
}

/* Bridges libmicrohttpd's content reader to the handler's stream reader. */
static ssize_t read_stream(void *cls, uint64_t pos, char *buf, size_t max)
{
    struct http_response *stream = cls;

    return stream->stream_read(stream->stream_ctx, pos, buf, max);
}

static void free_stream(void *cls)
{
    struct http_response *stream = cls;

    if (stream->stream_free != NULL)
        stream->stream_free(stream->stream_ctx);
    free(stream);
}

/* Creates a streamed response that owns a copy of res's stream fields; on
 * failure the stream's ctx is freed here. */
static struct MHD_Response *create_stream_response(struct http_response *res)
{
    struct http_response *stream = malloc(sizeof(*stream));
    struct MHD_Response *response;

    if (stream == NULL) {
        if (res->stream_free != NULL)
            res->stream_free(res->stream_ctx);
        return NULL;
    }
    *stream = *res;
    stream->body = NULL;
    response = MHD_create_response_from_callback(MHD_SIZE_UNKNOWN, 4096, read_stream, stream,
                                                 free_stream);
    if (response == NULL)
        free_stream(stream);
    return response;
}

static struct MHD_Response *create_buffer_response(struct http_response *res)
{
    struct MHD_Response *response;
    size_t len = res->body != NULL ? strlen(res->body) : 0;

    response = MHD_create_response_from_buffer(len, res->body != NULL ? res->body : (void *)"",
                                               res->body != NULL ? MHD_RESPMEM_MUST_FREE
                                                                 : MHD_RESPMEM_PERSISTENT);
    if (response == NULL)
        free(res->body);
    return response;
}

static enum MHD_Result send_response(struct MHD_Connection *connection,
                                     struct http_response *res)
{
    struct MHD_Response *response;
    enum MHD_Result ret;
    char retry[16];

    if (res->stream_read != NULL) {
        free(res->body);
        response = create_stream_response(res);
    } else {
        response = create_buffer_response(res);
    }
    if (response == NULL)
        return MHD_NO;

    MHD_add_response_header(response, MHD_HTTP_HEADER_CONTENT_TYPE,
                            res->content_type != NULL ? res->content_type
                                                      : "application/json; charset=utf-8");
    if (res->retry_after_s > 0) {
        snprintf(retry, sizeof(retry), "%d", res->retry_after_s);
        MHD_add_response_header(response, MHD_HTTP_HEADER_RETRY_AFTER, retry);
    }
    if (res->allow != NULL)
        MHD_add_response_header(response, MHD_HTTP_HEADER_ALLOW, res->allow);
    for (int i = 0; i < res->header_count; i++)
        MHD_add_response_header(response, res->header_names[i], res->header_values[i]);

    ret = MHD_queue_response(connection, (unsigned)res->status, response);
    MHD_destroy_response(response);
    return ret;
}

static enum MHD_Result on_request(void *cls, struct MHD_Connection *connection, const char *url,
                                  const char *method, const char *version,
                                  const char *upload_data, size_t *upload_data_size,
                                  void **con_cls)
{
    struct http_server *server = cls;
    struct request_state *state = *con_cls;
    struct http_request req;
    struct http_response res = {.status = 500};

    (void)version;

    if (state == NULL) {
        state = calloc(1, sizeof(*state));
        if (state == NULL)
            return MHD_NO;
        state->server = server;
        state->connection = connection;
        *con_cls = state;
        return MHD_YES;
    }
    if (*upload_data_size > 0) {
        state_append(state, upload_data, *upload_data_size, server->options.body_max);
        *upload_data_size = 0;
        return MHD_YES;
    }
    if (state->deferred) {
        /* Resumed: the deferred response is here. */
        if (!state->answered)
            return MHD_YES;
        state->answered = 0;
        return send_response(connection, &state->response);
    }

    req.method = method;
    req.path = url;
    req.body = state->body != NULL ? state->body : "";
    req.body_len = state->len;
    req.body_too_large = state->too_large;
    req.connection = connection;
    req.state = state;
    server->handler(server->ctx, &req, &res);
    if (state->deferred)
        return MHD_YES;
    return send_response(connection, &res);
}

struct http_deferred *http_request_defer(const struct http_request *req)
{
    struct request_state *state = req->state;
    struct http_server *server = state->server;

    if (server->options.threads == 0 || state->deferred)
        return NULL;

    pthread_mutex_lock(&server->lock);
    server->owed++;
    pthread_mutex_unlock(&server->lock);
    state->deferred = 1;
    MHD_suspend_connection(state->connection);
    return (struct http_deferred *)state;
}

void http_deferred_respond(struct http_deferred *deferred, struct http_response *res)
{
    struct request_state *state = (struct request_state *)deferred;

    state->response = *res;
    state->answered = 1;
    MHD_resume_connection(state->connection);
}

static void on_completed(void *cls, struct MHD_Connection *connection, void **con_cls,
                         enum MHD_RequestTerminationCode code)
{
    struct http_server *server = cls;
    struct request_state *state = *con_cls;

    (void)connection;
    (void)code;
    if (state == NULL)
        return;
    if (state->deferred) {
        pthread_mutex_lock(&server->lock);
        if (--server->owed == 0)
            pthread_cond_broadcast(&server->drained);
        pthread_mutex_unlock(&server->lock);
    }
    if (state->answered)
        free(state->response.body);
    free(state->body);
    free(state);
    *con_cls = NULL;
}

/* Routes libmicrohttpd's own messages (bind failures, closed clients) to the log. */
static void on_mhd_log(void *cls, const char *fmt, va_list ap)
{
    char line[512];
    size_t len;

    (void)cls;
    vsnprintf(line, sizeof(line), fmt, ap);
    len = strcspn(line, "\n");
    line[len] = '\0';
    log_debug("http: %s", line);
}

/* Starts libmicrohttpd with one thread per connection, or with a pool of
 * epoll threads whose connections can wait suspended. */
static struct MHD_Daemon *start_daemon(struct http_server *server, const struct sockaddr_in *addr,
                                       int port)
{
    const struct http_server_options *options = &server->options;
    unsigned flags = MHD_USE_INTERNAL_POLLING_THREAD | MHD_USE_ERROR_LOG;

    if (options->threads == 0)
        flags |= MHD_USE_THREAD_PER_CONNECTION | MHD_USE_POLL;
    else
        flags |= MHD_USE_EPOLL | MHD_ALLOW_SUSPEND_RESUME | MHD_USE_ITC;

    return MHD_start_daemon(
        flags, (uint16_t)port, NULL, NULL, on_request, server, MHD_OPTION_EXTERNAL_LOGGER,
        on_mhd_log, server, MHD_OPTION_SOCK_ADDR, addr, MHD_OPTION_CONNECTION_LIMIT,
        options->max_connections, MHD_OPTION_CONNECTION_TIMEOUT, options->timeout_s,
        MHD_OPTION_NOTIFY_COMPLETED, on_completed, server, MHD_OPTION_THREAD_STACK_SIZE,
        (size_t)(512 * 1024), MHD_OPTION_LISTENING_ADDRESS_REUSE, 1,
        MHD_OPTION_THREAD_POOL_SIZE, options->threads > 1 ? options->threads : 0, MHD_OPTION_END);
}

struct http_server *http_server_start(const char *host, int port, http_handler_fn handler,
                                      void *ctx, const struct http_server_options *options,
                                      char *errbuf, size_t errlen)
{
    struct http_server *server;
    struct sockaddr_in addr = {.sin_family = AF_INET, .sin_port = htons((uint16_t)port)};

    if (inet_pton(AF_INET, host, &addr.sin_addr) != 1) {
        snprintf(errbuf, errlen, "%s: listen host \"%s\" is not an IPv4 address", options->name,
                 host);
        return NULL;
    }

    server = calloc(1, sizeof(*server));
    if (server == NULL) {
        snprintf(errbuf, errlen, "%s: out of memory", options->name);
        return NULL;
    }
    server->handler = handler;
    server->ctx = ctx;
    server->options = *options;

    pthread_mutex_init(&server->lock, NULL);
    pthread_cond_init(&server->drained, NULL);
    server->daemon = start_daemon(server, &addr, port);
    if (server->daemon == NULL) {
        snprintf(errbuf, errlen, "%s: cannot listen on %s:%d; is the port taken by another process?",
                 options->name, host, port);
        pthread_cond_destroy(&server->drained);
        pthread_mutex_destroy(&server->lock);
        free(server);
        return NULL;
    }
    return server;
}

int http_server_port(const struct http_server *server)
{
    const union MHD_DaemonInfo *info =
        MHD_get_daemon_info(server->daemon, MHD_DAEMON_INFO_BIND_PORT);

    return info != NULL ? info->port : 0;
}

/* Waits until no deferred response is owed or drain_ms passed; returns how
 * many are still owed. */
static long wait_for_drain(struct http_server *server)
{
    struct timespec until;
    long owed;

    clock_gettime(CLOCK_REALTIME, &until);
    until.tv_sec += server->options.drain_ms / 1000;
    until.tv_nsec += (server->options.drain_ms % 1000) * 1000000L;
    if (until.tv_nsec >= 1000000000L) {
        until.tv_sec++;
        until.tv_nsec -= 1000000000L;
    }

    pthread_mutex_lock(&server->lock);
    while (server->owed > 0) {
        if (pthread_cond_timedwait(&server->drained, &server->lock, &until) == ETIMEDOUT)
            break;
    }
    owed = server->owed;
    pthread_mutex_unlock(&server->lock);
    return owed;
}

void http_server_stop(struct http_server *server)
{
    MHD_socket listener;
    long owed;

    if (server == NULL)
        return;
    if (server->options.threads == 0) {
        MHD_stop_daemon(server->daemon);
    } else {
        listener = MHD_quiesce_daemon(server->daemon);
        owed = wait_for_drain(server);
        if (owed > 0) {
            /* A suspended connection's state still belongs to the code that
             * owes its response, so the daemon is left running as the process ends. */
            log_error("%s: %ld responses still owed after %ld ms; exiting without them",
                      server->options.name, owed, server->options.drain_ms);
            return;
        }
        MHD_stop_daemon(server->daemon);
        if (listener != MHD_INVALID_SOCKET)
            close(listener);
    }
    pthread_cond_destroy(&server->drained);
    pthread_mutex_destroy(&server->lock);
    free(server);
}

const char *http_request_header(const struct http_request *req, const char *name)
{
    return MHD_lookup_connection_value(req->connection, MHD_HEADER_KIND, name);
}

const char *http_request_query(const struct http_request *req, const char *name)
{
    return MHD_lookup_connection_value(req->connection, MHD_GET_ARGUMENT_KIND, name);
}

/* Adapts libmicrohttpd's key-value iterator to http_query_visit_fn. */
struct query_walk {
    http_query_visit_fn visit;
    void *ctx;
};

static enum MHD_Result visit_query(void *cls, enum MHD_ValueKind kind, const char *key,
                                   const char *value)
{
    struct query_walk *walk = cls;

    (void)kind;
    return walk->visit(walk->ctx, key, value) == 0 ? MHD_YES : MHD_NO;
}

int http_request_query_each(const struct http_request *req, http_query_visit_fn visit, void *ctx)
{
    struct query_walk walk = {visit, ctx};

    return MHD_get_connection_values(req->connection, MHD_GET_ARGUMENT_KIND, visit_query, &walk);
}

enum vote_lang http_request_lang(const struct http_request *req)
{
    const char *accept = http_request_header(req, MHD_HTTP_HEADER_ACCEPT_LANGUAGE);

    if (accept != NULL && strncasecmp(accept, "en", 2) == 0)
        return VOTE_LANG_EN;
    return VOTE_LANG_ES;
}

int http_request_is_json(const struct http_request *req)
{
    const char *type = http_request_header(req, MHD_HTTP_HEADER_CONTENT_TYPE);
    size_t len = strlen("application/json");

    return type != NULL && strncasecmp(type, "application/json", len) == 0 &&
           (type[len] == '\0' || type[len] == ';' || type[len] == ' ');
}

void http_respond_json(struct http_response *res, int status, char *json_text)
{
    res->status = status;
    res->body = json_text;
    if (json_text == NULL) {
        res->status = 500;
        res->body = strdup("{\"error\":\"internal\",\"message\":\"out of memory\"}");
    }
}

int http_response_add_header(struct http_response *res, const char *name, const char *value)
{
    if (res->header_count == HTTP_EXTRA_HEADERS_MAX)
        return -1;
    res->header_names[res->header_count] = name;
    res->header_values[res->header_count] = value;
    res->header_count++;
    return 0;
}

void http_respond_error(struct http_response *res, int status, const char *code,
                        const char *message, const char *field)
{
    json_t *body = json_pack("{s:s, s:s}", "error", code, "message", message);

    /* A message that is not UTF-8 (it may quote a client's bytes) must not
     * turn the response into a 500, because the code alone still names what failed. */
    if (body == NULL)
        body = json_pack("{s:s, s:s}", "error", code, "message", code);
    if (body != NULL && field != NULL)
        json_object_set_new(body, "field", json_string(field));
    http_respond_json(res, status, body != NULL ? json_dumps(body, JSON_COMPACT) : NULL);
    json_decref(body);
}

static const char *pick(const struct http_request *req, const char *es, const char *en)
{
    return http_request_lang(req) == VOTE_LANG_EN ? en : es;
}

void http_respond_not_found(struct http_response *res, const struct http_request *req)
{
    http_respond_error(res, 404, "not_found",
                       pick(req, "la ruta no existe; los votos se envían a POST /grpc/vote o POST /rest/vote",
                            "no such path; votes go to POST /grpc/vote or POST /rest/vote"),
                       NULL);
}

/* Returns non-zero when method is a short HTTP token (letters only), so it
 * can be echoed in a message. */
static int method_is_printable(const char *method)
{
    size_t len = strlen(method);

    if (len == 0 || len > 16)
        return 0;
    for (size_t i = 0; i < len; i++) {
        if (!((method[i] >= 'A' && method[i] <= 'Z') || (method[i] >= 'a' && method[i] <= 'z')))
            return 0;
    }
    return 1;
}

void http_respond_method_not_allowed(struct http_response *res, const struct http_request *req,
                                     const char *allowed)
{
    char message[160];

    snprintf(message, sizeof(message),
             pick(req, "método %s no permitido en esta ruta; use %s",
                  "method %s is not allowed on this path; use %s"),
             method_is_printable(req->method) ? req->method : pick(req, "desconocido", "unknown"), allowed);
    http_respond_error(res, 405, "method_not_allowed", message, NULL);
    res->allow = allowed;
}

void http_respond_too_large(struct http_response *res, const struct http_request *req,
                            size_t body_max)
{
    char message[160];

    snprintf(message, sizeof(message),
             pick(req, "el cuerpo supera el máximo de %zu bytes; un voto ocupa menos de 1 KiB",
                  "the body exceeds the maximum of %zu bytes; a vote takes less than 1 KiB"),
             body_max);
    http_respond_error(res, 413, "body_too_large", message, NULL);
}

void http_respond_not_json(struct http_response *res, const struct http_request *req)
{
    http_respond_error(res, 415, "unsupported_media_type",
                       pick(req, "envíe el voto con Content-Type: application/json",
                            "send the vote with Content-Type: application/json"),
                       NULL);
}

void http_respond_vote_error(struct http_response *res, const struct http_request *req,
                             const struct vote_error *err)
{
    char message[512];

    vote_error_message(err, http_request_lang(req), message, sizeof(message));
    http_respond_error(res, vote_status_http(err->status), vote_status_code(err->status), message,
                       err->field);
}
