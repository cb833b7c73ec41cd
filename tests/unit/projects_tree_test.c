/*
 * projects_tree_test.c: component trees: what validates, every error with
 * the exact path and message it reports, the limits at their edges (depth
 * 64 passes and 65 fails, props size counted exactly as jansson writes
 * it), normalisation's shape and key order, and fresh copies' new ids.
 */
#include "cmocka_prelude.h"

#include <stdio.h>
#include <stdlib.h>

#include "base/map.h"
#include "base/str.h"
#include "base/uuid.h"
#include "projects/tree.h"

static json_t *parse(const char *text)
{
    json_error_t e;
    json_t *v = json_loads(text, JSON_DECODE_ANY | JSON_ALLOW_NUL, &e);
    if (!v)
        fail_msg("bad test JSON: %s: %s", e.text, text);
    return v;
}

static char *dump(const json_t *v)
{
    return json_dumps(v, JSON_COMPACT | JSON_ENCODE_ANY);
}

static void expect_valid_with(const char *text, const projects_tree_limits *lim)
{
    json_t *v = parse(text);
    projects_tree_error err;
    memset(&err, 0x55, sizeof(err));
    bool ok = projects_tree_validate(v, lim, &err);
    if (!ok)
        fail_msg("%s: %s %s", text, err.where, err.message);
    /* err is left alone on success */
    assert_int_equal((unsigned char)err.where[0], 0x55);
    json_decref(v);
}

static void expect_valid(const char *text)
{
    projects_tree_limits lim = PROJECTS_TREE_LIMITS_DEFAULT;
    expect_valid_with(text, &lim);
}

static void expect_error_with(const char *text, const projects_tree_limits *lim, const char *where,
                              const char *message)
{
    json_t *v = parse(text);
    projects_tree_error err;
    memset(&err, 0, sizeof(err));
    assert_false(projects_tree_validate(v, lim, &err));
    assert_string_equal(err.where, where);
    assert_string_equal(err.message, message);
    /* A NULL err is allowed. */
    assert_false(projects_tree_validate(v, lim, NULL));
    json_decref(v);
}

static void expect_error(const char *text, const char *where, const char *message)
{
    projects_tree_limits lim = PROJECTS_TREE_LIMITS_DEFAULT;
    expect_error_with(text, &lim, where, message);
}

/* A chain of `depth` components, each the only child of the one before:
 * ids c1, c2, ... */
static json_t *chain(unsigned depth)
{
    json_t *root = json_array(), *arr = root;
    for (unsigned d = 1; d <= depth; d++) {
        char id[16];
        snprintf(id, sizeof(id), "c%u", d);
        json_t *c = json_pack("{s:s, s:s}", "id", id, "type", "box");
        json_array_append_new(arr, c);
        if (d < depth) {
            json_t *kids = json_array();
            json_object_set_new(c, "children", kids);
            arr = kids;
        }
    }
    return root;
}

static void test_limits_default(void **state)
{
    projects_tree_limits lim = PROJECTS_TREE_LIMITS_DEFAULT;
    assert_int_equal(lim.max_depth, 64);
    assert_int_equal(lim.max_nodes, 10000);
    assert_int_equal(lim.max_id_len, 64);
    assert_int_equal(lim.max_type_len, 64);
    assert_int_equal(lim.max_props_bytes, 65536);
}

static void test_valid_trees(void **state)
{
    expect_valid("[]");
    expect_valid("[{\"id\":\"a\",\"type\":\"text\"}]");
    expect_valid("[{\"id\":\"hero\",\"type\":\"section\",\"props\":{\"title\":\"Hi\",\"n\":[1,2.5,"
                 "null,true,{\"x\":{}}]},\"children\":[{\"id\":\"h1\",\"type\":\"heading\","
                 "\"props\":{},\"children\":[]},{\"id\":\"p\",\"type\":\"text\"}]},"
                 "{\"id\":\"footer\",\"type\":\"section\",\"children\":[]}]");
    /* Every allowed character, in id and type; keys in any order. */
    expect_valid("[{\"type\":\"ui:Button.v2-x_y\",\"id\":\"AZaz09_.:-\"}]");
    /* Exactly 64 bytes of id and type. */
    expect_valid("[{\"id\":\"0123456789012345678901234567890123456789012345678901234567890123\","
                 "\"type\":\"0123456789012345678901234567890123456789012345678901234567890123\"}]");
}

