/* urna results: the tally as stored in Redis. */
#include "cli.h"

#include "config.h"
#include "results.h"

#include <jansson.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>

int cli_read_results(struct results_snapshot *snapshot, char *errbuf, size_t errlen)
{
    char host[64], password[256];
    struct results_store *store;
    const char *prefix;
    int port, rc;

    memset(snapshot, 0, sizeof(*snapshot));
    if (config_host_port("URNA_REDIS_ADDR", "127.0.0.1:6379", host, sizeof(host), &port, errbuf,
                         errlen) != 0 ||
        config_secret("URNA_REDIS_PASSWORD", 0, password, sizeof(password), errbuf, errlen) != 0 ||
        config_string("URNA_REDIS_PREFIX", "urna:", &prefix, errbuf, errlen) != 0)
        return -1;

    store = results_store_new(host, port, password, prefix, 1);
    if (store == NULL) {
        snprintf(errbuf, errlen, "out of memory");
        return -1;
    }
    rc = results_store_read(store, (int64_t)time(NULL), snapshot, errbuf, errlen);
    results_store_free(store);
    return rc;
}

static double average(double sum, long long votes)
{
    return votes > 0 ? sum / (double)votes : 0;
}

/* Prints the shape the logs API serves at /api/results, without its rates. */
static void print_json(const struct results_snapshot *results)
{
    json_t *root = results_snapshot_json(results);
    char *text;

    json_object_del(root, "rate");
    text = json_dumps(root, JSON_INDENT(2) | JSON_PRESERVE_ORDER);
    puts(text);
    free(text);
    json_decref(root);
}

/* Prints s padded with spaces to width display columns (UTF-8 aware). */
static void print_padded(const char *s, int width)
{
    int columns = 0;

    for (const unsigned char *p = (const unsigned char *)s; *p != '\0'; p++)
        columns += (*p & 0xc0) != 0x80;
    fputs(s, stdout);
    for (; columns < width; columns++)
        putchar(' ');
}

static void print_table(const struct results_snapshot *results, size_t top_albums)
{
    int en = cli_english();

    printf("%s: %lld  (%s %lld, %s %lld)\n\n", en ? "Total votes" : "Votos totales",
           results->total, results_routes[0], results->by_route[0], results_routes[1],
           results->by_route[1]);
    print_padded(en ? "Band" : "Banda", 34);
    printf("%8s %7s %9s\n", en ? "votes" : "votos", "%", en ? "avg rank" : "rank prom");
    for (size_t i = 0; i < results->band_count; i++) {
        const struct results_band *band = &results->bands[i];

        print_padded(band->band, 34);
        printf("%8lld %6.2f%% %9.2f\n", band->votes,
               results->total > 0 ? 100.0 * (double)band->votes / (double)results->total : 0.0,
               average(band->rank_sum, band->votes));
    }

    printf("\n%s\n", en ? "Top albums" : "Álbumes más votados");
    for (size_t i = 0; i < results->album_count && i < top_albums; i++) {
        const struct results_album *album = &results->albums[i];
        char label[480];

        snprintf(label, sizeof(label), "%s — %s (%d)", album->band, album->album, album->year);
        print_padded(label, 60);
        printf("%8lld %9.2f\n", album->votes, average(album->rank_sum, album->votes));
    }
}

int cli_results(int argc, char **argv)
{
    struct results_snapshot results;
    char errbuf[1024];
    int as_json = argc > 1 && strcmp(argv[1], "--json") == 0;

    if (argc > 2 || (argc == 2 && !as_json)) {
        fprintf(stderr, "usage: urna results [--json]\n");
        return 2;
    }
    if (cli_read_results(&results, errbuf, sizeof(errbuf)) != 0) {
        fprintf(stderr, "urna results: %s\n", errbuf);
        results_snapshot_free(&results);
        return 1;
    }
    if (as_json)
        print_json(&results);
    else
        print_table(&results, 10);
    results_snapshot_free(&results);
    return 0;
}
