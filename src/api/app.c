/*
 * app.c: per-loop application state: each loop thread opens its own store
 * connection at start and closes it after its drain, so SQLite connections
 * and libpq connections are never shared between threads.
 */
#include "api/app.h"

#include <stdlib.h>

#include "net/metrics.h"

static void observe_store(void *ctx, store_driver driver, uint64_t duration_ns, bool ok)
{
    net_metrics_store(ctx, duration_ns, ok);
}

static bool loop_start(net_loop *loop, void *app_, sb_errbuf *err)
{
    api_app *app = app_;
    api_loop *al = sb_calloc(1, sizeof(*al));
    al->app = app;
    if (store_open(app->cfg->db, app->cfg->data_dir, &al->db, err) != STORE_OK) {
        free(al);
        return false;
    }
    store_set_observer(al->db, observe_store, net_loop_metrics(loop));
    net_loop_set_app(loop, al);
    return true;
}

static void loop_stop(net_loop *loop, void *app_)
{
    api_loop *al = net_loop_app(loop);
    if (!al)
        return;
    store_close(al->db); /* SQLite checkpoints its WAL on the last close */
    free(al);
    net_loop_set_app(loop, NULL);
}

net_server_hooks api_server_hooks(api_app *app)
{
    return (net_server_hooks){.app = app, .loop_start = loop_start, .loop_stop = loop_stop};
}

void api_routes_register(net_router *r, api_app *app)
{
    api_ops_register(r, app);
}
