/*
 * nodes.c: one document served by rooms on several nodes, over the bus
 * (docs/collab.md, "Several nodes"). Each room subscribes to its
 * document's channel before it loads; every update it stores is published
 * with its seq in the shared log, every awareness change of its clients
 * with the connection it came from; what other nodes publish is applied
 * here (never stored again: it is durable already) and sent to the local
 * members.
 *
 * Delivery is at most once, so a room knows which seqs it holds: have_seq
 * (all up to it) and ahead (some above). A gap (ahead not empty, or a peer
 * announcing a higher head) that outlives a tick or two (messages from
 * different nodes may cross) is repaired by reading the log from have_seq
 * on (catch_up). A node that reconnects to Redis catches up every room.
 *
 * Each room beats every BEAT_TICKS ticks: its head, REST version and
 * connections (for the other nodes' presence and client limits). A peer
 * not heard from for PEER_TIMEOUT_MS is gone (killed): its awareness
 * states are removed here.
 *
 * Threads: the bus callback runs on the bus's delivery thread; it only
 * copies the message and posts it to the room's loop, found by key under
 * hub->lock (only that loop makes or frees the room, and room_free
 * unsubscribes first). Everything else runs on the room's loop, but the
 * catch-up's read, on the pool.
 */
#include "collab/collab_int.h"

#include "base/clock.h"
#include "base/log.h"
#include "collab/nodemsg.h"
#include "collab/persist.h"

#define BEAT_TICKS      2           /* a beat about every 2 s */
#define PEER_TIMEOUT_MS 7000        /* a peer silent this long is gone */
#define GAP_TICKS       2           /* a gap lasting this many ticks is read from the log */
#define AHEAD_MAX       4096        /* seqs remembered above have_seq; past it, catch up */
#define RINBOX_MAX      (16u << 20) /* bytes of messages kept while a room loads */
#define PEERS_MAX       256         /* nodes a room keeps track of */

/* "collab:" and 16 hex digits of the key's hash: keys may hold any UTF-8
 * and be longer than a channel name; messages carry the key itself. The
 * hash must be the same in every process (sb_hash is seeded per process):
 * FNV-1a, 64 bits. */
static void channel_of(const char *key, char out[32])
{
    uint64_t h = 0xcbf29ce484222325ull;
    for (const unsigned char *p = (const unsigned char *)key; *p; p++)
        h = (h ^ *p) * 0x100000001b3ull;
    snprintf(out, 32, "collab:%016llx", (unsigned long long)h);
}

/* ---- from the bus's thread ---- */

typedef struct bus_post {
    collab_hub *hub;
    char *key;
    uint64_t from;  /* node */
    bool reconnect; /* no message: catch up */
    size_t len;
    uint8_t data[];
} bus_post;

static void on_bus_post(void *arg);

static void post_to_room(collab_hub *h, const char *key, uint64_t from, const uint8_t *p, size_t n,
                         bool reconnect)
{
    pthread_mutex_lock(&h->lock);
    collab_room *r = sb_map_get(&h->rooms, sb_str_c(key));
    if (r && !r->bus_closed) {
        bus_post *bp = sb_malloc(sizeof(*bp) + n);
        bp->hub = h;
        bp->key = sb_strdup(key);
        bp->from = from;
        bp->reconnect = reconnect;
        bp->len = n;
        if (n)
            memcpy(bp->data, p, n);
        /* Under the lock: the loop stays up while a room of it is open
         * and not closed (collab__bus_loop_stop closes them first). */
        net_loop_post(r->loop, on_bus_post, bp);
    }
    pthread_mutex_unlock(&h->lock);
}

