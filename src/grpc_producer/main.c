/* urna-grpc-producer: the gRPC producer service of the grpc route. Serves
 * urna.v1.VoteService/SubmitVote and answers each call from Kafka's delivery
 * report. Health and metrics are on a separate HTTP port. */
#include "config.h"
#include "grpc_service.h"
#include "http_server.h"
#include "log.h"
#include "metrics.h"
#include "ops_http.h"
#include "producer.h"
#include "service.h"

#include <grpc/grpc.h>
#include <stdio.h>

static double queue_depth(void *ctx)
{
    return producer_queue_depth(ctx);
}

static double restarts(void *ctx)
{
    return (double)producer_restarts(ctx);
}

int main(void)
{
    struct producer_config kafka;
    struct producer *producer;
    struct grpc_service *service;
    struct http_server *ops;
    const char *listen;
    long threads;
    char errbuf[512];
    int left;

    if (config_init_logging("grpc-producer", errbuf, sizeof(errbuf)) != 0 ||
        config_string("URNA_GRPC_PRODUCER_LISTEN", "127.0.0.1:3001", &listen, errbuf,
                      sizeof(errbuf)) != 0 ||
        config_long("URNA_GRPC_THREADS", 2, 1, 64, &threads, errbuf, sizeof(errbuf)) != 0 ||
        producer_config_from_env(&kafka, "urna-grpc-producer", errbuf, sizeof(errbuf)) != 0) {
        fprintf(stderr, "grpc-producer: %s\n", errbuf);
        return 1;
    }
    service_install_signals();

    producer = producer_create(&kafka, errbuf, sizeof(errbuf));
    if (producer == NULL) {
        log_error("%s", errbuf);
        return 1;
    }
    metrics_gauge("urna_producer_queue_depth", "Votes queued for Kafka and not yet confirmed",
                  "service=\"grpc-producer\"", queue_depth, producer);
    metrics_gauge("urna_producer_restarts", "Producer recreations after a fatal error",
                  "service=\"grpc-producer\"", restarts, producer);

    grpc_init();
    service = grpc_service_start(listen, (int)threads, producer, errbuf, sizeof(errbuf));
    ops = service != NULL ? ops_http_start("grpc-producer", "URNA_GRPC_PRODUCER_OPS_LISTEN",
                                           "127.0.0.1:3002", NULL, NULL, errbuf, sizeof(errbuf))
                          : NULL;
    if (service == NULL || ops == NULL) {
        log_error("%s", errbuf);
        return 1;
    }
    log_info("listening on %s (gRPC), Kafka %s topic %s", listen, kafka.brokers, kafka.topic);

    service_wait_for_stop();
    log_info("stopping: responding to the calls in flight");
    grpc_service_stop(service, kafka.delivery_timeout_ms + 1000);
    http_server_stop(ops);
    left = producer_destroy(producer, (int)kafka.delivery_timeout_ms);
    grpc_shutdown();
    log_info("stopped after %s", left == 0 ? "a clean drain" : "losing undelivered votes");
    return left == 0 ? 0 : 2;
}
