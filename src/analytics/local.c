/*
 * local.c: the `local` driver: the embedded tsdb/ engine under
 * <data>/tsdb, answering as InfluxDB 1.x's /write and /query do.
 *
 * Writes: lines.c reads the body and words the answer as InfluxDB does;
 * the good points go to the engine in one durable write (one log append
 * and fdatasync for the whole body). A database that does not exist yet
 * is created: a project needs no set-up before its first point, as with
 * the influx driver.
 *
 * Queries: parsed here unless the caller parsed them (a parse error is
 * 400 with InfluxDB's "error parsing query: ..."), run by the executor
 * over the engine's source; CREATE and DROP DATABASE go to the engine.
 * query_quick runs a small query over the engine's non-blocking view
 * (tsdb_engine_nowait) within a budget, and gives up when it meets a lock
 * held, a block not in memory or a bigger query.
 *
 * Housekeeping: the engine has no threads, so this driver keeps one that
 * calls tsdb_engine_maintain every second (flushes, compaction, log
 * truncation, retention, rollups) and stops it on free.
 *
 * One process owns <data>/tsdb. A second node started on the same data
 * folder still starts, and answers 503 saying why: several nodes keep
 * their series in InfluxDB (--tsdb influx://...), which does the
 * clustering.
 */
#include "analytics/backend.h"

#include <errno.h>
#include <pthread.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <time.h>

#include "base/arena.h"
#include "base/log.h"
#include "tsdb/engine.h"
#include "tsdb/exec.h"
#include "tsdb/influxql.h"
#include "tsdb/line.h"
#include "analytics/lines.h"

#define MAINTAIN_EVERY_NS 1000000000LL
#define EXEC_MAX_SERIES   1000000 /* per SELECT: runaway queries are errors */
#define EXEC_MAX_POINTS   ((size_t)200 << 20)
/* A quick query (on the loop thread, query_quick) reads at most this many
 * points, rollup rows and series, about a millisecond of work, and fills
 * at most this many buckets; anything bigger runs on the worker pool. */
#define QUICK_ITEMS   32768
#define QUICK_BUCKETS 8192

typedef struct local {
    analytics_backend base;
    tsdb_engine *engine; /* NULL: held by another process (why says so) */
    char why[1024];
    pthread_t keeper;
    pthread_mutex_t lock; /* guards stop */
    pthread_cond_t wake;
    bool stop;
} local;

static int64_t wall_ns(void)
{
    struct timespec ts;
    clock_gettime(CLOCK_REALTIME, &ts);
    return (int64_t)ts.tv_sec * 1000000000LL + ts.tv_nsec;
}

static void *keeper_main(void *arg)
{
    local *l = arg;
    pthread_mutex_lock(&l->lock);
    while (!l->stop) {
        struct timespec until;
        clock_gettime(CLOCK_REALTIME, &until);
        until.tv_sec += MAINTAIN_EVERY_NS / 1000000000LL;
        pthread_cond_timedwait(&l->wake, &l->lock, &until);
        if (l->stop)
            break;
        pthread_mutex_unlock(&l->lock);
        sb_errbuf err;
        if (tsdb_engine_maintain(l->engine, wall_ns(), &err) != TSDB_E_OK)
            sb_log(SB_LOG_ERROR, "tsdb maintenance failed", SB_LOG_STR("error", err.msg));
        pthread_mutex_lock(&l->lock);
    }
    pthread_mutex_unlock(&l->lock);
    return NULL;
}

static void engine_error(analytics_result *out, tsdb_err e, const sb_errbuf *err)
{
    int status = e == TSDB_E_NODB ? 404 : 500;
    analytics_result_error(out, status, "%s", err->msg[0] ? err->msg : tsdb_err_str(e));
}

/* A driver without its engine answers 503 with the reason. */
static bool unavailable(local *l, analytics_result *out)
{
    if (l->engine)
        return false;
    analytics_result_error(out, 503, "%s", l->why);
    return true;
}

