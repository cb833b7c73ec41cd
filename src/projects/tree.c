/*
 * tree.c: validation, normalisation and copying of component trees (see
 * tree.h for the rules).
 *
 * Validation walks with an explicit stack of (array, next index) frames, so
 * a hostile tree cannot exhaust the C stack whatever the caller's limits;
 * the size of props is counted by a second walk of the same kind that
 * mirrors jansson's compact output and stops as soon as the limit is
 * passed. The path of the component being checked is kept in a buffer that
 * frames cut back to their own prefix; it is copied into the error only
 * when a check fails.
 *
 * Never: write to the input, keep a pointer into it after returning, or
 * report more than one problem.
 */
#include "projects/tree.h"

#include <assert.h>
#include <stdio.h>
#include <string.h>

#include "base/json.h"
#include "base/map.h"
#include "base/str.h"
#include "base/uuid.h"
#include "base/vec.h"

/* ---- the size of compact JSON ---- */

/* Bytes jansson writes for a string: quotes, and escapes for '"', '\\' and
 * control characters (two bytes for \b \f \n \r \t, six for \u00XX). Other
 * bytes, UTF-8 included, are written as they are (no JSON_ENSURE_ASCII). */
static size_t string_size(const char *s, size_t n)
{
    size_t size = n + 2;
    for (size_t i = 0; i < n; i++) {
        unsigned char c = (unsigned char)s[i];
        if (c == '"' || c == '\\' || c == '\b' || c == '\f' || c == '\n' || c == '\r' || c == '\t')
            size += 1;
        else if (c < 0x20)
            size += 5;
    }
    return size;
}

/* Numbers, booleans and null: short, so asking jansson is exact (its real
 * formatting depends on how it was built) and cheap. */
static size_t scalar_size(const json_t *v)
{
    char buf[64];
    if (json_is_string(v))
        return string_size(json_string_value(v), json_string_length(v));
    return json_dumpb(v, buf, sizeof(buf), JSON_ENCODE_ANY | JSON_COMPACT);
}

typedef struct size_frame {
    json_t *node; /* an object or array (jansson's iterators take non-const) */
    void *iter;   /* objects: the next member */
    size_t index; /* arrays: the next element; objects: members done */
} size_frame;

typedef SB_VEC(size_frame) size_stack;

/* True when v, serialised with JSON_COMPACT, takes at most limit bytes; then
 * *size is that length. Stops counting once past the limit. */
static bool compact_size_within(const json_t *v, size_t limit, size_stack *stack, size_t *size)
{
    size_t total = 0;
    stack->len = 0;
    if (!json_is_object(v) && !json_is_array(v)) {
        total = scalar_size(v);
        goto out;
    }
    total = 2;
    sb_vec_push(stack, ((size_frame){(json_t *)v, json_object_iter((json_t *)v), 0}));
    while (stack->len > 0 && total <= limit) {
        size_frame *f = &stack->items[stack->len - 1];
        json_t *child;
        if (json_is_object(f->node)) {
            if (!f->iter) {
                stack->len--;
                continue;
            }
            total += string_size(json_object_iter_key(f->iter), json_object_iter_key_len(f->iter));
            total += 1; /* ':' */
            child = json_object_iter_value(f->iter);
            f->iter = json_object_iter_next(f->node, f->iter);
        } else {
            if (f->index == json_array_size(f->node)) {
                stack->len--;
                continue;
            }
            child = json_array_get(f->node, f->index);
        }
        if (f->index++ > 0)
            total += 1; /* ',' */
        if (json_is_object(child) || json_is_array(child)) {
            total += 2;
            /* f may move when the stack grows. */
            sb_vec_push(stack, ((size_frame){child, json_object_iter(child), 0}));
        } else {
            total += scalar_size(child);
        }
    }
out:
    if (total > limit)
        return false;
    *size = total;
    return true;
}

/* ---- validation ---- */

typedef struct tree_frame {
    const json_t *array; /* NULL: the root of projects_tree_validate_one ... */
    const json_t *one;   /* ... which is this lone component */
    size_t index;        /* next element to visit */
    size_t path_len;     /* the path of the array itself */
    unsigned depth;      /* 1 for the page's array */
} tree_frame;

