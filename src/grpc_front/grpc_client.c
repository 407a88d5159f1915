#include "grpc_client.h"

#include "log.h"
#include "vote.pb-c.h"

#include <grpc/byte_buffer_reader.h>
#include <grpc/grpc.h>
#include <grpc/grpc_security.h>
#include <grpc/support/alloc.h>
#include <grpc/support/time.h>
#include <pthread.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

struct grpc_client {
    grpc_channel *channel;
    long deadline_ms;
    grpc_completion_queue *queue; /* every call's completion */
    pthread_t thread;             /* runs collect_answers */
};

/* One SubmitVote call in flight and the buffers its batch fills. */
struct vote_call {
    grpc_call *call;
    grpc_byte_buffer *request;
    grpc_byte_buffer *response;
    grpc_metadata_array initial_metadata;
    grpc_metadata_array trailing_metadata;
    grpc_status_code status;
    grpc_slice details;
    front_done_fn done;
    void *opaque;
};

static void finish_call(struct vote_call *call, int success);

/* The completion thread: hands each finished call to finish_call until the
 * queue is shut down. */
static void *collect_answers(void *arg)
{
    struct grpc_client *client = arg;
    grpc_event event;

    for (;;) {
        event = grpc_completion_queue_next(client->queue, gpr_inf_future(GPR_CLOCK_REALTIME),
                                           NULL);
        if (event.type == GRPC_QUEUE_SHUTDOWN)
            return NULL;
        if (event.type == GRPC_OP_COMPLETE)
            finish_call(event.tag, event.success);
    }
}

struct grpc_client *grpc_client_create(const char *target, long deadline_ms)
{
    struct grpc_client *client = calloc(1, sizeof(*client));
    grpc_channel_credentials *credentials;

    if (client == NULL)
        return NULL;
    credentials = grpc_insecure_credentials_create();
    client->channel = grpc_channel_create(target, credentials, NULL);
    grpc_channel_credentials_release(credentials);
    client->deadline_ms = deadline_ms;
    client->queue = grpc_completion_queue_create_for_next(NULL);

    if (pthread_create(&client->thread, NULL, collect_answers, client) != 0) {
        grpc_completion_queue_shutdown(client->queue);
        grpc_completion_queue_destroy(client->queue);
        grpc_channel_destroy(client->channel);
        free(client);
        return NULL;
    }
    return client;
}

void grpc_client_destroy(struct grpc_client *client)
{
    if (client == NULL)
        return;
    grpc_completion_queue_shutdown(client->queue);
    pthread_join(client->thread, NULL);
    grpc_completion_queue_destroy(client->queue);
    grpc_channel_destroy(client->channel);
    free(client);
}

void grpc_client_close(void *client)
{
    grpc_client_destroy(client);
}

static grpc_byte_buffer *pack_request(const struct vote *vote)
{
    Urna__V1__VoteRequest request = URNA__V1__VOTE_REQUEST__INIT;
    uint8_t buffer[1024];
    grpc_slice slice;
    grpc_byte_buffer *message;

    request.id = (char *)vote->id;
    request.name = (char *)vote->name;
    request.album = (char *)vote->album;
    request.year = vote->year;
    request.rank = vote->rank;
    request.received_at_ms = vote->received_at_ms;

    /* Two 200-byte texts, an id and three numbers always fit in 1 KiB. */
    slice = grpc_slice_from_copied_buffer((const char *)buffer,
                                          urna__v1__vote_request__pack(&request, buffer));
    message = grpc_raw_byte_buffer_create(&slice, 1);
    grpc_slice_unref(slice);
    return message;
}

/* Unpacks the reply into result; returns 0 or -1 when it is malformed. */
static int read_reply(grpc_byte_buffer *message, struct producer_result *result)
{
    grpc_byte_buffer_reader reader;
    grpc_slice all;
    Urna__V1__VoteReply *reply;

    if (message == NULL || !grpc_byte_buffer_reader_init(&reader, message))
        return -1;
    all = grpc_byte_buffer_reader_readall(&reader);
    grpc_byte_buffer_reader_destroy(&reader);

    reply = urna__v1__vote_reply__unpack(NULL, GRPC_SLICE_LENGTH(all), GRPC_SLICE_START_PTR(all));
    grpc_slice_unref(all);
    if (reply == NULL)
        return -1;
    result->status = PRODUCER_DELIVERED;
    result->partition = reply->partition;
    result->offset = reply->offset;
    result->error[0] = '\0';
    urna__v1__vote_reply__free_unpacked(reply, NULL);
    return 0;
}

