/*
 * collab_int.h: what the files of collab/ share: the hub, rooms and
 * connections, and the functions between them (collab__*).
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
 * _vector validates the whole encoding) and queued; it is applied to the
 * room's document and broadcast to the other members only once durable.
 * With one node (hub->journal_dir), at the end of the loop's turn every
 * room's queue goes as a record into the loop's journal in one write, is
 * applied and broadcast, and goes to the hub's writer, which folds the
 * records into the log later (journal.h). With several, the queue is
 * handed as a batch (one batch out at a time per room) to the writer,
 * which commits the batches of every room waiting in one transaction
 * (writer.c) before the room applies them. A sync step 1 therefore
 * always answers with durable content. When the log has compact_after
 * rows, and holds at least half the bytes of the state, a pool job folds
 * it into the merged state, beside the writes (only its last step takes
 * the write lock; room_store.c says why the size counts).
 *
 * Awareness. Entries are kept per client id with the connection that
 * announced them; relayed as they come; removed (with a "null" state
 * broadcast) when that connection leaves or when the entry was not renewed
 * within the awareness timeout.
 *
 * Several nodes (nodes.c). Each node serving a document has a room for it;
 * the rooms share the log in storage (seqs taken in the append's
 * transaction) and tell each other, over the bus, each update stored
 * (with its seq) and each awareness change. A room tracks the seqs its
 * document holds and reads the ones it missed from the log.
 *
 * Never: touch a net_ws off its loop; broadcast an update before it is
 * durable (its journal record written, or its log write committed); free
 * a room with a job in flight or members in it, or evict one whose
 * journal records are not folded.
 */
#ifndef SB_COLLAB_INT_H
#define SB_COLLAB_INT_H

#include <assert.h>
#include <pthread.h>
#include <stdatomic.h>

#include "base/map.h"
#include "bus/bus.h"
#include "collab/collab.h"
#include "collab/journal.h"
#include "collab/proto.h"
#include "crdt/crdt.h"
#include "net/post.h"

#define PROJECT_ID_MAX 64

#define AWARENESS_MAX_CLIENTS 1024 /* entries in one awareness update */

struct collab_hub {
    collab_limits lim;    /* read-only */
    net_workers *workers; /* read-only */
    net_workers *writer;  /* read-only: the writer job's pool (writer.c) */
    net_workers *fore;    /* read-only: loads, catch-ups, materialises */
    store *(*worker_store)(void);
    bus *bus;             /* NULL: one node; read-only */
    uint64_t node_id;     /* bus_node_id(bus); read-only */
    collab_binding bind;  /* read-only once the loops run */
    pthread_mutex_t lock; /* guards everything below, and each room's members and aw */
    sb_map rooms;         /* key -> collab_room */
    sb_map per_user;      /* user id -> open connections (uintptr_t) */
    sb_map per_doc;       /* key -> open connections (uintptr_t) */
    sb_map per_member;    /* project_id "/" user_id -> open connections (uintptr_t) */

    /* branch.c's split of bind (read-only, like it): branch documents'
     * binding and the one bound before it */
    collab_binding branch_bind, inner_bind;

    /* writer.c: rooms' batches waiting for the one writer */
    pthread_mutex_t wlock;            /* guards the three below */
    struct collab_wjob *wq, *wq_tail; /* in submission order */
    bool writer_running;              /* a pool job is writing (or about to) */

    /* journal.h: with one node, rooms append to their loop's journal and
     * the writer folds the records (journal_dir NULL: every batch waits
     * for its commit, as several nodes need) */
    char *journal_dir;              /* read-only once the loops run */
    int64_t fold_delay_ms;          /* read-only: records wait this long to be folded */
    atomic_int_fast64_t next_gen;   /* of journal files */
    struct collab_jloop **journals; /* wlock: by loop index */
    size_t njournals;
    bool fold_hurry;      /* wlock: someone waits for the fold (settle) */
    atomic_bool closing;  /* the loops are stopping: give up on a failing store */
    pthread_cond_t wcond; /* with wlock: a fold ended, or hurry or close */
};

/* A loop's journal and the rooms whose updates wait for its next write
 * (the end of the loop's turn). The loop's thread, but for jl's atomics. */
typedef struct collab_jloop {
    collab_hub *hub;
    net_loop *loop;
    collab_journal *jl;
    struct collab_room **dirty;
    size_t ndirty, dirty_cap;
    bool armed; /* the flush is queued for the turn's end */
} collab_jloop;

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
    int64_t rest_ver;    /* a REST write's row version; 0: a client's update */
} pending;