/* ---- write ---- */

typedef struct write_ctx {
    local *l;
    sb_str db;
} write_ctx;

static int store_points(void *arg, const tsdb_point *pts, size_t n, size_t *refused, sb_errbuf *why)
{
    write_ctx *w = arg;
    tsdb_write_report rep = {0};
    tsdb_err e = tsdb_engine_write(w->l->engine, w->db, pts, n, &rep, why);
    if (e == TSDB_E_NODB) { /* a project's first point creates its database */
        e = tsdb_engine_create_db(w->l->engine, w->db, why);
        if (e == TSDB_E_OK)
            e = tsdb_engine_write(w->l->engine, w->db, pts, n, &rep, why);
    }
    if (e != TSDB_E_OK) {
        if (!why->msg[0])
            sb_errf(why, "%s", tsdb_err_str(e));
        return 500;
    }
    *refused = rep.dropped_conflict + rep.dropped_retention;
    if (*refused)
        sb_errf(why, "%s", rep.first_error);
    return 0;
}

static void local_write(analytics_backend *b, sb_str db, sb_str body, sb_str precision,
                        analytics_result *out)
{
    write_ctx w = {(local *)b, db};
    if (unavailable(w.l, out))
        return;
    analytics_write_lines(body, precision, wall_ns(), store_points, &w, out);
}

/* ---- query ---- */

static bool ddl(void *arg, iql_stmt_kind kind, sb_str db, sb_errbuf *err)
{
    local *l = arg;
    tsdb_err e = kind == IQL_CREATE_DATABASE ? tsdb_engine_create_db(l->engine, db, err)
                                             : tsdb_engine_drop_db(l->engine, db, err);
    /* DROP DATABASE of one that is not there succeeds in InfluxDB 1.x */
    return e == TSDB_E_OK || (kind == IQL_DROP_DATABASE && e == TSDB_E_NODB);
}

/* The executor's options for q; false, with out a 400, on a bad epoch. */
static bool exec_opts(local *l, const analytics_query *q, tsdb_exec_opts *o, analytics_result *out)
{
    *o = (tsdb_exec_opts){
        .db = q->db,
        .now_ns = wall_ns(),
        .max_series = EXEC_MAX_SERIES,
        .max_points = EXEC_MAX_POINTS,
        .ddl = ddl,
        .ddl_arg = l,
    };
    if (q->epoch.ptr) {
        if (!tsdb_precision_parse(q->epoch, &o->epoch)) {
            analytics_result_error(out, 400, "invalid epoch: %.*s", (int)q->epoch.len,
                                   q->epoch.ptr);
            return false;
        }
        o->has_epoch = true;
    }
    return true;
}

static void local_query(analytics_backend *b, const analytics_query *q, analytics_result *out)
{
    local *l = (local *)b;
    tsdb_exec_opts o;
    if (unavailable(l, out) || !exec_opts(l, q, &o, out))
        return;
    sb_arena arena;
    sb_arena_init(&arena, 16 << 10);
    iql_query parsed;
    iql_error perr;
    if (q->parsed) {
        parsed = *q->parsed;
    } else if (!iql_parse(q->q, &arena, &parsed, &perr)) {
        analytics_result_error(out, 400, "error parsing query: %s", perr.message);
        sb_arena_deinit(&arena);
        return;
    }
    sb_buf_reset(&out->body);
    tsdb_exec_query(tsdb_engine_source(l->engine), &parsed, &o, &out->body);
    out->status = 200;
    sb_arena_deinit(&arena);
}

