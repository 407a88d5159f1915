#include "stream.h"

#include "http_server.h"
#include "log.h"
#include "vote_id.h"

#include <errno.h>
#include <inttypes.h>
#include <pthread.h>
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>

#define EVENTS_PER_WRITE 64

/* One published vote: its JSON item and the counted_at that orders it. */
struct ring_event {
    uint64_t seq;
    int64_t counted_ms;
    char *data;
};

/* State of the MongoDB tail; only the hub thread touches it. */
struct poll_state {
    int64_t max_counted_ms; /* 0 until the first vote was seen */
    int catching_up;        /* the last poll hit STREAM_POLL_MAX */
    char (*seen)[LOGS_ID_MAX + 1];
    size_t seen_count;
    int failing; /* a failure was logged; the next success is logged too */
};

struct stream_hub {
    struct logs_mongo *mongo;
    struct results_store *results;
    int max_clients;
    int64_t epoch_ms;
    pthread_t thread;

    pthread_mutex_t lock; /* guards every field below */
    pthread_cond_t changed;
    int stopping;
    int closing;
    int clients;
    struct ring_event ring[STREAM_RING_SIZE];
    uint64_t next_seq;
    char *results_json;
    uint64_t results_version;

    struct poll_state poll;
    int results_failing;
};

/* A vote replayed from MongoDB to a client of another process. */
struct replay_event {
    int64_t counted_ms;
    char *data;
};

struct stream_client {
    struct stream_hub *hub;
    uint64_t position; /* seq of the next ring event to send */
    int64_t last_counted_ms;
    uint64_t results_version_sent;
    int64_t last_results_ms;
    int64_t last_write_ms;
    struct replay_event *replay;
    size_t replay_count;
    size_t replay_next;
    char *out;
    size_t out_len;
    size_t out_cap;
    size_t out_sent;
};

static int64_t now_ms(void)
{
    return vote_now_ms();
}

static void deadline_after(struct timespec *deadline, long ms)
{
    clock_gettime(CLOCK_REALTIME, deadline);
    deadline->tv_sec += ms / 1000;
    deadline->tv_nsec += (ms % 1000) * 1000000L;
    if (deadline->tv_nsec >= 1000000000L) {
        deadline->tv_sec++;
        deadline->tv_nsec -= 1000000000L;
    }
}

/* ------------------------------------------------------------- event id */

static int parse_decimal(const char **p, char stop, uint64_t *value)
{
    const char *start = *p;

    *value = 0;
    while (**p >= '0' && **p <= '9') {
        if (*p - start >= 19)
            return -1;
        *value = *value * 10 + (uint64_t)(**p - '0');
        (*p)++;
    }
    if (*p == start || **p != stop)
        return -1;
    if (stop != '\0')
        (*p)++;
    return 0;
}

int stream_parse_event_id(const char *text, int64_t *epoch, uint64_t *position,
                          int64_t *counted_at_ms)
{
    const char *p = text;
    uint64_t e, c;

    if (strlen(text) > 64 || parse_decimal(&p, '.', &e) != 0 ||
        parse_decimal(&p, '.', position) != 0 || parse_decimal(&p, '\0', &c) != 0)
        return -1;
    *epoch = (int64_t)e;
    *counted_at_ms = (int64_t)c;
    return 0;
}

/* --------------------------------------------------------------- output */

__attribute__((format(printf, 2, 3))) static int out_printf(struct stream_client *client,
                                                            const char *fmt, ...)
{
    va_list args;
    int needed;

    va_start(args, fmt);
    needed = vsnprintf(NULL, 0, fmt, args);
    va_end(args);
    if (needed < 0)
        return -1;
    if (client->out_len + (size_t)needed + 1 > client->out_cap) {
        size_t cap = (client->out_len + (size_t)needed + 1) * 2;
        char *grown = realloc(client->out, cap);

        if (grown == NULL)
            return -1;
        client->out = grown;
        client->out_cap = cap;
    }
    va_start(args, fmt);
    vsnprintf(client->out + client->out_len, client->out_cap - client->out_len, fmt, args);
    va_end(args);
    client->out_len += (size_t)needed;
    return 0;
}

static int append_event(struct stream_client *client, const char *name, const char *data)
{
    return out_printf(client, "event: %s\nid: %" PRId64 ".%" PRIu64 ".%" PRId64 "\ndata: %s\n\n",
                      name, client->hub->epoch_ms, client->position, client->last_counted_ms,
                      data);
}

