/*
 * room.c: rooms, their connections and the storage pipeline.
 *
 * Threads. A room belongs to loop hash(key) % nloops ("the room's loop");
 * a connection to the loop that upgraded it ("the connection's loop").
 * Between them travel posted messages (net/post.h):
 *   connection's loop -> room's loop: join, each client message, leave;
 *   room's loop -> connection's loop: a message to send, a close.
 * Fields are marked with the thread that may touch them. A connection is
 * reference counted (atomic): one reference for its own loop until its
 * socket is gone, one for the room until the leave was handled, one for
 * each message in flight. Drain: a connection holds its room's loop from
 * start until its leave was handled there, and a room holds each member's
 * loop while the member is in it, so neither loop finishes its shutdown
 * while the other can still post to it.
 *
 * Updates. A client's update is checked for structure (crdt_update_state
 * _vector validates the whole encoding), queued, written to the log by a
 * pool job (one job at a time per room, taking every update queued so
 * far: group commit), and only when that job is done applied to the
 * room's document and broadcast to the other members. A sync step 1
 * therefore always answers with durable content. When the log has
 * compact_after rows the same job folds it into the merged state.
 *
 * Awareness. Entries are kept per client id with the connection that
 * announced them; relayed as they come; removed (with a "null" state
 * broadcast) when that connection leaves or when the entry was not renewed
 * within the awareness timeout.
 *
 * Never: touch a net_ws off its loop; broadcast an update before its log
 * write committed; free a room with a job in flight or members in it.
 */
#include <assert.h>
#include <pthread.h>
#include <stdatomic.h>

#include "base/clock.h"
#include "base/hash.h"
#include "base/log.h"
#include "base/map.h"
#include "base/utf8.h"
#include "collab/collab.h"
#include "collab/persist.h"
#include "collab/proto.h"
#include "crdt/crdt.h"
#include "crdt/update_ops.h"
#include "net/post.h"
#include "net/server.h"

#define AWARENESS_MAX_CLIENTS 1024 /* entries in one awareness update */
#define PROJECT_ID_MAX        64

struct collab_hub {
    collab_limits lim;     /* read-only */
    net_workers *workers;  /* read-only */
    store *(*worker_store)(void);
    collab_bus_hooks bus;  /* read-only */
    pthread_mutex_t lock;  /* guards everything below, and each room's members and aw */
    sb_map rooms;          /* key -> collab_room */
    sb_map per_user;       /* user id -> open connections (uintptr_t) */
    sb_map per_doc;        /* key -> open connections (uintptr_t) */
};

typedef enum room_state { ROOM_LOADING, ROOM_READY, ROOM_FAILED } room_state;

/* A message from a member to the room, waiting while the room loads. */
typedef struct inmsg {
    struct inmsg *next;
    collab_conn *conn; /* holds a reference */
    size_t len;
    uint8_t data[];
} inmsg;

/* An update waiting for storage. */
typedef struct pending {
    sb_buf bytes;
    collab_conn *origin; /* holds a reference */
} pending;

/* One client id's awareness entry. */
typedef struct aw_entry {
    uint64_t client, clock;
    char *state; /* JSON text, never "null" (removed entries are dropped) */
    size_t state_len;
    collab_conn *conn;  /* who announced it (no reference: dropped at its leave) */
    uint64_t renewed_ns;
} aw_entry;

typedef struct collab_room {
    collab_hub *hub;
    net_loop *loop; /* the owner; every field below is its thread's */
    char *key;      /* project_id "/" doc */
    char project_id[PROJECT_ID_MAX];
    char *doc_name;
    room_state state;
    crdt_doc *doc;
    int64_t next_seq, nlog;
    inmsg *inbox, *inbox_tail;
    /* members and aw are also read by the presence route: hub->lock */
    collab_conn **members;
    size_t nmembers, members_cap;
    aw_entry *aw;
    size_t naw, aw_cap;
    pending *queue; /* waiting for a job */
    size_t nqueue, queue_cap, queue_bytes;
    bool job_running; /* a load or write job is out */
    net_tick *tick;
    int64_t idle_ms; /* time spent empty */
} collab_room;

struct collab_conn {
    atomic_int refs;
    collab_hub *hub;       /* read-only */
    net_loop *loop;        /* the connection's loop; read-only */
    net_loop *room_loop;   /* read-only */
    char *key, *project_id, *doc_name, *user_id, *name; /* read-only */
    bool can_write;        /* read-only */
    net_ws *ws;            /* connection's loop; NULL once the socket is gone */
    collab_room *room;     /* room's loop: set by join */
    bool left;             /* room's loop: the leave was handled */
    bool denied_told;      /* room's loop: permission-denied was sent once */
};

/* A message to send, shared by every member of a broadcast. */
typedef struct outmsg {
    atomic_int refs;
    size_t len;
    uint8_t data[];
} outmsg;

typedef struct outpost {
    collab_conn *conn; /* holds a reference */
    outmsg *msg;       /* holds a reference; NULL for a close */
    uint16_t code;
    char reason[64];
} outpost;

