/*
 * respond.c: reading a request's parts and sending its one answer.
 *
 * Invariant: a request is answered exactly once (asserted); every answer
 * passes net__finish before h2o sees it, so headers, metrics and the log
 * line never depend on which helper a handler used.
 */
#include <arpa/inet.h>
#include <assert.h>
#include <stdarg.h>
#include <string.h>

#include "base/clock.h"
#include "base/json.h"
#include "net/net_int.h"

#define QUERY_MAX_PAIRS 64

sb_str net_req_param(const net_req *req, const char *name)
{
    for (size_t i = 0; i < req->match.nparams; i++)
        if (strcmp(req->match.params[i].name, name) == 0)
            return req->match.params[i].value;
    return SB_STR_NULL;
}

bool net_req_header(const net_req *req, const char *lname, sb_str *value)
{
    ssize_t i = h2o_find_header_by_str(&req->h2o->headers, lname, strlen(lname), -1);
    if (i < 0)
        return false;
    h2o_iovec_t v = req->h2o->headers.entries[i].value;
    *value = sb_str_make(v.base, v.len);
    return true;
}

static bool parse_query(net_req *req)
{
    if (!req->query_parsed) {
        req->query_parsed = true;
        req->query_pairs = sb_arena_alloc(&req->arena, QUERY_MAX_PAIRS * sizeof(net_query_pair));
        if (net_uri_parse_query(req->query, &req->arena, req->query_pairs, QUERY_MAX_PAIRS,
                                &req->query_count) != NET_URI_OK) {
            req->query_pairs = NULL;
            req->query_count = 0;
        }
    }
    return req->query_pairs != NULL;
}

bool net_req_query(net_req *req, const char *key, sb_str *value)
{
    if (!parse_query(req))
        return false;
    sb_str k = sb_str_c(key);
    for (size_t i = 0; i < req->query_count; i++) {
        if (sb_str_eq(req->query_pairs[i].key, k)) {
            *value = req->query_pairs[i].value;
            return true;
        }
    }
    return false;
}

bool net_req_query_ok(net_req *req)
{
    return parse_query(req);
}

const char *net_req_peer(net_req *req)
{
    struct sockaddr_storage ss;
    socklen_t len = req->h2o->conn->callbacks->get_peername(req->h2o->conn, (struct sockaddr *)&ss);
    char *out = sb_arena_alloc(&req->arena, INET6_ADDRSTRLEN);
    out[0] = '\0';
    if (len > 0 && ss.ss_family == AF_INET)
        inet_ntop(AF_INET, &((struct sockaddr_in *)&ss)->sin_addr, out, INET6_ADDRSTRLEN);
    else if (len > 0 && ss.ss_family == AF_INET6)
        inet_ntop(AF_INET6, &((struct sockaddr_in6 *)&ss)->sin6_addr, out, INET6_ADDRSTRLEN);
    return out;
}

void net_headern(net_req *req, const char *name, const char *value, size_t len)
{
    h2o_req_t *h = req->h2o;
    /* h2o keeps pointers: give it pool copies. */
    h2o_iovec_t n = h2o_strdup(&h->pool, name, strlen(name));
    h2o_iovec_t v = h2o_strdup(&h->pool, value, len);
    h2o_add_header_by_str(&h->pool, &h->res.headers, n.base, n.len, 1, NULL, v.base, v.len);
}

void net_header_static(net_req *req, const char *name, const char *value)
{
    h2o_req_t *h = req->h2o;
    h2o_add_header_by_str(&h->pool, &h->res.headers, name, strlen(name), 1, NULL, value,
                          strlen(value));
}

void net_header(net_req *req, const char *name, const char *value)
{
    net_headern(req, name, value, strlen(value));
}

static const char *reason(int status)
{
    switch (status) {
    case 101:
        return "Switching Protocols";
    case 200:
        return "OK";
    case 201:
        return "Created";
    case 202:
        return "Accepted";
    case 204:
        return "No Content";
    case 304:
        return "Not Modified";
    case 400:
        return "Bad Request";
    case 401:
        return "Unauthorized";
    case 403:
        return "Forbidden";
    case 404:
        return "Not Found";
    case 405:
        return "Method Not Allowed";
    case 409:
        return "Conflict";
    case 412:
        return "Precondition Failed";
    case 413:
        return "Payload Too Large";
    case 414:
        return "URI Too Long";
    case 415:
        return "Unsupported Media Type";
    case 422:
        return "Unprocessable Content";
    case 429:
        return "Too Many Requests";
    case 500:
        return "Internal Server Error";
    case 503:
        return "Service Unavailable";
    default:
        return status < 400 ? "OK" : status < 500 ? "Client Error" : "Server Error";
    }
}

void net__finish(net_req *req, int status, size_t body_len)
{
    assert(!req->responded && "a request is answered once");
    req->responded = true;
    req->status = status;
    net__answer_headers(req);
    net_metrics_request(req->loop->metrics, req->match.route ? req->match.route->id : 0,
                        req->method, status, sb_mono_ns() - req->start_ns);
    net__access_log(req, body_len);
    const net_server_hooks *hooks = &req->loop->server->hooks;
    if (hooks->answered)
        hooks->answered(req, hooks->app, status);
}

