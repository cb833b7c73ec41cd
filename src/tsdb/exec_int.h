/*
 * exec_int.h: what the executor's files share (exec.c statements and
 * results, exec_json.c output values, exec_regex.c PCRE2, exec_where.c
 * conditions, exec_select.c SELECT, exec_agg.c aggregates, exec_show.c
 * SHOW). Not for callers outside src/tsdb/exec*.c.
 */
#ifndef SB_TSDB_EXEC_INT_H
#define SB_TSDB_EXEC_INT_H

#include "base/arena.h"
#include "base/str.h"
#include "tsdb/exec.h"

/* InfluxDB's time range ends (influxql.MinTime / MaxTime). */
#define EX_MIN_TIME (INT64_MIN + 2)
#define EX_MAX_TIME (INT64_MAX - 1)

/* A value as results and conditions see it. type 0 is null; EX_UNKNOWN is
 * "depends on a field value" while a condition is judged per series. */
#define EX_NULL    0
#define EX_UNKNOWN 100
typedef struct ex_val {
    int type; /* EX_NULL, a tsdb_type, EX_UNKNOWN */
    union {
        double f;
        int64_t i;
        uint64_t u;
        bool b;
        sb_str s;
    };
} ex_val;

/* ---- regexes (exec_regex.c) ---- */
typedef struct ex_regex ex_regex;
/* Compiles an InfluxQL /regex/ (JIT when available). NULL with err set on a
 * bad pattern. */
ex_regex *ex__regex_new(sb_str pattern, sb_errbuf *err);
/* 1 match (anywhere, as Go's MatchString), 0 no match, -1 the match limit
 * was hit (a hostile pattern): the caller fails the statement. */
int ex__regex_match(ex_regex *re, sb_str subject);
void ex__regex_free(ex_regex *re);

/* ---- one statement's state (exec.c) ---- */
typedef struct ex_ctx {
    tsdb_source *src;
    const tsdb_exec_opts *o;
    sb_arena *arena; /* freed after the statement */
    sb_buf *series;  /* the statement's "series" array items */
    size_t nseries;  /* written so far */
    bool failed;
    bool busy;     /* failed on -TSDB_E_BUSY or busy_buckets: the run stops */
    sb_errbuf err; /* the statement's error when failed */
    /* Regexes compiled for this statement, by pattern text. */
    struct {
        const char *ptr;
        size_t len;
        ex_regex *re;
    } regexes[64];
    size_t nregexes;
} ex_ctx;

/* Records the statement's error (the first one wins) and returns false. */
bool ex__fail(ex_ctx *c, const char *fmt, ...) SB_PRINTF(2, 3);
/* The same for a source's error rc (< 0) with its detail; -TSDB_E_BUSY
 * also marks the statement busy. Returns false. */
bool ex__source_fail(ex_ctx *c, int rc, const sb_errbuf *err);
/* A cached compiled regex for pattern; NULL (statement failed) if bad. */
ex_regex *ex__regex(ex_ctx *c, sb_str pattern);
/* Matches through the cache; false with the statement failed when the
 * match limit is hit. *out is the result. */
bool ex__match(ex_ctx *c, sb_str pattern, sb_str subject, bool *out);
/* The database a statement reads: explicit, else the request's; fails with
 * InfluxDB's messages when none or when it does not exist. */
bool ex__resolve_db(ex_ctx *c, sb_str explicit_db, sb_str *db);

/* ---- JSON output (exec_json.c) ---- */
/* A JSON string escaped as Go's encoding/json escapes it. */
void ex__json_str(sb_buf *out, sb_str s);
/* A float64 as Go's encoding/json prints it (shortest round-trip, 'e'
 * form below 1e-6 and from 1e21). Non-finite values print null. */
void ex__json_float(sb_buf *out, double v);
/* A time: RFC 3339 with the fraction trimmed, or an integer in the epoch
 * unit. */