collab_limits collab_limits_default(void)
{
    return (collab_limits){
        .max_clients = 500,
        .max_conns_per_user = 20,
        .max_queue = 4 << 20,
        .max_pending = 16 << 20,
        .evict_grace_ms = 30000,
        .compact_after = 200,
        .awareness_timeout_ms = 30000,
    };
}

/* ---- document names ---- */

bool collab_doc_parse(sb_str doc, collab_kind *kind, sb_str *item)
{
    static const struct {
        const char *prefix;
        collab_kind kind;
    } kinds[] = {{"page:", COLLAB_PAGE},
                 {"code:", COLLAB_CODE},
                 {"style:", COLLAB_STYLE},
                 {"component:", COLLAB_COMPONENT}};
    if (doc.len == 0 || doc.len > COLLAB_DOC_MAX || !sb_utf8_valid(doc.ptr, doc.len, NULL))
        return false;
    for (size_t i = 0; i < doc.len; i++)
        if ((unsigned char)doc.ptr[i] < 0x20 || doc.ptr[i] == 0x7f)
            return false;
    for (size_t i = 0; i < SB_ARRAY_LEN(kinds); i++) {
        size_t n = strlen(kinds[i].prefix);
        if (doc.len > n && memcmp(doc.ptr, kinds[i].prefix, n) == 0) {
            *kind = kinds[i].kind;
            *item = (sb_str){doc.ptr + n, doc.len - n};
            return true;
        }
    }
    return false;
}

const char *collab_doc_root(collab_kind kind, int *crdt_kind_out)
{
    switch (kind) {
    case COLLAB_PAGE:
        *crdt_kind_out = CRDT_MAP;
        return "page";
    case COLLAB_COMPONENT:
        *crdt_kind_out = CRDT_MAP;
        return "component";
    case COLLAB_CODE:
    case COLLAB_STYLE:
        break;
    }
    *crdt_kind_out = CRDT_TEXT;
    return "content";
}

/* ---- hub ---- */

collab_hub *collab_hub_new(const collab_limits *lim, net_workers *workers,
                           store *(*worker_store)(void), const collab_bus_hooks *bus)
{
    collab_hub *h = sb_calloc(1, sizeof(*h));
    h->lim = *lim;
    h->workers = workers;
    h->worker_store = worker_store;
    if (bus)
        h->bus = *bus;
    pthread_mutex_init(&h->lock, NULL);
    sb_map_init(&h->rooms);
    sb_map_init(&h->per_user);
    sb_map_init(&h->per_doc);
    return h;
}

void collab_hub_free(collab_hub *h)
{
    if (!h)
        return;
    /* Rooms still here belong to loops cut off at the drain deadline: the
     * process is exiting and they may still be in use, so they stay. */
    sb_map_deinit(&h->rooms);
    sb_map_deinit(&h->per_user);
    sb_map_deinit(&h->per_doc);
    pthread_mutex_destroy(&h->lock);
    free(h);
}

/* Adds d to a counter map; the entry goes when it reaches 0. hub->lock. */
static uintptr_t count_add(sb_map *m, const char *key, int d)
{
    sb_str k = sb_str_c(key);
    uintptr_t n = (uintptr_t)sb_map_get(m, k) + (uintptr_t)(intptr_t)d;
    if (n == 0)
        sb_map_del(m, k);
    else
        sb_map_put(m, k, (void *)n);
    return n;
}

/* ---- connections: references and posting ---- */

static void conn_unref(collab_conn *c)
{
    if (atomic_fetch_sub(&c->refs, 1) != 1)
        return;
    free(c->key);
    free(c->project_id);
    free(c->doc_name);
    free(c->user_id);
    free(c->name);
    free(c);
}

static void conn_ref(collab_conn *c)
{
    atomic_fetch_add(&c->refs, 1);
}

static outmsg *out_new(const sb_buf *b)
{
    outmsg *m = sb_malloc(sizeof(*m) + b->len);
    atomic_init(&m->refs, 1);
    m->len = b->len;
    memcpy(m->data, b->ptr, b->len);
    return m;
}

static void out_unref(outmsg *m)
{
    if (m && atomic_fetch_sub(&m->refs, 1) == 1)
        free(m);
}

/* On the connection's loop. */
static void deliver(void *arg)
{
    outpost *p = arg;
    collab_conn *c = p->conn;
    if (c->ws) {
        if (p->msg)
            net_ws_send(c->ws, NET_WS_BINARY, p->msg->data, p->msg->len);
        else
            net_ws_close(c->ws, p->code, p->reason);
    }
    out_unref(p->msg);
    conn_unref(c);
    free(p);
}

/* On the room's loop: queues m (or a close) to member c. Nothing goes to a
 * connection whose leave was handled: its loop may be gone. */
static void conn_post(collab_conn *c, outmsg *m, uint16_t code, const char *reason)
{
    if (c->left)
        return;
    outpost *p = sb_calloc(1, sizeof(*p));
    conn_ref(c);
    p->conn = c;
    if (m) {
        atomic_fetch_add(&m->refs, 1);
        p->msg = m;
    } else {
        p->code = code;
        snprintf(p->reason, sizeof(p->reason), "%s", reason);
    }
    if (c->loop == c->room_loop)
        deliver(p); /* same thread: no need to travel */
    else
        net_loop_post(c->loop, deliver, p);
}

