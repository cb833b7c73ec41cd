/*
 * req.h: what a route handler sees of an HTTP request, and how it answers.
 *
 * A handler runs on the loop thread that accepted the connection. It must
 * answer exactly once, with one of the net_respond* calls, either before it
 * returns or later (after net_req_defer, from the same loop thread).
 * Headers set with net_header are sent with that answer.
 *
 * Memory: a net_req and everything from req->arena live until the request
 * is disposed (after the answer is sent, or when the client goes away); a
 * deferred handler keeps a net_req_ref, never the net_req itself.
 */
#ifndef SB_NET_REQ_H
#define SB_NET_REQ_H

#include "base/arena.h"
#include "base/str.h"
#include "net/router.h"

struct st_h2o_req_t;
typedef struct net_loop net_loop;

#define NET_REQUEST_ID_MAX 64

typedef struct net_req {
    struct st_h2o_req_t *h2o; /* the underlying h2o request; net/ only */
    net_loop *loop;           /* the loop thread that owns this request */
    net_method method;
    sb_str path;  /* raw path, without the query */
    sb_str query; /* raw query, without '?'; empty if none */
    sb_str body;  /* the whole request body (h2o buffers it) */
    net_match match;
    sb_arena arena;                  /* per-request scratch; freed with the request */
    char id[NET_REQUEST_ID_MAX + 1]; /* X-Request-Id: the client's if sane, else a UUIDv7 */
    uint64_t start_ns;
    int status; /* set when answered */
    bool responded;
    bool deferred;
    bool cors_allowed; /* the Origin was allowed; answers carry CORS headers */
    struct net_req_ref *ref;
    struct net_query_pair *query_pairs; /* parsed on first net_req_query */
    size_t query_count;
    bool query_parsed;
} net_req;

/* ---- reading the request ---- */

/* The decoded path parameter `name` (":id" -> "id"), or SB_STR_NULL. */
sb_str net_req_param(const net_req *req, const char *name);
/* A request header by lower-case name; the first one if repeated. */
bool net_req_header(const net_req *req, const char *lname, sb_str *value);
/* A decoded query parameter. false when absent; on a malformed query
 * string, false too, and net_req_query_ok tells why. */
bool net_req_query(net_req *req, const char *key, sb_str *value);
bool net_req_query_ok(net_req *req);
/* The peer address as text ("127.0.0.1" / "::1"); in the arena. */
const char *net_req_peer(net_req *req);

/* ---- answering ---- */

/* Adds a response header (name and value are copied). */
void net_header(net_req *req, const char *name, const char *value);
/* The same for a name and value that live for the whole process (string
 * literals): nothing is copied. */
void net_header_static(net_req *req, const char *name, const char *value);
void net_headern(net_req *req, const char *name, const char *value, size_t len);

/* Sends status with body (copied). content_type NULL means no body type. */
void net_respond(net_req *req, int status, const char *content_type, const void *body, size_t len);
/* application/json; charset=utf-8 */
void net_respond_json(net_req *req, int status, const sb_buf *json);
/* RFC 9457 problem+json: {"type":".../errors/<code>","title","status","detail","code"}.
 * detail may be NULL. The texts must not carry secrets or internals. */
void net_respond_problem(net_req *req, int status, const char *code, const char *title,
                         const char *detail);
/* The same with extension members: ext writes them (keys and values) into
 * the open problem object. */
struct sb_jw;
void net_respond_problem_ext(net_req *req, int status, const char *code, const char *title,
                             const char *detail, void (*ext)(struct sb_jw *w, const void *ctx),
                             const void *ctx);
/* The same with a preformatted detail. */
void net_respond_problemf(net_req *req, int status, const char *code, const char *title,
                          const char *fmt, ...) SB_PRINTF(5, 6);

/* Nesting a request body may have. A page's component tree may be 64
 * components deep, which is 2 * 64 + 1 levels of JSON (an array and an
 * object per component), inside the request's own object and a wrapper or
 * two; the parser's recursion stays far inside jansson's own limit. */
#define NET_JSON_MAX_DEPTH 160

/* Parses the body as JSON within the route's limit; on failure answers
 * 400 (with the byte offset, line and column) or 413 and returns false. */
struct json_t;
bool net_req_json(net_req *req, struct json_t **out);

/* ---- answering later ---- */

/* A counted handle to a request that is answered later (after work on the
 * worker pool, say). net_req_ref_get returns the request, or NULL when the
 * client has gone and the request was disposed. Every ref is released once,
 * on the request's loop thread. */
typedef struct net_req_ref net_req_ref;
net_req_ref *net_req_defer(net_req *req);
net_req *net_req_ref_get(net_req_ref *ref);
void net_req_ref_release(net_req_ref *ref);

#endif
