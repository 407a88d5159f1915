/* Tests of the HTTP error bodies every service shares. */
#include "../../src/common/http_server.h"
#include "check.h"

#include <jansson.h>
#include <stdlib.h>

static void test_error_body(void)
{
    struct http_response res = {0};
    json_t *body;

    http_respond_error(&res, 422, "missing_field", "falta el campo \"rank\"", "rank");
    CHECK_INT(res.status, 422, "status");
    body = json_loads(res.body, 0, NULL);
    CHECK_STR(json_string_value(json_object_get(body, "error")), "missing_field", "code");
    CHECK_STR(json_string_value(json_object_get(body, "message")), "falta el campo \"rank\"", "message");
    CHECK_STR(json_string_value(json_object_get(body, "field")), "rank", "field");
    json_decref(body);
    free(res.body);
}

/* A message that is not UTF-8 must not turn a 405 into a 500. */
static void test_error_body_invalid_utf8(void)
{
    struct http_response res = {0};

    http_respond_error(&res, 405, "method_not_allowed", "método \xffPOST no permitido", NULL);
    CHECK_INT(res.status, 405, "status kept for a non-UTF-8 message");
    CHECK(res.body != NULL && strstr(res.body, "method_not_allowed") != NULL);
    free(res.body);
}

int main(void)
{
    test_error_body();
    test_error_body_invalid_utf8();
    return check_exit("http_server");
}
