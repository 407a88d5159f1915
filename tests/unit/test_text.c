/* Tests of the Unicode helpers. */
#include "../../src/common/text.h"
#include "check.h"

#include <stdlib.h>

int main(void)
{
    char *nfc = text_nfc_dup("Sa\xcc\x81nchez"); /* a + combining acute */

    CHECK_STR(nfc, "S\xc3\xa1nchez", "NFC composes the accent");
    free(nfc);
    nfc = text_nfc_dup("Trébol");
    CHECK_STR(nfc, "Trébol", "precomposed text unchanged");
    free(nfc);
    CHECK(text_nfc_dup("bad \xff") == NULL);
    CHECK(text_is_utf8("Santiago 14° 91°", strlen("Santiago 14° 91°")));
    CHECK(!text_is_utf8("\xc3\x28", 2));
    CHECK(!text_is_utf8("\xed\xa0\x80", 3)); /* an encoded surrogate */
    CHECK(text_has_control("a\tb"));
    CHECK(text_has_control("a\x7f"));
    CHECK(!text_has_control("Sólo éxitos… (dicen)"));
    return check_exit("text");
}
