/* Prometheus metrics: counters, gauges and latency histograms that any
 * thread updates without locks, rendered in the text exposition format. */
#ifndef URNA_METRICS_H
#define URNA_METRICS_H

#include <stdatomic.h>

#define METRICS_BUCKETS 14

struct metric_counter {
    atomic_ulong value;
};

/* Seconds; the bucket bounds are fixed: 0.5 ms to 10 s. */
struct metric_histogram {
    atomic_ulong buckets[METRICS_BUCKETS];
    atomic_ulong count;
    atomic_ulong sum_us;
};

typedef double (*metric_gauge_fn)(void *ctx);

/* Registers a metric under name with a label set such as route="grpc"
 * (NULL for none). Series of the same name must be registered together, one
 * after the other. The returned metric lives until the process exits. */
struct metric_counter *metrics_counter(const char *name, const char *help, const char *labels);
struct metric_histogram *metrics_histogram(const char *name, const char *help,
                                           const char *labels);
void metrics_gauge(const char *name, const char *help, const char *labels, metric_gauge_fn fn,
                   void *ctx);

/* Emits one sample of a family: labels such as partition="3", and its value. */
typedef void (*metric_emit_fn)(void *out, const char *labels, double value);

/* Writes the samples of a family whose label values are known only at scrape
 * time, such as one per assigned Kafka partition. Runs on the HTTP thread. */
typedef void (*metric_family_fn)(void *ctx, metric_emit_fn emit, void *out);

/* Registers a gauge family rendered by fn at every scrape. */
void metrics_gauge_family(const char *name, const char *help, metric_family_fn fn, void *ctx);

static inline void metric_inc(struct metric_counter *counter)
{
    atomic_fetch_add_explicit(&counter->value, 1, memory_order_relaxed);
}

static inline void metric_add(struct metric_counter *counter, unsigned long n)
{
    atomic_fetch_add_explicit(&counter->value, n, memory_order_relaxed);
}

void metric_observe(struct metric_histogram *histogram, double seconds);

/* Returns the value at quantile q (0..1) estimated from the buckets, in
 * seconds, or 0 when the histogram is empty. */
double metric_histogram_quantile(struct metric_histogram *histogram, double q);

/* Renders every registered metric; returns a malloc'd string. */
char *metrics_render(void);

/* Seconds from a CLOCK_MONOTONIC start taken with metrics_clock(). */
double metrics_clock(void);

#endif
