/* urna-rest-front: the HTTP front of the rest route (POST /rest/vote). It
 * validates the ballot, assigns the vote id and forwards the vote over
 * HTTP/JSON to the rest producer service, answering 202 once Kafka confirmed
 * the vote. */
#include "config.h"
#include "front.h"
#include "log.h"
#include "rest_client.h"

#include <curl/curl.h>
#include <stdio.h>

int main(void)
{
    struct front_route route = {
        .route = "rest",
        .service = "rest-front",
        .listen_var = "URNA_REST_FRONT_LISTEN",
        .listen_default = "127.0.0.1:8000",
        .forward = rest_client_submit,
    };
    struct rest_client *client;
    const char *url;
    long timeout_ms, connections;
    char errbuf[512];
    int code;

    if (config_init_logging(route.service, errbuf, sizeof(errbuf)) != 0 ||
        config_string("URNA_REST_PRODUCER_URL", "http://127.0.0.1:8080", &url, errbuf,
                      sizeof(errbuf)) != 0 ||
        config_long("URNA_DELIVERY_TIMEOUT_MS", 5000, 100, 300000, &timeout_ms, errbuf,
                    sizeof(errbuf)) != 0 ||
        config_long("URNA_REST_HOP_CONNECTIONS", 128, 1, 4096, &connections, errbuf,
                    sizeof(errbuf)) != 0) {
        fprintf(stderr, "rest-front: %s\n", errbuf);
        return 1;
    }
    if (curl_global_init(CURL_GLOBAL_DEFAULT) != CURLE_OK) {
        log_error("cannot initialise libcurl");
        return 1;
    }

    /* The producer waits up to the delivery timeout; one more second covers the hop. */
    client = rest_client_create(url, timeout_ms + 1000, connections);
    if (client == NULL) {
        log_error("cannot create the HTTP client for %s", url);
        return 1;
    }
    route.forward_ctx = client;
    route.forward_close = rest_client_close;
    route.hop_timeout_ms = timeout_ms + 1000;
    log_info("rest producer at %s", url);

    code = front_run(&route);

    curl_global_cleanup();
    return code;
}