static size_t frame_len(const tree_frame *f)
{
    return f->array ? json_array_size(f->array) : 1;
}

static const json_t *frame_at(const tree_frame *f, size_t i)
{
    return f->array ? json_array_get(f->array, i) : f->one;
}

typedef struct validator {
    const projects_tree_limits *lim;
    projects_tree_error *err;
    sb_buf path;
    sb_map ids;
    SB_VEC(tree_frame) stack;
    size_stack size_stack;
} validator;

/* Cuts the path back to len bytes (keeping sb_buf's trailing NUL). */
static void cut(sb_buf *path, size_t len)
{
    path->len = len;
    path->ptr[len] = '\0';
}

/* Copies the current path into err->where, keeping the tail after "..."
 * when it does not fit (cut at a '.' so that a whole step is kept). */
static void set_where(const sb_buf *path, projects_tree_error *err)
{
    size_t cap = sizeof(err->where) - 1;
    if (path->len <= cap) {
        memcpy(err->where, path->ptr, path->len);
        err->where[path->len] = '\0';
        return;
    }
    size_t from = path->len - (cap - 3);
    while (from < path->len && path->ptr[from] != '.')
        from++;
    if (from < path->len)
        from++; /* the '.' itself: "...children[0]" rather than "....children[0]" */
    int n = snprintf(err->where, sizeof(err->where), "...%.*s", (int)(path->len - from),
                     path->ptr + from);
    SB_UNUSED(n);
}

static bool fail(validator *v, const char *fmt, ...) SB_PRINTF(2, 3);
static bool fail(validator *v, const char *fmt, ...)
{
    if (!v->err)
        return false;
    set_where(&v->path, v->err);
    va_list ap;
    va_start(ap, fmt);
    vsnprintf(v->err->message, sizeof(v->err->message), fmt, ap);
    va_end(ap);
    return false;
}

static bool name_char(unsigned char c)
{
    return (c >= 'a' && c <= 'z') || (c >= 'A' && c <= 'Z') || (c >= '0' && c <= '9') || c == '_' ||
           c == '.' || c == ':' || c == '-';
}

/* Checks the id or type member `key` of component c; path is the
 * component's and is restored on success. */
static bool check_name(validator *v, const json_t *c, const char *key, size_t max_len)
{
    size_t len = v->path.len;
    sb_buf_putc(&v->path, '.');
    sb_buf_puts(&v->path, key);
    const json_t *s = json_object_get(c, key);
    if (!s)
        return fail(v, "is required");
    if (!json_is_string(s))
        return fail(v, "must be a string");
    const char *p = json_string_value(s);
    size_t n = json_string_length(s);
    if (n == 0)
        return fail(v, "must not be empty");
    if (n > max_len)
        return fail(v, "must be at most %zu bytes", max_len);
    for (size_t i = 0; i < n; i++)
        if (!name_char((unsigned char)p[i]))
            return fail(v, "may contain only letters, digits and _ . : -");
    cut(&v->path, len);
    return true;
}

static bool known_key(const char *k, size_t n)
{
    static const char *const keys[] = {"id", "type", "props", "children"};
    for (size_t i = 0; i < SB_ARRAY_LEN(keys); i++)
        if (strlen(keys[i]) == n && memcmp(keys[i], k, n) == 0)
            return true;
    return false;
}

/* Appends ".key" for a plain key, or ["key"] (JSON-escaped, cut to 32
 * bytes) for anything else, so the path stays readable and valid UTF-8. */
static void append_key(sb_buf *path, const char *k, size_t n)
{
    bool plain = n > 0 && n <= 32;
    for (size_t i = 0; plain && i < n; i++) {
        unsigned char c = (unsigned char)k[i];
        plain = (c >= 'a' && c <= 'z') || (c >= 'A' && c <= 'Z') || (c >= '0' && c <= '9') ||
                c == '_' || c == '-';
    }
    if (plain) {
        sb_buf_putc(path, '.');
        sb_buf_append(path, k, n);
    } else {
        sb_buf_putc(path, '[');
        sb_json_escape(path, k, SB_MIN(n, 32));
        sb_buf_putc(path, ']');
    }
}

