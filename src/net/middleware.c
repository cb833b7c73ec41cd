/*
 * middleware.c: the stages every request passes (see dispatch.c for their
 * order): request ids, security headers, CORS, and the headers and log
 * line every answer gets.
 */
#include <string.h>

#include "base/clock.h"
#include "base/log.h"
#include "base/uuid.h"
#include "net/net_int.h"

/* A client's X-Request-Id is kept only if it is short and plain, since it is
 * echoed into headers and logs. */
static bool sane_request_id(sb_str id)
{
    if (id.len == 0 || id.len > NET_REQUEST_ID_MAX)
        return false;
    for (size_t i = 0; i < id.len; i++) {
        char c = id.ptr[i];
        if (!((c >= 'a' && c <= 'z') || (c >= 'A' && c <= 'Z') || (c >= '0' && c <= '9') ||
              c == '-' || c == '_' || c == '.' || c == ':'))
            return false;
    }
    return true;
}

void net__request_id(net_req *req)
{
    sb_str given;
    if (net_req_header(req, "x-request-id", &given) && sane_request_id(given)) {
        memcpy(req->id, given.ptr, given.len);
        req->id[given.len] = '\0';
        return;
    }
    sb_uuid u;
    sb_uuid_v7(&u);
    sb_uuid_format(&u, req->id);
}

void net__security_headers(net_req *req)
{
    /* API answers are data, never documents: nothing may sniff, frame or
     * run them. Routes that serve pages set their own policy later. */
    net_header_static(req, "x-content-type-options", "nosniff");
    net_header_static(req, "x-frame-options", "DENY");
    net_header_static(req, "referrer-policy", "no-referrer");
    net_header_static(req, "content-security-policy", "default-src 'none'; frame-ancestors 'none'");
    if (req->loop->server->ssl_ctx)
        net_header_static(req, "strict-transport-security", "max-age=31536000");
}

static bool origin_allowed(const net_server *s, sb_str origin)
{
    if (s->any_origin)
        return true;
    for (size_t i = 0; i < s->norigins; i++)
        if (sb_str_eq(s->origins[i], origin))
            return true;
    return false;
}

bool net__cors(net_req *req)
{
    sb_str origin;
    if (!net_req_header(req, "origin", &origin))
        return false;
    req->cors_allowed = origin_allowed(req->loop->server, origin);
    sb_str want;
    if (req->method != NET_OPTIONS || !net_req_header(req, "access-control-request-method", &want))
        return false;
    /* A route open to every origin answers its preflights for anyone. */
    net_match m;
    net_uri_err uerr;
    if (net_router_match(req->loop->server->router, net_method_parse(want), req->path, &req->arena,
                         &m, &uerr) == NET_ROUTE_FOUND &&
        m.route->public_cors) {
        req->cors_allowed = false;
        net_header_static(req, "access-control-allow-origin", "*");
        net_headern(req, "access-control-allow-methods", want.ptr, want.len);
        net_header_static(req, "access-control-allow-headers", "Content-Type");
        net_header_static(req, "access-control-max-age", "86400");
        net_respond(req, 204, NULL, NULL, 0);
        return true;
    }
    /* A preflight: answer it here, allowed or not; a refused one simply
     * lacks the allow headers, which is how browsers learn "no". */
    if (req->cors_allowed) {
        net_header_static(req, "access-control-allow-methods",
                          "GET, HEAD, POST, PUT, PATCH, DELETE");
        net_header_static(req, "access-control-allow-headers",
                          "Authorization, Content-Type, If-Match, If-None-Match, Idempotency-Key, "
                          "X-CSRF-Token, X-Request-Id");
        net_header_static(req, "access-control-max-age", "600");
    }
    net_respond(req, 204, NULL, NULL, 0);
    return true;
}

void net__answer_headers(net_req *req)
{
    net_headern(req, "x-request-id", req->id, strlen(req->id));
    /* Milliseconds with microsecond digits, formatted by hand: this runs
     * on every answer and printf's floating point showed in profiles. */
    uint64_t us = (sb_mono_ns() - req->start_ns) / 1000;
    char timing[40], digits[24];
    size_t n = 0;
    uint64_t whole = us / 1000;
    do
        digits[n++] = (char)('0' + whole % 10);
    while ((whole /= 10) > 0);
    size_t len = sizeof("app;dur=") - 1;
    memcpy(timing, "app;dur=", len);
    while (n > 0)
        timing[len++] = digits[--n];
    timing[len++] = '.';
    timing[len++] = (char)('0' + us % 1000 / 100);
    timing[len++] = (char)('0' + us % 100 / 10);
    timing[len++] = (char)('0' + us % 10);
    net_headern(req, "server-timing", timing, len);
    if (req->match.route && req->match.route->public_cors) {
        net_header_static(req, "access-control-allow-origin", "*");
        net_header_static(req, "access-control-expose-headers",
                          "Retry-After, RateLimit-Limit, RateLimit-Remaining, RateLimit-Reset, "
                          "X-Request-Id");
    } else if (req->cors_allowed) {
        sb_str origin;
        net_req_header(req, "origin", &origin);
        net_headern(req, "access-control-allow-origin", origin.ptr, origin.len);
        net_header_static(req, "access-control-allow-credentials", "true");
        net_header_static(req, "access-control-expose-headers",
                          "ETag, Location, Retry-After, RateLimit-Limit, RateLimit-Remaining, "
                          "RateLimit-Reset, X-Request-Id");
        net_header_static(req, "vary", "Origin");
    }
}

/* Longer paths are cut in the log: a client must not fill it. */
#define ACCESS_LOG_PATH_MAX 256

void net__access_log(net_req *req, size_t bytes)
{
    if (!req->loop->server->cfg->access_log || !sb_log_enabled(SB_LOG_INFO))
        return;
    /* The path only: query strings can carry tokens, and logs never hold
     * secrets. */
    sb_log(SB_LOG_INFO, "request", SB_LOG_STR("method", net_method_name(req->method)),
           SB_LOG_STRN("path", req->path.ptr, SB_MIN(req->path.len, ACCESS_LOG_PATH_MAX)),
           SB_LOG_INT("status", req->status), SB_LOG_INT("bytes", (int64_t)bytes),
           SB_LOG_DBL("ms", (double)(sb_mono_ns() - req->start_ns) / 1e6),
           SB_LOG_STR("request_id", req->id), SB_LOG_STR("peer", net_req_peer(req)));
}
