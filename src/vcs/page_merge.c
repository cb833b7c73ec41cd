/*
 * page_merge.c: three-way merge of a page by component id. Both sides'
 * changes to different components, to different props of one component,
 * or to different page fields and metadata keys combine; the same thing
 * changed two ways is a conflict, reported as an object that names it
 * (id, kind, component, prop, the three values) and resolvable by id.
 *
 * Rules, component by component (b, o, t: base, ours, theirs):
 *   - type, each prop and the parent merge as values: a side that left a
 *     value as it was takes the other's; two equal changes are one;
 *     two different changes conflict ("type", "prop", "parent").
 *   - deleted on one side: gone if the other side left the component's
 *     whole subtree as it was; otherwise "delete" conflict (kept until
 *     resolved "theirs"/"ours" for the deleting side).
 *   - added on both sides differently: "add" conflict (ours kept).
 *   - sibling order: the side that reordered a parent's children wins;
 *     if both did, ours. Components new to a parent follow the sibling
 *     they followed on their side.
 *   - a merge of two moves that would make a component its own ancestor
 *     is a "parent" conflict; the component goes to the top level.
 * Unresolved conflicts leave ours' value in place, so the merged page is
 * always a valid tree. A resolution is "ours", "theirs", "base" or
 * {"value": v} (props, type, fields, metadata only).
 */
#include <string.h>

#include "vcs/vcs_int.h"

typedef struct merge_ctx {
    const char *path;          /* the page's path in the tree, for conflict ids */
    const json_t *resolutions; /* object: conflict id -> resolution, or NULL */
    json_t *conflicts;         /* array: unresolved conflicts are appended */
    vcs__flat b, o, t;
} merge_ctx;

/* The merged state of one component. */
typedef struct mnode {
    const char *id;
    json_t *type, *props; /* owned */
    const char *parent;
    bool kept;
} mnode;

typedef enum side { SIDE_NONE, SIDE_OURS, SIDE_THEIRS, SIDE_BASE, SIDE_VALUE } side;

/* What the resolution of conflict id says; *value is set for SIDE_VALUE. */
static side resolution(merge_ctx *m, const char *id, const json_t **value)
{
    const json_t *r = m->resolutions ? json_object_get(m->resolutions, id) : NULL;
    if (!r)
        return SIDE_NONE;
    const char *s = json_string_value(r);
    if (s && strcmp(s, "ours") == 0)
        return SIDE_OURS;
    if (s && strcmp(s, "theirs") == 0)
        return SIDE_THEIRS;
    if (s && strcmp(s, "base") == 0)
        return SIDE_BASE;
    if (json_is_object(r) && (*value = json_object_get(r, "value")) != NULL)
        return SIDE_VALUE;
    return SIDE_NONE;
}

static void conflict(merge_ctx *m, const char *id, const char *kind, const char *component,
                     const char *name, const json_t *b, const json_t *o, const json_t *t)
{
    json_t *c = json_object();
    json_object_set_new(c, "id", json_string(id));
    json_object_set_new(c, "path", json_string(m->path));
    json_object_set_new(c, "kind", json_string(kind));
    if (component)
        json_object_set_new(c, "component_id", json_string(component));
    if (name)
        json_object_set_new(c, strcmp(kind, "prop") == 0 ? "prop" : "field", json_string(name));
    json_object_set_new(c, "base", b ? json_deep_copy(b) : json_null());
    json_object_set_new(c, "ours", o ? json_deep_copy(o) : json_null());
    json_object_set_new(c, "theirs", t ? json_deep_copy(t) : json_null());
    json_array_append_new(m->conflicts, c);
}

/* Three-way merge of one value (NULL: absent). Returns the merged value,
 * borrowed from the inputs or the resolution (NULL: absent). cid names
 * the conflict if there is one. */
static const json_t *merge_value(merge_ctx *m, const char *cid, const char *kind,
                                 const char *component, const char *name, const json_t *b,
                                 const json_t *o, const json_t *t)
{
    if (vcs__json_eq(o, b))
        return t;
    if (vcs__json_eq(t, b) || vcs__json_eq(o, t))
        return o;
    const json_t *v = NULL;
    switch (resolution(m, cid, &v)) {
    case SIDE_OURS:
        return o;
    case SIDE_THEIRS:
        return t;
    case SIDE_BASE:
        return b;
    case SIDE_VALUE:
        return json_is_null(v) && strcmp(kind, "prop") == 0 ? NULL : v;
    case SIDE_NONE:
        break;
    }
    conflict(m, cid, kind, component, name, b, o, t);
    return o;
}

