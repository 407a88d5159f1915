/* Tests of the latency percentiles that GET /api/routes estimates from a
 * front's Prometheus histogram. */
#include "../../src/logs_api/routes.h"
#include "check.h"

#include <math.h>

/* Two front series (summed) and one series of another hop (ignored). */
static const char exposition[] =
    "# HELP urna_request_duration_seconds Time to respond to a vote, by hop\n"
    "# TYPE urna_request_duration_seconds histogram\n"
    "urna_request_duration_seconds_bucket{service=\"a\",route=\"grpc\",hop=\"front\",le=\"0.01\"} 50\n"
    "urna_request_duration_seconds_bucket{service=\"a\",route=\"grpc\",hop=\"front\",le=\"0.1\"} 80\n"
    "urna_request_duration_seconds_bucket{service=\"a\",route=\"grpc\",hop=\"front\",le=\"1\"} 90\n"
    "urna_request_duration_seconds_bucket{service=\"a\",route=\"grpc\",hop=\"front\",le=\"+Inf\"} 90\n"
    "urna_request_duration_seconds_sum{service=\"a\",route=\"grpc\",hop=\"front\"} 3.5\n"
    "urna_request_duration_seconds_count{service=\"a\",route=\"grpc\",hop=\"front\"} 90\n"
    "urna_request_duration_seconds_bucket{service=\"b\",route=\"grpc\",hop=\"front\",le=\"0.01\"} 0\n"
    "urna_request_duration_seconds_bucket{service=\"b\",route=\"grpc\",hop=\"front\",le=\"0.1\"} 0\n"
    "urna_request_duration_seconds_bucket{service=\"b\",route=\"grpc\",hop=\"front\",le=\"1\"} 0\n"
    "urna_request_duration_seconds_bucket{service=\"b\",route=\"grpc\",hop=\"front\",le=\"+Inf\"} 10\n"
    "urna_request_duration_seconds_bucket{service=\"a\",route=\"grpc\",hop=\"grpc\",le=\"0.01\"} 999\n"
    "urna_request_duration_seconds_bucket{service=\"a\",route=\"grpc\",hop=\"grpc\",le=\"+Inf\"} 999\n"
    "urna_http_requests_total{service=\"a\",route=\"grpc\",status=\"202\"} 100\n";

static int near(double a, double b)
{
    return fabs(a - b) < 1e-9;
}

static void test_parse_sums_matching_series(void)
{
    struct routes_histogram histogram;

    CHECK_INT(routes_parse_histogram(exposition, "urna_request_duration_seconds", "hop=\"front\"",
                                     &histogram),
              0, "parse");
    CHECK_INT(histogram.bucket_count, 3, "finite bounds");
    CHECK(near(histogram.bounds[0], 0.01));
    CHECK(near(histogram.cumulative[0], 50));
    CHECK(near(histogram.cumulative[2], 90));
    CHECK(near(histogram.count, 100));
}

static void test_quantiles_interpolate(void)
{
    struct routes_histogram histogram;

    routes_parse_histogram(exposition, "urna_request_duration_seconds", "hop=\"front\"",
                           &histogram);
    /* Rank 50 of 100 is the last of the first bucket: its upper bound. */
    CHECK(near(routes_histogram_quantile(&histogram, 0.5), 0.01));
    /* Rank 65 is half-way through (0.01, 0.1]. */
    CHECK(near(routes_histogram_quantile(&histogram, 0.65), 0.055));
    /* Rank 99 lies in +Inf, so the highest finite bound is returned. */
    CHECK(near(routes_histogram_quantile(&histogram, 0.99), 1));
}

static void test_missing_and_empty(void)
{
    struct routes_histogram histogram;

    CHECK_INT(routes_parse_histogram(exposition, "urna_request_duration_seconds", "hop=\"rest\"",
                                     &histogram),
              -1, "no matching series");
    CHECK_INT(routes_parse_histogram("", "urna_request_duration_seconds", "hop=\"front\"",
                                     &histogram),
              -1, "empty exposition");
    CHECK(near(routes_histogram_quantile(&histogram, 0.5), 0));
}

int main(void)
{
    test_parse_sums_matching_series();
    test_quantiles_interpolate();
    test_missing_and_empty();
    return check_exit("routes");
}
