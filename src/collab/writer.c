/*
 * writer.c: the hub's one writer of collaborative updates.
 *
 * Every accepted update is durable before it is broadcast, so the cost of
 * a commit sits on every edit's path. With a job per room, twenty busy
 * rooms meant twenty transactions racing for SQLite's single write lock
 * (this process's writer gate): each paid its own BEGIN, COMMIT and WAL
 * append, and a room whose job kept losing the race waited while others
 * committed several times: a long tail of edit latency.
 *
 * Instead rooms hand their batches here and one pool job takes all that
 * are waiting, appends them in one transaction, hands each back to its
 * room's loop, and goes round again while more arrived meanwhile. A room
 * still has at most one batch out (its job_running), so a group's
 * transaction holds each document at most once. Compactions, which read
 * and encode a whole document, are the rooms' own pool jobs
 * (room_store.c), so no batch waits behind one; only the state they made
 * is stored here, one per round after the batches, so for collaboration
 * SQLite's write lock is only ever held by this thread, at normal
 * priority.
 *
 * If the group's transaction fails (on PostgreSQL another node may have
 * taken a seq of one document), each batch is appended on its own, so one
 * document's conflict costs the others only a retry.
 */
#include "collab/collab_int.h"

#include <stdlib.h>
#include <string.h>
#include <time.h>

#include "base/clock.h"
#include "base/log.h"
#include "collab/persist.h"
#include "net/server.h"

void collab__writer_init(collab_hub *h)
{
    pthread_mutex_init(&h->wlock, NULL);
    pthread_condattr_t ca;
    pthread_condattr_init(&ca);
    pthread_condattr_setclock(&ca, CLOCK_MONOTONIC);
    pthread_cond_init(&h->wcond, &ca);
    pthread_condattr_destroy(&ca);
    atomic_init(&h->next_gen, 1);
    atomic_init(&h->closing, false);
}

void collab__writer_deinit(collab_hub *h)
{
    for (size_t i = 0; i < h->njournals; i++) {
        if (!h->journals[i])
            continue;
        collab_journal_free(h->journals[i]->jl);
        free(h->journals[i]->dirty);
        free(h->journals[i]);
    }
    free(h->journals);
    free(h->journal_dir);
    pthread_cond_destroy(&h->wcond);
    pthread_mutex_destroy(&h->wlock);
}

collab_jloop *collab__jloop_of(collab_hub *h, net_loop *loop)
{
    size_t i = net_loop_index(loop);
    pthread_mutex_lock(&h->wlock);
    if (i >= h->njournals) {
        h->journals = sb_realloc(h->journals, (i + 1) * sizeof(*h->journals));
        memset(h->journals + h->njournals, 0, (i + 1 - h->njournals) * sizeof(*h->journals));
        h->njournals = i + 1;
    }
    collab_jloop *q = h->journals[i];
    if (!q) {
        q = h->journals[i] = sb_calloc(1, sizeof(*q));
        q->hub = h;
        q->loop = loop;
        q->jl = collab_journal_new(h->journal_dir, (int64_t)i, &h->next_gen);
    }
    pthread_mutex_unlock(&h->wlock);
    return q;
}

/* wlock held: waits on wcond until ms from now, or a signal. */
static void wait_locked(collab_hub *h, int64_t ms)
{
    struct timespec ts;
    clock_gettime(CLOCK_MONOTONIC, &ts);
    ts.tv_sec += ms / 1000;
    ts.tv_nsec += (ms % 1000) * 1000000;
    if (ts.tv_nsec >= 1000000000) {
        ts.tv_sec++;
        ts.tv_nsec -= 1000000000;
    }
    pthread_cond_timedwait(&h->wcond, &h->wlock, &ts);
}

void collab__record_free(collab_wjob *j)
{
    for (size_t i = 0; i < j->n; i++)
        sb_buf_free(&j->batch[i].bytes);
    free(j->batch);
    free(j->project_id);
    free(j->doc);
    free(j);
}

