#include "config.h"

#include "log.h"

#include <errno.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

int config_string(const char *name, const char *def, const char **out,
                  char *errbuf, size_t errlen)
{
    const char *value = getenv(name);

    if (value == NULL || value[0] == '\0')
        value = def;
    if (value == NULL) {
        snprintf(errbuf, errlen, "%s is not set: set it and start again", name);
        return -1;
    }
    *out = value;
    return 0;
}

int config_long(const char *name, long def, long min, long max, long *out,
                char *errbuf, size_t errlen)
{
    const char *value = getenv(name);
    char *end;
    long parsed;

    if (value == NULL || value[0] == '\0') {
        *out = def;
        return 0;
    }

    errno = 0;
    parsed = strtol(value, &end, 10);
    if (errno != 0 || end == value || *end != '\0' || parsed < min || parsed > max) {
        snprintf(errbuf, errlen, "%s=\"%s\" is invalid: expected an integer from %ld to %ld",
                 name, value, min, max);
        return -1;
    }
    *out = parsed;
    return 0;
}

int config_host_port(const char *name, const char *def, char *host,
                     size_t hostlen, int *port, char *errbuf, size_t errlen)
{
    const char *value = getenv(name);
    const char *colon;
    char *end;
    long parsed;
    size_t host_len;

    if (value == NULL || value[0] == '\0')
        value = def;

    colon = strrchr(value, ':');
    if (colon == NULL || colon == value)
        goto invalid;
    host_len = (size_t)(colon - value);
    if (host_len >= hostlen)
        goto invalid;

    errno = 0;
    parsed = strtol(colon + 1, &end, 10);
    if (errno != 0 || end == colon + 1 || *end != '\0' || parsed < 1 || parsed > 65535)
        goto invalid;

    memcpy(host, value, host_len);
    host[host_len] = '\0';
    *port = (int)parsed;
    return 0;

invalid:
    snprintf(errbuf, errlen, "%s=\"%s\" is invalid: expected host:port, for example 127.0.0.1:8000",
             name, value);
    return -1;
}

/* Copies the first line of path into out, without its newline. */
static int read_secret_file(const char *var, const char *path, char *out, size_t outlen,
                            char *errbuf, size_t errlen)
{
    FILE *file = fopen(path, "r");
    size_t len;

    if (file == NULL) {
        snprintf(errbuf, errlen, "%s=\"%s\": cannot open the file: %s", var, path,
                 strerror(errno));
        return -1;
    }
    if (fgets(out, (int)outlen, file) == NULL)
        out[0] = '\0';
    fclose(file);

    len = strcspn(out, "\r\n");
    out[len] = '\0';
    return 0;
}

int config_secret(const char *name, int required, char *out, size_t outlen,
                  char *errbuf, size_t errlen)
{
    char file_var[128];
    const char *value = getenv(name);
    const char *path;

    snprintf(file_var, sizeof(file_var), "%s_FILE", name);
    path = getenv(file_var);
    out[0] = '\0';

    if (value != NULL && value[0] != '\0') {
        if (strlen(value) >= outlen) {
            snprintf(errbuf, errlen, "%s is longer than %zu bytes", name, outlen - 1);
            return -1;
        }
        strcpy(out, value);
    } else if (path != NULL && path[0] != '\0') {
        if (read_secret_file(file_var, path, out, outlen, errbuf, errlen) != 0)
            return -1;
    }

    if (required && out[0] == '\0') {
        snprintf(errbuf, errlen, "%s (or %s) must be set when URNA_ENV=production",
                 name, file_var);
        return -1;
    }
    return 0;
}

int config_check_mongo_uri(const char *uri, char *errbuf, size_t errlen)
{
    if (config_is_production() && strchr(uri, '@') == NULL) {
        snprintf(errbuf, errlen, "URNA_MONGO_URI must carry a user (mongodb://user:password@host) "
                                 "when URNA_ENV=production");
        return -1;
    }
    return 0;
}

int config_is_production(void)
{
    const char *env = getenv("URNA_ENV");

    return env != NULL && strcmp(env, "production") == 0;
}

int config_init_logging(const char *component, char *errbuf, size_t errlen)
{
    const char *text;
    enum log_level level;

    if (config_string("URNA_LOG_LEVEL", "info", &text, errbuf, errlen) != 0)
        return -1;
    if (log_level_parse(text, &level) != 0) {
        snprintf(errbuf, errlen,
                 "URNA_LOG_LEVEL=\"%s\" is invalid: expected debug, info, warn or error", text);
        return -1;
    }
    log_init(component, level);
    return 0;
}
