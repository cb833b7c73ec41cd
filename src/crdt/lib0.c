/*
 * lib0.c: lib0's binary primitives (see lib0.h for the formats). Every read
 * checks the remaining length before touching a byte and, once the decoder
 * has failed, returns 0 without moving, so callers check once at the end.
 */
#include "crdt/lib0.h"

#include <string.h>

#include "base/utf8.h"

const char *crdt_lib0_strerror(int err)
{
    switch (err) {
#define CRDT_LIB0_MSG_(code, msg)                                                                  \
    case code:                                                                                     \
        return msg;
        CRDT_LIB0_ERRORS(CRDT_LIB0_MSG_)
#undef CRDT_LIB0_MSG_
    }
    return "unknown error";
}

void crdt_enc_u8(sb_buf *b, uint8_t v)
{
    sb_buf_putc(b, (char)v);
}

void crdt_enc_bytes(sb_buf *b, const void *p, size_t n)
{
    if (n > 0)
        sb_buf_append(b, p, n);
}

void crdt_enc_var_uint(sb_buf *b, uint64_t v)
{
    uint8_t tmp[10];
    size_t n = 0;
    while (v > 0x7F) {
        tmp[n++] = (uint8_t)(0x80 | (v & 0x7F));
        v >>= 7;
    }
    tmp[n++] = (uint8_t)v;
    sb_buf_append(b, tmp, n);
}

void crdt_enc_var_int_signed(sb_buf *b, uint64_t magnitude, bool negative)
{
    uint8_t tmp[10];
    size_t n = 0;
    uint64_t v = magnitude;
    tmp[n++] = (uint8_t)((v > 0x3F ? 0x80 : 0) | (negative ? 0x40 : 0) | (v & 0x3F));
    v >>= 6;
    while (v > 0) {
        tmp[n++] = (uint8_t)((v > 0x7F ? 0x80 : 0) | (v & 0x7F));
        v >>= 7;
    }
    sb_buf_append(b, tmp, n);
}

void crdt_enc_var_int(sb_buf *b, int64_t v)
{
    /* Negate in unsigned arithmetic so INT64_MIN does not overflow. */
    uint64_t mag = v < 0 ? (uint64_t)0 - (uint64_t)v : (uint64_t)v;
    crdt_enc_var_int_signed(b, mag, v < 0);
}

void crdt_enc_var_string(sb_buf *b, const char *s, size_t len)
{
    crdt_enc_var_bytes(b, s, len);
}

void crdt_enc_var_bytes(sb_buf *b, const void *p, size_t n)
{
    crdt_enc_var_uint(b, n);
    crdt_enc_bytes(b, p, n);
}

static void put_be(sb_buf *b, uint64_t v, int nbytes)
{
    uint8_t tmp[8];
    for (int i = 0; i < nbytes; i++)
        tmp[i] = (uint8_t)(v >> (8 * (nbytes - 1 - i)));
    sb_buf_append(b, tmp, (size_t)nbytes);
}

void crdt_enc_f32(sb_buf *b, float v)
{
    uint32_t bits;
    memcpy(&bits, &v, sizeof(bits));
    put_be(b, bits, 4);
}

void crdt_enc_f64(sb_buf *b, double v)
{
    uint64_t bits;
    memcpy(&bits, &v, sizeof(bits));
    put_be(b, bits, 8);
}

void crdt_enc_i64be(sb_buf *b, int64_t v)
{
    put_be(b, (uint64_t)v, 8);
}

void crdt_dec_init(crdt_dec *d, const void *p, size_t len)
{
    d->p = p;
    d->len = p ? len : 0;
    d->pos = 0;
    d->err = 0;
}

void crdt_dec_fail(crdt_dec *d, int err)
{
    if (d->err == 0)
        d->err = err;
}

int crdt_dec_peek(const crdt_dec *d)
{
    if (d->err || d->pos >= d->len)
        return -1;
    return d->p[d->pos];
}

uint8_t crdt_dec_u8(crdt_dec *d)
{
    if (d->err)
        return 0;
    if (d->pos >= d->len) {
        crdt_dec_fail(d, CRDT_LIB0_EEOF);
        return 0;
    }
    return d->p[d->pos++];
}

