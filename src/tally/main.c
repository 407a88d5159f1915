/* urna-tally: the consumer daemon. Counts votes into Redis and logs each one
 * into MongoDB; run any number of instances in one consumer group. */
#include "config.h"
#include "log.h"
#include "service.h"
#include "tally.h"

#include <mongoc/mongoc.h>
#include <stdio.h>

int main(void)
{
    struct tally_config config;
    char errbuf[512];
    int code;

    if (config_init_logging("tally", errbuf, sizeof(errbuf)) != 0 ||
        tally_config_from_env(&config, errbuf, sizeof(errbuf)) != 0) {
        fprintf(stderr, "tally: %s\n", errbuf);
        return 1;
    }
    service_install_signals();
    mongoc_init();

    code = tally_run(&config);

    mongoc_cleanup();
    return code;
}
