/* urna-grpc-front: the HTTP front of the grpc route (POST /grpc/vote). It
 * validates the ballot, assigns the vote id and calls the gRPC producer
 * service, responding 202 once Kafka confirmed the vote. */
#include "config.h"
#include "front.h"
#include "grpc_client.h"
#include "log.h"

#include <grpc/grpc.h>
#include <stdio.h>

int main(void)
{
    struct front_route route = {
        .route = "grpc",
        .service = "grpc-front",
        .listen_var = "URNA_GRPC_FRONT_LISTEN",
        .listen_default = "127.0.0.1:3000",
        .forward = grpc_client_submit,
    };
    struct grpc_client *client;
    const char *target;
    long timeout_ms;
    char errbuf[512];
    int code;

    if (config_init_logging(route.service, errbuf, sizeof(errbuf)) != 0 ||
        config_string("URNA_GRPC_PRODUCER_TARGET", "127.0.0.1:3001", &target, errbuf,
                      sizeof(errbuf)) != 0 ||
        config_long("URNA_DELIVERY_TIMEOUT_MS", 5000, 100, 300000, &timeout_ms, errbuf,
                    sizeof(errbuf)) != 0) {
        fprintf(stderr, "grpc-front: %s\n", errbuf);
        return 1;
    }
    grpc_init();
    /* The producer waits up to the delivery timeout; one more second covers the hop. */
    client = grpc_client_create(target, timeout_ms + 1000);
    if (client == NULL) {
        log_error("cannot create the gRPC channel to %s", target);
        return 1;
    }
    route.forward_ctx = client;
    route.forward_close = grpc_client_close;
    route.hop_timeout_ms = timeout_ms + 1000;
    log_info("gRPC producer at %s", target);

    code = front_run(&route);

    grpc_shutdown();
    return code;
}
