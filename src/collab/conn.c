/*
 * conn.c: a connection's side: admission (per-user and per-document
 * counts), the WebSocket callbacks that post each message to the room's
 * loop, and delivering what the room sends back on the connection's own
 * loop. A net_ws is touched only on its loop; a connection is freed by its
 * last reference.
 */
#include "collab/collab_int.h"
#include "base/hash.h"
#include "base/log.h"
#include "net/server.h"

/* ---- connections: references and posting ---- */

void collab__conn_unref(collab_conn *c)
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

void collab__conn_ref(collab_conn *c)
{
    atomic_fetch_add(&c->refs, 1);
}

outmsg *collab__out_new(const sb_buf *b)
{
    outmsg *m = sb_malloc(sizeof(*m) + b->len);
    atomic_init(&m->refs, 1);
    m->len = b->len;
    memcpy(m->data, b->ptr, b->len);
    return m;
}

void collab__out_unref(outmsg *m)
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
    collab__out_unref(p->msg);
    collab__conn_unref(c);
    free(p);
}

static void deliver_batch(void *arg)
{
    outbatch *b = arg;
    for (size_t i = 0; i < b->n; i++) {
        collab_conn *c = b->conns[i];
        if (c->ws)
            net_ws_send(c->ws, NET_WS_BINARY, b->msg->data, b->msg->len);
        collab__conn_unref(c);
    }
    collab__out_unref(b->msg);
    free(b);
}

void collab__conn_post_batch(net_loop *loop, outbatch *b)
{
    net_loop_post(loop, deliver_batch, b);
}

/* On the room's loop: queues m (or a close) to member c. Nothing goes to a
 * connection whose leave was handled: its loop may be gone. */
void collab__conn_post(collab_conn *c, outmsg *m, uint16_t code, const char *reason)
{
    if (c->left)
        return;
    outpost *p = sb_calloc(1, sizeof(*p));
    collab__conn_ref(c);
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

void collab__conn_send(collab_conn *c, const sb_buf *b)
{
    outmsg *m = collab__out_new(b);
    collab__conn_post(c, m, 0, NULL);
    collab__out_unref(m);
}

void collab__conn_close(collab_conn *c, uint16_t code, const char *reason)
{
    sb_log(SB_LOG_INFO, "collab: closing a connection", SB_LOG_INT("code", code),
           SB_LOG_STR("reason", reason), SB_LOG_STR("doc", c->doc_name));
    collab__conn_post(c, NULL, code, reason);
}

/* ---- the connection's side ---- */

collab_admit collab_conn_new(collab_hub *h, const char *project_id, sb_str doc,
                             const collab_who *who, collab_conn **out)
{
    char canon[COLLAB_DOC_MAX + 1];
    sb_str stored = collab_doc_canonical(doc, canon); /* the room's; presence shows doc */
    sb_buf key = SB_BUF_INIT;
    sb_buf_appendf(&key, "%s/", project_id);
    sb_buf_append(&key, stored.ptr, stored.len);
    pthread_mutex_lock(&h->lock);
    uintptr_t users = (uintptr_t)sb_map_get(&h->per_user, sb_str_c(who->user_id));
    /* Clients of the document here and, as their beats said, on the other
     * nodes serving it (only known while it is open here). */
    uintptr_t docs =
        (uintptr_t)sb_map_get(&h->per_doc, sb_buf_str(&key)) + collab__bus_remote_conns(h, key.ptr);
    collab_admit a = COLLAB_ADMIT_OK;
    if (users >= h->lim.max_conns_per_user)
        a = COLLAB_ADMIT_USER_LIMIT;
    else if (docs >= h->lim.max_clients)
        a = COLLAB_ADMIT_DOC_FULL;
    else {
        collab__count_add(&h->per_user, who->user_id, 1);
        collab__count_add(&h->per_doc, key.ptr, 1);
        collab__count_add_member(h, project_id, who->user_id, 1);
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

/* Returns whether c was its user's last connection to its project: here,
 * and on the other nodes as far as their beats for documents open here
 * tell (a user whose other tab reached another node keeps their locks
 * until that one closes too; that node then releases them). */
static bool conn_release_place(collab_conn *c)
{
    collab_hub *h = c->hub;
    pthread_mutex_lock(&h->lock);
    collab__count_add(&h->per_user, c->user_id, -1);
    collab__count_add(&h->per_doc, c->key, -1);
    bool last = collab__count_add_member(h, c->project_id, c->user_id, -1) == 0 &&
                !collab__bus_user_elsewhere(h, c->project_id, c->user_id);
    pthread_mutex_unlock(&h->lock);
    return last;
}

static void ws_message(net_ws *ws, int opcode, const uint8_t *data, size_t len, void *ctx)
{
    collab_conn *c = ctx;
    if (opcode != NET_WS_BINARY) {
        net_ws_close(ws, 1003, "y-websocket messages are binary");
        return;
    }
    msg_post *m = sb_malloc(sizeof(*m) + len);
    collab__conn_ref(c);
    m->conn = c;
    m->len = len;
    memcpy(m->data, data, len);
    net_loop_post(c->room_loop, collab__on_msg, m);
}

static void ws_close(net_ws *ws, void *ctx)
{
    collab_conn *c = ctx;
    c->ws = NULL;
    if (conn_release_place(c) && c->hub->bind.on_user_left)
        c->hub->bind.on_user_left(c->hub->bind.ctx, c->loop, c->project_id, c->user_id);
    net_loop_post(c->room_loop, collab__on_leave,
                  c);      /* collab__on_leave drops the room's reference */
    collab__conn_unref(c); /* the connection loop's */
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
        collab__conn_unref(c);
        return;
    }
    net_server *s = net_loop_server(net_ws_loop(ws));
    unsigned n = net_server_threads(s);
    c->loop = net_ws_loop(ws);
    c->room_loop = net_server_loop(s, (unsigned)(sb_hash(c->key, strlen(c->key)) % n));
    c->ws = ws;
    net_ws_set_max_queue(ws, c->hub->lim.max_queue);
    collab__conn_ref(c); /* the room's, until collab__on_leave */
    net_loop_hold(c->room_loop);
    net_loop_post(c->room_loop, collab__on_join, c);
}