static void test_not_an_array(void **state)
{
    expect_error("{}", "components", "must be an array");
    expect_error("null", "components", "must be an array");
    expect_error("\"[]\"", "components", "must be an array");
    projects_tree_limits lim = PROJECTS_TREE_LIMITS_DEFAULT;
    projects_tree_error err;
    assert_false(projects_tree_validate(NULL, &lim, &err));
    assert_string_equal(err.where, "components");
    assert_string_equal(err.message, "must be an array");
}

static void test_component_not_object(void **state)
{
    expect_error("[{\"id\":\"a\",\"type\":\"t\"},5]", "components[1]", "must be an object");
    expect_error("[[]]", "components[0]", "must be an object");
    expect_error("[{\"id\":\"a\",\"type\":\"t\",\"children\":[null]}]", "components[0].children[0]",
                 "must be an object");
}

static void test_id_errors(void **state)
{
    expect_error("[{\"type\":\"t\"}]", "components[0].id", "is required");
    expect_error("[{\"id\":5,\"type\":\"t\"}]", "components[0].id", "must be a string");
    expect_error("[{\"id\":null,\"type\":\"t\"}]", "components[0].id", "must be a string");
    expect_error("[{\"id\":\"\",\"type\":\"t\"}]", "components[0].id", "must not be empty");
    expect_error("[{\"id\":\"01234567890123456789012345678901234567890123456789012345678901234\","
                 "\"type\":\"t\"}]",
                 "components[0].id", "must be at most 64 bytes");
    const char *bad[] = {"a b", "a/b", "a#b", "caf\xc3\xa9", "a\\u0000b", "<x>", "a,b"};
    for (size_t i = 0; i < SB_ARRAY_LEN(bad); i++) {
        char text[128];
        snprintf(text, sizeof(text),
                 "[{\"id\":\"x\",\"type\":\"t\"},{\"id\":\"%s\",\"type\":\"t\"}]", bad[i]);
        expect_error(text, "components[1].id", "may contain only letters, digits and _ . : -");
    }
}

static void test_type_errors(void **state)
{
    expect_error("[{\"id\":\"a\"}]", "components[0].type", "is required");
    expect_error("[{\"id\":\"a\",\"type\":[]}]", "components[0].type", "must be a string");
    expect_error("[{\"id\":\"a\",\"type\":\"\"}]", "components[0].type", "must not be empty");
    expect_error("[{\"id\":\"a\",\"type\":\"Text Block\"}]", "components[0].type",
                 "may contain only letters, digits and _ . : -");
    projects_tree_limits lim = PROJECTS_TREE_LIMITS_DEFAULT;
    lim.max_type_len = 4;
    expect_valid_with("[{\"id\":\"a\",\"type\":\"text\"}]", &lim);
    expect_error_with("[{\"id\":\"a\",\"type\":\"texts\"}]", &lim, "components[0].type",
                      "must be at most 4 bytes");
    lim.max_id_len = 1;
    expect_error_with("[{\"id\":\"ab\",\"type\":\"text\"}]", &lim, "components[0].id",
                      "must be at most 1 bytes");
}

static void test_props_and_children_types(void **state)
{
    expect_error("[{\"id\":\"a\",\"type\":\"t\",\"props\":[]}]", "components[0].props",
                 "must be an object");
    expect_error("[{\"id\":\"a\",\"type\":\"t\",\"props\":null}]", "components[0].props",
                 "must be an object");
    expect_error("[{\"id\":\"a\",\"type\":\"t\",\"props\":\"{}\"}]", "components[0].props",
                 "must be an object");
    expect_error("[{\"id\":\"a\",\"type\":\"t\",\"children\":{}}]", "components[0].children",
                 "must be an array");
    expect_error("[{\"id\":\"a\",\"type\":\"t\",\"children\":null}]", "components[0].children",
                 "must be an array");
    expect_error("[{\"id\":\"a\",\"type\":\"t\",\"children\":[{\"id\":\"b\",\"type\":\"t\","
                 "\"props\":1}]}]",
                 "components[0].children[0].props", "must be an object");
}

