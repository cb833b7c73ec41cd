/*
 * vcs_page_test.c: the structural page diff and three-way merge of
 * vcs/vcs.h: changes named by component id and prop, merges of disjoint
 * edits, conflicts as objects with exact ids and values, resolutions,
 * deletes against edits, moves, sibling order, and trees that are refused.
 */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <cmocka.h>

#include <string.h>

#include "vcs/vcs.h"

static json_t *J(const char *text)
{
    json_error_t e;
    json_t *v = json_loads(text, 0, &e);
    if (!v)
        fail_msg("bad test JSON: %s: %s", e.text, text);
    return v;
}

/* Compares v with the JSON text want (as values). */
static void assert_json(const json_t *v, const char *want)
{
    json_t *w = J(want);
    if (!json_equal(v, w)) {
        char *got = json_dumps(v, JSON_COMPACT | JSON_SORT_KEYS);
        fail_msg("got %s\nwant %s", got, want);
    }
    json_decref(w);
}

#define BASE                                                                                       \
    "{\"id\":\"p\",\"name\":\"Home\",\"path\":\"/\",\"metadata\":{\"title\":\"T\"},"               \
    "\"components\":[{\"id\":\"hero\",\"type\":\"Section\",\"props\":{\"title\":\"Hi\","           \
    "\"color\":\"red\"},\"children\":[{\"id\":\"cta\",\"type\":\"Button\",\"props\":{\"label\":"   \
    "\"Go\"},\"children\":[]}]},{\"id\":\"foot\",\"type\":\"Footer\",\"props\":{},"                \
    "\"children\":[]}]}"

/* BASE with one edit: a JSON path expression applied by the caller. */
static json_t *base(void)
{
    return J(BASE);
}

static json_t *comp(json_t *page, size_t i)
{
    return json_array_get(json_object_get(page, "components"), i);
}

static json_t *props(json_t *c)
{
    return json_object_get(c, "props");
}

static void test_diff_props_and_adds(void **state)
{
    (void)state;
    json_t *a = base(), *b = base();
    json_object_set_new(props(comp(b, 0)), "color", json_string("blue"));
    json_object_del(props(comp(b, 0)), "title");
    json_array_append_new(json_object_get(b, "components"),
                          J("{\"id\":\"promo\",\"type\":\"Banner\",\"props\":{}}"));
    json_object_set_new(b, "name", json_string("Start"));
    json_t *d = vcs_page_diff(a, b);
    assert_non_null(d);
    assert_json(d, "[{\"op\":\"field\",\"field\":\"name\",\"old\":\"Home\",\"new\":\"Start\"},"
                   "{\"op\":\"changed\",\"component_id\":\"hero\",\"type\":\"Section\",\"props\":["
                   "{\"name\":\"color\",\"old\":\"red\",\"new\":\"blue\"},"
                   "{\"name\":\"title\",\"old\":\"Hi\",\"new\":null}]},"
                   "{\"op\":\"added\",\"component_id\":\"promo\",\"type\":\"Banner\","
                   "\"parent_id\":null,\"index\":2}]");
    json_decref(d);
    json_decref(a);
    json_decref(b);
}

static void test_diff_move_remove_reorder(void **state)
{
    (void)state;
    json_t *a = base();
    /* cta moves to the top level before foot; hero is removed */
    json_t *b = J("{\"id\":\"p\",\"name\":\"Home\",\"path\":\"/\",\"metadata\":{\"title\":\"T\"},"
                  "\"components\":[{\"id\":\"foot\",\"type\":\"Footer\",\"props\":{}},"
                  "{\"id\":\"cta\",\"type\":\"Button\",\"props\":{\"label\":\"Go\"}}]}");
    json_t *d = vcs_page_diff(a, b);
    assert_json(d, "[{\"op\":\"moved\",\"component_id\":\"cta\",\"type\":\"Button\","
                   "\"old_parent_id\":\"hero\",\"new_parent_id\":null,\"old_index\":0,"
                   "\"new_index\":1},"
                   "{\"op\":\"removed\",\"component_id\":\"hero\",\"type\":\"Section\","
                   "\"parent_id\":null}]");
    json_decref(d);
    /* the same children in another order */
    json_t *c =
        J("{\"id\":\"p\",\"name\":\"Home\",\"path\":\"/\",\"metadata\":{\"title\":\"T\"},"
          "\"components\":[{\"id\":\"cta\",\"type\":\"Button\",\"props\":{\"label\":\"Go\"}},"
          "{\"id\":\"foot\",\"type\":\"Footer\",\"props\":{}}]}");
    d = vcs_page_diff(b, c);
    assert_json(d, "[{\"op\":\"reordered\",\"parent_id\":null,\"old_order\":[\"foot\",\"cta\"],"
                   "\"new_order\":[\"cta\",\"foot\"]}]");
    json_decref(d);
    json_decref(a);
    json_decref(b);
    json_decref(c);
}

