/*
 * room_store.c: a room's storage pipeline: the load (on the worker pool),
 * then the updates queued so far, made durable as a journal record at the
 * end of the loop's turn (one node) or as a batch the hub's writer
 * commits (writer.c: group commit across rooms; one batch out at a time),
 * and, past compact_after log rows, folded into the state. Only once
 * durable are updates applied and broadcast.
 */
#include "collab/collab_int.h"
#include "base/clock.h"
#include "base/log.h"
#include "collab/persist.h"

/* ---- the storage pipeline ---- */

/* A loop's journal records not folded yet may hold this many rooms'
 * max_pending. */
#define UNFOLDED_ROOMS 8

typedef struct load_job {
    collab_room *r;
    uint64_t bus_sub;
    crdt_doc *doc;
    int64_t last_seq, nlog, rest_ver;
    bool ok;
    sb_errbuf err;
} load_job;

static void load_work(void *arg)
{
    load_job *j = arg;
    store *db = j->r->hub->worker_store();
    if (!db) {
        sb_errf(&j->err, "the worker has no store connection");
        return;
    }
    /* Subscribed (and confirmed) before reading: an update committed after
     * our reads is published after we listen, so nothing falls between. */
    j->bus_sub = collab__bus_subscribe(j->r->hub, j->r->key);
    /* Two nodes may seed a new document at once: seq 1 is taken by one,
     * the other loads again and finds it. */
    for (int attempt = 0; attempt < 3; attempt++) {
        j->ok = collab_persist_load(db, j->r->project_id, j->r->doc_name, &j->doc, &j->last_seq,
                                    &j->nlog, &j->err);
        const collab_binding *b = &j->r->hub->bind;
        if (!j->ok || !b->seed)
            return;
        /* Nothing was ever stored: the document starts as the REST content,
         * logged as seq 1 before anyone sees it, so every client and every
         * later load agree on it. */
        sb_buf seed = SB_BUF_INIT;
        bool empty = j->last_seq == 0;
        j->ok = b->seed(b->ctx, db, j->r->project_id, j->r->doc_name, j->doc, empty, &seed,
                        &j->rest_ver, &j->err);
        bool again = false;
        if (j->ok && seed.len > 0) {
            sb_str part = sb_buf_str(&seed);
            j->ok = collab_persist_append(db, j->r->project_id, j->r->doc_name, 1, &part, 1,
                                          sb_wall_us(), &j->err);
            if (j->ok)
                j->last_seq = j->nlog = 1;
            else
                again = empty; /* perhaps another node's seed: load that */
        }
        sb_buf_free(&seed);
        if (j->ok)
            return;
        crdt_doc_free(j->doc);
        j->doc = NULL;
        if (!again)
            return;
    }
}

static void load_done(void *arg)
{
    load_job *j = arg;
    collab_room *r = j->r;
    r->job_running = false;
    r->bus_sub = j->bus_sub;
    if (!j->ok) {
        sb_log(SB_LOG_ERROR, "collab: cannot load a document", SB_LOG_STR("doc", r->doc_name),
               SB_LOG_STR("error", j->err.msg));
        r->state = ROOM_FAILED;
        if (r->edits)
            sb_log(SB_LOG_ERROR, "collab: REST writes not applied to their document",
                   SB_LOG_STR("doc", r->doc_name));
        for (size_t i = 0; i < r->nmembers; i++)
            collab__conn_close(r->members[i], 1011, "document unavailable");
        free(j);
        net_tick_arm(r->tick);
        return;
    }
    r->doc = j->doc;
    r->rest_ver = j->rest_ver;
    /* The row was read after the REST writes waiting here committed, so its
     * version says nothing of what the stored document holds: another node
     * took the write, or this load is the write's (several nodes: the room
     * open elsewhere). Let the waiting writes apply, in order; one the
     * document already holds diffs to nothing. */
    for (const room_edit *e = r->edits; e; e = e->next)
        if (e->version > 0 && e->version <= r->rest_ver)
            r->rest_ver = e->version - 1;
    r->rest_seen = r->rest_ver;
    r->have_seq = j->last_seq;
    r->nlog = j->nlog;
    r->state = ROOM_READY;
    free(j);
    net_tick_arm(r->tick);
    collab__bus_ready(r); /* before the greeting: what other nodes sent meanwhile */
    for (size_t i = 0; i < r->nmembers; i++)
        collab__room_greet(r, r->members[i]);
    collab__room_drain_inbox(r);
    collab__room_apply_edits(r);
    collab__room_write_start(r);
}

