/* Tests of the tally's handoff: batches are finished in the order they were
 * pushed, the backlog counts their votes until finished, a full queue makes
 * the pusher wait, and stopping finishes what is queued. */
#include "../../src/tally/handoff.h"
#include "check.h"

#include <pthread.h>
#include <stdatomic.h>
#include <stdlib.h>
#include <time.h>

#define BATCHES 200

/* The finisher records the order it saw and can be held at a gate. */
static int finished[BATCHES];
static atomic_int finished_count;
static pthread_mutex_t gate_lock = PTHREAD_MUTEX_INITIALIZER;
static pthread_cond_t gate_opened = PTHREAD_COND_INITIALIZER;
static int gate_open = 1;

static void set_gate(int open)
{
    pthread_mutex_lock(&gate_lock);
    gate_open = open;
    pthread_cond_broadcast(&gate_opened);
    pthread_mutex_unlock(&gate_lock);
}

static void finish(void *ctx, void *batch)
{
    int *number = batch;

    (void)ctx;
    pthread_mutex_lock(&gate_lock);
    while (!gate_open)
        pthread_cond_wait(&gate_opened, &gate_lock);
    pthread_mutex_unlock(&gate_lock);

    finished[atomic_fetch_add(&finished_count, 1)] = *number;
    free(number);
}

static int *number_batch(int n)
{
    int *number = malloc(sizeof(*number));

    *number = n;
    return number;
}

static void test_finishes_in_order(void)
{
    struct handoff *handoff = handoff_start(3, finish, NULL);
    int in_order = 1;

    atomic_store(&finished_count, 0);
    for (int i = 0; i < BATCHES; i++)
        handoff_push(handoff, number_batch(i), 1);
    handoff_stop(handoff);

    CHECK_INT(atomic_load(&finished_count), BATCHES, "batches finished");
    for (int i = 0; i < BATCHES; i++)
        in_order &= finished[i] == i;
    CHECK(in_order);
}

struct pusher {
    struct handoff *handoff;
    atomic_int pushed;
};

static void *push_three(void *arg)
{
    struct pusher *pusher = arg;

    for (int i = 0; i < 3; i++) {
        handoff_push(pusher->handoff, number_batch(i), 10);
        atomic_fetch_add(&pusher->pushed, 1);
    }
    return NULL;
}

static void wait_until(atomic_int *value, int expected)
{
    struct timespec pause = {0, 5 * 1000 * 1000};

    while (atomic_load(value) < expected)
        nanosleep(&pause, NULL);
}

/* With the finisher held, a queue of two contains the batch being finished
 * and one more, so the third push waits for room. */
static void test_backlog_and_backpressure(void)
{
    struct handoff *handoff = handoff_start(2, finish, NULL);
    struct pusher pusher = {.handoff = handoff};
    pthread_t thread;

    atomic_store(&finished_count, 0);
    set_gate(0);
    pthread_create(&thread, NULL, push_three, &pusher);
    wait_until(&pusher.pushed, 2);
    CHECK_INT(handoff_pending_votes(handoff), 20, "votes waiting while held");
    CHECK_INT(atomic_load(&finished_count), 0, "nothing finished while held");

    /* The third push needs the first batch finished. The pause gives a
     * wrong push the time to happen; the check does not depend on it. */
    nanosleep(&(struct timespec){0, 50 * 1000 * 1000}, NULL);
    CHECK_INT(atomic_load(&pusher.pushed), 2, "pushes taken by a full queue");

    set_gate(1);
    pthread_join(thread, NULL);
    handoff_wait_idle(handoff);
    CHECK_INT(atomic_load(&finished_count), 3, "batches finished once open");
    CHECK_INT(handoff_pending_votes(handoff), 0, "votes waiting when idle");
    handoff_stop(handoff);
}

int main(void)
{
    test_finishes_in_order();
    test_backlog_and_backpressure();
    CHECK(handoff_start(0, finish, NULL) == NULL);
    return check_exit("handoff");
}
