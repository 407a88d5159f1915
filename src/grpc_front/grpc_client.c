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
    pthread_key_t queue_key; /* this thread's completion queue, reused across calls */
};

static void destroy_queue(void *queue)
{
    grpc_completion_queue_shutdown(queue);
    grpc_completion_queue_destroy(queue);
}

/* Returns the calling thread's completion queue, created on first use. */
static grpc_completion_queue *thread_queue(struct grpc_client *client)
{
    grpc_completion_queue *queue = pthread_getspecific(client->queue_key);

    if (queue == NULL) {
        queue = grpc_completion_queue_create_for_pluck(NULL);
        pthread_setspecific(client->queue_key, queue);
    }
    return queue;
}

struct grpc_client *grpc_client_create(const char *target, long deadline_ms)
{
    struct grpc_client *client = calloc(1, sizeof(*client));
    grpc_channel_credentials *credentials;

    if (client == NULL)
        return NULL;
    if (pthread_key_create(&client->queue_key, destroy_queue) != 0) {
        free(client);
        return NULL;
    }
    credentials = grpc_insecure_credentials_create();
    client->channel = grpc_channel_create(target, credentials, NULL);
    grpc_channel_credentials_release(credentials);
    client->deadline_ms = deadline_ms;
    return client;
}

void grpc_client_destroy(struct grpc_client *client)
{
    if (client == NULL)
        return;
    grpc_channel_destroy(client->channel);
    pthread_key_delete(client->queue_key);
    free(client);
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
    result->status = PRODUCER_NOT_DELIVERED;
    result->partition = -1;
    result->offset = -1;
    snprintf(result->error, sizeof(result->error), format, detail);
}

void grpc_client_submit(void *ctx, const struct vote *vote, struct producer_result *result)
{
    struct grpc_client *client = ctx;
    grpc_completion_queue *queue = thread_queue(client);
    grpc_metadata_array initial_metadata, trailing_metadata;
    grpc_byte_buffer *request = pack_request(vote);
    grpc_byte_buffer *response = NULL;
    grpc_status_code status = GRPC_STATUS_UNKNOWN;
    grpc_slice details = grpc_empty_slice();
    gpr_timespec deadline = gpr_time_add(gpr_now(GPR_CLOCK_REALTIME),
                                         gpr_time_from_millis(client->deadline_ms, GPR_TIMESPAN));
    grpc_op ops[6];
    grpc_call *call;
    grpc_event event;

    grpc_metadata_array_init(&initial_metadata);
    grpc_metadata_array_init(&trailing_metadata);
    memset(ops, 0, sizeof(ops));
    ops[0].op = GRPC_OP_SEND_INITIAL_METADATA;
    ops[1].op = GRPC_OP_SEND_MESSAGE;
    ops[1].data.send_message.send_message = request;
    ops[2].op = GRPC_OP_SEND_CLOSE_FROM_CLIENT;
    ops[3].op = GRPC_OP_RECV_INITIAL_METADATA;
    ops[3].data.recv_initial_metadata.recv_initial_metadata = &initial_metadata;
    ops[4].op = GRPC_OP_RECV_MESSAGE;
    ops[4].data.recv_message.recv_message = &response;
    ops[5].op = GRPC_OP_RECV_STATUS_ON_CLIENT;
    ops[5].data.recv_status_on_client.trailing_metadata = &trailing_metadata;
    ops[5].data.recv_status_on_client.status = &status;
    ops[5].data.recv_status_on_client.status_details = &details;

    call = grpc_channel_create_call(client->channel, NULL, GRPC_PROPAGATE_DEFAULTS, queue,
                                    grpc_slice_from_static_string(GRPC_SUBMIT_VOTE_METHOD), NULL,
                                    deadline, NULL);
    if (grpc_call_start_batch(call, ops, 6, call, NULL) != GRPC_CALL_OK) {
        fail(result, "%s", "cannot start the gRPC call");
    } else {
        event = grpc_completion_queue_pluck(queue, call, gpr_inf_future(GPR_CLOCK_REALTIME), NULL);
        if (!event.success)
            fail(result, "%s", "gRPC call failed");
        else if (status != GRPC_STATUS_OK) {
            char *text = grpc_slice_to_c_string(details);
            fail(result, "gRPC producer answered: %s", text);
            gpr_free(text);
        } else if (read_reply(response, result) != 0)
            fail(result, "%s", "malformed VoteReply from the gRPC producer");
    }

    grpc_call_unref(call);
    grpc_byte_buffer_destroy(request);
    if (response != NULL)
        grpc_byte_buffer_destroy(response);
    grpc_slice_unref(details);
    grpc_metadata_array_destroy(&initial_metadata);
    grpc_metadata_array_destroy(&trailing_metadata);
}