void ex__json_time(sb_buf *out, int64_t ns, const tsdb_exec_opts *o);
void ex__json_val(sb_buf *out, const ex_val *v);
/* RFC 3339 (UTC, nanoseconds trimmed) into buf (>= 40 bytes). */
size_t ex__rfc3339(char *buf, int64_t ns);

/* Series output: begin writes {"name":..,"tags":{..},"columns":[..],"values":[
 * (name ptr NULL: no name; ntags 0: no tags), rows follow with row_begin /
 * values / row_end, and series_end closes. */
void ex__series_begin(ex_ctx *c, sb_str name, const sb_str *tag_keys, const sb_str *tag_vals,
                      size_t ntags, const sb_str *columns, size_t ncolumns);
void ex__row_begin(ex_ctx *c, size_t row_index);
void ex__series_end(ex_ctx *c, size_t nrows);

/* ---- conditions (exec_where.c) ---- */
/* What a measurement's schema says a name is in a condition. */
typedef struct ex_schema {
    sb_str *fields; /* sorted */
    tsdb_type *types;
    size_t nfields;
} ex_schema;
/* Index of a field in the schema, or -1. */
ptrdiff_t ex__field_index(const ex_schema *s, sb_str name);

/* The time range a WHERE clause gives, with InfluxDB's defaults. */
typedef struct ex_timerange {
    int64_t min, max;
    bool has_min, has_max;
} ex_timerange;
/* Extracts the time range from the AND-ed time comparisons of where;
 * fails the statement on time under OR or a bad time literal. */
bool ex__time_range(ex_ctx *c, const iql_expr *where, ex_timerange *tr);
/* True when e compares with "time" (those are the range, not a filter). */
bool ex__is_time_cmp(const iql_expr *e);

/* What a condition reads of a row: a series' tags and, per point, field
 * values (fields NULL: not known yet, field references are EX_UNKNOWN). */
typedef struct ex_env {
    const ex_schema *schema;
    const tsdb_tag *tags;
    size_t ntags;
    const ex_val *fields; /* indexed like schema->fields */
    int64_t now;
} ex_env;
/* Evaluates e (time comparisons are true). Fails the statement on a regex
 * over its match limit; the result is then null. */
ex_val ex__eval(ex_ctx *c, const iql_expr *e, const ex_env *env);
/* A condition's verdict: 1 true, 0 false, -1 unknown (depends on fields). */
int ex__truth(const ex_val *v);
/* The value of a tag (empty when the series lacks it). */
sb_str ex__tag(const tsdb_tag *tags, size_t ntags, sb_str key);
/* Whether e reads a field (a name in the schema that is not ::tag). */
bool ex__reads_field(const iql_expr *e, const ex_schema *s);
/* The tag pairs every matching series must carry (top-level AND of
 * tag = 'literal'), for the source's index. */
size_t ex__must_tags(const iql_expr *e, const ex_schema *s, tsdb_tag *out, size_t cap);
/* Arithmetic of two values as InfluxQL does it (null in, null out). */
ex_val ex__arith(iql_op op, ex_val a, ex_val b);

/* ---- statements ---- */
void ex__select(ex_ctx *c, const iql_select *s);
void ex__show(ex_ctx *c, const iql_stmt *st);

/* Copies into the statement's arena. */
sb_str ex__dup(ex_ctx *c, sb_str s);

#endif

/* ---- aggregates (exec_agg.c) ---- */
#include "tsdb/sketch.h"

typedef enum ex_fn {
    EX_COUNT,
    EX_SUM,
    EX_MEAN,
    EX_MIN,
    EX_MAX,
    EX_FIRST,
    EX_LAST,
    EX_SPREAD,
    EX_STDDEV,
    EX_PERCENTILE,
    EX_MEDIAN,
    EX_TOP,
    EX_BOTTOM,
    EX_MODE,
    EX_DISTINCT,
    EX_COUNT_DISTINCT, /* count(distinct(f)) */
    EX_INTEGRAL,
} ex_fn;

/* Points kept exactly by percentile() and median() per group and bucket;
 * past this they go to a sketch (docs/tsdb.md). */