/* A REST write's content for a room that is still loading. */
typedef struct room_edit {
    struct room_edit *next;
    collab_kind kind;
    int64_t version; /* of the REST item */
    size_t len;
    char content[];
} room_edit;

/* One client id's awareness entry. */
typedef struct aw_entry {
    uint64_t client, clock;
    char *state; /* JSON text, never "null" (removed entries are dropped) */
    size_t state_len;
    collab_conn *conn; /* who announced it (no reference: dropped at its leave); NULL: remote */
    uint64_t node;     /* the node whose client it is (0: this one) */
    uint64_t rconn;    /* on that node, the connection's id (nodemsg_conn.id) */
    uint64_t renewed_ns;
} aw_entry;

/* A connection of another node, as its last beat listed it (presence). */
typedef struct peer_conn {
    uint64_t id;
    char *user_id, *name, *doc;
} peer_conn;

/* Another node serving the room's document (nodes.c). */
typedef struct node_peer {
    uint64_t node;
    uint64_t heard_ns; /* the last message from it */
    peer_conn *conns;  /* its connections to the document */
    size_t nconns;
} node_peer;

/* A message from another node, waiting while the room loads. */
typedef struct busmsg {
    struct busmsg *next;
    uint64_t from;
    size_t len;
    uint8_t data[];
} busmsg;

typedef struct collab_room {
    collab_hub *hub;
    net_loop *loop; /* the owner; every field below is its thread's */
    char *key;      /* project_id "/" doc */
    char project_id[PROJECT_ID_MAX];
    char *doc_name;
    room_state state;
    crdt_doc *doc;
    int64_t have_seq; /* every update up to this seq is in doc */
    int64_t nlog;
    inmsg *inbox, *inbox_tail;
    /* members and aw are also read by the presence route: hub->lock */
    collab_conn **members;
    size_t nmembers, members_cap;
    aw_entry *aw;
    size_t naw, aw_cap;
    pending *queue; /* waiting for a job */
    size_t nqueue, queue_cap, queue_bytes;
    pending *inflight; /* the write job's batch, applied when it is stored */
    size_t ninflight;
    bool job_running;              /* a load or write job is out */
    bool compact_running;          /* a compaction job is out (beside writes) */
    int64_t compact_base;          /* nlog when it started: the rows it folds */
    int64_t log_bytes;             /* of the rows this room logged since the state */
    int64_t compact_base_bytes;    /* log_bytes when the compaction started */
    int64_t state_bytes;           /* the state the last compaction stored; 0: unknown */
    room_edit *edits, *edits_tail; /* REST writes waiting for the load */
    bool mat_running;              /* a materialise job is out */
    bool mat_dirty;                /* the REST view is behind the document */
    bool mat_held;                 /* mat_pace is armed and holds the loop */
    net_tick *mat_pace;            /* starts the next materialise (NET_TICK_SHORT) */
    uint64_t mat_started_ns;       /* when the last materialise job started */
    /* REST row versions. rest_ver is the newest the applied document
     * holds: the If-Match of a materialise, whose content is rendered from
     * the applied document. rest_seen is the newest queued, which may still
     * be waiting for storage: a REST write at or below it is older content. */
    int64_t rest_ver, rest_seen;
    net_tick *tick;
    int64_t idle_ms;            /* time spent empty */
    struct collab_jloop *jloop; /* the loop's journal; NULL: not journaling */
    bool jdirty;                /* in jloop's dirty list */
    uint64_t jrec;              /* the journal's record number of our last batch */
    /* several nodes (nodes.c) */
    uint64_t bus_sub; /* the document's subscription; 0: none */
    bool bus_closed;  /* hub->lock: the loop is stopping, post nothing */
    int64_t *ahead;   /* seqs > have_seq that doc holds */
    size_t nahead, ahead_cap;
    int64_t known_head;             /* the highest head another node announced */
    int64_t peer_rest_ver;          /* a REST version announced, taken once doc caught up */
    unsigned gap_ticks, beat_ticks; /* ticks a gap has lasted; ticks since our beat */
    bool catchup_running;           /* a job reads the updates we missed */
    bool catchup_wanted;            /* the bus reconnected: read the log at the next tick */
    busmsg *rinbox, *rinbox_tail;   /* other nodes' messages while loading */
    size_t rinbox_bytes;
    node_peer *peers; /* hub->lock for the readers on other threads */
    size_t npeers, peers_cap;
} collab_room;

