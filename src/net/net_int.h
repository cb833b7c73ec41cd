/*
 * net_int.h: structures shared by the files of net/ and seen by nobody
 * else (SQLite's btreeInt.h habit). Each net_loop is touched only by its own
 * thread, except the fields marked otherwise.
 */
#ifndef SB_NET_NET_INT_H
#define SB_NET_NET_INT_H

#include <pthread.h>
#include <stdatomic.h>

#define H2O_USE_LIBUV 0
#include <h2o.h>

#include "base/config.h"
#include "net/metrics.h"
#include "net/req.h"
#include "net/router.h"
#include "net/server.h"

struct net_loop {
    net_server *server; /* read-only */
    unsigned index;     /* read-only */
    pthread_t thread;
    h2o_evloop_t *evloop;
    h2o_context_t ctx;
    h2o_timeout_t short_timeout;  /* NET_TICK_SHORT's list */
    struct net_turn_fn *turn_end; /* net_loop_at_turn_end's, this turn's */
    size_t nturn_end, turn_end_cap;
    h2o_accept_ctx_t accept_ctx;
    int listen_fd;
    h2o_socket_t *listener;
    h2o_multithread_receiver_t cmd_receiver;  /* shutdown, from the main thread */
    h2o_multithread_receiver_t done_receiver; /* worker completions */
    h2o_multithread_receiver_t post_receiver; /* net_loop_post from other loops */
    h2o_multithread_message_t stop_msg;
    net_metrics *metrics; /* written by this loop, read by /metrics anywhere */
    void *app;
    size_t inflight;        /* requests accepted and not yet disposed */
    atomic_size_t jobs;     /* worker jobs whose done has not yet run here */
    h2o_linklist_t sockets; /* open WebSockets (net_ws) */
    h2o_linklist_t streams; /* open event streams (net_sse) */
    bool stopping;
    uint64_t deadline_ns;
    bool started, start_failed; /* guarded by server->start_lock */
    sb_errbuf start_err;
};

/* Runs what net_loop_at_turn_end queued (and what that queues). */
void net__turn_end(net_loop *loop);

struct net_server {
    const sb_config *cfg;
    const net_router *router;
    net_server_hooks hooks;
    h2o_globalconf_t globalconf;
    SSL_CTX *ssl_ctx;
    char address[80];
    unsigned nloops;
    net_loop *loops;
    atomic_bool stop_requested;
    pthread_mutex_t start_lock;
    pthread_cond_t start_cond;
    /* CORS: the parsed allow-list; any_origin for "*". Read-only. */
    sb_str *origins;
    size_t norigins;
    bool any_origin;
};

/* dispatch.c: the h2o handler every request enters through. */
int net__dispatch(h2o_handler_t *self, h2o_req_t *hreq);

/* middleware.c: the stages a request passes, in order. */
void net__request_id(net_req *req);
void net__security_headers(net_req *req);
/* Returns true when it answered (a CORS preflight). */
bool net__cors(net_req *req);
/* Adds the headers every answer carries (request id, timing, CORS). */
void net__answer_headers(net_req *req);
void net__access_log(net_req *req, size_t bytes);

/* respond.c */
void net__finish(net_req *req, int status, size_t body_len);

/* ws.c / sse.c: called by the loop at shutdown. */
void net__ws_shutdown(net_loop *loop);
void net__sse_shutdown(net_loop *loop);

/* workers.c: the loop's completion receiver callback. */
void net__jobs_done(h2o_multithread_receiver_t *receiver, h2o_linklist_t *messages);
/* post.c: the loop's receiver of posted messages. */
void net__posts_run(h2o_multithread_receiver_t *receiver, h2o_linklist_t *messages);

static inline net_loop *net__loop_of(h2o_req_t *hreq)
{
    return H2O_STRUCT_FROM_MEMBER(net_loop, ctx, hreq->conn->ctx);
}

#endif
