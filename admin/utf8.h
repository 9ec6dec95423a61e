/* UTF-8 decoding for the admin tool: values typed by operators and names
 * stored by the daemon are shown in JSON and on terminals, where a broken
 * sequence would corrupt the document or the display. */
#ifndef SFTPDROP_ADMIN_UTF8_H
#define SFTPDROP_ADMIN_UTF8_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

/* Decode the sequence at s (NUL-terminated). Returns its length and writes
 * the code point, or returns 0 for an invalid sequence (overlong forms,
 * surrogates, values above U+10FFFF, a truncated tail). */
size_t admin_utf8_next(const char *s, uint32_t *cp);

/* Is all of s valid UTF-8? */
bool admin_utf8_valid(const char *s);

#endif
