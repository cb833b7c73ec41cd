/*
 * source.h: what the query executor reads from, and what the storage
 * engine offers: the seam between tsdb/exec (InfluxQL evaluation) and
 * tsdb/engine (series, WAL, blocks). A vtable so that the executor can be
 * tested over any source and the engine does not know InfluxQL.
 *
 * Contract for every callback walk: the source calls cb once per item, in
 * the order stated, and stops early when cb returns non-zero, returning
 * that value. Views handed to cb (names, tags, chunks) are valid only
 * during that call. A source returns a negative tsdb_err-style code (-1 ..)
 * of its own for I/O or corruption errors, with detail in err.
 *
 * Names (db, measurement, field, tag keys and values) are unescaped bytes.
 * Series keys are canonical line-protocol keys ("m,k1=v1,k2=v2", escaped
 * as tsdb_line_write escapes, tags sorted by key), as tsdb_point has them.
 *
 * Sources are safe to read from several threads at once; what a walk sees
 * of writes racing with it is any prefix-consistent state (InfluxDB gives
 * no stronger guarantee).
 */
#ifndef SB_TSDB_SOURCE_H
#define SB_TSDB_SOURCE_H

#include "base/str.h"
#include "tsdb/block.h"
#include "tsdb/line.h"

/* One series of a measurement. */
typedef struct tsdb_series_info {
    uint64_t id;          /* stable for the life of the source */
    sb_str key;           /* canonical series key */
    sb_str measurement;   /* unescaped */
    const tsdb_tag *tags; /* sorted by key, unescaped */
    size_t ntags;
} tsdb_series_info;

/* A run of points of one field of one series: timestamps strictly
 * ascending; values in the array the type names. */
typedef struct tsdb_chunk {
    tsdb_type type;
    size_t n;
    const int64_t *times;
    union {
        const double *f;
        const int64_t *i;
        const uint64_t *u;
        const bool *b;
        const sb_str *s;
    } v;
} tsdb_chunk;

/* A rollup bucket of a numeric field: points with start <= t < start +
 * width. sum, min and max are doubles even for integer fields. */
typedef struct tsdb_rollup_row {
    int64_t start;
    uint64_t count;
    double sum, min, max;
} tsdb_rollup_row;

typedef int (*tsdb_name_cb)(void *arg, sb_str name);
typedef int (*tsdb_field_cb)(void *arg, sb_str name, tsdb_type type);
typedef int (*tsdb_series_cb)(void *arg, const tsdb_series_info *s);
typedef int (*tsdb_chunk_cb)(void *arg, const tsdb_chunk *c);
typedef int (*tsdb_rollup_cb)(void *arg, const tsdb_rollup_row *rows, size_t n);

typedef struct tsdb_source tsdb_source;

typedef struct tsdb_source_vt {
    /* Database names, sorted bytewise. */
    int (*databases)(tsdb_source *s, tsdb_name_cb cb, void *arg, sb_errbuf *err);
    /* Measurements of db that hold at least one series, sorted. */
    int (*measurements)(tsdb_source *s, sb_str db, tsdb_name_cb cb, void *arg, sb_errbuf *err);
    /* Field keys of a measurement with their type (one type per field and
     * measurement: the engine refuses conflicting writes), sorted by name. */
    int (*fields)(tsdb_source *s, sb_str db, sb_str measurement, tsdb_field_cb cb, void *arg,
                  sb_errbuf *err);
    /* Series of a measurement that carry every tag pair in must (an
     * inverted-index lookup; nmust 0: all of them), in ascending key order.
     * The executor evaluates the rest of a WHERE clause itself. */
    int (*series)(tsdb_source *s, sb_str db, sb_str measurement, const tsdb_tag *must, size_t nmust,
                  tsdb_series_cb cb, void *arg, sb_errbuf *err);
    /* Points of one field of one series with tmin <= t <= tmax, ascending,
     * one point per timestamp (the last write wins), in chunks. A field the
     * series never had gives no chunks. */
    int (*scan)(tsdb_source *s, sb_str db, uint64_t series, sb_str field, int64_t tmin,
                int64_t tmax, tsdb_chunk_cb cb, void *arg, sb_errbuf *err);
    /* Optional (NULL or returning 1 before any cb: no such rollup): buckets
     * of width ns of a numeric field, ascending, covering tmin <= start and
     * start + width - 1 <= tmax, empty buckets left out. tmin and tmax + 1
     * are multiples of width. */
    int (*rollup)(tsdb_source *s, sb_str db, uint64_t series, sb_str field, int64_t width,
                  int64_t tmin, int64_t tmax, tsdb_rollup_cb cb, void *arg, sb_errbuf *err);
} tsdb_source_vt;

struct tsdb_source {
    const tsdb_source_vt *vt;
};

#endif
