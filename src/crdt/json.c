/*
 * json.c: materialisation of shared types as Yjs's toJSON() returns them and
 * JSON.stringify prints them (Text -> string, Map -> object, Array -> array,
 * Xml* -> their toString() forms), and Text.toDelta(), also at a snapshot
 * (snapshot.c): then an item shows when the snapshot has it (isVisible).
 *
 * Rendering recurses into nested types; depth is bounded by
 * CRDT_MAX_DEPTH, and a deeper document renders as CRDT_E_LIMIT rather
 * than overflowing the stack.
 */
#include <jansson.h>
#include <stdlib.h>
#include <string.h>

#include "crdt/any.h"
#include "crdt/crdt_int.h"

static crdt_err type_json(crdt_type *t, uint8_t kind, sb_buf *out, int depth);
static crdt_err type_string(crdt_type *t, uint8_t kind, sb_buf *out, int depth);

static void any_bytes_json(const crdt_bytes *b, sb_buf *out)
{
    crdt_dec dec;
    crdt_any v;
    crdt_dec_init(&dec, b->p, b->n);
    if (crdt_any_read(&dec, &v) != 0) {
        sb_buf_append(out, "null", 4);
        return;
    }
    crdt_any_to_json(&v, out);
    crdt_any_free(&v);
}

static bool any_bytes_undefined(const crdt_bytes *b)
{
    return b->n == 1 && (uint8_t)b->p[0] == CRDT_ANY_TAG_UNDEFINED;
}

static void jstr(const char *s, size_t n, sb_buf *out)
{
    crdt_any v = crdt_any_string(s, n);
    crdt_any_to_json(&v, out);
    crdt_any_free(&v);
}

static void utf16_json(const uint16_t *u, size_t n, sb_buf *out)
{
    sb_buf tmp = SB_BUF_INIT;
    crdt__utf16_to_utf8(u, n, &tmp);
    jstr(tmp.ptr ? tmp.ptr : "", tmp.len, out);
    sb_buf_free(&tmp);
}

static void text_plain(crdt_type *t, sb_buf *out)
{
    for (crdt_item *it = t->start; it; it = it->right)
        if (!(it->flags & CRDT_F_DELETED) && it->ckind == CRDT_C_STRING)
            crdt__utf16_to_utf8(it->c.str.u, it->length, out);
}

/* Element i of an item's content as JSON (getContent()[i]); false when it
 * is undefined. */
static crdt_err content_json(crdt_item *it, uint64_t i, sb_buf *out, int depth, bool *defined)
{
    *defined = true;
    switch (it->ckind) {
    case CRDT_C_ANY:
        if (any_bytes_undefined(&it->c.list.v[i])) {
            *defined = false;
            return CRDT_OK;
        }
        any_bytes_json(&it->c.list.v[i], out);
        return CRDT_OK;
    case CRDT_C_JSON: {
        crdt_bytes *b = &it->c.list.v[i];
        if (b->n == 9 && memcmp(b->p, "undefined", 9) == 0) {
            *defined = false;
            return CRDT_OK;
        }
        sb_buf_append(out, b->p, b->n);
        return CRDT_OK;
    }
    case CRDT_C_STRING:
        utf16_json(it->c.str.u + i, 1, out);
        return CRDT_OK;
    case CRDT_C_BINARY: {
        crdt_any v = crdt_any_binary(it->c.bin.p, it->c.bin.n);
        crdt_any_to_json(&v, out);
        crdt_any_free(&v);
        return CRDT_OK;
    }
    case CRDT_C_EMBED:
        sb_buf_append(out, it->c.bin.p, it->c.bin.n);
        return CRDT_OK;
    case CRDT_C_TYPE:
        return type_json(it->c.type, it->c.type->kind, out, depth + 1);
    case CRDT_C_DOC:
        sb_buf_append(out, "{}", 2);
        return CRDT_OK;
    default:
        *defined = false;
        return CRDT_OK;
    }
}

static int key_cmp_js(const void *a, const void *b)
{
    /* entries pre-sorted: index keys by number; others keep position */
    const crdt_map_entry *const *x = a, *const *y = b;
    uint32_t ix, iy;
    bool kx = crdt_any_key_is_index((*x)->key.p, (*x)->key.n, &ix);
    bool ky = crdt_any_key_is_index((*y)->key.p, (*y)->key.n, &iy);
    if (kx && ky)
        return ix < iy ? -1 : ix > iy;
    if (kx != ky)
        return kx ? -1 : 1;
    return *x < *y ? -1 : *x > *y; /* insertion order: entries are a vector */
}

