/* The urna command-line tool: shared declarations of its subcommands. */
#ifndef URNA_CLI_H
#define URNA_CLI_H

#include <stddef.h>

struct results_snapshot;

/* Reads every counter from Redis (URNA_REDIS_ADDR, URNA_REDIS_PASSWORD,
 * URNA_REDIS_PREFIX). Returns 0, or -1 with errbuf filled; free the snapshot
 * with results_snapshot_free either way. */
int cli_read_results(struct results_snapshot *snapshot, char *errbuf, size_t errlen);

/* Counts the log documents in MongoDB (URNA_MONGO_URI, URNA_MONGO_DB).
 * Returns the count, or -1 with errbuf filled. */
long long audit_count_logs(char *errbuf, size_t errlen);

int cli_send(int argc, char **argv);
int cli_results(int argc, char **argv);
int cli_audit(int argc, char **argv);

/* Non-zero when messages should be in English (URNA_LANG=en). */
int cli_english(void);

#endif
