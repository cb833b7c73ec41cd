/*
 * recorder.c: batches of lines per database, flushed by one thread (see
 * recorder.h). The lock guards the batches and the counters that the
 * flusher and recording threads share; it is never held across a backend
 * call: the flusher swaps the batches out, unlocks, then writes.
 */
#include "analytics/recorder.h"

#include <errno.h>
#include <pthread.h>
#include <stdatomic.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>

#include "base/clock.h"
#include "base/log.h"

#define MAX_DBS 256 /* databases with points pending at once */

typedef struct batch {
    char db[64];
    sb_buf lines;
    size_t npoints;
} batch;

struct analytics_recorder {
    analytics_backend *backend;
    analytics_recorder_opts opts;
    pthread_t thread;
    pthread_mutex_t lock; /* guards batches, nbatches, pending_bytes, pending_points, stop */
    pthread_cond_t wake;
    batch batches[MAX_DBS];
    size_t nbatches;
    size_t pending_bytes;
    uint64_t pending_points;
    bool stop;
    _Atomic uint64_t recorded, written, dropped_queue, dropped_store;
};

static void count(_Atomic uint64_t *c, uint64_t n)
{
    atomic_fetch_add_explicit(c, n, memory_order_relaxed);
}

/* Sends one batch, retrying once on a server-side failure. */
static void send_batch(analytics_recorder *r, batch *b)
{
    sb_str db = sb_str_c(b->db);
    for (int attempt = 0; attempt < 2; attempt++) {
        analytics_result res = {0};
        r->backend->vt->write(r->backend, db, sb_buf_str(&b->lines), SB_STR("ns"), &res);
        int status = res.status;
        if (status == 204 || (status >= 400 && status < 500) || attempt == 1) {
            if (status == 204) {
                count(&r->written, b->npoints);
            } else {
                /* A 400 partial write keeps its good lines, but which ones
                 * is not said in a way worth parsing: count the batch. */
                count(&r->dropped_store, b->npoints);
                sb_log(SB_LOG_WARN, "analytics points dropped", SB_LOG_STR("db", b->db),
                       SB_LOG_INT("points", (int64_t)b->npoints), SB_LOG_INT("status", status),
                       SB_LOG_STRN("error", res.body.ptr ? res.body.ptr : "", res.body.len));
            }
            analytics_result_free(&res);
            return;
        }
        analytics_result_free(&res);
    }
}

static void *flusher(void *arg)
{
    analytics_recorder *r = arg;
    batch *out = sb_calloc(MAX_DBS, sizeof(batch));
    pthread_mutex_lock(&r->lock);
    for (;;) {
        if (!r->stop && r->pending_points < r->opts.batch_lines) {
            struct timespec ts;
            clock_gettime(CLOCK_REALTIME, &ts);
            int64_t ns = ts.tv_nsec + (r->opts.flush_interval_ms % 1000) * 1000000;
            ts.tv_sec += r->opts.flush_interval_ms / 1000 + ns / 1000000000;
            ts.tv_nsec = ns % 1000000000;
            pthread_cond_timedwait(&r->wake, &r->lock, &ts);
        }
        size_t n = r->nbatches;
        memcpy(out, r->batches, n * sizeof(batch));
        memset(r->batches, 0, n * sizeof(batch));
        r->nbatches = 0;
        r->pending_bytes = 0;
        r->pending_points = 0;
        bool stop = r->stop;
        pthread_mutex_unlock(&r->lock);
        for (size_t i = 0; i < n; i++) {
            send_batch(r, &out[i]);
            sb_buf_free(&out[i].lines);
        }
        pthread_mutex_lock(&r->lock);
        if (stop && r->nbatches == 0)
            break;
    }
    pthread_mutex_unlock(&r->lock);
    free(out);
    return NULL;
}