static crdt_err map_json(crdt_type *t, sb_buf *out, int depth)
{
    crdt_map_entry **es = sb_malloc((t->entries.len + 1) * sizeof(*es));
    size_t n = 0;
    for (size_t i = 0; i < t->entries.len; i++) {
        crdt_item *it = t->entries.items[i].item;
        if (it && !(it->flags & CRDT_F_DELETED))
            es[n++] = &t->entries.items[i];
    }
    if (n > 1)
        qsort(es, n, sizeof(*es), key_cmp_js);
    sb_buf_append(out, "{", 1);
    bool first = true;
    crdt_err e = CRDT_OK;
    for (size_t i = 0; i < n && !e; i++) {
        crdt_item *it = es[i]->item;
        size_t mark = out->len;
        if (!first)
            sb_buf_append(out, ",", 1);
        jstr(es[i]->key.p, es[i]->key.n, out);
        sb_buf_append(out, ":", 1);
        bool defined;
        e = content_json(it, it->length - 1, out, depth, &defined);
        if (!defined) {
            out->len = mark;
            out->ptr[mark] = 0;
        } else {
            first = false;
        }
    }
    free(es);
    sb_buf_append(out, "}", 1);
    return e;
}

static crdt_err array_json(crdt_type *t, sb_buf *out, int depth)
{
    sb_buf_append(out, "[", 1);
    bool first = true;
    for (crdt_item *it = t->start; it; it = it->right) {
        if ((it->flags & CRDT_F_DELETED) || !crdt__countable(it))
            continue;
        for (uint64_t i = 0; i < it->length; i++) {
            if (!first)
                sb_buf_append(out, ",", 1);
            first = false;
            bool defined;
            crdt_err e = content_json(it, i, out, depth, &defined);
            if (e)
                return e;
            if (!defined)
                sb_buf_append(out, "null", 4);
        }
    }
    sb_buf_append(out, "]", 1);
    return CRDT_OK;
}

/* String(v) for a JSON value given as an any (template literals). */
static void js_string_any(const crdt_any *v, sb_buf *out, int depth)
{
    switch (v->kind) {
    case CRDT_ANY_STRING:
        sb_buf_append(out, v->u.str.ptr, v->u.str.len);
        break;
    case CRDT_ANY_UNDEFINED:
        sb_buf_append(out, "undefined", 9);
        break;
    case CRDT_ANY_OBJECT:
    case CRDT_ANY_BINARY:
        sb_buf_append(out, "[object Object]", 15);
        break;
    case CRDT_ANY_ARRAY:
        for (size_t i = 0; i < v->u.arr.len && depth < 64; i++) {
            if (i)
                sb_buf_append(out, ",", 1);
            const crdt_any *x = &v->u.arr.items[i];
            if (x->kind != CRDT_ANY_NULL && x->kind != CRDT_ANY_UNDEFINED)
                js_string_any(x, out, depth + 1);
        }
        break;
    default:
        crdt_any_to_json(v, out);
        break;
    }
}

/* String(getContent()[i]) of an item. */
static void js_string_content(crdt_item *it, uint64_t i, sb_buf *out, int depth)
{
    switch (it->ckind) {
    case CRDT_C_ANY: {
        crdt_dec dec;
        crdt_any v;
        crdt_dec_init(&dec, it->c.list.v[i].p, it->c.list.v[i].n);
        if (crdt_any_read(&dec, &v) == 0) {
            js_string_any(&v, out, 0);
            crdt_any_free(&v);
        }
        break;
    }
    case CRDT_C_STRING:
        crdt__utf16_to_utf8(it->c.str.u + i, 1, out);
        break;
    case CRDT_C_TYPE:
        type_string(it->c.type, it->c.type->kind, out, depth + 1);
        break;
    default:
        sb_buf_append(out, "[object Object]", 15);
        break;
    }
}

/* --- delta --- */

typedef struct attr {
    crdt_bytes key; /* borrowed from the format item */
    crdt_bytes val; /* JSON text, borrowed */
} attr;
typedef SB_VEC(attr) attrs;

