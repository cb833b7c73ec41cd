/*
 * hub.c: the hub every loop shares (limits, the room registry, connection
 * counts under one mutex), document names, and freeing a loop's rooms at
 * shutdown. See collab_int.h for who owns what.
 */
#include "collab/collab_int.h"
#include "base/log.h"
#include "base/utf8.h"
#include "net/server.h"
#include "crdt/crdt.h"

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
    sb_str branch, rest;
    if (collab_doc_branch(doc, &branch, &rest)) /* a branch's document (branch.c) */
        doc = rest;
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

sb_str collab_doc_canonical(sb_str doc, char buf[COLLAB_DOC_MAX + 1])
{
    collab_kind kind;
    sb_str item;
    if (!collab_doc_parse(doc, &kind, &item) || kind != COLLAB_STYLE)
        return doc;
    sb_str branch, rest; /* a branch's style is its code:styles/ document */
    int pre = collab_doc_branch(doc, &branch, &rest) ? (int)(rest.ptr - doc.ptr) : 0;
    int n = snprintf(buf, COLLAB_DOC_MAX + 1, "%.*scode:styles/%.*s.css", pre, doc.ptr,
                     (int)item.len, item.ptr);
    if (n < 0 || n > COLLAB_DOC_MAX)
        return doc; /* too long to be a code name: its own document */
    return sb_str_make(buf, (size_t)n);
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

collab_hub *collab_hub_new(const collab_limits *lim, net_workers *workers, net_workers *writer,
                           net_workers *fore, store *(*worker_store)(void), bus *b)
{
    collab_hub *h = sb_calloc(1, sizeof(*h));
    h->lim = *lim;
    h->workers = workers;
    h->writer = writer ? writer : workers;
    h->fore = fore ? fore : workers;
    h->worker_store = worker_store;
    h->bus = b;
    h->node_id = b ? bus_node_id(b) : 0;
    if (b)
        bus_on_reconnect(b, collab__bus_on_reconnect, h);
    pthread_mutex_init(&h->lock, NULL);
    collab__writer_init(h);
    sb_map_init(&h->rooms);
    sb_map_init(&h->per_user);
    sb_map_init(&h->per_doc);
    sb_map_init(&h->per_member);
    return h;
}

bool collab_hub_journal(collab_hub *h, store *db, const char *dir, int64_t fold_delay_ms,
                        sb_errbuf *err)
{
    /* What an earlier run left is folded whatever this one does: a node
     * that joins others now must not leave its own updates behind. */
    int64_t gen;
    if (!collab_journal_recover(db, dir, &gen, err))
        return false;
    /* mem:// is this process alone; another driver joins other nodes */
    if (h->bus && strcmp(bus_driver_name(h->bus), "mem") != 0)
        return true;
    atomic_store(&h->next_gen, gen);
    h->journal_dir = sb_strdup(dir);
    h->fold_delay_ms = fold_delay_ms;
    return true;
}

void collab_hub_free(collab_hub *h)
{
    if (!h)
        return;
    if (h->bus)
        bus_on_reconnect(h->bus, NULL, NULL);
    /* Rooms still here belong to loops cut off at the drain deadline: the
     * process is exiting and they may still be in use, so they stay. */
    sb_map_deinit(&h->rooms);
    sb_map_deinit(&h->per_user);
    sb_map_deinit(&h->per_doc);
    sb_map_deinit(&h->per_member);
    pthread_mutex_destroy(&h->lock);
    collab__writer_deinit(h);
    free(h);
}

/* Adds d to a counter map; the entry goes when it reaches 0. hub->lock. */
uintptr_t collab__count_add(sb_map *m, const char *key, int d)
{
    sb_str k = sb_str_c(key);
    uintptr_t n = (uintptr_t)sb_map_get(m, k) + (uintptr_t)(intptr_t)d;
    if (n == 0)
        sb_map_del(m, k);
    else
        sb_map_put(m, k, (void *)n);
    return n;
}

uintptr_t collab__count_add_member(collab_hub *h, const char *project_id, const char *user_id,
                                   int d)
{
    char key[PROJECT_ID_MAX + 1 + 128];
    snprintf(key, sizeof(key), "%s/%s", project_id, user_id);
    return collab__count_add(&h->per_member, key, d);
}

/* ---- shutdown ---- */

void collab_loop_stop(collab_hub *h, net_loop *loop)
{
    /* Drained: no member is left and no job is out, so every room of this
     * loop is idle; take them out of the map and free them. First, the bus
     * must post nothing more here. */
    collab__bus_loop_stop(h, loop);
    /* The writer stops retrying a failing store: what it cannot fold now
     * stays in the journal for the next start. */
    pthread_mutex_lock(&h->wlock);
    /* Every turn's end ran, the last one's too (net__turn_end follows each
     * round), so no room waits for a journal write. */
    assert(net_loop_index(loop) >= h->njournals || !h->journals[net_loop_index(loop)] ||
           !h->journals[net_loop_index(loop)]->armed);
    atomic_store(&h->closing, true);
    pthread_cond_broadcast(&h->wcond);
    pthread_mutex_unlock(&h->wlock);
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
        if (found->nmembers != 0 || collab__room_busy(found)) {
            sb_log(SB_LOG_WARN, "collab: a room is still busy at shutdown",
                   SB_LOG_STR("doc", found->doc_name));
            break; /* the drain hit its deadline: leave it to the exit */
        }
        if (found->nqueue > 0)
            sb_log(SB_LOG_WARN, "collab: updates not stored at shutdown",
                   SB_LOG_INT("updates", (int64_t)found->nqueue));
        collab__room_free(found);
    }
}
