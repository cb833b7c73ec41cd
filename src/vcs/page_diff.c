/*
 * page_diff.c: the structural difference between two versions of a page:
 * which page fields and metadata keys changed, which components were
 * added, removed or moved, and which props of a component changed, named
 * by component id. Pure: jansson values in, a jansson array out.
 *
 * Order of the answer: page fields, metadata keys (sorted), then the
 * components of the new page in tree order (added, moved, changed), then
 * the removed ones in the old page's tree order. A component can appear
 * twice (moved and changed).
 */
#include <string.h>

#include "vcs/vcs_int.h"

static const char *const page_fields[] = {"name", "path", "published"};

static json_t *change(const char *op)
{
    json_t *c = json_object();
    json_object_set_new(c, "op", json_string(op));
    return c;
}

static void set_val(json_t *o, const char *key, const json_t *v)
{
    json_object_set_new(o, key, v ? json_deep_copy(v) : json_null());
}

static int cmp_str(const void *x, const void *y)
{
    return strcmp(*(const char *const *)x, *(const char *const *)y);
}

/* The keys of a and b (either may be NULL), sorted, each once. */
static json_t *key_union(const json_t *a, const json_t *b)
{
    size_t cap = (a ? json_object_size(a) : 0) + (b ? json_object_size(b) : 0), n = 0;
    const char **keys = malloc((cap ? cap : 1) * sizeof(*keys));
    if (!keys)
        sb_die("out of memory sorting keys");
    const char *k;
    json_t *v;
    if (a)
        json_object_foreach((json_t *)a, k, v) keys[n++] = k;
    if (b)
        json_object_foreach((json_t *)b, k, v) if (!a || !json_object_get(a, k)) keys[n++] = k;
    /* jansson iterates in insertion order: sort for a stable answer */
    qsort(keys, n, sizeof(*keys), cmp_str);
    json_t *out = json_array();
    for (size_t i = 0; i < n; i++)
        json_array_append_new(out, json_string(keys[i]));
    free(keys);
    return out;
}

json_t *vcs__sorted_keys(const json_t *a, const json_t *b)
{
    return key_union(a, b);
}

/* Appends to out, for each key (sorted) whose value differs between the
 * objects a and b (either may be NULL), {"op": op, label: key, "old": v,
 * "new": v}, an absent value as null; no "op" when op is NULL. */
static void diff_keys(json_t *out, const json_t *a, const json_t *b, const char *op,
                      const char *label)
{
    json_t *keys = key_union(a, b);
    size_t i;
    json_t *k;
    json_array_foreach(keys, i, k)
    {
        const char *key = json_string_value(k);
        const json_t *va = a ? json_object_get(a, key) : NULL;
        const json_t *vb = b ? json_object_get(b, key) : NULL;
        if (vcs__json_eq(va, vb))
            continue;
        json_t *c = op ? change(op) : json_object();
        json_object_set_new(c, label, json_string(key));
        set_val(c, "old", va);
        set_val(c, "new", vb);
        json_array_append_new(out, c);
    }
    json_decref(keys);
}

static void diff_props(json_t *out, const vcs__node *o, const vcs__node *n)
{
    const json_t *po = vcs__props(o), *pn = vcs__props(n);
    const json_t *to = json_object_get(o->comp, "type"), *tn = json_object_get(n->comp, "type");
    json_t *props = json_array();
    diff_keys(props, po, pn, NULL, "name");
    bool type_changed = !vcs__json_eq(to, tn);
    if (json_array_size(props) || type_changed) {
        json_t *c = change("changed");
        json_object_set_new(c, "component_id", json_string(n->id));
        set_val(c, "type", tn);
        if (type_changed)
            set_val(c, "old_type", to);
        json_object_set_new(c, "props", props);
        json_array_append_new(out, c);
    } else {
        json_decref(props);
    }
}

/* The ids of parent's children in f that are also children of parent in
 * g, in f's order. */
static json_t *common_children(const vcs__flat *f, const vcs__flat *g, const char *parent)
{
    json_t *ids = json_array(), *kids = vcs__flat_children(f, parent);
    size_t i;
    json_t *v;
    json_array_foreach(kids, i, v)
    {
        const vcs__node *y = vcs__flat_get(g, json_string_value(v));
        if (y && vcs__str_eq(y->parent, parent))
            json_array_append(ids, v);
    }
    json_decref(kids);
    return ids;
}

