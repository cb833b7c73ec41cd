/*
 * block.h: an immutable block: one series' points of one field for a time
 * window, as stored on disk. Little-endian layout (docs/tsdb.md):
 *
 *   0   4  magic "TSB1"          20  8  max_time (int64)
 *   4   1  version (1)           28  4  bytes of the timestamp column
 *   5   1  value type            32  4  bytes of the value column
 *   6   2  reserved, zero        36  .. timestamp column, value column
 *   8   4  count (1 .. TSDB_BLOCK_MAX_POINTS)
 *   12  8  min_time (int64)      end-4  CRC-32C of everything before it
 *
 * Ordering: the caller sorts and removes duplicate timestamps before it
 * encodes (the storage engine decides which duplicate wins: the last
 * write). A block's timestamps are strictly increasing, so readers may
 * binary-search them; the encoder refuses anything else (TSDB_E_UNSORTED)
 * and the decoder checks it again, with min/max against the header.
 *
 * Decoding hostile bytes: every length is checked before use, the count
 * must be one a column of that size could hold (one bit a point at the
 * least), so allocation stays within a constant factor (<= 192x) of the
 * block's size, and nothing is read outside the given bytes.
 */
#ifndef SB_TSDB_BLOCK_H
#define SB_TSDB_BLOCK_H

#include "base/str.h"
#include "tsdb/err.h"

#define TSDB_BLOCK_MAX_POINTS (1u << 20)
#define TSDB_BLOCK_OVERHEAD   40 /* header + checksum */

/* The value types of line protocol. Numbered as stored: never reorder. */
typedef enum tsdb_type {
    TSDB_FLOAT = 1,
    TSDB_INT = 2,
    TSDB_UINT = 3,
    TSDB_BOOL = 4,
    TSDB_STRING = 5,
} tsdb_type;

/* InfluxDB's name of a type: "float", "integer", "unsigned", "boolean",
 * "string" (field type conflicts, SHOW FIELD KEYS). */
const char *tsdb_type_name(tsdb_type t);

typedef struct tsdb_block_info {
    tsdb_type type;
    uint32_t count;
    int64_t min_time, max_time;
} tsdb_block_info;

/* A decoded block. Owns times and the value array; string values are views
 * into the bytes that were decoded, which the caller keeps alive. */
typedef struct tsdb_block {
    tsdb_block_info info;
    int64_t *times;
    union {
        double *f;
        int64_t *i;
        uint64_t *u;
        bool *b;
        sb_str *s;
        void *any;
    } values;
} tsdb_block;

/* Appends one block of n points to out. values points to n doubles,
 * int64_t, uint64_t, bools or sb_strs as type says. Fails, appending
 * nothing, with TSDB_E_UNSORTED (times not strictly increasing),
 * TSDB_E_LIMIT (n == 0, n > TSDB_BLOCK_MAX_POINTS, a column over 4 GiB) or
 * TSDB_E_TYPE. */
tsdb_err tsdb_block_encode(sb_buf *out, tsdb_type type, const int64_t *times, const void *values,
                           size_t n);

/* Checks the framing and checksum and reads the header, without decoding
 * the columns (for indexes that only need the time range). */
tsdb_err tsdb_block_peek(const void *p, size_t len, tsdb_block_info *info);

/* Decodes a whole block into out (which the caller releases with
 * tsdb_block_deinit on success; on failure out is left empty). Errors:
 * TSDB_E_CORRUPT, TSDB_E_CHECKSUM, TSDB_E_UNSORTED, TSDB_E_TYPE. */
tsdb_err tsdb_block_decode(const void *p, size_t len, tsdb_block *out);
void tsdb_block_deinit(tsdb_block *b);

/* The same checks, decoding into the caller's arrays: times and values
 * (of type's C type, as in tsdb_block) hold cap points each. Sets *info on
 * success; on failure the arrays hold garbage. Errors as tsdb_block_decode,
 * and TSDB_E_TYPE for another type, TSDB_E_LIMIT for more than cap points.
 * For scans that decode straight into their merge arrays. */
tsdb_err tsdb_block_decode_into(const void *p, size_t len, tsdb_type type, size_t cap,
                                int64_t *times, void *values, tsdb_block_info *info);

#endif