static void test_unknown_fields(void **state)
{
    expect_error("[{\"id\":\"a\",\"type\":\"t\",\"style\":{}}]", "components[0].style",
                 "is not a known field");
    expect_error("[{\"id\":\"a\",\"type\":\"t\",\"Props\":{}}]", "components[0].Props",
                 "is not a known field");
    /* Keys that are not plain names are quoted and escaped. */
    expect_error("[{\"id\":\"a\",\"type\":\"t\",\"a b\":1}]", "components[0][\"a b\"]",
                 "is not a known field");
    expect_error("[{\"id\":\"a\",\"type\":\"t\",\"a\\nb\":1}]", "components[0][\"a\\nb\"]",
                 "is not a known field");
    expect_error("[{\"id\":\"a\",\"type\":\"t\",\"\":1}]", "components[0][\"\"]",
                 "is not a known field");
    expect_error("[{\"id\":\"a\",\"type\":\"t\",\"<b>\":1}]", "components[0][\"\\u003cb\\u003e\"]",
                 "is not a known field");
    /* Long keys are cut to 32 bytes. */
    expect_error("[{\"id\":\"a\",\"type\":\"t\",\"0123456789012345678901234567890123\":1}]",
                 "components[0][\"01234567890123456789012345678901\"]", "is not a known field");
    expect_error("[{\"id\":\"a\",\"type\":\"t\",\"children\":[{\"id\":\"b\",\"type\":\"t\","
                 "\"onclick\":\"x\"}]}]",
                 "components[0].children[0].onclick", "is not a known field");
}

/* Keys built through the API may hold NUL bytes (the parser refuses them). */
static void test_key_with_nul(void **state)
{
    projects_tree_limits lim = PROJECTS_TREE_LIMITS_DEFAULT;
    json_t *c = json_pack("{s:s, s:s}", "id", "a", "type", "t");
    json_object_setn_new(c, "id\0x", 4, json_true());
    json_t *t = json_pack("[o]", c);
    projects_tree_error err;
    assert_false(projects_tree_validate(t, &lim, &err));
    assert_string_equal(err.where, "components[0][\"id\\u0000x\"]");
    assert_string_equal(err.message, "is not a known field");
    json_decref(t);

    /* ... and they count in the size of props: "\u0000" is six bytes. */
    json_t *props = json_object();
    json_object_setn_new(props, "k\0", 2, json_null());
    size_t want = json_dumpb(props, NULL, 0, JSON_COMPACT);
    assert_int_equal(want, 16); /* {"k\u0000":null} */
    t = json_pack("[{s:s, s:s, s:o}]", "id", "a", "type", "t", "props", props);
    lim.max_props_bytes = 16;
    assert_true(projects_tree_validate(t, &lim, NULL));
    lim.max_props_bytes = 15;
    assert_false(projects_tree_validate(t, &lim, NULL));
    json_decref(t);
}

static void test_duplicate_ids(void **state)
{
    /* Across branches, reported at the second occurrence. */
    expect_error("[{\"id\":\"a\",\"type\":\"t\",\"children\":[{\"id\":\"b\",\"type\":\"t\"}]},"
                 "{\"id\":\"c\",\"type\":\"t\",\"children\":[{\"id\":\"b\",\"type\":\"t\"}]}]",
                 "components[1].children[0].id", "must be unique within the page");
    /* Parent and child. */
    expect_error("[{\"id\":\"a\",\"type\":\"t\",\"children\":[{\"id\":\"a\",\"type\":\"t\"}]}]",
                 "components[0].children[0].id", "must be unique within the page");
    /* Siblings at the top. */
    expect_error("[{\"id\":\"x\",\"type\":\"t\"},{\"id\":\"x\",\"type\":\"u\"}]",
                 "components[1].id", "must be unique within the page");
    /* Ids are case-sensitive; the same text as a type is fine. */
    expect_valid("[{\"id\":\"x\",\"type\":\"X\"},{\"id\":\"X\",\"type\":\"x\"}]");
}

static void test_first_error_wins(void **state)
{
    /* Order inside a component: id, type, props, children, unknown fields. */
    expect_error("[{\"extra\":1,\"children\":5,\"props\":5,\"type\":5,\"id\":5}]",
                 "components[0].id", "must be a string");
    expect_error("[{\"extra\":1,\"children\":5,\"props\":5,\"type\":5,\"id\":\"a\"}]",
                 "components[0].type", "must be a string");
    expect_error("[{\"extra\":1,\"children\":5,\"props\":5,\"type\":\"t\",\"id\":\"a\"}]",
                 "components[0].props", "must be an object");
    expect_error("[{\"extra\":1,\"children\":5,\"type\":\"t\",\"id\":\"a\"}]",
                 "components[0].children", "must be an array");
    /* A component's own fields before its children, children before the
     * next sibling. */
    expect_error("[{\"id\":\"a\",\"type\":\"t\",\"children\":[{\"id\":\"b\"}],\"x\":1}]",
                 "components[0].x", "is not a known field");
    expect_error("[{\"id\":\"a\",\"type\":\"t\",\"children\":[{\"id\":\"b\"}]},7]",
                 "components[0].children[0].type", "is required");
}