static void conn_send(collab_conn *c, const sb_buf *b)
{
    outmsg *m = out_new(b);
    conn_post(c, m, 0, NULL);
    out_unref(m);
}

static void conn_close(collab_conn *c, uint16_t code, const char *reason)
{
    sb_log(SB_LOG_INFO, "collab: closing a connection", SB_LOG_INT("code", code),
           SB_LOG_STR("reason", reason), SB_LOG_STR("doc", c->doc_name));
    conn_post(c, NULL, code, reason);
}

/* ---- rooms ---- */

static void room_tick(void *arg);
static void room_load_start(collab_room *r);
static void room_handle(collab_room *r, collab_conn *c, const uint8_t *p, size_t n);

static collab_room *room_new(collab_hub *h, net_loop *loop, collab_conn *c)
{
    collab_room *r = sb_calloc(1, sizeof(*r));
    r->hub = h;
    r->loop = loop;
    r->key = sb_strdup(c->key);
    snprintf(r->project_id, sizeof(r->project_id), "%s", c->project_id);
    r->doc_name = sb_strdup(c->doc_name);
    r->state = ROOM_LOADING;
    r->tick = net_tick_new(loop, room_tick, r);
    pthread_mutex_lock(&h->lock);
    sb_map_put(&h->rooms, sb_str_c(r->key), r);
    pthread_mutex_unlock(&h->lock);
    return r;
}

static void room_free(collab_room *r)
{
    assert(r->nmembers == 0 && !r->job_running);
    collab_hub *h = r->hub;
    pthread_mutex_lock(&h->lock);
    if (sb_map_get(&h->rooms, sb_str_c(r->key)) == r)
        sb_map_del(&h->rooms, sb_str_c(r->key));
    pthread_mutex_unlock(&h->lock);
    for (inmsg *m = r->inbox; m;) {
        inmsg *next = m->next;
        conn_unref(m->conn);
        free(m);
        m = next;
    }
    for (size_t i = 0; i < r->nqueue; i++) {
        sb_buf_free(&r->queue[i].bytes);
        if (r->queue[i].origin)
            conn_unref(r->queue[i].origin);
    }
    for (size_t i = 0; i < r->naw; i++)
        free(r->aw[i].state);
    net_tick_free(r->tick);
    crdt_doc_free(r->doc);
    free(r->queue);
    free(r->aw);
    free(r->members);
    free(r->doc_name);
    free(r->key);
    free(r);
}

/* Sends b to every member but except (may be NULL). */
static void room_broadcast(collab_room *r, const sb_buf *b, const collab_conn *except)
{
    outmsg *m = out_new(b);
    for (size_t i = 0; i < r->nmembers; i++)
        if (r->members[i] != except)
            conn_post(r->members[i], m, 0, NULL);
    out_unref(m);
}

/* Removes the awareness entries matching (conn, or all timed-out ones when
 * conn is NULL) and tells the others they are gone, as y-protocols'
 * removeAwarenessStates does: the clock moves on and the state is null. */
static void aw_remove(collab_room *r, const collab_conn *conn, uint64_t now_ns)
{
    uint64_t timeout_ns = (uint64_t)r->hub->lim.awareness_timeout_ms * 1000000;
    sb_buf upd = SB_BUF_INIT;
    size_t gone = 0;
    sb_buf entries = SB_BUF_INIT;
    pthread_mutex_lock(&r->hub->lock);
    for (size_t i = 0; i < r->naw;) {
        aw_entry *e = &r->aw[i];
        bool drop = conn ? e->conn == conn : now_ns - e->renewed_ns > timeout_ns;
        if (!drop) {
            i++;
            continue;
        }
        collab_aw_put(&entries, e->client, e->clock + 1, "null", 4);
        gone++;
        free(e->state);
        r->aw[i] = r->aw[--r->naw];
    }
    pthread_mutex_unlock(&r->hub->lock);
    if (gone) {
        sb_buf body = SB_BUF_INIT;
        collab_aw_begin(&body, gone);
        sb_buf_append(&body, entries.ptr, entries.len);
        collab_msg_awareness(&upd, body.ptr, body.len);
        room_broadcast(r, &upd, NULL);
        if (r->hub->bus.on_awareness)
            r->hub->bus.on_awareness(r->hub->bus.ctx, r->project_id, r->doc_name,
                                     (const uint8_t *)body.ptr, body.len);
        sb_buf_free(&body);
    }
    sb_buf_free(&entries);
    sb_buf_free(&upd);
}

/* What a member gets on joining, as y-websocket's server sends it: our
 * state vector (sync step 1, so the client sends what we lack) and the
 * awareness states we know. */
