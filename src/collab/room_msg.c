/*
 * room_msg.c: what a room does with each client message: sync step 1
 * answered from the (durable) document, updates checked and queued for
 * storage (or refused for readers), awareness and its query, and closing
 * the connection on anything malformed.
 */
#include "collab/collab_int.h"
#include "crdt/update_ops.h"

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
            collab__conn_send(c, &msg);
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
        collab__conn_close(c, 1003, reason);
        return;
    }
    collab__room_queue_update(r, c, update);
}

void collab__room_handle(collab_room *r, collab_conn *c, const uint8_t *p, size_t n)
{
    collab_msg m;
    collab_proto_err pe = collab_msg_decode(p, n, &m);
    if (pe != COLLAB_PROTO_OK) {
        char reason[64];
        snprintf(reason, sizeof(reason), "malformed message: %s", collab_proto_strerror(pe));
        collab__conn_close(c, 1002, reason);
        return;
    }
    switch (m.type) {
    case COLLAB_MSG_SYNC:
        if (m.step == COLLAB_SYNC_STEP1) {
            sb_buf diff = SB_BUF_INIT, msg = SB_BUF_INIT;
            if (crdt_doc_encode_state(r->doc, m.payload.ptr, m.payload.len, &diff) != CRDT_OK) {
                collab__conn_close(c, 1003, "malformed state vector");
            } else {
                collab_msg_sync(&msg, COLLAB_SYNC_STEP2, diff.ptr, diff.len);
                collab__conn_send(c, &msg);
            }
            sb_buf_free(&diff);
            sb_buf_free(&msg);
        } else {
            room_update(r, c, m.payload);
        }
        break;
    case COLLAB_MSG_AWARENESS:
        collab__room_awareness(r, c, m.payload);
        break;
    case COLLAB_MSG_QUERY_AWARENESS:
        if (r->naw > 0) {
            sb_buf body = SB_BUF_INIT, msg = SB_BUF_INIT;
            collab_aw_begin(&body, r->naw);
            for (size_t i = 0; i < r->naw; i++)
                collab_aw_put(&body, r->aw[i].client, r->aw[i].clock, r->aw[i].state,
                              r->aw[i].state_len);
            collab_msg_awareness(&msg, body.ptr, body.len);
            collab__conn_send(c, &msg);
            sb_buf_free(&body);
            sb_buf_free(&msg);
        }
        break;
    case COLLAB_MSG_AUTH:
        break; /* only servers send it */
    }
}