const uint8_t *crdt_dec_bytes(crdt_dec *d, size_t n)
{
    if (d->err)
        return NULL;
    if (n > d->len - d->pos) {
        crdt_dec_fail(d, CRDT_LIB0_EEOF);
        return NULL;
    }
    const uint8_t *p = n ? d->p + d->pos : NULL;
    d->pos += n;
    return p;
}

/* Reads the 7-bit groups that follow a first group of first_bits bits
 * (value v so far). Padding groups of zero are accepted as lib0 does; a set
 * bit at or above 2^53 is out of range. The position moves only on success. */
static uint64_t read_groups(crdt_dec *d, size_t pos, uint64_t v, unsigned shift)
{
    for (;;) {
        if (pos >= d->len) {
            crdt_dec_fail(d, CRDT_LIB0_EEOF);
            return 0;
        }
        uint8_t r = d->p[pos++];
        uint64_t group = r & 0x7F;
        if (group) {
            if (shift >= 53 || (group << shift) > CRDT_MAX_SAFE_INT) {
                crdt_dec_fail(d, CRDT_LIB0_ERANGE);
                return 0;
            }
            v += group << shift;
            if (v > CRDT_MAX_SAFE_INT) {
                crdt_dec_fail(d, CRDT_LIB0_ERANGE);
                return 0;
            }
        }
        if (!(r & 0x80)) {
            d->pos = pos;
            return v;
        }
        shift += 7;
        /* lib0 would loop on 0x80 padding until the input ends; nothing we
         * write is longer than 8 groups, so a long run is garbage. */
        if (shift > 70) {
            crdt_dec_fail(d, CRDT_LIB0_ERANGE);
            return 0;
        }
    }
}

uint64_t crdt_dec_var_uint(crdt_dec *d)
{
    if (d->err)
        return 0;
    /* Most var-uints in an update (lengths, small clocks) are one byte. */
    if (d->pos < d->len && d->p[d->pos] < 0x80)
        return d->p[d->pos++];
    return read_groups(d, d->pos, 0, 0);
}

int64_t crdt_dec_var_int(crdt_dec *d, bool *negative)
{
    if (negative)
        *negative = false;
    if (d->err)
        return 0;
    if (d->pos >= d->len) {
        crdt_dec_fail(d, CRDT_LIB0_EEOF);
        return 0;
    }
    uint8_t r = d->p[d->pos];
    bool neg = (r & 0x40) != 0;
    uint64_t mag = r & 0x3F;
    if (r & 0x80) {
        mag = read_groups(d, d->pos + 1, mag, 6);
        if (d->err)
            return 0;
    } else {
        d->pos++;
    }
    if (negative)
        *negative = neg;
    return neg ? -(int64_t)mag : (int64_t)mag;
}

sb_str crdt_dec_var_bytes(crdt_dec *d)
{
    uint64_t n = crdt_dec_var_uint(d);
    if (d->err)
        return SB_STR_NULL;
    if (n > d->len - d->pos) {
        crdt_dec_fail(d, CRDT_LIB0_EEOF);
        return SB_STR_NULL;
    }
    const uint8_t *p = crdt_dec_bytes(d, (size_t)n);
    /* A successful read is never a NULL view, so callers may slice it. */
    return sb_str_make(n ? (const char *)p : "", (size_t)n);
}

sb_str crdt_dec_var_string(crdt_dec *d)
{
    size_t start = d->pos;
    sb_str s = crdt_dec_var_bytes(d);
    if (d->err)
        return SB_STR_NULL;
    if (!sb_utf8_valid(s.ptr, s.len, NULL)) {
        d->pos = start; /* leave the cursor at the bad value */
        crdt_dec_fail(d, CRDT_LIB0_EUTF8);
        return SB_STR_NULL;
    }
    return s;
}

static uint64_t read_be(crdt_dec *d, size_t n)
{
    const uint8_t *p = crdt_dec_bytes(d, n);
    uint64_t v = 0;
    for (size_t i = 0; p && i < n; i++)
        v = (v << 8) | p[i];
    return v;
}

float crdt_dec_f32(crdt_dec *d)
{
    uint32_t bits = (uint32_t)read_be(d, 4);
    float v;
    memcpy(&v, &bits, sizeof(v));
    return v;
}

double crdt_dec_f64(crdt_dec *d)
{
    uint64_t bits = read_be(d, 8);
    double v;
    memcpy(&v, &bits, sizeof(v));
    return v;
}

int64_t crdt_dec_i64be(crdt_dec *d)
{
    return (int64_t)read_be(d, 8);
}