static void room_greet(collab_room *r, collab_conn *c)
{
    sb_buf sv = SB_BUF_INIT, msg = SB_BUF_INIT;
    crdt_doc_encode_state_vector(r->doc, &sv);
    collab_msg_sync(&msg, COLLAB_SYNC_STEP1, sv.ptr, sv.len);
    conn_send(c, &msg);
    if (r->naw > 0) {
        sb_buf body = SB_BUF_INIT;
        sb_buf_reset(&msg);
        collab_aw_begin(&body, r->naw);
        for (size_t i = 0; i < r->naw; i++)
            collab_aw_put(&body, r->aw[i].client, r->aw[i].clock, r->aw[i].state,
                          r->aw[i].state_len);
        collab_msg_awareness(&msg, body.ptr, body.len);
        conn_send(c, &msg);
        sb_buf_free(&body);
    }
    sb_buf_free(&sv);
    sb_buf_free(&msg);
}

/* ---- the storage pipeline ---- */

typedef struct load_job {
    collab_room *r;
    crdt_doc *doc;
    int64_t last_seq, nlog;
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
    j->ok = collab_persist_load(db, j->r->project_id, j->r->doc_name, &j->doc, &j->last_seq,
                                &j->nlog, &j->err);
}

static void room_drain_inbox(collab_room *r)
{
    while (r->inbox && r->state == ROOM_READY) {
        inmsg *m = r->inbox;
        r->inbox = m->next;
        if (!r->inbox)
            r->inbox_tail = NULL;
        if (!m->conn->left)
            room_handle(r, m->conn, m->data, m->len);
        conn_unref(m->conn);
        free(m);
    }
}

static void room_write_start(collab_room *r);

static void load_done(void *arg)
{
    load_job *j = arg;
    collab_room *r = j->r;
    r->job_running = false;
    if (!j->ok) {
        sb_log(SB_LOG_ERROR, "collab: cannot load a document", SB_LOG_STR("doc", r->doc_name),
               SB_LOG_STR("error", j->err.msg));
        r->state = ROOM_FAILED;
        for (size_t i = 0; i < r->nmembers; i++)
            conn_close(r->members[i], 1011, "document unavailable");
        free(j);
        net_tick_arm(r->tick);
        return;
    }
    r->doc = j->doc;
    r->next_seq = j->last_seq + 1;
    r->nlog = j->nlog;
    r->state = ROOM_READY;
    free(j);
    net_tick_arm(r->tick);
    for (size_t i = 0; i < r->nmembers; i++)
        room_greet(r, r->members[i]);
    room_drain_inbox(r);
    room_write_start(r);
}

static void room_load_start(collab_room *r)
{
    load_job *j = sb_calloc(1, sizeof(*j));
    j->r = r;
    r->job_running = true;
    if (!net_workers_submit(r->hub->workers, r->loop, load_work, load_done, j)) {
        sb_errf(&j->err, "the worker pool is full");
        load_done(j); /* fails the room: members are told to come back */
    }
}

typedef struct write_job {
    collab_room *r;
    pending *batch;
    size_t n;
    int64_t first_seq, nlog;
    bool compact;
    bool ok;
    sb_errbuf err;
} write_job;

static void write_work(void *arg)
{
    write_job *j = arg;
    store *db = j->r->hub->worker_store();
    if (!db) {
        sb_errf(&j->err, "the worker has no store connection");
        return;
    }
    sb_str *parts = sb_calloc(j->n, sizeof(*parts));
    for (size_t i = 0; i < j->n; i++)
        parts[i] = sb_buf_str(&j->batch[i].bytes);
    int64_t now = sb_wall_us();
    j->ok = collab_persist_append(db, j->r->project_id, j->r->doc_name, j->first_seq, parts, j->n,
                                  now, &j->err);
    free(parts);
    if (j->ok && j->compact) {
        sb_errbuf cerr;
        int64_t left;
        /* A failed compaction loses nothing: the log stays as it was. */
        if (collab_persist_compact(db, j->r->project_id, j->r->doc_name, now, &left, &cerr))
            j->nlog = left;
        else
            sb_log(SB_LOG_WARN, "collab: compaction failed", SB_LOG_STR("error", cerr.msg));
    }
}

static void write_done(void *arg)
{
    write_job *j = arg;
    collab_room *r = j->r;
    r->job_running = false;
    if (j->ok) {
        r->next_seq += (int64_t)j->n;
        r->nlog = j->compact && j->nlog >= 0 ? j->nlog : r->nlog + (int64_t)j->n;
    } else {
        sb_log(SB_LOG_ERROR, "collab: cannot store updates", SB_LOG_STR("doc", r->doc_name),
               SB_LOG_STR("error", j->err.msg));
    }
    for (size_t i = 0; i < j->n; i++) {
        pending *p = &j->batch[i];
        if (j->ok) {
            sb_errbuf err = {{0}};
            crdt_err ce = crdt_doc_apply_update(r->doc, p->bytes.ptr, p->bytes.len, &err);
            if (ce != CRDT_OK) {
                /* Stored, but the engine refuses it: loads skip it too. */
                sb_log(SB_LOG_WARN, "collab: update refused", SB_LOG_STR("error", err.msg));
                if (p->origin)
                    conn_close(p->origin, 1003, "update contradicts the document");
            } else {
                sb_buf msg = SB_BUF_INIT;
                collab_msg_sync(&msg, COLLAB_SYNC_UPDATE, p->bytes.ptr, p->bytes.len);
                room_broadcast(r, &msg, p->origin);
                sb_buf_free(&msg);
                if (r->hub->bus.on_update_accepted)
                    r->hub->bus.on_update_accepted(r->hub->bus.ctx, r->project_id, r->doc_name,
                                                   (const uint8_t *)p->bytes.ptr, p->bytes.len);
            }
        } else if (p->origin) {
            /* Not durable, so not applied: the client resends it when it
             * reconnects and syncs. */
            conn_close(p->origin, 1011, "storage unavailable");
        }
        sb_buf_free(&p->bytes);
        if (p->origin)
            conn_unref(p->origin);
    }
    free(j->batch);
    free(j);
    room_write_start(r);
    net_tick_arm(r->tick);
}

