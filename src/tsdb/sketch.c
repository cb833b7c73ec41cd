/*
 * sketch.c: DDSketch with dense, collapsing stores. A positive x goes to
 * bucket i = ceil(log_gamma(x)), gamma = (1 + alpha) / (1 - alpha), which
 * holds (gamma^(i-1), gamma^i]; the bucket's representative 2 gamma^i /
 * (gamma + 1) is within alpha of every value in it. Negative values use
 * the same buckets on -x in a second store; tiny magnitudes a zero count.
 */
#include "tsdb/sketch.h"

#include <math.h>
#include <stdlib.h>
#include <string.h>

#define MIN_INDEXABLE 1e-300

void tsdb_sketch_init(tsdb_sketch *s, double alpha)
{
    memset(s, 0, sizeof(*s));
    s->alpha = alpha;
    s->gamma = (1 + alpha) / (1 - alpha);
    s->inv_log_gamma = 1.0 / log(s->gamma);
    s->min = INFINITY;
    s->max = -INFINITY;
}

void tsdb_sketch_deinit(tsdb_sketch *s)
{
    free(s->pos.counts);
    free(s->neg.counts);
    s->pos.counts = s->neg.counts = NULL;
}

/* Adds c to bucket i, growing the store (and collapsing its lowest
 * buckets into one when it would pass the bucket limit). */
static void store_add(tsdb_sketch *s, tsdb_sketch_store *st, int32_t i, uint64_t c)
{
    st->total += c;
    if (st->len == 0) {
        st->counts = calloc(64, sizeof(uint64_t));
        if (!st->counts)
            abort();
        st->off = i - 32;
        st->len = 64;
    }
    if (i < st->off || i >= st->off + (int32_t)st->len) {
        int64_t lo = i < st->off ? i : st->off;
        int64_t hi = i >= st->off + (int32_t)st->len ? i : st->off + (int64_t)st->len - 1;
        if (hi - lo + 1 > TSDB_SKETCH_MAX_BUCKETS) {
            /* Keep the highest magnitudes: buckets below hi - MAX + 1 merge
             * into the lowest kept one. */
            int64_t newlo = hi - TSDB_SKETCH_MAX_BUCKETS + 1;
            if (i < newlo) {
                i = (int32_t)newlo;
                s->collapsed = true;
            }
            lo = newlo;
        }
        uint32_t want = (uint32_t)(hi - lo + 1);
        uint32_t cap = want * 2 < TSDB_SKETCH_MAX_BUCKETS ? want * 2 : TSDB_SKETCH_MAX_BUCKETS;
        if (cap < want)
            cap = want;
        /* Centre the spare room around the used range. */
        int64_t nlo = lo - (int64_t)(cap - want) / 2;
        if (nlo + cap - 1 < hi)
            nlo = hi - cap + 1;
        uint64_t *nc = calloc(cap, sizeof(uint64_t));
        if (!nc)
            abort();
        for (uint32_t k = 0; k < st->len; k++) {
            if (!st->counts[k])
                continue;
            int64_t idx = st->off + (int64_t)k;
            if (idx < lo) {
                idx = lo;
                s->collapsed = true;
            }
            nc[idx - nlo] += st->counts[k];
        }
        free(st->counts);
        st->counts = nc;
        st->off = (int32_t)nlo;
        st->len = cap;
    }
    st->counts[i - st->off] += c;
}

static int32_t index_of(const tsdb_sketch *s, double x)
{
    double l = ceil(log(x) * s->inv_log_gamma);
    if (l > 1e6)
        l = 1e6;
    return (int32_t)l;
}

void tsdb_sketch_add(tsdb_sketch *s, double x)
{
    if (x != x)
        return;
    s->n++;
    if (x < s->min)
        s->min = x;
    if (x > s->max)
        s->max = x;
    if (x > MIN_INDEXABLE)
        store_add(s, &s->pos, index_of(s, x), 1);
    else if (x < -MIN_INDEXABLE)
        store_add(s, &s->neg, index_of(s, -x), 1);
    else
        s->zero++;
}

static void store_merge(tsdb_sketch *dst, tsdb_sketch_store *d, const tsdb_sketch_store *src)
{
    for (uint32_t k = 0; k < src->len; k++)
        if (src->counts[k])
            store_add(dst, d, src->off + (int32_t)k, src->counts[k]);
}

void tsdb_sketch_merge(tsdb_sketch *dst, const tsdb_sketch *src)
{
    store_merge(dst, &dst->pos, &src->pos);
    store_merge(dst, &dst->neg, &src->neg);
    dst->zero += src->zero;
    dst->n += src->n;
    dst->collapsed |= src->collapsed;
    if (src->min < dst->min)
        dst->min = src->min;
    if (src->max > dst->max)
        dst->max = src->max;
}

static double value_of(const tsdb_sketch *s, int32_t i)
{
    return 2 * pow(s->gamma, i) / (s->gamma + 1);
}

double tsdb_sketch_rank(const tsdb_sketch *s, uint64_t r)
{
    double v = 0;
    uint64_t seen = 0;
    /* The extremes are known exactly. */
    if (r == 0)
        return s->min;
    if (r + 1 >= s->n)
        return s->max;
    /* Ascending order: negatives from the largest magnitude, zeros, then
     * positives from the smallest. */
    if (r < s->neg.total) {
        for (uint32_t k = s->neg.len; k-- > 0;) {
            seen += s->neg.counts[k];
            if (seen > r) {
                v = -value_of(s, s->neg.off + (int32_t)k);
                goto clamp;
            }
        }
    }
    seen = s->neg.total;
    if (r < seen + s->zero) {
        v = 0;
        goto clamp;
    }
    seen += s->zero;
    for (uint32_t k = 0; k < s->pos.len; k++) {
        seen += s->pos.counts[k];
        if (seen > r) {
            v = value_of(s, s->pos.off + (int32_t)k);
            goto clamp;
        }
    }
    v = s->max;
clamp:
    if (v < s->min)
        v = s->min;
    if (v > s->max)
        v = s->max;
    return v;
}
