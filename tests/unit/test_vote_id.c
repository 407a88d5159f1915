/* Tests of UUIDv7 vote ids: format, version, variant and time order. */
#include "../../src/common/vote_id.h"
#include "check.h"

#include <stdlib.h>

static int hex_digit(char c)
{
    return c >= 'a' ? c - 'a' + 10 : c - '0';
}

int main(void)
{
    char first[37], second[37], id[37];
    int64_t now = vote_now_ms();

    CHECK_INT(vote_id_generate(now, first), 0, "generate");
    CHECK(vote_id_is_valid(first));
    CHECK(first[14] == '7');                           /* version 7 */
    CHECK(hex_digit(first[19]) >= 8 && hex_digit(first[19]) <= 11); /* RFC variant */

    CHECK_INT(vote_id_generate(now + 1, second), 0, "generate later");
    CHECK(strcmp(first, second) < 0);                  /* later ids sort after */

    CHECK_INT(vote_id_generate(now, id), 0, "generate same ms");
    CHECK(strcmp(first, id) != 0);                     /* random bits differ */

    CHECK(!vote_id_is_valid("01890A5D-AC96-774B-BCCE-B302099A8057"));
    CHECK(!vote_id_is_valid("01890a5d-ac96-774b-bcce-b302099a805"));
    CHECK(!vote_id_is_valid("01890a5dxac96-774b-bcce-b302099a8057"));
    CHECK(!vote_id_is_valid(""));
    return check_exit("vote_id");
}