static void fail(struct producer_result *result, const char *format, const char *detail)
{
    char reason[sizeof(result->error)];

    snprintf(reason, sizeof(reason), format, detail);
    producer_result_fail(result, PRODUCER_NOT_DELIVERED, reason);
}

static void vote_call_free(struct vote_call *call)
{
    if (call->call != NULL)
        grpc_call_unref(call->call);
    grpc_byte_buffer_destroy(call->request);
    if (call->response != NULL)
        grpc_byte_buffer_destroy(call->response);
    grpc_slice_unref(call->details);
    grpc_metadata_array_destroy(&call->initial_metadata);
    grpc_metadata_array_destroy(&call->trailing_metadata);
    free(call);
}

/* Turns a finished call into the vote's outcome and reports it. */
static void finish_call(struct vote_call *call, int success)
{
    struct producer_result result;
    char *text;

    if (!success) {
        fail(&result, "%s", "gRPC call failed");
    } else if (call->status != GRPC_STATUS_OK) {
        text = grpc_slice_to_c_string(call->details);
        fail(&result, "gRPC producer answered: %s", text);
        gpr_free(text);
    } else if (read_reply(call->response, &result) != 0) {
        fail(&result, "%s", "malformed VoteReply from the gRPC producer");
    }

    call->done(call->opaque, &result);
    vote_call_free(call);
}

/* Fills the six operations of a unary call whose results land in call. */
static void fill_ops(struct vote_call *call, grpc_op ops[6])
{
    memset(ops, 0, 6 * sizeof(ops[0]));
    ops[0].op = GRPC_OP_SEND_INITIAL_METADATA;
    ops[1].op = GRPC_OP_SEND_MESSAGE;
    ops[1].data.send_message.send_message = call->request;
    ops[2].op = GRPC_OP_SEND_CLOSE_FROM_CLIENT;
    ops[3].op = GRPC_OP_RECV_INITIAL_METADATA;
    ops[3].data.recv_initial_metadata.recv_initial_metadata = &call->initial_metadata;
    ops[4].op = GRPC_OP_RECV_MESSAGE;
    ops[4].data.recv_message.recv_message = &call->response;
    ops[5].op = GRPC_OP_RECV_STATUS_ON_CLIENT;
    ops[5].data.recv_status_on_client.trailing_metadata = &call->trailing_metadata;
    ops[5].data.recv_status_on_client.status = &call->status;
    ops[5].data.recv_status_on_client.status_details = &call->details;
}

void grpc_client_submit(void *ctx, const struct vote *vote, front_done_fn done, void *opaque)
{
    struct grpc_client *client = ctx;
    struct vote_call *call = calloc(1, sizeof(*call));
    struct producer_result result;
    gpr_timespec deadline = gpr_time_add(gpr_now(GPR_CLOCK_REALTIME),
                                         gpr_time_from_millis(client->deadline_ms, GPR_TIMESPAN));
    grpc_op ops[6];

    if (call == NULL) {
        fail(&result, "%s", "out of memory");
        done(opaque, &result);
        return;
    }
    call->request = pack_request(vote);
    call->status = GRPC_STATUS_UNKNOWN;
    call->details = grpc_empty_slice();
    call->done = done;
    call->opaque = opaque;
    grpc_metadata_array_init(&call->initial_metadata);
    grpc_metadata_array_init(&call->trailing_metadata);
    fill_ops(call, ops);

    call->call = grpc_channel_create_call(client->channel, NULL, GRPC_PROPAGATE_DEFAULTS,
                                          client->queue,
                                          grpc_slice_from_static_string(GRPC_SUBMIT_VOTE_METHOD),
                                          NULL, deadline, NULL);
    if (grpc_call_start_batch(call->call, ops, 6, call, NULL) != GRPC_CALL_OK) {
        fail(&result, "%s", "cannot start the gRPC call");
        done(opaque, &result);
        vote_call_free(call);
    }
}
