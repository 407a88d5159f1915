/* Unicode text checks shared by the vote model and the catalog. */
#ifndef URNA_TEXT_H
#define URNA_TEXT_H

#include <stddef.h>

/* Returns a malloc'd copy of s in Unicode NFC, or NULL when s is not valid
 * UTF-8 or memory ran out. An album typed with a combining accent ("e" + U+0301)
 * thus equals the catalog's precomposed form ("é"). */
char *text_nfc_dup(const char *s);

/* Returns non-zero when the len bytes at s are valid UTF-8. */
int text_is_utf8(const char *s, size_t len);

/* Returns non-zero when s contains a C0 control character or DEL. */
int text_has_control(const char *s);

#endif