static char *cid_of(const char *path, const char *component, const char *what, const char *name)
{
    sb_buf b = SB_BUF_INIT;
    sb_buf_appendf(&b, "%s#%s%s%s%s", path, component ? component : "", what, name ? "/" : "",
                   name ? name : "");
    return sb_buf_detach(&b, NULL); /* the caller frees */
}

static json_t *merge_props(merge_ctx *m, const char *id, const json_t *pb, const json_t *po,
                           const json_t *pt)
{
    json_t *out = json_object();
    json_t *keys = vcs__sorted_keys(po, pt);
    /* a key only base has was deleted by both sides: it is not in keys */
    size_t i;
    json_t *k;
    json_array_foreach(keys, i, k)
    {
        const char *name = json_string_value(k);
        char *cid = cid_of(m->path, id, "/props", name);
        const json_t *v = merge_value(
            m, cid, "prop", id, name, pb ? json_object_get(pb, name) : NULL,
            po ? json_object_get(po, name) : NULL, pt ? json_object_get(pt, name) : NULL);
        free(cid);
        if (v)
            json_object_set_new(out, name, json_deep_copy(v));
    }
    json_decref(keys);
    return out;
}

/* The component's own content on one side, with its subtree, as JSON. */
static const json_t *subtree(const vcs__node *n)
{
    return n ? n->comp : NULL;
}

/* Merges one component that at least one side has. */
static void merge_node(merge_ctx *m, mnode *out, const char *id)
{
    const vcs__node *b = vcs__flat_get(&m->b, id), *o = vcs__flat_get(&m->o, id),
                    *t = vcs__flat_get(&m->t, id);
    memset(out, 0, sizeof(*out));
    out->id = id;
    const vcs__node *keep = NULL; /* a side whose version stands whole */
    if (b && (!o || !t)) {
        if (!o && !t)
            return; /* deleted on both sides */
        const vcs__node *survivor = o ? o : t;
        /* the deleting side wins if the other left the subtree alone */
        if (json_equal(subtree(survivor), subtree(b)))
            return;
        char *cid = cid_of(m->path, id, "", NULL);
        const json_t *v = NULL;
        side s = resolution(m, cid, &v);
        bool deleted = (s == SIDE_OURS && !o) || (s == SIDE_THEIRS && !t);
        if (s == SIDE_NONE)
            conflict(m, cid, "delete", id, NULL, subtree(b), subtree(o), subtree(t));
        free(cid);
        if (deleted)
            return;
        keep = survivor;
        if (s == SIDE_BASE)
            keep = b;
    } else if (!b && o && t && !json_equal(subtree(o), subtree(t))) {
        char *cid = cid_of(m->path, id, "", NULL);
        const json_t *v = NULL;
        side s = resolution(m, cid, &v);
        if (s == SIDE_NONE)
            conflict(m, cid, "add", id, NULL, NULL, subtree(o), subtree(t));
        free(cid);
        keep = s == SIDE_THEIRS ? t : o;
    } else if (!b) {
        keep = o ? o : t;
    }
    out->kept = true;
    if (keep) {
        out->type = json_deep_copy(json_object_get(keep->comp, "type"));
        const json_t *p = vcs__props(keep);
        out->props = p ? json_deep_copy(p) : json_object();
        out->parent = keep->parent;
        return;
    }
    char *cid = cid_of(m->path, id, "/type", NULL);
    const json_t *ty =
        merge_value(m, cid, "type", id, NULL, json_object_get(b->comp, "type"),
                    json_object_get(o->comp, "type"), json_object_get(t->comp, "type"));
    free(cid);
    out->type = ty ? json_deep_copy(ty) : json_string("");
    out->props = merge_props(m, id, vcs__props(b), vcs__props(o), vcs__props(t));
    /* the parent merges as a value; NULL (top level) is a value too */
    if (vcs__str_eq(o->parent, b->parent))
        out->parent = t->parent;
    else if (vcs__str_eq(t->parent, b->parent) || vcs__str_eq(o->parent, t->parent))
        out->parent = o->parent;
    else {
        cid = cid_of(m->path, id, "/parent", NULL);
        const json_t *v = NULL;
        side s = resolution(m, cid, &v);
        if (s == SIDE_NONE) {
            json_t *jb = vcs__str_or_null(b->parent), *jo = vcs__str_or_null(o->parent),
                   *jt = vcs__str_or_null(t->parent);
            conflict(m, cid, "parent", id, NULL, jb, jo, jt);
            json_decref(jb);
            json_decref(jo);
            json_decref(jt);
        }
        free(cid);
        out->parent = s == SIDE_THEIRS ? t->parent : s == SIDE_BASE ? b->parent : o->parent;
    }
}

