/*
 * float_codec.c: float columns, bit-exact for every double.
 *
 * One bit picks the layout:
 *   0, XOR (Gorilla §4.1.2): v0 (64 bits), then per value the XOR with the
 *      previous one: "0" when equal; "10" + the meaningful bits when they
 *      fit the previous leading/trailing-zero window; "11" + leading zeros
 *      (5 bits, capped at 31) + meaningful length (6 bits, 0 means 64) +
 *      the meaningful bits, which opens a new window.
 *   1, decimal: d (3 bits, 0..6), then the integer column (int_codec.c) of
 *      round(v * 10^d). Used only when every value comes back bit-exact as
 *      (double)k / 10^d, and only when smaller than XOR. Gauges written with
 *      2 decimals (12.34) are such values; XOR handles them poorly because
 *      their mantissas are not periodic.
 * Values are moved as bit patterns (memcpy), never compared as doubles, so
 * NaN payloads and -0.0 survive.
 */
#include <math.h>
#include <stdlib.h>

#include "tsdb/codec.h"
#include "tsdb/codec_int.h"

static const double pow10_f[7] = {1, 10, 100, 1000, 10000, 100000, 1000000};

static uint64_t bits_of(double d)
{
    uint64_t u;
    memcpy(&u, &d, sizeof(u));
    return u;
}

static double double_of(uint64_t u)
{
    double d;
    memcpy(&d, &u, sizeof(d));
    return d;
}

static void put_xor(tsdb__bitw *w, const double *v, size_t n)
{
    tsdb__bitw_put(w, 0, 1);
    uint64_t prev = bits_of(v[0]);
    tsdb__bitw_put(w, prev, 64);
    unsigned wl = 0, wt = 0;
    bool window = false;
    for (size_t i = 1; i < n; i++) {
        uint64_t cur = bits_of(v[i]), x = cur ^ prev;
        prev = cur;
        if (x == 0) {
            tsdb__bitw_put(w, 0, 1);
            continue;
        }
        unsigned lead = (unsigned)__builtin_clzll(x), trail = (unsigned)__builtin_ctzll(x);
        if (lead > 31)
            lead = 31;
        if (window && lead >= wl && trail >= wt) {
            tsdb__bitw_put(w, 2, 2);
            tsdb__bitw_put(w, x >> wt, 64 - wl - wt);
            continue;
        }
        unsigned m = 64 - lead - trail;
        tsdb__bitw_put(w, 3, 2);
        tsdb__bitw_put(w, lead, 5);
        tsdb__bitw_put(w, m & 63, 6);
        tsdb__bitw_put(w, x >> trail, m);
        wl = lead;
        wt = trail;
        window = true;
    }
}

static bool get_xor(tsdb__bitr *r, size_t n, double *v)
{
    uint64_t prev = tsdb__bitr_get(r, 64);
    v[0] = double_of(prev);
    unsigned wl = 0, wt = 0;
    bool window = false;
    for (size_t i = 1; i < n; i++) {
        unsigned c = tsdb__bitr_ones(r, 2);
        if (c == 1) {
            if (!window)
                return false;
            prev ^= tsdb__bitr_get(r, 64 - wl - wt) << wt;
        } else if (c == 2) {
            unsigned lead = (unsigned)tsdb__bitr_get(r, 5);
            unsigned m = (unsigned)tsdb__bitr_get(r, 6);
            if (m == 0)
                m = 64;
            if (lead + m > 64)
                return false;
            wl = lead;
            wt = 64 - lead - m;
            window = true;
            prev ^= m == 64 ? tsdb__bitr_get(r, 64) : tsdb__bitr_get(r, m) << wt;
        }
        if (r->err)
            return false;
        v[i] = double_of(prev);
    }
    return true;
}

/* The smallest d for which every value is an exact d-decimal, or -1. */
static int decimal_digits(const double *v, size_t n)
{
    for (int d = 0; d <= 6; d++) {
        size_t i = 0;
        for (; i < n; i++) {
            double x = v[i] * pow10_f[d];
            if (!(fabs(x) < 9007199254740992.0)) /* 2^53: also rejects NaN */
                break;
            double back = (double)llround(x) / pow10_f[d];
            if (bits_of(back) != bits_of(v[i]))
                break;
        }
        if (i == n)
            return d;
    }
    return -1;
}

void tsdb_float_encode(sb_buf *out, const double *v, size_t n)
{
    if (n == 0)
        return;
    tsdb__bitw w;
    size_t start = out->len;
    tsdb__bitw_init(&w, out);
    put_xor(&w, v, n);
    tsdb__bitw_flush(&w);
    int d = decimal_digits(v, n);
    if (d < 0)
        return;
    sb_buf alt = SB_BUF_INIT;
    int64_t *k = sb_calloc(n, sizeof(*k));
    for (size_t i = 0; i < n; i++)
        k[i] = llround(v[i] * pow10_f[d]);
    tsdb__bitw_init(&w, &alt);
    tsdb__bitw_put(&w, 1, 1);
    tsdb__bitw_put(&w, (uint64_t)d, 3);
    tsdb__int_put(&w, k, n);
    tsdb__bitw_flush(&w);
    if (alt.len < out->len - start) {
        out->len = start;
        sb_buf_append(out, alt.ptr, alt.len);
    }
    free(k);
    sb_buf_free(&alt);
}

tsdb_err tsdb_float_decode(const void *p, size_t len, size_t n, double *v)
{
    tsdb__bitr r;
    tsdb__bitr_init(&r, p, len);
    if (n == 0)
        return len == 0 ? TSDB_E_OK : TSDB_E_CORRUPT;
    if (tsdb__bitr_get(&r, 1) == 0) {
        if (!get_xor(&r, n, v))
            return TSDB_E_CORRUPT;
        return tsdb__bitr_finish(&r);
    }
    unsigned d = (unsigned)tsdb__bitr_get(&r, 3);
    if (d > 6)
        return TSDB_E_CORRUPT;
    /* The integers go through v's own storage: int64 and double are both 8
     * bytes, and each slot is read once before it is overwritten. */
    int64_t *k = (int64_t *)(void *)v;
    if (!tsdb__int_get(&r, n, k))
        return TSDB_E_CORRUPT;
    for (size_t i = 0; i < n; i++) {
        int64_t ki;
        memcpy(&ki, &v[i], sizeof(ki));
        v[i] = (double)ki / pow10_f[d];
    }
    return tsdb__bitr_finish(&r);
}
