/*
 * test_routes.c: routes compiled only into sitebase-test, for integration
 * tests of the net layer that need a handler of their own:
 *   GET  /_test/ws          WebSocket echo (text and binary)
 *   GET  /_test/slow?ms=N   answers after N ms of work on the worker pool
 *   GET  /_test/sse?n=N     N events, 50 ms apart, then the stream ends
 *   POST /_test/json        parses the body as JSON and echoes it back
 * Never registered in the sitebase binary.
 */
#include <time.h>

#include "api/app.h"
#include "base/json.h"
#include "net/sse.h"
#include "net/ws.h"

/* ---- WebSocket echo ---- */

static void echo_message(net_ws *ws, int opcode, const uint8_t *data, size_t len, void *ctx)
{
    net_ws_send(ws, opcode, data, len);
}

static const net_ws_handlers echo_handlers = {.on_message = echo_message};

static void ws_echo(net_req *req, void *ctx)
{
    net_ws_upgrade(req, &echo_handlers, NULL);
}

/* ---- slow work on the pool ---- */

typedef struct slow_job {
    net_req_ref *ref;
    int64_t ms;
} slow_job;

static void slow_work(void *arg)
{
    slow_job *job = arg;
    struct timespec ts = {job->ms / 1000, (job->ms % 1000) * 1000000};
    nanosleep(&ts, NULL);
}

static void slow_done(void *arg)
{
    slow_job *job = arg;
    net_req *req = net_req_ref_get(job->ref);
    if (req) {
        sb_buf body = SB_BUF_INIT;
        sb_buf_appendf(&body, "{\"slept_ms\":%ld}", (long)job->ms);
        net_respond_json(req, 200, &body);
        sb_buf_free(&body);
    }
    net_req_ref_release(job->ref);
    free(job);
}

static void slow(net_req *req, void *ctx)
{
    api_app *app = ctx;
    sb_str v;
    int64_t ms = 100;
    if (net_req_query(req, "ms", &v) && !sb_str_to_i64(v, 0, 60000, &ms)) {
        net_respond_problem(req, 400, "invalid_query", "Bad Request", "ms must be 0..60000");
        return;
    }
    slow_job *job = sb_calloc(1, sizeof(*job));
    job->ms = ms;
    job->ref = net_req_defer(req);
    if (!net_workers_submit(app->workers, req->loop, slow_work, slow_done, job)) {
        net_req_ref_release(job->ref);
        free(job);
        net_header(req, "retry-after", "1");
        net_respond_problem(req, 503, "overloaded", "Service Unavailable",
                            "The worker pool is full.");
    }
}

/* ---- event stream: one event per 50 ms pool job, then the end ---- */

typedef struct sse_test {
    net_sse *stream; /* NULL once the client is gone */
    net_loop *loop;
    api_app *app;
    int64_t left, sent;
} sse_test;

static void sse_tick(void *arg);

static void sse_sleep(void *arg)
{
    struct timespec ts = {0, 50 * 1000000};
    nanosleep(&ts, NULL);
}

static void sse_closed(net_sse *s, void *ctx)
{
    sse_test *t = ctx;
    t->stream = NULL;
}

static void sse_tick(void *arg)
{
    sse_test *t = arg;
    if (!t->stream) { /* the client left or the server shut down */
        free(t);
        return;
    }
    if (t->left == 0) {
        net_sse_end(t->stream); /* runs sse_closed */
        free(t);
        return;
    }
    char data[64];
    int n = snprintf(data, sizeof(data), "{\"seq\":%ld}", (long)t->sent++);
    t->left--;
    net_sse_send(t->stream, "tick", data, (size_t)n);
    if (t->stream && !net_workers_submit(t->app->workers, t->loop, sse_sleep, sse_tick, t)) {
        net_sse_end(t->stream);
        free(t);
    }
}

static void sse(net_req *req, void *ctx)
{
    sb_str v;
    int64_t n = 3;
    if (net_req_query(req, "n", &v) && !sb_str_to_i64(v, 0, 1000, &n)) {
        net_respond_problem(req, 400, "invalid_query", "Bad Request", "n must be 0..1000");
        return;
    }
    sse_test *t = sb_calloc(1, sizeof(*t));
    t->loop = req->loop;
    t->app = ctx;
    t->left = n;
    t->stream = net_sse_start(req, sse_closed, t);
    sse_tick(t);
}

/* ---- JSON echo: exercises body parsing, limits and errors ---- */

static void json_echo(net_req *req, void *ctx)
{
    json_t *doc;
    if (!net_req_json(req, &doc))
        return;
    sb_buf body = SB_BUF_INIT;
    sb_jw w;
    sb_jw_init(&w, &body);
    sb_jw_json(&w, doc);
    json_decref(doc);
    net_respond_json(req, 200, &body);
    sb_buf_free(&body);
}

/* ---- route parameters, decoded: {"route": ..., "params": {...}} ---- */

static void params_echo(net_req *req, void *ctx)
{
    sb_buf body = SB_BUF_INIT;
    sb_jw w;
    sb_jw_init(&w, &body);
    sb_jw_obj_begin(&w);
    sb_jw_kv_str(&w, "route", req->match.route->pattern);
    sb_jw_key(&w, "params");
    sb_jw_obj_begin(&w);
    for (size_t i = 0; i < req->match.nparams; i++) {
        sb_jw_key(&w, req->match.params[i].name);
        sb_jw_strn(&w, req->match.params[i].value.ptr, req->match.params[i].value.len);
    }
    sb_jw_obj_end(&w);
    sb_str q;
    if (net_req_query(req, "q", &q)) {
        sb_jw_key(&w, "q");
        sb_jw_strn(&w, q.ptr, q.len);
    }
    sb_jw_obj_end(&w);
    net_respond_json(req, 200, &body);
    sb_buf_free(&body);
}

void api_test_routes_register(net_router *r, api_app *app)
{
    net_router_add(r, NET_GET, "/_test/ws", ws_echo, app, 0);
    net_router_add(r, NET_GET, "/_test/slow", slow, app, 0);
    net_router_add(r, NET_GET, "/_test/sse", sse, app, 0);
    net_router_add(r, NET_POST, "/_test/json", json_echo, app, 0);
    net_router_add(r, NET_GET, "/_test/items/:id", params_echo, app, 0);
    net_router_add(r, NET_DELETE, "/_test/items/:id", params_echo, app, 0);
    net_router_add(r, NET_GET, "/_test/items/new", params_echo, app, 0);
    net_router_add(r, NET_GET, "/_test/files/*path", params_echo, app, 0);
}