static void test_props_size(void **state)
{
    /* {"s":"xxx...x"} is k + 8 bytes compact. */
    projects_tree_limits lim = PROJECTS_TREE_LIMITS_DEFAULT;
    size_t k = 65536 - 8;
    char *s = malloc(k + 2);
    memset(s, 'x', k + 1);
    s[k] = '\0';
    json_t *tree = json_pack("[{s:s, s:s, s:{s:s}}]", "id", "a", "type", "t", "props", "s", s);
    assert_true(projects_tree_validate(tree, &lim, NULL));
    json_decref(tree);
    s[k] = 'x';
    s[k + 1] = '\0';
    tree = json_pack("[{s:s, s:s, s:{s:s}}]", "id", "a", "type", "t", "props", "s", s);
    projects_tree_error err;
    assert_false(projects_tree_validate(tree, &lim, &err));
    assert_string_equal(err.where, "components[0].props");
    assert_string_equal(err.message, "must be at most 65536 bytes as compact JSON");
    json_decref(tree);
    free(s);

    /* Empty props are 2 bytes. */
    lim.max_props_bytes = 2;
    expect_valid_with("[{\"id\":\"a\",\"type\":\"t\",\"props\":{}}]", &lim);
    lim.max_props_bytes = 1;
    expect_error_with("[{\"id\":\"a\",\"type\":\"t\",\"props\":{}}]", &lim, "components[0].props",
                      "must be at most 1 bytes as compact JSON");
    /* Absent props count nothing. */
    lim.max_props_bytes = 0;
    expect_valid_with("[{\"id\":\"a\",\"type\":\"t\"}]", &lim);
}

/* The counted size is exactly what jansson writes with JSON_COMPACT: the
 * limit equal to it passes, one less fails. */
static void test_props_size_matches_jansson(void **state)
{
    const char *props[] = {
        "{}",
        "{\"a\":1}",
        "{\"a\":[],\"b\":{},\"c\":[[],[{}]]}",
        "{\"q\":\"\\\"\\\\\\/\\b\\f\\n\\r\\t\\u0001\\u001f\\u007f\"}",
        "{\"\\nk\":\"\\u0000\"}",
        "{\"u\":\"caf\xc3\xa9 \xf0\x9f\x98\x80 \\u2028\"}",
        "{\"n\":[0,-1,9223372036854775807,-9223372036854775808]}",
        "{\"r\":[0.1,-0.0,1e300,1.5,2.5e-300,123456789.125,1E2]}",
        "{\"b\":[true,false,null]}",
        "{\"deep\":[[[[[[[[[[[[[[[[\"x\"]]]]]]]]]]]]]]]]}",
        "{\"s\":\"</script><!-- & '\"}",
    };
    for (size_t i = 0; i < SB_ARRAY_LEN(props); i++) {
        json_t *p = parse(props[i]);
        size_t want = json_dumpb(p, NULL, 0, JSON_COMPACT);
        json_t *tree = json_pack("[{s:s, s:s, s:O}]", "id", "a", "type", "t", "props", p);
        projects_tree_limits lim = PROJECTS_TREE_LIMITS_DEFAULT;
        lim.max_props_bytes = want;
        if (!projects_tree_validate(tree, &lim, NULL))
            fail_msg("props %s: %zu bytes should pass", props[i], want);
        lim.max_props_bytes = want - 1;
        projects_tree_error err;
        if (projects_tree_validate(tree, &lim, &err))
            fail_msg("props %s: %zu bytes should fail", props[i], want - 1);
        assert_string_equal(err.where, "components[0].props");
        json_decref(tree);
        json_decref(p);
    }
}

