/*
 * router.c: a segment trie. Each node has literal children (a short list:
 * API paths fan out little), at most one parameter child and at most one
 * wildcard child, and the routes that end at it, one slot per method.
 *
 * Matching walks segments depth-first in priority order literal > param >
 * wildcard and backtracks on a dead end. The first route found wins, so two
 * patterns never compete for one (method, path) unless registered with the
 * same shape, which net_router_add refuses.
 */
#include "net/router.h"

#include <assert.h>
#include <string.h>

#include "base/vec.h"

typedef struct route_node route_node;

struct route_node {
    char *literal; /* for literal children; NULL at the root */
    size_t literal_len;
    SB_VEC(route_node *) literals;
    route_node *param;
    char *param_name;
    route_node *wild;
    char *wild_name;
    net_route *routes[NET_METHOD_COUNT];
};

struct net_router {
    route_node root;
    SB_VEC(net_route *) all;
};

static const char *const method_names[] = {
#define NET__NAME(m) #m,
    NET_METHODS(NET__NAME)
#undef NET__NAME
};

net_method net_method_parse(sb_str s)
{
    for (int m = 0; m < NET_METHOD_COUNT; m++)
        if (sb_str_eq(s, sb_str_c(method_names[m])))
            return (net_method)m;
    return NET_METHOD_OTHER;
}

const char *net_method_name(net_method m)
{
    return m < NET_METHOD_COUNT ? method_names[m] : "OTHER";
}

void net_methods_format(unsigned mask, sb_buf *out)
{
    bool first = true;
    for (int m = 0; m < NET_METHOD_COUNT; m++) {
        if (!(mask & (1u << m)))
            continue;
        if (!first)
            sb_buf_puts(out, ", ");
        sb_buf_puts(out, method_names[m]);
        first = false;
    }
}

net_router *net_router_new(void)
{
    return sb_calloc(1, sizeof(net_router));
}

static void node_deinit(route_node *n)
{
    for (size_t i = 0; i < n->literals.len; i++) {
        node_deinit(n->literals.items[i]);
        free(n->literals.items[i]);
    }
    sb_vec_free(&n->literals);
    if (n->param) {
        node_deinit(n->param);
        free(n->param);
    }
    if (n->wild) {
        node_deinit(n->wild);
        free(n->wild);
    }
    free(n->literal);
    free(n->param_name);
    free(n->wild_name);
}

void net_router_free(net_router *r)
{
    if (!r)
        return;
    node_deinit(&r->root);
    for (size_t i = 0; i < r->all.len; i++) {
        free((char *)r->all.items[i]->pattern);
        free(r->all.items[i]);
    }
    sb_vec_free(&r->all);
    free(r);
}

static route_node *child_for(route_node *n, sb_str seg, const char *pattern)
{
    if (seg.len > 0 && (seg.ptr[0] == ':' || seg.ptr[0] == '*')) {
        bool wild = seg.ptr[0] == '*';
        route_node **slot = wild ? &n->wild : &n->param;
        char **name = wild ? &n->wild_name : &n->param_name;
        sb_str pname = sb_str_slice(seg, 1, seg.len);
        if (pname.len == 0)
            sb_die("route %s: a parameter needs a name", pattern);
        if (*slot == NULL) {
            *slot = sb_calloc(1, sizeof(route_node));
            *name = sb_strndup(pname.ptr, pname.len);
        } else if (!sb_str_eq(sb_str_c(*name), pname)) {
            /* One name per position keeps lookups unambiguous. */
            sb_die("route %s: parameter '%.*s' conflicts with '%s' at the same place", pattern,
                   SB_STR_FMT(pname), *name);
        }
        return *slot;
    }
    for (size_t i = 0; i < n->literals.len; i++) {
        route_node *c = n->literals.items[i];
        if (sb_str_eq(sb_str_make(c->literal, c->literal_len), seg))
            return c;
    }
    route_node *c = sb_calloc(1, sizeof(route_node));
    c->literal = sb_strndup(seg.ptr, seg.len);
    c->literal_len = seg.len;
    sb_vec_push(&n->literals, c);
    return c;
}

const net_route *net_router_add(net_router *r, net_method method, const char *pattern,
                                net_handler handler, void *ctx, size_t max_body)
{
    sb_str segs[NET_MAX_SEGMENTS];
    size_t nsegs, nparams = 0;
    if (method >= NET_METHOD_COUNT ||
        net_uri_split_path(sb_str_c(pattern), segs, NET_MAX_SEGMENTS, &nsegs) != NET_URI_OK)
        sb_die("route %s: malformed pattern", pattern);

    route_node *n = &r->root;
    for (size_t i = 0; i < nsegs; i++) {
        if (segs[i].len > 0 && (segs[i].ptr[0] == ':' || segs[i].ptr[0] == '*')) {
            if (++nparams > NET_MAX_PARAMS)
                sb_die("route %s: more than %d parameters", pattern, NET_MAX_PARAMS);
            if (segs[i].ptr[0] == '*' && i + 1 != nsegs)
                sb_die("route %s: a wildcard must be the last segment", pattern);
        }
        n = child_for(n, segs[i], pattern);
    }
    if (n->routes[method])
        sb_die("route %s %s: registered twice", method_names[method], pattern);

    net_route *route = sb_calloc(1, sizeof(net_route));
    route->method = method;
    route->pattern = sb_strdup(pattern);
    route->handler = handler;
    route->ctx = ctx;
    route->max_body = max_body;
    sb_vec_push(&r->all, route);
    route->id = (unsigned)r->all.len;
    n->routes[method] = route;
    return route;
}

