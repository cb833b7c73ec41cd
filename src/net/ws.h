/*
 * ws.h: WebSocket connections (RFC 6455) on h2o's upgrade and wslay's
 * framing. A connection belongs to the loop thread that upgraded it.
 *
 * Limits: a message larger than ws_max_message closes the connection with
 * 1009; when a peer reads too slowly and more than ws_max_queue bytes wait
 * to be sent, the connection is dropped (a slow reader must never make the
 * server buffer without bound). At shutdown every connection gets 1001.
 */
#ifndef SB_NET_WS_H
#define SB_NET_WS_H

#include "net/req.h"

typedef struct net_ws net_ws;

enum {
    NET_WS_TEXT = 1,
    NET_WS_BINARY = 2,
};

typedef struct net_ws_handlers {
    /* A complete message (text or binary) arrived; data is valid for the call. */
    void (*on_message)(net_ws *ws, int opcode, const uint8_t *data, size_t len, void *ctx);
    /* The connection is gone (closed by either side or dropped); ws is freed
     * right after this returns. */
    void (*on_close)(net_ws *ws, void *ctx);
} net_ws_handlers;

/* Answers a WebSocket handshake with 101 and returns the connection, or
 * answers 400 (not a valid handshake) and returns NULL. handlers must
 * outlive the connection; ctx is passed back. */
net_ws *net_ws_upgrade(net_req *req, const net_ws_handlers *handlers, void *ctx);

/* Queues a message (copied). Returns false when the connection is closing
 * or was just dropped for exceeding its send queue. */
bool net_ws_send(net_ws *ws, int opcode, const void *data, size_t len);
/* Starts a clean close with code and reason; on_close follows later. */
void net_ws_close(net_ws *ws, uint16_t code, const char *reason);
/* Overrides ws_max_queue for this connection (a protocol with its own
 * limit, such as collaboration). */
void net_ws_set_max_queue(net_ws *ws, size_t bytes);
/* Bytes waiting to be sent. */
size_t net_ws_queued(const net_ws *ws);
void *net_ws_ctx(const net_ws *ws);
net_loop *net_ws_loop(const net_ws *ws);

#endif
