/* Tests of the tally's Redis script against a throwaway redis-server: a
 * redelivered batch must not change any counter. */
#include "../../src/tally/tally_redis.h"
#include "check.h"

#include <hiredis/hiredis.h>
#include <signal.h>
#include <stdio.h>
#include <stdlib.h>
#include <sys/wait.h>
#include <unistd.h>

static pid_t start_redis(int port)
{
    char port_text[16];
    pid_t pid = fork();

    snprintf(port_text, sizeof(port_text), "%d", port);
    if (pid == 0) {
        freopen("/dev/null", "w", stdout);
        execlp("redis-server", "redis-server", "--port", port_text, "--bind", "127.0.0.1",
               "--save", "", "--appendonly", "no", (char *)NULL);
        _exit(127);
    }
    return pid;
}

static struct tally_redis *connect_with_retry(int port)
{
    char errbuf[256];

    for (int i = 0; i < 50; i++) {
        struct tally_redis *redis = tally_redis_connect("127.0.0.1", port, "", "test:", 3600, errbuf,
                                                        sizeof(errbuf));
        if (redis != NULL)
            return redis;
        usleep(100000);
    }
    fprintf(stderr, "redis did not start: %s\n", errbuf);
    return NULL;
}

static long long hget(redisContext *context, const char *key, const char *field)
{
    redisReply *reply = redisCommand(context, "HGET %s %s", key, field);
    long long value = reply != NULL && reply->type == REDIS_REPLY_STRING ? atoll(reply->str) : -1;

    freeReplyObject(reply);
    return value;
}

static struct tally_entry make_entry(int partition, long long offset, const char *route)
{
    struct tally_entry entry = {.partition = partition, .offset = offset};

    snprintf(entry.vote.id, sizeof(entry.vote.id), "01890a5d-ac96-774b-bcce-b302099a8%03lld", offset);
    snprintf(entry.vote.name, sizeof(entry.vote.name), "Sara Curruchich");
    snprintf(entry.vote.album, sizeof(entry.vote.album), "Somos");
    snprintf(entry.vote.route, sizeof(entry.vote.route), "%s", route);
    entry.vote.year = 2019;
    entry.vote.rank = 2.5;
    entry.vote.received_at_ms = 1733340000000;
    return entry;
}

static void test_redelivery(struct tally_redis *redis, redisContext *context)
{
    struct tally_entry batch[3] = {make_entry(2, 10, "grpc"), make_entry(2, 11, "rest"),
                                   make_entry(2, 12, "grpc")};
    char errbuf[256];
    char *album = tally_album_field("Sara Curruchich", "Somos", 2019);
    unsigned char flags[4] = {0};
    size_t counted = 0;

    CHECK_INT(tally_redis_apply_partition(redis, "votes", batch, 3, flags, &counted, errbuf, sizeof(errbuf)), 0, "first apply");
    CHECK_INT(counted, 3, "first apply counts all");
    CHECK_INT(tally_redis_apply_partition(redis, "votes", batch, 3, flags, &counted, errbuf, sizeof(errbuf)), 0, "redelivery");
    CHECK_INT(counted, 0, "redelivery counts none");
    CHECK_INT(tally_redis_apply_partition(redis, "votes", batch + 1, 2, flags, &counted, errbuf, sizeof(errbuf)), 0, "partial redelivery");
    CHECK_INT(counted, 0, "partial redelivery counts none");

    struct tally_entry next[2] = {make_entry(2, 12, "grpc"), make_entry(2, 13, "rest")};
    CHECK_INT(tally_redis_apply_partition(redis, "votes", next, 2, flags, &counted, errbuf, sizeof(errbuf)), 0, "overlapping batch");
    CHECK_INT(counted, 1, "overlapping batch counts only the new offset");
    CHECK_INT(flags[0], 0, "offset 12 flagged as skipped");
    CHECK_INT(flags[1], 1, "offset 13 flagged as counted");

    struct tally_entry other[1] = {make_entry(3, 0, "grpc")};
    CHECK_INT(tally_redis_apply_partition(redis, "votes", other, 1, flags, &counted, errbuf, sizeof(errbuf)), 0, "other partition");
    CHECK_INT(counted, 1, "offsets are tracked per partition");

    /* A client retry that reached Kafka twice: same id, later offset. */
    struct tally_entry retried[1] = {make_entry(2, 14, "rest")};
    snprintf(retried[0].vote.id, sizeof(retried[0].vote.id), "%s", next[1].vote.id);
    CHECK_INT(tally_redis_apply_partition(redis, "votes", retried, 1, flags, &counted, errbuf, sizeof(errbuf)), 0, "retried id");
    CHECK_INT(counted, 0, "an id already counted is not counted again");
    CHECK_INT(hget(context, "test:applied_offsets", "votes:2"), 14, "the skipped offset is still applied");

    CHECK_INT(hget(context, "test:by_band", "Sara Curruchich"), 5, "band votes");
    CHECK_INT(hget(context, "test:by_route", "grpc"), 3, "grpc votes");
    CHECK_INT(hget(context, "test:by_route", "rest"), 2, "rest votes");
    CHECK_INT(hget(context, "test:by_album", album), 5, "album votes");
    CHECK_INT(hget(context, "test:rank_sum:by_band", "Sara Curruchich"), 12, "rank sum 5 x 2.5");

    free(album);
}

int main(void)
{
    int port = 26400 + (int)(getpid() % 500);
    pid_t server = start_redis(port);
    struct tally_redis *redis = connect_with_retry(port);
    redisContext *context = redisConnect("127.0.0.1", port);

    CHECK(redis != NULL);
    if (redis != NULL && context != NULL && !context->err)
        test_redelivery(redis, context);
    CHECK(tally_redis_ping(redis));

    tally_redis_free(redis);
    redisFree(context);
    kill(server, SIGTERM);
    waitpid(server, NULL, 0);
    return check_exit("tally_redis");
}
