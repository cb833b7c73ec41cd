/*
 * bind.c: documents and the REST view (docs/collab.md, "Documents and the
 * REST API"). The document is the source of truth:
 *
 *   - a REST write of a page or file reaches the document's room as its
 *     new content; the room diffs it against its document on a scratch
 *     copy (collab_content_diff) and queues the result like a client's
 *     update, so it is stored, applied and broadcast in the same order as
 *     everything else, to every member;
 *   - after each batch of updates is stored and applied, the room writes
 *     its content back into the page or file (the binding's materialise,
 *     on the foreground pool), one job at a time, the newest content last.
 *     A batch that arrives while a job runs marks the view dirty and the
 *     job's end starts the next one: that is the debounce. Jobs start at
 *     most every MAT_GAP_MS: each renders and writes the whole page or
 *     file, so a document taking hundreds of edits a second would
 *     otherwise rewrite its row hundreds of times a second. The first
 *     after a quiet spell starts at once.
 */
#include "collab/collab_int.h"

#include "base/clock.h"
#include "base/hash.h"
#include "base/log.h"
#include "base/rand.h"
#include "net/server.h"

void collab_hub_bind(collab_hub *h, const collab_binding *b)
{
    h->bind = *b;
}

/* ---- REST writes ---- */

typedef struct edit_post {
    collab_hub *hub;
    net_loop *loop; /* the room's; held until the post ran */
    char *key, *project_id, *doc;
    room_edit *edit;
} edit_post;

/* Applies the updates waiting for storage (in flight, then queued) to d:
 * the document as it will be once they are applied, in that order. */
static void apply_waiting(const collab_room *r, crdt_doc *d)
{
    const pending *runs[2] = {r->inflight, r->queue};
    size_t lens[2] = {r->ninflight, r->nqueue};
    for (size_t k = 0; k < 2; k++)
        for (size_t i = 0; i < lens[k]; i++) {
            sb_errbuf err = {{0}};
            /* One the engine refuses is refused when applied too. */
            (void)crdt_doc_apply_update(d, runs[k][i].bytes.ptr, runs[k][i].bytes.len, &err);
        }
}

/* The update that makes r's document the edit's content, queued. The diff
 * is against the document with every update still waiting for storage:
 * against the applied one alone, two REST writes in a row would both
 * insert what the first added. */
static void apply_edit(collab_room *r, const room_edit *e)
{
    if (e->version > 0 && e->version <= r->rest_seen)
        return; /* the document holds or will hold this version or a newer one */
    uint32_t id;
    /* A fresh Yjs client id per write, as a new client would draw. */
    sb_rand_bytes(&id, sizeof(id));
    crdt_doc *scratch = crdt_doc_new(id ? id : 1, true);
    sb_buf state = SB_BUF_INIT, update = SB_BUF_INIT;
    sb_errbuf err = {{0}};
    crdt_err ce = crdt_doc_encode_state(r->doc, NULL, 0, &state);
    if (ce == CRDT_OK)
        ce = crdt_doc_apply_update(scratch, state.ptr, state.len, &err);
    if (ce == CRDT_OK)
        apply_waiting(r, scratch);
    bool changed = false;
    if (ce == CRDT_OK)
        ce = collab_content_diff(scratch, e->kind, sb_str_make(e->content, e->len), &update,
                                 &changed);
    if (ce != CRDT_OK) {
        sb_log(SB_LOG_ERROR, "collab: a REST write cannot become an update",
               SB_LOG_STR("doc", r->doc_name), SB_LOG_STR("error", crdt_strerror(ce)));
    } else if (changed) {
        if (e->version > r->rest_seen)
            r->rest_seen = e->version;
        collab__room_queue_rest(r, NULL, sb_buf_str(&update), e->version);
    } else if (e->version > r->rest_seen) {
        /* Already the content: the document holds this version as soon as
         * what is waiting is applied, so it rides on the last of those. */
        r->rest_seen = e->version;
        pending *last = r->nqueue      ? &r->queue[r->nqueue - 1]
                        : r->ninflight ? &r->inflight[r->ninflight - 1]
                                       : NULL;
        if (last)
            last->rest_ver = e->version;
        else if (e->version > r->rest_ver)
            r->rest_ver = e->version;
    }
    crdt_doc_free(scratch);
    sb_buf_free(&state);
    sb_buf_free(&update);
}

void collab__room_apply_edits(collab_room *r)
{
    while (r->edits && r->state == ROOM_READY) {
        room_edit *e = r->edits;
        r->edits = e->next;
        if (!r->edits)
            r->edits_tail = NULL;
        apply_edit(r, e);
        free(e);
    }
}

static void on_edit(void *arg)
{
    edit_post *p = arg;
    bool fresh;
    collab_room *r = collab__room_get(p->hub, p->loop, p->key, p->project_id, p->doc, &fresh);
    room_edit *e = p->edit;
    if (r->state == ROOM_READY) {
        apply_edit(r, e);
        free(e);
    } else if (r->state == ROOM_FAILED) {
        /* The REST row has it; the document will not until it loads. */
        sb_log(SB_LOG_ERROR, "collab: a REST write not applied: the document cannot load",
               SB_LOG_STR("doc", r->doc_name));
        free(e);
    } else {
        e->next = NULL;
        if (r->edits_tail)
            r->edits_tail->next = e;
        else
            r->edits = e;
        r->edits_tail = e;
    }
    if (fresh)
        collab__room_load_start(r);
    r->idle_ms = 0;
    net_tick_arm(r->tick);
    net_loop_release(p->loop);
    free(p->key);
    free(p->project_id);
    free(p->doc);
    free(p);
}