static void on_bus_msg(void *ctx, const bus_msg *msg)
{
    collab_hub *h = ctx;
    nodemsg m;
    if (!nodemsg_decode(msg->data, msg->len, &m)) {
        sb_log(SB_LOG_WARN, "collab: a malformed message on the bus",
               SB_LOG_INT("bytes", (int64_t)msg->len));
        return;
    }
    char key[PROJECT_ID_MAX + 2 + COLLAB_DOC_MAX];
    if (m.key.len >= sizeof(key))
        return;
    memcpy(key, m.key.ptr, m.key.len);
    key[m.key.len] = '\0';
    post_to_room(h, key, msg->from_node, msg->data, msg->len, false);
}

/* The bus reconnected: what was published meanwhile is lost; every room
 * reads the log for it. */
void collab__bus_on_reconnect(void *ctx)
{
    collab_hub *h = ctx;
    sb_buf keys = SB_BUF_INIT;
    pthread_mutex_lock(&h->lock);
    size_t it = 0;
    sb_map_entry *e;
    while ((e = sb_map_next(&h->rooms, &it)) != NULL) {
        collab_room *r = e->value;
        sb_buf_append(&keys, r->key, strlen(r->key) + 1);
    }
    pthread_mutex_unlock(&h->lock);
    for (size_t off = 0; off < keys.len; off += strlen(keys.ptr + off) + 1)
        post_to_room(h, keys.ptr + off, 0, NULL, 0, true);
    sb_buf_free(&keys);
}

uint64_t collab__bus_subscribe(collab_hub *h, const char *key)
{
    if (!h->bus)
        return 0;
    char ch[32];
    channel_of(key, ch);
    uint64_t id = 0;
    bus_err e =
        bus_subscribe(h->bus, sb_str_c(ch), BUS_SKIP_OWN | BUS_CONFIRMED, on_bus_msg, h, &id);
    if (e != BUS_OK)
        /* Down or slow: the subscription exists all the same. What it
         * misses meanwhile shows as a gap (the peers' next update or beat)
         * or is announced by the reconnect, and is read from the log. */
        sb_log(SB_LOG_WARN, "collab: document subscription not confirmed",
               SB_LOG_STR("error", bus_strerror(e)));
    return id;
}

void collab__bus_loop_stop(collab_hub *h, net_loop *loop)
{
    pthread_mutex_lock(&h->lock);
    size_t it = 0;
    sb_map_entry *e;
    while ((e = sb_map_next(&h->rooms, &it)) != NULL) {
        collab_room *r = e->value;
        if (r->loop == loop)
            r->bus_closed = true;
    }
    pthread_mutex_unlock(&h->lock);
}

/* ---- peers ---- */

static void peer_conns_free(node_peer *p)
{
    for (size_t i = 0; i < p->nconns; i++) {
        free(p->conns[i].user_id);
        free(p->conns[i].name);
        free(p->conns[i].doc);
    }
    free(p->conns);
    p->conns = NULL;
    p->nconns = 0;
}

/* The peer entry of node, made if new (NULL past PEERS_MAX: such a node's
 * states still time out by the awareness timeout); hub->lock held. */
static node_peer *peer_get(collab_room *r, uint64_t node)
{
    for (size_t i = 0; i < r->npeers; i++)
        if (r->peers[i].node == node)
            return &r->peers[i];
    if (r->npeers == PEERS_MAX)
        return NULL;
    if (r->npeers == r->peers_cap) {
        r->peers_cap = r->peers_cap ? r->peers_cap * 2 : 4;
        r->peers = sb_realloc(r->peers, r->peers_cap * sizeof(*r->peers));
    }
    node_peer *p = &r->peers[r->npeers++];
    *p = (node_peer){.node = node};
    return p;
}