static attr *attrs_find(attrs *a, crdt_bytes key)
{
    for (size_t i = 0; i < a->len; i++)
        if (a->items[i].key.n == key.n && memcmp(a->items[i].key.p, key.p, key.n) == 0)
            return &a->items[i];
    return NULL;
}

/* Map.set(key, *val) on a JS Map (a key set again keeps its position), or
 * Map.delete(key) when val is NULL. */
static void attrs_put(attrs *a, crdt_bytes key, const crdt_bytes *val)
{
    attr *x = attrs_find(a, key);
    if (x && val) {
        x->val = *val;
    } else if (x) {
        size_t i = (size_t)(x - a->items);
        memmove(a->items + i, a->items + i + 1, (a->len - i - 1) * sizeof(attr));
        a->len--;
    } else if (val) {
        sb_vec_push(a, ((attr){key, *val}));
    }
}

/* updateCurrentAttributes: null deletes. */
static void attrs_update(attrs *a, crdt_item *f)
{
    bool null = f->c.fmt.val.n == 4 && memcmp(f->c.fmt.val.p, "null", 4) == 0;
    attrs_put(a, f->c.fmt.key, null ? NULL : &f->c.fmt.val);
}

/* The ychange attribute of toDelta(snapshot, prevSnapshot), as Yjs's
 * default (no computeYChange) makes it. */
#define YC_TEXT(s)                                                                                 \
    {                                                                                              \
        (char *)(s), sizeof(s) - 1                                                                 \
    }
static const crdt_bytes YCHANGE = YC_TEXT("ychange");
static const crdt_bytes YC_REMOVED = YC_TEXT("{\"type\":\"removed\"}");
static const crdt_bytes YC_ADDED = YC_TEXT("{\"type\":\"added\"}");

/* One delta op: insert (string in ins, or an item for embeds/types). */
typedef struct dop {
    sb_buf str;
    crdt_item *item;
    attrs at;
} dop;
typedef SB_VEC(dop) dops;

static void attrs_copy(attrs *dst, const attrs *src)
{
    for (size_t i = 0; i < src->len; i++)
        sb_vec_push(dst, src->items[i]);
}

/* Whether an item is part of the text: not deleted, or with a snapshot,
 * there at the snapshot (Yjs's isVisible). */
static bool shown(const crdt_item *it, const crdt_snapshot *snap)
{
    return snap ? crdt__snapshot_visible(snap, it) : !(it->flags & CRDT_F_DELETED);
}

/* With prev, also what was there at prev, marked (Yjs's ychange). */
static void build_delta(crdt_type *t, const crdt_snapshot *snap, const crdt_snapshot *prev,
                        dops *ops)
{
    attrs cur = {0};
    sb_buf str = SB_BUF_INIT;
#define PACK()                                                                                     \
    do {                                                                                           \
        if (str.len) {                                                                             \
            dop o_ = {str, NULL, {0}};                                                             \
            attrs_copy(&o_.at, &cur);                                                              \
            sb_vec_push(ops, o_);                                                                  \
            str = SB_BUF_INIT;                                                                     \
        }                                                                                          \
    } while (0)
    for (crdt_item *it = t->start; it; it = it->right) {
        bool now = shown(it, snap);
        if (!now && !(prev && crdt__snapshot_visible(prev, it)))
            continue;
        switch (it->ckind) {
        case CRDT_C_STRING:
            if (prev) {
                /* each removed or added item starts an op: Yjs compares
                 * the change's user, which its default change has not */
                const crdt_bytes *yc = snap && !now                        ? &YC_REMOVED
                                       : !crdt__snapshot_visible(prev, it) ? &YC_ADDED
                                                                           : NULL;
                if (yc || attrs_find(&cur, YCHANGE)) {
                    PACK();
                    attrs_put(&cur, YCHANGE, yc);
                }
            }
            crdt__utf16_to_utf8(it->c.str.u, it->length, &str);
            break;
        case CRDT_C_EMBED:
        case CRDT_C_TYPE: {
            PACK();
            dop o = {SB_BUF_INIT, it, {0}};
            attrs_copy(&o.at, &cur);
            sb_vec_push(ops, o);
            break;
        }
        case CRDT_C_FORMAT:
            if (now) { /* not formats only the previous snapshot has */
                PACK();
                attrs_update(&cur, it);
            }
            break;
        default:
            break;
        }
    }
    PACK();
#undef PACK
    sb_buf_free(&str);
    sb_vec_free(&cur);
}