/* "reordered": the children that parent keeps changed their order (adds,
 * removals and moves elsewhere alone do not count). */
static void diff_order(json_t *out, const vcs__flat *fo, const vcs__flat *fn, const char *parent)
{
    json_t *a = common_children(fo, fn, parent), *b = common_children(fn, fo, parent);
    if (!json_equal(a, b)) {
        json_t *c = change("reordered");
        json_object_set_new(c, "parent_id", vcs__str_or_null(parent));
        json_object_set_new(c, "old_order", a);
        json_object_set_new(c, "new_order", b);
        json_array_append_new(out, c);
        return;
    }
    json_decref(a);
    json_decref(b);
}

json_t *vcs_page_diff(const json_t *old_page, const json_t *new_page)
{
    vcs__flat fo, fn;
    if (!vcs__flat_init(&fo, old_page))
        return NULL;
    if (!vcs__flat_init(&fn, new_page)) {
        vcs__flat_deinit(&fo);
        return NULL;
    }
    json_t *out = json_array();
    for (size_t i = 0; i < SB_ARRAY_LEN(page_fields); i++) {
        const json_t *a = old_page ? json_object_get(old_page, page_fields[i]) : NULL;
        const json_t *b = new_page ? json_object_get(new_page, page_fields[i]) : NULL;
        if (vcs__json_eq(a, b))
            continue;
        json_t *c = change("field");
        json_object_set_new(c, "field", json_string(page_fields[i]));
        set_val(c, "old", a);
        set_val(c, "new", b);
        json_array_append_new(out, c);
    }
    const json_t *mo = old_page ? json_object_get(old_page, "metadata") : NULL;
    const json_t *mn = new_page ? json_object_get(new_page, "metadata") : NULL;
    mo = json_is_object(mo) ? mo : NULL;
    mn = json_is_object(mn) ? mn : NULL;
    diff_keys(out, mo, mn, "metadata", "key");

    for (size_t i = 0; i < fn.n; i++) {
        const vcs__node *n = &fn.nodes[i];
        const vcs__node *o = vcs__flat_get(&fo, n->id);
        if (!o) {
            json_t *c = change("added");
            json_object_set_new(c, "component_id", json_string(n->id));
            set_val(c, "type", json_object_get(n->comp, "type"));
            json_object_set_new(c, "parent_id", vcs__str_or_null(n->parent));
            json_object_set_new(c, "index", json_integer((json_int_t)n->index));
            json_array_append_new(out, c);
            continue;
        }
        if (!vcs__str_eq(o->parent, n->parent)) {
            json_t *c = change("moved");
            json_object_set_new(c, "component_id", json_string(n->id));
            set_val(c, "type", json_object_get(n->comp, "type"));
            json_object_set_new(c, "old_parent_id", vcs__str_or_null(o->parent));
            json_object_set_new(c, "new_parent_id", vcs__str_or_null(n->parent));
            json_object_set_new(c, "old_index", json_integer((json_int_t)o->index));
            json_object_set_new(c, "new_index", json_integer((json_int_t)n->index));
            json_array_append_new(out, c);
        }
        diff_props(out, o, n);
    }
    diff_order(out, &fo, &fn, NULL);
    for (size_t i = 0; i < fn.n; i++)
        if (vcs__flat_get(&fo, fn.nodes[i].id))
            diff_order(out, &fo, &fn, fn.nodes[i].id);
    for (size_t i = 0; i < fo.n; i++) {
        const vcs__node *o = &fo.nodes[i];
        if (vcs__flat_get(&fn, o->id))
            continue;
        json_t *c = change("removed");
        json_object_set_new(c, "component_id", json_string(o->id));
        set_val(c, "type", json_object_get(o->comp, "type"));
        json_object_set_new(c, "parent_id", vcs__str_or_null(o->parent));
        json_array_append_new(out, c);
    }
    vcs__flat_deinit(&fo);
    vcs__flat_deinit(&fn);
    return out;
}
