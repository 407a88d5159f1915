/* A small HTTP/1.1 server on libmicrohttpd for urna's services. It runs in
 * one of two modes. With one thread per connection a handler may block, as
 * the logs API's event streams do. With a few epoll threads, a handler that
 * waits for another hop defers its response and gives it later from any
 * thread, so a request in flight costs memory but no thread. */
#ifndef URNA_HTTP_SERVER_H
#define URNA_HTTP_SERVER_H

#include <stddef.h>
#include <stdint.h>
#include <sys/types.h>

#include "vote.h"

#define HTTP_BODY_MAX_DEFAULT 16384 /* bytes; larger bodies get 413 */
#define HTTP_EXTRA_HEADERS_MAX 6

/* Return value of a stream reader that ends the response body. */
#define HTTP_STREAM_END ((ssize_t)-1)

struct MHD_Connection;
struct http_server;
struct http_deferred;

struct http_request {
    const char *method;
    const char *path;
    const char *body; /* NUL-terminated copy of the body */
    size_t body_len;
    int body_too_large; /* the body exceeded the limit and was discarded */
    struct MHD_Connection *connection;
    void *state; /* the server's own, for http_request_defer */
};

/* Fills buf with up to max bytes of a streamed body and returns how many it
 * wrote, or HTTP_STREAM_END. It runs on the connection's thread and may
 * block, but it must not return 0 (the server would call it again at once),
 * so a reader with nothing to send waits or writes a keep-alive. */
typedef ssize_t (*http_stream_read_fn)(void *ctx, uint64_t pos, char *buf, size_t max);

/* Frees a stream's ctx once the response is done or the client went away. */
typedef void (*http_stream_free_fn)(void *ctx);

struct http_response {
    int status;
    char *body;               /* malloc'd; the server frees it */
    const char *content_type; /* defaults to application/json */
    int retry_after_s;        /* sends Retry-After when > 0 */
    const char *allow;        /* sends Allow (for 405) when not NULL */
    /* Further headers; add them with http_response_add_header. */
    const char *header_names[HTTP_EXTRA_HEADERS_MAX];
    const char *header_values[HTTP_EXTRA_HEADERS_MAX];
    int header_count;
    /* When stream_read is set, the body is streamed from it (chunked, no
     * length) and body is ignored. The server calls stream_free(stream_ctx)
     * exactly once, also when the response could not be created. */
    http_stream_read_fn stream_read;
    http_stream_free_fn stream_free;
    void *stream_ctx;
};

/* Called once per complete request, on the connection's thread. The handler
 * fills res; leaving res->body NULL sends an empty body. */
typedef void (*http_handler_fn)(void *ctx, const struct http_request *req,
                                struct http_response *res);

struct http_server_options {
    size_t body_max;         /* bytes */
    unsigned max_connections;
    unsigned timeout_s;      /* idle or trickling connections are cut after this */
    unsigned threads;        /* epoll threads; 0 means one thread per connection */
    long drain_ms;           /* how long stopping waits for deferred responses */
    const char *name;        /* for log lines */
};

/* Reads URNA_HTTP_MAX_CONNECTIONS and URNA_HTTP_TIMEOUT_S into options, with
 * one thread per connection. */
int http_server_options_from_env(struct http_server_options *options, const char *name,
                                 char *errbuf, size_t errlen);

/* Switches options to epoll threads, as many as URNA_HTTP_THREADS (2 by
 * default). A handler that blocks stalls every connection of its thread, so
 * only services whose handlers return quickly use it. */
int http_server_options_pooled(struct http_server_options *options, char *errbuf, size_t errlen);

/* Binds host:port and starts serving. Returns NULL with errbuf filled. */
struct http_server *http_server_start(const char *host, int port, http_handler_fn handler,
                                      void *ctx, const struct http_server_options *options,
                                      char *errbuf, size_t errlen);

/* Returns the port the server listens on; useful after starting on port 0,
 * where the kernel picks a free one. Returns 0 when it is unknown. */
int http_server_port(const struct http_server *server);

/* Stops accepting, waits up to options.drain_ms for deferred responses still
 * owed, then closes every connection, waits for the threads, and frees. */
void http_server_stop(struct http_server *server);

/* Called in a handler of a pooled server (threads > 0) that cannot respond
 * yet: the connection waits, without a thread, until http_deferred_respond.
 * The handler leaves res untouched and must make sure http_deferred_respond
 * is called exactly once. Returns NULL when the request cannot wait (out of
 * memory, or a server with one thread per connection), and then the handler
 * responds as usual. */
struct http_deferred *http_request_defer(const struct http_request *req);

/* Gives a deferred request its response; may be called from any thread, also
 * before the handler returned. Takes res's body as the handler would. */
void http_deferred_respond(struct http_deferred *deferred, struct http_response *res);

/* Returns the value of a request header, or NULL. */
const char *http_request_header(const struct http_request *req, const char *name);

/* Returns the value of a query-string argument, or NULL. */
const char *http_request_query(const struct http_request *req, const char *name);

/* Called once per query-string argument in request order; value is NULL for
 * an argument without "=". A non-zero return stops the walk. */
typedef int (*http_query_visit_fn)(void *ctx, const char *name, const char *value);

/* Walks every query-string argument, duplicates included; returns how many
 * it visited. */
int http_request_query_each(const struct http_request *req, http_query_visit_fn visit, void *ctx);

/* English when Accept-Language starts with "en", Spanish otherwise. */
enum vote_lang http_request_lang(const struct http_request *req);

/* Returns non-zero when Content-Type is application/json (parameters allowed). */
int http_request_is_json(const struct http_request *req);

/* Fills res with {"error": code, "message": message, "field": field}. */
void http_respond_error(struct http_response *res, int status, const char *code,
                        const char *message, const char *field);

/* Answers the request classes every service shares (404, 405, 413, 415) with a
 * Spanish or English message. */
void http_respond_not_found(struct http_response *res, const struct http_request *req);
void http_respond_method_not_allowed(struct http_response *res, const struct http_request *req,
                                     const char *allowed);
void http_respond_too_large(struct http_response *res, const struct http_request *req,
                            size_t body_max);
void http_respond_not_json(struct http_response *res, const struct http_request *req);

/* Fills res with a rejected vote's error body and status. */
void http_respond_vote_error(struct http_response *res, const struct http_request *req,
                             const struct vote_error *err);

/* Fills res with a JSON body (takes the malloc'd text). */
void http_respond_json(struct http_response *res, int status, char *json_text);

/* Adds a response header; name and value must stay valid until the handler
 * returns. Returns 0, or -1 when HTTP_EXTRA_HEADERS_MAX headers are set. */
int http_response_add_header(struct http_response *res, const char *name, const char *value);

#endif