typedef struct merged {
    mnode *nodes;
    size_t n;
    json_t *index; /* id -> position in nodes */
    json_t *kids;  /* merged parent ("" top) -> array of kept ids, in nodes' order */
} merged;

static mnode *mget(merged *g, const char *id)
{
    if (!id)
        return NULL;
    json_t *i = json_object_get(g->index, id);
    return i ? &g->nodes[json_integer_value(i)] : NULL;
}

/* Whether id is kept and all its ancestors are (a deleted ancestor takes
 * its subtree with it). Breaks parent cycles that two merged moves made
 * by moving the component to the top level, as a conflict. */
static bool attached(merge_ctx *m, merged *g, mnode *x)
{
    size_t steps = 0;
    for (mnode *y = x; y; y = mget(g, y->parent)) {
        if (!y->kept)
            return false;
        if (!y->parent)
            return true;
        if (++steps > g->n) {
            char *cid = cid_of(m->path, x->id, "/parent", NULL);
            json_t *jp = vcs__str_or_null(x->parent);
            conflict(m, cid, "parent", x->id, NULL, NULL, jp, NULL);
            json_decref(jp);
            free(cid);
            x->parent = NULL;
            return true;
        }
    }
    return false;
}

/* The components of side that now belong to parent and are not in order
 * yet, each inserted after the sibling it follows on that side. seen is
 * the set of ids in order. */
static void place_missing(merged *g, json_t *order, json_t *seen, const json_t *side_ids,
                          const char *parent)
{
    size_t i;
    json_t *v;
    json_array_foreach(side_ids, i, v)
    {
        const char *id = json_string_value(v);
        mnode *x = mget(g, id);
        if (!x || !x->kept || !vcs__str_eq(x->parent, parent) || json_object_get(seen, id))
            continue;
        size_t at = 0;
        for (size_t j = i; j-- > 0;) {
            const char *prev = json_string_value(json_array_get(side_ids, j));
            if (!json_object_get(seen, prev))
                continue;
            for (size_t k = 0; k < json_array_size(order); k++)
                if (strcmp(json_string_value(json_array_get(order, k)), prev) == 0) {
                    at = k + 1;
                    break;
                }
            break;
        }
        json_array_insert(order, at, v);
        json_object_set_new(seen, id, json_true());
    }
}

static json_t *build(merge_ctx *m, merged *g, const char *parent, unsigned depth)
{
    json_t *lb = vcs__flat_children(&m->b, parent), *lo = vcs__flat_children(&m->o, parent),
           *lt = vcs__flat_children(&m->t, parent);
    const json_t *first = json_equal(lo, lb) ? lt : lo;
    json_t *order = json_array(), *seen = json_object();
    size_t i;
    json_t *v;
    json_array_foreach(first, i, v)
    {
        mnode *x = mget(g, json_string_value(v));
        if (x && x->kept && vcs__str_eq(x->parent, parent)) {
            json_array_append(order, v);
            json_object_set_new(seen, json_string_value(v), json_true());
        }
    }
    place_missing(g, order, seen, first == lo ? lt : lo, parent);
    place_missing(g, order, seen, first == lo ? lo : lt, parent);
    /* components moved here from elsewhere on neither side's list (a
     * cycle broken to the top level, a kept delete): at the end */
    json_t *mine = json_object_get(g->kids, parent ? parent : "");
    json_array_foreach(mine, i, v) if (!json_object_get(seen, json_string_value(v)))
        json_array_append(order, v);
    json_decref(seen);
    json_decref(lb);
    json_decref(lo);
    json_decref(lt);

    json_t *arr = json_array();
    json_array_foreach(order, i, v)
    {
        mnode *x = mget(g, json_string_value(v));
        json_t *c = json_object();
        json_object_set_new(c, "id", json_string(x->id));
        json_object_set(c, "type", x->type);
        json_object_set(c, "props", x->props);
        json_object_set_new(c, "children",
                            depth < VCS_PAGE_DEPTH_MAX ? build(m, g, x->id, depth + 1)
                                                       : json_array());
        json_array_append_new(arr, c);
    }
    json_decref(order);
    return arr;
}