unsigned net_router_count(const net_router *r)
{
    return (unsigned)r->all.len;
}

void net_router_public_cors(net_router *r, const net_route *route)
{
    assert(route->id >= 1 && route->id <= r->all.len && r->all.items[route->id - 1] == route);
    r->all.items[route->id - 1]->public_cors = true;
}

const net_route *net_router_route(const net_router *r, unsigned id)
{
    return id >= 1 && id <= r->all.len ? r->all.items[id - 1] : NULL;
}

typedef struct match_state {
    sb_str *segs;
    size_t nsegs;
    sb_arena *arena;
    net_match *m;
    net_uri_err uerr;
} match_state;

static bool push_param(match_state *st, const char *name, sb_str raw, bool wildcard)
{
    net_match *m = st->m;
    char *buf = sb_arena_alloc(st->arena, raw.len + 1);
    size_t len;
    net_uri_err e = net_uri_decode(raw.ptr, raw.len, false, buf, &len);
    if (e != NET_URI_OK) {
        st->uerr = e;
        return false;
    }
    /* In a wildcard, an encoded '/' would let one segment smuggle a path
     * ("a%2F..%2Fb" past the dot-segment check): refuse it. */
    if (wildcard && len != raw.len) {
        size_t raw_slashes = 0, dec_slashes = 0;
        for (size_t i = 0; i < raw.len; i++)
            raw_slashes += raw.ptr[i] == '/';
        for (size_t i = 0; i < len; i++)
            dec_slashes += buf[i] == '/';
        if (dec_slashes != raw_slashes) {
            st->uerr = NET_URI_BAD_ESCAPE;
            return false;
        }
    }
    buf[len] = '\0';
    m->params[m->nparams].name = name;
    m->params[m->nparams].value = sb_str_make(buf, len);
    m->nparams++;
    return true;
}

/* Returns the node where the path ends (with routes), or NULL. */
static const route_node *match_from(match_state *st, const route_node *n, size_t i)
{
    if (i == st->nsegs) {
        for (int k = 0; k < NET_METHOD_COUNT; k++)
            if (n->routes[k])
                return n;
        return NULL;
    }
    sb_str seg = st->segs[i];
    for (size_t k = 0; k < n->literals.len; k++) {
        const route_node *c = n->literals.items[k];
        if (sb_str_eq(sb_str_make(c->literal, c->literal_len), seg)) {
            const route_node *found = match_from(st, c, i + 1);
            if (found || st->uerr != NET_URI_OK)
                return found;
        }
    }
    size_t saved = st->m->nparams;
    if (n->param && seg.len > 0) {
        if (!push_param(st, n->param_name, seg, false))
            return NULL;
        const route_node *found = match_from(st, n->param, i + 1);
        if (found || st->uerr != NET_URI_OK)
            return found;
        st->m->nparams = saved;
    }
    if (n->wild) {
        /* The rest of the path, raw, from this segment to the end. */
        const char *start = seg.ptr;
        const char *end = st->segs[st->nsegs - 1].ptr + st->segs[st->nsegs - 1].len;
        sb_str rest = sb_str_make(start, (size_t)(end - start));
        if (rest.len == 0)
            return NULL;
        if (!push_param(st, n->wild_name, rest, true))
            return NULL;
        return n->wild;
    }
    return NULL;
}

net_route_result net_router_match(const net_router *r, net_method method, sb_str path,
                                  sb_arena *arena, net_match *match, net_uri_err *uerr)
{
    sb_str segs[NET_MAX_SEGMENTS];
    size_t nsegs;
    memset(match, 0, sizeof(*match));
    net_uri_err e = net_uri_split_path(path, segs, NET_MAX_SEGMENTS, &nsegs);
    if (e != NET_URI_OK) {
        *uerr = e;
        return NET_ROUTE_BAD_PATH;
    }
    match_state st = {segs, nsegs, arena, match, NET_URI_OK};
    const route_node *n = match_from(&st, &r->root, 0);
    if (st.uerr != NET_URI_OK) {
        *uerr = st.uerr;
        return NET_ROUTE_BAD_PATH;
    }
    if (!n)
        return NET_ROUTE_NOT_FOUND;
    for (int k = 0; k < NET_METHOD_COUNT; k++)
        if (n->routes[k])
            match->allowed |= 1u << k;
    if (match->allowed & (1u << NET_GET))
        match->allowed |= 1u << NET_HEAD;
    const net_route *route = method < NET_METHOD_COUNT ? n->routes[method] : NULL;
    if (!route && method == NET_HEAD)
        route = n->routes[NET_GET];
    if (!route)
        return NET_ROUTE_METHOD_NOT_ALLOWED;
    match->route = route;
    return NET_ROUTE_FOUND;
}
