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

#include "base/clock.h"
#include "base/log.h"
#include "collab/persist.h"

void collab__writer_init(collab_hub *h)
{
    pthread_mutex_init(&h->wlock, NULL);
}

void collab__writer_deinit(collab_hub *h)
{
    pthread_mutex_destroy(&h->wlock);
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

static void writer_work(void *arg)
{
    collab_hub *h = arg;
    store *db = h->worker_store();
    collab_wjob **g = NULL;
    size_t cap = 0;
    /* Compactions' states waiting for their turn: one per round. */
    collab_wjob *folds = NULL, **ftail = &folds;
    for (;;) {
        pthread_mutex_lock(&h->wlock);
        collab_wjob *list = h->wq;
        h->wq = h->wq_tail = NULL;
        if (!list && !folds)
            h->writer_running = false; /* under the lock: a submit now starts another */
        pthread_mutex_unlock(&h->wlock);
        if (!list && !folds)
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

void collab__writer_kick(collab_hub *h, net_loop *loop)
{
    pthread_mutex_lock(&h->wlock);
    start_locked(h, loop);
    pthread_mutex_unlock(&h->wlock);
}
