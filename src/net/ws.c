/*
 * ws.c: WebSocket connections (RFC 6455) over h2o's HTTP/1 upgrade, with
 * wslay decoding what peers send.
 *
 * The socket side is ours rather than h2o's h2o_websocket_conn: that one
 * writes each piece wslay hands it (a frame's header, then its payload) as
 * a write of its own and waits for it to complete before the next, so a
 * message cost two writes, two TCP segments and two loop turns. Here every
 * frame is appended to `out`, and the connection has at most one write in
 * flight, of everything appended before it started (`wbuf`): what arrives
 * while a write is out goes in the next one. Under load many messages share
 * one write; a quiet connection still sends each message at once.
 *
 * Sends never write in the caller's stack: net_ws_send appends and arms a
 * zero-delay timer that writes from the event loop. That coalesces a
 * broadcast's messages and, more importantly, means a connection is only
 * ever freed from the loop itself, never under a caller that still holds
 * the pointer.
 *
 * A close we start (net_ws_close, shutdown) waits at most about a second
 * for the peer's closing handshake before the socket is dropped.
 */
#include "net/ws.h"

#define H2O_USE_LIBUV 0
#include <h2o.h>
#include <h2o/http1.h>
#include <h2o/websocket.h> /* h2o_is_websocket_handshake */
#include <openssl/evp.h>
#include <wslay/wslay.h>

#include "base/log.h"
#include "net/net_int.h"

#define CLOSE_GRACE_TICKS 2 /* one-second ticks to wait for the peer's close */
#define WS_GUID           "258EAFA5-E914-47DA-95CA-C5AB0DC85B11"
#define KEEP_WBUF         16384 /* a write buffer up to this size is kept for the next write */

struct net_ws {
    h2o_socket_t *sock; /* NULL until the 101 is out */
    wslay_event_context_ptr wctx;
    net_loop *loop;
    const net_ws_handlers *handlers;
    void *ctx;
    sb_buf out;          /* frames not yet handed to the socket */
    sb_buf wbuf;         /* the frames of the write in flight */
    h2o_linklist_t link; /* in loop->sockets */
    h2o_timeout_entry_t flush_entry;
    h2o_timeout_entry_t close_entry;
    unsigned close_ticks;
    size_t max_queue; /* bytes; the server's ws_max_queue unless set */
    bool writing;     /* wbuf is with the socket */
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
    if (ws->sock)
        h2o_socket_close(ws->sock); /* drops a write in flight: wbuf is free to go */
    wslay_event_context_free(ws->wctx);
    sb_buf_free(&ws->out);
    sb_buf_free(&ws->wbuf);
    free(ws);
}

/* ---- wslay's side: bytes in from the socket, frames out to `out` ---- */

static ssize_t wslay_recv(wslay_event_context_ptr wctx, uint8_t *buf, size_t len, int flags,
                          void *arg)
{
    (void)flags;
    net_ws *ws = arg;
    h2o_buffer_t *in = ws->sock->input;
    if (in->size == 0) {
        wslay_event_set_error(wctx, WSLAY_ERR_WOULDBLOCK);
        return -1;
    }
    if (len > in->size)
        len = in->size;
    memcpy(buf, in->bytes, len);
    h2o_buffer_consume(&ws->sock->input, len);
    return (ssize_t)len;
}

/* Control frames (pongs, closes) wslay makes: always taken whole. */
static ssize_t wslay_send(wslay_event_context_ptr wctx, const uint8_t *data, size_t len, int flags,
                          void *arg)
{
    (void)wctx, (void)flags;
    net_ws *ws = arg;
    sb_buf_append(&ws->out, data, len);
    return (ssize_t)len;
}

static void wslay_msg(wslay_event_context_ptr wctx, const struct wslay_event_on_msg_recv_arg *arg,
                      void *p)
{
    (void)wctx;
    net_ws *ws = p;
    if ((arg->opcode == WSLAY_TEXT_FRAME || arg->opcode == WSLAY_BINARY_FRAME) && !ws->closing &&
        ws->handlers->on_message)
        ws->handlers->on_message(ws, arg->opcode, arg->msg, arg->msg_length, ws->ctx);
}