static bool local_query_quick(analytics_backend *b, const analytics_query *q, analytics_result *out)
{
    local *l = (local *)b;
    tsdb_exec_opts o;
    if (!l->engine || !exec_opts(l, q, &o, out))
        return l->engine != NULL; /* a bad epoch is answered */
    o.quick_buckets = QUICK_BUCKETS;
    tsdb_nowait view;
    sb_buf body = SB_BUF_INIT;
    sb_buf_reserve(&body, 4096); /* a small answer in one allocation */
    if (tsdb_exec_query(tsdb_engine_nowait(&view, l->engine, QUICK_ITEMS), q->parsed, &o, &body) !=
        TSDB_E_OK) {
        sb_buf_free(&body);
        return false;
    }
    sb_buf_free(&out->body);
    out->body = body;
    out->status = 200;
    return true;
}

/* ---- databases, ping ---- */

static void local_create_db(analytics_backend *b, sb_str db, analytics_result *out)
{
    if (unavailable((local *)b, out))
        return;
    sb_errbuf err = {0};
    tsdb_err e = tsdb_engine_create_db(((local *)b)->engine, db, &err);
    if (e != TSDB_E_OK)
        engine_error(out, e, &err);
    else
        out->status = 200;
}

static void local_drop_db(analytics_backend *b, sb_str db, analytics_result *out)
{
    if (unavailable((local *)b, out))
        return;
    sb_errbuf err = {0};
    tsdb_err e = tsdb_engine_drop_db(((local *)b)->engine, db, &err);
    if (e != TSDB_E_OK && e != TSDB_E_NODB)
        engine_error(out, e, &err);
    else
        out->status = 200;
}

static void local_ping(analytics_backend *b, analytics_result *out)
{
    if (!unavailable((local *)b, out))
        out->status = 204;
}

static void local_free(analytics_backend *b)
{
    local *l = (local *)b;
    if (!l->engine) {
        free(l);
        return;
    }
    pthread_mutex_lock(&l->lock);
    l->stop = true;
    pthread_cond_signal(&l->wake);
    pthread_mutex_unlock(&l->lock);
    pthread_join(l->keeper, NULL);
    tsdb_engine_close(l->engine);
    pthread_cond_destroy(&l->wake);
    pthread_mutex_destroy(&l->lock);
    free(l);
}

static const analytics_backend_vt local_vt = {
    .name = "local",
    .write = local_write,
    .query = local_query,
    .query_quick = local_query_quick,
    .create_db = local_create_db,
    .drop_db = local_drop_db,
    .ping = local_ping,
    .free = local_free,
};

analytics_backend *analytics_local_open(const char *data_dir, sb_errbuf *err)
{
    char dir[4096];
    if (snprintf(dir, sizeof(dir), "%s/tsdb", data_dir) >= (int)sizeof(dir)) {
        sb_errf(err, "tsdb: data folder path too long");
        return NULL;
    }
    if (mkdir(dir, 0700) != 0 && errno != EEXIST) {
        sb_errf(err, "tsdb: cannot create %s: %s", dir, strerror(errno));
        return NULL;
    }
    local *l = sb_calloc(1, sizeof(*l));
    l->base.vt = &local_vt;
    tsdb_err e = tsdb_engine_open(dir, NULL, &l->engine, err);
    if (e == TSDB_E_IO && strstr(err->msg, "in use")) {
        snprintf(l->why, sizeof(l->why),
                 "%.900s: several nodes keep analytics in InfluxDB "
                 "(--tsdb influx://host:port)",
                 err->msg);
        sb_log(SB_LOG_WARN, "analytics unavailable on this node", SB_LOG_STR("why", l->why));
        l->engine = NULL;
        return &l->base;
    }
    if (e != TSDB_E_OK) {
        free(l);
        return NULL;
    }
    pthread_mutex_init(&l->lock, NULL);
    pthread_cond_init(&l->wake, NULL);
    if (pthread_create(&l->keeper, NULL, keeper_main, l) != 0) {
        sb_errf(err, "tsdb: cannot start the maintenance thread");
        tsdb_engine_close(l->engine);
        pthread_cond_destroy(&l->wake);
        pthread_mutex_destroy(&l->lock);
        free(l);
        return NULL;
    }
    return &l->base;
}
