/*
 * app.c: per-loop application state: each loop thread opens its own store
 * connection at start and closes it after its drain, so SQLite connections
 * and libpq connections are never shared between threads.
 */
#include "api/app.h"
#include "api/analytics.h"
#include "api/domain.h"

#include <stdlib.h>

#include "base/log.h"
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
    if (al->app->collab)
        collab_loop_stop(al->app->collab, loop);
    store_close(al->db); /* SQLite checkpoints its WAL on the last close */
    free(al);
    net_loop_set_app(loop, NULL);
}

net_server_hooks api_server_hooks(api_app *app)
{
    return (net_server_hooks){.app = app,
                              .loop_start = loop_start,
                              .loop_stop = loop_stop,
                              .answered = api_analytics_answered};
}

static void *worker_start(void *ctx)
{
    api_app *app = ctx;
    store *db = NULL;
    sb_errbuf err;
    if (store_open(app->cfg->db, app->cfg->data_dir, &db, &err) != STORE_OK) {
        sb_log(SB_LOG_ERROR, "worker cannot open the store", SB_LOG_STR("error", err.msg));
        return NULL;
    }
    return db;
}

static void worker_stop(void *ctx, void *local)
{
    store_close(local);
}

net_worker_hooks api_worker_hooks(api_app *app)
{
    return (net_worker_hooks){.ctx = app, .thread_start = worker_start, .thread_stop = worker_stop};
}

store *api_worker_store(void)
{
    return net_worker_local();
}

void api_routes_register(net_router *r, api_app *app)
{
    api_ops_register(r, app);
    api_openapi_register(r, app);
    api_auth_register(r, app);
    api_teams_register(r, app);
    api_projects_register(r, app);
    api_content_register(r, app);
    api_assets_register(r, app);
    api_comments_register(r, app);
    api_library_register(r, app);
    api_ai_content_register(r, app);
    api_influx_register(r, app);
    api_collect_register(r, app);
    api_dashboard_register(r, app);
    api_collab_register(r, app);
    api_events_register(r, app);
    api_locks_register(r, app);
    api_vcs_register(r, app);
    api_history_register(r, app);
}
