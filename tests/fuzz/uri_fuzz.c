/*
 * uri_fuzz.c: libFuzzer target for the router's path and query parsing.
 * The input is a request target ("/path?query"); it is matched against a
 * router with literal, parameter and wildcard routes, and its query parsed.
 * Properties checked beyond "no crash, no leak, no UB": a match's parameter
 * values never contain NUL, and a wildcard value never holds a "." or ".."
 * segment.
 */
#include <assert.h>
#include <string.h>

#include "base/arena.h"
#include "net/router.h"
#include "net/uri.h"

static void nop(struct net_req *req, void *ctx) {}

static net_router *router;

static void build(void)
{
    router = net_router_new();
    net_router_add(router, NET_GET, "/api/projects", nop, NULL, 0);
    net_router_add(router, NET_GET, "/api/projects/:id", nop, NULL, 0);
    net_router_add(router, NET_PUT, "/api/projects/:id", nop, NULL, 0);
    net_router_add(router, NET_GET, "/api/projects/new", nop, NULL, 0);
    net_router_add(router, NET_GET, "/api/projects/:id/files/*path", nop, NULL, 0);
    net_router_add(router, NET_GET, "/collab/:project/*doc", nop, NULL, 0);
    net_router_add(router, NET_GET, "/", nop, NULL, 0);
}

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
    if (!router)
        build();
    sb_str target = sb_str_make((const char *)data, size);
    ptrdiff_t q = sb_str_index(target, '?', 0);
    sb_str path = q < 0 ? target : sb_str_slice(target, 0, (size_t)q);
    sb_str query = q < 0 ? SB_STR("") : sb_str_slice(target, (size_t)q + 1, target.len);

    sb_arena arena;
    sb_arena_init(&arena, 512);
    net_match m;
    net_uri_err uerr;
    for (net_method meth = NET_GET; meth <= NET_PUT; meth++) {
        if (net_router_match(router, meth, path, &arena, &m, &uerr) == NET_ROUTE_FOUND) {
            for (size_t i = 0; i < m.nparams; i++) {
                sb_str v = m.params[i].value;
                assert(memchr(v.ptr, '\0', v.len) == NULL);
                if (strcmp(m.params[i].name, "path") == 0 || strcmp(m.params[i].name, "doc") == 0) {
                    sb_str segs[NET_MAX_SEGMENTS + 1];
                    size_t n;
                    char *abs = sb_arena_alloc(&arena, v.len + 1);
                    abs[0] = '/';
                    memcpy(abs + 1, v.ptr, v.len);
                    net_uri_err e = net_uri_split_path(sb_str_make(abs, v.len + 1), segs,
                                                       NET_MAX_SEGMENTS + 1, &n);
                    assert(e != NET_URI_DOT_SEGMENT);
                }
            }
        }
    }
    net_query_pair pairs[16];
    size_t n;
    if (net_uri_parse_query(query, &arena, pairs, 16, &n) == NET_URI_OK)
        for (size_t i = 0; i < n; i++)
            assert(pairs[i].key.ptr[pairs[i].key.len] == '\0');
    sb_arena_deinit(&arena);
    return 0;
}
