/*
 * str.h: length-carrying strings (sb_str, a borrowed view) and growable byte
 * buffers (sb_buf, owned), in the spirit of Redis's sds, git's strbuf and
 * h2o's iovec. Never strlen on untrusted data: bytes from the network come
 * with their length and may contain NUL.
 *
 * Invariant of sb_buf: ptr is NULL iff cap == 0; when cap > 0, ptr[len] == 0
 * (a NUL is always kept after the content, so ptr can go to C APIs).
 */
#ifndef SB_BASE_STR_H
#define SB_BASE_STR_H

#include <stdarg.h>
#include <string.h>

#include "base/common.h"

typedef struct sb_str {
    const char *ptr;
    size_t len;
} sb_str;

#define SB_STR(lit) ((sb_str){(lit), sizeof(lit) - 1})
#define SB_STR_NULL ((sb_str){NULL, 0})
/* printf("%.*s", SB_STR_FMT(s)) */
#define SB_STR_FMT(s) (int)(s).len, (s).ptr

static inline sb_str sb_str_make(const char *p, size_t n)
{
    return (sb_str){p, n};
}
/* From a trusted NUL-terminated C string (a literal, a config value). */
static inline sb_str sb_str_c(const char *s)
{
    return (sb_str){s, s ? strlen(s) : 0};
}
static inline bool sb_str_eq(sb_str a, sb_str b)
{
    return a.len == b.len && (a.len == 0 || memcmp(a.ptr, b.ptr, a.len) == 0);
}
bool sb_str_eq_nocase(sb_str a, sb_str b);
bool sb_str_has_prefix(sb_str s, sb_str prefix);
/* Index of the first byte c at or after from, or -1. */
ptrdiff_t sb_str_index(sb_str s, char c, size_t from);
sb_str sb_str_slice(sb_str s, size_t from, size_t to);
/* Parses all of s as a decimal integer within [min, max]; no sign for
 * unsigned-looking input is required, no spaces, no trailing bytes. */
bool sb_str_to_i64(sb_str s, int64_t min, int64_t max, int64_t *out);

/* The value of a hex digit (either case), or -1. */
static inline int sb_hex_digit(int c)
{
    if (c >= '0' && c <= '9')
        return c - '0';
    if (c >= 'a' && c <= 'f')
        return c - 'a' + 10;
    if (c >= 'A' && c <= 'F')
        return c - 'A' + 10;
    return -1;
}

/* Writes 2 * n lower-case hex digits of p into out, then a NUL. */
void sb_hex_encode(const void *p, size_t n, char *out);

typedef struct sb_buf {
    char *ptr;
    size_t len;
    size_t cap;
} sb_buf;

#define SB_BUF_INIT ((sb_buf){NULL, 0, 0})

void sb_buf_init(sb_buf *b, size_t cap_hint);
void sb_buf_free(sb_buf *b);
/* Makes room for at least extra more bytes (plus the NUL). Aborts on
 * out-of-memory or overflow. */
void sb_buf_reserve(sb_buf *b, size_t extra);
void sb_buf_append(sb_buf *b, const void *p, size_t n);
static inline void sb_buf_append_str(sb_buf *b, sb_str s)
{
    sb_buf_append(b, s.ptr, s.len);
}
void sb_buf_puts(sb_buf *b, const char *s);
void sb_buf_putc(sb_buf *b, char c);
void sb_buf_appendf(sb_buf *b, const char *fmt, ...) SB_PRINTF(2, 3);
void sb_buf_vappendf(sb_buf *b, const char *fmt, va_list ap);
/* Keeps the allocation, empties the content. */
void sb_buf_reset(sb_buf *b);
/* Hands the heap string to the caller (who frees it) and leaves b empty. */
char *sb_buf_detach(sb_buf *b, size_t *len);
static inline sb_str sb_buf_str(const sb_buf *b)
{
    return (sb_str){b->ptr, b->len};
}

#endif
