/*
 * engine_enc.c: the byte encodings of the log and the block-file index:
 * little-endian fixed integers, LEB128 varints, and a reader that never
 * reads past its end (a failed read sets bad and returns zeros, so a
 * decoder checks once at the end of a section).
 */
#include "tsdb/engine_int.h"

void tsdb__put_uvarint(sb_buf *b, uint64_t v)
{
    uint8_t tmp[10];
    size_t n = 0;
    while (v >= 0x80) {
        tmp[n++] = (uint8_t)(v | 0x80);
        v >>= 7;
    }
    tmp[n++] = (uint8_t)v;
    sb_buf_append(b, tmp, n);
}

void tsdb__put_u32(sb_buf *b, uint32_t v)
{
    uint8_t tmp[4];
    for (int i = 0; i < 4; i++)
        tmp[i] = (uint8_t)(v >> (8 * i));
    sb_buf_append(b, tmp, 4);
}

void tsdb__put_u64(sb_buf *b, uint64_t v)
{
    uint8_t tmp[8];
    for (int i = 0; i < 8; i++)
        tmp[i] = (uint8_t)(v >> (8 * i));
    sb_buf_append(b, tmp, 8);
}

uint32_t tsdb__get_u32(const uint8_t *p)
{
    return (uint32_t)p[0] | (uint32_t)p[1] << 8 | (uint32_t)p[2] << 16 | (uint32_t)p[3] << 24;
}

uint64_t tsdb__get_u64(const uint8_t *p)
{
    return (uint64_t)tsdb__get_u32(p) | (uint64_t)tsdb__get_u32(p + 4) << 32;
}

uint64_t tsdb__rd_uvarint(tsdb__rd *r)
{
    uint64_t v = 0;
    for (unsigned shift = 0; shift < 64; shift += 7) {
        if (r->p >= r->end)
            break;
        uint8_t c = *r->p++;
        /* The tenth byte may only carry the top bit. */
        if (shift == 63 && c > 1)
            break;
        v |= (uint64_t)(c & 0x7f) << shift;
        if (!(c & 0x80))
            return v;
    }
    r->bad = true;
    r->p = r->end;
    return 0;
}

const uint8_t *tsdb__rd_bytes(tsdb__rd *r, size_t n)
{
    if (r->bad || (size_t)(r->end - r->p) < n) {
        r->bad = true;
        r->p = r->end;
        return NULL;
    }
    const uint8_t *p = r->p;
    r->p += n;
    return p;
}

sb_str tsdb__rd_str(tsdb__rd *r, size_t max)
{
    uint64_t n = tsdb__rd_uvarint(r);
    if (n > max) {
        r->bad = true;
        r->p = r->end;
        return SB_STR_NULL;
    }
    const uint8_t *p = tsdb__rd_bytes(r, (size_t)n);
    return p ? sb_str_make((const char *)p, (size_t)n) : SB_STR_NULL;
}
