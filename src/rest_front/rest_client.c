#include "rest_client.h"

#include "log.h"

#include <curl/curl.h>
#include <jansson.h>
#include <pthread.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

struct rest_client {
    char url[256];
    long timeout_ms;
    pthread_key_t handle_key; /* this thread's CURL easy handle: its connection */
    struct curl_slist *headers; /* shared, read-only after creation */
};

struct reply_buffer {
    char data[512];
    size_t len;
};

static size_t on_body(char *chunk, size_t size, size_t count, void *userdata)
{
    struct reply_buffer *reply = userdata;
    size_t bytes = size * count;
    size_t room = sizeof(reply->data) - 1 - reply->len;
    size_t kept = bytes < room ? bytes : room;

    memcpy(reply->data + reply->len, chunk, kept);
    reply->len += kept;
    reply->data[reply->len] = '\0';
    return bytes;
}

static void free_handle(void *handle)
{
    curl_easy_cleanup(handle);
}

struct rest_client *rest_client_create(const char *base_url, long timeout_ms)
{
    struct rest_client *client = calloc(1, sizeof(*client));

    if (client == NULL)
        return NULL;
    snprintf(client->url, sizeof(client->url), "%s/votes", base_url);
    client->timeout_ms = timeout_ms;
    /* "Expect:" stops libcurl from waiting for a 100 Continue. */
    client->headers = curl_slist_append(NULL, "Content-Type: application/json");
    client->headers = curl_slist_append(client->headers, "Expect:");
    if (client->headers == NULL || pthread_key_create(&client->handle_key, free_handle) != 0) {
        curl_slist_free_all(client->headers);
        free(client);
        return NULL;
    }
    return client;
}

void rest_client_destroy(struct rest_client *client)
{
    if (client == NULL)
        return;
    pthread_key_delete(client->handle_key);
    curl_slist_free_all(client->headers);
    free(client);
}

/* Returns this thread's handle, creating it on first use; libcurl keeps its
 * connection open between requests. */
static CURL *thread_handle(struct rest_client *client)
{
    CURL *handle = pthread_getspecific(client->handle_key);

    if (handle != NULL)
        return handle;

    handle = curl_easy_init();
    if (handle == NULL)
        return NULL;
    curl_easy_setopt(handle, CURLOPT_URL, client->url);
    curl_easy_setopt(handle, CURLOPT_NOSIGNAL, 1L);
    curl_easy_setopt(handle, CURLOPT_TIMEOUT_MS, client->timeout_ms);
    curl_easy_setopt(handle, CURLOPT_CONNECTTIMEOUT_MS, 1000L);
    curl_easy_setopt(handle, CURLOPT_TCP_NODELAY, 1L);
    curl_easy_setopt(handle, CURLOPT_HTTPHEADER, client->headers);
    curl_easy_setopt(handle, CURLOPT_WRITEFUNCTION, on_body);
    pthread_setspecific(client->handle_key, handle);
    return handle;
}

static void fail(struct producer_result *result, const char *reason)
{
    result->status = PRODUCER_NOT_DELIVERED;
    result->partition = -1;
    result->offset = -1;
    snprintf(result->error, sizeof(result->error), "%s", reason);
}

/* Reads {"partition": n, "offset": n} from a 201 response. */
static void read_delivery(const struct reply_buffer *reply, struct producer_result *result)
{
    json_t *body = json_loadb(reply->data, reply->len, 0, NULL);
    json_t *partition = json_object_get(body, "partition");
    json_t *offset = json_object_get(body, "offset");

    if (!json_is_integer(partition) || !json_is_integer(offset)) {
        fail(result, "malformed response from the rest producer");
    } else {
        result->status = PRODUCER_DELIVERED;
        result->partition = (int32_t)json_integer_value(partition);
        result->offset = (int64_t)json_integer_value(offset);
        result->error[0] = '\0';
    }
    json_decref(body);
}

void rest_client_submit(void *ctx, const struct vote *vote, struct producer_result *result)
{
    struct rest_client *client = ctx;
    CURL *handle = thread_handle(client);
    struct reply_buffer reply = {.len = 0};
    char *record = vote_record_to_json(vote);
    CURLcode code;
    long status = 0;

    if (handle == NULL || record == NULL) {
        free(record);
        fail(result, "out of memory");
        return;
    }
    reply.data[0] = '\0';
    curl_easy_setopt(handle, CURLOPT_POSTFIELDS, record);
    curl_easy_setopt(handle, CURLOPT_WRITEDATA, &reply);

    code = curl_easy_perform(handle);
    free(record);
    if (code != CURLE_OK) {
        fail(result, curl_easy_strerror(code));
        return;
    }
    curl_easy_getinfo(handle, CURLINFO_RESPONSE_CODE, &status);
    if (status == 201)
        read_delivery(&reply, result);
    else
        fail(result, status == 503 ? "the rest producer reported Kafka unavailable"
                                   : "unexpected status from the rest producer");
}