static void test_depth(void **state)
{
    projects_tree_limits lim = PROJECTS_TREE_LIMITS_DEFAULT;
    json_t *t = chain(64);
    assert_true(projects_tree_validate(t, &lim, NULL));
    assert_int_equal(projects_tree_count(t), 64);
    /* Normalising adds an empty children array below level 64: still fine. */
    json_t *norm = projects_tree_normalize(t);
    assert_true(projects_tree_validate(norm, &lim, NULL));
    json_decref(norm);
    json_decref(t);

    t = chain(65);
    projects_tree_error err;
    assert_false(projects_tree_validate(t, &lim, &err));
    /* components[0] then 64 x .children[0]: 781 bytes, so the tail is
     * kept: 13 whole steps after "...". */
    sb_buf want = SB_BUF_INIT;
    sb_buf_puts(&want, "...");
    for (int i = 0; i < 13; i++)
        sb_buf_puts(&want, i > 0 ? ".children[0]" : "children[0]");
    assert_int_equal(want.len, 158);
    assert_string_equal(err.where, want.ptr);
    sb_buf_free(&want);
    assert_string_equal(err.message, "is nested deeper than 64 levels");
    json_decref(t);

    lim.max_depth = 2;
    expect_error_with("[{\"id\":\"a\",\"type\":\"t\",\"children\":[{\"id\":\"b\",\"type\":\"t\","
                      "\"children\":[{\"id\":\"c\",\"type\":\"t\"}]}]}]",
                      &lim, "components[0].children[0].children[0]",
                      "is nested deeper than 2 levels");
    expect_valid_with("[{\"id\":\"a\",\"type\":\"t\",\"children\":[{\"id\":\"b\",\"type\":\"t\","
                      "\"children\":[]}]}]",
                      &lim);
    lim.max_depth = 0;
    expect_valid_with("[]", &lim);
    expect_error_with("[{\"id\":\"a\",\"type\":\"t\"}]", &lim, "components[0]",
                      "is nested deeper than 0 levels");
}

static void test_node_limit(void **state)
{
    projects_tree_limits lim = PROJECTS_TREE_LIMITS_DEFAULT;
    lim.max_nodes = 3;
    /* Counted depth-first: a, b, c, then d is the fourth. */
    const char *four = "[{\"id\":\"a\",\"type\":\"t\",\"children\":[{\"id\":\"b\",\"type\":\"t\"},"
                       "{\"id\":\"c\",\"type\":\"t\"}]},{\"id\":\"d\",\"type\":\"t\"}]";
    expect_error_with(four, &lim, "components[1]", "is beyond the limit of 3 components");
    lim.max_nodes = 4;
    expect_valid_with(four, &lim);

    /* The default: 10000 pass, 10001 fail. */
    lim = PROJECTS_TREE_LIMITS_DEFAULT;
    json_t *t = json_array();
    for (int i = 0; i < 10001; i++) {
        char id[16];
        snprintf(id, sizeof(id), "n%d", i);
        json_array_append_new(t, json_pack("{s:s, s:s}", "id", id, "type", "t"));
    }
    projects_tree_error err;
    assert_false(projects_tree_validate(t, &lim, &err));
    assert_string_equal(err.where, "components[10000]");
    assert_string_equal(err.message, "is beyond the limit of 10000 components");
    assert_int_equal(projects_tree_count(t), 10001);
    json_array_remove(t, 10000);
    assert_true(projects_tree_validate(t, &lim, NULL));
    json_decref(t);
}

static void test_normalize(void **state)
{
    json_t *in = parse("[{\"children\":[{\"type\":\"t\",\"id\":\"b\"}],\"type\":\"section\","
                       "\"id\":\"a\",\"props\":{\"z\":1,\"a\":{\"k\":[1]}}},{\"id\":\"c\","
                       "\"type\":\"u\",\"props\":{}}]");
    char *before = dump(in);
    json_t *out = projects_tree_normalize(in);
    char *got = dump(out);
    assert_string_equal(got, "[{\"id\":\"a\",\"type\":\"section\",\"props\":{\"z\":1,\"a\":{\"k\":"
                             "[1]}},\"children\":[{\"id\":\"b\",\"type\":\"t\",\"props\":{},"
                             "\"children\":[]}]},{\"id\":\"c\",\"type\":\"u\",\"props\":{},"
                             "\"children\":[]}]");
    /* The input is untouched and shares nothing with the copy. */
    char *after = dump(in);
    assert_string_equal(before, after);
    const json_t *p_in = json_object_get(json_array_get(in, 0), "props");
    const json_t *p_out = json_object_get(json_array_get(out, 0), "props");
    assert_ptr_not_equal(p_in, p_out);
    assert_ptr_not_equal(json_object_get(p_in, "a"), json_object_get(p_out, "a"));
    /* Normalising a normal tree is the identity. */
    json_t *again = projects_tree_normalize(out);
    char *got2 = dump(again);
    assert_string_equal(got, got2);
    assert_true(json_equal(out, again));

    json_t *empty = json_array();
    json_t *n0 = projects_tree_normalize(empty);
    assert_true(json_is_array(n0));
    assert_int_equal(json_array_size(n0), 0);
    assert_ptr_not_equal(n0, empty);
    json_decref(n0);
    json_decref(empty);

    free(before);
    free(after);
    free(got);
    free(got2);
    json_decref(again);
    json_decref(out);
    json_decref(in);
}

