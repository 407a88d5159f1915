/* urna audit: the Redis counters must equal the MongoDB logs, per band and
 * per album. */
#include "cli.h"

#include "config.h"
#include "mongo_uri.h"
#include "results.h"

#include <mongoc/mongoc.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

/* One group of the MongoDB aggregation. */
struct logged_album {
    char *band;
    char *album;
    int year;
    long long votes;
};

static mongoc_client_t *connect_mongo(const char **database, char *errbuf, size_t errlen)
{
    const char *uri_text;
    mongoc_client_t *client;
    mongoc_uri_t *uri;

    if (config_string("URNA_MONGO_URI", "mongodb://127.0.0.1:27017", &uri_text, errbuf, errlen) ||
        config_string("URNA_MONGO_DB", "urna", database, errbuf, errlen))
        return NULL;
    uri = mongo_uri_open(uri_text, "urna-cli", errbuf, errlen);
    if (uri == NULL)
        return NULL;
    client = mongoc_client_new_from_uri(uri);
    mongoc_uri_destroy(uri);
    if (client == NULL)
        snprintf(errbuf, errlen, "cannot create a MongoDB client for URNA_MONGO_URI");
    return client;
}

long long audit_count_logs(char *errbuf, size_t errlen)
{
    const char *database;
    mongoc_client_t *client = connect_mongo(&database, errbuf, errlen);
    mongoc_collection_t *votes;
    bson_error_t error;
    bson_t filter = BSON_INITIALIZER;
    int64_t count;

    if (client == NULL)
        return -1;
    votes = mongoc_client_get_collection(client, database, "votes");
    count = mongoc_collection_count_documents(votes, &filter, NULL, NULL, NULL, &error);
    if (count < 0)
        snprintf(errbuf, errlen, "counting MongoDB logs failed: %.300s", error.message);
    bson_destroy(&filter);
    mongoc_collection_destroy(votes);
    mongoc_client_destroy(client);
    return count;
}

/* Reads one aggregation group {_id: {name, album, year}, votes}. */
static int read_group(const bson_t *doc, struct logged_album *out)
{
    bson_iter_t iter, id;

    if (!bson_iter_init_find(&iter, doc, "_id") || !BSON_ITER_HOLDS_DOCUMENT(&iter) ||
        !bson_iter_recurse(&iter, &id))
        return -1;
    while (bson_iter_next(&id)) {
        const char *key = bson_iter_key(&id);

        if (strcmp(key, "name") == 0 && BSON_ITER_HOLDS_UTF8(&id))
            out->band = strdup(bson_iter_utf8(&id, NULL));
        else if (strcmp(key, "album") == 0 && BSON_ITER_HOLDS_UTF8(&id))
            out->album = strdup(bson_iter_utf8(&id, NULL));
        else if (strcmp(key, "year") == 0)
            out->year = (int)bson_iter_as_int64(&id);
    }
    if (!bson_iter_init_find(&iter, doc, "votes"))
        return -1;
    out->votes = bson_iter_as_int64(&iter);
    return out->band != NULL && out->album != NULL ? 0 : -1;
}

/* Groups the logs by band, album and year. Returns the number of groups or
 * -1 with errbuf filled; *groups is malloc'd. */
static long load_logged(struct logged_album **groups, char *errbuf, size_t errlen)
{
    const char *database;
    mongoc_client_t *client = connect_mongo(&database, errbuf, errlen);
    bson_t *pipeline = BCON_NEW("pipeline", "[", "{", "$group", "{", "_id", "{", "name",
                                BCON_UTF8("$name"), "album", BCON_UTF8("$album"), "year",
                                BCON_UTF8("$year"), "}", "votes", "{", "$sum", BCON_INT32(1), "}",
                                "}", "}", "]");
    mongoc_collection_t *votes;
    mongoc_cursor_t *cursor;
    const bson_t *doc;
    bson_error_t error;
    size_t count = 0, cap = 64;
    long result = -1;

    *groups = calloc(cap, sizeof(**groups));
    if (client == NULL) {
        bson_destroy(pipeline);
        return -1;
    }
    votes = mongoc_client_get_collection(client, database, "votes");
    cursor = mongoc_collection_aggregate(votes, MONGOC_QUERY_NONE, pipeline, NULL, NULL);
    while (mongoc_cursor_next(cursor, &doc)) {
        if (count == cap) {
            struct logged_album *grown = realloc(*groups, cap * 2 * sizeof(**groups));

            if (grown == NULL)
                break; /* the audit then reports the missing groups as differences */
            *groups = grown;
            cap *= 2;
        }
        memset(&(*groups)[count], 0, sizeof(**groups));
        if (read_group(doc, &(*groups)[count]) == 0) {
            count++;
        } else {
            free((*groups)[count].band);
            free((*groups)[count].album);
        }
    }
    if (mongoc_cursor_error(cursor, &error)) {
        snprintf(errbuf, errlen, "aggregating MongoDB logs failed: %.300s", error.message);
        for (size_t i = 0; i < count; i++) {
            free((*groups)[i].band);
            free((*groups)[i].album);
        }
    } else {
        result = (long)count;
    }
    mongoc_cursor_destroy(cursor);
    mongoc_collection_destroy(votes);
    mongoc_client_destroy(client);
    bson_destroy(pipeline);
    return result;
}

