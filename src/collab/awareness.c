/*
 * awareness.c: awareness states per client id (y-protocols awareness):
 * kept, relayed, removed when their connection leaves or when they are not
 * renewed within the timeout; and the presence listing, read from any
 * thread under the hub's mutex.
 */
#include "collab/collab_int.h"
#include "base/clock.h"

/* Removes the awareness entries matching (conn, or all timed-out ones when
 * conn is NULL) and tells the others they are gone, as y-protocols'
 * removeAwarenessStates does: the clock moves on and the state is null. */
void collab__aw_remove(collab_room *r, const collab_conn *conn, uint64_t now_ns)
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
        collab__room_broadcast(r, &upd, NULL);
        if (r->hub->bus.on_awareness)
            r->hub->bus.on_awareness(r->hub->bus.ctx, r->project_id, r->doc_name,
                                     (const uint8_t *)body.ptr, body.len);
        sb_buf_free(&body);
    }
    sb_buf_free(&entries);
    sb_buf_free(&upd);
}

/* Applies a client's awareness update and relays what was taken. An entry
 * for a client id another connection owns is not taken: a connection
 * publishes its own states; the one exception is a removal of a state that
 * has timed out here too, which stock clients send for the remote states
 * they drop (y-protocols' outdated check). So no client can overwrite or
 * clear another's cursor. The relay is re-encoded from the entries taken. */
void collab__room_awareness(collab_room *r, collab_conn *c, sb_str update)
{
    collab_aw_iter it;
    collab_aw_entry e;
    collab_aw_init(&it, update, AWARENESS_MAX_CLIENTS);
    /* First pass: validate the whole update, so a bad one changes nothing. */
    while (collab_aw_next(&it, &e))
        ;
    if (!collab_aw_ok(&it)) {
        collab__conn_close(c, 1003, "malformed awareness update");
        return;
    }
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
            if (a->conn != c && !(removed && now - a->renewed_ns > timeout_ns))
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
        if (r->hub->bus.on_awareness)
            r->hub->bus.on_awareness(r->hub->bus.ctx, r->project_id, r->doc_name,
                                     (const uint8_t *)body.ptr, body.len);
        sb_buf_free(&msg);
        sb_buf_free(&body);
    }
    sb_buf_free(&taken);
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
