/* One-line, leveled logging for every urna component. */
#ifndef URNA_LOG_H
#define URNA_LOG_H

enum log_level { LOG_LEVEL_DEBUG, LOG_LEVEL_INFO, LOG_LEVEL_WARN, LOG_LEVEL_ERROR };

/* Sets the component name printed on every line and the minimum level.
 * Call once from main before any thread starts. */
void log_init(const char *component, enum log_level level);

/* Parses "debug", "info", "warn" or "error"; returns -1 on anything else. */
int log_level_parse(const char *text, enum log_level *level);

int log_enabled(enum log_level level);

void log_write(enum log_level level, const char *fmt, ...)
    __attribute__((format(printf, 2, 3)));

/* The level check comes first so that a disabled line costs no formatting. */
#define LOG_AT(level, ...)                                                     \
    do {                                                                       \
        if (log_enabled(level))                                                \
            log_write(level, __VA_ARGS__);                                     \
    } while (0)

/* Returns non-zero when a rate-limited call site may write now (at most once
 * per interval_s), storing how many lines it dropped since its last one. */
int log_rate_allows(long *last_s, unsigned long *dropped, long interval_s,
                    unsigned long *dropped_out);

/* Writes at most one line per interval_s from this call site, so an outage
 * that fails every request does not flood the log. */
#define LOG_LIMITED(level, interval_s, fmt, ...)                                   \
    do {                                                                           \
        static long log_last_s_;                                                   \
        static unsigned long log_dropped_;                                         \
        unsigned long log_dropped_now_;                                            \
        if (log_enabled(level) &&                                                  \
            log_rate_allows(&log_last_s_, &log_dropped_, interval_s, &log_dropped_now_)) \
            log_write(level, fmt " (%lu similar lines dropped)", __VA_ARGS__,       \
                      log_dropped_now_);                                           \
    } while (0)

#define log_warn_limited(fmt, ...) LOG_LIMITED(LOG_LEVEL_WARN, 1, fmt, __VA_ARGS__)

#define log_debug(...) LOG_AT(LOG_LEVEL_DEBUG, __VA_ARGS__)
#define log_info(...) LOG_AT(LOG_LEVEL_INFO, __VA_ARGS__)
#define log_warn(...) LOG_AT(LOG_LEVEL_WARN, __VA_ARGS__)
#define log_error(...) LOG_AT(LOG_LEVEL_ERROR, __VA_ARGS__)

#endif
