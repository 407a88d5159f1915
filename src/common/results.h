/* The tally as stored in Redis (docs/data-model.md), read through a small
 * pool of connections that threads share, and rendered as JSON. The logs API
 * and the urna tool both read it here; readers never write. */
#ifndef URNA_RESULTS_H
#define URNA_RESULTS_H

#include <jansson.h>
#include <stddef.h>
#include <stdint.h>

#define RESULTS_RATE_WINDOW_S 60
#define RESULTS_ROUTE_COUNT 2

/* The route names of the by_route hash and of the rate keys. */
extern const char *const results_routes[RESULTS_ROUTE_COUNT];

struct results_album {
    char *band;
    char *album;
    int year;
    long long votes;
    double rank_sum;
};

struct results_band {
    char *band;
    long long votes;
    double rank_sum;
};

/* One reading of every counter. Bands and albums are sorted by votes, most
 * first, then by name. */
struct results_snapshot {
    long long total;
    long long by_route[RESULTS_ROUTE_COUNT];
    double rate[RESULTS_ROUTE_COUNT]; /* votes per second over the window */
    struct results_band *bands;
    size_t band_count;
    struct results_album *albums;
    size_t album_count;
};

struct results_store;

/* Stores the address; connections open on first use. Returns NULL when
 * memory ran out. */
struct results_store *results_store_new(const char *host, int port, const char *password,
                                        const char *prefix, int max_connections);

void results_store_free(struct results_store *store);

/* Returns non-zero when Redis responds to PING. */
int results_store_ping(struct results_store *store);

/* Reads every counter and the rate keys of the RESULTS_RATE_WINDOW_S whole
 * seconds before now_s. Returns 0, or -1 with errbuf filled; free the
 * snapshot with results_snapshot_free either way. */
int results_store_read(struct results_store *store, int64_t now_s,
                       struct results_snapshot *snapshot, char *errbuf, size_t errlen);

void results_snapshot_free(struct results_snapshot *snapshot);

/* Renders {"total", "by_route", "by_band", "by_album", "rate"}; returns a new
 * reference or NULL. */
json_t *results_snapshot_json(const struct results_snapshot *snapshot);

#endif
