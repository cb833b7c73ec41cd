/*
 * sse.c: Server-Sent Events over an open HTTP response.
 *
 * h2o takes one chunk at a time per response: while a chunk is being
 * written (sending), new events accumulate in pending; proceed() swaps the
 * buffers and sends the next batch. The buffer given to h2o stays untouched
 * until proceed, and the final chunk is copied into the request's pool,
 * which outlives the write.
 *
 * Life: the stream is freed right after on_close, which runs once: after the
 * final chunk is handed to h2o, or from h2o's stop when the client goes.
 */
#include "net/sse.h"

#include <string.h>

#include "base/log.h"
#include "net/net_int.h"

struct net_sse {
    h2o_generator_t super; /* first: h2o hands it back to us */
    net_req *req;          /* NULL once h2o stopped the response */
    net_loop *loop;
    sb_buf pending;
    sb_buf writing;
    bool sending;
    bool ending;
    void (*on_close)(net_sse *s, void *ctx);
    void *ctx;
    h2o_linklist_t link; /* in loop->streams */
};

static void sse_free(net_sse *s)
{
    h2o_linklist_unlink(&s->link);
    if (s->on_close)
        s->on_close(s, s->ctx);
    sb_buf_free(&s->pending);
    sb_buf_free(&s->writing);
    free(s);
}

static void sse_flush(net_sse *s)
{
    if (s->sending || !s->req)
        return;
    h2o_req_t *h = s->req->h2o;
    if (s->ending) {
        h2o_iovec_t last =
            h2o_strdup(&h->pool, s->pending.ptr ? s->pending.ptr : "", s->pending.len);
        h2o_send(h, &last, 1, H2O_SEND_STATE_FINAL);
        sse_free(s);
        return;
    }
    if (s->pending.len == 0)
        return;
    sb_buf tmp = s->writing;
    s->writing = s->pending;
    s->pending = tmp;
    sb_buf_reset(&s->pending);
    s->sending = true;
    h2o_iovec_t buf = h2o_iovec_init(s->writing.ptr, s->writing.len);
    h2o_send(h, &buf, 1, H2O_SEND_STATE_IN_PROGRESS);
}

static void on_proceed(h2o_generator_t *gen, h2o_req_t *h)
{
    net_sse *s = (net_sse *)gen;
    s->sending = false;
    sb_buf_reset(&s->writing);
    sse_flush(s);
}

static void on_stop(h2o_generator_t *gen, h2o_req_t *h)
{
    net_sse *s = (net_sse *)gen;
    s->req = NULL;
    sse_free(s);
}

net_sse *net_sse_start(net_req *req, void (*on_close)(net_sse *s, void *ctx), void *ctx)
{
    net_sse *s = sb_calloc(1, sizeof(*s));
    s->super.proceed = on_proceed;
    s->super.stop = on_stop;
    s->req = req;
    s->loop = req->loop;
    s->on_close = on_close;
    s->ctx = ctx;
    h2o_linklist_insert(&req->loop->streams, &s->link);

    h2o_req_t *h = req->h2o;
    h->res.status = 200;
    h->res.reason = "OK";
    h2o_add_header(&h->pool, &h->res.headers, H2O_TOKEN_CONTENT_TYPE, NULL,
                   H2O_STRLIT("text/event-stream; charset=utf-8"));
    h2o_add_header(&h->pool, &h->res.headers, H2O_TOKEN_CACHE_CONTROL, NULL,
                   H2O_STRLIT("no-cache"));
    net__finish(req, 200, 0);
    h2o_start_response(h, &s->super);
    /* A comment first, so the client sees the headers at once. */
    sb_buf_puts(&s->pending, ": stream open\n\n");
    sse_flush(s);
    return s;
}

bool net_sse_send(net_sse *s, const char *event, const char *data, size_t len)
{
    if (!s->req || s->ending)
        return false;
    if (event) {
        /* An event name is ours, never a client's; still, a newline in it
         * would forge fields. */
        sb_buf_puts(&s->pending, "event: ");
        for (const char *p = event; *p; p++)
            if (*p != '\n' && *p != '\r')
                sb_buf_putc(&s->pending, *p);
        sb_buf_putc(&s->pending, '\n');
    }
    size_t start = 0;
    for (size_t i = 0; i <= len; i++) {
        if (i < len && data[i] != '\n')
            continue;
        sb_buf_puts(&s->pending, "data: ");
        sb_buf_append(&s->pending, data + start, i - start);
        sb_buf_putc(&s->pending, '\n');
        start = i + 1;
    }
    sb_buf_putc(&s->pending, '\n');
    if (s->pending.len > s->loop->server->cfg->ws_max_queue) {
        sb_log(SB_LOG_WARN, "event stream ended: client reads too slowly",
               SB_LOG_INT("queued_bytes", (int64_t)s->pending.len));
        sb_buf_reset(&s->pending);
        net_sse_end(s);
        return false;
    }
    sse_flush(s);
    return true;
}

void net_sse_end(net_sse *s)
{
    if (s->ending)
        return;
    s->ending = true;
    sse_flush(s); /* sends now, or from proceed once the current chunk is out */
}

void net__sse_shutdown(net_loop *loop)
{
    h2o_linklist_t *l = loop->streams.next;
    while (l != &loop->streams) {
        h2o_linklist_t *next = l->next; /* net_sse_end may free the stream */
        net_sse_end(H2O_STRUCT_FROM_MEMBER(net_sse, link, l));
        l = next;
    }
}
