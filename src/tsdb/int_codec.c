/*
 * int_codec.c: integer columns. Three layouts, the encoder measures all
 * that apply and keeps the smallest, so the choice follows the data:
 *
 *   mode 0, delta:  v0 (64 bits), then zigzag(v[i] - v[i-1]) for i >= 1
 *   mode 1, dod:    v0 (64 bits), then zigzag(d1), zigzag(d[i] - d[i-1])
 *   mode 2, dict:   at most 256 distinct values: count-1 (8 bits), a
 *                   width w (7 bits), the values zig-zagged in w bits
 *                   each, then a fixed-width index per value
 *
 * Modes 0 and 1 bit-pack their zig-zag residuals in groups of 16 behind a
 * 7-bit width (0..64), so a run of equal deltas costs 7 bits per 16 points.
 * Counters (page views per second) have near-constant increments, where
 * dod wins; gauges with jumps favour delta; status codes (few distinct
 * values) favour the dictionary: measured numbers are in docs/tsdb.md.
 * The mode is 2 bits at the start. All arithmetic wraps: lossless for any
 * int64 sequence, and unsigned columns are the same bits.
 */
#include "tsdb/codec.h"
#include "tsdb/codec_int.h"

enum { MODE_DELTA = 0, MODE_DOD = 1, MODE_DICT = 2, GROUP = 16, DICT_MAX = 256 };

static unsigned width_of(uint64_t x)
{
    return x ? 64 - (unsigned)__builtin_clzll(x) : 0;
}

/* Residual i (1 <= i < n) of mode 0 or 1. */
static uint64_t residual(const int64_t *v, size_t i, int mode)
{
    uint64_t d = (uint64_t)v[i] - (uint64_t)v[i - 1];
    if (mode == MODE_DOD && i >= 2)
        d -= (uint64_t)v[i - 1] - (uint64_t)v[i - 2];
    return tsdb__zigzag((int64_t)d);
}

/* Bits the residuals of a mode take, header included. */
static size_t packed_bits(const int64_t *v, size_t n, int mode)
{
    size_t bits = 2 + 64;
    for (size_t g = 1; g < n; g += GROUP) {
        size_t end = SB_MIN(n, g + GROUP);
        uint64_t all = 0;
        for (size_t i = g; i < end; i++)
            all |= residual(v, i, mode);
        bits += 7 + (end - g) * width_of(all);
    }
    return bits;
}

size_t tsdb__int_mode_bits(const int64_t *v, size_t n, int mode)
{
    return packed_bits(v, n, mode);
}

static void put_packed(tsdb__bitw *w, const int64_t *v, size_t n, int mode)
{
    tsdb__bitw_put(w, (uint64_t)mode, 2);
    tsdb__bitw_put(w, (uint64_t)v[0], 64);
    for (size_t g = 1; g < n; g += GROUP) {
        size_t end = SB_MIN(n, g + GROUP);
        uint64_t all = 0;
        for (size_t i = g; i < end; i++)
            all |= residual(v, i, mode);
        unsigned wd = width_of(all);
        tsdb__bitw_put(w, wd, 7);
        for (size_t i = g; i < end; i++)
            tsdb__bitw_put(w, residual(v, i, mode), wd);
    }
}

static size_t dict_find(const int64_t *dict, size_t k, int64_t x)
{
    for (size_t j = 0; j < k; j++)
        if (dict[j] == x)
            return j;
    return k;
}

/* Fills dict (first-seen order); returns its size, or 0 when it would hold
 * more than max values (beyond which it cannot be the smallest layout). */
static size_t dict_build(const int64_t *v, size_t n, int64_t *dict, size_t max)
{
    size_t k = 0;
    for (size_t i = 0; i < n; i++) {
        if (dict_find(dict, k, v[i]) < k)
            continue;
        if (k == max)
            return 0;
        dict[k++] = v[i];
    }
    return k;
}