static void peer_heard(collab_room *r, uint64_t node, const nodemsg *beat)
{
    pthread_mutex_lock(&r->hub->lock);
    node_peer *p = peer_get(r, node);
    if (p)
        p->heard_ns = sb_mono_ns();
    if (p && beat) {
        peer_conns_free(p);
        if (beat->nconns)
            p->conns = sb_calloc(beat->nconns, sizeof(*p->conns));
        sb_str rest = beat->conns;
        nodemsg_conn c;
        while (p->nconns < beat->nconns && nodemsg_conns_next(&rest, &c)) {
            peer_conn *pc = &p->conns[p->nconns++];
            pc->id = c.id;
            pc->user_id = sb_strndup(c.user_id.ptr, c.user_id.len);
            pc->name = sb_strndup(c.name.ptr, c.name.len);
            pc->doc = sb_strndup(c.doc.ptr, c.doc.len);
        }
    }
    pthread_mutex_unlock(&r->hub->lock);
}

size_t collab__bus_remote_conns(collab_hub *h, const char *key)
{
    collab_room *r = sb_map_get(&h->rooms, sb_str_c(key));
    size_t n = 0;
    for (size_t i = 0; r && i < r->npeers; i++)
        n += r->peers[i].nconns;
    return n;
}

bool collab__bus_user_elsewhere(collab_hub *h, const char *project_id, const char *user_id)
{
    size_t it = 0;
    sb_map_entry *e;
    while ((e = sb_map_next(&h->rooms, &it)) != NULL) {
        const collab_room *r = e->value;
        if (strcmp(r->project_id, project_id) != 0)
            continue;
        for (size_t p = 0; p < r->npeers; p++)
            for (size_t i = 0; i < r->peers[p].nconns; i++)
                if (strcmp(r->peers[p].conns[i].user_id, user_id) == 0)
                    return true;
    }
    return false;
}

void collab__bus_room_free(collab_room *r)
{
    if (r->bus_sub)
        bus_unsubscribe(r->hub->bus, r->bus_sub);
    for (busmsg *m = r->rinbox; m;) {
        busmsg *next = m->next;
        free(m);
        m = next;
    }
    /* Admission and presence on other loops read the peers while the room
     * is in the map (it still is). */
    pthread_mutex_lock(&r->hub->lock);
    for (size_t i = 0; i < r->npeers; i++)
        peer_conns_free(&r->peers[i]);
    free(r->peers);
    r->peers = NULL;
    r->npeers = r->peers_cap = 0;
    pthread_mutex_unlock(&r->hub->lock);
    free(r->ahead);
    r->ahead = NULL;
    r->nahead = r->ahead_cap = 0;
}

/* ---- seqs and gaps ---- */

static bool have(const collab_room *r, int64_t seq)
{
    if (seq <= r->have_seq)
        return true;
    for (size_t i = 0; i < r->nahead; i++)
        if (r->ahead[i] == seq)
            return true;
    return false;
}

/* Moves have_seq over the seqs of ahead that now follow it. */
static void absorb(collab_room *r)
{
    bool moved = true;
    while (moved) {
        moved = false;
        for (size_t i = 0; i < r->nahead;) {
            if (r->ahead[i] <= r->have_seq + 1) {
                if (r->ahead[i] == r->have_seq + 1)
                    r->have_seq++;
                r->ahead[i] = r->ahead[--r->nahead];
                moved = true;
            } else {
                i++;
            }
        }
    }
}

void collab__bus_seq_note(collab_room *r, int64_t seq)
{
    if (have(r, seq))
        return;
    if (seq == r->have_seq + 1) {
        r->have_seq = seq;
        absorb(r);
        return;
    }
    if (r->nahead == AHEAD_MAX)
        return; /* the gap is repaired from the log; have_seq moves then */
    if (r->nahead == r->ahead_cap) {
        r->ahead_cap = r->ahead_cap ? r->ahead_cap * 2 : 16;
        r->ahead = sb_realloc(r->ahead, r->ahead_cap * sizeof(*r->ahead));
    }
    r->ahead[r->nahead++] = seq;
}

static bool has_gap(const collab_room *r)
{
    return r->nahead > 0 || r->known_head > r->have_seq;
}

