/*
 * net_router_test.c: the router and the URI parsing under it: priority of
 * literals over parameters over wildcards, backtracking, decoding, HEAD
 * falling back to GET, 405 masks, and the refusals that keep paths honest.
 */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <string.h>

#include <cmocka.h>

#include "net/router.h"
#include "net/uri.h"

static int marker_a, marker_b;

static void h(struct net_req *req, void *ctx) {}

static net_router *make(void)
{
    net_router *r = net_router_new();
    net_router_add(r, NET_GET, "/api/projects", h, &marker_a, 0);
    net_router_add(r, NET_POST, "/api/projects", h, &marker_b, 0);
    net_router_add(r, NET_GET, "/api/projects/:id", h, NULL, 0);
    net_router_add(r, NET_GET, "/api/projects/new", h, NULL, 0);
    net_router_add(r, NET_GET, "/api/projects/:id/files/*path", h, NULL, 0);
    net_router_add(r, NET_GET, "/api/projects/:id/pages/:page", h, NULL, 0);
    net_router_add(r, NET_GET, "/a/:x/c", h, NULL, 0);
    net_router_add(r, NET_GET, "/a/b/d", h, NULL, 0);
    return r;
}

static net_route_result match(net_router *r, net_method m, const char *path, sb_arena *a,
                              net_match *out)
{
    net_uri_err e;
    return net_router_match(r, m, sb_str_c(path), a, out, &e);
}

static void test_literals_params_wildcards(void **state)
{
    net_router *r = make();
    sb_arena a;
    sb_arena_init(&a, 0);
    net_match m;

    assert_int_equal(match(r, NET_GET, "/api/projects", &a, &m), NET_ROUTE_FOUND);
    assert_ptr_equal(m.route->ctx, &marker_a);
    assert_int_equal(match(r, NET_POST, "/api/projects", &a, &m), NET_ROUTE_FOUND);
    assert_ptr_equal(m.route->ctx, &marker_b);

    assert_int_equal(match(r, NET_GET, "/api/projects/new", &a, &m), NET_ROUTE_FOUND);
    assert_string_equal(m.route->pattern, "/api/projects/new");
    assert_int_equal(m.nparams, 0);

    assert_int_equal(match(r, NET_GET, "/api/projects/p%201", &a, &m), NET_ROUTE_FOUND);
    assert_string_equal(m.route->pattern, "/api/projects/:id");
    assert_string_equal(m.params[0].name, "id");
    assert_int_equal(m.params[0].value.len, 3);
    assert_memory_equal(m.params[0].value.ptr, "p 1", 3);

    assert_int_equal(match(r, NET_GET, "/api/projects/7/files/src/a%20b.js", &a, &m),
                     NET_ROUTE_FOUND);
    assert_int_equal(m.nparams, 2);
    assert_string_equal(m.params[1].name, "path");
    assert_string_equal(m.params[1].value.ptr, "src/a b.js");

    assert_int_equal(match(r, NET_GET, "/api/projects/7/pages/9", &a, &m), NET_ROUTE_FOUND);
    assert_string_equal(m.params[0].value.ptr, "7");
    assert_string_equal(m.params[1].value.ptr, "9");

    /* Backtracking: "b" is a literal under /a, but only /a/:x/c ends in c. */
    assert_int_equal(match(r, NET_GET, "/a/b/c", &a, &m), NET_ROUTE_FOUND);
    assert_string_equal(m.route->pattern, "/a/:x/c");
    assert_string_equal(m.params[0].value.ptr, "b");
    assert_int_equal(match(r, NET_GET, "/a/b/d", &a, &m), NET_ROUTE_FOUND);
    assert_int_equal(m.nparams, 0);

    sb_arena_deinit(&a);
    net_router_free(r);
}

static void test_not_found_and_methods(void **state)
{
    net_router *r = make();
    sb_arena a;
    sb_arena_init(&a, 0);
    net_match m;
    assert_int_equal(match(r, NET_GET, "/api/projects/", &a, &m), NET_ROUTE_NOT_FOUND);
    assert_int_equal(match(r, NET_GET, "/api", &a, &m), NET_ROUTE_NOT_FOUND);
    assert_int_equal(match(r, NET_GET, "/api/projects/7/files", &a, &m), NET_ROUTE_NOT_FOUND);
    assert_int_equal(match(r, NET_DELETE, "/api/projects", &a, &m), NET_ROUTE_METHOD_NOT_ALLOWED);
    assert_int_equal(m.allowed, (1u << NET_GET) | (1u << NET_HEAD) | (1u << NET_POST));
    sb_buf allow = SB_BUF_INIT;
    net_methods_format(m.allowed, &allow);
    assert_string_equal(allow.ptr, "GET, HEAD, POST");
    sb_buf_free(&allow);
    assert_int_equal(match(r, NET_HEAD, "/api/projects", &a, &m), NET_ROUTE_FOUND);
    assert_int_equal(m.route->method, NET_GET);
    assert_int_equal(match(r, NET_METHOD_OTHER, "/api/projects", &a, &m),
                     NET_ROUTE_METHOD_NOT_ALLOWED);
    assert_int_equal(net_router_count(r), 8);
    assert_string_equal(net_router_route(r, 1)->pattern, "/api/projects");
    assert_null(net_router_route(r, 9));
    sb_arena_deinit(&a);
    net_router_free(r);
}

