/* Tests of the stream's event ids, which clients send back as
 * Last-Event-ID. */
#include "../../src/logs_api/stream.h"
#include "check.h"

static void test_valid_id(void)
{
    int64_t epoch = 0, counted = 0;
    uint64_t position = 0;

    CHECK_INT(stream_parse_event_id("1733337000123.42.1733337000200", &epoch, &position, &counted),
              0, "valid id");
    CHECK_INT(epoch, 1733337000123LL, "epoch");
    CHECK_INT(position, 42, "position");
    CHECK_INT(counted, 1733337000200LL, "counted_at");
}

static void test_rejected_ids(void)
{
    static const char *const rejected[] = {
        "", "1.2", "1.2.3.4", "a.b.c", "1..3", "-1.2.3", "1.2.3 ", "1.2.3x",
        "99999999999999999999.1.1", "1.2.{\"$ne\":1}",
    };
    int64_t epoch, counted;
    uint64_t position;

    for (size_t i = 0; i < sizeof(rejected) / sizeof(rejected[0]); i++)
        CHECK_INT(stream_parse_event_id(rejected[i], &epoch, &position, &counted), -1,
                  rejected[i]);
}

int main(void)
{
    test_valid_id();
    test_rejected_ids();
    return check_exit("stream");
}
