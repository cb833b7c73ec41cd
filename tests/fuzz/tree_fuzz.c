/*
 * tree_fuzz.c: libFuzzer target for component trees. The input is parsed
 * as a request body would be (sb_json_parse, 1 MiB, depth 200) and
 * validated with the default limits. Beyond "no crash, no leak, no UB" it
 * checks the module's promises:
 *   - a failure names a place: where starts with "components" (or "..."
 *     when cut), both strings are non-empty, NUL-terminated, valid UTF-8;
 *   - a valid tree normalises to a valid tree with the same count, whose
 *     components have exactly id, type, props, children in that order, and
 *     which normalises to itself;
 *   - a fresh copy validates, has the same count, and none of its ids is
 *     an original one or repeats;
 *   - the props limit is exact: with max_props_bytes set to the largest
 *     props' compact size (as jansson writes it) the tree passes, with one
 *     byte less it fails at a ".props";
 *   - a lone component (projects_tree_validate_one) is judged exactly as
 *     the page [component]: same outcome, same message, and the same place
 *     with "component" for "components[0]" (when neither path is cut);
 *   - projects_tree_find finds every id of a valid tree, at its own node.
 */
#include <assert.h>
#include <string.h>

#include "base/json.h"
#include "base/map.h"
#include "base/utf8.h"
#include "projects/tree.h"

static void check_error(const projects_tree_error *err)
{
    size_t wl = strnlen(err->where, sizeof(err->where));
    size_t ml = strnlen(err->message, sizeof(err->message));
    assert(wl > 0 && wl < sizeof(err->where));
    assert(ml > 0 && ml < sizeof(err->message));
    assert(strncmp(err->where, "components", 10) == 0 || strncmp(err->where, "...", 3) == 0);
    assert(sb_utf8_valid(err->where, wl, NULL));
    assert(sb_utf8_valid(err->message, ml, NULL));
}

/* Largest compact size of any component's props (0 when none has props). */
static size_t max_props(const json_t *arr)
{
    size_t max = 0;
    for (size_t i = 0; i < json_array_size(arr); i++) {
        const json_t *c = json_array_get(arr, i);
        const json_t *p = json_object_get(c, "props");
        size_t n = p ? json_dumpb(p, NULL, 0, JSON_COMPACT) : 0;
        const json_t *kids = json_object_get(c, "children");
        size_t below = kids ? max_props(kids) : 0; /* once: SB_MAX evaluates twice */
        max = SB_MAX(max, SB_MAX(n, below));
    }
    return max;
}

static void check_normal(const json_t *arr)
{
    static const char *const keys[] = {"id", "type", "props", "children"};
    for (size_t i = 0; i < json_array_size(arr); i++) {
        json_t *c = json_array_get(arr, i);
        assert(json_object_size(c) == 4);
        size_t k = 0;
        for (void *it = json_object_iter(c); it; it = json_object_iter_next(c, it))
            assert(strcmp(json_object_iter_key(it), keys[k++]) == 0);
        assert(json_is_object(json_object_get(c, "props")));
        check_normal(json_object_get(c, "children"));
    }
}

static void collect_ids(const json_t *arr, sb_map *ids, const sb_map *forbidden)
{
    for (size_t i = 0; i < json_array_size(arr); i++) {
        const json_t *c = json_array_get(arr, i);
        const json_t *id = json_object_get(c, "id");
        sb_str s = sb_str_make(json_string_value(id), json_string_length(id));
        if (forbidden)
            assert(sb_map_get(forbidden, s) == NULL);
        assert(sb_map_put(ids, s, (void *)c) == NULL);
        const json_t *kids = json_object_get(c, "children");
        if (kids)
            collect_ids(kids, ids, forbidden);
    }
}

/* The input as one component against the page [input]. */
static void check_one(json_t *doc, const projects_tree_limits *lim)
{
    json_t *page = json_pack("[O]", doc);
    projects_tree_error e_one, e_page;
    bool ok_one = projects_tree_validate_one(doc, lim, &e_one);
    bool ok_page = projects_tree_validate(page, lim, &e_page);
    assert(ok_one == ok_page);
    if (!ok_one) {
        assert(strcmp(e_one.message, e_page.message) == 0);
        size_t wl = strnlen(e_one.where, sizeof(e_one.where));
        assert(wl > 0 && wl < sizeof(e_one.where) && sb_utf8_valid(e_one.where, wl, NULL));
        if (strncmp(e_one.where, "...", 3) != 0 && strncmp(e_page.where, "...", 3) != 0) {
            assert(strncmp(e_one.where, "component", 9) == 0);
            assert(strncmp(e_page.where, "components[0]", 13) == 0);
            assert(strcmp(e_one.where + 9, e_page.where + 13) == 0);
        }
    }
    json_decref(page);
}

static void check_find(const json_t *arr, const json_t *root)
{
    for (size_t i = 0; i < json_array_size(arr); i++) {
        const json_t *c = json_array_get(arr, i);
        const json_t *id = json_object_get(c, "id");
        assert(projects_tree_find(root,
                                  sb_str_make(json_string_value(id), json_string_length(id))) == c);
        const json_t *kids = json_object_get(c, "children");
        if (kids)
            check_find(kids, root);
    }
}

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
    sb_json_limits jl = {.max_bytes = 1 << 20, .max_depth = 200};
    json_t *doc;
    if (sb_json_parse((const char *)data, size, &jl, &doc, NULL) != SB_JSON_OK)
        return 0;
    projects_tree_limits lim = PROJECTS_TREE_LIMITS_DEFAULT;
    check_one(doc, &lim);
    projects_tree_error err;
    memset(&err, 0x7f, sizeof(err));
    if (!projects_tree_validate(doc, &lim, &err)) {
        check_error(&err);
        json_decref(doc);
        return 0;
    }
    size_t count = projects_tree_count(doc);
    assert(count <= lim.max_nodes);
    check_find(doc, doc);

    json_t *norm = projects_tree_normalize(doc);
    assert(projects_tree_validate(norm, &lim, &err));
    assert(projects_tree_count(norm) == count);
    check_normal(norm);
    json_t *again = projects_tree_normalize(norm);
    assert(json_equal(again, norm));
    json_decref(again);

    json_t *fresh = projects_tree_copy_fresh(doc);
    assert(projects_tree_validate(fresh, &lim, &err));
    assert(projects_tree_count(fresh) == count);
    check_normal(fresh);
    sb_map orig, seen;
    sb_map_init(&orig);
    sb_map_init(&seen);
    collect_ids(doc, &orig, NULL);
    assert(orig.len == count);
    collect_ids(fresh, &seen, &orig);
    assert(seen.len == count);
    sb_map_deinit(&orig);
    sb_map_deinit(&seen);

    size_t max = max_props(doc);
    assert(max <= lim.max_props_bytes);
    if (max > 0) {
        lim.max_props_bytes = max;
        assert(projects_tree_validate(doc, &lim, NULL));
        lim.max_props_bytes = max - 1;
        assert(!projects_tree_validate(doc, &lim, &err));
        size_t wl = strlen(err.where);
        assert(wl >= 6 && strcmp(err.where + wl - 6, ".props") == 0);
    }

    json_decref(fresh);
    json_decref(norm);
    json_decref(doc);
    return 0;
}
