/*
 * awareness.c: awareness states per client id (y-protocols awareness):
 * kept, relayed, removed when their connection leaves or when they are not
 * renewed within the timeout; and the presence listing, read from any
 * thread under the hub's mutex.
 */
#include "collab/collab_int.h"
#include "base/clock.h"
#include "base/log.h"

/* Removes the awareness entries matching (conn, or all timed-out ones when
 * conn is NULL) and tells the others they are gone, as y-protocols'
 * removeAwarenessStates does: the clock moves on and the state is null. */
void collab__aw_remove(collab_room *r, const collab_conn *conn, uint64_t now_ns)
{
    uint64_t timeout_ns = (uint64_t)r->hub->lim.awareness_timeout_ms * 1000000;
    sb_buf upd = SB_BUF_INIT;
    size_t gone = 0, gone_local = 0;
    sb_buf entries = SB_BUF_INIT, local = SB_BUF_INIT;
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
        if (e->node == 0) {
            collab_aw_put(&local, e->client, e->clock + 1, "null", 4);
            gone_local++;
        }
        free(e->state);
        r->aw[i] = r->aw[--r->naw];
    }
    pthread_mutex_unlock(&r->hub->lock);
    if (gone) {
        sb_buf body = SB_BUF_INIT;
        collab_aw_begin(&body, gone);
        sb_buf_append(&body, entries.ptr, entries.len);
        collab_msg_awareness(&upd, body.ptr, body.len);
        collab__room_broadcast(r, &upd, NULL);
        sb_buf_free(&body);
    }
    if (gone_local) {
        /* Only our own clients' removals go to the other nodes: theirs
         * time out there by the same rule. */
        sb_buf body = SB_BUF_INIT;
        collab_aw_begin(&body, gone_local);
        sb_buf_append(&body, local.ptr, local.len);
        collab__bus_publish_awareness(r, conn, sb_buf_str(&body));
        sb_buf_free(&body);
    }
    sb_buf_free(&entries);
    sb_buf_free(&local);
    sb_buf_free(&upd);
}

/* Whether the entry belongs to the announcer (c here, or another node's). */
static bool aw_owned(const aw_entry *a, const collab_conn *c, uint64_t node)
{
    return c ? a->conn == c : a->node == node;
}

/* Applies an awareness update from c (a client here) or from node's
 * connection rconn, and relays what was taken: to the members but c, and,
 * for a client here, to the other nodes. An entry for a client id another
 * connection (or node) owns is not taken: a connection publishes its own
 * states; the one exception is a removal of a state that has timed out
 * here too, which stock clients send for the remote states they drop
 * (y-protocols' outdated check). So no client can overwrite or clear
 * another's cursor. The relay is re-encoded from the entries taken.
 * false: the update is malformed. */
static bool aw_take(collab_room *r, collab_conn *c, uint64_t node, uint64_t rconn, sb_str update)
{
    collab_aw_iter it;
    collab_aw_entry e;
    collab_aw_init(&it, update, AWARENESS_MAX_CLIENTS);
    /* First pass: validate the whole update, so a bad one changes nothing. */
    while (collab_aw_next(&it, &e))
        ;
    if (!collab_aw_ok(&it))
        return false;
    uint64_t now = sb_mono_ns();
    uint64_t timeout_ns = (uint64_t)r->hub->lim.awareness_timeout_ms * 1000000;
    sb_buf taken = SB_BUF_INIT;
    size_t ntaken = 0;
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
            if (!aw_owned(a, c, node) && !(removed && now - a->renewed_ns > timeout_ns))
                continue; /* another connection's state */
            if (removed) {
                free(a->state);
                r->aw[i] = r->aw[--r->naw];
            } else {
                free(a->state);
                a->state = sb_strndup(e.state.ptr, e.state.len);
                a->state_len = e.state.len;
                a->clock = e.clock;
                a->renewed_ns = now;
                a->rconn = rconn;
            }
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
                                         .node = c ? 0 : node,
                                         .rconn = c ? 0 : rconn,
                                         .renewed_ns = now};
        } else {
            continue; /* the removal of a state not known here */
        }
        collab_aw_put(&taken, e.client, e.clock, e.state.ptr, e.state.len);
        ntaken++;
    }
    pthread_mutex_unlock(&r->hub->lock);
    if (ntaken) {
        sb_buf body = SB_BUF_INIT, msg = SB_BUF_INIT;
        collab_aw_begin(&body, ntaken);
        sb_buf_append(&body, taken.ptr, taken.len);
        collab_msg_awareness(&msg, body.ptr, body.len);
        collab__room_broadcast(r, &msg, c);
        if (c)
            collab__bus_publish_awareness(r, c, sb_buf_str(&body));
        sb_buf_free(&msg);
        sb_buf_free(&body);
    }
    sb_buf_free(&taken);
    return true;
}