/* A REST version another node announced describes its document: it is
 * taken once ours holds everything that node had (no gap), so that we do
 * not materialise older content over the row it wrote. */
static void take_rest_ver(collab_room *r)
{
    if (!has_gap(r) && r->peer_rest_ver > r->rest_ver)
        r->rest_ver = r->peer_rest_ver;
    if (r->rest_ver > r->rest_seen)
        r->rest_seen = r->rest_ver;
}

/* Applies one update from another node or from the log; sends it to the
 * members. true: it changed the document. */
static bool apply_remote(collab_room *r, const void *p, size_t n)
{
    sb_errbuf err = {{0}};
    crdt_err ce = crdt_doc_apply_update(r->doc, p, n, &err);
    if (ce != CRDT_OK) {
        /* Stored, and refused here as on the node that took it. */
        sb_log(SB_LOG_WARN, "collab: update from another node refused",
               SB_LOG_STR("error", err.msg));
        return false;
    }
    sb_buf msg = SB_BUF_INIT;
    collab_msg_sync(&msg, COLLAB_SYNC_UPDATE, p, n);
    collab__room_broadcast(r, &msg, NULL);
    sb_buf_free(&msg);
    return true;
}

typedef struct catchup_job {
    collab_room *r;
    int64_t after;
    sb_buf rows; /* (i64 seq, u64 len, bytes)... */
    bool ok;
    sb_errbuf err;
} catchup_job;

static void catchup_row(void *ctx, int64_t seq, const void *p, size_t n)
{
    catchup_job *j = ctx;
    uint64_t len = n;
    sb_buf_append(&j->rows, &seq, sizeof(seq));
    sb_buf_append(&j->rows, &len, sizeof(len));
    sb_buf_append(&j->rows, p, n);
}

static void catchup_work(void *arg)
{
    catchup_job *j = arg;
    store *db = j->r->hub->worker_store();
    if (!db) {
        sb_errf(&j->err, "the worker has no store connection");
        return;
    }
    j->ok = collab_persist_since(db, j->r->project_id, j->r->doc_name, j->after, catchup_row, j,
                                 &j->err);
}

static void catchup_done(void *arg)
{
    catchup_job *j = arg;
    collab_room *r = j->r;
    r->catchup_running = false;
    bool applied = false;
    if (!j->ok) {
        sb_log(SB_LOG_WARN, "collab: cannot read missed updates", SB_LOG_STR("doc", r->doc_name),
               SB_LOG_STR("error", j->err.msg));
    } else {
        int64_t top = r->have_seq;
        for (size_t off = 0; off < j->rows.len;) {
            int64_t seq;
            uint64_t len;
            memcpy(&seq, j->rows.ptr + off, sizeof(seq));
            memcpy(&len, j->rows.ptr + off + sizeof(seq), sizeof(len));
            off += sizeof(seq) + sizeof(len);
            if (!have(r, seq) && apply_remote(r, j->rows.ptr + off, (size_t)len))
                applied = true;
            if (seq > top)
                top = seq;
            off += (size_t)len;
        }
        /* The log read holds every seq up to top (a state stands for all
         * the seqs it folded). */
        r->have_seq = top;
        absorb(r);
        r->gap_ticks = 0;
        take_rest_ver(r);
    }
    sb_buf_free(&j->rows);
    free(j);
    if (applied)
        collab__room_materialise(r);
    net_tick_arm(r->tick);
}

static void catch_up(collab_room *r)
{
    if (r->catchup_running || r->state != ROOM_READY)
        return;
    catchup_job *j = sb_calloc(1, sizeof(*j));
    j->r = r;
    j->after = r->have_seq;
    j->rows = SB_BUF_INIT;
    if (!net_workers_submit(r->hub->fore, r->loop, catchup_work, catchup_done, j)) {
        free(j); /* the pool is full: the next tick tries again */
        r->catchup_wanted = true;
        return;
    }
    r->catchup_running = true;
    r->catchup_wanted = false;
}

