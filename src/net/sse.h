/*
 * sse.h: Server-Sent Events (text/event-stream, WHATWG HTML §9.2). A stream
 * is an HTTP response that stays open; events are queued and written as the
 * connection drains, so a slow reader costs memory only up to ws_max_queue
 * bytes before it is cut off. At shutdown every stream is ended.
 */
#ifndef SB_NET_SSE_H
#define SB_NET_SSE_H

#include "net/req.h"

typedef struct net_sse net_sse;

/* Answers 200 text/event-stream and returns the stream. on_close runs once
 * when the stream ends for any reason (client gone, net_sse_end, shutdown);
 * the stream is freed after it. */
net_sse *net_sse_start(net_req *req, void (*on_close)(net_sse *s, void *ctx), void *ctx);
/* Queues one event; event may be NULL (a plain "message"). Each line of
 * data becomes a "data:" line. Returns false when the stream is gone or
 * over its queue limit (then it is ended). */
bool net_sse_send(net_sse *s, const char *event, const char *data, size_t len);
/* Sends what is queued and closes the response. */
void net_sse_end(net_sse *s);

#endif