/* Starts a write of everything queued, unless one is running. */
static void room_write_start(collab_room *r)
{
    if (r->job_running || r->nqueue == 0 || r->state != ROOM_READY)
        return;
    write_job *j = sb_calloc(1, sizeof(*j));
    j->r = r;
    j->batch = r->queue;
    j->n = r->nqueue;
    j->first_seq = r->next_seq;
    j->nlog = -1;
    j->compact = r->hub->lim.compact_after > 0 &&
                 r->nlog + (int64_t)r->nqueue >= (int64_t)r->hub->lim.compact_after;
    if (!net_workers_submit(r->hub->workers, r->loop, write_work, write_done, j)) {
        free(j); /* the pool is full: the tick tries again */
        net_tick_arm(r->tick);
        return;
    }
    r->queue = NULL;
    r->nqueue = r->queue_cap = r->queue_bytes = 0;
    r->job_running = true;
}

static void room_queue_update(collab_room *r, collab_conn *c, sb_str update)
{
    if (r->queue_bytes + update.len > r->hub->lim.max_pending) {
        conn_close(c, 1013, "too many updates waiting for storage");
        return;
    }
    if (r->nqueue == r->queue_cap) {
        r->queue_cap = r->queue_cap ? r->queue_cap * 2 : 8;
        r->queue = sb_realloc(r->queue, r->queue_cap * sizeof(*r->queue));
    }
    pending *p = &r->queue[r->nqueue++];
    p->bytes = SB_BUF_INIT;
    sb_buf_append(&p->bytes, update.ptr, update.len);
    conn_ref(c);
    p->origin = c;
    r->queue_bytes += update.len;
    room_write_start(r);
}

/* ---- client messages ---- */

/* An update that changes nothing: no structs, no deletes (what a client
 * without local changes answers to our sync step 1). */
static bool update_is_empty(sb_str u)
{
    return u.len == 2 && u.ptr[0] == 0 && u.ptr[1] == 0;
}

static void room_update(collab_room *r, collab_conn *c, sb_str update)
{
    if (update_is_empty(update))
        return;
    if (!c->can_write) {
        /* Dropped; the client is told once, with y-protocols' auth message. */
        if (!c->denied_told) {
            sb_buf msg = SB_BUF_INIT;
            collab_msg_permission_denied(&msg, "permission-denied");
            conn_send(c, &msg);
            sb_buf_free(&msg);
            c->denied_told = true;
        }
        return;
    }
    /* The whole encoding is checked now, so what is logged is well formed. */
    sb_buf sv = SB_BUF_INIT;
    int e = crdt_update_state_vector(update.ptr, update.len, false, NULL, &sv);
    sb_buf_free(&sv);
    if (e != 0) {
        char reason[64];
        snprintf(reason, sizeof(reason), "malformed update: %s", crdt_lib0_strerror(e));
        conn_close(c, 1003, reason);
        return;
    }
    room_queue_update(r, c, update);
}

static void room_awareness(collab_room *r, collab_conn *c, sb_str update)
{
    collab_aw_iter it;
    collab_aw_entry e;
    collab_aw_init(&it, update, AWARENESS_MAX_CLIENTS);
    /* First pass: validate the whole update, so a bad one changes nothing. */
    while (collab_aw_next(&it, &e))
        ;
    if (!collab_aw_ok(&it)) {
        conn_close(c, 1003, "malformed awareness update");
        return;
    }
    uint64_t now = sb_mono_ns();
    collab_aw_init(&it, update, AWARENESS_MAX_CLIENTS);
    pthread_mutex_lock(&r->hub->lock);
    while (collab_aw_next(&it, &e)) {
        size_t i = 0;
        while (i < r->naw && r->aw[i].client != e.client)
            i++;
        bool removed = e.state.len == 4 && memcmp(e.state.ptr, "null", 4) == 0;
        if (i < r->naw) {
            aw_entry *a = &r->aw[i];
            /* y-protocols applies an entry when its clock is newer, or equal
             * with a removal. */
            if (e.clock < a->clock || (e.clock == a->clock && !removed))
                continue;
            if (removed) {
                free(a->state);
                r->aw[i] = r->aw[--r->naw];
                continue;
            }
            free(a->state);
            a->state = sb_strndup(e.state.ptr, e.state.len);
            a->state_len = e.state.len;
            a->clock = e.clock;
            a->conn = c;
            a->renewed_ns = now;
        } else if (!removed) {
            if (r->naw == r->aw_cap) {
                r->aw_cap = r->aw_cap ? r->aw_cap * 2 : 8;
                r->aw = sb_realloc(r->aw, r->aw_cap * sizeof(*r->aw));
            }
            r->aw[r->naw++] = (aw_entry){.client = e.client,
                                         .clock = e.clock,
                                         .state = sb_strndup(e.state.ptr, e.state.len),
                                         .state_len = e.state.len,
                                         .conn = c,
                                         .renewed_ns = now};
        }
    }
    pthread_mutex_unlock(&r->hub->lock);
    sb_buf msg = SB_BUF_INIT;
    collab_msg_awareness(&msg, update.ptr, update.len);
    room_broadcast(r, &msg, c);
    sb_buf_free(&msg);
    if (r->hub->bus.on_awareness)
        r->hub->bus.on_awareness(r->hub->bus.ctx, r->project_id, r->doc_name,
                                 (const uint8_t *)update.ptr, update.len);
}