/* Folds the n records of g (in submission order) with one transaction,
 * which moves each journal's mark to its last record there. */
static bool fold_records(store *db, collab_wjob **g, size_t n, sb_errbuf *err)
{
    size_t nparts = 0;
    for (size_t i = 0; i < n; i++)
        nparts += g[i]->n;
    sb_str *parts = sb_calloc(nparts ? nparts : 1, sizeof(*parts));
    collab_append *a = sb_calloc(n, sizeof(*a));
    collab_jpos *marks = sb_calloc(n, sizeof(*marks));
    collab_journal **mj = sb_calloc(n, sizeof(*mj)); /* marks[m]'s journal */
    size_t nmarks = 0;
    sb_str *p = parts;
    for (size_t i = 0; i < n; i++) {
        collab_wjob *j = g[i];
        a[i] = (collab_append){.project_id = j->project_id,
                               .doc = j->doc,
                               .updates = p,
                               .n = j->n,
                               .first_seq = j->first_seq};
        for (size_t k = 0; k < j->n; k++)
            *p++ = sb_buf_str(&j->batch[k].bytes);
        size_t m = 0;
        while (m < nmarks && marks[m].loop != j->jl->loop)
            m++;
        marks[m] = (collab_jpos){.loop = j->jl->loop, .gen = j->gen, .folded = j->end};
        mj[m] = j->jl;
        nmarks += m == nmarks;
    }
    bool ok = db ? collab_journal_fold(db, a, n, marks, nmarks, err)
                 : sb_errf(err, "the worker has no store connection");
    if (ok) {
        for (size_t i = 0; i < n; i++) {
            atomic_fetch_sub(&g[i]->jl->unfolded_bytes, (int_fast64_t)g[i]->bytes);
            atomic_store(&g[i]->jl->folded, g[i]->rec_no);
        }
        for (size_t m = 0; m < nmarks; m++)
            collab_journal_retire(mj[m], marks[m].gen);
    }
    free(mj);
    free(marks);
    free(a);
    free(parts);
    return ok;
}

/* By document key: two nodes' groups then take row locks in one order
 * (PostgreSQL), so they wait for each other instead of deadlocking. */
static int by_key(const void *a, const void *b)
{
    const collab_wjob *x = *(collab_wjob *const *)a, *y = *(collab_wjob *const *)b;
    return strcmp(x->r->key, y->r->key);
}

/* Appends the n batches of g: in one transaction when there are several,
 * else (or when that failed) each in its own. */
static void append_group(store *db, collab_wjob **g, size_t n)
{
    int64_t now = sb_wall_us();
    qsort(g, n, sizeof(*g), by_key);
    size_t nparts = 0;
    for (size_t i = 0; i < n; i++)
        nparts += g[i]->n;
    sb_str *parts = sb_calloc(nparts, sizeof(*parts));
    collab_append *a = sb_calloc(n, sizeof(*a));
    sb_str *p = parts;
    for (size_t i = 0; i < n; i++) {
        collab_wjob *j = g[i];
        a[i] = (collab_append){
            .project_id = j->r->project_id, .doc = j->r->doc_name, .updates = p, .n = j->n};
        for (size_t k = 0; k < j->n; k++)
            *p++ = sb_buf_str(&j->batch[k].bytes);
    }
    sb_errbuf err;
    bool together = n > 1 && collab_persist_append_group(db, a, n, now, &err);
    if (n > 1 && !together)
        sb_log(SB_LOG_DEBUG, "collab: a group append failed, appending one by one",
               SB_LOG_INT("documents", (int64_t)n), SB_LOG_STR("error", err.msg));
    for (size_t i = 0; i < n; i++) {
        if (together) {
            g[i]->ok = true;
            g[i]->first_seq = a[i].first_seq;
        } else {
            g[i]->ok = collab_persist_append_next(db, a[i].project_id, a[i].doc, a[i].updates,
                                                  a[i].n, now, &g[i]->first_seq, &g[i]->err);
        }
    }
    free(a);
    free(parts);
}

