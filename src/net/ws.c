/*
 * ws.c: WebSocket connections over h2o's HTTP/1 upgrade and wslay.
 *
 * Sends never write in the caller's stack: net_ws_send queues in wslay and
 * arms a zero-delay timer that flushes from the event loop. That coalesces
 * a broadcast's many messages into few writes and, more importantly, means
 * a connection can only be freed from the loop itself, never under a
 * caller that still holds the pointer (h2o frees on write errors).
 *
 * A close we start (net_ws_close, shutdown) waits at most about a second
 * for the peer's closing handshake before the socket is dropped.
 */
#include "net/ws.h"

#define H2O_USE_LIBUV 0
#include <h2o/websocket.h>

#include "base/log.h"
#include "net/net_int.h"

#define CLOSE_GRACE_TICKS 2 /* one-second ticks to wait for the peer's close */

struct net_ws {
    h2o_websocket_conn_t *conn;
    net_loop *loop;
    const net_ws_handlers *handlers;
    void *ctx;
    h2o_linklist_t link; /* in loop->sockets */
    h2o_timeout_entry_t flush_entry;
    h2o_timeout_entry_t close_entry;
    unsigned close_ticks;
    size_t max_queue; /* bytes; the server's ws_max_queue unless set */
    bool closing;     /* a close frame is queued */
    bool drop;        /* hard-close at the next flush */
};

static void ws_free(net_ws *ws)
{
    if (h2o_timeout_is_linked(&ws->flush_entry))
        h2o_timeout_unlink(&ws->flush_entry);
    if (h2o_timeout_is_linked(&ws->close_entry))
        h2o_timeout_unlink(&ws->close_entry);
    h2o_linklist_unlink(&ws->link);
    net_metrics_websockets(ws->loop->metrics, -1);
    if (ws->handlers->on_close)
        ws->handlers->on_close(ws, ws->ctx);
    h2o_websocket_close(ws->conn);
    free(ws);
}

static void on_flush(h2o_timeout_entry_t *entry)
{
    net_ws *ws = H2O_STRUCT_FROM_MEMBER(net_ws, flush_entry, entry);
    if (ws->drop) {
        ws_free(ws);
        return;
    }
    /* Before the upgrade completes h2o has no socket yet; it proceeds by
     * itself once it does, sending what we queued. */
    if (ws->conn->sock)
        h2o_websocket_proceed(ws->conn); /* may free ws through on_wslay_msg */
}

static void schedule_flush(net_ws *ws)
{
    if (!h2o_timeout_is_linked(&ws->flush_entry))
        h2o_timeout_link(ws->loop->evloop, &ws->loop->ctx.zero_timeout, &ws->flush_entry);
}

static void on_close_tick(h2o_timeout_entry_t *entry)
{
    net_ws *ws = H2O_STRUCT_FROM_MEMBER(net_ws, close_entry, entry);
    if (++ws->close_ticks >= CLOSE_GRACE_TICKS) {
        ws_free(ws); /* the peer never answered our close */
        return;
    }
    h2o_timeout_link(ws->loop->evloop, &ws->loop->ctx.one_sec_timeout, &ws->close_entry);
}

static void on_wslay_msg(h2o_websocket_conn_t *conn, const struct wslay_event_on_msg_recv_arg *arg)
{
    net_ws *ws = conn->data;
    if (arg == NULL) { /* the connection is gone */
        ws_free(ws);
        return;
    }
    if ((arg->opcode == WSLAY_TEXT_FRAME || arg->opcode == WSLAY_BINARY_FRAME) && !ws->closing &&
        ws->handlers->on_message)
        ws->handlers->on_message(ws, arg->opcode, arg->msg, arg->msg_length, ws->ctx);
}

net_ws *net_ws_upgrade(net_req *req, const net_ws_handlers *handlers, void *ctx)
{
    const char *key = NULL;
    if (req->h2o->version >= 0x200) {
        net_respond_problem(req, 400, "websocket_requires_http1", "Bad Request",
                            "WebSocket connections need HTTP/1.1.");
        return NULL;
    }
    if (h2o_is_websocket_handshake(req->h2o, &key) != 0 || key == NULL) {
        net_respond_problem(req, 400, "websocket_handshake", "Bad Request",
                            "Expected a WebSocket handshake (Upgrade: websocket with a "
                            "Sec-WebSocket-Key).");
        return NULL;
    }
    net_ws *ws = sb_calloc(1, sizeof(*ws));
    ws->loop = req->loop;
    ws->handlers = handlers;
    ws->ctx = ctx;
    ws->flush_entry.cb = on_flush;
    ws->close_entry.cb = on_close_tick;
    ws->max_queue = req->loop->server->cfg->ws_max_queue;
    h2o_linklist_insert(&req->loop->sockets, &ws->link);
    net_metrics_websockets(req->loop->metrics, 1);
    /* Headers, metrics and the log line go out with the 101. */
    net__finish(req, 101, 0);
    ws->conn = h2o_upgrade_to_websocket(req->h2o, key, ws, on_wslay_msg);
    /* wslay answers an oversized message with close 1009 by itself. */
    wslay_event_config_set_max_recv_msg_length(ws->conn->ws_ctx,
                                               req->loop->server->cfg->ws_max_message);
    return ws;
}

bool net_ws_send(net_ws *ws, int opcode, const void *data, size_t len)
{
    if (ws->closing || ws->drop)
        return false;
    struct wslay_event_msg msg = {(uint8_t)opcode, data, len};
    if (wslay_event_queue_msg(ws->conn->ws_ctx, &msg) != 0) {
        ws->drop = true;
        schedule_flush(ws);
        return false;
    }
    if (wslay_event_get_queued_msg_length(ws->conn->ws_ctx) > ws->max_queue) {
        sb_log(SB_LOG_WARN, "websocket dropped: peer reads too slowly",
               SB_LOG_INT("queued_bytes",
                          (int64_t)wslay_event_get_queued_msg_length(ws->conn->ws_ctx)));
        ws->drop = true;
        schedule_flush(ws);
        return false;
    }
    schedule_flush(ws);
    return true;
}

void net_ws_close(net_ws *ws, uint16_t code, const char *reason)
{
    if (ws->closing || ws->drop)
        return;
    ws->closing = true;
    wslay_event_queue_close(ws->conn->ws_ctx, code, (const uint8_t *)reason,
                            reason ? strlen(reason) : 0);
    schedule_flush(ws);
    h2o_timeout_link(ws->loop->evloop, &ws->loop->ctx.one_sec_timeout, &ws->close_entry);
}

void net_ws_set_max_queue(net_ws *ws, size_t bytes)
{
    ws->max_queue = bytes;
}

size_t net_ws_queued(const net_ws *ws)
{
    return wslay_event_get_queued_msg_length(ws->conn->ws_ctx);
}

void *net_ws_ctx(const net_ws *ws)
{
    return ws->ctx;
}

net_loop *net_ws_loop(const net_ws *ws)
{
    return ws->loop;
}

void net__ws_shutdown(net_loop *loop)
{
    for (h2o_linklist_t *l = loop->sockets.next; l != &loop->sockets; l = l->next) {
        net_ws *ws = H2O_STRUCT_FROM_MEMBER(net_ws, link, l);
        net_ws_close(ws, 1001, "server shutting down");
    }
}