void collab__room_load_start(collab_room *r)
{
    load_job *j = sb_calloc(1, sizeof(*j));
    j->r = r;
    r->job_running = true;
    if (!net_workers_submit(r->hub->fore, r->loop, load_work, load_done, j)) {
        sb_errf(&j->err, "the worker pool is full");
        load_done(j); /* fails the room: members are told to come back */
    }
}

/* ---- compaction: beside the writes ----
 *
 * A compaction rewrites the whole state, so folding every compact_after
 * rows made a document's cost grow with its size: each 200 edits of a
 * large document rewrote all of it, and that write holds the write lock
 * the edits wait for (at 4,000 edits/s over 20 documents, p99 was 7-17 ms
 * with compaction against 2-5 ms without). So the log must also hold
 * COMPACT_LOG_SHARE of the state's bytes: the state is rewritten once per
 * fixed share of growth, a bounded number of times per byte stored. A
 * log past COMPACT_ROWS_MAX times compact_after rows is folded anyway, so
 * a load never applies too many rows. */

#define COMPACT_LOG_SHARE 2  /* log bytes >= state bytes / 2 */
#define COMPACT_ROWS_MAX  20 /* x compact_after: folded whatever the sizes */

/* The read half (load, merge, encode: tens of ms for a large document) is
 * a job on the shared pool, whose threads run at nice 19. The write half
 * goes to the hub's writer: done by a nice-19 thread, it held SQLite's
 * write lock while a busy machine left it waiting for a core, and every
 * room's next commit waited behind it (single writes of a 100 KB state
 * took up to 38 ms at 15,000 edits/s). One collab_wjob, its fold set,
 * goes through both. */
static void compact_work(void *arg)
{
    collab_wjob *j = arg;
    store *db = j->r->hub->worker_store();
    j->ok = db && collab_persist_fold_read(db, j->r->project_id, j->r->doc_name, j->fold, &j->err);
}

/* Ends a compaction, stored or not: the room may start the next. A failed
 * compaction loses nothing: the log stays. */
static void compact_end(collab_wjob *j)
{
    collab_room *r = j->r;
    if (!j->ok && j->err.msg[0])
        sb_log(SB_LOG_WARN, "collab: compaction failed", SB_LOG_STR("doc", r->doc_name),
               SB_LOG_STR("error", j->err.msg));
    r->compact_running = false;
    collab_fold_free(j->fold);
    free(j->fold);
    free(j);
    net_tick_arm(r->tick);
}

/* The read is back: the state goes to the writer, unless there is none to
 * store (a failure, or a document with pending structs: the next batch
 * tries again). */
static void compact_done(void *arg)
{
    collab_wjob *j = arg;
    if (!j->ok || j->fold->state.len == 0) {
        compact_end(j);
        return;
    }
    j->ok = false; /* the writer's answer now */
    collab__writer_submit(j->r->hub, j);
}

/* On the room's loop, once the writer stored the state (or failed to). */
void collab__room_fold_done(void *arg)
{
    collab_wjob *j = arg;
    collab_room *r = j->r;
    /* Folded: the rows counted when it started (and any it read beyond
     * them, still counted here, go at the next one); with a journal, only
     * those already folded into the log were there to read. */
    if (j->ok) {
        int64_t gone = SB_MIN(r->compact_base, j->fold->nlog);
        r->nlog = r->nlog > gone ? r->nlog - gone : 0;
        r->log_bytes =
            r->log_bytes > r->compact_base_bytes ? r->log_bytes - r->compact_base_bytes : 0;
        r->state_bytes = (int64_t)j->fold->state.len;
    }
    compact_end(j);
}

bool collab__compact_due(int64_t nlog, int64_t log_bytes, int64_t state_bytes, int64_t after)
{
    if (after <= 0 || nlog < after)
        return false;
    return log_bytes * COMPACT_LOG_SHARE >= state_bytes || nlog >= after * COMPACT_ROWS_MAX;
}

static void compact_start(collab_room *r)
{
    if (r->compact_running || r->state != ROOM_READY ||
        !collab__compact_due(r->nlog, r->log_bytes, r->state_bytes,
                             (int64_t)r->hub->lim.compact_after))
        return;
    collab_wjob *j = sb_calloc(1, sizeof(*j));
    j->r = r;
    j->fold = sb_calloc(1, sizeof(*j->fold));
    if (!net_workers_submit(r->hub->workers, r->loop, compact_work, compact_done, j)) {
        free(j->fold); /* the pool is full: after the next batch */
        free(j);
        return;
    }
    r->compact_running = true;
    r->compact_base = r->nlog;
    r->compact_base_bytes = r->log_bytes;
}

/* Applies a stored (or journaled) update and sends it to every member
 * but its origin; true when the document took it. */