analytics_recorder *analytics_recorder_new(analytics_backend *b,
                                           const analytics_recorder_opts *opts)
{
    analytics_recorder *r = sb_calloc(1, sizeof(*r));
    r->backend = b;
    r->opts = opts ? *opts : (analytics_recorder_opts){0};
    if (r->opts.flush_interval_ms <= 0)
        r->opts.flush_interval_ms = 1000;
    if (r->opts.max_pending == 0)
        r->opts.max_pending = 8u << 20;
    if (r->opts.batch_lines == 0)
        r->opts.batch_lines = 5000;
    pthread_mutex_init(&r->lock, NULL);
    pthread_cond_init(&r->wake, NULL);
    if (pthread_create(&r->thread, NULL, flusher, r) != 0)
        sb_die("cannot start the analytics recorder thread");
    return r;
}

void analytics_recorder_free(analytics_recorder *r)
{
    if (!r)
        return;
    pthread_mutex_lock(&r->lock);
    r->stop = true;
    pthread_cond_signal(&r->wake);
    pthread_mutex_unlock(&r->lock);
    pthread_join(r->thread, NULL);
    pthread_cond_destroy(&r->wake);
    pthread_mutex_destroy(&r->lock);
    free(r);
}

/* Appends lines (npoints whole lines) to db's batch, or counts them as
 * dropped. */
static bool append(analytics_recorder *r, sb_str db, sb_str lines, size_t npoints)
{
    bool ok = false, wake = false;
    pthread_mutex_lock(&r->lock);
    if (r->pending_bytes + lines.len <= r->opts.max_pending && !r->stop) {
        batch *b = NULL;
        for (size_t i = 0; i < r->nbatches && !b; i++)
            if (strlen(r->batches[i].db) == db.len && memcmp(r->batches[i].db, db.ptr, db.len) == 0)
                b = &r->batches[i];
        if (!b && r->nbatches < MAX_DBS) {
            b = &r->batches[r->nbatches++];
            memcpy(b->db, db.ptr, db.len);
            b->db[db.len] = '\0';
        }
        if (b) {
            sb_buf_append(&b->lines, lines.ptr, lines.len);
            b->npoints += npoints;
            r->pending_bytes += lines.len;
            r->pending_points += npoints;
            wake = r->pending_points >= r->opts.batch_lines;
            ok = true;
        }
    }
    if (wake)
        pthread_cond_signal(&r->wake);
    pthread_mutex_unlock(&r->lock);
    count(ok ? &r->recorded : &r->dropped_queue, npoints);
    return ok;
}

static bool db_ok(analytics_recorder *r, sb_str db, size_t npoints)
{
    if (db.len == 0 || db.len >= sizeof(((batch *)0)->db)) {
        count(&r->dropped_queue, npoints);
        return false;
    }
    return true;
}

bool analytics_record(analytics_recorder *r, sb_str db, const tsdb_point *p)
{
    if (!r || !db_ok(r, db, 1))
        return false;
    tsdb_point q = *p;
    if (!q.has_time) {
        q.time = (int64_t)sb_wall_us() * 1000;
        q.has_time = true;
    }
    sb_buf line = SB_BUF_INIT;
    if (tsdb_line_write(&line, &q) != TSDB_E_OK) {
        count(&r->dropped_queue, 1);
        sb_buf_free(&line);
        return false;
    }
    bool ok = append(r, db, sb_buf_str(&line), 1);
    sb_buf_free(&line);
    return ok;
}

bool analytics_record_lines(analytics_recorder *r, sb_str db, sb_str lines, size_t npoints)
{
    if (!r || !db_ok(r, db, npoints))
        return false;
    return append(r, db, lines, npoints);
}

void analytics_recorder_stats_get(analytics_recorder *r, analytics_recorder_stats *out)
{
    memset(out, 0, sizeof(*out));
    if (!r)
        return;
    out->recorded = atomic_load_explicit(&r->recorded, memory_order_relaxed);
    out->written = atomic_load_explicit(&r->written, memory_order_relaxed);
    out->dropped_queue = atomic_load_explicit(&r->dropped_queue, memory_order_relaxed);
    out->dropped_store = atomic_load_explicit(&r->dropped_store, memory_order_relaxed);
    pthread_mutex_lock(&r->lock);
    out->pending = r->pending_points;
    pthread_mutex_unlock(&r->lock);
}