static const struct wslay_event_callbacks wslay_callbacks = {
    .recv_callback = wslay_recv,
    .send_callback = wslay_send,
    .on_msg_recv_callback = wslay_msg,
};

/* ---- the socket ---- */

static void ws_proceed(net_ws *ws);

static void on_write_done(h2o_socket_t *sock, const char *err)
{
    net_ws *ws = sock->data;
    ws->writing = false;
    if (err != NULL) {
        ws_free(ws);
        return;
    }
    if (ws->out.len == 0) { /* an idle connection holds no buffer */
        sb_buf_free(&ws->wbuf);
        sb_buf_free(&ws->out);
    } else if (ws->wbuf.cap > KEEP_WBUF) {
        sb_buf_free(&ws->wbuf);
    } else {
        sb_buf_reset(&ws->wbuf); /* the next write's, after the swap */
    }
    ws_proceed(ws);
}

static void on_read(h2o_socket_t *sock, const char *err)
{
    net_ws *ws = sock->data;
    if (err != NULL) {
        ws_free(ws);
        return;
    }
    ws_proceed(ws);
}

/* Decodes what came in, then writes what waits unless a write is out;
 * closes when neither side has anything left to do. May free ws. */
static void ws_proceed(net_ws *ws)
{
    if (ws->sock->input->size != 0 && wslay_event_want_read(ws->wctx) &&
        wslay_event_recv(ws->wctx) != 0) {
        ws_free(ws);
        return;
    }
    if (wslay_event_want_write(ws->wctx) && wslay_event_send(ws->wctx) != 0) {
        ws_free(ws);
        return;
    }
    if (!ws->writing && ws->out.len != 0) {
        sb_buf t = ws->wbuf;
        ws->wbuf = ws->out;
        ws->out = t;
        ws->writing = true;
        h2o_iovec_t iov = h2o_iovec_init(ws->wbuf.ptr, ws->wbuf.len);
        h2o_socket_write(ws->sock, &iov, 1, on_write_done);
    }
    if (wslay_event_want_read(ws->wctx))
        h2o_socket_read_start(ws->sock, on_read);
    else if (ws->writing)
        h2o_socket_read_stop(ws->sock);
    else
        ws_free(ws); /* both closes are done and everything is written */
}

/* Until the 101 is out, h2o holds ws for the upgrade's completion, which
 * then writes, or drops, what was queued meanwhile: ws is not freed
 * before. */
static void on_flush(h2o_timeout_entry_t *entry)
{
    net_ws *ws = H2O_STRUCT_FROM_MEMBER(net_ws, flush_entry, entry);
    if (!ws->sock)
        return;
    if (ws->drop) {
        ws_free(ws);
        return;
    }
    ws_proceed(ws);
}

static void schedule_flush(net_ws *ws)
{
    if (!h2o_timeout_is_linked(&ws->flush_entry))
        h2o_timeout_link(ws->loop->evloop, &ws->loop->ctx.zero_timeout, &ws->flush_entry);
}

static void on_close_tick(h2o_timeout_entry_t *entry)
{
    net_ws *ws = H2O_STRUCT_FROM_MEMBER(net_ws, close_entry, entry);
    if (++ws->close_ticks >= CLOSE_GRACE_TICKS && ws->sock) {
        ws_free(ws); /* the peer never answered our close */
        return;
    }
    h2o_timeout_link(ws->loop->evloop, &ws->loop->ctx.one_sec_timeout, &ws->close_entry);
}

static void on_upgraded(void *arg, h2o_socket_t *sock, size_t reqsize)
{
    net_ws *ws = arg;
    if (sock == NULL) { /* the client went away before the 101 was out */
        ws_free(ws);
        return;
    }
    ws->sock = sock;
    sock->data = ws;
    h2o_buffer_consume(&sock->input, reqsize);
    if (ws->drop) {
        ws_free(ws);
        return;
    }
    ws_proceed(ws);
}

/* Sec-WebSocket-Accept: base64 of SHA-1 over the key and the GUID. */
static bool accept_key(const char key[24], char out[29])
{
    uint8_t src[24 + sizeof(WS_GUID) - 1], md[EVP_MAX_MD_SIZE];
    unsigned mdlen = 0;
    memcpy(src, key, 24);
    memcpy(src + 24, WS_GUID, sizeof(WS_GUID) - 1);
    if (EVP_Digest(src, sizeof src, md, &mdlen, EVP_sha1(), NULL) != 1 || mdlen != 20)
        return false;
    return EVP_EncodeBlock((unsigned char *)out, md, 20) == 28;
}

