/*
 * exec.h: the InfluxQL executor: runs parsed statements (influxql.h) over a
 * tsdb_source (source.h) and writes the JSON document InfluxDB 1.x's /query
 * answers (docs/tsdb.md, "Queries"):
 *
 *   {"results":[{"statement_id":0,"series":[{"name":"cpu","tags":{"host":"a"},
 *     "columns":["time","mean"],"values":[["2020-01-01T00:00:00Z",1.5]]}]}]}
 *
 * One result per statement, in order; a statement that fails gives
 * {"statement_id":N,"error":"..."} with InfluxDB's wording, and the next
 * statements still run (as InfluxDB does). Times are RFC 3339 with the
 * fraction trimmed, or integers in the epoch unit when has_epoch; floats
 * print as Go's encoding/json prints a float64.
 *
 * Pure and bounded: no I/O but the source's, no globals, no threads; the
 * limits in the options turn runaway queries into errors, and regexes run
 * under PCRE2 match limits.
 */
#ifndef SB_TSDB_EXEC_H
#define SB_TSDB_EXEC_H

#include "base/str.h"
#include "tsdb/influxql.h"
#include "tsdb/line.h"
#include "tsdb/source.h"

/* What CREATE DATABASE / DROP DATABASE do: the executor only reads, so the
 * caller (the HTTP layer, which owns the engine) acts. Returns true on
 * success; on failure writes InfluxDB's message to err. */
typedef bool (*tsdb_exec_ddl_fn)(void *arg, iql_stmt_kind kind, sb_str db, sb_errbuf *err);

typedef struct tsdb_exec_opts {
    sb_str db;            /* the request's db= (ptr NULL: none) */
    int64_t now_ns;       /* now() for the whole query */
    tsdb_precision epoch; /* unit of integer times when has_epoch */
    bool has_epoch;
    size_t max_series;    /* series a SELECT may read; 0: no limit */
    size_t max_points;    /* points a SELECT may read, and rows/buckets it may
                             emit; 0: no limit */
    tsdb_exec_ddl_fn ddl; /* NULL: CREATE/DROP DATABASE answer an error */
    void *ddl_arg;
    /* Nonzero makes the run a quick one, for a caller that must not spend
     * long (with a source that gives up rather than wait,
     * tsdb_engine_nowait): a SELECT that needs more buckets than this
     * gives up too. */
    size_t quick_buckets;
} tsdb_exec_opts;

/* Runs every statement of q over src and appends the whole JSON document
 * to json_out. Errors are per statement, with one exception: when the
 * source answers -TSDB_E_BUSY or a SELECT needs more than quick_buckets,
 * the run stops there and returns TSDB_E_BUSY, json_out holding part of a
 * document that the caller discards (to run q again without the bounds).
 * A quick run never runs CREATE or DROP DATABASE: it gives up before the
 * first statement when q has one, so that nothing is done twice.
 * Otherwise TSDB_E_OK. */
tsdb_err tsdb_exec_query(tsdb_source *src, const iql_query *q, const tsdb_exec_opts *o,
                         sb_buf *json_out);

/* Parses text and runs it; a parse error gives InfluxDB's top-level
 * {"error":"error parsing query: ..."}. */
void tsdb_exec_text(tsdb_source *src, sb_str text, const tsdb_exec_opts *o, sb_buf *json_out);

#endif
