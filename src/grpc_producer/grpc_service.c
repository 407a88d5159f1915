#include "grpc_service.h"

#include "log.h"
#include "metrics.h"
#include "vote.h"
#include "vote.pb-c.h"
#include "vote_request.h"

#include <grpc/byte_buffer_reader.h>
#include <grpc/grpc.h>
#include <grpc/grpc_security.h>
#include <grpc/support/time.h>
#include <pthread.h>
#include <stdatomic.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#define CALLS_WAITING_PER_QUEUE 64

struct grpc_service;

enum call_state { CALL_REQUESTED, CALL_RECEIVING, CALL_ANSWERING };

/* One SubmitVote call from request to response; freed once the response is sent. */
struct call {
    enum call_state state;
    struct grpc_service *service;
    grpc_completion_queue *queue;
    grpc_call *call;
    grpc_call_details details;
    grpc_metadata_array request_metadata;
    grpc_byte_buffer *request;
    grpc_byte_buffer *reply;
    grpc_slice status_details;
    int cancelled;
    double started;
    struct vote vote;
    char *record;
};

struct grpc_service {
    grpc_server *server;
    grpc_completion_queue *shutdown_queue;
    int thread_count;
    grpc_completion_queue **queues;
    pthread_t *threads;
    struct producer *producer;
    atomic_int shutting_down;
    atomic_ulong calls;
    struct metric_histogram *delivery_seconds;
};

static void call_free(struct call *call)
{
    if (call->call != NULL)
        grpc_call_unref(call->call);
    grpc_call_details_destroy(&call->details);
    grpc_metadata_array_destroy(&call->request_metadata);
    if (call->request != NULL)
        grpc_byte_buffer_destroy(call->request);
    if (call->reply != NULL)
        grpc_byte_buffer_destroy(call->reply);
    grpc_slice_unref(call->status_details);
    free(call->record);
    free(call);
}

/* Posts one more grpc_server_request_call on queue so a new call can arrive. */
static void request_next_call(struct grpc_service *service, grpc_completion_queue *queue)
{
    struct call *call = calloc(1, sizeof(*call));

    if (call == NULL) {
        log_error("out of memory: cannot wait for another gRPC call");
        return;
    }
    call->state = CALL_REQUESTED;
    call->service = service;
    call->queue = queue;
    call->status_details = grpc_empty_slice();
    grpc_call_details_init(&call->details);
    grpc_metadata_array_init(&call->request_metadata);
    if (grpc_server_request_call(service->server, &call->call, &call->details,
                                 &call->request_metadata, queue, queue, call) != GRPC_CALL_OK) {
        log_error("grpc_server_request_call failed");
        call_free(call);
    }
}

/* Sends the final status (and the reply when there is one). Runs on a
 * completion-queue thread or on the Kafka poll thread. */
static void answer(struct call *call, grpc_status_code status, const char *message)
{
    grpc_op ops[4];
    size_t count = 0;

    memset(ops, 0, sizeof(ops));
    call->state = CALL_ANSWERING;
    call->status_details = grpc_slice_from_copied_string(message);
    ops[count++].op = GRPC_OP_SEND_INITIAL_METADATA;
    if (call->reply != NULL) {
        ops[count].op = GRPC_OP_SEND_MESSAGE;
        ops[count++].data.send_message.send_message = call->reply;
    }
    ops[count].op = GRPC_OP_SEND_STATUS_FROM_SERVER;
    ops[count].data.send_status_from_server.status = status;
    ops[count++].data.send_status_from_server.status_details = &call->status_details;
    ops[count].op = GRPC_OP_RECV_CLOSE_ON_SERVER;
    ops[count++].data.recv_close_on_server.cancelled = &call->cancelled;

    if (grpc_call_start_batch(call->call, ops, count, call, NULL) != GRPC_CALL_OK) {
        log_error("cannot send the response for vote %s", call->vote.id);
        call_free(call);
    }
}

