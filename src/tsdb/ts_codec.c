/*
 * ts_codec.c: timestamps as delta-of-delta (Gorilla §4.1.1), tuned for
 * InfluxDB's nanosecond timestamps.
 *
 * Layout: t0 (64 bits); if n > 1: k (5 bits), the first delta divided by
 * 10^k (64 bits), then one delta-of-delta per further point, in units of
 * 10^k, behind a control prefix:
 *     0                 dod == 0
 *     10    + 7 bits    [-64, 63]
 *     110   + 12 bits   [-2048, 2047]
 *     1110  + 20 bits   [-524288, 524287]
 *     11110 + 32 bits   int32
 *     11111 + 64 bits   anything (wrapping)
 * Why 10^k: a series written every second in nanoseconds has deltas of
 * 1e9, and any jitter is a multiple of 1e6 or 1e3 when the client writes
 * ms or us precision. Dividing by the largest power of ten that divides
 * every delta turns those into small numbers, so ms jitter at 1 s fits the
 * 12-bit bucket and perfectly regular data costs 1 bit a point whatever the
 * precision. k is 0 when any delta overflows int64 (unsorted extremes):
 * then everything is plain wrapping arithmetic, still lossless.
 */
#include "tsdb/codec.h"
#include "tsdb/codec_int.h"

static const int64_t pow10_i64[19] = {
    1,
    10,
    100,
    1000,
    10000,
    100000,
    1000000,
    10000000,
    100000000,
    1000000000,
    10000000000,
    100000000000,
    1000000000000,
    10000000000000,
    100000000000000,
    1000000000000000,
    10000000000000000,
    100000000000000000,
    1000000000000000000,
};

/* The largest k <= 18 such that 10^k divides every delta, or 0. */
static unsigned common_pow10(const int64_t *t, size_t n)
{
    unsigned k = 18;
    bool any = false;
    for (size_t i = 1; i < n && k > 0; i++) {
        int64_t d;
        if (__builtin_sub_overflow(t[i], t[i - 1], &d))
            return 0;
        if (d == 0)
            continue;
        any = true;
        while (k > 0 && d % pow10_i64[k] != 0)
            k--;
    }
    return any ? k : 0;
}

static void put_dod(tsdb__bitw *w, int64_t dod)
{
    if (dod == 0)
        tsdb__bitw_put(w, 0, 1);
    else if (dod >= -64 && dod <= 63)
        tsdb__bitw_put(w, (UINT64_C(0x2) << 7) | ((uint64_t)dod & 0x7f), 9);
    else if (dod >= -2048 && dod <= 2047)
        tsdb__bitw_put(w, (UINT64_C(0x6) << 12) | ((uint64_t)dod & 0xfff), 15);
    else if (dod >= -524288 && dod <= 524287)
        tsdb__bitw_put(w, (UINT64_C(0xe) << 20) | ((uint64_t)dod & 0xfffff), 24);
    else if (dod >= INT32_MIN && dod <= INT32_MAX)
        tsdb__bitw_put(w, (UINT64_C(0x1e) << 32) | ((uint64_t)dod & 0xffffffffu), 37);
    else {
        tsdb__bitw_put(w, 0x1f, 5);
        tsdb__bitw_put(w, (uint64_t)dod, 64);
    }
}

void tsdb_ts_encode(sb_buf *out, const int64_t *t, size_t n)
{
    if (n == 0)
        return;
    tsdb__bitw w;
    tsdb__bitw_init(&w, out);
    tsdb__bitw_put(&w, (uint64_t)t[0], 64);
    if (n > 1) {
        unsigned k = common_pow10(t, n);
        uint64_t scale = (uint64_t)pow10_i64[k];
        /* With k > 0 no delta overflowed, so the division is exact. */
        uint64_t prev =
            k ? (uint64_t)((t[1] - t[0]) / (int64_t)scale) : (uint64_t)t[1] - (uint64_t)t[0];
        tsdb__bitw_put(&w, k, 5);
        tsdb__bitw_put(&w, prev, 64);
        for (size_t i = 2; i < n; i++) {
            uint64_t d = k ? (uint64_t)((t[i] - t[i - 1]) / (int64_t)scale)
                           : (uint64_t)t[i] - (uint64_t)t[i - 1];
            put_dod(&w, (int64_t)(d - prev));
            prev = d;
        }
    }
    tsdb__bitw_flush(&w);
}

static const unsigned dod_bits[6] = {0, 7, 12, 20, 32, 64};

tsdb_err tsdb_ts_decode(const void *p, size_t len, size_t n, int64_t *t)
{
    tsdb__bitr r;
    tsdb__bitr_init(&r, p, len);
    if (n == 0)
        return len == 0 ? TSDB_E_OK : TSDB_E_CORRUPT;
    uint64_t cur = tsdb__bitr_get(&r, 64);
    t[0] = (int64_t)cur;
    if (n > 1) {
        unsigned k = (unsigned)tsdb__bitr_get(&r, 5);
        if (k > 18)
            return TSDB_E_CORRUPT;
        uint64_t scale = (uint64_t)pow10_i64[k];
        uint64_t d = tsdb__bitr_get(&r, 64);
        cur += d * scale;
        t[1] = (int64_t)cur;
        for (size_t i = 2; i < n; i++) {
            unsigned c = tsdb__bitr_ones(&r, 5);
            if (c) {
                unsigned nb = dod_bits[c];
                d += (uint64_t)tsdb__sext(tsdb__bitr_get(&r, nb), nb);
            }
            if (r.err)
                return TSDB_E_CORRUPT;
            cur += d * scale;
            t[i] = (int64_t)cur;
        }
    }
    return tsdb__bitr_finish(&r);
}