static void room_handle(collab_room *r, collab_conn *c, const uint8_t *p, size_t n)
{
    collab_msg m;
    collab_proto_err pe = collab_msg_decode(p, n, &m);
    if (pe != COLLAB_PROTO_OK) {
        char reason[64];
        snprintf(reason, sizeof(reason), "malformed message: %s", collab_proto_strerror(pe));
        conn_close(c, 1002, reason);
        return;
    }
    switch (m.type) {
    case COLLAB_MSG_SYNC:
        if (m.step == COLLAB_SYNC_STEP1) {
            sb_buf diff = SB_BUF_INIT, msg = SB_BUF_INIT;
            if (crdt_doc_encode_state(r->doc, m.payload.ptr, m.payload.len, &diff) != CRDT_OK) {
                conn_close(c, 1003, "malformed state vector");
            } else {
                collab_msg_sync(&msg, COLLAB_SYNC_STEP2, diff.ptr, diff.len);
                conn_send(c, &msg);
            }
            sb_buf_free(&diff);
            sb_buf_free(&msg);
        } else {
            room_update(r, c, m.payload);
        }
        break;
    case COLLAB_MSG_AWARENESS:
        room_awareness(r, c, m.payload);
        break;
    case COLLAB_MSG_QUERY_AWARENESS:
        if (r->naw > 0) {
            sb_buf body = SB_BUF_INIT, msg = SB_BUF_INIT;
            collab_aw_begin(&body, r->naw);
            for (size_t i = 0; i < r->naw; i++)
                collab_aw_put(&body, r->aw[i].client, r->aw[i].clock, r->aw[i].state,
                              r->aw[i].state_len);
            collab_msg_awareness(&msg, body.ptr, body.len);
            conn_send(c, &msg);
            sb_buf_free(&body);
            sb_buf_free(&msg);
        }
        break;
    case COLLAB_MSG_AUTH:
        break; /* only servers send it */
    }
}

/* ---- posted from the connection's loop ---- */

static void on_join(void *arg)
{
    collab_conn *c = arg; /* the room's reference */
    collab_hub *h = c->hub;
    pthread_mutex_lock(&h->lock);
    collab_room *r = sb_map_get(&h->rooms, sb_str_c(c->key));
    pthread_mutex_unlock(&h->lock);
    /* Only this loop makes or frees rooms with this key, so r stays. */
    if (r && r->state == ROOM_FAILED && !r->job_running && r->nmembers == 0) {
        room_free(r);
        r = NULL;
    }
    bool fresh = r == NULL;
    if (fresh)
        r = room_new(h, c->room_loop, c);
    c->room = r;
    net_loop_hold(c->loop); /* the room may post to the member's loop */
    pthread_mutex_lock(&h->lock);
    if (r->nmembers == r->members_cap) {
        r->members_cap = r->members_cap ? r->members_cap * 2 : 8;
        r->members = sb_realloc(r->members, r->members_cap * sizeof(*r->members));
    }
    r->members[r->nmembers++] = c;
    pthread_mutex_unlock(&h->lock);
    r->idle_ms = 0;
    net_tick_arm(r->tick);
    if (fresh)
        room_load_start(r);
    else if (r->state == ROOM_READY)
        room_greet(r, c);
    else if (r->state == ROOM_FAILED)
        conn_close(c, 1011, "document unavailable");
}

typedef struct msg_post {
    collab_conn *conn; /* holds a reference */
    size_t len;
    uint8_t data[];
} msg_post;

static void on_msg(void *arg)
{
    msg_post *m = arg;
    collab_conn *c = m->conn;
    collab_room *r = c->room;
    if (!r || c->left) {
        conn_unref(c);
        free(m);
        return;
    }
    if (r->state == ROOM_READY) {
        room_handle(r, c, m->data, m->len);
        conn_unref(c);
        free(m);
        return;
    }
    if (r->state == ROOM_FAILED) {
        conn_unref(c);
        free(m);
        return;
    }
    /* Loading: keep it, in order. */
    inmsg *in = sb_malloc(sizeof(*in) + m->len);
    in->next = NULL;
    in->conn = c;
    in->len = m->len;
    memcpy(in->data, m->data, m->len);
    free(m);
    if (r->inbox_tail)
        r->inbox_tail->next = in;
    else
        r->inbox = in;
    r->inbox_tail = in;
}