static void test_diff_refuses_bad_trees(void **state)
{
    (void)state;
    json_t *dup =
        J("{\"components\":[{\"id\":\"a\"},{\"id\":\"b\",\"children\":[{\"id\":\"a\"}]}]}");
    json_t *noid = J("{\"components\":[{\"type\":\"X\"}]}");
    json_t *notarr = J("{\"components\":{}}");
    assert_null(vcs_page_diff(NULL, dup));
    assert_null(vcs_page_diff(noid, NULL));
    assert_null(vcs_page_diff(notarr, NULL));
    /* deeper than VCS_PAGE_DEPTH_MAX */
    json_t *deep = json_array(), *cur = deep;
    for (int i = 0; i < VCS_PAGE_DEPTH_MAX + 1; i++) {
        char id[16];
        snprintf(id, sizeof(id), "c%d", i);
        json_t *c = json_pack("{s:s, s:[]}", "id", id, "children");
        json_array_append_new(cur, c);
        cur = json_object_get(c, "children");
    }
    json_t *page = json_pack("{s:o}", "components", deep);
    assert_null(vcs_page_diff(page, NULL));
    json_decref(page);
    json_decref(dup);
    json_decref(noid);
    json_decref(notarr);
}

static json_t *merge(json_t *b, json_t *o, json_t *t, const json_t *res, json_t *conflicts)
{
    json_t *m = vcs_page_merge(b, o, t, "pages/p.json", res, conflicts);
    assert_non_null(m);
    return m;
}

static void test_merge_disjoint(void **state)
{
    (void)state;
    json_t *b = base(), *o = base(), *t = base(), *cf = json_array();
    json_object_set_new(props(comp(o, 0)), "title", json_string("Welcome"));
    json_object_set_new(props(comp(t, 0)), "color", json_string("blue"));
    json_object_set_new(json_object_get(t, "metadata"), "lang", json_string("en"));
    /* theirs adds promo after hero; ours adds side at the end */
    json_array_insert_new(json_object_get(t, "components"), 1,
                          J("{\"id\":\"promo\",\"type\":\"Banner\",\"props\":{}}"));
    json_array_append_new(json_object_get(o, "components"),
                          J("{\"id\":\"side\",\"type\":\"Aside\",\"props\":{}}"));
    json_t *m = merge(b, o, t, NULL, cf);
    assert_int_equal(json_array_size(cf), 0);
    assert_json(m, "{\"id\":\"p\",\"name\":\"Home\",\"path\":\"/\",\"metadata\":{\"lang\":\"en\","
                   "\"title\":\"T\"},\"components\":["
                   "{\"id\":\"hero\",\"type\":\"Section\",\"props\":{\"color\":\"blue\","
                   "\"title\":\"Welcome\"},\"children\":[{\"id\":\"cta\",\"type\":\"Button\","
                   "\"props\":{\"label\":\"Go\"},\"children\":[]}]},"
                   "{\"id\":\"promo\",\"type\":\"Banner\",\"props\":{},\"children\":[]},"
                   "{\"id\":\"foot\",\"type\":\"Footer\",\"props\":{},\"children\":[]},"
                   "{\"id\":\"side\",\"type\":\"Aside\",\"props\":{},\"children\":[]}]}");
    json_decref(m);
    json_decref(b);
    json_decref(o);
    json_decref(t);
    json_decref(cf);
}

static void test_merge_conflict_and_resolution(void **state)
{
    (void)state;
    json_t *b = base(), *o = base(), *t = base(), *cf = json_array();
    json_object_set_new(props(comp(o, 0)), "title", json_string("Ours"));
    json_object_set_new(props(comp(t, 0)), "title", json_string("Theirs"));
    json_object_set_new(o, "path", json_string("/o"));
    json_object_set_new(t, "path", json_string("/t"));
    json_t *m = merge(b, o, t, NULL, cf);
    assert_json(cf, "[{\"id\":\"pages/p.json#hero/props/title\",\"path\":\"pages/p.json\","
                    "\"kind\":\"prop\",\"component_id\":\"hero\",\"prop\":\"title\","
                    "\"base\":\"Hi\",\"ours\":\"Ours\",\"theirs\":\"Theirs\"},"
                    "{\"id\":\"pages/p.json#/path\",\"path\":\"pages/p.json\",\"kind\":\"field\","
                    "\"field\":\"path\",\"base\":\"/\",\"ours\":\"/o\",\"theirs\":\"/t\"}]");
    /* unresolved: ours stands in the merged page */
    assert_string_equal(json_string_value(json_object_get(props(comp(m, 0)), "title")), "Ours");
    json_decref(m);

    json_t *res = J("{\"pages/p.json#hero/props/title\":\"theirs\","
                    "\"pages/p.json#/path\":{\"value\":\"/both\"}}");
    json_array_clear(cf);
    m = merge(b, o, t, res, cf);
    assert_int_equal(json_array_size(cf), 0);
    assert_string_equal(json_string_value(json_object_get(props(comp(m, 0)), "title")), "Theirs");
    assert_string_equal(json_string_value(json_object_get(m, "path")), "/both");
    json_decref(m);
    json_decref(res);
    /* the same change on both sides is no conflict */
    json_object_set_new(props(comp(t, 0)), "title", json_string("Ours"));
    json_object_set_new(t, "path", json_string("/o"));
    json_array_clear(cf);
    m = merge(b, o, t, NULL, cf);
    assert_int_equal(json_array_size(cf), 0);
    json_decref(m);
    json_decref(b);
    json_decref(o);
    json_decref(t);
    json_decref(cf);
}