static void free_delta(dops *ops)
{
    for (size_t i = 0; i < ops->len; i++) {
        sb_buf_free(&ops->items[i].str);
        sb_vec_free(&ops->items[i].at);
    }
    sb_vec_free(ops);
}

static crdt_err delta_json(crdt_type *t, const crdt_snapshot *snap, const crdt_snapshot *prev,
                           sb_buf *out, int depth)
{
    dops ops = {0};
    build_delta(t, snap, prev, &ops);
    crdt_err e = CRDT_OK;
    sb_buf_append(out, "[", 1);
    for (size_t i = 0; i < ops.len && !e; i++) {
        dop *o = &ops.items[i];
        if (i)
            sb_buf_append(out, ",", 1);
        sb_buf_append(out, "{\"insert\":", 10);
        if (o->item) {
            if (o->item->ckind == CRDT_C_EMBED)
                sb_buf_append(out, o->item->c.bin.p, o->item->c.bin.n);
            else
                e = type_json(o->item->c.type, o->item->c.type->kind, out, depth + 1);
        } else {
            jstr(o->str.ptr, o->str.len, out);
        }
        if (o->at.len) {
            sb_buf_append(out, ",\"attributes\":{", 15);
            for (size_t k = 0; k < o->at.len; k++) {
                if (k)
                    sb_buf_append(out, ",", 1);
                jstr(o->at.items[k].key.p, o->at.items[k].key.n, out);
                sb_buf_append(out, ":", 1);
                sb_buf_append(out, o->at.items[k].val.p, o->at.items[k].val.n);
            }
            sb_buf_append(out, "}", 1);
        }
        sb_buf_append(out, "}", 1);
    }
    sb_buf_append(out, "]", 1);
    free_delta(&ops);
    return e;
}

/* The order of one UTF-8 lead byte's code point among UTF-16 units: JS
 * compares strings by UTF-16 code units, where a pair's lead unit (D800..)
 * sorts below U+E000..U+FFFF, unlike code points. */
static uint32_t utf16_rank(uint32_t cp)
{
    if (cp < 0xE000)
        return cp;
    return cp < 0x10000 ? cp + 0x100000 : cp - 0x10000 + 0xD800;
}

static uint32_t utf8_next(const char *s, size_t n, size_t *i)
{
    const uint8_t *u = (const uint8_t *)s;
    uint32_t c = u[(*i)++];
    int more = c >= 0xF0 ? 3 : c >= 0xE0 ? 2 : c >= 0xC0 ? 1 : 0;
    c &= more == 3 ? 0x07 : more == 2 ? 0x0F : more == 1 ? 0x1F : 0x7F;
    while (more-- > 0 && *i < n)
        c = (c << 6) | (u[(*i)++] & 0x3F);
    return c;
}

/* a < b as JavaScript compares strings (UTF-16 code units), on UTF-8. */
static int cmp_str(const char *a, size_t an, const char *b, size_t bn)
{
    size_t i = 0, j = 0;
    while (i < an && j < bn) {
        uint32_t x = utf16_rank(utf8_next(a, an, &i)), y = utf16_rank(utf8_next(b, bn, &j));
        if (x != y)
            return x < y ? -1 : 1;
    }
    return i < an ? 1 : j < bn ? -1 : 0;
}

typedef struct kv {
    const char *k;
    size_t kn;
    crdt_any v;
    size_t i; /* the position before sorting */
} kv;

static int kv_cmp(const void *a, const void *b)
{
    const kv *x = a, *y = b;
    return cmp_str(x->k, x->kn, y->k, y->kn);
}

static int attr_cmp(const void *a, const void *b)
{
    const attr *x = a, *y = b;
    return cmp_str(x->key.p, x->key.n, y->key.p, y->key.n);
}

/* The attributes of a tag made from a format attribute's value: what
 * `for (key in value)` gives, sorted by key, each as ` key="String(v)"`.
 * Strings and arrays have index keys ("0", "1", ..., sorted as strings:
 * "10" before "2"), a string's values being its UTF-16 units (a lone
 * surrogate half comes out as U+FFFD: UTF-8 cannot carry it); numbers,
 * booleans and null have none. */
