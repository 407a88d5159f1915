#include "metrics.h"

#include <pthread.h>
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>

#define METRICS_MAX 96

enum metric_kind { KIND_COUNTER, KIND_GAUGE, KIND_HISTOGRAM, KIND_GAUGE_FAMILY };

struct metric_entry {
    enum metric_kind kind;
    const char *name;
    const char *help;
    const char *labels;
    struct metric_counter counter;
    struct metric_histogram histogram;
    metric_gauge_fn gauge;
    metric_family_fn family;
    void *gauge_ctx;
};

static const double bucket_bounds[METRICS_BUCKETS] = {
    0.0005, 0.001, 0.002, 0.005, 0.01, 0.015, 0.025, 0.05, 0.1, 0.25, 0.5, 1, 2.5, 10};

static struct metric_entry entries[METRICS_MAX];
static int entry_count;
static pthread_mutex_t registry_lock = PTHREAD_MUTEX_INITIALIZER;

static struct metric_entry *add_entry(enum metric_kind kind, const char *name, const char *help,
                                      const char *labels)
{
    struct metric_entry *entry;

    pthread_mutex_lock(&registry_lock);
    if (entry_count == METRICS_MAX) {
        pthread_mutex_unlock(&registry_lock);
        fprintf(stderr, "metrics: more than %d series registered; raise METRICS_MAX\n",
                METRICS_MAX);
        abort();
    }
    entry = &entries[entry_count++];
    pthread_mutex_unlock(&registry_lock);

    entry->kind = kind;
    entry->name = name;
    entry->help = help;
    entry->labels = labels;
    return entry;
}

struct metric_counter *metrics_counter(const char *name, const char *help, const char *labels)
{
    return &add_entry(KIND_COUNTER, name, help, labels)->counter;
}

struct metric_histogram *metrics_histogram(const char *name, const char *help,
                                           const char *labels)
{
    return &add_entry(KIND_HISTOGRAM, name, help, labels)->histogram;
}

void metrics_gauge(const char *name, const char *help, const char *labels, metric_gauge_fn fn,
                   void *ctx)
{
    struct metric_entry *entry = add_entry(KIND_GAUGE, name, help, labels);

    entry->gauge = fn;
    entry->gauge_ctx = ctx;
}

void metrics_gauge_family(const char *name, const char *help, metric_family_fn fn, void *ctx)
{
    struct metric_entry *entry = add_entry(KIND_GAUGE_FAMILY, name, help, NULL);

    entry->family = fn;
    entry->gauge_ctx = ctx;
}

void metric_observe(struct metric_histogram *histogram, double seconds)
{
    for (int i = 0; i < METRICS_BUCKETS; i++) {
        if (seconds <= bucket_bounds[i]) {
            atomic_fetch_add_explicit(&histogram->buckets[i], 1, memory_order_relaxed);
            break;
        }
    }
    atomic_fetch_add_explicit(&histogram->count, 1, memory_order_relaxed);
    atomic_fetch_add_explicit(&histogram->sum_us, (unsigned long)(seconds * 1e6),
                              memory_order_relaxed);
}

double metric_histogram_quantile(struct metric_histogram *histogram, double q)
{
    unsigned long total = atomic_load(&histogram->count);
    unsigned long seen = 0;
    double lower = 0;

    if (total == 0)
        return 0;
    for (int i = 0; i < METRICS_BUCKETS; i++) {
        unsigned long in_bucket = atomic_load(&histogram->buckets[i]);

        if (in_bucket > 0 && (double)(seen + in_bucket) >= q * (double)total) {
            double fraction = (q * (double)total - (double)seen) / (double)in_bucket;
            return lower + (bucket_bounds[i] - lower) * fraction;
        }
        seen += in_bucket;
        lower = bucket_bounds[i];
    }
    return bucket_bounds[METRICS_BUCKETS - 1];
}

/* A growable output buffer for the exposition text. */
struct text {
    char *data;
    size_t len;
    size_t cap;
};

__attribute__((format(printf, 2, 3))) static void text_printf(struct text *text,
                                                              const char *fmt, ...)
{
    va_list args;
    int needed;

    for (;;) {
        va_start(args, fmt);
        needed = vsnprintf(text->data + text->len, text->cap - text->len, fmt, args);
        va_end(args);
        if (needed < 0)
            return;
        if ((size_t)needed < text->cap - text->len) {
            text->len += (size_t)needed;
            return;
        }
        char *grown = realloc(text->data, text->cap * 2 + (size_t)needed);
        if (grown == NULL)
            return;
        text->data = grown;
        text->cap = text->cap * 2 + (size_t)needed;
    }
}

static void render_histogram(struct text *text, const struct metric_entry *entry)
{
    const char *labels = entry->labels != NULL ? entry->labels : "";
    const char *comma = entry->labels != NULL ? "," : "";
    unsigned long cumulative = 0;

    for (int i = 0; i < METRICS_BUCKETS; i++) {
        cumulative += atomic_load(&entry->histogram.buckets[i]);
        text_printf(text, "%s_bucket{%s%sle=\"%g\"} %lu\n", entry->name, labels, comma,
                    bucket_bounds[i], cumulative);
    }
    text_printf(text, "%s_bucket{%s%sle=\"+Inf\"} %lu\n", entry->name, labels, comma,
                atomic_load(&entry->histogram.count));
    text_printf(text, "%s_sum{%s} %.6f\n", entry->name, labels,
                (double)atomic_load(&entry->histogram.sum_us) / 1e6);
    text_printf(text, "%s_count{%s} %lu\n", entry->name, labels,
                atomic_load(&entry->histogram.count));
}

static const char *kind_name(enum metric_kind kind)
{
    switch (kind) {
    case KIND_COUNTER:
        return "counter";
    case KIND_HISTOGRAM:
        return "histogram";
    default:
        return "gauge";
    }
}

/* The output of one family being rendered. */
struct family_output {
    struct text *text;
    const char *name;
};

static void emit_sample(void *out, const char *labels, double value)
{
    struct family_output *family = out;

    text_printf(family->text, "%s{%s} %g\n", family->name, labels, value);
}

char *metrics_render(void)
{
    struct text text = {malloc(4096), 0, 4096};
    int count;

    if (text.data == NULL)
        return NULL;
    text.data[0] = '\0';

    pthread_mutex_lock(&registry_lock);
    count = entry_count;
    pthread_mutex_unlock(&registry_lock);

    for (int i = 0; i < count; i++) {
        const struct metric_entry *entry = &entries[i];
        const char *labels = entry->labels != NULL ? entry->labels : "";

        if (i == 0 || strcmp(entries[i - 1].name, entry->name) != 0)
            text_printf(&text, "# HELP %s %s\n# TYPE %s %s\n", entry->name, entry->help,
                        entry->name, kind_name(entry->kind));
        if (entry->kind == KIND_COUNTER)
            text_printf(&text, "%s{%s} %lu\n", entry->name, labels,
                        atomic_load(&entry->counter.value));
        else if (entry->kind == KIND_GAUGE)
            text_printf(&text, "%s{%s} %g\n", entry->name, labels,
                        entry->gauge(entry->gauge_ctx));
        else if (entry->kind == KIND_GAUGE_FAMILY) {
            struct family_output out = {&text, entry->name};
            entry->family(entry->gauge_ctx, emit_sample, &out);
        }
        else
            render_histogram(&text, entry);
    }
    return text.data;
}

double metrics_clock(void)
{
    struct timespec now;

    clock_gettime(CLOCK_MONOTONIC, &now);
    return (double)now.tv_sec + (double)now.tv_nsec / 1e9;
}
