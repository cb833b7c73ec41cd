/*
 * room.c: a room's life on its loop: made on the first join, loaded (on
 * the worker pool), greeting members, queueing messages while it loads,
 * members leaving, and eviction after the grace period on its one-second
 * tick.
 */
#include "collab/collab_int.h"

#include "base/clock.h"
#include "base/log.h"

/* ---- rooms ---- */

static collab_room *room_new(collab_hub *h, net_loop *loop, const char *key, const char *project_id,
                             const char *doc)
{
    collab_room *r = sb_calloc(1, sizeof(*r));
    r->hub = h;
    r->loop = loop;
    r->key = sb_strdup(key);
    snprintf(r->project_id, sizeof(r->project_id), "%s", project_id);
    r->doc_name = sb_strdup(doc);
    r->state = ROOM_LOADING;
    r->tick = net_tick_new(loop, NET_TICK_SECOND, collab__room_tick, r);
    r->mat_pace = net_tick_new(loop, NET_TICK_SHORT, collab__room_mat_paced, r);
    pthread_mutex_lock(&h->lock);
    sb_map_put(&h->rooms, sb_str_c(r->key), r);
    pthread_mutex_unlock(&h->lock);
    return r;
}

bool collab__room_busy(const collab_room *r)
{
    return r->job_running || r->mat_running || r->catchup_running || r->compact_running;
}

collab_room *collab__room_get(collab_hub *h, net_loop *loop, const char *key,
                              const char *project_id, const char *doc, bool *fresh)
{
    pthread_mutex_lock(&h->lock);
    collab_room *r = sb_map_get(&h->rooms, sb_str_c(key));
    pthread_mutex_unlock(&h->lock);
    /* Only this loop makes or frees rooms with this key, so r stays. */
    if (r && r->state == ROOM_FAILED && !collab__room_busy(r) && r->nmembers == 0) {
        collab__room_free(r);
        r = NULL;
    }
    *fresh = r == NULL;
    if (*fresh)
        r = room_new(h, loop, key, project_id, doc);
    return r;
}

void collab__room_free(collab_room *r)
{
    assert(r->nmembers == 0 && !collab__room_busy(r));
    collab_hub *h = r->hub;
    collab__bus_room_free(r); /* first: no bus message is posted for it any more */
    pthread_mutex_lock(&h->lock);
    if (sb_map_get(&h->rooms, sb_str_c(r->key)) == r)
        sb_map_del(&h->rooms, sb_str_c(r->key));
    pthread_mutex_unlock(&h->lock);
    for (inmsg *m = r->inbox; m;) {
        inmsg *next = m->next;
        collab__conn_unref(m->conn);
        free(m);
        m = next;
    }
    for (size_t i = 0; i < r->nqueue; i++) {
        sb_buf_free(&r->queue[i].bytes);
        if (r->queue[i].origin)
            collab__conn_unref(r->queue[i].origin);
    }
    for (size_t i = 0; i < r->naw; i++)
        free(r->aw[i].state);
    for (room_edit *e = r->edits; e;) {
        room_edit *next = e->next;
        free(e);
        e = next;
    }
    net_tick_free(r->tick);
    if (r->mat_held) /* freed at a shutdown deadline with a write still paced */
        net_loop_release(r->loop);
    net_tick_free(r->mat_pace);
    crdt_doc_free(r->doc);
    free(r->queue);
    free(r->aw);
    free(r->members);
    free(r->doc_name);
    free(r->key);
    free(r);
}

/* Sends b to every member but except (may be NULL): at once to those on
 * the room's loop, and in one post per other loop to the rest (one post
 * per member cost an allocation and the target queue's lock each: with
 * 100 editors on a document, 50 posts per edit). */
void collab__room_broadcast(collab_room *r, const sb_buf *b, const collab_conn *except)
{
    enum { LOOPS_MAX = 64 };
    net_loop *loops[LOOPS_MAX];
    size_t counts[LOOPS_MAX], nloops = 0;
    outmsg *m = collab__out_new(b);
    for (size_t i = 0; i < r->nmembers; i++) {
        collab_conn *c = r->members[i];
        if (c == except || c->left)
            continue;
        size_t k = 0;
        while (k < nloops && loops[k] != c->loop)
            k++;
        if (c->loop == r->loop || k == LOOPS_MAX) {
            collab__conn_post(c, m, 0, NULL); /* delivered now / more loops than we batch */
            continue;
        }
        if (k == nloops) {
            loops[nloops] = c->loop;
            counts[nloops++] = 0;
        }
        counts[k]++;
    }
    for (size_t k = 0; k < nloops; k++) {
        outbatch *ob = sb_malloc(sizeof(*ob) + counts[k] * sizeof(ob->conns[0]));
        ob->msg = m;
        atomic_fetch_add(&m->refs, 1);
        ob->n = 0;
        for (size_t i = 0; i < r->nmembers && ob->n < counts[k]; i++) {
            collab_conn *c = r->members[i];
            if (c != except && !c->left && c->loop == loops[k]) {
                collab__conn_ref(c);
                ob->conns[ob->n++] = c;
            }
        }
        collab__conn_post_batch(loops[k], ob);
    }
    collab__out_unref(m);
}

