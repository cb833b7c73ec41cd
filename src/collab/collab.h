/*
 * collab.h: real-time collaboration rooms (docs/collab.md). One room per
 * open document, owned by one loop thread: the loop whose index is the
 * hash of the room's key (project id and document name) modulo the loop
 * count. Connections live on whichever loop accepted them and exchange
 * messages with their room through net_loop_post; nothing of a room is
 * touched by another thread except its presence table and member list,
 * which hub->lock guards for the presence route.
 *
 * Durability: an update a client sends is checked (framing and Yjs
 * structure), appended to the document's log on the worker pool (several
 * waiting updates share one transaction), and only then applied to the
 * room's document and broadcast. So whatever any client has received from
 * the server is in storage, and the room's document never holds anything
 * that is not.
 *
 * The protocol is y-websocket's (collab/proto.h): one document per
 * connection.
 *
 * Several nodes sharing the database and a bus serve one document
 * together: each has a room, the rooms pass updates and awareness over the
 * bus and read what the bus lost from the shared log (nodes.c).
 */
#ifndef SB_COLLAB_COLLAB_H
#define SB_COLLAB_COLLAB_H

#include "base/json.h"
#include "crdt/crdt.h"
#include "net/req.h"
#include "net/workers.h"
#include "net/ws.h"
#include "store/store.h"

typedef struct collab_hub collab_hub;
typedef struct collab_conn collab_conn;

typedef struct collab_limits {
    unsigned max_clients;         /* connections to one document; default 500 */
    unsigned max_conns_per_user;  /* open collaboration connections of one user; 20 */
    size_t max_queue;             /* bytes waiting to go to one client before it is dropped */
    size_t max_pending;           /* bytes of one room's updates waiting for storage */
    int64_t evict_grace_ms;       /* an empty room stays loaded this long; 30 s */
    unsigned compact_after;       /* log rows that trigger compaction; 200 */
    int64_t awareness_timeout_ms; /* y-protocols' outdatedTimeout; 30 s */
} collab_limits;

collab_limits collab_limits_default(void);

typedef struct bus bus;

/* worker_store gives a pool job its thread's store connection (NULL if it
 * has none). workers runs compactions' reads (background work: the shared
 * pool, at low priority). writer is the pool of the one job that stores
 * every room's updates, and fore runs the jobs someone waits on (loads,
 * catch-ups, the REST view's writes); both at normal priority, and NULL
 * means workers. b is the bus to the other nodes serving the same
 * documents (docs/collab.md, "Several nodes"), or NULL for one node; it
 * must outlive the hub. The hub must outlive the server's loops. */
collab_hub *collab_hub_new(const collab_limits *lim, net_workers *workers, net_workers *writer,
                           net_workers *fore, store *(*worker_store)(void), bus *b);
/* After every loop has stopped (collab_loop_stop ran on each). */
void collab_hub_free(collab_hub *h);

/* Before the loops start: folds into db what a crash left in dir's
 * journal; then, with one node (no bus, or mem://), has rooms journal
 * their updates there and the writer fold them into the log, waiting
 * fold_delay_ms (0: none) to gather each round (docs/collab.md, "The
 * journal"). With a bus to other nodes no more is journaled: they take
 * seqs in the log's transaction. false (err): a store failure or a
 * corrupt file; start no server. */
bool collab_hub_journal(collab_hub *h, store *db, const char *dir, int64_t fold_delay_ms,
                        sb_errbuf *err);

/* Waits, up to timeout_ms, until every update accepted before the call is
 * in the log: for readers of the stored documents. from: the caller's
 * loop (or NULL off the loops). false: the time ran out. */
bool collab_hub_settle(collab_hub *h, net_loop *from, int64_t timeout_ms);

/* On a loop thread after its drain: frees the rooms it owns. */
void collab_loop_stop(collab_hub *h, net_loop *loop);

/* ---- document names ---- */

typedef enum collab_kind {
    COLLAB_PAGE,      /* "page:<page_id>" */
    COLLAB_CODE,      /* "code:<path>" */
    COLLAB_STYLE,     /* "style:<name>" */
    COLLAB_COMPONENT, /* "component:<id>" */
} collab_kind;

#define COLLAB_DOC_MAX 512 /* bytes of a document name */

/* Parses a document name: kind and the part after the colon (non-empty,
 * valid UTF-8 without control characters, at most COLLAB_DOC_MAX bytes in
 * all). A branch's document ("branch/<name>/page:<id>") parses as its
 * document part. */
bool collab_doc_parse(sb_str doc, collab_kind *kind, sb_str *item);
/* The name a document is stored and roomed under: style:<name> is the
 * file styles/<name>.css, so it is the document code:styles/<name>.css
 * (both are getText('content')): clients of either name edit one
 * document, and the file has one source of truth. Other names are
 * returned as they are (also a style name too long to rewrite). The
 * result may point into buf. doc need not be valid. */
sb_str collab_doc_canonical(sb_str doc, char buf[COLLAB_DOC_MAX + 1]);
/* A branch's document, "branch/<name>/<doc>" (branch.c, docs/vcs.md
 * "Branch rooms"): true with the branch name (1 or more of A-Z a-z 0-9
 * - _ . /) and the document part, which collab_doc_parse then parses like
 * any name; false for every other name. */
bool collab_doc_branch(sb_str doc, sb_str *branch, sb_str *rest);
/* The root type API.md gives the kind's content: ("page", map),
 * ("component", map) or ("content", text); kind_out is a crdt_kind. */
