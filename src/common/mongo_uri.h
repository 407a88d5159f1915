/* MongoDB client set-up shared by the tally, the logs API and the urna tool. */
#ifndef URNA_MONGO_URI_H
#define URNA_MONGO_URI_H

#include <mongoc/mongoc.h>
#include <stddef.h>

/* Routes libmongoc's own messages of level max_level or more severe to
 * urna's log, and drops the rest (its debug lines, or FerretDB's missing
 * endSessions warnings when max_level is MONGOC_LOG_LEVEL_ERROR). */
void mongo_log_install(mongoc_log_level_t max_level);

/* Parses the value of URNA_MONGO_URI with a 3 s server selection timeout
 * and the given application name. Returns NULL with errbuf filled. */
mongoc_uri_t *mongo_uri_open(const char *uri_text, const char *appname, char *errbuf,
                             size_t errlen);

#endif
