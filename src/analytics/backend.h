/*
 * backend.h: an InfluxDB-compatible endpoint, the seam between Sitebase's
 * analytics routes and where the series live. Two drivers:
 *
 *   local   the embedded tsdb/ engine in the data folder (the default);
 *   influx  a real InfluxDB 1.x over HTTP (--tsdb influx://host:port[/prefix]).
 *
 * Every call answers in InfluxDB 1.x's own terms, an HTTP status and the
 * JSON body InfluxDB would send, so that /write and /query can pass them
 * through unchanged to clients that parse them (the influx CLI, Telegraf,
 * Grafana), and the /api routes can map them to problem+json.
 *
 * A database is a project: its name is the project's id. Drivers never
 * decide who may do what; the routes ask authz first.
 *
 * Threads: calls may block (network, disk) and must therefore never run on
 * a loop thread; the routes run them on the worker pool, the recorder on
 * its own thread. A backend is safe to call from several threads at once.
 * It is owned by whoever opened it (serve), and outlives every caller.
 */
#ifndef SB_ANALYTICS_BACKEND_H
#define SB_ANALYTICS_BACKEND_H

#include "base/common.h"
#include "base/str.h"

/* An answer: status as InfluxDB would give it (204 for a good write, 200
 * for a query, 400/404/413/500 with {"error":"..."}), and 503 with
 * {"error":"..."} when the store behind the backend cannot be reached. */
typedef struct analytics_result {
    int status;
    sb_buf body;      /* JSON; empty for 204. The caller frees it. */
    char version[32]; /* X-Influxdb-Version the store reported, or "" */
} analytics_result;

void analytics_result_free(analytics_result *r);
/* Sets status and body {"error": msg} (msg JSON-escaped). */
void analytics_result_error(analytics_result *r, int status, const char *fmt, ...) SB_PRINTF(3, 4);

/* A byte range of a query's text. */
typedef struct analytics_span {
    size_t off, len;
} analytics_span;

struct iql_query;

/* What a query is asked with (InfluxDB's /query parameters). */
typedef struct analytics_query {
    sb_str db;     /* ptr NULL: none */
    sb_str q;      /* the InfluxQL text */
    sb_str epoch;  /* ptr NULL: RFC 3339 times; else n, ns, u, us, ms, s, m, h */
    sb_str params; /* ptr NULL: none; else bound parameters as a JSON object */
    /* Where q names databases (FROM "db"."rp"."m", SHOW ... ON "db"), in
     * ascending order, each the name itself (inside its quotes): for
     * drivers that store a project's database under another name. */
    const analytics_span *db_spans;
    size_t ndb_spans;
    /* NULL, or q as iql_parse parsed it (tsdb/influxql.h, views into q):
     * a driver that runs InfluxQL itself takes it instead of parsing q
     * again. */
    const struct iql_query *parsed;
} analytics_query;

typedef struct analytics_backend analytics_backend;

typedef struct analytics_backend_vt {
    const char *name; /* "local", "influx" */
    /* Writes a line-protocol body (already gunzipped) into db. precision
     * ptr NULL means nanoseconds. 204 when every line was written; 400
     * with InfluxDB's "unable to parse '...': ..." messages (newline
     * separated) when some lines were bad (the good ones are written);
     * 400 "partial write: ... dropped=N" when points were refused; 404
     * {"error":"database not found: \"db\""}. */
    void (*write)(analytics_backend *b, sb_str db, sb_str body, sb_str precision,
                  analytics_result *out);
    /* Runs a query; 200 with {"results":[...]} as InfluxDB's /query
     * answers (per-statement errors inside), 400 for a query that does not
     * parse. */
    void (*query)(analytics_backend *b, const analytics_query *q, analytics_result *out);
    /* Optional (NULL: not offered). The same answer as query, for a thread
     * that must not block (an event loop), given when the driver can give
     * it at once and cheaply: no lock to wait for, nothing to read from
     * disk, a small query (bounded work). Returns false with out untouched
     * otherwise; the caller then calls query on a thread that may block.
     * q->parsed is required. */
    bool (*query_quick)(analytics_backend *b, const analytics_query *q, analytics_result *out);
    /* Creates db if missing (idempotent): 200, or an error. */
    void (*create_db)(analytics_backend *b, sb_str db, analytics_result *out);
    /* Drops db and its series (idempotent): 200, or an error. */
    void (*drop_db)(analytics_backend *b, sb_str db, analytics_result *out);
    /* 204 when the store answers, 503 when not. */
    void (*ping)(analytics_backend *b, analytics_result *out);
    void (*free)(analytics_backend *b);
} analytics_backend_vt;

struct analytics_backend {
    const analytics_backend_vt *vt;
};

/* Opens the backend a --tsdb setting names: "local" (or "") for the
 * embedded engine under data_dir, "influx://host:port[/prefix]" (prefix:
 * database names there are prefix + project id). Returns NULL with err on
 * a malformed setting. Nothing is contacted yet: a store that is down
 * shows as 503 answers, not as a failed start. */
analytics_backend *analytics_backend_open(const char *setting, const char *data_dir,
                                          sb_errbuf *err);
void analytics_backend_free(analytics_backend *b);

/* The drivers' constructors (influx.c, local.c). */
analytics_backend *analytics_influx_open(sb_str host_port, sb_str prefix, sb_errbuf *err);
analytics_backend *analytics_local_open(const char *data_dir, sb_errbuf *err);

/* Whether s may name a database here: a project id (a UUID string). The
 * routes check it before anything reaches a driver. */
bool analytics_db_name_ok(sb_str s);

#endif
