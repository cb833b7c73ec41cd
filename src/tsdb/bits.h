/*
 * bits.h: the bit writer and reader under the column codecs (internal to
 * tsdb). Bits go most significant first, as in the Gorilla paper's figures.
 *
 * Invariants: the writer keeps fewer than 8 pending bits between calls; the
 * reader never touches a byte at or past its end: a read past the end
 * returns 0 and sets the sticky `err`, which decoders check once per value
 * (so a hostile stream costs at most one wasted loop, never a stray read).
 */
#ifndef SB_TSDB_BITS_H
#define SB_TSDB_BITS_H

#include "base/str.h"

typedef struct tsdb__bitw {
    sb_buf *out;
    uint64_t acc;  /* pending bits, in the low `nacc` bits */
    unsigned nacc; /* < 8 between calls */
} tsdb__bitw;

typedef struct tsdb__bitr {
    const uint8_t *p;
    size_t nbits; /* bits available */
    size_t pos;   /* next bit to read */
    bool err;     /* sticky: a read went past the end */
} tsdb__bitr;

static inline void tsdb__bitw_init(tsdb__bitw *w, sb_buf *out)
{
    w->out = out;
    w->acc = 0;
    w->nacc = 0;
}
/* Appends the low n bits of v (0 <= n <= 64). */
void tsdb__bitw_put(tsdb__bitw *w, uint64_t v, unsigned n);
/* Pads with zero bits to the next byte boundary and writes it out. */
void tsdb__bitw_flush(tsdb__bitw *w);

static inline void tsdb__bitr_init(tsdb__bitr *r, const void *p, size_t nbytes)
{
    r->p = p;
    r->nbits = nbytes * 8;
    r->pos = 0;
    r->err = false;
}
/* Reads n bits (0 <= n <= 64); past the end: returns 0 and sets err. */
uint64_t tsdb__bitr_get(tsdb__bitr *r, unsigned n);
/* Counts leading 1 bits up to max, consuming them and the 0 that ends a
 * shorter run: reads Gorilla's variable-length control prefixes. */
unsigned tsdb__bitr_ones(tsdb__bitr *r, unsigned max);

/* Zig-zag maps signed to unsigned so small magnitudes get small codes. */
static inline uint64_t tsdb__zigzag(int64_t v)
{
    return ((uint64_t)v << 1) ^ (uint64_t)(v >> 63);
}
static inline int64_t tsdb__unzigzag(uint64_t u)
{
    return (int64_t)((u >> 1) ^ (0 - (u & 1)));
}
/* Sign-extends the low n bits of v (1 <= n <= 64). */
static inline int64_t tsdb__sext(uint64_t v, unsigned n)
{
    unsigned s = 64 - n;
    return (int64_t)(v << s) >> s;
}

#endif