void tsdb__int_put(tsdb__bitw *w, const int64_t *v, size_t n)
{
    if (n == 0)
        return;
    size_t delta = packed_bits(v, n, MODE_DELTA);
    size_t dod = packed_bits(v, n, MODE_DOD);
    int64_t dict[DICT_MAX];
    /* k entries cost every value log2(k) bits of index: past 2^(best/n)
     * entries the dictionary cannot win, so stop looking there. */
    size_t best = SB_MIN(delta, dod), per = best / n;
    size_t max = per >= 8 ? DICT_MAX : (size_t)1 << per;
    size_t k = dict_build(v, n, dict, max);
    uint64_t all = 0;
    for (size_t j = 0; j < k; j++)
        all |= tsdb__zigzag(dict[j]);
    unsigned iw = k ? width_of(k - 1) : 0, ew = width_of(all);
    size_t dict_bits = k ? 2 + 8 + 7 + k * ew + n * iw : SIZE_MAX;
    if (dict_bits < delta && dict_bits < dod) {
        tsdb__bitw_put(w, MODE_DICT, 2);
        tsdb__bitw_put(w, k - 1, 8);
        tsdb__bitw_put(w, ew, 7);
        for (size_t j = 0; j < k; j++)
            tsdb__bitw_put(w, tsdb__zigzag(dict[j]), ew);
        for (size_t i = 0; i < n; i++)
            tsdb__bitw_put(w, dict_find(dict, k, v[i]), iw);
        return;
    }
    put_packed(w, v, n, dod < delta ? MODE_DOD : MODE_DELTA);
}

bool tsdb__int_get(tsdb__bitr *r, size_t n, int64_t *v)
{
    if (n == 0)
        return true;
    unsigned mode = (unsigned)tsdb__bitr_get(r, 2);
    if (mode == MODE_DICT) {
        int64_t dict[DICT_MAX];
        size_t k = (size_t)tsdb__bitr_get(r, 8) + 1;
        unsigned ew = (unsigned)tsdb__bitr_get(r, 7);
        if (ew > 64)
            return false;
        for (size_t j = 0; j < k; j++)
            dict[j] = tsdb__unzigzag(tsdb__bitr_get(r, ew));
        unsigned iw = width_of(k - 1);
        for (size_t i = 0; i < n; i++) {
            size_t j = (size_t)tsdb__bitr_get(r, iw);
            if (r->err || j >= k)
                return false;
            v[i] = dict[j];
        }
        return true;
    }
    if (mode != MODE_DELTA && mode != MODE_DOD)
        return false;
    uint64_t cur = tsdb__bitr_get(r, 64), d = 0;
    v[0] = (int64_t)cur;
    for (size_t g = 1; g < n; g += GROUP) {
        size_t end = SB_MIN(n, g + GROUP);
        unsigned wd = (unsigned)tsdb__bitr_get(r, 7);
        if (r->err || wd > 64)
            return false;
        for (size_t i = g; i < end; i++) {
            int64_t res = tsdb__unzigzag(tsdb__bitr_get(r, wd));
            if (mode == MODE_DOD && i >= 2)
                d += (uint64_t)res;
            else
                d = (uint64_t)res;
            cur += d;
            v[i] = (int64_t)cur;
        }
        if (r->err)
            return false;
    }
    return true;
}

void tsdb_int_encode(sb_buf *out, const int64_t *v, size_t n)
{
    tsdb__bitw w;
    tsdb__bitw_init(&w, out);
    tsdb__int_put(&w, v, n);
    tsdb__bitw_flush(&w);
}

tsdb_err tsdb_int_decode(const void *p, size_t len, size_t n, int64_t *v)
{
    tsdb__bitr r;
    tsdb__bitr_init(&r, p, len);
    if (!tsdb__int_get(&r, n, v))
        return TSDB_E_CORRUPT;
    return tsdb__bitr_finish(&r);
}