/* Checks component c (not its children); the path is c's. */
static bool check_component(validator *v, const json_t *c)
{
    const projects_tree_limits *lim = v->lim;
    size_t len = v->path.len;
    if (!json_is_object(c))
        return fail(v, "must be an object");
    if (!check_name(v, c, "id", lim->max_id_len))
        return false;
    const json_t *id = json_object_get(c, "id");
    sb_str key = sb_str_make(json_string_value(id), json_string_length(id));
    if (sb_map_get(&v->ids, key)) {
        sb_buf_puts(&v->path, ".id");
        return fail(v, "must be unique within the page");
    }
    sb_map_put(&v->ids, key, (void *)c);
    if (!check_name(v, c, "type", lim->max_type_len))
        return false;

    const json_t *props = json_object_get(c, "props");
    if (props) {
        sb_buf_puts(&v->path, ".props");
        size_t size;
        if (!json_is_object(props))
            return fail(v, "must be an object");
        if (!compact_size_within(props, lim->max_props_bytes, &v->size_stack, &size))
            return fail(v, "must be at most %zu bytes as compact JSON", lim->max_props_bytes);
        cut(&v->path, len);
    }
    const json_t *children = json_object_get(c, "children");
    if (children && !json_is_array(children)) {
        sb_buf_puts(&v->path, ".children");
        return fail(v, "must be an array");
    }
    for (void *it = json_object_iter((json_t *)c); it;
         it = json_object_iter_next((json_t *)c, it)) {
        const char *k = json_object_iter_key(it);
        size_t n = json_object_iter_key_len(it);
        if (!known_key(k, n)) {
            append_key(&v->path, k, n);
            return fail(v, "is not a known field");
        }
    }
    cut(&v->path, len);
    return true;
}

/* Validates a page's array (one NULL) or one lone component (then
 * components is NULL): the lone one is a root frame of one element whose
 * path has no index. */
static bool validate(const json_t *components, const json_t *one, const projects_tree_limits *lim,
                     projects_tree_error *err)
{
    validator v = {.lim = lim, .err = err};
    bool ok = false;
    size_t nodes = 0;
    sb_buf_init(&v.path, 128);
    sb_map_init(&v.ids);
    sb_buf_puts(&v.path, one ? "component" : "components");
    if (!one && !json_is_array(components)) {
        fail(&v, "must be an array");
        goto out;
    }
    sb_vec_push(&v.stack, ((tree_frame){one ? NULL : components, one, 0, v.path.len, 1}));
    while (v.stack.len > 0) {
        tree_frame *f = &v.stack.items[v.stack.len - 1];
        if (f->index == frame_len(f)) {
            v.stack.len--;
            continue;
        }
        size_t i = f->index++;
        unsigned depth = f->depth;
        const json_t *c = frame_at(f, i);
        cut(&v.path, f->path_len);
        if (f->array)
            sb_buf_appendf(&v.path, "[%zu]", i);
        if (depth > lim->max_depth) {
            fail(&v, "is nested deeper than %u levels", lim->max_depth);
            goto out;
        }
        if (++nodes > lim->max_nodes) {
            fail(&v, "is beyond the limit of %zu components", lim->max_nodes);
            goto out;
        }
        if (!check_component(&v, c))
            goto out;
        const json_t *children = json_object_get(c, "children");
        if (children && json_array_size(children) > 0) {
            sb_buf_puts(&v.path, ".children");
            /* f is stale once the stack may have grown. */
            sb_vec_push(&v.stack, ((tree_frame){children, NULL, 0, v.path.len, depth + 1}));
        }
    }
    ok = true;
out:
    sb_vec_free(&v.stack);
    sb_vec_free(&v.size_stack);
    sb_map_deinit(&v.ids);
    sb_buf_free(&v.path);
    return ok;
}

bool projects_tree_validate(const json_t *components, const projects_tree_limits *lim,
                            projects_tree_error *err)
{
    return validate(components, NULL, lim, err);
}

bool projects_tree_validate_one(const json_t *component, const projects_tree_limits *lim,
                                projects_tree_error *err)
{
    assert(component);
    return validate(NULL, component, lim, err);
}

