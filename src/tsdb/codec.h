/*
 * codec.h: the column codecs of tsdb blocks: timestamps (delta-of-delta),
 * floats (Gorilla XOR, or scaled decimals), integers (zig-zag deltas or
 * delta-of-deltas, bit-packed, or a small dictionary), booleans (one bit)
 * and strings (length-prefixed). docs/tsdb.md gives the bit layouts and the
 * measured sizes; Pelkonen et al., "Gorilla", VLDB 2015, §4.1 is the base.
 *
 * Every codec is lossless on every input: any int64 sequence (unsorted,
 * duplicated, INT64_MIN next to INT64_MAX: arithmetic wraps on purpose) and
 * every double bit pattern (NaN payloads, -0.0, infinities, subnormals).
 * Ordering rules belong to the block (block.h), not here.
 *
 * Encoders append to an sb_buf and cannot fail. Decoders take the column's
 * bytes and the value count n (from the block header), write exactly n
 * values to the caller's array, never read outside [p, p + len), and return
 * TSDB_E_CORRUPT when the bytes are not a column of n values; on error the
 * output array holds unspecified values.
 */
#ifndef SB_TSDB_CODEC_H
#define SB_TSDB_CODEC_H

#include "base/str.h"
#include "tsdb/err.h"

void tsdb_ts_encode(sb_buf *out, const int64_t *t, size_t n);
tsdb_err tsdb_ts_decode(const void *p, size_t len, size_t n, int64_t *t);

void tsdb_float_encode(sb_buf *out, const double *v, size_t n);
tsdb_err tsdb_float_decode(const void *p, size_t len, size_t n, double *v);

/* Unsigned columns go through the same codec as bit patterns. */
void tsdb_int_encode(sb_buf *out, const int64_t *v, size_t n);
tsdb_err tsdb_int_decode(const void *p, size_t len, size_t n, int64_t *v);

void tsdb_bool_encode(sb_buf *out, const bool *v, size_t n);
tsdb_err tsdb_bool_decode(const void *p, size_t len, size_t n, bool *v);

/* Decoded strings are views into p: the caller keeps p alive. */
void tsdb_str_encode(sb_buf *out, const sb_str *v, size_t n);
tsdb_err tsdb_str_decode(const void *p, size_t len, size_t n, sb_str *v);

#endif