/* ---------------------------------------------------------------- client */

/* Stores one replayed document; the visit callback of the resume query. */
static void collect_replay(void *ctx, const bson_t *document)
{
    struct stream_client *client = ctx;
    json_t *item = logs_document_json(document, NULL);
    bson_iter_t iter;
    char *data;

    if (item == NULL || !bson_iter_init_find(&iter, document, "counted_at") ||
        !BSON_ITER_HOLDS_DATE_TIME(&iter)) {
        json_decref(item);
        return;
    }
    data = json_dumps(item, API_JSON_FLAGS);
    json_decref(item);
    if (data == NULL)
        return;
    client->replay[client->replay_count].counted_ms = bson_iter_date_time(&iter);
    client->replay[client->replay_count].data = data;
    client->replay_count++;
}

/* Sets the client's start: its ring position when last_event_id comes from
 * this process and is still in the ring, otherwise the ring's head plus the
 * votes replayed from MongoDB. Called with the hub unlocked. */
static void resume_client(struct stream_client *client, const char *last_event_id)
{
    struct stream_hub *hub = client->hub;
    uint64_t position, oldest;
    int64_t epoch, counted_ms;
    char errbuf[256];

    pthread_mutex_lock(&hub->lock);
    client->position = hub->next_seq;
    oldest = hub->next_seq > STREAM_RING_SIZE ? hub->next_seq - STREAM_RING_SIZE : 0;
    pthread_mutex_unlock(&hub->lock);

    if (last_event_id == NULL)
        return;
    if (stream_parse_event_id(last_event_id, &epoch, &position, &counted_ms) != 0) {
        log_debug("stream: ignoring a malformed Last-Event-ID");
        return;
    }
    client->last_counted_ms = counted_ms;
    if (epoch == hub->epoch_ms && position >= oldest && position <= client->position) {
        client->position = position;
        return;
    }
    if (counted_ms == 0)
        return;

    client->replay = calloc(STREAM_REPLAY_MAX, sizeof(*client->replay));
    if (client->replay == NULL)
        return;
    /* NOTE: a client that was away for more than STREAM_REPLAY_MAX votes
     * gets only the oldest of them; its `reopened` refetch fills the page. */
    if (logs_mongo_counted_since(hub->mongo, counted_ms - STREAM_LOOKBACK_MS, STREAM_REPLAY_MAX,
                                 collect_replay, client, errbuf, sizeof(errbuf)) < 0)
        log_warn("stream: cannot replay votes to a resuming client: %s", errbuf);
}

struct stream_client *stream_client_open(struct stream_hub *hub, const char *last_event_id)
{
    struct stream_client *client;

    pthread_mutex_lock(&hub->lock);
    if (hub->clients >= hub->max_clients || hub->closing) {
        pthread_mutex_unlock(&hub->lock);
        return NULL;
    }
    hub->clients++;
    pthread_mutex_unlock(&hub->lock);

    client = calloc(1, sizeof(*client));
    if (client == NULL) {
        pthread_mutex_lock(&hub->lock);
        hub->clients--;
        pthread_mutex_unlock(&hub->lock);
        return NULL;
    }
    client->hub = hub;
    client->last_write_ms = now_ms();
    resume_client(client, last_event_id);
    /* Browsers wait this long before reconnecting after a dropped stream. */
    out_printf(client, "retry: 2000\n\n");
    return client;
}

void stream_client_free(void *ctx)
{
    struct stream_client *client = ctx;
    struct stream_hub *hub = client->hub;

    for (size_t i = 0; i < client->replay_count; i++)
        free(client->replay[i].data);
    free(client->replay);
    free(client->out);
    free(client);

    pthread_mutex_lock(&hub->lock);
    hub->clients--;
    pthread_cond_broadcast(&hub->changed);
    pthread_mutex_unlock(&hub->lock);
}

static int append_replay(struct stream_client *client)
{
    for (int n = 0; n < EVENTS_PER_WRITE && client->replay_next < client->replay_count; n++) {
        struct replay_event *event = &client->replay[client->replay_next++];

        client->last_counted_ms = event->counted_ms;
        if (append_event(client, "log", event->data) != 0)
            return -1;
        free(event->data);
        event->data = NULL;
    }
    return 0;
}