/* Checks that fresh mirrors orig (normalised) but for ids, collecting the
 * fresh ids into seen. */
static void same_but_ids(const json_t *orig, const json_t *fresh, sb_map *orig_ids, sb_map *seen)
{
    assert_int_equal(json_array_size(orig), json_array_size(fresh));
    for (size_t i = 0; i < json_array_size(orig); i++) {
        const json_t *o = json_array_get(orig, i), *f = json_array_get(fresh, i);
        assert_int_equal(json_object_size(f), 4);
        const char *keys[] = {"id", "type", "props", "children"};
        size_t k = 0;
        for (void *it = json_object_iter((json_t *)f); it;
             it = json_object_iter_next((json_t *)f, it))
            assert_string_equal(json_object_iter_key(it), keys[k++]);
        const char *id = json_string_value(json_object_get(f, "id"));
        assert_non_null(id);
        sb_uuid u;
        assert_true(sb_uuid_parse(sb_str_c(id), &u));
        char canon[SB_UUID_STR_LEN];
        assert_string_equal(sb_uuid_format(&u, canon), id);
        assert_null(sb_map_get(orig_ids, sb_str_c(id)));
        assert_null(sb_map_put(seen, sb_str_c(id), (void *)f));
        assert_true(json_equal(json_object_get(o, "type"), json_object_get(f, "type")));
        const json_t *op = json_object_get(o, "props"), *fp = json_object_get(f, "props");
        if (op) {
            assert_true(json_equal(op, fp));
            assert_ptr_not_equal(op, fp);
        } else {
            assert_int_equal(json_object_size(fp), 0);
        }
        const json_t *oc = json_object_get(o, "children");
        const json_t *fc = json_object_get(f, "children");
        assert_true(json_is_array(fc));
        if (oc)
            same_but_ids(oc, fc, orig_ids, seen);
        else
            assert_int_equal(json_array_size(fc), 0);
    }
}

static void collect_ids(const json_t *arr, sb_map *ids)
{
    for (size_t i = 0; i < json_array_size(arr); i++) {
        const json_t *c = json_array_get(arr, i);
        sb_map_put(ids, sb_str_c(json_string_value(json_object_get(c, "id"))), (void *)c);
        const json_t *kids = json_object_get(c, "children");
        if (kids)
            collect_ids(kids, ids);
    }
}

static void test_copy_fresh(void **state)
{
    json_t *in = parse("[{\"id\":\"hero\",\"type\":\"section\",\"props\":{\"bg\":\"#fff\",\"list\":"
                       "[1,{\"a\":null}]},\"children\":[{\"id\":\"title\",\"type\":\"heading\"},"
                       "{\"id\":\"row\",\"type\":\"row\",\"children\":[{\"id\":\"c1\",\"type\":"
                       "\"col\"},{\"id\":\"c2\",\"type\":\"col\",\"children\":[]}]}]},"
                       "{\"id\":\"foot\",\"type\":\"footer\",\"props\":{}}]");
    projects_tree_limits lim = PROJECTS_TREE_LIMITS_DEFAULT;
    assert_true(projects_tree_validate(in, &lim, NULL));
    sb_map orig_ids, seen;
    sb_map_init(&orig_ids);
    sb_map_init(&seen);
    collect_ids(in, &orig_ids);
    assert_int_equal(orig_ids.len, 6);

    json_t *a = projects_tree_copy_fresh(in);
    json_t *b = projects_tree_copy_fresh(in);
    same_but_ids(in, a, &orig_ids, &seen);
    assert_int_equal(seen.len, 6);
    /* A second copy has ids of its own too. */
    same_but_ids(in, b, &orig_ids, &seen);
    assert_int_equal(seen.len, 12);
    assert_true(projects_tree_validate(a, &lim, NULL));
    assert_int_equal(projects_tree_count(a), 6);
    /* A copy is already normal. */
    json_t *na = projects_tree_normalize(a);
    assert_true(json_equal(na, a));

    json_decref(na);
    json_decref(a);
    json_decref(b);
    json_decref(in);
    sb_map_deinit(&orig_ids);
    sb_map_deinit(&seen);
}