static void add_ids(merged *g, const vcs__flat *f, json_t *seen)
{
    for (size_t i = 0; i < f->n; i++) {
        const char *id = f->nodes[i].id;
        if (json_object_get(seen, id))
            continue;
        json_object_set_new(seen, id, json_integer((json_int_t)g->n));
        g->nodes[g->n++].id = id;
    }
}

static const char *const fields[] = {"name", "path", "published"};

json_t *vcs_page_merge(const json_t *base, const json_t *ours, const json_t *theirs,
                       const char *path, const json_t *resolutions, json_t *conflicts)
{
    merge_ctx m = {.path = path, .resolutions = resolutions, .conflicts = conflicts};
    if (!vcs__flat_init(&m.b, base))
        return NULL;
    if (!vcs__flat_init(&m.o, ours)) {
        vcs__flat_deinit(&m.b);
        return NULL;
    }
    if (!vcs__flat_init(&m.t, theirs)) {
        vcs__flat_deinit(&m.b);
        vcs__flat_deinit(&m.o);
        return NULL;
    }
    merged g = {.nodes = calloc(m.b.n + m.o.n + m.t.n + 1, sizeof(mnode)), .index = json_object()};
    if (!g.nodes)
        sb_die("out of memory merging a page");
    add_ids(&g, &m.o, g.index);
    add_ids(&g, &m.t, g.index);
    add_ids(&g, &m.b, g.index);
    for (size_t i = 0; i < g.n; i++) {
        const char *id = g.nodes[i].id;
        merge_node(&m, &g.nodes[i], id);
    }
    for (size_t i = 0; i < g.n; i++)
        if (g.nodes[i].kept && !attached(&m, &g, &g.nodes[i]))
            g.nodes[i].kept = false;
    g.kids = json_object();
    for (size_t i = 0; i < g.n; i++) {
        if (!g.nodes[i].kept)
            continue;
        const char *key = g.nodes[i].parent ? g.nodes[i].parent : "";
        json_t *kids = json_object_get(g.kids, key);
        if (!kids)
            json_object_set_new(g.kids, key, kids = json_array());
        json_array_append_new(kids, json_string(g.nodes[i].id));
    }

    json_t *out = json_object();
    const json_t *id = json_object_get(ours ? ours : theirs ? theirs : base, "id");
    if (id)
        json_object_set(out, "id", (json_t *)id);
    for (size_t i = 0; i < SB_ARRAY_LEN(fields); i++) {
        char *cid = cid_of(path, NULL, "", fields[i]);
        const json_t *v = merge_value(&m, cid, "field", NULL, fields[i],
                                      base ? json_object_get(base, fields[i]) : NULL,
                                      ours ? json_object_get(ours, fields[i]) : NULL,
                                      theirs ? json_object_get(theirs, fields[i]) : NULL);
        free(cid);
        if (v)
            json_object_set_new(out, fields[i], json_deep_copy(v));
    }
    const json_t *mb = base ? json_object_get(base, "metadata") : NULL;
    const json_t *mo = ours ? json_object_get(ours, "metadata") : NULL;
    const json_t *mt = theirs ? json_object_get(theirs, "metadata") : NULL;
    json_t *meta = json_object();
    json_t *keys = vcs__sorted_keys(json_is_object(mo) ? mo : NULL, json_is_object(mt) ? mt : NULL);
    size_t ki;
    json_t *k;
    json_array_foreach(keys, ki, k)
    {
        const char *key = json_string_value(k);
        char *cid = cid_of(path, NULL, "/metadata", key);
        const json_t *v = merge_value(&m, cid, "metadata", NULL, key,
                                      json_is_object(mb) ? json_object_get(mb, key) : NULL,
                                      json_is_object(mo) ? json_object_get(mo, key) : NULL,
                                      json_is_object(mt) ? json_object_get(mt, key) : NULL);
        free(cid);
        if (v)
            json_object_set_new(meta, key, json_deep_copy(v));
    }
    json_decref(keys);
    json_object_set_new(out, "metadata", meta);
    json_object_set_new(out, "components", build(&m, &g, NULL, 1));

    for (size_t i = 0; i < g.n; i++) {
        json_decref(g.nodes[i].type);
        json_decref(g.nodes[i].props);
    }
    free(g.nodes);
    json_decref(g.index);
    json_decref(g.kids);
    vcs__flat_deinit(&m.b);
    vcs__flat_deinit(&m.o);
    vcs__flat_deinit(&m.t);
    return out;
}
