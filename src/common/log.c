#include "log.h"

#include <stdarg.h>
#include <stdio.h>
#include <string.h>
#include <time.h>

static const char *log_component = "urna";
static enum log_level log_min_level = LOG_LEVEL_INFO;

static const char *const level_names[] = {"debug", "info", "warn", "error"};

void log_init(const char *component, enum log_level level)
{
    log_component = component;
    log_min_level = level;
}

int log_level_parse(const char *text, enum log_level *level)
{
    for (int i = 0; i < 4; i++) {
        if (strcmp(text, level_names[i]) == 0) {
            *level = (enum log_level)i;
            return 0;
        }
    }
    return -1;
}

int log_enabled(enum log_level level)
{
    return level >= log_min_level;
}

/* Formats the whole line first so that one fputs keeps lines from different
 * threads apart. */
void log_write(enum log_level level, const char *fmt, ...)
{
    char line[2048];
    struct timespec now;
    struct tm utc;
    va_list args;
    size_t used;

    clock_gettime(CLOCK_REALTIME, &now);
    gmtime_r(&now.tv_sec, &utc);
    used = strftime(line, sizeof(line), "%Y-%m-%dT%H:%M:%S", &utc);
    used += (size_t)snprintf(line + used, sizeof(line) - used, ".%03ldZ %s %s: ",
                             now.tv_nsec / 1000000, log_component, level_names[level]);

    va_start(args, fmt);
    vsnprintf(line + used, sizeof(line) - used - 1, fmt, args);
    va_end(args);

    used = strlen(line);
    line[used] = '\n';
    line[used + 1] = '\0';
    fputs(line, stderr);
}

int log_rate_allows(long *last_s, unsigned long *dropped, long interval_s,
                    unsigned long *dropped_out)
{
    struct timespec now;
    long last;

    clock_gettime(CLOCK_MONOTONIC, &now);
    last = __atomic_load_n(last_s, __ATOMIC_RELAXED);
    if (now.tv_sec - last < interval_s ||
        !__atomic_compare_exchange_n(last_s, &last, (long)now.tv_sec, 0, __ATOMIC_RELAXED,
                                     __ATOMIC_RELAXED)) {
        __atomic_fetch_add(dropped, 1, __ATOMIC_RELAXED);
        return 0;
    }
    *dropped_out = __atomic_exchange_n(dropped, 0, __ATOMIC_RELAXED);
    return 1;
}