/* ---- copies ---- */

static json_t *must(json_t *v)
{
    if (!v)
        sb_die("out of memory copying a component tree");
    return v;
}

static void set(json_t *obj, const char *key, json_t *value)
{
    if (json_object_set_new(obj, key, must(value)) != 0)
        sb_die("out of memory copying a component tree");
}

static json_t *copy_components(const json_t *components, bool fresh);

/* Recursion depth is the tree's depth, which validation bounded. */
static json_t *copy_component(const json_t *c, bool fresh)
{
    assert(json_is_object(c));
    json_t *o = must(json_object());
    if (fresh) {
        sb_uuid u;
        char s[SB_UUID_STR_LEN];
        sb_uuid_v7(&u);
        set(o, "id", json_string(sb_uuid_format(&u, s)));
    } else {
        set(o, "id", json_deep_copy(json_object_get(c, "id")));
    }
    set(o, "type", json_deep_copy(json_object_get(c, "type")));
    const json_t *props = json_object_get(c, "props");
    set(o, "props", props ? json_deep_copy(props) : json_object());
    const json_t *children = json_object_get(c, "children");
    set(o, "children", children ? copy_components(children, fresh) : json_array());
    return o;
}

static json_t *copy_components(const json_t *components, bool fresh)
{
    assert(json_is_array(components));
    json_t *out = must(json_array());
    size_t n = json_array_size(components);
    for (size_t i = 0; i < n; i++)
        if (json_array_append_new(out, copy_component(json_array_get(components, i), fresh)) != 0)
            sb_die("out of memory copying a component tree");
    return out;
}

json_t *projects_tree_normalize(const json_t *components)
{
    return copy_components(components, false);
}

json_t *projects_tree_copy_fresh(const json_t *components)
{
    return copy_components(components, true);
}

json_t *projects_tree_copy_one(const json_t *component, bool fresh)
{
    return copy_component(component, fresh);
}

/* Visits every component depth-first in document order until visit
 * returns false; returns false when it was stopped. Iterative, like
 * validation: the input need not be valid. */
static bool walk(const json_t *components, bool (*visit)(const json_t *c, void *ctx), void *ctx)
{
    typedef struct walk_frame {
        const json_t *array;
        size_t index;
    } walk_frame;
    SB_VEC(walk_frame) stack = {0};
    bool finished = true;
    if (json_is_array(components))
        sb_vec_push(&stack, ((walk_frame){components, 0}));
    while (stack.len > 0) {
        walk_frame *f = &stack.items[stack.len - 1];
        if (f->index == json_array_size(f->array)) {
            stack.len--;
            continue;
        }
        const json_t *c = json_array_get(f->array, f->index++);
        if (!visit(c, ctx)) {
            finished = false;
            break;
        }
        const json_t *children = json_is_object(c) ? json_object_get(c, "children") : NULL;
        if (json_is_array(children))
            sb_vec_push(&stack, ((walk_frame){children, 0}));
    }
    sb_vec_free(&stack);
    return finished;
}

static bool count_one(const json_t *c, void *ctx)
{
    (void)c;
    (*(size_t *)ctx)++;
    return true;
}

size_t projects_tree_count(const json_t *components)
{
    size_t total = 0;
    walk(components, count_one, &total);
    return total;
}

typedef struct find_ctx {
    sb_str id;
    const json_t *found;
} find_ctx;

static bool is_not_id(const json_t *c, void *ctx_)
{
    find_ctx *ctx = ctx_;
    const json_t *v = json_is_object(c) ? json_object_get(c, "id") : NULL;
    if (json_is_string(v) &&
        sb_str_eq(sb_str_make(json_string_value(v), json_string_length(v)), ctx->id)) {
        ctx->found = c;
        return false;
    }
    return true;
}

json_t *projects_tree_find(const json_t *components, sb_str id)
{
    find_ctx ctx = {id, NULL};
    walk(components, is_not_id, &ctx);
    return (json_t *)ctx.found; /* the caller's tree, as it gave it */
}

bool projects_tree_has_id(const json_t *components, sb_str id)
{
    return projects_tree_find(components, id) != NULL;
}
