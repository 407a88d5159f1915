/* GET /api/routes: per-route latency read from the fronts' Prometheus
 * histograms. */
#ifndef URNA_ROUTES_H
#define URNA_ROUTES_H

#include <stddef.h>

#define ROUTES_BUCKETS_MAX 32

/* One histogram summed over its matching series: cumulative counts per
 * upper bound, in ascending bound order; the +Inf bucket is count. */
struct routes_histogram {
    double bounds[ROUTES_BUCKETS_MAX];
    double cumulative[ROUTES_BUCKETS_MAX];
    int bucket_count;
    double count;
};

/* Sums the _bucket series of metric whose labels contain label (for example
 * hop="front") in a text exposition. Returns 0, or -1 when no such series
 * exists or there are more than ROUTES_BUCKETS_MAX bounds. */
int routes_parse_histogram(const char *exposition, const char *metric, const char *label,
                           struct routes_histogram *histogram);

/* Estimates the q quantile (0..1) in seconds by linear interpolation inside
 * the bucket that holds it, as Prometheus's histogram_quantile does. The
 * result is a bucket estimate, not a measured latency: its error is up to
 * the width of that bucket. Returns 0 for an empty histogram, and the
 * highest finite bound when the quantile falls in the +Inf bucket. */
double routes_histogram_quantile(const struct routes_histogram *histogram, double q);

/* Fetches url with a timeout; returns the malloc'd body, or NULL with errbuf
 * filled. */
char *routes_fetch_metrics(const char *url, long timeout_ms, char *errbuf, size_t errlen);

#endif