/* Appends the ring events from the client's position; the hub is locked. */
static int append_ring(struct stream_client *client)
{
    struct stream_hub *hub = client->hub;

    for (int n = 0; n < EVENTS_PER_WRITE && client->position < hub->next_seq; n++) {
        const struct ring_event *event = &hub->ring[client->position % STREAM_RING_SIZE];

        client->position++;
        client->last_counted_ms = event->counted_ms;
        if (append_event(client, "log", event->data) != 0)
            return -1;
    }
    return 0;
}

/* Next step of a client's stream, chosen with the hub locked. */
enum next_step { STEP_WAIT, STEP_WRITE, STEP_END };

static enum next_step choose_step(struct stream_client *client, int64_t now)
{
    struct stream_hub *hub = client->hub;
    uint64_t oldest = hub->next_seq > STREAM_RING_SIZE ? hub->next_seq - STREAM_RING_SIZE : 0;

    if (hub->closing)
        return STEP_END;
    if (client->position < oldest) {
        /* The client fell a whole ring behind. Ending the stream makes the
         * browser reconnect with Last-Event-ID, which replays from MongoDB. */
        log_info("stream: a client fell %" PRIu64 " votes behind; closing its stream",
                 hub->next_seq - client->position);
        return STEP_END;
    }
    if (client->position < hub->next_seq)
        return append_ring(client) == 0 ? STEP_WRITE : STEP_END;
    if (hub->results_json != NULL && hub->results_version != client->results_version_sent &&
        now - client->last_results_ms >= STREAM_RESULTS_MS) {
        client->results_version_sent = hub->results_version;
        client->last_results_ms = now;
        return append_event(client, "results", hub->results_json) == 0 ? STEP_WRITE : STEP_END;
    }
    if (now - client->last_write_ms >= STREAM_KEEPALIVE_MS)
        return out_printf(client, ": keep-alive\n\n") == 0 ? STEP_WRITE : STEP_END;
    return STEP_WAIT;
}

/* Fills the client's output, waiting for the hub when there is nothing to
 * send. Returns 0, or -1 when the stream ends. */
static int fill_output(struct stream_client *client)
{
    struct stream_hub *hub = client->hub;
    struct timespec deadline;
    enum next_step step;

    if (client->replay_next < client->replay_count)
        return append_replay(client);

    pthread_mutex_lock(&hub->lock);
    for (;;) {
        step = choose_step(client, now_ms());
        if (step != STEP_WAIT)
            break;
        deadline_after(&deadline, 250);
        pthread_cond_timedwait(&hub->changed, &hub->lock, &deadline);
    }
    pthread_mutex_unlock(&hub->lock);
    return step == STEP_WRITE ? 0 : -1;
}

ssize_t stream_client_read(void *ctx, uint64_t pos, char *buf, size_t max)
{
    struct stream_client *client = ctx;
    size_t n;

    (void)pos;
    if (client->out_sent == client->out_len) {
        client->out_len = 0;
        client->out_sent = 0;
        if (fill_output(client) != 0)
            return HTTP_STREAM_END;
    }
    n = client->out_len - client->out_sent;
    if (n > max)
        n = max;
    memcpy(buf, client->out + client->out_sent, n);
    client->out_sent += n;
    client->last_write_ms = now_ms();
    return (ssize_t)n;
}

/* ------------------------------------------------------------------- hub */

static void refresh_results(struct stream_hub *hub)
{
    struct results_snapshot snapshot;
    char errbuf[256], *text = NULL;
    json_t *json;

    if (results_store_read(hub->results, now_ms() / 1000, &snapshot, errbuf, sizeof(errbuf)) !=
        0) {
        if (!hub->results_failing)
            log_warn("stream: cannot read the tally for the results event: %s", errbuf);
        hub->results_failing = 1;
        results_snapshot_free(&snapshot);
        return;
    }
    if (hub->results_failing)
        log_info("stream: reading the tally works again");
    hub->results_failing = 0;
    json = results_snapshot_json(&snapshot);
    results_snapshot_free(&snapshot);
    text = json != NULL ? json_dumps(json, API_JSON_FLAGS) : NULL;
    json_decref(json);
    if (text == NULL)
        return;

    /* Only this thread writes results_json, so reading it unlocked is safe. */
    if (hub->results_json != NULL && strcmp(hub->results_json, text) == 0) {
        free(text);
        return;
    }
    pthread_mutex_lock(&hub->lock);
    free(hub->results_json);
    hub->results_json = text;
    hub->results_version++;
    pthread_cond_broadcast(&hub->changed);
    pthread_mutex_unlock(&hub->lock);
}