static void test_bad_paths(void **state)
{
    net_router *r = make();
    sb_arena a;
    sb_arena_init(&a, 0);
    net_match m;
    net_uri_err e = NET_URI_OK;
    assert_int_equal(net_router_match(r, NET_GET, SB_STR("/api/projects/%zz"), &a, &m, &e),
                     NET_ROUTE_BAD_PATH);
    assert_int_equal(e, NET_URI_BAD_ESCAPE);
    assert_int_equal(net_router_match(r, NET_GET, SB_STR("/api/projects/%00"), &a, &m, &e),
                     NET_ROUTE_BAD_PATH);
    assert_int_equal(net_router_match(r, NET_GET, SB_STR("/api/../projects"), &a, &m, &e),
                     NET_ROUTE_BAD_PATH);
    assert_int_equal(e, NET_URI_DOT_SEGMENT);
    assert_int_equal(net_router_match(r, NET_GET, SB_STR("/api/%2E%2e/x"), &a, &m, &e),
                     NET_ROUTE_BAD_PATH);
    assert_int_equal(e, NET_URI_DOT_SEGMENT);
    assert_int_equal(
        net_router_match(r, NET_GET, SB_STR("/api/projects/1/files/a%2F..%2Fb"), &a, &m, &e),
        NET_ROUTE_BAD_PATH);
    assert_int_equal(net_router_match(r, NET_GET, SB_STR("relative"), &a, &m, &e),
                     NET_ROUTE_BAD_PATH);
    assert_int_equal(e, NET_URI_NOT_ABSOLUTE);
    /* %2F inside a single parameter is data, not structure. */
    assert_int_equal(net_router_match(r, NET_GET, SB_STR("/api/projects/a%2Fb"), &a, &m, &e),
                     NET_ROUTE_FOUND);
    assert_string_equal(m.params[0].value.ptr, "a/b");
    /* "..." is a name, not a dot segment. */
    assert_int_equal(net_router_match(r, NET_GET, SB_STR("/api/projects/..."), &a, &m, &e),
                     NET_ROUTE_FOUND);
    sb_arena_deinit(&a);
    net_router_free(r);
}

static void test_decode_and_query(void **state)
{
    char out[32];
    size_t n;
    assert_int_equal(net_uri_decode("a%41+%7e", 8, true, out, &n), NET_URI_OK);
    assert_int_equal(n, 4);
    assert_memory_equal(out, "aA ~", 4);
    assert_int_equal(net_uri_decode("a+b", 3, false, out, &n), NET_URI_OK);
    assert_memory_equal(out, "a+b", 3);
    assert_int_equal(net_uri_decode("%4", 2, false, out, &n), NET_URI_BAD_ESCAPE);
    assert_int_equal(net_uri_decode("%g0", 3, false, out, &n), NET_URI_BAD_ESCAPE);
    assert_int_equal(net_uri_decode("a\0b", 3, false, out, &n), NET_URI_CONTROL);
    assert_int_equal(net_uri_decode("a\nb", 3, true, out, &n), NET_URI_CONTROL);

    sb_arena a;
    sb_arena_init(&a, 0);
    net_query_pair pairs[4];
    assert_int_equal(net_uri_parse_query(SB_STR("limit=50&&q=a+b%26c&flag&=v"), &a, pairs, 4, &n),
                     NET_URI_OK);
    assert_int_equal(n, 4);
    assert_string_equal(pairs[0].key.ptr, "limit");
    assert_string_equal(pairs[0].value.ptr, "50");
    assert_string_equal(pairs[1].value.ptr, "a b&c");
    assert_string_equal(pairs[2].key.ptr, "flag");
    assert_int_equal(pairs[2].value.len, 0);
    assert_int_equal(pairs[3].key.len, 0);
    assert_string_equal(pairs[3].value.ptr, "v");
    assert_int_equal(net_uri_parse_query(SB_STR("a=1&b=2&c=3&d=4&e=5"), &a, pairs, 4, &n),
                     NET_URI_TOO_MANY);
    assert_int_equal(net_uri_parse_query(SB_STR("a=%zz"), &a, pairs, 4, &n), NET_URI_BAD_ESCAPE);
    sb_arena_deinit(&a);

    sb_str segs[4];
    assert_int_equal(net_uri_split_path(SB_STR("/"), segs, 4, &n), NET_URI_OK);
    assert_int_equal(n, 1);
    assert_int_equal(segs[0].len, 0);
    assert_int_equal(net_uri_split_path(SB_STR("/a//b/"), segs, 4, &n), NET_URI_OK);
    assert_int_equal(n, 4);
    assert_int_equal(net_uri_split_path(SB_STR("/a/b/c/d/e"), segs, 4, &n), NET_URI_TOO_MANY);
}

int main(void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(test_literals_params_wildcards),
        cmocka_unit_test(test_not_found_and_methods),
        cmocka_unit_test(test_bad_paths),
        cmocka_unit_test(test_decode_and_query),
    };
    return cmocka_run_group_tests(tests, NULL, NULL);
}