void collab_set_content(collab_hub *h, net_loop *from, const char *project_id, sb_str doc,
                        sb_str content, int64_t version)
{
    char canon[COLLAB_DOC_MAX + 1];
    doc = collab_doc_canonical(doc, canon);
    collab_kind kind;
    sb_str item;
    if (!collab_doc_parse(doc, &kind, &item))
        return;
    edit_post *p = sb_calloc(1, sizeof(*p));
    p->hub = h;
    p->project_id = sb_strdup(project_id);
    p->doc = sb_strndup(doc.ptr, doc.len);
    size_t kn = strlen(project_id) + 1 + doc.len + 1;
    p->key = sb_malloc(kn);
    snprintf(p->key, kn, "%s/%.*s", project_id, (int)doc.len, doc.ptr);
    p->edit = sb_malloc(sizeof(room_edit) + content.len);
    p->edit->next = NULL;
    p->edit->kind = kind;
    p->edit->version = version;
    p->edit->len = content.len;
    if (content.len)
        memcpy(p->edit->content, content.ptr, content.len);
    /* The room's loop, as collab_conn_start picks it. */
    net_server *s = net_loop_server(from);
    p->loop =
        net_server_loop(s, (unsigned)(sb_hash(p->key, strlen(p->key)) % net_server_threads(s)));
    net_loop_hold(p->loop);
    net_loop_post(p->loop, on_edit, p);
}

/* ---- the REST view ---- */

/* The least time between two materialise jobs' starts: the short tick's,
 * so a paced job starts when the tick armed at the pacing fires. */
#define MAT_GAP_MS NET_TICK_SHORT_MS

typedef struct mat_job {
    collab_room *r;
    sb_buf json;
    int64_t if_ver, written;
} mat_job;

static void mat_work(void *arg)
{
    mat_job *j = arg;
    collab_room *r = j->r;
    store *db = r->hub->worker_store();
    if (!db) {
        sb_log(SB_LOG_ERROR, "collab: the worker has no store connection");
        return;
    }
    r->hub->bind.materialise(r->hub->bind.ctx, db, r->project_id, r->doc_name, j->json.ptr,
                             j->json.len, j->if_ver, &j->written);
}

static void mat_done(void *arg)
{
    mat_job *j = arg;
    collab_room *r = j->r;
    r->mat_running = false;
    if (j->written > r->rest_ver) {
        r->rest_ver = j->written; /* our own write: the document holds it */
        collab__bus_announce(r);  /* other nodes' rooms hold it too: tell them now */
    }
    if (r->rest_ver > r->rest_seen)
        r->rest_seen = r->rest_ver;
    sb_buf_free(&j->json);
    free(j);
    if (r->mat_dirty)
        collab__room_materialise(r);
    net_tick_arm(r->tick);
}

static void mat_start(collab_room *r);

void collab__room_materialise(collab_room *r)
{
    if (!r->hub->bind.materialise || r->state != ROOM_READY)
        return;
    if (r->hub->bind.binds && !r->hub->bind.binds(r->hub->bind.ctx, r->doc_name))
        return;
    r->mat_dirty = true;
    if (r->mat_running || r->mat_held)
        return; /* its end or the pace starts the next one */
    if (r->mat_started_ns && sb_mono_ns() - r->mat_started_ns < MAT_GAP_MS * 1000000ULL) {
        /* Held, so a shutdown's drain waits for the write (<= MAT_GAP_MS). */
        net_loop_hold(r->loop);
        r->mat_held = true;
        net_tick_arm(r->mat_pace);
        return;
    }
    mat_start(r);
}

void collab__room_mat_paced(void *room)
{
    collab_room *r = room;
    r->mat_held = false;
    net_loop_release(r->loop);
    if (r->mat_dirty && !r->mat_running && r->state == ROOM_READY)
        mat_start(r);
}

static void mat_start(collab_room *r)
{
    collab_kind kind;
    sb_str item;
    int ck;
    if (!collab_doc_parse(sb_str_c(r->doc_name), &kind, &item)) {
        r->mat_dirty = false;
        return;
    }
    const char *root = collab_doc_root(kind, &ck);
    mat_job *j = sb_calloc(1, sizeof(*j));
    j->r = r;
    j->json = SB_BUF_INIT;
    j->if_ver = r->rest_ver;
    crdt_err ce = crdt_doc_json(r->doc, sb_str_c(root), (crdt_kind)ck, &j->json);
    if (ce != CRDT_OK) {
        sb_log(SB_LOG_ERROR, "collab: cannot render a document", SB_LOG_STR("doc", r->doc_name),
               SB_LOG_STR("error", crdt_strerror(ce)));
        r->mat_dirty = false;
        sb_buf_free(&j->json);
        free(j);
        return;
    }
    if (!net_workers_submit(r->hub->fore, r->loop, mat_work, mat_done, j)) {
        sb_buf_free(&j->json); /* the pool is full: the tick tries again */
        free(j);
        net_tick_arm(r->tick);
        return;
    }
    r->mat_dirty = false;
    r->mat_running = true;
    r->mat_started_ns = sb_mono_ns();
}