/* A lone component (a library component): the page's rules, paths from
 * "component", depth counted from the component itself. */
static void test_validate_one(void **state)
{
    projects_tree_limits lim = PROJECTS_TREE_LIMITS_DEFAULT;
    struct {
        const char *json, *where, *message; /* where NULL: valid */
    } cases[] = {
        {"{\"id\":\"card\",\"type\":\"Card\",\"children\":[{\"id\":\"t\",\"type\":\"Text\"}]}",
         NULL, NULL},
        {"[]", "component", "must be an object"},
        {"\"x\"", "component", "must be an object"},
        {"{\"type\":\"Card\"}", "component.id", "is required"},
        {"{\"id\":\"a\",\"type\":\"Card\",\"props\":[]}", "component.props", "must be an object"},
        {"{\"id\":\"a\",\"type\":\"Card\",\"style\":{}}", "component.style",
         "is not a known field"},
        {"{\"id\":\"a\",\"type\":\"C\",\"children\":[{\"id\":\"b\",\"type\":\"C\"},{\"id\":\"a\","
         "\"type\":\"C\"}]}",
         "component.children[1].id", "must be unique within the page"},
    };
    for (size_t i = 0; i < SB_ARRAY_LEN(cases); i++) {
        json_t *v = parse(cases[i].json);
        projects_tree_error err;
        memset(&err, 0, sizeof(err));
        bool ok = projects_tree_validate_one(v, &lim, &err);
        if (!cases[i].where) {
            assert_true(ok);
        } else {
            assert_false(ok);
            assert_string_equal(err.where, cases[i].where);
            assert_string_equal(err.message, cases[i].message);
        }
        json_decref(v);
    }
    /* Depth: the component is level 1, so a chain of 64 passes, 65 fails. */
    json_t *ok64 = chain(64), *bad65 = chain(65);
    assert_true(projects_tree_validate_one(json_array_get(ok64, 0), &lim, NULL));
    projects_tree_error err;
    assert_false(projects_tree_validate_one(json_array_get(bad65, 0), &lim, &err));
    assert_string_equal(err.message, "is nested deeper than 64 levels");
    assert_true(sb_str_has_prefix(sb_str_c(err.where), SB_STR("...")));
    json_decref(ok64);
    json_decref(bad65);
}

static void test_copy_one(void **state)
{
    json_t *in = parse("{\"type\":\"Card\",\"id\":\"card\",\"children\":[{\"id\":\"t\",\"type\":"
                       "\"Text\",\"props\":{\"s\":\"hi\"}}]}");
    json_t *same = projects_tree_copy_one(in, false);
    char *got = dump(same);
    assert_string_equal(
        got, "{\"id\":\"card\",\"type\":\"Card\",\"props\":{},\"children\":[{"
             "\"id\":\"t\",\"type\":\"Text\",\"props\":{\"s\":\"hi\"},\"children\":[]}]}");
    json_t *arr = json_pack("[O]", in);
    json_t *fresh_arr = json_pack("[o]", projects_tree_copy_one(in, true));
    sb_map orig_ids, seen;
    sb_map_init(&orig_ids);
    sb_map_init(&seen);
    collect_ids(arr, &orig_ids);
    same_but_ids(arr, fresh_arr, &orig_ids, &seen);
    assert_int_equal(seen.len, 2);
    sb_map_deinit(&orig_ids);
    sb_map_deinit(&seen);
    free(got);
    json_decref(fresh_arr);
    json_decref(arr);
    json_decref(same);
    json_decref(in);
}

