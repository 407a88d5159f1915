/* urna-tally: the consumer daemon. Counts votes into Redis and logs each one
 * into MongoDB, each from its own consumer group; run any number of instances. */
#include "config.h"
#include "log.h"
#include "service.h"
#include "tally.h"

#include <mongoc/mongoc.h>
#include <stdio.h>
#include <string.h>

static int usage(void)
{
    fprintf(stderr, "usage: urna-tally [--skip-to-end]\n"
                    "  --skip-to-end  move both consumer groups to the end of the votes topic\n"
                    "                 and exit (for a new round; stop every tally first)\n");
    return 2;
}

int main(int argc, char **argv)
{
    struct tally_config config;
    char errbuf[512];
    int skip_to_end = argc == 2 && strcmp(argv[1], "--skip-to-end") == 0;
    int code;

    if (argc > 2 || (argc == 2 && !skip_to_end))
        return usage();

    if (config_init_logging("tally", errbuf, sizeof(errbuf)) != 0 ||
        tally_config_from_env(&config, errbuf, sizeof(errbuf)) != 0) {
        fprintf(stderr, "tally: %s\n", errbuf);
        return 1;
    }
    service_install_signals();
    mongoc_init();

    code = skip_to_end ? tally_skip_to_end(&config) : tally_run(&config);

    mongoc_cleanup();
    return code;
}