void net_respond(net_req *req, int status, const char *content_type, const void *body, size_t len)
{
    h2o_req_t *h = req->h2o;
    h->res.status = status;
    h->res.reason = reason(status);
    if (content_type)
        h2o_add_header(&h->pool, &h->res.headers, H2O_TOKEN_CONTENT_TYPE, NULL, content_type,
                       strlen(content_type));
    net__finish(req, status, len);
    if (status != 204 && status != 304)
        h->res.content_length = len;
    h2o_send_inline(h, body ? body : "", len);
}

void net_respond_json(net_req *req, int status, const sb_buf *json)
{
    net_respond(req, status, "application/json; charset=utf-8", json->ptr, json->len);
}

/* Writes the problem object's members up to (not including) the closing
 * brace, so callers can add extension members. */
static void problem_begin(sb_jw *w, int status, const char *code, const char *title,
                          const char *detail)
{
    sb_jw_obj_begin(w);
    sb_jw_key(w, "type");
    char type[128];
    snprintf(type, sizeof(type), "https://sitebase.dev/errors/%s", code);
    sb_jw_str(w, type);
    sb_jw_kv_str(w, "title", title);
    sb_jw_kv_int(w, "status", status);
    if (detail)
        sb_jw_kv_str(w, "detail", detail);
    sb_jw_kv_str(w, "code", code);
}

static void problem_send(net_req *req, int status, sb_buf *body)
{
    net_respond(req, status, "application/problem+json", body->ptr, body->len);
    sb_buf_free(body);
}

void net_respond_problem_ext(net_req *req, int status, const char *code, const char *title,
                             const char *detail, void (*ext)(sb_jw *w, const void *ctx),
                             const void *ctx)
{
    sb_buf body = SB_BUF_INIT;
    sb_jw w;
    sb_jw_init(&w, &body);
    problem_begin(&w, status, code, title, detail);
    if (ext)
        ext(&w, ctx);
    sb_jw_obj_end(&w);
    problem_send(req, status, &body);
}

void net_respond_problem(net_req *req, int status, const char *code, const char *title,
                         const char *detail)
{
    net_respond_problem_ext(req, status, code, title, detail, NULL, NULL);
}

void net_respond_problemf(net_req *req, int status, const char *code, const char *title,
                          const char *fmt, ...)
{
    sb_buf detail = SB_BUF_INIT;
    va_list ap;
    va_start(ap, fmt);
    sb_buf_vappendf(&detail, fmt, ap);
    va_end(ap);
    net_respond_problem(req, status, code, title, detail.ptr);
    sb_buf_free(&detail);
}

static void json_error_members(sb_jw *w, const void *ctx)
{
    const sb_json_error *jerr = ctx;
    sb_jw_key(w, "offset");
    sb_jw_uint(w, jerr->offset);
    sb_jw_kv_int(w, "line", jerr->line);
    sb_jw_kv_int(w, "column", jerr->column);
}

static bool is_json_type(sb_str ct)
{
    /* "application/json" with optional parameters (charset=utf-8). */
    sb_str want = SB_STR("application/json");
    if (ct.len < want.len || !sb_str_eq_nocase(sb_str_slice(ct, 0, want.len), want))
        return false;
    return ct.len == want.len || ct.ptr[want.len] == ';' || ct.ptr[want.len] == ' ';
}

/* Whatever a body holds can be written back inside an answer. */
_Static_assert(NET_JSON_MAX_DEPTH + 16 <= SB_JW_MAX_DEPTH, "sb_jw cannot echo a deep body");

bool net_req_json(net_req *req, json_t **out)
{
    sb_str ct;
    if (!net_req_header(req, "content-type", &ct) || !is_json_type(ct)) {
        net_respond_problem(req, 415, "unsupported_media_type", "Unsupported Media Type",
                            "The body must be JSON, sent with Content-Type: application/json.");
        return false;
    }
    const net_route *route = req->match.route;
    sb_json_limits limits = {
        .max_bytes =
            route && route->max_body ? route->max_body : req->loop->server->cfg->max_json_body,
        .max_depth = NET_JSON_MAX_DEPTH,
    };
    sb_json_error jerr;
    switch (sb_json_parse(req->body.ptr, req->body.len, &limits, out, &jerr)) {
    case SB_JSON_OK:
        return true;
    case SB_JSON_TOO_LARGE:
        net_respond_problemf(req, 413, "payload_too_large", "Payload Too Large",
                             "The body has %zu bytes; this route accepts at most %zu.",
                             req->body.len, limits.max_bytes);
        return false;
    default: {
        char detail[256];
        snprintf(detail, sizeof(detail), "Invalid JSON at byte %zu (line %d, column %d): %s",
                 jerr.offset, jerr.line, jerr.column, jerr.text);
        net_respond_problem_ext(req, 400, "invalid_json", "Bad Request", detail, json_error_members,
                                &jerr);
        return false;
    }
    }
}
