/*
 * ops.c: operational endpoints. /healthz answers while the process runs,
 * touching nothing; /readyz answers 200 only when this loop's store
 * answers and the message bus is connected; /metrics renders the
 * Prometheus text format.
 */
#include "api/app.h"
#include "base/json.h"
#include "api/analytics.h"
#include "net/metrics.h"

static void healthz(net_req *req, void *ctx)
{
    static const char body[] = "{\"status\":\"ok\"}";
    net_respond(req, 200, "application/json; charset=utf-8", body, sizeof(body) - 1);
}

static void readyz(net_req *req, void *ctx)
{
    api_loop *al = api_loop_of(req);
    sb_errbuf err;
    store_err e = store_ping(al->db, &err);
    if (e != STORE_OK) {
        /* The driver's message stays in the log: it may name hosts. */
        net_respond_problem(req, 503, "not_ready", "Service Unavailable",
                            "The database does not answer.");
        return;
    }
    api_app *app = ctx;
    if (app->bus && bus_health(app->bus, &err) != BUS_OK) {
        net_respond_problem(req, 503, "not_ready", "Service Unavailable",
                            "The message bus is not connected.");
        return;
    }
    sb_buf body = SB_BUF_INIT;
    sb_jw w;
    sb_jw_init(&w, &body);
    sb_jw_obj_begin(&w);
    sb_jw_kv_str(&w, "status", "ready");
    sb_jw_kv_str(&w, "store", store_driver_name(store_driver_of(al->db)));
    if (app->bus)
        sb_jw_kv_str(&w, "bus", bus_driver_name(app->bus));
    sb_jw_obj_end(&w);
    net_respond_json(req, 200, &body);
    sb_buf_free(&body);
}

static void metrics(net_req *req, void *ctx)
{
    api_app *app = ctx;
    sb_buf body = SB_BUF_INIT;
    net_metrics_render(net_loop_server(req->loop), &body);
    api_analytics_metrics(ctx, &body);
    if (app->bus)
        bus_metrics_render(app->bus, &body);
    net_respond(req, 200, "text/plain; version=0.0.4; charset=utf-8", body.ptr, body.len);
    sb_buf_free(&body);
}

void api_ops_register(net_router *r, api_app *app)
{
    net_router_add(r, NET_GET, "/healthz", healthz, app, 0);
    net_router_add(r, NET_GET, "/readyz", readyz, app, 0);
    net_router_add(r, NET_GET, "/metrics", metrics, app, 0);
}