#define EX_EXACT_MAX    100000
#define EX_SKETCH_ALPHA 0.01

/* One aggregate call as a query states it, resolved per measurement. */
typedef struct ex_call {
    const iql_expr *expr; /* the call node */
    ex_fn fn;
    sb_str name;           /* "mean", ... */
    sb_str field;          /* its argument */
    double pct;            /* percentile */
    int64_t n;             /* top/bottom */
    int64_t unit;          /* integral: ns per unit of time (default 1s) */
    ptrdiff_t fidx;        /* in the measurement's schema, -1: no such field */
    tsdb_type type;        /* the field's type there */
    uint32_t seq;          /* the series being fed: selectors remember the point's */
    const sb_str *tagargs; /* top(f, tag..., N): the tags to take the best of */
    size_t ntagargs;
    sb_str tagkey; /* the fed series' values of tagargs, joined */
} ex_call;

typedef struct ex_pt {
    int64_t t;
    uint32_t seq; /* its series */
    uint32_t ord; /* scratch for rank selection: position before it (fits the padding) */
    union {
        double f;
        int64_t i;
    };
} ex_pt;

/* The state of one call over one group and bucket. */
typedef struct ex_acc {
    uint64_t n;
    double sum, mean, m2;
    int64_t isum;
    ex_val best, lo, hi; /* min/max/first/last; spread */
    sb_buf best_str;     /* best's string bytes: a chunk's views end with the call */
    int64_t tbest;
    uint32_t sbest; /* the series of the selected point */
    ex_pt *pts;     /* percentile/median (exact), top/bottom */
    size_t npts, cap;
    tsdb_sketch *sk;
    bool welford;         /* stddev past EX_EXACT_MAX points: streaming */
    struct sb_map *bykey; /* top/bottom with tags: tagkey -> 1 + index in pts */
    sb_buf strs;          /* mode/distinct of strings: each value as a 4-byte
                             length and its bytes; pts[].i is the offset */
    bool integ_has;       /* integral: this bucket's window was emitted */
    double integ;
} ex_acc;

/* The output type of a call over a field of type t. */
tsdb_type ex__call_type(const ex_call *k, tsdb_type t);
/* Feeds points [from, to) of a chunk (the call's field) into a. */
void ex__acc_feed(ex_acc *a, const ex_call *k, const tsdb_chunk *ch, size_t from, size_t to);
/* Feeds one value (a row that passed a field condition). */
void ex__acc_feed_val(ex_acc *a, const ex_call *k, int64_t t, const ex_val *v);
/* Feeds one rollup bucket (count/sum/mean/min/max of float fields). */
void ex__acc_feed_rollup(ex_acc *a, const ex_call *k, const tsdb_rollup_row *r);
/* The call's value; *t and *seq the selected point's time and series when
 * the call selects one (else unchanged). Null when the bucket has no
 * answer. */
ex_val ex__acc_result(ex_acc *a, const ex_call *k, int64_t *t, uint32_t *seq);
/* integral(): the trapezoidal time integral of a group's points, as
 * InfluxDB's stream reducer computes it: points in time order across the
 * buckets accs[b * stride] (b < nb, each fed whole), a segment that crosses
 * a window's end interpolated at that end, the area from there to the
 * next point counted in that point's window. Windows are the buckets
 * [base + b * interval, + interval); interval 0: one window [base, end).
 * Sets each emitted bucket's result. */
void ex__acc_integral(ex_acc *accs, size_t nb, size_t stride, const ex_call *k, int64_t base,
                      int64_t interval, int64_t end);
/* The value a kept point of mode() or distinct() stands for, in the call's
 * output type (strings point into the accumulator). */
ex_val ex__acc_pt_val(const ex_acc *a, const ex_call *k, const ex_pt *p);
/* top/bottom: the kept points, sorted by time; distinct: the distinct
 * values, by the time each was first seen (then by value); count in *n. */
const ex_pt *ex__acc_top(ex_acc *a, const ex_call *k, size_t *n);
void ex__acc_deinit(ex_acc *a);