struct collab_conn {
    atomic_int refs;
    collab_hub *hub;     /* read-only */
    net_loop *loop;      /* the connection's loop; read-only */
    net_loop *room_loop; /* read-only */
    /* key: project_id "/" the stored document (collab_doc_canonical);
     * doc_name: the name the client connected with (presence) */
    char *key, *project_id, *doc_name, *user_id, *name; /* read-only */
    bool can_write;                                     /* read-only */
    net_ws *ws;        /* connection's loop; NULL once the socket is gone */
    collab_room *room; /* room's loop: set by join */
    bool left;         /* room's loop: the leave was handled */
    bool denied_told;  /* room's loop: permission-denied was sent once */
};

/* A message to send, shared by every member of a broadcast. */
typedef struct outmsg {
    atomic_int refs;
    size_t len;
    uint8_t data[];
} outmsg;

/* One message to several members on one loop (a broadcast's share). */
typedef struct outbatch {
    outmsg *msg; /* holds a reference */
    size_t n;
    collab_conn *conns[]; /* each holds a reference */
} outbatch;

typedef struct outpost {
    collab_conn *conn; /* holds a reference */
    outmsg *msg;       /* holds a reference; NULL for a close */
    uint16_t code;
    char reason[64];
} outpost;

/* hub.c */
uintptr_t collab__count_add(sb_map *m, const char *key, int d);
/* per_member's count of user_id in project_id; hub->lock. */
uintptr_t collab__count_add_member(collab_hub *h, const char *project_id, const char *user_id,
                                   int d);

/* conn.c: references and sending (room's loop). */
void collab__conn_ref(collab_conn *c);
void collab__conn_unref(collab_conn *c);
outmsg *collab__out_new(const sb_buf *b);
void collab__out_unref(outmsg *m);
void collab__conn_post(collab_conn *c, outmsg *m, uint16_t code, const char *reason);
/* Posts b to loop, the loop of each of b's members (not the room's). */
void collab__conn_post_batch(net_loop *loop, outbatch *b);
void collab__conn_send(collab_conn *c, const sb_buf *b);
void collab__conn_close(collab_conn *c, uint16_t code, const char *reason);

/* room.c: posted from a connection's loop; the room's own life. */
typedef struct msg_post {
    collab_conn *conn; /* holds a reference */
    size_t len;
    uint8_t data[];
} msg_post;
void collab__on_join(void *arg);  /* arg: the connection (the room's reference) */
void collab__on_msg(void *arg);   /* arg: a msg_post */
void collab__on_leave(void *arg); /* arg: the connection */
void collab__room_free(collab_room *r);
void collab__room_tick(void *arg);
void collab__room_broadcast(collab_room *r, const sb_buf *b, const collab_conn *except);
void collab__room_greet(collab_room *r, collab_conn *c);
void collab__room_drain_inbox(collab_room *r);
/* The room of key, made (and its load started) when there is none or the
 * one there failed and is empty. */
collab_room *collab__room_get(collab_hub *h, net_loop *loop, const char *key,
                              const char *project_id, const char *doc, bool *fresh);
/* Room is busy with storage or the REST view (never freed then). */
bool collab__room_busy(const collab_room *r);

/* bind.c */
void collab__room_apply_edits(collab_room *r); /* once ready */
void collab__room_materialise(collab_room *r); /* after updates were applied */
void collab__room_mat_paced(void *room);       /* r->mat_pace's function */

/* A room's batch for the writer (writer.c): taken on the room's loop,
 * stored by the writer on a pool thread, handed back to the room's loop
 * (collab__room_write_done). Or, with fold set, a compaction: read on the
 * shared pool (room_store.c), then its state stored by the writer and
 * handed back to collab__room_fold_done. */
typedef struct collab_wjob {
    struct collab_wjob *next; /* hub->wlock: in the queue */
    collab_room *r;           /* job_running (compact_running) keeps it; NULL: a record */
    pending *batch;
    size_t n;
    struct collab_fold *fold;
    int64_t first_seq;
    bool ok;
    sb_errbuf err;
    /* a journal record to fold (r NULL): it needs no room, which may go */
    collab_journal *jl;
    uint64_t rec_no;
    int64_t gen, end; /* the mark that folds it */
    size_t bytes;
    char *project_id, *doc;
} collab_wjob;