/* The documents of one poll: every id read (the next poll's seen set) and
 * the votes not published before. */
struct poll_batch {
    const struct poll_state *poll;
    char (*ids)[LOGS_ID_MAX + 1];
    size_t id_count;
    struct ring_event *fresh;
    size_t fresh_count;
    int64_t max_counted_ms;
};

static int compare_ids(const void *a, const void *b)
{
    return strcmp(a, b);
}

static int was_seen(const struct poll_state *poll, const char *id)
{
    return poll->seen_count > 0 &&
           bsearch(id, poll->seen, poll->seen_count, sizeof(*poll->seen), compare_ids) != NULL;
}

static void collect_poll(void *ctx, const bson_t *document)
{
    struct poll_batch *batch = ctx;
    bson_iter_t id_iter, counted_iter;
    int64_t counted_ms;
    const char *id;
    json_t *item;

    if (!bson_iter_init_find(&id_iter, document, "_id") || !BSON_ITER_HOLDS_UTF8(&id_iter) ||
        !bson_iter_init_find(&counted_iter, document, "counted_at") ||
        !BSON_ITER_HOLDS_DATE_TIME(&counted_iter))
        return;
    id = bson_iter_utf8(&id_iter, NULL);
    counted_ms = bson_iter_date_time(&counted_iter);
    if (strlen(id) > LOGS_ID_MAX)
        return;
    snprintf(batch->ids[batch->id_count++], LOGS_ID_MAX + 1, "%s", id);
    if (counted_ms > batch->max_counted_ms)
        batch->max_counted_ms = counted_ms;
    if (was_seen(batch->poll, id))
        return;

    item = logs_document_json(document, NULL);
    if (item == NULL)
        return;
    batch->fresh[batch->fresh_count].counted_ms = counted_ms;
    batch->fresh[batch->fresh_count].data = json_dumps(item, API_JSON_FLAGS);
    json_decref(item);
    if (batch->fresh[batch->fresh_count].data != NULL)
        batch->fresh_count++;
}

static void publish(struct stream_hub *hub, struct poll_batch *batch)
{
    if (batch->fresh_count == 0)
        return;
    pthread_mutex_lock(&hub->lock);
    for (size_t i = 0; i < batch->fresh_count; i++) {
        struct ring_event *slot = &hub->ring[hub->next_seq % STREAM_RING_SIZE];

        free(slot->data);
        slot->seq = hub->next_seq++;
        slot->counted_ms = batch->fresh[i].counted_ms;
        slot->data = batch->fresh[i].data;
        batch->fresh[i].data = NULL;
    }
    pthread_cond_broadcast(&hub->changed);
    pthread_mutex_unlock(&hub->lock);
}

/* Reads the votes counted since the lookback point and publishes the new
 * ones. While catching up after a full poll it reads from the newest
 * counted_at without lookback, so a backlog larger than STREAM_POLL_MAX
 * still advances.
 * NOTE: a vote written more than STREAM_LOOKBACK_MS after a newer one (a
 * tally insert slower than that) is not published; /api/logs still has it. */
static void poll_logs(struct stream_hub *hub)
{
    struct poll_state *poll = &hub->poll;
    struct poll_batch batch = {.poll = poll};
    int64_t since;
    char errbuf[256];
    long count;

    since = poll->max_counted_ms == 0 ? now_ms() - STREAM_LOOKBACK_MS
            : poll->catching_up      ? poll->max_counted_ms
                                     : poll->max_counted_ms - STREAM_LOOKBACK_MS;
    batch.ids = calloc(STREAM_POLL_MAX, sizeof(*batch.ids));
    batch.fresh = calloc(STREAM_POLL_MAX, sizeof(*batch.fresh));
    if (batch.ids == NULL || batch.fresh == NULL)
        goto out;

    count = logs_mongo_counted_since(hub->mongo, since, STREAM_POLL_MAX, collect_poll, &batch,
                                    errbuf, sizeof(errbuf));
    if (count < 0) {
        if (!poll->failing)
            log_warn("stream: %s; retrying every %d ms", errbuf, STREAM_POLL_MS);
        poll->failing = 1;
        goto out;
    }
    if (poll->failing)
        log_info("stream: reading vote logs works again");
    poll->failing = 0;

    publish(hub, &batch);
    qsort(batch.ids, batch.id_count, sizeof(*batch.ids), compare_ids);
    free(poll->seen);
    poll->seen = batch.ids;
    poll->seen_count = batch.id_count;
    batch.ids = NULL;
    if (batch.max_counted_ms > poll->max_counted_ms)
        poll->max_counted_ms = batch.max_counted_ms;
    poll->catching_up = count == STREAM_POLL_MAX;

out:
    for (size_t i = 0; batch.fresh != NULL && i < batch.fresh_count; i++)
        free(batch.fresh[i].data);
    free(batch.fresh);
    free(batch.ids);
}

