/*
 * dispatch.c: every request enters here (h2o's handler for "/"). The order
 * of the stages is the whole policy, so it is written out in one place:
 *
 *   request id -> security headers -> CORS (may answer a preflight)
 *   -> route (404 / 405 / 400) -> body limit (413) -> handler
 *
 * and every answer, whoever sends it, passes net__finish (respond.c), which
 * adds the answer headers, records metrics and writes the access log.
 *
 * The net_req lives in h2o's request pool as a shared allocation whose
 * dispose callback runs when h2o has finished with the request (its answer
 * written, or the client gone): that is where in-flight accounting ends and
 * deferred references learn the request is gone.
 */
#include <string.h>

#include "base/clock.h"
#include "base/log.h"
#include "net/net_int.h"

#define NET_MAX_TARGET 8192 /* bytes of path + query */

struct net_req_ref {
    net_req *req; /* NULL once the request is disposed */
    unsigned refs;
};

static void req_dispose(void *p)
{
    net_req *req = p;
    net_loop *loop = req->loop;
    if (!req->responded) {
        /* The client went away before we answered (or a handler forgot to:
         * that is caught at dispatch). Count it as nginx's 499. */
        req->status = 499;
        net_metrics_request(loop->metrics, req->match.route ? req->match.route->id : 0, req->method,
                            499, sb_mono_ns() - req->start_ns);
    }
    if (req->ref) {
        req->ref->req = NULL;
        net_req_ref_release(req->ref);
    }
    sb_arena_deinit(&req->arena);
    loop->inflight--;
    net_metrics_inflight(loop->metrics, -1);
}

net_req_ref *net_req_defer(net_req *req)
{
    if (!req->ref) {
        req->ref = sb_calloc(1, sizeof(*req->ref));
        req->ref->req = req;
        req->ref->refs = 1; /* the request's own */
    }
    req->deferred = true;
    req->ref->refs++;
    return req->ref;
}

net_req *net_req_ref_get(net_req_ref *ref)
{
    return ref->req;
}

void net_req_ref_release(net_req_ref *ref)
{
    if (--ref->refs == 0)
        free(ref);
}

static void route_failed(net_req *req, net_route_result r, net_uri_err uerr)
{
    switch (r) {
    case NET_ROUTE_NOT_FOUND:
        net_respond_problemf(req, 404, "not_found", "Not Found", "No route matches %s %.*s.",
                             net_method_name(req->method), SB_STR_FMT(req->path));
        return;
    case NET_ROUTE_METHOD_NOT_ALLOWED: {
        sb_buf allow = SB_BUF_INIT;
        net_methods_format(req->match.allowed, &allow);
        net_headern(req, "allow", allow.ptr, allow.len);
        net_respond_problemf(req, 405, "method_not_allowed", "Method Not Allowed",
                             "%.*s accepts %s.", SB_STR_FMT(req->path), allow.ptr);
        sb_buf_free(&allow);
        return;
    }
    default:
        net_respond_problem(req, 400, "bad_path", "Bad Request", net_uri_strerror(uerr));
        return;
    }
}

int net__dispatch(h2o_handler_t *self, h2o_req_t *hreq)
{
    net_loop *loop = net__loop_of(hreq);
    net_req *req = h2o_mem_alloc_shared(&hreq->pool, sizeof(*req), req_dispose);
    memset(req, 0, sizeof(*req));
    req->h2o = hreq;
    req->loop = loop;
    req->start_ns = sb_mono_ns();
    sb_arena_init(&req->arena, 2048);
    loop->inflight++;
    net_metrics_inflight(loop->metrics, 1);

    req->method = net_method_parse(sb_str_make(hreq->method.base, hreq->method.len));
    size_t path_len = hreq->query_at != SIZE_MAX ? hreq->query_at : hreq->path.len;
    req->path = sb_str_make(hreq->path.base, path_len);
    if (hreq->query_at != SIZE_MAX)
        req->query =
            sb_str_make(hreq->path.base + hreq->query_at + 1, hreq->path.len - hreq->query_at - 1);
    req->body = sb_str_make(hreq->entity.base, hreq->entity.base ? hreq->entity.len : 0);

    net__request_id(req);
    net__security_headers(req);
    if (hreq->path.len > NET_MAX_TARGET) {
        /* h2o accepts heads of ~400 KiB; no route needs such a target. */
        net_respond_problemf(req, 414, "uri_too_long", "URI Too Long",
                             "The request target has %zu bytes; at most %d are accepted.",
                             hreq->path.len, NET_MAX_TARGET);
        return 0;
    }
    if (net__cors(req))
        return 0;

    net_uri_err uerr = NET_URI_OK;
    net_route_result r = net_router_match(loop->server->router, req->method, req->path, &req->arena,
                                          &req->match, &uerr);
    if (r != NET_ROUTE_FOUND) {
        route_failed(req, r, uerr);
        return 0;
    }

    const net_route *route = req->match.route;
    size_t limit = route->max_body ? route->max_body : loop->server->cfg->max_json_body;
    if (req->body.len > limit) {
        net_respond_problemf(req, 413, "payload_too_large", "Payload Too Large",
                             "The body has %zu bytes; this route accepts at most %zu.",
                             req->body.len, limit);
        return 0;
    }

    route->handler(req, route->ctx);

    if (!req->responded && !req->deferred) {
        sb_log(SB_LOG_ERROR, "handler returned without answering",
               SB_LOG_STR("route", route->pattern), SB_LOG_STR("request_id", req->id));
        net_respond_problem(req, 500, "internal", "Internal Server Error", NULL);
    }
    return 0;
}