static grpc_byte_buffer *pack_reply(const struct vote *vote, const struct producer_result *result)
{
    Urna__V1__VoteReply reply = URNA__V1__VOTE_REPLY__INIT;
    uint8_t buffer[128];
    grpc_slice slice;
    grpc_byte_buffer *message;

    reply.id = (char *)vote->id;
    reply.partition = result->partition;
    reply.offset = result->offset;
    slice = grpc_slice_from_copied_buffer((const char *)buffer,
                                          urna__v1__vote_reply__pack(&reply, buffer));
    message = grpc_raw_byte_buffer_create(&slice, 1);
    grpc_slice_unref(slice);
    return message;
}

/* The delivery report of one vote, on the Kafka poll thread. */
static void on_delivered(void *opaque, const struct producer_result *result)
{
    struct call *call = opaque;

    metric_observe(call->service->delivery_seconds, metrics_clock() - call->started);
    if (result->status != PRODUCER_DELIVERED) {
        answer(call, GRPC_STATUS_UNAVAILABLE, result->error);
        return;
    }
    call->reply = pack_reply(&call->vote, result);
    answer(call, GRPC_STATUS_OK, "");
}

/* Unpacks a VoteRequest into call->vote; returns NULL or what is wrong. */
static const char *read_request(struct call *call)
{
    grpc_byte_buffer_reader reader;
    Urna__V1__VoteRequest *request;
    grpc_slice all;
    const char *problem;

    if (call->request == NULL || !grpc_byte_buffer_reader_init(&reader, call->request))
        return "missing VoteRequest message";
    all = grpc_byte_buffer_reader_readall(&reader);
    grpc_byte_buffer_reader_destroy(&reader);
    request = urna__v1__vote_request__unpack(NULL, GRPC_SLICE_LENGTH(all), GRPC_SLICE_START_PTR(all));
    grpc_slice_unref(all);
    if (request == NULL)
        return "VoteRequest does not decode";

    problem = vote_request_to_vote(request, &call->vote);
    urna__v1__vote_request__free_unpacked(request, NULL);
    return problem;
}

static void on_received(struct call *call)
{
    const char *problem = read_request(call);

    if (problem != NULL) {
        log_debug("rejected gRPC request: %s", problem);
        answer(call, GRPC_STATUS_INVALID_ARGUMENT, problem);
        return;
    }
    call->record = vote_record_to_json(&call->vote);
    if (call->record == NULL) {
        answer(call, GRPC_STATUS_RESOURCE_EXHAUSTED, "out of memory");
        return;
    }
    call->started = metrics_clock();
    producer_send_async(call->service->producer, call->vote.id, call->record,
                        strlen(call->record), on_delivered, call);
}

static void start_receiving(struct call *call)
{
    grpc_op op;

    memset(&op, 0, sizeof(op));
    op.op = GRPC_OP_RECV_MESSAGE;
    op.data.recv_message.recv_message = &call->request;
    call->state = CALL_RECEIVING;
    if (grpc_call_start_batch(call->call, &op, 1, call, NULL) != GRPC_CALL_OK) {
        log_error("cannot receive a gRPC request message");
        call_free(call);
    }
}

/* Advances one call by one completion event. */
static void on_event(struct call *call, int success)
{
    struct grpc_service *service = call->service;

    switch (call->state) {
    case CALL_REQUESTED:
        if (!success) { /* the server is shutting down */
            call_free(call);
            return;
        }
        atomic_fetch_add(&service->calls, 1);
        if (!atomic_load(&service->shutting_down))
            request_next_call(service, call->queue);
        start_receiving(call);
        break;
    case CALL_RECEIVING:
        if (!success) {
            answer(call, GRPC_STATUS_CANCELLED, "the request message did not arrive");
            return;
        }
        on_received(call);
        break;
    case CALL_ANSWERING:
        call_free(call);
        break;
    }
}

