/* urna: the operator's command-line tool. Sends votes files through the
 * ingress, prints the tally from Redis, and audits it against MongoDB. */
#include "cli.h"

#include "log.h"
#include "mongo_uri.h"

#include <curl/curl.h>
#include <mongoc/mongoc.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

static void usage(FILE *out)
{
    fputs("usage:\n"
          "  urna send FILE [--route grpc|rest|both] [--url URL] [--concurrency N]\n"
          "                 [--retries N] [--acked-ids FILE] [--stats-json FILE]\n"
          "                 [--reconcile] [--wait-s S]\n"
          "      sends a JSON array of votes through the ingress (default\n"
          "      URNA_INGRESS_URL or http://127.0.0.1:8088) and prints sent,\n"
          "      acknowledged and rejected votes with their reasons; --reconcile\n"
          "      waits until every acknowledged vote is counted and logged\n"
          "  urna results [--json]\n"
          "      prints the tally from Redis\n"
          "  urna audit\n"
          "      compares the Redis counters with the MongoDB logs per band and\n"
          "      album; exits 1 on any difference\n"
          "Set URNA_LANG=en for English output.\n",
          out);
}

int cli_english(void)
{
    const char *lang = getenv("URNA_LANG");

    return lang != NULL && strncmp(lang, "en", 2) == 0;
}

int main(int argc, char **argv)
{
    int code;

    log_init("urna", LOG_LEVEL_WARN);
    if (argc < 2 || strcmp(argv[1], "--help") == 0 || strcmp(argv[1], "-h") == 0) {
        usage(argc < 2 ? stderr : stdout);
        return argc < 2 ? 2 : 0;
    }

    curl_global_init(CURL_GLOBAL_DEFAULT);
    mongoc_init();
    /* Errors only: FerretDB lacks endSessions, which mongoc reports as a warning. */
    mongo_log_install(MONGOC_LOG_LEVEL_ERROR);
    if (strcmp(argv[1], "send") == 0) {
        code = cli_send(argc - 1, argv + 1);
    } else if (strcmp(argv[1], "results") == 0) {
        code = cli_results(argc - 1, argv + 1);
    } else if (strcmp(argv[1], "audit") == 0) {
        code = cli_audit(argc - 1, argv + 1);
    } else {
        fprintf(stderr, "urna: unknown command \"%s\"\n", argv[1]);
        usage(stderr);
        code = 2;
    }
    mongoc_cleanup();
    curl_global_cleanup();
    return code;
}
