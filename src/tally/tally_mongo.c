#include "tally_mongo.h"

#include "log.h"
#include "mongo_uri.h"
#include "vote_id.h"

#include <mongoc/mongoc.h>
#include <pthread.h>
#include <stdio.h>
#include <stdlib.h>

#define MONGO_DUPLICATE_KEY 11000

struct tally_mongo {
    /* The log stage and the /readyz probe run on different threads, and a
     * mongoc client is not thread-safe, so every use takes this lock. */
    pthread_mutex_t lock;
    mongoc_client_t *client;
    mongoc_collection_t *votes;
    char database[64];
};

static int ensure_indexes(struct tally_mongo *mongo, char *errbuf, size_t errlen)
{
    bson_t *command = BCON_NEW("createIndexes", BCON_UTF8("votes"), "indexes", "[", "{", "key",
                               "{", "received_at", BCON_INT32(-1), "}", "name",
                               BCON_UTF8("received_at_desc"), "}", "]");
    bson_error_t error;
    bool ok;

    ok = mongoc_client_write_command_with_opts(mongo->client, mongo->database, command, NULL,
                                               NULL, &error);
    bson_destroy(command);
    if (!ok) {
        snprintf(errbuf, errlen, "cannot create the received_at index: %s", error.message);
        return -1;
    }
    return 0;
}

struct tally_mongo *tally_mongo_connect(const char *uri_text, const char *database,
                                        char *errbuf, size_t errlen)
{
    struct tally_mongo *mongo = calloc(1, sizeof(*mongo));
    mongoc_uri_t *uri;

    if (mongo == NULL)
        return NULL;
    mongo_log_install(MONGOC_LOG_LEVEL_WARNING);

    uri = mongo_uri_open(uri_text, "urna-tally", errbuf, errlen);
    if (uri == NULL) {
        free(mongo);
        return NULL;
    }
    mongo->client = mongoc_client_new_from_uri(uri);
    mongoc_uri_destroy(uri);
    if (mongo->client == NULL) {
        snprintf(errbuf, errlen, "cannot create a MongoDB client");
        free(mongo);
        return NULL;
    }
    snprintf(mongo->database, sizeof(mongo->database), "%s", database);
    mongo->votes = mongoc_client_get_collection(mongo->client, database, "votes");
    pthread_mutex_init(&mongo->lock, NULL);

    if (ensure_indexes(mongo, errbuf, errlen) != 0) {
        tally_mongo_free(mongo);
        return NULL;
    }
    return mongo;
}

void tally_mongo_free(struct tally_mongo *mongo)
{
    if (mongo == NULL)
        return;
    mongoc_collection_destroy(mongo->votes);
    mongoc_client_destroy(mongo->client);
    pthread_mutex_destroy(&mongo->lock);
    free(mongo);
}

int tally_mongo_ping(struct tally_mongo *mongo)
{
    bson_t *ping = BCON_NEW("ping", BCON_INT32(1));
    bson_error_t error;
    bool ok;

    pthread_mutex_lock(&mongo->lock);
    ok = mongoc_client_command_simple(mongo->client, "admin", ping, NULL, NULL, &error);
    pthread_mutex_unlock(&mongo->lock);
    bson_destroy(ping);
    return ok;
}

static bson_t *build_document(const struct tally_entry *entry, int64_t counted_at_ms)
{
    const struct vote *vote = &entry->vote;

    return BCON_NEW("_id", BCON_UTF8(vote->id), "name", BCON_UTF8(vote->name), "album",
                    BCON_UTF8(vote->album), "year", BCON_INT32(vote->year), "rank",
                    BCON_DOUBLE(vote->rank), "route", BCON_UTF8(vote->route), "received_at",
                    BCON_DATE_TIME(vote->received_at_ms), "counted_at",
                    BCON_DATE_TIME(counted_at_ms), "partition", BCON_INT32(entry->partition),
                    "offset", BCON_INT64(entry->offset));
}

/* Returns non-zero when every write error in reply is a duplicate _id and
 * no write-concern error was reported. */
static int only_duplicates(const bson_t *reply)
{
    bson_iter_t iter, errors, item;

    if (bson_iter_init_find(&iter, reply, "writeConcernErrors") &&
        BSON_ITER_HOLDS_ARRAY(&iter)) {
        bson_iter_t concern;
        if (bson_iter_recurse(&iter, &concern) && bson_iter_next(&concern))
            return 0;
    }
    if (!bson_iter_init_find(&iter, reply, "writeErrors") || !BSON_ITER_HOLDS_ARRAY(&iter) ||
        !bson_iter_recurse(&iter, &errors))
        return 0;
    while (bson_iter_next(&errors)) {
        if (!bson_iter_recurse(&errors, &item) || !bson_iter_find(&item, "code") ||
            bson_iter_as_int64(&item) != MONGO_DUPLICATE_KEY)
            return 0;
    }
    return 1;
}

int tally_mongo_insert(struct tally_mongo *mongo, const struct tally_entry *entries,
                       size_t count, char *errbuf, size_t errlen)
{
    bson_t **documents = calloc(count, sizeof(*documents));
    bson_t *opts = BCON_NEW("ordered", BCON_BOOL(false));
    int64_t now = vote_now_ms();
    bson_error_t error;
    bson_t reply;
    bool inserted;
    int rc = -1;

    if (documents == NULL) {
        snprintf(errbuf, errlen, "out of memory for %zu documents", count);
        bson_destroy(opts);
        return -1;
    }
    for (size_t i = 0; i < count; i++)
        documents[i] = build_document(&entries[i], now);

    pthread_mutex_lock(&mongo->lock);
    inserted = mongoc_collection_insert_many(mongo->votes, (const bson_t **)documents, count,
                                             opts, &reply, &error);
    pthread_mutex_unlock(&mongo->lock);

    if (inserted || only_duplicates(&reply))
        rc = 0;
    else
        snprintf(errbuf, errlen, "inserting %zu vote logs into MongoDB failed: %s", count,
                 error.message);

    bson_destroy(&reply);
    for (size_t i = 0; i < count; i++)
        bson_destroy(documents[i]);
    free(documents);
    bson_destroy(opts);
    return rc;
}
