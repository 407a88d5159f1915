/* Typed reads of URNA_* environment variables with documented defaults.
 * Each function returns 0, or -1 after writing into errbuf a message that
 * names the variable, the bad value and what is expected. */
#ifndef URNA_CONFIG_H
#define URNA_CONFIG_H

#include <stddef.h>

/* Stores the variable's value, or def when it is unset or empty. */
int config_string(const char *name, const char *def, const char **out,
                  char *errbuf, size_t errlen);

/* Parses a decimal integer in [min, max]. */
int config_long(const char *name, long def, long min, long max, long *out,
                char *errbuf, size_t errlen);

/* Parses "host:port" into host (at most hostlen bytes) and port. */
int config_host_port(const char *name, const char *def, char *host,
                     size_t hostlen, int *port, char *errbuf, size_t errlen);

/* Reads a secret from NAME, or from the file named by NAME_FILE; the value
 * is never logged. An unset secret stores "" unless required is non-zero. */
int config_secret(const char *name, int required, char *out, size_t outlen,
                  char *errbuf, size_t errlen);

/* Rejects a MongoDB URI without a user (mongodb://user:password@host) when
 * URNA_ENV=production. */
int config_check_mongo_uri(const char *uri, char *errbuf, size_t errlen);

/* Returns non-zero when URNA_ENV is "production". */
int config_is_production(void);

/* Reads URNA_LOG_LEVEL and starts logging for the component. */
int config_init_logging(const char *component, char *errbuf, size_t errlen);

#endif
