/*
 * page_flat.c: a page's component tree seen as a flat table, the form in
 * which the structural diff and merge compare pages: each component by id
 * with its type, props, parent id and place among its siblings.
 *
 * Ids are unique across a page (projects/tree.h), which is what lets the
 * diff and the merge follow a component that moved. Input trees come from
 * commits, so they are not trusted: a component without a string id, a
 * duplicate id or a tree deeper than VCS_PAGE_DEPTH_MAX is refused.
 */
#include <string.h>

#include "vcs/vcs_int.h"

static void push(vcs__flat *f, const json_t *comp, const char *parent, size_t index)
{
    if (f->n == f->cap) {
        f->cap = f->cap ? 2 * f->cap : 16;
        f->nodes = realloc(f->nodes, f->cap * sizeof(*f->nodes));
        if (!f->nodes)
            sb_die("out of memory flattening a page");
    }
    f->nodes[f->n++] = (vcs__node){.comp = comp,
                                   .id = json_string_value(json_object_get(comp, "id")),
                                   .parent = parent,
                                   .index = index};
}

static bool walk(vcs__flat *f, const json_t *arr, const char *parent, unsigned depth)
{
    if (!json_is_array(arr) || depth > VCS_PAGE_DEPTH_MAX)
        return false;
    for (size_t i = 0; i < json_array_size(arr); i++) {
        const json_t *c = json_array_get(arr, i);
        const json_t *id = json_object_get(c, "id");
        if (!json_is_object(c) || !json_is_string(id) || json_string_length(id) == 0)
            return false; /* "" stands for the top level in kids */
        if (json_object_get(f->index, json_string_value(id)))
            return false; /* ids are unique on a page */
        json_object_set_new(f->index, json_string_value(id), json_integer((json_int_t)f->n));
        push(f, c, parent, i);
        const char *key = parent ? parent : "";
        json_t *siblings = json_object_get(f->kids, key);
        if (!siblings)
            json_object_set_new(f->kids, key, siblings = json_array());
        json_array_append_new(siblings, json_string(json_string_value(id)));
        const json_t *kids = json_object_get(c, "children");
        if (kids && !walk(f, kids, json_string_value(id), depth + 1))
            return false;
    }
    return true;
}

bool vcs__flat_init(vcs__flat *f, const json_t *page)
{
    memset(f, 0, sizeof(*f));
    f->index = json_object();
    f->kids = json_object();
    const json_t *comps = page ? json_object_get(page, "components") : NULL;
    if (!comps)
        return true; /* an absent page has no components */
    if (!walk(f, comps, NULL, 1)) {
        vcs__flat_deinit(f);
        return false;
    }
    return true;
}

void vcs__flat_deinit(vcs__flat *f)
{
    free(f->nodes);
    json_decref(f->index);
    json_decref(f->kids);
    memset(f, 0, sizeof(*f));
}

const vcs__node *vcs__flat_get(const vcs__flat *f, const char *id)
{
    const json_t *i = json_object_get(f->index, id);
    return i ? &f->nodes[json_integer_value(i)] : NULL;
}

json_t *vcs__flat_children(const vcs__flat *f, const char *parent)
{
    json_t *kids = json_object_get(f->kids, parent ? parent : "");
    return kids ? json_incref(kids) : json_array();
}

const json_t *vcs__props(const vcs__node *n)
{
    const json_t *p = json_object_get(n->comp, "props");
    return json_is_object(p) ? p : NULL;
}

bool vcs__json_eq(const json_t *a, const json_t *b)
{
    if (!a || !b)
        return a == b;
    return json_equal(a, b);
}

bool vcs__str_eq(const char *a, const char *b)
{
    if (!a || !b)
        return a == b;
    return strcmp(a, b) == 0;
}

json_t *vcs__str_or_null(const char *s)
{
    return s ? json_string(s) : json_null();
}
