/* Tests of the Prometheus metrics: rendering and quantile estimates. */
#include "../../src/common/metrics.h"
#include "check.h"

#include <stdlib.h>

int main(void)
{
    struct metric_counter *ok = metrics_counter("urna_test_total", "Test counter", "status=\"202\"");
    struct metric_counter *bad = metrics_counter("urna_test_total", "Test counter", "status=\"503\"");
    struct metric_histogram *latency = metrics_histogram("urna_test_seconds", "Test latency", NULL);
    char *text;

    metric_add(ok, 3);
    metric_inc(bad);
    for (int i = 0; i < 90; i++)
        metric_observe(latency, 0.0008);
    for (int i = 0; i < 10; i++)
        metric_observe(latency, 0.2);

    text = metrics_render();
    CHECK(strstr(text, "# TYPE urna_test_total counter\n") != NULL);
    CHECK(strstr(text, "urna_test_total{status=\"202\"} 3\n") != NULL);
    CHECK(strstr(text, "urna_test_total{status=\"503\"} 1\n") != NULL);
    CHECK(strstr(text, "urna_test_seconds_bucket{le=\"0.001\"} 90\n") != NULL);
    CHECK(strstr(text, "urna_test_seconds_bucket{le=\"+Inf\"} 100\n") != NULL);
    CHECK(strstr(text, "urna_test_seconds_count{} 100\n") != NULL);
    /* One HELP line per metric name, not per series. */
    CHECK(strstr(strstr(text, "# HELP urna_test_total") + 1, "# HELP urna_test_total") == NULL);
    free(text);

    CHECK(metric_histogram_quantile(latency, 0.5) <= 0.001);
    CHECK(metric_histogram_quantile(latency, 0.99) > 0.1);
    CHECK(metric_histogram_quantile(latency, 0.99) <= 0.25);
    return check_exit("metrics");
}
