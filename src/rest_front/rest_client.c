#include "rest_client.h"

#include "log.h"

#include <curl/curl.h>
#include <jansson.h>
#include <pthread.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

/* One POST to the producer service; its easy handle is kept for the next. */
struct transfer {
    struct transfer *next;
    CURL *easy;
    char *record;
    char reply[512];
    size_t reply_len;
    front_done_fn done;
    void *opaque;
};

struct rest_client {
    char url[256];
    long timeout_ms;
    struct curl_slist *headers; /* shared, read-only after creation */
    CURLM *multi;
    pthread_t thread;           /* runs drive_transfers */

    pthread_mutex_t lock;       /* guards the fields below */
    struct transfer *incoming;  /* submitted, not yet handed to the multi handle */
    struct transfer *idle;      /* finished, ready for reuse */
    int stopping;
};

static size_t on_body(char *chunk, size_t size, size_t count, void *userdata)
{
    struct transfer *transfer = userdata;
    size_t bytes = size * count;
    size_t room = sizeof(transfer->reply) - 1 - transfer->reply_len;
    size_t kept = bytes < room ? bytes : room;

    memcpy(transfer->reply + transfer->reply_len, chunk, kept);
    transfer->reply_len += kept;
    transfer->reply[transfer->reply_len] = '\0';
    return bytes;
}

/* Reads {"partition": n, "offset": n} from a 201 response. */
static void read_delivery(const struct transfer *transfer, struct producer_result *result)
{
    json_t *body = json_loadb(transfer->reply, transfer->reply_len, 0, NULL);
    json_t *partition = json_object_get(body, "partition");
    json_t *offset = json_object_get(body, "offset");

    if (!json_is_integer(partition) || !json_is_integer(offset)) {
        producer_result_fail(result, PRODUCER_NOT_DELIVERED,
                             "malformed response from the rest producer");
    } else {
        result->status = PRODUCER_DELIVERED;
        result->partition = (int32_t)json_integer_value(partition);
        result->offset = (int64_t)json_integer_value(offset);
        result->error[0] = '\0';
    }
    json_decref(body);
}

/* Reports a finished transfer's outcome and puts it back for reuse. */
static void finish_transfer(struct rest_client *client, struct transfer *transfer, CURLcode code)
{
    struct producer_result result;
    long status = 0;

    curl_multi_remove_handle(client->multi, transfer->easy);
    if (code != CURLE_OK) {
        producer_result_fail(&result, PRODUCER_NOT_DELIVERED, curl_easy_strerror(code));
    } else {
        curl_easy_getinfo(transfer->easy, CURLINFO_RESPONSE_CODE, &status);
        if (status == 201)
            read_delivery(transfer, &result);
        else
            producer_result_fail(&result, PRODUCER_NOT_DELIVERED,
                                 status == 503 ? "the rest producer reported Kafka unavailable"
                                               : "unexpected status from the rest producer");
    }
    transfer->done(transfer->opaque, &result);

    free(transfer->record);
    transfer->record = NULL;
    pthread_mutex_lock(&client->lock);
    transfer->next = client->idle;
    client->idle = transfer;
    pthread_mutex_unlock(&client->lock);
}

/* Hands the submitted transfers to the multi handle and returns how many;
 * sets *stopping once stopping was asked for. */
static int add_incoming(struct rest_client *client, int *stopping)
{
    struct transfer *list, *next;
    int added = 0;

    pthread_mutex_lock(&client->lock);
    list = client->incoming;
    client->incoming = NULL;
    *stopping = client->stopping;
    pthread_mutex_unlock(&client->lock);

    for (; list != NULL; list = next) {
        next = list->next;
        if (curl_multi_add_handle(client->multi, list->easy) != CURLM_OK) {
            finish_transfer(client, list, CURLE_OUT_OF_MEMORY);
            continue;
        }
        added++;
    }
    return added;
}

/* Reports every transfer libcurl has finished; returns how many. */
static int finish_done(struct rest_client *client)
{
    struct transfer *transfer;
    CURLMsg *message;
    int left, finished = 0;

    while ((message = curl_multi_info_read(client->multi, &left)) != NULL) {
        if (message->msg != CURLMSG_DONE)
            continue;
        curl_easy_getinfo(message->easy_handle, CURLINFO_PRIVATE, (char **)&transfer);
        finish_transfer(client, transfer, message->data.result);
        finished++;
    }
    return finished;
}

/* The client's thread: adds new transfers, moves data, reports finished
 * ones, and sleeps in curl_multi_poll until there is work. When asked to
 * stop it still finishes what is in flight. */
static void *drive_transfers(void *arg)
{
    struct rest_client *client = arg;
    int running = 0, in_flight = 0, stopping;

    for (;;) {
        in_flight += add_incoming(client, &stopping);
        if (stopping && in_flight == 0)
            return NULL;
        curl_multi_perform(client->multi, &running);
        in_flight -= finish_done(client);
        curl_multi_poll(client->multi, NULL, 0, 1000, NULL);
    }
}