static void *queue_loop(void *arg)
{
    grpc_completion_queue *queue = arg;

    for (;;) {
        grpc_event event = grpc_completion_queue_next(queue, gpr_inf_future(GPR_CLOCK_REALTIME), NULL);

        if (event.type == GRPC_QUEUE_SHUTDOWN)
            return NULL;
        if (event.type == GRPC_OP_COMPLETE)
            on_event(event.tag, event.success);
    }
}

static int start_threads(struct grpc_service *service, char *errbuf, size_t errlen)
{
    for (int i = 0; i < service->thread_count; i++) {
        for (int j = 0; j < CALLS_WAITING_PER_QUEUE; j++)
            request_next_call(service, service->queues[i]);
        if (pthread_create(&service->threads[i], NULL, queue_loop, service->queues[i]) != 0) {
            snprintf(errbuf, errlen, "cannot start gRPC queue thread %d", i);
            return -1;
        }
    }
    return 0;
}

struct grpc_service *grpc_service_start(const char *listen, int threads,
                                        struct producer *producer, char *errbuf, size_t errlen)
{
    struct grpc_service *service = calloc(1, sizeof(*service));
    grpc_server_credentials *credentials;
    int port;

    if (service == NULL)
        return NULL;
    service->producer = producer;
    service->thread_count = threads;
    service->queues = calloc((size_t)threads, sizeof(*service->queues));
    service->threads = calloc((size_t)threads, sizeof(*service->threads));
    service->delivery_seconds = metrics_histogram("urna_request_duration_seconds",
                                                  "Time to respond to a vote, by hop",
                                                  "service=\"grpc-producer\",route=\"grpc\",hop=\"kafka_delivery\"");

    service->server = grpc_server_create(NULL, NULL);
    /* The shutdown queue must be registered before the server starts. */
    service->shutdown_queue = grpc_completion_queue_create_for_pluck(NULL);
    grpc_server_register_completion_queue(service->server, service->shutdown_queue, NULL);
    for (int i = 0; i < threads; i++) {
        service->queues[i] = grpc_completion_queue_create_for_next(NULL);
        grpc_server_register_completion_queue(service->server, service->queues[i], NULL);
    }

    credentials = grpc_insecure_server_credentials_create();
    port = grpc_server_add_http2_port(service->server, listen, credentials);
    grpc_server_credentials_release(credentials);
    if (port == 0) {
        snprintf(errbuf, errlen, "cannot listen on %s; is the port taken by another process?",
                 listen);
        return NULL; /* TODO: free the half-built server; the process exits right after. */
    }
    grpc_server_start(service->server);
    if (start_threads(service, errbuf, errlen) != 0)
        return NULL;
    return service;
}

void grpc_service_stop(struct grpc_service *service, long drain_ms)
{
    gpr_timespec deadline = gpr_time_add(gpr_now(GPR_CLOCK_REALTIME),
                                         gpr_time_from_millis(drain_ms, GPR_TIMESPAN));
    grpc_event event;

    atomic_store(&service->shutting_down, 1);
    grpc_server_shutdown_and_notify(service->server, service->shutdown_queue, service);
    event = grpc_completion_queue_pluck(service->shutdown_queue, service, deadline, NULL);
    if (event.type == GRPC_QUEUE_TIMEOUT) {
        log_warn("calls still in flight after %ld ms; cancelling them", drain_ms);
        grpc_server_cancel_all_calls(service->server);
        grpc_completion_queue_pluck(service->shutdown_queue, service,
                                    gpr_inf_future(GPR_CLOCK_REALTIME), NULL);
    }
    grpc_server_destroy(service->server);

    for (int i = 0; i < service->thread_count; i++) {
        grpc_completion_queue_shutdown(service->queues[i]);
        pthread_join(service->threads[i], NULL);
        grpc_completion_queue_destroy(service->queues[i]);
    }
    grpc_completion_queue_shutdown(service->shutdown_queue);
    grpc_completion_queue_destroy(service->shutdown_queue);
    free(service->queues);
    free(service->threads);
    free(service);
}

unsigned long grpc_service_calls(struct grpc_service *service)
{
    return atomic_load(&service->calls);
}
