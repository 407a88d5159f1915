/* The urna command-line tool: shared declarations of its subcommands. */
#ifndef URNA_CLI_H
#define URNA_CLI_H

#include <stddef.h>

/* One album's row of the tally. */
struct album_tally {
    char *band;
    char *album;
    int year;
    long long votes;
    double rank_sum;
};

/* One band's row of the tally. */
struct band_tally {
    char *band;
    long long votes;
    double rank_sum;
};

/* The counters in Redis, as urna results shows them. */
struct results {
    long long total;
    long long grpc;
    long long rest;
    struct band_tally *bands;
    size_t band_count;
    struct album_tally *albums;
    size_t album_count;
};

/* Reads every counter from Redis (URNA_REDIS_ADDR, URNA_REDIS_PASSWORD,
 * URNA_REDIS_PREFIX). Returns 0, or -1 with errbuf filled. Bands and albums
 * come sorted by votes, most first. */
int results_load(struct results *results, char *errbuf, size_t errlen);

void results_free(struct results *results);

/* Counts the log documents in MongoDB (URNA_MONGO_URI, URNA_MONGO_DB).
 * Returns the count, or -1 with errbuf filled. */
long long audit_count_logs(char *errbuf, size_t errlen);

int cli_send(int argc, char **argv);
int cli_results(int argc, char **argv);
int cli_audit(int argc, char **argv);

/* Non-zero when messages should be in English (URNA_LANG=en). */
int cli_english(void);

#endif
