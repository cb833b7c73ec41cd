/*
 * utf8.h: strict UTF-8 validation (RFC 3629): no overlongs, no surrogates,
 * nothing above U+10FFFF. Used on every text field that arrives from a
 * client before it is stored or echoed.
 */
#ifndef SB_BASE_UTF8_H
#define SB_BASE_UTF8_H

#include "base/common.h"

/* True when p[0..n) is valid UTF-8. Otherwise, when bad_at is not NULL, it
 * receives the offset of the first byte of the first invalid sequence. */
bool sb_utf8_valid(const char *p, size_t n, size_t *bad_at);

/* The length of valid UTF-8 s[0..n) in UTF-16 code units, as JavaScript
 * (and so Yjs) counts text: a 4-byte sequence is a surrogate pair. */
size_t sb_utf16_len(const char *s, size_t n);

#endif