static void test_merge_delete_vs_edit(void **state)
{
    (void)state;
    json_t *b = base(), *o = base(), *t = base(), *cf = json_array();
    /* ours deletes hero (and cta with it); theirs edits cta's label */
    json_array_remove(json_object_get(o, "components"), 0);
    json_object_set_new(props(json_array_get(json_object_get(comp(t, 0), "children"), 0)), "label",
                        json_string("Buy"));
    json_t *m = merge(b, o, t, NULL, cf);
    assert_int_equal(json_array_size(cf), 2); /* hero's subtree and cta itself */
    assert_string_equal(json_string_value(json_object_get(json_array_get(cf, 0), "kind")),
                        "delete");
    json_decref(m);
    /* resolved for the deleting side: both go */
    json_t *res = J("{\"pages/p.json#hero\":\"ours\",\"pages/p.json#cta\":\"ours\"}");
    json_array_clear(cf);
    m = merge(b, o, t, res, cf);
    assert_int_equal(json_array_size(cf), 0);
    assert_json(json_object_get(m, "components"),
                "[{\"id\":\"foot\",\"type\":\"Footer\",\"props\":{},\"children\":[]}]");
    json_decref(m);
    json_decref(res);
    /* a delete against an untouched subtree is no conflict */
    json_decref(t);
    t = base();
    json_array_clear(cf);
    m = merge(b, o, t, NULL, cf);
    assert_int_equal(json_array_size(cf), 0);
    assert_int_equal(json_array_size(json_object_get(m, "components")), 1);
    json_decref(m);
    json_decref(b);
    json_decref(o);
    json_decref(t);
    json_decref(cf);
}

static void test_merge_move_and_cycle(void **state)
{
    (void)state;
    json_t *b = base(), *o = base(), *t = base(), *cf = json_array();
    /* theirs moves foot under hero, after cta; ours edits foot's props */
    json_t *foot = json_incref(comp(t, 1));
    json_array_remove(json_object_get(t, "components"), 1);
    json_array_append_new(json_object_get(comp(t, 0), "children"), foot);
    json_object_set_new(props(comp(o, 1)), "year", json_integer(2026));
    json_t *m = merge(b, o, t, NULL, cf);
    assert_int_equal(json_array_size(cf), 0);
    assert_json(json_object_get(m, "components"),
                "[{\"id\":\"hero\",\"type\":\"Section\",\"props\":{\"color\":\"red\","
                "\"title\":\"Hi\"},\"children\":[{\"id\":\"cta\",\"type\":\"Button\","
                "\"props\":{\"label\":\"Go\"},\"children\":[]},{\"id\":\"foot\",\"type\":"
                "\"Footer\",\"props\":{\"year\":2026},\"children\":[]}]}]");
    json_decref(m);
    json_decref(o);
    json_decref(t);
    /* ours puts hero under foot, theirs foot under hero: a cycle */
    o = J("{\"id\":\"p\",\"components\":[{\"id\":\"foot\",\"type\":\"Footer\",\"props\":{},"
          "\"children\":[{\"id\":\"hero\",\"type\":\"Section\",\"props\":{\"title\":\"Hi\","
          "\"color\":\"red\"},\"children\":[{\"id\":\"cta\",\"type\":\"Button\",\"props\":"
          "{\"label\":\"Go\"}}]}]}]}");
    t = J("{\"id\":\"p\",\"components\":[{\"id\":\"hero\",\"type\":\"Section\",\"props\":"
          "{\"title\":\"Hi\",\"color\":\"red\"},\"children\":[{\"id\":\"cta\",\"type\":\"Button\","
          "\"props\":{\"label\":\"Go\"}},{\"id\":\"foot\",\"type\":\"Footer\",\"props\":{}}]}]}");
    json_array_clear(cf);
    m = merge(b, o, t, NULL, cf);
    assert_true(json_array_size(cf) >= 1);
    assert_string_equal(json_string_value(json_object_get(json_array_get(cf, 0), "kind")),
                        "parent");
    /* every component is still there exactly once, in a tree */
    json_t *d = vcs_page_diff(NULL, m);
    assert_non_null(d);
    size_t added = 0, i;
    json_t *c;
    json_array_foreach(d, i, c) added +=
        strcmp(json_string_value(json_object_get(c, "op")), "added") == 0;
    assert_int_equal(added, 3);
    json_decref(d);
    json_decref(m);
    json_decref(b);
    json_decref(o);
    json_decref(t);
    json_decref(cf);
}

