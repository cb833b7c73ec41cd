/*
 * router.h: maps (method, path) to a route. Patterns are segment lists:
 *   "/api/projects"            literal segments
 *   "/api/projects/:id"        ":name" matches one segment (decoded)
 *   "/api/files/" + "*path"    "*name" matches the rest: one or more
 *                              segments; only last in a pattern
 * (the last is spelled apart here only because C comments cannot hold it).
 * At each segment a literal beats a parameter, which beats a wildcard; the
 * matcher backtracks, so "/a/new" and "/a/:id" can live side by side.
 *
 * A router is built at start-up on one thread and is read-only afterwards,
 * so every loop thread shares it without locks. It owns its nodes and its
 * copies of patterns; handler contexts stay the caller's.
 */
#ifndef SB_NET_ROUTER_H
#define SB_NET_ROUTER_H

#include "base/arena.h"
#include "base/str.h"
#include "net/uri.h"

#define NET_METHODS(X) X(GET) X(HEAD) X(POST) X(PUT) X(PATCH) X(DELETE) X(OPTIONS)

typedef enum net_method {
#define NET__M(m) NET_##m,
    NET_METHODS(NET__M)
#undef NET__M
        NET_METHOD_COUNT,
    NET_METHOD_OTHER = NET_METHOD_COUNT,
} net_method;

/* "GET" -> NET_GET; anything unknown -> NET_METHOD_OTHER. */
net_method net_method_parse(sb_str s);
const char *net_method_name(net_method m);

#define NET_MAX_PARAMS   8
#define NET_MAX_SEGMENTS 64

struct net_req;
typedef void (*net_handler)(struct net_req *req, void *ctx);

typedef struct net_route {
    net_method method;
    const char *pattern; /* the router's copy; also the metrics label */
    net_handler handler;
    void *ctx;
    size_t max_body;  /* 0 = the server's JSON limit */
    unsigned id;      /* dense, from 1; 0 is "no route" in metrics */
    bool public_cors; /* any origin may call it, without credentials (beacons) */
} net_route;

typedef struct net_match {
    const net_route *route;
    size_t nparams;
    struct {
        const char *name;
        sb_str value; /* decoded; in the arena given to net_router_match */
    } params[NET_MAX_PARAMS];
    unsigned allowed; /* methods registered at the path (bit 1 << net_method) */
} net_match;

typedef enum net_route_result {
    NET_ROUTE_FOUND,
    NET_ROUTE_NOT_FOUND,
    NET_ROUTE_METHOD_NOT_ALLOWED, /* the path exists; see match->allowed */
    NET_ROUTE_BAD_PATH,           /* see *uerr */
} net_route_result;

typedef struct net_router net_router;

net_router *net_router_new(void);
void net_router_free(net_router *r);

/* Registers a route. Aborts (a programming error) on a malformed pattern,
 * a duplicate (method, pattern), or more than NET_MAX_PARAMS parameters.
 * max_body: largest request body the route accepts, 0 for the default. */
const net_route *net_router_add(net_router *r, net_method method, const char *pattern,
                                net_handler handler, void *ctx, size_t max_body);

/* Opens route to every origin (CORS "*", no credentials): its preflights
 * are answered for any Origin, its answers carry
 * Access-Control-Allow-Origin: *. For endpoints that any web page calls,
 * such as the analytics beacon; never for routes that read credentials. */
void net_router_public_cors(net_router *r, const net_route *route);

/* Number of routes registered (ids run 1..count). */
unsigned net_router_count(const net_router *r);
/* The route with the given id (1..count). */
const net_route *net_router_route(const net_router *r, unsigned id);

/* Matches path (without the query) for method. HEAD falls back to GET. */
net_route_result net_router_match(const net_router *r, net_method method, sb_str path,
                                  sb_arena *arena, net_match *match, net_uri_err *uerr);

/* Writes "GET, HEAD, POST" for a method mask into out. */
void net_methods_format(unsigned mask, sb_buf *out);

#endif