static void on_leave(void *arg)
{
    collab_conn *c = arg;
    collab_room *r = c->room;
    collab_hub *h = c->hub;
    if (r) {
        pthread_mutex_lock(&h->lock);
        for (size_t i = 0; i < r->nmembers; i++) {
            if (r->members[i] == c) {
                r->members[i] = r->members[--r->nmembers];
                break;
            }
        }
        pthread_mutex_unlock(&h->lock);
        c->left = true;
        if (r->state == ROOM_READY)
            aw_remove(r, c, sb_mono_ns());
        else {
            pthread_mutex_lock(&h->lock);
            for (size_t i = 0; i < r->naw;) {
                if (r->aw[i].conn == c) {
                    free(r->aw[i].state);
                    r->aw[i] = r->aw[--r->naw];
                } else {
                    i++;
                }
            }
            pthread_mutex_unlock(&h->lock);
        }
        net_loop_release(c->loop);
        net_tick_arm(r->tick);
    }
    c->left = true;
    net_loop_release(c->room_loop); /* taken by collab_conn_start */
    conn_unref(c);                  /* the room's reference */
}

/* Once a second while the room has anything to do: awareness timeouts,
 * a write the pool refused, and eviction after the grace period. */
static void room_tick(void *arg)
{
    collab_room *r = arg;
    if (r->state == ROOM_READY)
        aw_remove(r, NULL, sb_mono_ns());
    room_write_start(r);
    bool idle = r->nmembers == 0 && !r->job_running && r->nqueue == 0 && r->inbox == NULL;
    if (!idle) {
        r->idle_ms = 0;
        if (r->nmembers > 0 || r->nqueue > 0)
            net_tick_arm(r->tick);
        return;
    }
    r->idle_ms += 1000;
    if (r->state == ROOM_FAILED || r->idle_ms >= r->hub->lim.evict_grace_ms) {
        room_free(r);
        return;
    }
    net_tick_arm(r->tick);
}

/* ---- the connection's side ---- */

collab_admit collab_conn_new(collab_hub *h, const char *project_id, sb_str doc,
                             const collab_who *who, collab_conn **out)
{
    sb_buf key = SB_BUF_INIT;
    sb_buf_appendf(&key, "%s/", project_id);
    sb_buf_append(&key, doc.ptr, doc.len);
    pthread_mutex_lock(&h->lock);
    uintptr_t users = (uintptr_t)sb_map_get(&h->per_user, sb_str_c(who->user_id));
    uintptr_t docs = (uintptr_t)sb_map_get(&h->per_doc, sb_buf_str(&key));
    collab_admit a = COLLAB_ADMIT_OK;
    if (users >= h->lim.max_conns_per_user)
        a = COLLAB_ADMIT_USER_LIMIT;
    else if (docs >= h->lim.max_clients)
        a = COLLAB_ADMIT_DOC_FULL;
    else {
        count_add(&h->per_user, who->user_id, 1);
        count_add(&h->per_doc, key.ptr, 1);
    }
    pthread_mutex_unlock(&h->lock);
    if (a != COLLAB_ADMIT_OK) {
        sb_buf_free(&key);
        return a;
    }
    collab_conn *c = sb_calloc(1, sizeof(*c));
    atomic_init(&c->refs, 1);
    c->hub = h;
    c->key = sb_buf_detach(&key, NULL);
    c->project_id = sb_strdup(project_id);
    c->doc_name = sb_strndup(doc.ptr, doc.len);
    c->user_id = sb_strdup(who->user_id);
    c->name = sb_strdup(who->name ? who->name : "");
    c->can_write = who->can_write;
    *out = c;
    return COLLAB_ADMIT_OK;
}

static void conn_release_place(collab_conn *c)
{
    collab_hub *h = c->hub;
    pthread_mutex_lock(&h->lock);
    count_add(&h->per_user, c->user_id, -1);
    count_add(&h->per_doc, c->key, -1);
    pthread_mutex_unlock(&h->lock);
}

static void ws_message(net_ws *ws, int opcode, const uint8_t *data, size_t len, void *ctx)
{
    collab_conn *c = ctx;
    if (opcode != NET_WS_BINARY) {
        net_ws_close(ws, 1003, "y-websocket messages are binary");
        return;
    }
    msg_post *m = sb_malloc(sizeof(*m) + len);
    conn_ref(c);
    m->conn = c;
    m->len = len;
    memcpy(m->data, data, len);
    net_loop_post(c->room_loop, on_msg, m);
}

static void ws_close(net_ws *ws, void *ctx)
{
    collab_conn *c = ctx;
    c->ws = NULL;
    conn_release_place(c);
    net_loop_post(c->room_loop, on_leave, c); /* on_leave drops the room's reference */
    conn_unref(c);                            /* the connection loop's */
}