/* ---- publishing (the room's loop) ---- */

static void publish(collab_room *r, const sb_buf *b)
{
    char ch[32];
    channel_of(r->key, ch);
    /* Dropped when the bus is down (counted by the bus): the others catch
     * up from the log when they see the gap or the reconnect. Our own
     * subscription skips what we publish (collab__bus_subscribe). */
    bus_publish_others(r->hub->bus, sb_str_c(ch), b->ptr, b->len);
}

void collab__bus_publish_update(collab_room *r, int64_t seq, sb_str update)
{
    if (!r->hub->bus)
        return;
    sb_buf b = SB_BUF_INIT;
    nodemsg_put_update(&b, sb_str_c(r->key), seq, r->rest_ver, update);
    publish(r, &b);
    sb_buf_free(&b);
}

static nodemsg_conn conn_info(const collab_conn *c)
{
    if (!c)
        return (nodemsg_conn){0};
    return (nodemsg_conn){.id = (uint64_t)(uintptr_t)c,
                          .user_id = sb_str_c(c->user_id),
                          .name = sb_str_c(c->name),
                          .doc = sb_str_c(c->doc_name)};
}

void collab__bus_publish_awareness(collab_room *r, const collab_conn *c, sb_str body)
{
    if (!r->hub->bus)
        return;
    sb_buf b = SB_BUF_INIT;
    nodemsg_conn ci = conn_info(c);
    nodemsg_put_awareness(&b, sb_str_c(r->key), &ci, body);
    publish(r, &b);
    sb_buf_free(&b);
}

static void publish_beat(collab_room *r)
{
    sb_buf b = SB_BUF_INIT;
    size_t n = r->nmembers > NODEMSG_CONNS_MAX ? NODEMSG_CONNS_MAX : r->nmembers;
    nodemsg_put_beat(&b, sb_str_c(r->key), r->have_seq, r->rest_ver, (uint32_t)n);
    for (size_t i = 0; i < n; i++) {
        nodemsg_conn ci = conn_info(r->members[i]);
        nodemsg_put_conn(&b, &ci);
    }
    publish(r, &b);
    sb_buf_free(&b);
    r->beat_ticks = 0;
}

void collab__bus_announce(collab_room *r)
{
    if (r->hub->bus && r->state == ROOM_READY)
        publish_beat(r);
}

/* Our clients' states, one message per connection (presence groups them). */
static void publish_states(collab_room *r)
{
    for (size_t i = 0; i < r->nmembers; i++) {
        sb_buf body = SB_BUF_INIT;
        if (collab__aw_local_body(r, r->members[i], &body))
            collab__bus_publish_awareness(r, r->members[i], sb_buf_str(&body));
        sb_buf_free(&body);
    }
}

/* ---- what other nodes say (the room's loop) ---- */

static void handle(collab_room *r, uint64_t from, const uint8_t *p, size_t n)
{
    nodemsg m;
    if (!nodemsg_decode(p, n, &m) || !sb_str_eq(m.key, sb_str_c(r->key)))
        return; /* another document on a channel whose hash it shares */
    switch (m.type) {
    case NODEMSG_UPDATE:
        peer_heard(r, from, NULL);
        if (m.rest_ver > r->peer_rest_ver)
            r->peer_rest_ver = m.rest_ver;
        if (!have(r, m.seq)) {
            bool applied = apply_remote(r, m.payload.ptr, m.payload.len);
            collab__bus_seq_note(r, m.seq);
            if (applied)
                collab__room_materialise(r);
        }
        take_rest_ver(r);
        break;
    case NODEMSG_AWARENESS:
        peer_heard(r, from, NULL);
        collab__aw_remote(r, from, m.conn.id, m.payload);
        break;
    case NODEMSG_HELLO:
        /* A node opened the document: our beat and our clients' states. */
        peer_heard(r, from, NULL);
        publish_beat(r);
        publish_states(r);
        break;
    case NODEMSG_BEAT:
        peer_heard(r, from, &m);
        if (m.head > r->known_head)
            r->known_head = m.head;
        if (m.rest_ver > r->peer_rest_ver)
            r->peer_rest_ver = m.rest_ver;
        take_rest_ver(r);
        break;
    }
}