static void tag_props(const crdt_any *v, sb_buf *out)
{
    size_t n = 0;
    uint16_t *units = NULL;
    if (v->kind == CRDT_ANY_OBJECT)
        n = v->u.obj.len;
    else if (v->kind == CRDT_ANY_ARRAY)
        n = v->u.arr.len;
    else if (v->kind == CRDT_ANY_STRING) {
        units = sb_malloc((v->u.str.len + 1) * sizeof(uint16_t));
        n = crdt__utf8_to_utf16(v->u.str.ptr, v->u.str.len, units);
    }
    if (!n) {
        free(units);
        return;
    }
    kv *kvs = sb_malloc(n * sizeof(kv));
    char *idx = v->kind == CRDT_ANY_OBJECT ? NULL : sb_malloc(n * 21);
    for (size_t q = 0; q < n; q++) {
        if (v->kind == CRDT_ANY_OBJECT) {
            kvs[q] =
                (kv){v->u.obj.props[q].key, v->u.obj.props[q].key_len, v->u.obj.props[q].value, q};
            continue;
        }
        int len = snprintf(idx + q * 21, 21, "%zu", q);
        kvs[q] = (kv){idx + q * 21, (size_t)len, {.kind = CRDT_ANY_UNDEFINED}, q};
        if (v->kind == CRDT_ANY_ARRAY)
            kvs[q].v = v->u.arr.items[q];
    }
    qsort(kvs, n, sizeof(kv), kv_cmp);
    for (size_t q = 0; q < n; q++) {
        sb_buf_append(out, " ", 1);
        sb_buf_append(out, kvs[q].k, kvs[q].kn);
        sb_buf_append(out, "=\"", 2);
        if (v->kind == CRDT_ANY_STRING) {
            crdt__utf16_to_utf8(&units[kvs[q].i], 1, out);
        } else {
            js_string_any(&kvs[q].v, out, 0);
        }
        sb_buf_append(out, "\"", 1);
    }
    free(idx);
    free(kvs);
    free(units);
}

/* YXmlText.toString(): each delta op wrapped in its attributes as tags. */
static void xml_text_string(crdt_type *t, sb_buf *out, int depth)
{
    dops ops = {0};
    build_delta(t, NULL, NULL, &ops);
    for (size_t i = 0; i < ops.len; i++) {
        dop *o = &ops.items[i];
        attr *nodes = o->at.items;
        size_t nn = o->at.len;
        if (nn > 1)
            qsort(nodes, nn, sizeof(attr), attr_cmp);
        for (size_t k = 0; k < nn; k++) {
            sb_buf_append(out, "<", 1);
            sb_buf_append(out, nodes[k].key.p, nodes[k].key.n);
            crdt_any v;
            if (crdt__json_parse(nodes[k].val.p, nodes[k].val.n, &v)) {
                tag_props(&v, out);
                crdt_any_free(&v);
            }
            sb_buf_append(out, ">", 1);
        }
        if (o->item) {
            if (o->item->ckind == CRDT_C_TYPE)
                type_string(o->item->c.type, o->item->c.type->kind, out, depth + 1);
            else
                sb_buf_append(out, "[object Object]", 15);
        } else {
            sb_buf_append(out, o->str.ptr, o->str.len);
        }
        for (size_t k = nn; k-- > 0;) {
            sb_buf_append(out, "</", 2);
            sb_buf_append(out, nodes[k].key.p, nodes[k].key.n);
            sb_buf_append(out, ">", 1);
        }
    }
    free_delta(&ops);
}

static void children_string(crdt_type *t, sb_buf *out, int depth)
{
    for (crdt_item *it = t->start; it; it = it->right) {
        if ((it->flags & CRDT_F_DELETED) || !crdt__countable(it))
            continue;
        for (uint64_t i = 0; i < it->length; i++)
            js_string_content(it, i, out, depth);
    }
}

static void lower_ascii(const char *s, size_t n, sb_buf *out)
{
    for (size_t i = 0; i < n; i++) {
        char c = s[i];
        if (c >= 'A' && c <= 'Z')
            c = (char)(c - 'A' + 'a');
        sb_buf_append(out, &c, 1);
    }
}