static const net_ws_handlers collab_handlers = {.on_message = ws_message, .on_close = ws_close};

const net_ws_handlers *collab_ws_handlers(void)
{
    return &collab_handlers;
}

void collab_conn_start(collab_conn *c, net_ws *ws)
{
    if (!ws) {
        conn_release_place(c);
        conn_unref(c);
        return;
    }
    net_server *s = net_loop_server(net_ws_loop(ws));
    unsigned n = net_server_threads(s);
    c->loop = net_ws_loop(ws);
    c->room_loop = net_server_loop(s, (unsigned)(sb_hash(c->key, strlen(c->key)) % n));
    c->ws = ws;
    net_ws_set_max_queue(ws, c->hub->lim.max_queue);
    conn_ref(c); /* the room's, until on_leave */
    net_loop_hold(c->room_loop);
    net_loop_post(c->room_loop, on_join, c);
}

/* ---- shutdown ---- */

void collab_loop_stop(collab_hub *h, net_loop *loop)
{
    /* Drained: no member is left and no job is out, so every room of this
     * loop is idle; take them out of the map and free them. */
    for (;;) {
        collab_room *found = NULL;
        pthread_mutex_lock(&h->lock);
        size_t it = 0;
        sb_map_entry *e;
        while ((e = sb_map_next(&h->rooms, &it)) != NULL) {
            collab_room *r = e->value;
            if (r->loop == loop) {
                found = r;
                break;
            }
        }
        pthread_mutex_unlock(&h->lock);
        if (!found)
            break;
        if (found->nmembers != 0 || found->job_running) {
            sb_log(SB_LOG_WARN, "collab: a room is still busy at shutdown",
                   SB_LOG_STR("doc", found->doc_name));
            break; /* the drain hit its deadline: leave it to the exit */
        }
        if (found->nqueue > 0)
            sb_log(SB_LOG_WARN, "collab: updates not stored at shutdown",
                   SB_LOG_INT("updates", (int64_t)found->nqueue));
        room_free(found);
    }
}

/* ---- presence ---- */

/* Writes the value of key in the JSON object text s, if present. */
static void write_member(sb_jw *w, json_t *state, const char *key, bool *done)
{
    json_t *v = state ? json_object_get(state, key) : NULL;
    if (v && !*done) {
        sb_jw_key(w, key);
        sb_jw_json(w, v);
        *done = true;
    }
}

void collab_presence_write(collab_hub *h, const char *project_id, int64_t now_us, sb_jw *w)
{
    (void)now_us;
    uint64_t now_ns = sb_mono_ns();
    sb_jw_obj_begin(w);
    sb_jw_key(w, "items");
    sb_jw_arr_begin(w);
    pthread_mutex_lock(&h->lock);
    size_t it = 0;
    sb_map_entry *e;
    while ((e = sb_map_next(&h->rooms, &it)) != NULL) {
        collab_room *r = e->value;
        if (strcmp(r->project_id, project_id) != 0)
            continue;
        uint64_t timeout_ns = (uint64_t)h->lim.awareness_timeout_ms * 1000000;
        for (size_t i = 0; i < r->nmembers; i++) {
            collab_conn *c = r->members[i];
            sb_jw_obj_begin(w);
            sb_jw_kv_str(w, "user_id", c->user_id);
            sb_jw_kv_str(w, "name", c->name);
            sb_jw_kv_str(w, "doc", c->doc_name);
            bool cursor = false, selection = false;
            sb_jw_key(w, "clients");
            sb_jw_arr_begin(w);
            for (size_t k = 0; k < r->naw; k++) {
                aw_entry *a = &r->aw[k];
                if (a->conn != c || now_ns - a->renewed_ns > timeout_ns)
                    continue;
                json_t *st = json_loadb(a->state, a->state_len, JSON_DECODE_ANY, NULL);
                sb_jw_obj_begin(w);
                sb_jw_key(w, "client_id");
                sb_jw_uint(w, a->client);
                sb_jw_key(w, "state");
                if (st)
                    sb_jw_json(w, st);
                else
                    sb_jw_null(w);
                sb_jw_obj_end(w);
                json_decref(st);
            }
            sb_jw_arr_end(w);
            for (size_t k = 0; k < r->naw; k++) {
                aw_entry *a = &r->aw[k];
                if (a->conn != c || now_ns - a->renewed_ns > timeout_ns)
                    continue;
                json_t *st = json_loadb(a->state, a->state_len, 0, NULL);
                write_member(w, json_is_object(st) ? st : NULL, "cursor", &cursor);
                write_member(w, json_is_object(st) ? st : NULL, "selection", &selection);
                json_decref(st);
            }
            if (!cursor) {
                sb_jw_key(w, "cursor");
                sb_jw_null(w);
            }
            if (!selection) {
                sb_jw_key(w, "selection");
                sb_jw_null(w);
            }
            sb_jw_obj_end(w);
        }
    }
    pthread_mutex_unlock(&h->lock);
    sb_jw_arr_end(w);
    sb_jw_obj_end(w);
}
