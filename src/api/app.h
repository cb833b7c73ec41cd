/*
 * app.h: the application the server runs: the shared, read-only parts
 * (configuration, worker pool) and each loop thread's own (its store
 * connection). Route handlers reach both through api_loop_of(req).
 */
#ifndef SB_API_APP_H
#define SB_API_APP_H

#include "base/config.h"
#include "identity/identity.h"
#include "net/req.h"
#include "net/router.h"
#include "net/server.h"
#include "net/workers.h"
#include "store/store.h"

typedef struct api_app {
    const sb_config *cfg;
    net_workers *workers;
    identity *identity;
} api_app;

/* Per loop thread; owned by that thread. */
typedef struct api_loop {
    api_app *app;
    store *db;
} api_loop;

/* Hooks that open and close each loop's store connection. */
net_server_hooks api_server_hooks(api_app *app);

/* Hooks that give each worker-pool thread a store connection of its own,
 * and, in a job, that connection (NULL if it could not be opened). */
net_worker_hooks api_worker_hooks(api_app *app);
store *api_worker_store(void);

static inline api_loop *api_loop_of(net_req *req)
{
    return net_loop_app(req->loop);
}

/* Registers every route of the API on r (ops, and the domain routes as
 * they arrive). */
void api_routes_register(net_router *r, api_app *app);

/* Registers the ops routes: /healthz, /readyz, /metrics. */
void api_ops_register(net_router *r, api_app *app);

/* Registers /api/auth/... (auth.c). */
void api_auth_register(net_router *r, api_app *app);

/* Test builds only (sitebase-test): /_test/... routes. */
void api_test_routes_register(net_router *r, api_app *app);

#endif