/* type.toString() as Yjs defines it for XML types (and toJSON of text). */
static crdt_err type_string(crdt_type *t, uint8_t kind, sb_buf *out, int depth)
{
    if (depth > CRDT_MAX_DEPTH)
        return CRDT_E_LIMIT;
    switch (kind) {
    case CRDT_T_XML_TEXT:
        xml_text_string(t, out, depth);
        break;
    case CRDT_T_TEXT:
        text_plain(t, out);
        break;
    case CRDT_T_XML_ELEMENT: {
        kv *kvs = sb_malloc((t->entries.len + 1) * sizeof(kv));
        size_t n = 0;
        for (size_t i = 0; i < t->entries.len; i++) {
            crdt_item *it = t->entries.items[i].item;
            if (!it || (it->flags & CRDT_F_DELETED))
                continue;
            kvs[n] = (kv){t->entries.items[i].key.p, t->entries.items[i].key.n, {0}, 0};
            kvs[n].v.kind = CRDT_ANY_UNDEFINED;
            if (it->ckind == CRDT_C_ANY) {
                crdt_dec dec;
                crdt_dec_init(&dec, it->c.list.v[it->length - 1].p, it->c.list.v[it->length - 1].n);
                if (crdt_any_read(&dec, &kvs[n].v) != 0)
                    kvs[n].v = crdt_any_undefined();
            } else {
                kvs[n].v = crdt_any_string("[object Object]", 15);
            }
            n++;
        }
        if (n > 1)
            qsort(kvs, n, sizeof(kv), kv_cmp);
        sb_buf_append(out, "<", 1);
        lower_ascii(t->name.p, t->name.n, out);
        for (size_t i = 0; i < n; i++) {
            sb_buf_append(out, " ", 1);
            sb_buf_append(out, kvs[i].k, kvs[i].kn);
            sb_buf_append(out, "=\"", 2);
            js_string_any(&kvs[i].v, out, 0);
            sb_buf_append(out, "\"", 1);
            crdt_any_free(&kvs[i].v);
        }
        free(kvs);
        sb_buf_append(out, ">", 1);
        children_string(t, out, depth);
        sb_buf_append(out, "</", 2);
        lower_ascii(t->name.p, t->name.n, out);
        sb_buf_append(out, ">", 1);
        break;
    }
    default:
        children_string(t, out, depth);
        break;
    }
    return CRDT_OK;
}

static crdt_err type_json(crdt_type *t, uint8_t kind, sb_buf *out, int depth)
{
    if (depth > CRDT_MAX_DEPTH)
        return CRDT_E_LIMIT;
    switch (kind) {
    case CRDT_T_MAP:
    case CRDT_T_XML_HOOK:
        return map_json(t, out, depth);
    case CRDT_T_ARRAY:
        return array_json(t, out, depth);
    default: {
        sb_buf s = SB_BUF_INIT;
        crdt_err e = type_string(t, kind, &s, depth);
        if (!e)
            jstr(s.ptr ? s.ptr : "", s.len, out);
        sb_buf_free(&s);
        return e;
    }
    }
}

crdt_err crdt_doc_json(crdt_doc *d, sb_str name, crdt_kind kind, sb_buf *out)
{
    /* doc.get<Kind>(name) declares the root (and that changes how Yjs
     * treats it from then on: edit.c crdt__root_of) */
    crdt_type *t;
    crdt_err de = crdt__root_of(d, name, crdt__kind_ref(kind), &t);
    if (de)
        return de;
    size_t mark = out->len;
    crdt_err e = type_json(t, crdt__kind_ref(kind), out, 1);
    if (e && out->ptr) {
        out->len = mark;
        out->ptr[mark] = 0;
    }
    return e;
}

crdt_err crdt__delta_json(crdt_type *t, const crdt_snapshot *snap, const crdt_snapshot *prev,
                          sb_buf *out)
{
    size_t mark = out->len;
    crdt_err e = delta_json(t, snap, prev, out, 1);
    if (e && out->ptr) {
        out->len = mark;
        out->ptr[mark] = 0;
    }
    return e;
}

crdt_err crdt_doc_text_delta(crdt_doc *d, sb_str name, sb_buf *out)
{
    crdt_type *t;
    crdt_err de = crdt__root_of(d, name, CRDT_T_TEXT, &t);
    if (de)
        return de;
    return crdt__delta_json(t, NULL, NULL, out);
}