static long long logged_votes(const struct logged_album *groups, long count, const char *band,
                              const char *album, int year)
{
    long long votes = 0;

    for (long i = 0; i < count; i++) {
        if (strcmp(groups[i].band, band) == 0 &&
            (album == NULL || (strcmp(groups[i].album, album) == 0 && groups[i].year == year)))
            votes += groups[i].votes;
    }
    return votes;
}

static int counted_album(const struct results_snapshot *results, const struct logged_album *group)
{
    for (size_t i = 0; i < results->album_count; i++) {
        const struct results_album *album = &results->albums[i];

        if (strcmp(album->band, group->band) == 0 && strcmp(album->album, group->album) == 0 &&
            album->year == group->year)
            return 1;
    }
    return 0;
}

/* Prints every difference; returns how many there are. */
static int compare(const struct results_snapshot *results, const struct logged_album *groups, long count)
{
    long long logged_total = 0;
    int differences = 0;

    for (long i = 0; i < count; i++)
        logged_total += groups[i].votes;
    if (logged_total != results->total) {
        printf("total: redis=%lld mongodb=%lld\n", results->total, logged_total);
        differences++;
    }
    for (size_t i = 0; i < results->band_count; i++) {
        const struct results_band *band = &results->bands[i];
        long long logged = logged_votes(groups, count, band->band, NULL, 0);

        if (logged != band->votes) {
            printf("band %s: redis=%lld mongodb=%lld\n", band->band, band->votes, logged);
            differences++;
        }
    }
    for (size_t i = 0; i < results->album_count; i++) {
        const struct results_album *album = &results->albums[i];
        long long logged = logged_votes(groups, count, album->band, album->album, album->year);

        if (logged != album->votes) {
            printf("album %s / %s (%d): redis=%lld mongodb=%lld\n", album->band, album->album,
                   album->year, album->votes, logged);
            differences++;
        }
    }
    for (long i = 0; i < count; i++) {
        if (!counted_album(results, &groups[i])) {
            printf("album %s / %s (%d): redis=0 mongodb=%lld\n", groups[i].band, groups[i].album,
                   groups[i].year, groups[i].votes);
            differences++;
        }
    }
    return differences;
}

int cli_audit(int argc, char **argv)
{
    struct logged_album *groups = NULL;
    struct results_snapshot results;
    char errbuf[1024];
    long count;
    int differences;

    (void)argv;
    if (argc != 1) {
        fprintf(stderr, "usage: urna audit\n");
        return 2;
    }
    if (cli_read_results(&results, errbuf, sizeof(errbuf)) != 0) {
        fprintf(stderr, "urna audit: %s\n", errbuf);
        results_snapshot_free(&results);
        return 1;
    }
    count = load_logged(&groups, errbuf, sizeof(errbuf));
    if (count < 0) {
        fprintf(stderr, "urna audit: %s\n", errbuf);
        results_snapshot_free(&results);
        free(groups);
        return 1;
    }

    differences = compare(&results, groups, count);
    printf("audit: %s: %lld votes counted in Redis, %zu bands, %zu albums; %d differences\n",
           differences == 0 ? "OK" : "FAILED", results.total, results.band_count,
           results.album_count, differences);

    for (long i = 0; i < count; i++) {
        free(groups[i].band);
        free(groups[i].album);
    }
    free(groups);
    results_snapshot_free(&results);
    return differences == 0 ? 0 : 1;
}
