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

#define log_debug(...) LOG_AT(LOG_LEVEL_DEBUG, __VA_ARGS__)
#define log_info(...) LOG_AT(LOG_LEVEL_INFO, __VA_ARGS__)
#define log_warn(...) LOG_AT(LOG_LEVEL_WARN, __VA_ARGS__)
#define log_error(...) LOG_AT(LOG_LEVEL_ERROR, __VA_ARGS__)

#endif