/* What a member gets on joining, as y-websocket's server sends it: our
 * state vector (sync step 1, so the client sends what we lack) and the
 * awareness states we know. */
void collab__room_greet(collab_room *r, collab_conn *c)
{
    sb_buf sv = SB_BUF_INIT, msg = SB_BUF_INIT;
    crdt_doc_encode_state_vector(r->doc, &sv);
    collab_msg_sync(&msg, COLLAB_SYNC_STEP1, sv.ptr, sv.len);
    collab__conn_send(c, &msg);
    if (r->naw > 0) {
        sb_buf body = SB_BUF_INIT;
        sb_buf_reset(&msg);
        collab_aw_begin(&body, r->naw);
        for (size_t i = 0; i < r->naw; i++)
            collab_aw_put(&body, r->aw[i].client, r->aw[i].clock, r->aw[i].state,
                          r->aw[i].state_len);
        collab_msg_awareness(&msg, body.ptr, body.len);
        collab__conn_send(c, &msg);
        sb_buf_free(&body);
    }
    sb_buf_free(&sv);
    sb_buf_free(&msg);
}

void collab__room_drain_inbox(collab_room *r)
{
    while (r->inbox && r->state == ROOM_READY) {
        inmsg *m = r->inbox;
        r->inbox = m->next;
        if (!r->inbox)
            r->inbox_tail = NULL;
        if (!m->conn->left)
            collab__room_handle(r, m->conn, m->data, m->len);
        collab__conn_unref(m->conn);
        free(m);
    }
}

/* ---- posted from the connection's loop ---- */

void collab__on_join(void *arg)
{
    collab_conn *c = arg; /* the room's reference */
    collab_hub *h = c->hub;
    bool fresh;
    /* The key names the stored document (collab_doc_canonical); doc_name
     * is the name the client used. */
    const char *stored = c->key + strlen(c->project_id) + 1;
    collab_room *r = collab__room_get(h, c->room_loop, c->key, c->project_id, stored, &fresh);
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
        collab__room_load_start(r);
    else if (r->state == ROOM_READY) {
        collab__room_greet(r, c);
        collab__bus_announce(r); /* the other nodes count it now */
    } else if (r->state == ROOM_FAILED)
        collab__conn_close(c, 1011, "document unavailable");
}

void collab__on_msg(void *arg)
{
    msg_post *m = arg;
    collab_conn *c = m->conn;
    collab_room *r = c->room;
    if (!r || c->left) {
        collab__conn_unref(c);
        free(m);
        return;
    }
    if (r->state == ROOM_READY) {
        collab__room_handle(r, c, m->data, m->len);
        collab__conn_unref(c);
        free(m);
        return;
    }
    if (r->state == ROOM_FAILED) {
        collab__conn_unref(c);
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

void collab__on_leave(void *arg)
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
            collab__aw_remove(r, c, sb_mono_ns());
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
        collab__bus_announce(r); /* the other nodes' presence, limits, locks */
    }
    c->left = true;
    net_loop_release(c->room_loop); /* taken by collab_conn_start */
    collab__conn_unref(c);          /* the room's reference */
}

/* Once a second while the room has anything to do: awareness timeouts,
 * a write the pool refused, and eviction after the grace period. */
void collab__room_tick(void *arg)
{
    collab_room *r = arg;
    if (r->state == ROOM_READY)
        collab__aw_remove(r, NULL, sb_mono_ns());
    collab__bus_tick(r);
    collab__room_write_start(r);
    collab__writer_kick(r->hub, r->loop); /* the pool was full */
    if (r->mat_dirty && !r->mat_running)
        collab__room_materialise(r); /* the pool was full */
    /* A room whose journal records are not in the log yet stays: a load
     * now would read the log without them. */
    bool folded = collab__room_folded(r);
    bool idle = r->nmembers == 0 && !collab__room_busy(r) && r->nqueue == 0 && r->inbox == NULL &&
                !r->mat_dirty && folded;
    if (!idle) {
        r->idle_ms = 0;
        if (r->nmembers > 0 || r->nqueue > 0 || r->mat_dirty || !folded)
            net_tick_arm(r->tick);
        return;
    }
    r->idle_ms += 1000;
    if (r->state == ROOM_FAILED || r->idle_ms >= r->hub->lim.evict_grace_ms) {
        collab__room_free(r);
        return;
    }
    net_tick_arm(r->tick);
}