static void on_bus_post(void *arg)
{
    bus_post *bp = arg;
    collab_hub *h = bp->hub;
    /* On the room's loop, which alone frees rooms of this key. */
    pthread_mutex_lock(&h->lock);
    collab_room *r = sb_map_get(&h->rooms, sb_str_c(bp->key));
    pthread_mutex_unlock(&h->lock);
    if (!r || r->state == ROOM_FAILED) {
        /* gone, or never to load */
    } else if (bp->reconnect) {
        /* Also a room still loading: its reads may predate what the bus
         * lost. The tick starts the read (once loaded), and the hello makes
         * the others send their states and heads again. */
        r->catchup_wanted = true;
        if (r->state == ROOM_READY) {
            catch_up(r);
            sb_buf b = SB_BUF_INIT;
            nodemsg_put_hello(&b, sb_str_c(r->key));
            publish(r, &b);
            sb_buf_free(&b);
        }
        net_tick_arm(r->tick);
    } else if (r->state == ROOM_LOADING) {
        /* Kept in order until the load is done: what the load already read
         * is skipped then by its seq. */
        if (r->rinbox_bytes + bp->len <= RINBOX_MAX) {
            busmsg *m = sb_malloc(sizeof(*m) + bp->len);
            m->next = NULL;
            m->from = bp->from;
            m->len = bp->len;
            memcpy(m->data, bp->data, bp->len);
            if (r->rinbox_tail)
                r->rinbox_tail->next = m;
            else
                r->rinbox = m;
            r->rinbox_tail = m;
            r->rinbox_bytes += bp->len;
        }
        /* else dropped: the peers' beats show the gap, read from the log */
    } else {
        handle(r, bp->from, bp->data, bp->len);
        net_tick_arm(r->tick);
    }
    free(bp->key);
    free(bp);
}

void collab__bus_ready(collab_room *r)
{
    if (!r->hub->bus)
        return;
    while (r->rinbox) {
        busmsg *m = r->rinbox;
        r->rinbox = m->next;
        handle(r, m->from, m->data, m->len);
        free(m);
    }
    r->rinbox_tail = NULL;
    r->rinbox_bytes = 0;
    sb_buf b = SB_BUF_INIT;
    nodemsg_put_hello(&b, sb_str_c(r->key));
    publish(r, &b);
    sb_buf_free(&b);
    publish_beat(r);
}

void collab__bus_tick(collab_room *r)
{
    if (!r->hub->bus || r->state != ROOM_READY)
        return;
    if (++r->beat_ticks >= BEAT_TICKS)
        publish_beat(r);
    /* Peers gone quiet: killed, or cut off. Their clients' states go. */
    uint64_t now = sb_mono_ns();
    for (size_t i = 0; i < r->npeers;) {
        node_peer *p = &r->peers[i];
        if (now - p->heard_ns <= (uint64_t)PEER_TIMEOUT_MS * 1000000) {
            i++;
            continue;
        }
        uint64_t node = p->node;
        pthread_mutex_lock(&r->hub->lock);
        peer_conns_free(p);
        r->peers[i] = r->peers[--r->npeers];
        pthread_mutex_unlock(&r->hub->lock);
        collab__aw_drop_node(r, node);
    }
    if (r->catchup_wanted) {
        catch_up(r);
    } else if (has_gap(r)) {
        if (++r->gap_ticks >= GAP_TICKS || r->nahead >= AHEAD_MAX)
            catch_up(r);
    } else {
        r->gap_ticks = 0;
    }
}
