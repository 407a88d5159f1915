#include "handoff.h"

#include <pthread.h>
#include <stdlib.h>

struct slot {
    void *batch;
    size_t votes;
};

struct handoff {
    handoff_fn finish;
    void *ctx;
    pthread_t thread;

    pthread_mutex_t lock; /* guards everything below */
    pthread_cond_t changed;
    struct slot *ring;
    size_t capacity;
    size_t head;          /* next batch to finish */
    size_t queued;
    size_t pending_votes; /* queued plus the batch being finished */
    int stopping;
};

/* The handoff's thread: finishes batches in the order they were pushed until
 * stopped with nothing left. */
static void *finish_batches(void *arg)
{
    struct handoff *handoff = arg;
    struct slot slot;

    pthread_mutex_lock(&handoff->lock);
    for (;;) {
        while (handoff->queued == 0 && !handoff->stopping)
            pthread_cond_wait(&handoff->changed, &handoff->lock);
        if (handoff->queued == 0)
            break;
        slot = handoff->ring[handoff->head];
        pthread_mutex_unlock(&handoff->lock);

        handoff->finish(handoff->ctx, slot.batch);

        pthread_mutex_lock(&handoff->lock);
        handoff->head = (handoff->head + 1) % handoff->capacity;
        handoff->queued--;
        handoff->pending_votes -= slot.votes;
        pthread_cond_broadcast(&handoff->changed);
    }
    pthread_mutex_unlock(&handoff->lock);
    return NULL;
}

struct handoff *handoff_start(size_t capacity, handoff_fn finish, void *ctx)
{
    struct handoff *handoff = calloc(1, sizeof(*handoff));

    if (handoff == NULL || capacity == 0)
        goto fail;
    handoff->ring = calloc(capacity, sizeof(*handoff->ring));
    if (handoff->ring == NULL)
        goto fail;
    handoff->capacity = capacity;
    handoff->finish = finish;
    handoff->ctx = ctx;
    pthread_mutex_init(&handoff->lock, NULL);
    pthread_cond_init(&handoff->changed, NULL);

    if (pthread_create(&handoff->thread, NULL, finish_batches, handoff) != 0) {
        pthread_cond_destroy(&handoff->changed);
        pthread_mutex_destroy(&handoff->lock);
        goto fail;
    }
    return handoff;

fail:
    if (handoff != NULL)
        free(handoff->ring);
    free(handoff);
    return NULL;
}

void handoff_push(struct handoff *handoff, void *batch, size_t votes)
{
    pthread_mutex_lock(&handoff->lock);
    while (handoff->queued == handoff->capacity)
        pthread_cond_wait(&handoff->changed, &handoff->lock);
    handoff->ring[(handoff->head + handoff->queued) % handoff->capacity] =
        (struct slot){batch, votes};
    handoff->queued++;
    handoff->pending_votes += votes;
    pthread_cond_broadcast(&handoff->changed);
    pthread_mutex_unlock(&handoff->lock);
}

size_t handoff_pending_votes(struct handoff *handoff)
{
    size_t votes;

    pthread_mutex_lock(&handoff->lock);
    votes = handoff->pending_votes;
    pthread_mutex_unlock(&handoff->lock);
    return votes;
}

void handoff_wait_idle(struct handoff *handoff)
{
    pthread_mutex_lock(&handoff->lock);
    while (handoff->queued > 0)
        pthread_cond_wait(&handoff->changed, &handoff->lock);
    pthread_mutex_unlock(&handoff->lock);
}

void handoff_stop(struct handoff *handoff)
{
    if (handoff == NULL)
        return;
    pthread_mutex_lock(&handoff->lock);
    handoff->stopping = 1;
    pthread_cond_broadcast(&handoff->changed);
    pthread_mutex_unlock(&handoff->lock);
    pthread_join(handoff->thread, NULL);

    pthread_cond_destroy(&handoff->changed);
    pthread_mutex_destroy(&handoff->lock);
    free(handoff->ring);
    free(handoff);
}