static void test_merge_add_add(void **state)
{
    (void)state;
    json_t *o = J("{\"id\":\"p\",\"components\":[{\"id\":\"x\",\"type\":\"A\",\"props\":{}}]}");
    json_t *t = J("{\"id\":\"p\",\"components\":[{\"id\":\"x\",\"type\":\"B\",\"props\":{}}]}");
    json_t *cf = json_array();
    json_t *m = merge(NULL, o, t, NULL, cf);
    assert_int_equal(json_array_size(cf), 1);
    assert_string_equal(json_string_value(json_object_get(json_array_get(cf, 0), "kind")), "add");
    assert_string_equal(json_string_value(json_object_get(comp(m, 0), "type")), "A");
    json_decref(m);
    json_t *res = J("{\"pages/p.json#x\":\"theirs\"}");
    json_array_clear(cf);
    m = merge(NULL, o, t, res, cf);
    assert_int_equal(json_array_size(cf), 0);
    assert_string_equal(json_string_value(json_object_get(comp(m, 0), "type")), "B");
    json_decref(m);
    json_decref(res);
    json_decref(o);
    json_decref(t);
    json_decref(cf);
}

/* A wide page: 4000 siblings, 2000 more appended by theirs, a prop changed
 * by ours. The merge keeps every component once, in order, in time that
 * does not grow with the square of the page (run time bounds it in CI). */
static void test_merge_wide_page(void **state)
{
    (void)state;
    json_t *b = json_pack("{s:s, s:[]}", "id", "p", "components");
    for (int i = 0; i < 4000; i++) {
        char id[16];
        snprintf(id, sizeof(id), "c%d", i);
        json_array_append_new(
            json_object_get(b, "components"),
            json_pack("{s:s, s:s, s:{s:i}}", "id", id, "type", "T", "props", "n", i));
    }
    json_t *o = json_deep_copy(b), *t = json_deep_copy(b), *cf = json_array();
    json_object_set_new(props(comp(o, 17)), "n", json_integer(-1));
    for (int i = 0; i < 2000; i++) {
        char id[16];
        snprintf(id, sizeof(id), "n%d", i);
        json_array_append_new(json_object_get(t, "components"),
                              json_pack("{s:s, s:s, s:{}}", "id", id, "type", "T", "props"));
    }
    json_t *m = merge(b, o, t, NULL, cf);
    assert_int_equal(json_array_size(cf), 0);
    json_t *comps = json_object_get(m, "components");
    assert_int_equal(json_array_size(comps), 6000);
    assert_int_equal(json_integer_value(json_object_get(props(comp(m, 17)), "n")), -1);
    assert_string_equal(json_string_value(json_object_get(comp(m, 4000), "id")), "n0");
    assert_string_equal(json_string_value(json_object_get(comp(m, 5999), "id")), "n1999");
    json_decref(m);
    json_decref(b);
    json_decref(o);
    json_decref(t);
    json_decref(cf);
}

static void test_empty_ids_are_refused(void **state)
{
    (void)state;
    json_t *p = J("{\"components\":[{\"id\":\"\",\"type\":\"X\"}]}");
    assert_null(vcs_page_diff(p, NULL));
    json_decref(p);
}

int main(void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(test_diff_props_and_adds),
        cmocka_unit_test(test_diff_move_remove_reorder),
        cmocka_unit_test(test_diff_refuses_bad_trees),
        cmocka_unit_test(test_merge_disjoint),
        cmocka_unit_test(test_merge_conflict_and_resolution),
        cmocka_unit_test(test_merge_delete_vs_edit),
        cmocka_unit_test(test_merge_move_and_cycle),
        cmocka_unit_test(test_merge_add_add),
        cmocka_unit_test(test_merge_wide_page),
        cmocka_unit_test(test_empty_ids_are_refused),
    };
    return cmocka_run_group_tests(tests, NULL, NULL);
}