net_ws *net_ws_upgrade(net_req *req, const net_ws_handlers *handlers, void *ctx)
{
    h2o_req_t *h = req->h2o;
    const char *key = NULL;
    if (h->version >= 0x200) {
        net_respond_problem(req, 400, "websocket_requires_http1", "Bad Request",
                            "WebSocket connections need HTTP/1.1.");
        return NULL;
    }
    char accept[29];
    if (h2o_is_websocket_handshake(h, &key) != 0 || key == NULL || !accept_key(key, accept)) {
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
    if (wslay_event_context_server_init(&ws->wctx, &wslay_callbacks, ws) != 0)
        sb_die("wslay: out of memory");
    /* wslay answers an oversized message with close 1009 by itself. */
    wslay_event_config_set_max_recv_msg_length(ws->wctx, req->loop->server->cfg->ws_max_message);
    h2o_linklist_insert(&req->loop->sockets, &ws->link);
    net_metrics_websockets(req->loop->metrics, 1);
    h->res.status = 101;
    h->res.reason = "Switching Protocols";
    h2o_add_header(&h->pool, &h->res.headers, H2O_TOKEN_UPGRADE, NULL, H2O_STRLIT("websocket"));
    h2o_add_header_by_str(&h->pool, &h->res.headers, H2O_STRLIT("sec-websocket-accept"), 0, NULL,
                          accept, 28);
    /* Headers, metrics and the log line go out with the 101. */
    net__finish(req, 101, 0);
    h2o_http1_upgrade(h, NULL, 0, on_upgraded, ws);
    return ws;
}

/* A server's frame: FIN, the opcode, the length, no mask (RFC 6455 §5.2). */
static void put_frame(sb_buf *b, int opcode, const void *data, size_t len)
{
    uint8_t hdr[10];
    size_t n = 2;
    hdr[0] = (uint8_t)(0x80 | (opcode & 0x0f));
    if (len < 126) {
        hdr[1] = (uint8_t)len;
    } else if (len <= 0xffff) {
        hdr[1] = 126;
        hdr[2] = (uint8_t)(len >> 8);
        hdr[3] = (uint8_t)len;
        n = 4;
    } else {
        hdr[1] = 127;
        for (int i = 0; i < 8; i++)
            hdr[2 + i] = (uint8_t)((uint64_t)len >> (56 - 8 * i));
        n = 10;
    }
    sb_buf_reserve(b, n + len);
    sb_buf_append(b, hdr, n);
    sb_buf_append(b, data, len);
}

bool net_ws_send(net_ws *ws, int opcode, const void *data, size_t len)
{
    /* Nothing may follow a close frame, ours or the answer to the peer's. */
    if (ws->closing || ws->drop || wslay_event_get_close_sent(ws->wctx))
        return false;
    put_frame(&ws->out, opcode, data, len);
    schedule_flush(ws);
    if (net_ws_queued(ws) > ws->max_queue) {
        sb_log(SB_LOG_WARN, "websocket dropped: peer reads too slowly",
               SB_LOG_INT("queued_bytes", (int64_t)net_ws_queued(ws)));
        ws->drop = true;
        return false;
    }
    return true;
}

void net_ws_close(net_ws *ws, uint16_t code, const char *reason)
{
    if (ws->closing || ws->drop)
        return;
    ws->closing = true;
    wslay_event_queue_close(ws->wctx, code, (const uint8_t *)reason, reason ? strlen(reason) : 0);
    schedule_flush(ws);
    h2o_timeout_link(ws->loop->evloop, &ws->loop->ctx.one_sec_timeout, &ws->close_entry);
}

void net_ws_set_max_queue(net_ws *ws, size_t bytes)
{
    ws->max_queue = bytes;
}

size_t net_ws_queued(const net_ws *ws)
{
    return ws->out.len + ws->wbuf.len + wslay_event_get_queued_msg_length(ws->wctx);
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
