#include "mongo_uri.h"

#include "log.h"

#include <stdio.h>

static mongoc_log_level_t max_logged_level = MONGOC_LOG_LEVEL_WARNING;

static void on_mongoc_log(mongoc_log_level_t level, const char *domain, const char *message,
                          void *data)
{
    (void)data;
    if (level <= max_logged_level)
        log_warn("mongoc %s: %s", domain, message);
}

void mongo_log_install(mongoc_log_level_t max_level)
{
    max_logged_level = max_level;
    mongoc_log_set_handler(on_mongoc_log, NULL);
}

mongoc_uri_t *mongo_uri_open(const char *uri_text, const char *appname, char *errbuf,
                             size_t errlen)
{
    bson_error_t error;
    mongoc_uri_t *uri = mongoc_uri_new_with_error(uri_text, &error);

    if (uri == NULL) {
        snprintf(errbuf, errlen, "URNA_MONGO_URI is invalid: %.300s", error.message);
        return NULL;
    }
    mongoc_uri_set_option_as_int32(uri, MONGOC_URI_SERVERSELECTIONTIMEOUTMS, 3000);
    mongoc_uri_set_appname(uri, appname);
    return uri;
}