/* Creates an easy handle with the options every transfer shares. */
static CURL *create_easy(struct rest_client *client)
{
    CURL *easy = curl_easy_init();

    if (easy == NULL)
        return NULL;
    curl_easy_setopt(easy, CURLOPT_URL, client->url);
    curl_easy_setopt(easy, CURLOPT_NOSIGNAL, 1L);
    curl_easy_setopt(easy, CURLOPT_TIMEOUT_MS, client->timeout_ms);
    curl_easy_setopt(easy, CURLOPT_CONNECTTIMEOUT_MS, 1000L);
    curl_easy_setopt(easy, CURLOPT_TCP_NODELAY, 1L);
    curl_easy_setopt(easy, CURLOPT_HTTPHEADER, client->headers);
    curl_easy_setopt(easy, CURLOPT_WRITEFUNCTION, on_body);
    return easy;
}

/* Returns an idle transfer, or a new one; NULL when out of memory. */
static struct transfer *take_transfer(struct rest_client *client)
{
    struct transfer *transfer;

    pthread_mutex_lock(&client->lock);
    transfer = client->idle;
    if (transfer != NULL)
        client->idle = transfer->next;
    pthread_mutex_unlock(&client->lock);
    if (transfer != NULL)
        return transfer;

    transfer = calloc(1, sizeof(*transfer));
    if (transfer == NULL)
        return NULL;
    transfer->easy = create_easy(client);
    if (transfer->easy == NULL) {
        free(transfer);
        return NULL;
    }
    return transfer;
}

void rest_client_submit(void *ctx, const struct vote *vote, front_done_fn done, void *opaque)
{
    struct rest_client *client = ctx;
    struct transfer *transfer = take_transfer(client);
    struct producer_result result;

    if (transfer == NULL || (transfer->record = vote_record_to_json(vote)) == NULL) {
        if (transfer != NULL) {
            curl_easy_cleanup(transfer->easy);
            free(transfer);
        }
        producer_result_fail(&result, PRODUCER_NOT_DELIVERED, "out of memory");
        done(opaque, &result);
        return;
    }
    transfer->reply_len = 0;
    transfer->reply[0] = '\0';
    transfer->done = done;
    transfer->opaque = opaque;
    curl_easy_setopt(transfer->easy, CURLOPT_POSTFIELDS, transfer->record);
    curl_easy_setopt(transfer->easy, CURLOPT_WRITEDATA, transfer);
    curl_easy_setopt(transfer->easy, CURLOPT_PRIVATE, transfer);

    pthread_mutex_lock(&client->lock);
    transfer->next = client->incoming;
    client->incoming = transfer;
    pthread_mutex_unlock(&client->lock);
    curl_multi_wakeup(client->multi);
}

static void free_transfers(struct transfer *list)
{
    struct transfer *next;

    for (; list != NULL; list = next) {
        next = list->next;
        curl_easy_cleanup(list->easy);
        free(list->record);
        free(list);
    }
}

struct rest_client *rest_client_create(const char *base_url, long timeout_ms, long connections)
{
    struct rest_client *client = calloc(1, sizeof(*client));

    if (client == NULL)
        return NULL;
    snprintf(client->url, sizeof(client->url), "%s/votes", base_url);
    client->timeout_ms = timeout_ms;
    /* "Expect:" stops libcurl from waiting for a 100 Continue. */
    client->headers = curl_slist_append(NULL, "Content-Type: application/json");
    client->headers = curl_slist_append(client->headers, "Expect:");
    client->multi = curl_multi_init();
    pthread_mutex_init(&client->lock, NULL);
    if (client->headers == NULL || client->multi == NULL)
        goto fail;
    curl_multi_setopt(client->multi, CURLMOPT_MAX_HOST_CONNECTIONS, connections);
    curl_multi_setopt(client->multi, CURLMOPT_MAXCONNECTS, connections);

    if (pthread_create(&client->thread, NULL, drive_transfers, client) != 0)
        goto fail;
    return client;

fail:
    curl_multi_cleanup(client->multi);
    curl_slist_free_all(client->headers);
    pthread_mutex_destroy(&client->lock);
    free(client);
    return NULL;
}

void rest_client_destroy(struct rest_client *client)
{
    if (client == NULL)
        return;
    pthread_mutex_lock(&client->lock);
    client->stopping = 1;
    pthread_mutex_unlock(&client->lock);
    curl_multi_wakeup(client->multi);
    pthread_join(client->thread, NULL);

    free_transfers(client->incoming);
    free_transfers(client->idle);
    curl_multi_cleanup(client->multi);
    curl_slist_free_all(client->headers);
    pthread_mutex_destroy(&client->lock);
    free(client);
}

void rest_client_close(void *client)
{
    rest_client_destroy(client);
}