const char *collab_doc_root(collab_kind kind, int *crdt_kind_out);

/* ---- connections ---- */

typedef struct collab_who {
    const char *user_id;
    const char *name; /* shown in presence */
    bool can_write;   /* editors and above; others' updates are refused */
} collab_who;

typedef enum collab_admit {
    COLLAB_ADMIT_OK,
    COLLAB_ADMIT_USER_LIMIT, /* the user has max_conns_per_user open */
    COLLAB_ADMIT_DOC_FULL,   /* the document has max_clients */
} collab_admit;

/* Reserves a place for who in project_id's document doc (a valid name) and
 * makes the connection (strings copied). On anything but OK nothing was
 * made. Then upgrade the request with collab_ws_handlers() and c as ctx,
 * and call collab_conn_start with the result. */
collab_admit collab_conn_new(collab_hub *h, const char *project_id, sb_str doc,
                             const collab_who *who, collab_conn **c);
const net_ws_handlers *collab_ws_handlers(void);
/* ws NULL: the upgrade failed (it answered); the reservation is dropped
 * and c freed. Otherwise c joins its room on the room's loop. */
void collab_conn_start(collab_conn *c, net_ws *ws);

/* ---- presence ---- */

/* Writes {"items": [...]} of the connections open to project_id's
 * documents: {user_id, name, doc, clients: [{client_id, state}], cursor,
 * selection}, where cursor and selection are the first ones found in the
 * connection's awareness states (null if none), and states not renewed
 * within the awareness timeout are left out. Any thread. */
void collab_presence_write(collab_hub *h, const char *project_id, sb_jw *w);

/* ---- the REST view (docs/collab.md, "Documents and the REST API") ---- */

/* How documents meet the pages and files they are the source of truth
 * for. Both run on the worker pool with that thread's store connection;
 * either may be NULL. */
typedef struct collab_binding {
    void *ctx;
    /* When a room loads: *version gets the REST item's version (0: none),
     * and when nothing was ever stored for the document (empty), turns d
     * into the REST content with local edits, appending the update they
     * made to update (nothing appended: nothing to seed). false: the store
     * failed (err); the load fails and the next join retries. */
    bool (*seed)(void *ctx, store *db, const char *project_id, const char *doc, crdt_doc *d,
                 bool empty, sb_buf *update, int64_t *version, sb_errbuf *err);
    /* After updates were stored and applied: writes the REST view from
     * json, the kind's root (collab_doc_root) as JSON, only if the item
     * is still at if_ver (the newest REST version the document holds):
     * a newer REST write is on its way to the room and must not be
     * overwritten. *version: the version written, 0 if nothing was. At
     * most one runs per room at a time; the latest content follows. */
    void (*materialise)(void *ctx, store *db, const char *project_id, const char *doc,
                        const char *json, size_t n, int64_t if_ver, int64_t *version);
    /* Whether doc has a REST view to materialise (NULL: every document
     * has): an unbound document is not rendered after each batch. */
    bool (*binds)(void *ctx, const char *doc);
    /* On loop's thread, when user_id's last connection to any document of
     * project_id has closed (element locks are released then). */
    void (*on_user_left)(void *ctx, net_loop *loop, const char *project_id, const char *user_id);
} collab_binding;

/* Before the loops start. */
void collab_hub_bind(collab_hub *h, const collab_binding *b);
/* Before the loops start, after collab_hub_bind: branch documents
 * (collab_doc_branch) go to b's seed and materialise, the others to the
 * binding bound before; on_user_left stays the one bound before. */
void collab_branch_bind(collab_hub *h, const collab_binding *b);

/* Appends to update the local edits that turn d's content of kind into
 * content: for code and style documents, the text (one delete and one
 * insert around the common prefix and suffix, in UTF-16 units as Yjs
 * counts); for a page, a JSON object whose string members name and path
 * are set when they differ, and whose components (array) and metadata
 * (object) replace the document's when they differ, as API.md's shared
 * types (components: a Y.Array of Y.Maps with props a Y.Map of plain
 * values and children a Y.Array; metadata: a Y.Map of plain values),
 * rebuilt whole. *changed false: nothing to do. CRDT_E_UTF8 / CRDT_E_JSON
 * on content the kind cannot take, and CRDT_E_UNSUPPORTED for components.
 * On an error d may hold part of the edits: use a scratch document. */
crdt_err collab_content_diff(crdt_doc *d, collab_kind kind, sb_str content, sb_buf *update,
                             bool *changed);

/* Makes a document that nothing was stored for (d, empty) hold content:
 * the edits are made on a scratch document, so d stays as it was when
 * content cannot become an update (a binary file), and then applied to d
 * and appended to update (left empty on failure, which is returned). */
crdt_err collab_content_seed(crdt_doc *d, collab_kind kind, sb_str content, sb_buf *update);

/* From any loop thread of the server (from is the caller's): makes the
 * content of project_id's document doc (a valid name) content, through
 * its room: the room (loaded if need be) computes the diff against its
 * document, stores it and broadcasts it to every member, like a client's
 * update. version is the REST item's version the content is: the room
 * applies only contents newer than the newest it holds, so writes that
 * reach it out of order end with the newest. Returns at once; the change
 * is durable a few milliseconds later. Strings are copied. */
void collab_set_content(collab_hub *h, net_loop *from, const char *project_id, sb_str doc,
                        sb_str content, int64_t version);

#endif