static bool apply_one(collab_room *r, const pending *p, int64_t seq)
{
    bool applied = false;
    r->log_bytes += (int64_t)p->bytes.len;
    sb_errbuf err = {{0}};
    crdt_err ce = crdt_doc_apply_update(r->doc, p->bytes.ptr, p->bytes.len, &err);
    if (ce != CRDT_OK) {
        /* Stored, but the engine refuses it: loads skip it too. */
        sb_log(SB_LOG_WARN, "collab: update refused", SB_LOG_STR("error", err.msg));
        if (p->origin)
            collab__conn_close(p->origin, 1003, "update contradicts the document");
    } else {
        applied = true;
        if (p->rest_ver > r->rest_ver)
            r->rest_ver = p->rest_ver;
        sb_buf msg = SB_BUF_INIT;
        collab_msg_sync(&msg, COLLAB_SYNC_UPDATE, p->bytes.ptr, p->bytes.len);
        collab__room_broadcast(r, &msg, p->origin);
        sb_buf_free(&msg);
        collab__bus_publish_update(r, seq, sb_buf_str(&p->bytes));
    }
    collab__bus_seq_note(r, seq); /* logged, applied or refused alike */
    return applied;
}

/* Hands out a batch that went (stored) or failed to go to storage: each
 * update applied and sent on, or, not durable, not applied, its sender
 * closed (it resends the update when it reconnects and syncs). The
 * senders' references go; the bytes stay. true when the document took
 * any of them. */
static bool hand_out(collab_room *r, pending *batch, size_t n, int64_t first_seq, bool stored)
{
    bool applied = false;
    for (size_t i = 0; i < n; i++) {
        pending *p = &batch[i];
        if (stored)
            applied |= apply_one(r, p, first_seq + (int64_t)i);
        else if (p->origin)
            collab__conn_close(p->origin, 1011, "storage unavailable");
        if (p->origin)
            collab__conn_unref(p->origin);
        p->origin = NULL;
    }
    return applied;
}

/* After the batch went (or failed to go) to storage. */
static void after_batch(collab_room *r, bool applied)
{
    collab__room_write_start(r);
    compact_start(r);
    if (applied)
        collab__room_materialise(r);
    net_tick_arm(r->tick);
}

void collab__room_write_done(void *arg)
{
    collab_wjob *j = arg;
    collab_room *r = j->r;
    r->job_running = false;
    if (j->ok) {
        r->nlog += (int64_t)j->n;
    } else {
        sb_log(SB_LOG_ERROR, "collab: cannot store updates", SB_LOG_STR("doc", r->doc_name),
               SB_LOG_STR("error", j->err.msg));
    }
    bool applied = hand_out(r, j->batch, j->n, j->first_seq, j->ok);
    for (size_t i = 0; i < j->n; i++)
        sb_buf_free(&j->batch[i].bytes);
    free(j->batch);
    free(j);
    r->inflight = NULL;
    r->ninflight = 0;
    after_batch(r, applied);
}

/* ---- with a journal ----
 *
 * A batch is durable once its record is written, so it is applied and
 * sent on at once and goes to the writer to be folded into the log; the
 * room waits for nothing. Seqs are the room's to give (one node: nobody
 * else appends to this document). Rooms with updates queued wait for the
 * end of the loop's turn, and then every one's record goes in one write:
 * at 20,000 edits/s a write per batch was 6% of the loop. */

/* The turn is over: writes the record of each room waiting, then hands
 * out what each holds. */