void collab__room_awareness(collab_room *r, collab_conn *c, sb_str update)
{
    if (!aw_take(r, c, 0, 0, update))
        collab__conn_close(c, 1003, "malformed awareness update");
}

void collab__aw_remote(collab_room *r, uint64_t node, uint64_t rconn, sb_str update)
{
    if (!aw_take(r, NULL, node, rconn, update))
        sb_log(SB_LOG_WARN, "collab: a malformed awareness update from another node",
               SB_LOG_STR("doc", r->doc_name));
}

void collab__aw_drop_node(collab_room *r, uint64_t node)
{
    sb_buf entries = SB_BUF_INIT;
    size_t gone = 0;
    pthread_mutex_lock(&r->hub->lock);
    for (size_t i = 0; i < r->naw;) {
        aw_entry *e = &r->aw[i];
        if (e->conn || e->node != node) {
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
        sb_buf body = SB_BUF_INIT, msg = SB_BUF_INIT;
        collab_aw_begin(&body, gone);
        sb_buf_append(&body, entries.ptr, entries.len);
        collab_msg_awareness(&msg, body.ptr, body.len);
        collab__room_broadcast(r, &msg, NULL);
        sb_buf_free(&body);
        sb_buf_free(&msg);
    }
    sb_buf_free(&entries);
}

size_t collab__aw_local_body(collab_room *r, const collab_conn *c, sb_buf *body)
{
    sb_buf entries = SB_BUF_INIT;
    size_t n = 0;
    for (size_t i = 0; i < r->naw; i++) {
        aw_entry *a = &r->aw[i];
        if (a->node != 0 || (c && a->conn != c))
            continue;
        collab_aw_put(&entries, a->client, a->clock, a->state, a->state_len);
        n++;
    }
    if (n) {
        collab_aw_begin(body, n);
        sb_buf_append(body, entries.ptr, entries.len);
    }
    sb_buf_free(&entries);
    return n;
}

/* ---- presence ---- */

/* Writes "key": state[key] when state has it and it was not written yet. */
static void write_member(sb_jw *w, json_t *state, const char *key, bool *done)
{
    json_t *v = state ? json_object_get(state, key) : NULL;
    if (v && !*done) {
        sb_jw_key(w, key);
        sb_jw_json(w, v);
        *done = true;
    }
}

/* Whether entry a is connection (c) here, or (node, rconn) elsewhere. */
static bool aw_of(const aw_entry *a, const collab_conn *c, uint64_t node, uint64_t rconn)
{
    return c ? a->conn == c : (a->conn == NULL && a->node == node && a->rconn == rconn);
}

/* One item of the presence list: a connection here (c) or another node's. */
static void presence_item(sb_jw *w, const collab_room *r, const collab_conn *c, uint64_t node,
                          uint64_t rconn, const char *user_id, const char *name, const char *doc,
                          uint64_t now_ns)
{
    uint64_t timeout_ns = (uint64_t)r->hub->lim.awareness_timeout_ms * 1000000;
    sb_jw_obj_begin(w);
    sb_jw_kv_str(w, "user_id", user_id);
    sb_jw_kv_str(w, "name", name);
    sb_jw_kv_str(w, "doc", doc);
    bool cursor = false, selection = false;
    sb_jw_key(w, "clients");
    sb_jw_arr_begin(w);
    for (size_t k = 0; k < r->naw; k++) {
        aw_entry *a = &r->aw[k];
        if (!aw_of(a, c, node, rconn) || now_ns - a->renewed_ns > timeout_ns)
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
        if (!aw_of(a, c, node, rconn) || now_ns - a->renewed_ns > timeout_ns)
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

void collab_presence_write(collab_hub *h, const char *project_id, sb_jw *w)
{
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
        for (size_t i = 0; i < r->nmembers; i++) {
            collab_conn *c = r->members[i];
            presence_item(w, r, c, 0, 0, c->user_id, c->name, c->doc_name, now_ns);
        }
        /* Other nodes' connections, as their last beat listed them: only
         * documents open here are known (a node hears about a document
         * while it serves it). */
        for (size_t p = 0; p < r->npeers; p++) {
            const node_peer *np = &r->peers[p];
            for (size_t i = 0; i < np->nconns; i++)
                presence_item(w, r, NULL, np->node, np->conns[i].id, np->conns[i].user_id,
                              np->conns[i].name, np->conns[i].doc, now_ns);
        }
    }
    pthread_mutex_unlock(&h->lock);
    sb_jw_arr_end(w);
    sb_jw_obj_end(w);
}