/* Hands j back to its room. The room's loop was held since the submit: the
 * post is on its way before the hold goes. */
static void answer(collab_wjob *j)
{
    net_loop *loop = j->r->loop;
    net_loop_post(loop, j->fold ? collab__room_fold_done : collab__room_write_done, j);
    net_loop_release(loop);
}

/* The journal's records of one round, and those a failing store left. */
typedef struct records {
    collab_wjob **v;
    size_t n, cap;
} records;

static void records_push(records *rs, collab_wjob *j)
{
    if (rs->n == rs->cap) {
        rs->cap = rs->cap ? rs->cap * 2 : 16;
        rs->v = sb_realloc(rs->v, rs->cap * sizeof(*rs->v));
    }
    rs->v[rs->n++] = j;
}

/* Folds rs; on failure keeps them for the next round (after a pause),
 * unless the loops are stopping: the records then stay in the journal
 * files, which the next start folds. */
static void fold_round(collab_hub *h, store *db, records *rs)
{
    if (rs->n == 0)
        return;
    sb_errbuf err;
    bool ok = fold_records(db, rs->v, rs->n, &err);
    if (!ok) {
        bool closing = atomic_load(&h->closing);
        sb_log(SB_LOG_ERROR,
               closing ? "collab: journal records left for the next start"
                       : "collab: cannot fold the journal (retrying in 1 s; the updates are safe "
                         "in the journal)",
               SB_LOG_INT("records", (int64_t)rs->n), SB_LOG_STR("error", err.msg));
        if (!closing) {
            pthread_mutex_lock(&h->wlock);
            wait_locked(h, 1000);
            pthread_mutex_unlock(&h->wlock);
            return;
        }
    }
    for (size_t i = 0; i < rs->n; i++)
        collab__record_free(rs->v[i]);
    rs->n = 0;
    pthread_mutex_lock(&h->wlock);
    pthread_cond_broadcast(&h->wcond); /* settle's waiters */
    pthread_mutex_unlock(&h->wlock);
}

/* wlock held: with a fold delay, lets records gather until it passed
 * since the last round began, unless someone hurries. */
static void gather_locked(collab_hub *h, uint64_t round_ns)
{
    while (h->fold_delay_ms > 0 && !h->fold_hurry && !atomic_load(&h->closing)) {
        int64_t left = h->fold_delay_ms - (int64_t)((sb_mono_ns() - round_ns) / 1000000);
        if (left <= 0)
            break;
        wait_locked(h, left);
    }
    h->fold_hurry = false;
}

static void writer_work(void *arg)
{
    collab_hub *h = arg;
    store *db = h->worker_store();
    collab_wjob **g = NULL;
    size_t cap = 0;
    records rs = {0};
    /* Compactions' states waiting for their turn: one per round. */
    collab_wjob *folds = NULL, **ftail = &folds;
    uint64_t round_ns = sb_mono_ns();
    for (;;) {
        pthread_mutex_lock(&h->wlock);
        if (h->journal_dir)
            gather_locked(h, round_ns);
        round_ns = sb_mono_ns();
        collab_wjob *list = h->wq;
        h->wq = h->wq_tail = NULL;
        if (!list && !folds && rs.n == 0)
            h->writer_running = false; /* under the lock: a submit now starts another */
        pthread_mutex_unlock(&h->wlock);
        if (!list && !folds && rs.n == 0)
            break;
        /* Batches first, in one transaction; then one compaction's state,
         * in a transaction of its own. A state is a whole document (the
         * slowest stores in the bench's ramp took 7-32 ms), and documents
         * edited at one pace come due together: storing every due state
         * in one round could hold all edits behind several. One per round
         * bounds that wait by one state. */
        size_t n = 0;
        for (collab_wjob *j = list, *next; j; j = next) {
            next = j->next;
            if (j->jl) {
                records_push(&rs, j);
                continue;
            }
            if (j->fold) {
                j->next = NULL;
                *ftail = j;
                ftail = &j->next;
                continue;
            }
            if (n == cap) {
                cap = cap ? cap * 2 : 16;
                g = sb_realloc(g, cap * sizeof(*g));
            }
            g[n++] = j;
        }
        fold_round(h, db, &rs);
        if (!db) {
            for (size_t i = 0; i < n; i++)
                sb_errf(&g[i]->err, "the worker has no store connection");
        } else if (n > 0) {
            append_group(db, g, n);
        }
        for (size_t i = 0; i < n; i++)
            answer(g[i]);
        collab_wjob *j = folds;
        if (j) {
            folds = j->next; /* j is the room's once answered */
            if (!folds)
                ftail = &folds;
            if (db)
                j->ok = collab_persist_fold_write(db, j->r->project_id, j->r->doc_name, j->fold,
                                                  sb_wall_us(), &j->err);
            else
                sb_errf(&j->err, "the worker has no store connection");
            answer(j);
        }
    }
    free(rs.v);
    free(g);
}

