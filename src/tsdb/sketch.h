/*
 * sketch.h: a mergeable quantile sketch with relative error (DDSketch,
 * Masson, Rim and Lee, VLDB 2019), for percentile() over groups too large
 * to sort (docs/tsdb.md, "Percentiles").
 *
 * Guarantee: for a value x at rank r of the data added, tsdb_sketch_rank(r)
 * returns y with |y - x| <= alpha * |x|, as long as no bucket was collapsed
 * (the sketch keeps TSDB_SKETCH_MAX_BUCKETS buckets a sign, which covers
 * magnitudes spanning a factor of about 10^17 at alpha 0.01; past that the
 * buckets of the smallest magnitudes merge, and only their ranks lose the
 * bound). Values below 1e-300 in magnitude count as 0; NaN is ignored.
 * Merging two sketches of the same alpha gives the sketch of the union.
 * Memory: at most 2 * TSDB_SKETCH_MAX_BUCKETS * 8 bytes, whatever the count.
 */
#ifndef SB_TSDB_SKETCH_H
#define SB_TSDB_SKETCH_H

#include "base/common.h"

#define TSDB_SKETCH_MAX_BUCKETS 2048

typedef struct tsdb_sketch_store {
    uint64_t *counts; /* counts[k] is bucket off + k */
    int32_t off;
    uint32_t len;
    uint64_t total;
} tsdb_sketch_store;

typedef struct tsdb_sketch {
    double alpha, gamma, inv_log_gamma;
    tsdb_sketch_store pos, neg; /* neg holds -x */
    uint64_t zero;
    uint64_t n;
    double min, max;
    bool collapsed; /* some bucket merged: the bound no longer holds for the
                       smallest magnitudes */
} tsdb_sketch;

/* alpha in (0, 1): the relative accuracy, e.g. 0.01. */
void tsdb_sketch_init(tsdb_sketch *s, double alpha);
void tsdb_sketch_deinit(tsdb_sketch *s);
void tsdb_sketch_add(tsdb_sketch *s, double x);
/* Adds src's counts to dst; both must have the same alpha. */
void tsdb_sketch_merge(tsdb_sketch *dst, const tsdb_sketch *src);
/* The value at 0-based rank r (r < s->n) of the values added, within the
 * relative error bound; clamped to the exact min and max. */
double tsdb_sketch_rank(const tsdb_sketch *s, uint64_t r);

#endif
