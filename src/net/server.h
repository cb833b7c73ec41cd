/*
 * server.h: the HTTP server: N loop threads (one per core by default), each
 * with its own h2o event loop, its own SO_REUSEPORT listener on the same
 * address (the kernel spreads connections), its own metrics and whatever
 * per-thread state the application attaches (a store connection). Nothing
 * is shared between loops on the hot path except the read-only router and
 * configuration.
 *
 * Life: net_server_new binds (so "address in use" fails early), then
 * net_server_run starts the loops and blocks until SIGTERM/SIGINT or
 * net_server_stop, then drains: listeners close, HTTP/2 sends GOAWAY,
 * keep-alive is refused, WebSockets get close 1001, event streams end, and
 * requests in flight finish, up to shutdown_timeout. Then each loop's
 * stop hook runs on its thread (close stores) and run returns.
 */
#ifndef SB_NET_SERVER_H
#define SB_NET_SERVER_H

#include "base/config.h"
#include "net/router.h"

typedef struct net_server net_server;
typedef struct net_loop net_loop;
typedef struct net_metrics net_metrics;

typedef struct net_server_hooks {
    void *app;
    /* On each loop thread before it accepts: open per-thread resources and
     * attach them with net_loop_set_app. false (with err) aborts start-up. */
    bool (*loop_start)(net_loop *loop, void *app, sb_errbuf *err);
    /* On each loop thread after it drained. */
    void (*loop_stop)(net_loop *loop, void *app);
    /* Optional: on the loop thread as each request is answered, with its
     * status (analytics counts 5xx answers). Must not block. */
    void (*answered)(struct net_req *req, void *app, int status);
} net_server_hooks;

/* Binds cfg->listen and prepares the loops (cfg and router must outlive the
 * server). Returns NULL with err on failure (bad address, port in use, TLS
 * files unreadable). */
net_server *net_server_new(const sb_config *cfg, const net_router *router,
                           const net_server_hooks *hooks, sb_errbuf *err);
/* Runs until stopped; returns 0 after a clean drain, 1 when start-up of a
 * loop failed or the drain hit its deadline. Call from the main thread. */
int net_server_run(net_server *s);
/* Asks run to stop and drain; callable from any thread. */
void net_server_stop(net_server *s);
void net_server_free(net_server *s);

/* "127.0.0.1:8080" as bound (a port 0 in the config is resolved). */
const char *net_server_address(const net_server *s);
unsigned net_server_threads(const net_server *s);
const sb_config *net_server_config(const net_server *s);
const net_router *net_server_router(const net_server *s);
/* For /metrics: the loops' counters, read while they run. */
net_loop *net_server_loop(const net_server *s, unsigned i);

/* Per-loop accessors. */
net_server *net_loop_server(const net_loop *loop);
unsigned net_loop_index(const net_loop *loop);
void *net_loop_app(const net_loop *loop);
void net_loop_set_app(net_loop *loop, void *app);
net_metrics *net_loop_metrics(const net_loop *loop);

#endif
