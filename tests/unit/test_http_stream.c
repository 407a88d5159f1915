/* Tests of the HTTP server's streamed responses and extra headers, through
 * a real server on loopback and libcurl. */
#include "../../src/common/http_server.h"
#include "check.h"

#include <curl/curl.h>
#include <stdatomic.h>
#include <stdlib.h>
#include <string.h>

static const char *const chunks[] = {"data: one\n\n", "data: two\n\n", "data: three\n\n"};

struct chunk_stream {
    size_t next;
};

static atomic_int streams_freed;

static ssize_t read_chunks(void *ctx, uint64_t pos, char *buf, size_t max)
{
    struct chunk_stream *stream = ctx;
    size_t len;

    (void)pos;
    if (stream->next == sizeof(chunks) / sizeof(chunks[0]))
        return HTTP_STREAM_END;
    len = strlen(chunks[stream->next]);
    if (len > max)
        len = max;
    memcpy(buf, chunks[stream->next++], len);
    return (ssize_t)len;
}

static void free_chunks(void *ctx)
{
    free(ctx);
    atomic_fetch_add(&streams_freed, 1);
}

static void on_request(void *ctx, const struct http_request *req, struct http_response *res)
{
    (void)ctx;
    if (strcmp(req->path, "/stream") == 0) {
        res->status = 200;
        res->content_type = "text/event-stream";
        res->stream_read = read_chunks;
        res->stream_free = free_chunks;
        res->stream_ctx = calloc(1, sizeof(struct chunk_stream));
        http_response_add_header(res, "Cache-Control", "no-cache");
        return;
    }
    http_respond_json(res, 200, strdup("{\"ok\":true}"));
    http_response_add_header(res, "X-Urna-Test", "yes");
}

struct fetched {
    char body[256];
    size_t len;
    char headers[1024];
    size_t headers_len;
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

static size_t on_header(char *data, size_t size, size_t count, void *userdata)
{
    struct fetched *out = userdata;
    size_t n = size * count;

    if (out->headers_len + n < sizeof(out->headers)) {
        memcpy(out->headers + out->headers_len, data, n);
        out->headers_len += n;
        out->headers[out->headers_len] = '\0';
    }
    return n;
}

static long fetch(int port, const char *path, struct fetched *out)
{
    CURL *curl = curl_easy_init();
    char url[128];
    long status = 0;

    memset(out, 0, sizeof(*out));
    snprintf(url, sizeof(url), "http://127.0.0.1:%d%s", port, path);
    curl_easy_setopt(curl, CURLOPT_URL, url);
    curl_easy_setopt(curl, CURLOPT_TIMEOUT_MS, 5000L);
    curl_easy_setopt(curl, CURLOPT_WRITEFUNCTION, on_body);
    curl_easy_setopt(curl, CURLOPT_WRITEDATA, out);
    curl_easy_setopt(curl, CURLOPT_HEADERFUNCTION, on_header);
    curl_easy_setopt(curl, CURLOPT_HEADERDATA, out);
    if (curl_easy_perform(curl) == CURLE_OK)
        curl_easy_getinfo(curl, CURLINFO_RESPONSE_CODE, &status);
    curl_easy_cleanup(curl);
    return status;
}

int main(void)
{
    struct http_server_options options = {
        .body_max = 1024, .max_connections = 8, .timeout_s = 5, .name = "test"};
    int port = 0;
    struct http_server *server;
    struct fetched out;
    char errbuf[256];

    curl_global_init(CURL_GLOBAL_DEFAULT);
    /* Port 0: the kernel picks a free port, read back below. */
    server = http_server_start("127.0.0.1", 0, on_request, NULL, &options, errbuf,
                               sizeof(errbuf));
    CHECK(server != NULL);
    if (server == NULL)
        fprintf(stderr, "http server did not start: %s\n", errbuf);
    if (server != NULL) {
        port = http_server_port(server);
        CHECK(port > 0);
        CHECK_INT(fetch(port, "/stream", &out), 200, "stream status");
        CHECK_STR(out.body, "data: one\n\ndata: two\n\ndata: three\n\n", "streamed body");
        CHECK(strstr(out.headers, "Transfer-Encoding: chunked") != NULL);
        CHECK(strstr(out.headers, "Cache-Control: no-cache") != NULL);
        CHECK(strstr(out.headers, "Content-Type: text/event-stream") != NULL);

        CHECK_INT(fetch(port, "/plain", &out), 200, "buffer status");
        CHECK_STR(out.body, "{\"ok\":true}", "buffer body");
        CHECK(strstr(out.headers, "X-Urna-Test: yes") != NULL);
        http_server_stop(server);
    }
    CHECK_INT(atomic_load(&streams_freed), 1, "stream freed once");
    curl_global_cleanup();
    return check_exit("http_stream");
}