static void jloop_flush(void *arg)
{
    collab_jloop *q = arg;
    collab_room **rooms = q->dirty;
    size_t n = q->ndirty;
    q->dirty = NULL;
    q->ndirty = q->dirty_cap = 0;
    q->armed = false;
    collab_wjob **jobs = sb_calloc(n, sizeof(*jobs));
    sb_str *parts = NULL;
    size_t parts_cap = 0;
    for (size_t i = 0; i < n; i++) {
        collab_room *r = rooms[i];
        collab_wjob *j = jobs[i] = sb_calloc(1, sizeof(*j));
        j->jl = q->jl;
        j->batch = r->queue;
        j->n = r->nqueue;
        j->bytes = r->queue_bytes;
        j->first_seq = r->have_seq + 1;
        r->queue = NULL;
        r->nqueue = r->queue_cap = r->queue_bytes = 0;
        if (j->n > parts_cap) {
            parts_cap = j->n * 2;
            parts = sb_realloc(parts, parts_cap * sizeof(*parts));
        }
        for (size_t k = 0; k < j->n; k++)
            parts[k] = sb_buf_str(&j->batch[k].bytes);
        j->end = (int64_t)collab_journal_add(q->jl, r->key, j->first_seq, parts, j->n);
    }
    free(parts);
    uint64_t base = atomic_load(&q->jl->written);
    int64_t gen = 0, start = 0;
    sb_errbuf err;
    bool ok = collab_journal_write(q->jl, n, &gen, &start, &err);
    if (!ok)
        sb_log(SB_LOG_ERROR, "collab: cannot store updates", SB_LOG_STR("error", err.msg),
               SB_LOG_INT("documents", (int64_t)n));
    size_t nout = 0;
    for (size_t i = 0; i < n; i++) {
        collab_room *r = rooms[i];
        collab_wjob *j = jobs[i];
        r->jdirty = false;
        bool applied = hand_out(r, j->batch, j->n, j->first_seq, ok);
        if (!ok) {
            collab__record_free(j);
            continue;
        }
        r->nlog += (int64_t)j->n;
        r->jrec = j->rec_no = base + i + 1;
        j->gen = gen;
        j->end += start;
        j->project_id = sb_strdup(r->project_id);
        j->doc = sb_strdup(r->doc_name);
        atomic_fetch_add(&q->jl->unfolded_bytes, (int_fast64_t)j->bytes);
        jobs[nout++] = j;
        after_batch(r, applied);
    }
    collab__writer_submit_records(q->hub, q->loop, jobs, nout);
    free(jobs);
    free(rooms);
}

/* r has updates queued: they go at the end of the turn. */
static void journal_mark(collab_room *r)
{
    if (r->jdirty)
        return;
    if (!r->jloop)
        r->jloop = collab__jloop_of(r->hub, r->loop);
    collab_jloop *q = r->jloop;
    r->jdirty = true;
    if (q->ndirty == q->dirty_cap) {
        q->dirty_cap = q->dirty_cap ? q->dirty_cap * 2 : 16;
        q->dirty = sb_realloc(q->dirty, q->dirty_cap * sizeof(*q->dirty));
    }
    q->dirty[q->ndirty++] = r;
    if (!q->armed) {
        q->armed = true;
        net_loop_at_turn_end(r->loop, jloop_flush, q);
    }
}

bool collab__room_folded(const collab_room *r)
{
    return !r->jloop || (!r->jdirty && r->jrec <= atomic_load(&r->jloop->jl->folded));
}

/* Hands everything queued to the writer, unless a batch is out. */
void collab__room_write_start(collab_room *r)
{
    if (r->job_running || r->nqueue == 0 || r->state != ROOM_READY)
        return;
    if (r->hub->journal_dir) {
        journal_mark(r);
        return;
    }
    collab_wjob *j = sb_calloc(1, sizeof(*j));
    j->r = r;
    j->batch = r->queue;
    j->n = r->nqueue;
    r->inflight = r->queue;
    r->ninflight = r->nqueue;
    r->queue = NULL;
    r->nqueue = r->queue_cap = r->queue_bytes = 0;
    r->job_running = true;
    collab__writer_submit(r->hub, j);
}

void collab__room_queue_update(collab_room *r, collab_conn *c, sb_str update)
{
    collab__room_queue_rest(r, c, update, 0);
}

void collab__room_queue_rest(collab_room *r, collab_conn *c, sb_str update, int64_t rest_ver)
{
    /* With a journal, records wait for the fold in memory too, for the
     * whole loop: a store that stopped taking them must not take it all. */
    bool behind = r->jloop && (size_t)atomic_load(&r->jloop->jl->unfolded_bytes) >
                                  UNFOLDED_ROOMS * r->hub->lim.max_pending;
    if (behind || r->queue_bytes + update.len > r->hub->lim.max_pending) {
        if (c)
            collab__conn_close(c, 1013, "too many updates waiting for storage");
        else
            sb_log(SB_LOG_ERROR, "collab: a REST write dropped: too many updates waiting",
                   SB_LOG_STR("doc", r->doc_name));
        return;
    }
    if (r->nqueue == r->queue_cap) {
        r->queue_cap = r->queue_cap ? r->queue_cap * 2 : 8;
        r->queue = sb_realloc(r->queue, r->queue_cap * sizeof(*r->queue));
    }
    pending *p = &r->queue[r->nqueue++];
    p->bytes = SB_BUF_INIT;
    sb_buf_append(&p->bytes, update.ptr, update.len);
    if (c)
        collab__conn_ref(c);
    p->origin = c; /* NULL: a REST write, sent to every member */
    p->rest_ver = rest_ver;
    r->queue_bytes += update.len;
    collab__room_write_start(r);
}