/* Forgets the tail while no client listens, so the next client starts at
 * the votes of the last STREAM_LOOKBACK_MS instead of a stale backlog. */
static void reset_poll(struct poll_state *poll)
{
    free(poll->seen);
    poll->seen = NULL;
    poll->seen_count = 0;
    poll->max_counted_ms = 0;
    poll->catching_up = 0;
}

static void *run_hub(void *arg)
{
    struct stream_hub *hub = arg;
    int64_t last_results_ms = 0;
    struct timespec deadline;
    int clients, stopping;

    for (;;) {
        pthread_mutex_lock(&hub->lock);
        clients = hub->clients;
        stopping = hub->stopping;
        pthread_mutex_unlock(&hub->lock);
        if (stopping)
            break;

        if (clients == 0) {
            reset_poll(&hub->poll);
        } else {
            if (now_ms() - last_results_ms >= STREAM_RESULTS_MS) {
                last_results_ms = now_ms();
                refresh_results(hub);
            }
            poll_logs(hub);
        }

        pthread_mutex_lock(&hub->lock);
        deadline_after(&deadline, hub->poll.catching_up ? 10 : STREAM_POLL_MS);
        if (!hub->stopping)
            pthread_cond_timedwait(&hub->changed, &hub->lock, &deadline);
        pthread_mutex_unlock(&hub->lock);
    }
    return NULL;
}

struct stream_hub *stream_hub_start(struct logs_mongo *mongo, struct results_store *results,
                                    int max_clients, char *errbuf, size_t errlen)
{
    struct stream_hub *hub = calloc(1, sizeof(*hub));
    pthread_condattr_t attr;
    int rc;

    if (hub == NULL) {
        snprintf(errbuf, errlen, "out of memory for the stream hub");
        return NULL;
    }
    hub->mongo = mongo;
    hub->results = results;
    hub->max_clients = max_clients;
    hub->epoch_ms = now_ms();
    pthread_mutex_init(&hub->lock, NULL);
    pthread_condattr_init(&attr);
    pthread_cond_init(&hub->changed, &attr);
    pthread_condattr_destroy(&attr);

    rc = pthread_create(&hub->thread, NULL, run_hub, hub);
    if (rc != 0) {
        snprintf(errbuf, errlen, "cannot start the stream thread: %s", strerror(rc));
        pthread_mutex_destroy(&hub->lock);
        pthread_cond_destroy(&hub->changed);
        free(hub);
        return NULL;
    }
    return hub;
}

void stream_hub_close_clients(struct stream_hub *hub)
{
    pthread_mutex_lock(&hub->lock);
    hub->closing = 1;
    pthread_cond_broadcast(&hub->changed);
    pthread_mutex_unlock(&hub->lock);
}

void stream_hub_stop(struct stream_hub *hub)
{
    if (hub == NULL)
        return;
    pthread_mutex_lock(&hub->lock);
    hub->closing = 1;
    hub->stopping = 1;
    pthread_cond_broadcast(&hub->changed);
    pthread_mutex_unlock(&hub->lock);
    pthread_join(hub->thread, NULL);

    for (size_t i = 0; i < STREAM_RING_SIZE; i++)
        free(hub->ring[i].data);
    free(hub->results_json);
    free(hub->poll.seen);
    pthread_mutex_destroy(&hub->lock);
    pthread_cond_destroy(&hub->changed);
    free(hub);
}

int stream_hub_client_count(struct stream_hub *hub)
{
    int clients;

    pthread_mutex_lock(&hub->lock);
    clients = hub->clients;
    pthread_mutex_unlock(&hub->lock);
    return clients;
}
