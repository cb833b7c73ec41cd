/*
 * str_codec.c: string columns, byte-aligned so decoded values are views
 * into the block. Each value starts with a LEB128 varint h:
 *   h even: a new string of h/2 bytes follows;
 *   h odd:  the same string as the value (h >> 1) + 1 places back.
 * The encoder looks for a repeat among the last WINDOW values, which
 * catches the usual repeats (methods, paths, labels) without a dictionary
 * to allocate on either side.
 */
#include "tsdb/codec.h"

enum { WINDOW = 64 };

static void put_varint(sb_buf *out, uint64_t v)
{
    uint8_t b[10];
    size_t n = 0;
    while (v >= 0x80) {
        b[n++] = (uint8_t)(v | 0x80);
        v >>= 7;
    }
    b[n++] = (uint8_t)v;
    sb_buf_append(out, b, n);
}

/* Reads a varint at *pos; false when it runs off the end or past 64 bits. */
static bool get_varint(const uint8_t *p, size_t len, size_t *pos, uint64_t *out)
{
    uint64_t v = 0;
    for (unsigned shift = 0; shift < 64; shift += 7) {
        if (*pos >= len)
            return false;
        uint8_t b = p[(*pos)++];
        if (shift == 63 && b > 1)
            return false;
        v |= (uint64_t)(b & 0x7f) << shift;
        if (!(b & 0x80)) {
            *out = v;
            return true;
        }
    }
    return false;
}

void tsdb_str_encode(sb_buf *out, const sb_str *v, size_t n)
{
    for (size_t i = 0; i < n; i++) {
        size_t back = 0;
        for (size_t j = 1; j <= WINDOW && j <= i; j++) {
            if (sb_str_eq(v[i - j], v[i])) {
                back = j;
                break;
            }
        }
        if (back) {
            put_varint(out, ((uint64_t)(back - 1) << 1) | 1);
            continue;
        }
        put_varint(out, (uint64_t)v[i].len << 1);
        sb_buf_append(out, v[i].ptr, v[i].len);
    }
}

tsdb_err tsdb_str_decode(const void *p, size_t len, size_t n, sb_str *v)
{
    const uint8_t *b = p;
    size_t pos = 0;
    for (size_t i = 0; i < n; i++) {
        uint64_t h;
        if (!get_varint(b, len, &pos, &h))
            return TSDB_E_CORRUPT;
        if (h & 1) {
            uint64_t back = (h >> 1) + 1;
            if (back > i)
                return TSDB_E_CORRUPT;
            v[i] = v[i - back];
            continue;
        }
        uint64_t sl = h >> 1;
        if (sl > len - pos)
            return TSDB_E_CORRUPT;
        v[i] = sb_str_make((const char *)b + pos, (size_t)sl);
        pos += (size_t)sl;
    }
    return pos == len ? TSDB_E_OK : TSDB_E_CORRUPT;
}
