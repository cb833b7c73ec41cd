/*
 * utf16.c: conversions between the UTF-8 of the wire and the UTF-16 code
 * units in which Yjs measures text. Input UTF-8 has been validated by the
 * caller (lib0 rejects invalid UTF-8 as TextDecoder with fatal: true does);
 * output UTF-8 writes a lone surrogate as U+FFFD, as TextEncoder does.
 */
#include "crdt/crdt_int.h"

size_t crdt__utf8_to_utf16(const char *s, size_t n, uint16_t *out)
{
    const unsigned char *p = (const unsigned char *)s;
    size_t k = 0, i = 0;
    while (i < n) {
        uint32_t c = p[i];
        if (c < 0x80) {
            i += 1;
        } else if (c < 0xE0) {
            c = ((c & 0x1F) << 6) | (p[i + 1] & 0x3F);
            i += 2;
        } else if (c < 0xF0) {
            c = ((c & 0x0F) << 12) | ((p[i + 1] & 0x3Fu) << 6) | (p[i + 2] & 0x3F);
            i += 3;
        } else {
            c = ((c & 0x07) << 18) | ((p[i + 1] & 0x3Fu) << 12) | ((p[i + 2] & 0x3Fu) << 6) |
                (p[i + 3] & 0x3F);
            i += 4;
        }
        if (c >= 0x10000) {
            c -= 0x10000;
            out[k++] = (uint16_t)(0xD800 + (c >> 10));
            out[k++] = (uint16_t)(0xDC00 + (c & 0x3FF));
        } else {
            out[k++] = (uint16_t)c;
        }
    }
    return k;
}

/* The length of the ASCII prefix of u, eight units at a time (text is
 * mostly ASCII: the loops below then only copy). */
static size_t ascii_prefix(const uint16_t *u, size_t n)
{
    size_t i = 0;
    for (; i + 8 <= n; i += 8) {
        uint16_t m = 0;
        for (size_t k = 0; k < 8; k++)
            m |= u[i + k];
        if (m & 0xFF80)
            break;
    }
    while (i < n && u[i] < 0x80)
        i++;
    return i;
}

void crdt__utf16_to_utf8(const uint16_t *u, size_t n, sb_buf *out)
{
    sb_buf_reserve(out, n * 3);
    unsigned char *o = (unsigned char *)out->ptr + out->len;
    size_t a = ascii_prefix(u, n);
    for (size_t i = 0; i < a; i++)
        o[i] = (unsigned char)u[i];
    o += a;
    for (size_t i = a; i < n; i++) {
        uint32_t c = u[i];
        if (c < 0x80) {
            *o++ = (unsigned char)c;
            continue;
        }
        if (c >= 0xD800 && c <= 0xDBFF && i + 1 < n && u[i + 1] >= 0xDC00 && u[i + 1] <= 0xDFFF) {
            c = 0x10000 + ((c - 0xD800) << 10) + (u[i + 1] - 0xDC00);
            i++;
        } else if (c >= 0xD800 && c <= 0xDFFF) {
            c = 0xFFFD;
        }
        if (c < 0x800) {
            *o++ = (unsigned char)(0xC0 | (c >> 6));
            *o++ = (unsigned char)(0x80 | (c & 0x3F));
        } else if (c < 0x10000) {
            *o++ = (unsigned char)(0xE0 | (c >> 12));
            *o++ = (unsigned char)(0x80 | ((c >> 6) & 0x3F));
            *o++ = (unsigned char)(0x80 | (c & 0x3F));
        } else {
            *o++ = (unsigned char)(0xF0 | (c >> 18));
            *o++ = (unsigned char)(0x80 | ((c >> 12) & 0x3F));
            *o++ = (unsigned char)(0x80 | ((c >> 6) & 0x3F));
            *o++ = (unsigned char)(0x80 | (c & 0x3F));
        }
    }
    out->len = (size_t)((char *)o - out->ptr);
    out->ptr[out->len] = 0;
}

size_t crdt__utf8_len_of_utf16(const uint16_t *u, size_t n)
{
    size_t i = ascii_prefix(u, n), k = i;
    for (; i < n; i++) {
        uint32_t c = u[i];
        if (c < 0x80)
            k += 1;
        else if (c < 0x800)
            k += 2;
        else if (c >= 0xD800 && c <= 0xDBFF && i + 1 < n && u[i + 1] >= 0xDC00 &&
                 u[i + 1] <= 0xDFFF) {
            k += 4;
            i++;
        } else
            k += 3;
    }
    return k;
}