/* writer.c: one writer per hub commits every room's waiting batch in one
 * transaction (group commit across rooms). */
void collab__writer_submit(collab_hub *h, collab_wjob *j); /* on j->r's loop */
void collab__room_fold_done(void *arg);                    /* room_store.c */
/* Starts the writer when batches wait and the pool refused it before. */
void collab__writer_kick(collab_hub *h, net_loop *loop);
/* Hands n journal records (jl set) to the writer, in order: no answer
 * comes back; jl->folded passes a record's rec_no once it is in the log. */
void collab__writer_submit_records(collab_hub *h, net_loop *loop, collab_wjob **jobs, size_t n);
/* Frees a journal record's job and its updates. */
void collab__record_free(collab_wjob *j);
/* The loop's journal, made at first use. */
collab_jloop *collab__jloop_of(collab_hub *h, net_loop *loop);
/* The room's records are all in the log (or it keeps none). */
bool collab__room_folded(const collab_room *r);
void collab__writer_init(collab_hub *h);
void collab__writer_deinit(collab_hub *h);

/* room_store.c */
void collab__room_write_done(void *arg); /* a collab_wjob, on its room's loop */
/* Whether a log of nlog rows and log_bytes (logged since a state of
 * state_bytes, 0: unknown) is due for compaction at compact_after. */
bool collab__compact_due(int64_t nlog, int64_t log_bytes, int64_t state_bytes, int64_t after);
void collab__room_load_start(collab_room *r);
void collab__room_write_start(collab_room *r);
void collab__room_queue_update(collab_room *r, collab_conn *c, sb_str update);
/* The same for a REST write's update: rest_ver is the row version whose
 * content it makes the document hold, once it is applied. */
void collab__room_queue_rest(collab_room *r, collab_conn *c, sb_str update, int64_t rest_ver);

/* room_msg.c */
void collab__room_handle(collab_room *r, collab_conn *c, const uint8_t *p, size_t n);

/* awareness.c: conn NULL removes the timed-out entries. */
void collab__aw_remove(collab_room *r, const collab_conn *conn, uint64_t now_ns);
void collab__room_awareness(collab_room *r, collab_conn *c, sb_str update);
/* Another node's states for its connection rconn: taken where that node
 * owns the entry (or nobody does), relayed to every member here. */
void collab__aw_remote(collab_room *r, uint64_t node, uint64_t rconn, sb_str update);
/* Drops node's entries (it is gone), telling the members. */
void collab__aw_drop_node(collab_room *r, uint64_t node);
/* Appends the local entries of c (all local ones when c is NULL) as an
 * awareness update body; returns how many. hub->lock not held. */
size_t collab__aw_local_body(collab_room *r, const collab_conn *c, sb_buf *body);

/* nodes.c: the rooms of one document on several nodes, over the bus. */
/* On a worker, before a room loads: subscribes to the document's channel
 * (confirmed), so nothing committed after the load's reads is missed. */
uint64_t collab__bus_subscribe(collab_hub *h, const char *key);
void collab__bus_room_free(collab_room *r);             /* unsubscribes, frees the peers */
void collab__bus_ready(collab_room *r);                 /* loaded: say hello, take what waited */
void collab__bus_tick(collab_room *r);                  /* beats, peers that went quiet, gaps */
void collab__bus_seq_note(collab_room *r, int64_t seq); /* doc holds seq */
void collab__bus_publish_update(collab_room *r, int64_t seq, sb_str update);
/* body: an awareness update body; c NULL for removals of several. */
void collab__bus_publish_awareness(collab_room *r, const collab_conn *c, sb_str body);
/* Beats now (head, REST version, connections), e.g. after materialising
 * raised rest_ver, so the other nodes do not wait for the next beat. */
void collab__bus_announce(collab_room *r);
/* Whether another node's last beat, for a document of project_id open
 * here, listed a connection of user_id; hub->lock held. */
bool collab__bus_user_elsewhere(collab_hub *h, const char *project_id, const char *user_id);
/* The connections other nodes have on key (admission); hub->lock held. */
size_t collab__bus_remote_conns(collab_hub *h, const char *key);
void collab__bus_loop_stop(collab_hub *h, net_loop *loop);
void collab__bus_on_reconnect(void *hub); /* bus_on_reconnect's function */

#endif