static void test_find(void **state)
{
    json_t *t =
        parse("[{\"id\":\"a\",\"type\":\"t\",\"children\":[{\"id\":\"b\",\"type\":\"t\","
              "\"children\":[{\"id\":\"c\",\"type\":\"t\"}]}]},{\"id\":\"d\",\"type\":\"t\"}]");
    const char *ids[] = {"a", "b", "c", "d"};
    for (size_t i = 0; i < SB_ARRAY_LEN(ids); i++) {
        json_t *c = projects_tree_find(t, sb_str_c(ids[i]));
        assert_non_null(c);
        assert_string_equal(json_string_value(json_object_get(c, "id")), ids[i]);
    }
    /* Ids compare whole, by bytes. */
    assert_null(projects_tree_find(t, SB_STR("e")));
    assert_null(projects_tree_find(t, SB_STR("")));
    assert_null(projects_tree_find(t, SB_STR("A")));
    assert_null(projects_tree_find(t, SB_STR("ab")));
    /* What it finds is the tree's own node. */
    json_t *b = projects_tree_find(t, SB_STR("b"));
    assert_ptr_equal(b, json_array_get(json_object_get(json_array_get(t, 0), "children"), 0));
    assert_null(projects_tree_find(NULL, SB_STR("a")));
    json_t *obj = parse("{}");
    assert_null(projects_tree_find(obj, SB_STR("a")));
    json_decref(obj);
    /* As deep as validation allows, without recursion. */
    json_t *deep = chain(64);
    json_t *last = projects_tree_find(deep, SB_STR("c64"));
    assert_non_null(last);
    assert_null(json_object_get(last, "children"));
    json_decref(deep);
    json_decref(t);
}

static void test_count(void **state)
{
    struct {
        const char *json;
        size_t n;
    } cases[] = {
        {"[]", 0},
        {"{}", 0},
        {"null", 0},
        {"[{\"id\":\"a\",\"type\":\"t\"}]", 1},
        {"[{\"id\":\"a\",\"type\":\"t\",\"children\":[{\"id\":\"b\",\"type\":\"t\",\"children\":"
         "[{\"id\":\"c\",\"type\":\"t\"}]},{\"id\":\"d\",\"type\":\"t\"}]},{\"id\":\"e\","
         "\"type\":\"t\"}]",
         5},
        /* Total over invalid trees. */
        {"[1,\"x\",[],{\"children\":{}},{\"children\":[2,{}]}]", 7},
    };
    for (size_t i = 0; i < SB_ARRAY_LEN(cases); i++) {
        json_t *v = parse(cases[i].json);
        assert_int_equal(projects_tree_count(v), cases[i].n);
        json_decref(v);
    }
    assert_int_equal(projects_tree_count(NULL), 0);
}

/* Comments anchor to an element by its id: found at any depth, exactly. */
static void test_has_id(void **state)
{
    (void)state;
    json_t *v = parse("[{\"id\":\"hero\",\"type\":\"t\",\"props\":{\"id\":\"inprops\"},"
                      "\"children\":[{\"id\":\"cta\",\"type\":\"t\",\"children\":[{\"id\":"
                      "\"deep\",\"type\":\"t\"}]}]},{\"id\":\"footer\",\"type\":\"t\"}]");
    assert_true(projects_tree_has_id(v, SB_STR("hero")));
    assert_true(projects_tree_has_id(v, SB_STR("deep")));
    assert_true(projects_tree_has_id(v, SB_STR("footer")));
    assert_false(projects_tree_has_id(v, SB_STR("Hero")));
    assert_false(projects_tree_has_id(v, SB_STR("cta2")));
    assert_false(projects_tree_has_id(v, SB_STR("ct")));
    assert_false(projects_tree_has_id(v, SB_STR("inprops"))); /* props are not components */
    json_decref(v);
    v = parse("[1,{\"children\":{}},{\"id\":7}]");
    assert_false(projects_tree_has_id(v, SB_STR("7")));
    json_decref(v);
    assert_false(projects_tree_has_id(NULL, SB_STR("a")));
}

int main(void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(test_limits_default),
        cmocka_unit_test(test_valid_trees),
        cmocka_unit_test(test_not_an_array),
        cmocka_unit_test(test_component_not_object),
        cmocka_unit_test(test_id_errors),
        cmocka_unit_test(test_type_errors),
        cmocka_unit_test(test_props_and_children_types),
        cmocka_unit_test(test_unknown_fields),
        cmocka_unit_test(test_key_with_nul),
        cmocka_unit_test(test_duplicate_ids),
        cmocka_unit_test(test_first_error_wins),
        cmocka_unit_test(test_props_size),
        cmocka_unit_test(test_props_size_matches_jansson),
        cmocka_unit_test(test_depth),
        cmocka_unit_test(test_node_limit),
        cmocka_unit_test(test_normalize),
        cmocka_unit_test(test_copy_fresh),
        cmocka_unit_test(test_count),
        cmocka_unit_test(test_has_id),
        cmocka_unit_test(test_validate_one),
        cmocka_unit_test(test_copy_one),
        cmocka_unit_test(test_find),
    };
    return cmocka_run_group_tests(tests, NULL, NULL);
}
