/* Tests of the tally reader behind GET /api/results against a throwaway
 * redis-server: counters, album averages, rates and the JSON shape. */
#include "../../src/common/results.h"
#include "check.h"

#include <hiredis/hiredis.h>
#include <math.h>
#include <signal.h>
#include <stdio.h>
#include <stdlib.h>
#include <sys/wait.h>
#include <unistd.h>

#define NOW_S 1733337000LL

static pid_t start_redis(int port)
{
    char port_text[16];
    pid_t pid = fork();

    snprintf(port_text, sizeof(port_text), "%d", port);
    if (pid == 0) {
        if (freopen("/dev/null", "w", stdout) == NULL)
            _exit(126);
        execlp("redis-server", "redis-server", "--port", port_text, "--bind", "127.0.0.1",
               "--save", "", "--appendonly", "no", (char *)NULL);
        _exit(127);
    }
    return pid;
}

static redisContext *connect_with_retry(int port)
{
    for (int i = 0; i < 50; i++) {
        redisContext *context = redisConnect("127.0.0.1", port);

        if (context != NULL && context->err == 0)
            return context;
        redisFree(context);
        usleep(100000);
    }
    return NULL;
}

static void run(redisContext *context, const char *command)
{
    freeReplyObject(redisCommand(context, command));
}

/* Writes the keys the tally would write for five votes. */
static void seed(redisContext *context)
{
    run(context, "SET test:total 5");
    run(context, "HSET test:by_route grpc 3 rest 2");
    run(context, "HSET test:by_band Extinción 3 Oricalkos 2");
    freeReplyObject(redisCommand(context, "HSET test:by_album %s 3 %s 2",
                                 "[\"Extinción\",\"Extinción\",1994]",
                                 "[\"Oricalkos\",\"Oricalkos\",2000]"));
    freeReplyObject(redisCommand(context, "HSET test:rank_sum:by_album %s 15 %s 3.5",
                                 "[\"Extinción\",\"Extinción\",1994]",
                                 "[\"Oricalkos\",\"Oricalkos\",2000]"));
    run(context, "HSET test:by_album not-json 7");
    /* Inside the window: the 60 seconds before NOW_S. */
    run(context, "SET test:rate:grpc:1733336999 3");
    run(context, "SET test:rate:grpc:1733336940 3");
    run(context, "SET test:rate:rest:1733336970 2");
    /* Outside it: the current second and the 61st second back. */
    run(context, "SET test:rate:grpc:1733337000 100");
    run(context, "SET test:rate:rest:1733336939 100");
}

static void test_snapshot(struct results_store *store)
{
    struct results_snapshot snapshot;
    char errbuf[256];

    CHECK_INT(results_store_read(store, NOW_S, &snapshot, errbuf, sizeof(errbuf)), 0, "read");
    CHECK_INT(snapshot.total, 5, "total");
    CHECK_INT(snapshot.by_route[0], 3, "grpc votes");
    CHECK_INT(snapshot.by_route[1], 2, "rest votes");
    CHECK(fabs(snapshot.rate[0] - 6.0 / 60) < 1e-9);
    CHECK(fabs(snapshot.rate[1] - 2.0 / 60) < 1e-9);
    CHECK_INT(snapshot.band_count, 2, "bands");
    CHECK_STR(snapshot.bands[0].band, "Extinción", "most voted band first");
    CHECK_INT(snapshot.album_count, 2, "malformed album field skipped");
    CHECK_INT(snapshot.albums[0].year, 1994, "album year");
    results_snapshot_free(&snapshot);
}

static void test_json_shape(struct results_store *store)
{
    struct results_snapshot snapshot;
    char errbuf[256], *text;
    json_t *json;

    results_store_read(store, NOW_S, &snapshot, errbuf, sizeof(errbuf));
    json = results_snapshot_json(&snapshot);
    text = json_dumps(json, JSON_COMPACT | JSON_REAL_PRECISION(15));
    CHECK_STR(text,
              "{\"total\":5,\"by_route\":{\"grpc\":3,\"rest\":2},"
              "\"by_band\":{\"Extinción\":3,\"Oricalkos\":2},"
              "\"by_album\":[{\"band\":\"Extinción\",\"album\":\"Extinción\",\"year\":1994,"
              "\"votes\":3,\"avg_rank\":5.0},{\"band\":\"Oricalkos\",\"album\":\"Oricalkos\","
              "\"year\":2000,\"votes\":2,\"avg_rank\":1.75}],"
              "\"rate\":{\"grpc\":0.1,\"rest\":0.0333333333333333}}",
              "results JSON");
    free(text);
    json_decref(json);
    results_snapshot_free(&snapshot);
}

static void test_empty_and_unreachable(int port)
{
    struct results_store *empty = results_store_new("127.0.0.1", port, "", "none:", 2);
    struct results_store *closed = results_store_new("127.0.0.1", 1, "", "test:", 2);
    struct results_snapshot snapshot;
    char errbuf[256];

    CHECK_INT(results_store_read(empty, NOW_S, &snapshot, errbuf, sizeof(errbuf)), 0, "no keys");
    CHECK_INT(snapshot.total, 0, "empty total");
    CHECK_INT(snapshot.band_count, 0, "no bands");
    results_snapshot_free(&snapshot);

    CHECK_INT(results_store_read(closed, NOW_S, &snapshot, errbuf, sizeof(errbuf)), -1,
              "connection refused");
    CHECK(strstr(errbuf, "URNA_REDIS_ADDR") != NULL);
    CHECK_INT(results_store_ping(closed), 0, "ping refused");
    results_snapshot_free(&snapshot);

    results_store_free(empty);
    results_store_free(closed);
}

int main(void)
{
    /* Below the kernel's ephemeral range (32768 and up), away from the stacks. */
    int port = 21500 + (int)(getpid() % 400);
    pid_t server = start_redis(port);
    redisContext *context = connect_with_retry(port);
    struct results_store *store = results_store_new("127.0.0.1", port, "", "test:", 4);

    CHECK(context != NULL);
    if (context != NULL) {
        seed(context);
        CHECK_INT(results_store_ping(store), 1, "ping");
        test_snapshot(store);
        test_json_shape(store);
        test_empty_and_unreachable(port);
    }

    results_store_free(store);
    redisFree(context);
    kill(server, SIGTERM);
    waitpid(server, NULL, 0);
    return check_exit("results");
}