/* wlock held: starts the writer unless it runs. */
static void start_locked(collab_hub *h, net_loop *loop)
{
    if (h->writer_running || !h->wq)
        return;
    /* No done: the work answers each room itself, and a completion would
     * wake the loop once more per round for nothing. */
    h->writer_running = net_workers_submit(h->writer, loop, writer_work, NULL, h);
}

void collab__writer_submit(collab_hub *h, collab_wjob *j)
{
    net_loop_hold(j->r->loop); /* until answer() posted to it */
    j->next = NULL;
    pthread_mutex_lock(&h->wlock);
    if (h->wq_tail)
        h->wq_tail->next = j;
    else
        h->wq = j;
    h->wq_tail = j;
    start_locked(h, j->r->loop);
    pthread_mutex_unlock(&h->wlock);
    /* The pool refused (full): the room's tick kicks again. */
}

void collab__writer_submit_records(collab_hub *h, net_loop *loop, collab_wjob **jobs, size_t n)
{
    if (n == 0)
        return;
    for (size_t i = 0; i + 1 < n; i++)
        jobs[i]->next = jobs[i + 1];
    jobs[n - 1]->next = NULL;
    pthread_mutex_lock(&h->wlock);
    if (h->wq_tail)
        h->wq_tail->next = jobs[0];
    else
        h->wq = jobs[0];
    h->wq_tail = jobs[n - 1];
    start_locked(h, loop);
    pthread_mutex_unlock(&h->wlock);
}

bool collab_hub_settle(collab_hub *h, net_loop *from, int64_t timeout_ms)
{
    if (!h->journal_dir)
        return true; /* every batch was stored before anyone saw it */
    uint64_t deadline = sb_mono_ns() + (uint64_t)timeout_ms * 1000000;
    pthread_mutex_lock(&h->wlock);
    /* What was handed over so far: each journal's records up to its count
     * now, which counts every record whose updates anyone was sent. */
    size_t n = h->njournals;
    uint64_t *want = sb_calloc(n ? n : 1, sizeof(*want));
    for (size_t i = 0; i < n; i++)
        want[i] = h->journals[i] ? atomic_load(&h->journals[i]->jl->written) : 0;
    bool done = false;
    for (;;) {
        done = true;
        for (size_t i = 0; i < n; i++)
            if (want[i] > 0 && want[i] > atomic_load(&h->journals[i]->jl->folded))
                done = false;
        uint64_t now = sb_mono_ns();
        if (done || now >= deadline)
            break;
        h->fold_hurry = true;
        if (from)
            start_locked(h, from); /* the pool may have refused it */
        pthread_cond_broadcast(&h->wcond);
        wait_locked(h, SB_MIN((int64_t)((deadline - now) / 1000000) + 1, 100));
    }
    pthread_mutex_unlock(&h->wlock);
    free(want);
    return done;
}

void collab__writer_kick(collab_hub *h, net_loop *loop)
{
    pthread_mutex_lock(&h->wlock);
    start_locked(h, loop);
    pthread_mutex_unlock(&h->wlock);
}
