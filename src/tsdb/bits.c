/*
 * bits.c: MSB-first bit packing over an sb_buf, and a reader bounded by its
 * length. Hot in every codec, so whole bytes move at once where they can.
 */
#include "tsdb/bits.h"

void tsdb__bitw_put(tsdb__bitw *w, uint64_t v, unsigned n)
{
    if (n == 0)
        return;
    if (n > 56) {
        /* Keep acc within 64 bits: nacc < 8, so 56 more always fit. */
        tsdb__bitw_put(w, v >> 32, n - 32);
        v &= 0xffffffffu;
        n = 32;
    }
    if (n < 64)
        v &= (UINT64_C(1) << n) - 1;
    w->acc = (w->acc << n) | v;
    w->nacc += n;
    uint8_t bytes[8];
    size_t nb = 0;
    while (w->nacc >= 8) {
        w->nacc -= 8;
        bytes[nb++] = (uint8_t)(w->acc >> w->nacc);
    }
    w->acc &= (UINT64_C(1) << w->nacc) - 1;
    if (nb)
        sb_buf_append(w->out, bytes, nb);
}

void tsdb__bitw_flush(tsdb__bitw *w)
{
    if (w->nacc)
        tsdb__bitw_put(w, 0, 8 - w->nacc);
}

uint64_t tsdb__bitr_get(tsdb__bitr *r, unsigned n)
{
    if (n == 0)
        return 0;
    if (r->err || n > r->nbits - r->pos) {
        r->err = true;
        r->pos = r->nbits;
        return 0;
    }
    uint64_t v = 0;
    size_t pos = r->pos;
    unsigned left = n;
    while (left) {
        unsigned off = (unsigned)(pos & 7), avail = 8 - off;
        unsigned take = left < avail ? left : avail;
        unsigned byte = r->p[pos >> 3];
        v = (v << take) | ((byte >> (avail - take)) & ((1u << take) - 1));
        pos += take;
        left -= take;
    }
    r->pos = pos;
    return v;
}

unsigned tsdb__bitr_ones(tsdb__bitr *r, unsigned max)
{
    unsigned k = 0;
    while (k < max && tsdb__bitr_get(r, 1))
        k++;
    return k;
}
