#include "logs_mongo.h"

#include "log.h"
#include "mongo_uri.h"

#include <mongoc/mongoc.h>
#include <stdio.h>
#include <stdlib.h>

#define POOL_MAX_CLIENTS 32

struct logs_mongo {
    mongoc_client_pool_t *pool;
    char database[64];
};

/* Creates the indexes behind the page order (received_at, _id) and the
 * stream's scan by counted_at. The tally creates {received_at: -1} only, and
 * a sort on two keys cannot use it alone. A failure (a read-only user) is
 * logged and the queries still work, only slower.
 * TODO: create these indexes in the tally, which owns the collection. */
static void ensure_indexes(struct logs_mongo *mongo)
{
    bson_t *command = BCON_NEW(
        "createIndexes", BCON_UTF8("votes"), "indexes", "[", "{", "key", "{", "received_at",
        BCON_INT32(-1), "_id", BCON_INT32(-1), "}", "name", BCON_UTF8("received_at_desc_id_desc"),
        "}", "{", "key", "{", "counted_at", BCON_INT32(1), "}", "name",
        BCON_UTF8("counted_at_asc"), "}", "]");
    mongoc_client_t *client = mongoc_client_pool_pop(mongo->pool);
    bson_error_t error;

    if (!mongoc_client_write_command_with_opts(client, mongo->database, command, NULL, NULL,
                                               &error))
        log_warn("cannot create the log indexes on %s.votes (queries still work, slower): %s",
                 mongo->database, error.message);
    mongoc_client_pool_push(mongo->pool, client);
    bson_destroy(command);
}

struct logs_mongo *logs_mongo_connect(const char *uri_text, const char *database, char *errbuf,
                                      size_t errlen)
{
    struct logs_mongo *mongo = calloc(1, sizeof(*mongo));
    mongoc_uri_t *uri;

    if (mongo == NULL) {
        snprintf(errbuf, errlen, "out of memory for the MongoDB pool");
        return NULL;
    }
    mongo_log_install(MONGOC_LOG_LEVEL_WARNING);

    uri = mongo_uri_open(uri_text, "urna-logs-api", errbuf, errlen);
    if (uri == NULL) {
        free(mongo);
        return NULL;
    }
    mongoc_uri_set_option_as_int32(uri, MONGOC_URI_SOCKETTIMEOUTMS, 10000);
    mongo->pool = mongoc_client_pool_new(uri);
    mongoc_uri_destroy(uri);
    if (mongo->pool == NULL) {
        snprintf(errbuf, errlen, "cannot create a MongoDB client pool");
        free(mongo);
        return NULL;
    }
    mongoc_client_pool_set_error_api(mongo->pool, MONGOC_ERROR_API_VERSION_2);
    mongoc_client_pool_max_size(mongo->pool, POOL_MAX_CLIENTS);
    snprintf(mongo->database, sizeof(mongo->database), "%s", database);

    ensure_indexes(mongo);
    return mongo;
}

void logs_mongo_free(struct logs_mongo *mongo)
{
    if (mongo == NULL)
        return;
    mongoc_client_pool_destroy(mongo->pool);
    free(mongo);
}

int logs_mongo_ping(struct logs_mongo *mongo)
{
    mongoc_client_t *client = mongoc_client_pool_pop(mongo->pool);
    bson_t *ping = BCON_NEW("ping", BCON_INT32(1));
    bson_error_t error;
    bool ok = mongoc_client_command_simple(client, "admin", ping, NULL, NULL, &error);

    bson_destroy(ping);
    mongoc_client_pool_push(mongo->pool, client);
    return ok;
}

/* Appends the documents of cursor to items, at most limit of them, and
 * stores the cursor of the last one kept; sets *more when a further document
 * exists. Returns 0, or -1 with errbuf filled. */
static int collect_page(mongoc_cursor_t *cursor, long limit, json_t *items,
                        struct logs_cursor *last, int *more, char *errbuf, size_t errlen)
{
    const bson_t *document;
    bson_error_t error;
    long kept = 0;

    *more = 0;
    while (mongoc_cursor_next(cursor, &document)) {
        json_t *item;

        if (kept == limit) {
            *more = 1;
            break;
        }
        item = logs_document_json(document, last);
        if (item == NULL) {
            log_warn("skipping a vote log document with missing or mistyped fields");
            continue;
        }
        json_array_append_new(items, item);
        kept++;
    }
    if (mongoc_cursor_error(cursor, &error)) {
        snprintf(errbuf, errlen, "reading vote logs from MongoDB failed: %s", error.message);
        return -1;
    }
    return 0;
}

json_t *logs_mongo_page(struct logs_mongo *mongo, const struct logs_query *query, char *errbuf,
                        size_t errlen)
{
    mongoc_client_t *client = mongoc_client_pool_pop(mongo->pool);
    mongoc_collection_t *votes = mongoc_client_get_collection(client, mongo->database, "votes");
    bson_t *filter = logs_query_filter(query);
    /* One extra document tells whether a next page exists. */
    bson_t *opts = BCON_NEW("sort", "{", "received_at", BCON_INT32(-1), "_id", BCON_INT32(-1),
                            "}", "limit", BCON_INT64(query->limit + 1));
    mongoc_cursor_t *cursor = mongoc_collection_find_with_opts(votes, filter, opts, NULL);
    json_t *items = json_array(), *page = NULL;
    struct logs_cursor last = {0};
    char *next = NULL;
    int more = 0;

    if (collect_page(cursor, query->limit, items, &last, &more, errbuf, errlen) != 0)
        goto out;
    if (more) {
        next = logs_cursor_encode(&last);
        if (next == NULL) {
            snprintf(errbuf, errlen, "cannot encode the next page's cursor");
            goto out;
        }
    }
    page = json_pack("{s:O, s:s?}", "items", items, "next_cursor", next);
    if (page == NULL)
        snprintf(errbuf, errlen, "out of memory for a page of vote logs");

out:
    free(next);
    json_decref(items);
    mongoc_cursor_destroy(cursor);
    bson_destroy(opts);
    bson_destroy(filter);
    mongoc_collection_destroy(votes);
    mongoc_client_pool_push(mongo->pool, client);
    return page;
}

long logs_mongo_counted_since(struct logs_mongo *mongo, int64_t since_ms, long limit,
                              logs_visit_fn visit, void *ctx, char *errbuf, size_t errlen)
{
    mongoc_client_t *client = mongoc_client_pool_pop(mongo->pool);
    mongoc_collection_t *votes = mongoc_client_get_collection(client, mongo->database, "votes");
    bson_t *filter = BCON_NEW("counted_at", "{", "$gte", BCON_DATE_TIME(since_ms), "}");
    bson_t *opts = BCON_NEW("sort", "{", "counted_at", BCON_INT32(1), "_id", BCON_INT32(1), "}",
                            "limit", BCON_INT64(limit));
    mongoc_cursor_t *cursor = mongoc_collection_find_with_opts(votes, filter, opts, NULL);
    const bson_t *document;
    bson_error_t error;
    long visited = 0;

    while (mongoc_cursor_next(cursor, &document)) {
        visit(ctx, document);
        visited++;
    }
    if (mongoc_cursor_error(cursor, &error)) {
        snprintf(errbuf, errlen, "reading the newest vote logs from MongoDB failed: %s",
                 error.message);
        visited = -1;
    }

    mongoc_cursor_destroy(cursor);
    bson_destroy(opts);
    bson_destroy(filter);
    mongoc_collection_destroy(votes);
    mongoc_client_pool_push(mongo->pool, client);
    return visited;
}
