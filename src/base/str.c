/*
 * str.c: byte-string views and growable buffers. sb_buf keeps a NUL after
 * its content whenever it has storage, so ptr can be handed to C APIs.
 */
#include "base/str.h"

#include <stdio.h>
#include <stdlib.h>

static unsigned char lower(unsigned char c)
{
    return c >= 'A' && c <= 'Z' ? (unsigned char)(c + 32) : c;
}

bool sb_str_eq_nocase(sb_str a, sb_str b)
{
    if (a.len != b.len)
        return false;
    for (size_t i = 0; i < a.len; i++)
        if (lower((unsigned char)a.ptr[i]) != lower((unsigned char)b.ptr[i]))
            return false;
    return true;
}

bool sb_str_has_prefix(sb_str s, sb_str prefix)
{
    return s.len >= prefix.len && (prefix.len == 0 || memcmp(s.ptr, prefix.ptr, prefix.len) == 0);
}

ptrdiff_t sb_str_index(sb_str s, char c, size_t from)
{
    if (from >= s.len)
        return -1;
    const char *p = memchr(s.ptr + from, c, s.len - from);
    return p ? p - s.ptr : -1;
}

sb_str sb_str_slice(sb_str s, size_t from, size_t to)
{
    if (to > s.len)
        to = s.len;
    if (from > to)
        from = to;
    return sb_str_make(s.ptr + from, to - from);
}

bool sb_str_to_i64(sb_str s, int64_t min, int64_t max, int64_t *out)
{
    size_t i = 0;
    bool neg = false;
    if (s.len > 0 && s.ptr[0] == '-') {
        neg = true;
        i = 1;
    }
    if (i == s.len)
        return false;
    /* Accumulate negatively: INT64_MIN has no positive twin. */
    int64_t v = 0;
    for (; i < s.len; i++) {
        char c = s.ptr[i];
        if (c < '0' || c > '9')
            return false;
        if (v < (INT64_MIN + (c - '0')) / 10)
            return false;
        v = v * 10 - (c - '0');
    }
    if (!neg) {
        if (v == INT64_MIN)
            return false;
        v = -v;
    }
    if (v < min || v > max)
        return false;
    *out = v;
    return true;
}

void sb_hex_encode(const void *p, size_t n, char *out)
{
    static const char hex[] = "0123456789abcdef";
    const unsigned char *b = p;
    for (size_t i = 0; i < n; i++) {
        out[2 * i] = hex[b[i] >> 4];
        out[2 * i + 1] = hex[b[i] & 15];
    }
    out[2 * n] = '\0';
}

void sb_buf_init(sb_buf *b, size_t cap_hint)
{
    *b = SB_BUF_INIT;
    if (cap_hint)
        sb_buf_reserve(b, cap_hint);
}

void sb_buf_free(sb_buf *b)
{
    free(b->ptr);
    *b = SB_BUF_INIT;
}

void sb_buf_reserve(sb_buf *b, size_t extra)
{
    size_t need;
    if (sb_add_overflows(b->len, extra, &need) || sb_add_overflows(need, 1, &need))
        sb_die("buffer size overflows");
    if (need <= b->cap)
        return;
    size_t cap = b->cap ? b->cap : 64;
    while (cap < need) {
        if (sb_mul_overflows(cap, 2, &cap))
            cap = need;
    }
    b->ptr = sb_realloc(b->ptr, cap);
    b->cap = cap;
    b->ptr[b->len] = '\0';
}

void sb_buf_append(sb_buf *b, const void *p, size_t n)
{
    sb_buf_reserve(b, n);
    if (n)
        memcpy(b->ptr + b->len, p, n);
    b->len += n;
    b->ptr[b->len] = '\0';
}

void sb_buf_puts(sb_buf *b, const char *s)
{
    sb_buf_append(b, s, strlen(s));
}

void sb_buf_putc(sb_buf *b, char c)
{
    sb_buf_reserve(b, 1);
    b->ptr[b->len++] = c;
    b->ptr[b->len] = '\0';
}

void sb_buf_vappendf(sb_buf *b, const char *fmt, va_list ap)
{
    va_list ap2;
    va_copy(ap2, ap);
    sb_buf_reserve(b, 64);
    int n = vsnprintf(b->ptr + b->len, b->cap - b->len, fmt, ap);
    if (n < 0)
        sb_die("bad format string '%s'", fmt);
    if ((size_t)n >= b->cap - b->len) {
        sb_buf_reserve(b, (size_t)n);
        vsnprintf(b->ptr + b->len, b->cap - b->len, fmt, ap2);
    }
    va_end(ap2);
    b->len += (size_t)n;
}

void sb_buf_appendf(sb_buf *b, const char *fmt, ...)
{
    va_list ap;
    va_start(ap, fmt);
    sb_buf_vappendf(b, fmt, ap);
    va_end(ap);
}

void sb_buf_reset(sb_buf *b)
{
    b->len = 0;
    if (b->ptr)
        b->ptr[0] = '\0';
}

char *sb_buf_detach(sb_buf *b, size_t *len)
{
    if (!b->ptr)
        sb_buf_reserve(b, 0);
    char *p = b->ptr;
    if (len)
        *len = b->len;
    *b = SB_BUF_INIT;
    return p;
}
