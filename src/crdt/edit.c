/*
 * edit.c: local edits (Yjs YText/YArray/YMap/YXml* methods), each one
 * transaction whose v1 update is handed back, as doc.on('update') gives it.
 *
 * Positions follow Yjs exactly, because the origins an item records decide
 * where concurrent edits land and what the update encodes:
 * - text (YText findPosition + minimizeAttributeChanges): after the item
 *   that ends at the index, then past deleted items and format items that
 *   match the insert's attributes;
 * - arrays and XML children (typeListInsertGenerics): right after the item
 *   that ends at the index, deleted items are not skipped.
 * Lookups start from a cached marker (the item last edited and its index),
 * so typing at one place costs no walk from the start.
 * Every argument is checked before the transaction starts: a failing call
 * changes nothing.
 */
#include <jansson.h>
#include <stdlib.h>
#include <string.h>

#include "base/utf8.h"
#include "crdt/any.h"
#include "crdt/crdt_int.h"

static bool text_counted(const crdt_item *it)
{
    return !(it->flags & CRDT_F_DELETED) &&
           (it->ckind == CRDT_C_STRING || it->ckind == CRDT_C_EMBED || it->ckind == CRDT_C_TYPE);
}

static bool list_counted(const crdt_item *it)
{
    return !(it->flags & CRDT_F_DELETED) && crdt__countable(it);
}

/* The counted item ending exactly at index (split if needed), or NULL for
 * index 0. *start_of receives that item's start index. index must be at
 * most the type's counted length. */
static crdt_item *locate(crdt_doc *d, crdt_type *t, uint64_t index, bool text, uint64_t *start_of)
{
    if (index == 0)
        return NULL;
    bool (*counted)(const crdt_item *) = text ? text_counted : list_counted;
    crdt_item *p = t->start;
    uint64_t i = 0;
    if (t->marker_p) {
        p = t->marker_p;
        i = t->marker_i;
    }
    while (i >= index && p->left) {
        p = p->left;
        if (counted(p))
            i -= p->length;
    }
    if (i >= index) {
        p = t->start;
        i = 0;
    }
    crdt_item *last = NULL;
    uint64_t last_i = 0;
    for (crdt_item *q = p; q; q = q->right) {
        if (!counted(q))
            continue;
        if (index <= i + q->length) {
            if (index < i + q->length)
                crdt__clean_start(d, (crdt_id){q->id.client, q->id.clock + (index - i)});
            *start_of = i;
            return q;
        }
        last = q;
        last_i = i;
        i += q->length;
    }
    /* only when other content (put there by a remote update) makes the
     * type's length exceed what text counts: insert at the end, as Yjs */
    *start_of = last_i;
    return last;
}

/* Text positions count strings, embeds and types; a text holds no other
 * countable content unless a remote update put some there, so the type's
 * length serves unless then. */
static uint64_t text_length(crdt_type *t)
{
    return t->length;
}

static crdt_item *new_item(crdt_doc *d, crdt_type *parent, crdt_item *left, crdt_item *right,
                           const char *psub, size_t psub_len, uint8_t ckind)
{
    crdt_item *it = crdt__item_alloc(d);
    it->kind = CRDT_STRUCT_ITEM;
    it->ckind = ckind;
    it->id = (crdt_id){d->client_id, crdt__state(d, d->client_id)};
    it->left = left;
    it->right = right;
    if (left) {
        it->origin = crdt__last_id(left);
        it->flags |= CRDT_F_HAS_ORIGIN;
    }
    if (right) {
        it->rorigin = right->id;
        it->flags |= CRDT_F_HAS_RORIGIN;
    }
    it->parent = parent;
    if (psub) {
        crdt_map_entry *e = crdt__type_entry(parent, psub, psub_len, true);
        it->parent_sub = e->key.p;
        it->parent_sub_len = (uint32_t)e->key.n;
    }
    return it;
}

crdt_err crdt__root_of(crdt_doc *d, sb_str name, uint8_t kind, crdt_type **out)
{
    crdt_type *t = crdt__root(d, name.ptr, name.len, true);
    if (t->kind == CRDT_T_UNDEFINED) {
        /* Doc.get replaces the placeholder with a new type: no formatting
         * flag, and (texts) empty search markers that now matter if
         * formats arrived before (marker.c) */
        t->kind = kind;
        t->ym_exact = t->has_formats && (kind == CRDT_T_TEXT || kind == CRDT_T_XML_TEXT);
        t->has_formats = false;
    } else if (t->kind != kind)
        return CRDT_E_KIND;
    *out = t;
    return CRDT_OK;
}

/* Takes a, returns its lib0 encoding. */
static void any_bytes(crdt_any *a, crdt_bytes *out)
{
    sb_buf b = SB_BUF_INIT;
    crdt_any_write(&b, a);
    crdt_any_free(a);
    crdt__bytes_set(out, b.ptr, b.len);
    sb_buf_free(&b);
}

uint8_t crdt__kind_ref(crdt_kind k)
{
    switch (k) {
    case CRDT_TEXT:
        return CRDT_T_TEXT;
    case CRDT_MAP:
        return CRDT_T_MAP;
    case CRDT_ARRAY:
        return CRDT_T_ARRAY;
    default:
        return CRDT_T_XML_FRAGMENT;
    }
}

crdt_err crdt_doc_declare(crdt_doc *d, sb_str name, crdt_kind kind)
{
    crdt_type *t;
    return crdt__root_of(d, name, crdt__kind_ref(kind), &t);
}

static void set_string_content(crdt_item *it, sb_str utf8)
{
    size_t n = sb_utf16_len(utf8.ptr, utf8.len);
    it->c.str.u = sb_malloc(n * sizeof(uint16_t));
    it->c.str.cap = n;
    it->length = crdt__utf8_to_utf16(utf8.ptr, utf8.len, it->c.str.u);
}

/* Text insert without formatting attributes: after the item ending at
 * index, past deleted items (minimizeAttributeChanges with no attributes;
 * a text with format items is refused by the caller). */
static void text_insert_at(crdt_doc *d, crdt_type *t, uint64_t index, sb_str utf8)
{
    uint64_t s;
    crdt_item *left = locate(d, t, index, true, &s);
    crdt_item *right = left ? left->right : t->start;
    while (right && (right->flags & CRDT_F_DELETED)) {
        left = right;
        right = right->right;
    }
    crdt_item *it = new_item(d, t, left, right, NULL, 0, CRDT_C_STRING);
    set_string_content(it, utf8);
    crdt__integrate(d, it, 0);
    t->marker_p = it;
    t->marker_i = index;
}

crdt_err crdt_text_insert(crdt_doc *d, sb_str name, uint64_t index, sb_str utf8, sb_str attrs,
                          sb_buf *update, bool *changed)
{
    *changed = false;
    if (!sb_utf8_valid(utf8.ptr, utf8.len, NULL))
        return CRDT_E_UTF8;
    crdt_type *t;
    crdt_err e = crdt__root_of(d, name, CRDT_T_TEXT, &t);
    if (e)
        return e;
    if (index > text_length(t))
        return CRDT_E_RANGE;
    if (utf8.len == 0)
        return CRDT_OK;
    crdt__txn_begin(d, NULL, true);
    /* formatting, or attributes to apply: YText's full position search */
    if ((attrs.ptr && attrs.len) || t->has_formats || t->ym_exact)
        e = crdt__text_insert_rich(d, t, index, utf8, attrs);
    else
        text_insert_at(d, t, index, utf8);
    crdt__txn_end(d, update, changed);
    return e;
}

/* Deletes len counted units from index (YText deleteText / typeListDelete). */
static void list_delete(crdt_doc *d, crdt_type *t, uint64_t index, uint64_t len, bool text)
{
    uint64_t s = 0;
    crdt_item *left = locate(d, t, index, text, &s);
    crdt_item *n = left ? left->right : t->start;
    bool (*counted)(const crdt_item *) = text ? text_counted : list_counted;
    while (len > 0 && n) {
        if (counted(n)) {
            if (len < n->length)
                crdt__clean_start(d, (crdt_id){n->id.client, n->id.clock + len});
            len -= n->length;
            crdt__delete(d, n);
        }
        n = n->right;
    }
    if (left) {
        t->marker_p = left;
        t->marker_i = s;
    }
}

/* YText.delete / YArray.delete on the root name of kind. */
static crdt_err delete_range(crdt_doc *d, sb_str name, uint8_t kind, uint64_t index, uint64_t len,
                             sb_buf *update, bool *changed)
{
    *changed = false;
    crdt_type *t;
    crdt_err e = crdt__root_of(d, name, kind, &t);
    if (e)
        return e;
    if (index > t->length || len > t->length - index)
        return CRDT_E_RANGE;
    if (len == 0)
        return CRDT_OK;
    crdt__txn_begin(d, NULL, true);
    if (kind == CRDT_T_TEXT && (t->has_formats || t->ym_exact))
        crdt__text_delete_rich(d, t, index, len);
    else
        list_delete(d, t, index, len, kind == CRDT_T_TEXT);
    crdt__txn_end(d, update, changed);
    return CRDT_OK;
}

crdt_err crdt_text_delete(crdt_doc *d, sb_str name, uint64_t index, uint64_t len, sb_buf *update,
                          bool *changed)
{
    return delete_range(d, name, CRDT_T_TEXT, index, len, update, changed);
}

static crdt_err map_set_any(crdt_doc *d, crdt_type *t, sb_str key, crdt_bytes val)
{
    crdt_map_entry *e = crdt__type_entry(t, key.ptr, key.len, false);
    crdt_item *left = e ? e->item : NULL;
    crdt_item *it = new_item(d, t, left, NULL, key.ptr, key.len, CRDT_C_ANY);
    it->c.list.v = sb_malloc(sizeof(crdt_bytes));
    it->c.list.v[0] = val;
    it->c.list.cap = 1;
    it->length = 1;
    crdt__integrate(d, it, 0);
    return CRDT_OK;
}

crdt_err crdt_map_set(crdt_doc *d, sb_str name, sb_str key, sb_str json, sb_buf *update,
                      bool *changed)
{
    *changed = false;
    if (!sb_utf8_valid(key.ptr, key.len, NULL))
        return CRDT_E_UTF8;
    crdt_any a;
    if (!crdt__json_parse(json.ptr, json.len, &a))
        return CRDT_E_JSON;
    crdt_bytes v;
    any_bytes(&a, &v);
    crdt_type *t;
    crdt_err e = crdt__root_of(d, name, CRDT_T_MAP, &t);
    if (e) {
        free(v.p);
        return e;
    }
    crdt__txn_begin(d, NULL, true);
    map_set_any(d, t, key, v);
    crdt__txn_end(d, update, changed);
    return CRDT_OK;
}

/* ---- map_set_tree: a JSON value as nested shared types ---- */

static bool in_flat(const char *const *flat, const char *k, size_t n)
{
    for (; flat && *flat; flat++)
        if (strlen(*flat) == n && memcmp(*flat, k, n) == 0)
            return true;
    return false;
}

/* Integrates v into parent (under psub for a map, after left for an
 * array): as a Y.Map / Y.Array built member by member unless plain, else
 * as one ContentAny. members_plain: an object's members are plain. */
static crdt_item *put_tree(crdt_doc *d, crdt_type *parent, crdt_item *left, const char *psub,
                           size_t pn, const crdt_any *v, bool plain, bool members_plain,
                           const char *const *flat, int depth)
{
    crdt_item *right = psub ? NULL : (left ? left->right : parent->start);
    bool shared = !plain && depth < CRDT_ANY_MAX_DEPTH &&
                  (v->kind == CRDT_ANY_OBJECT || v->kind == CRDT_ANY_ARRAY);
    if (!shared) {
        sb_buf b = SB_BUF_INIT;
        crdt_any_write(&b, v);
        crdt_item *it = new_item(d, parent, left, right, psub, pn, CRDT_C_ANY);
        it->c.list.v = sb_malloc(sizeof(crdt_bytes));
        crdt__bytes_set(&it->c.list.v[0], b.ptr, b.len);
        it->c.list.cap = 1;
        it->length = 1;
        sb_buf_free(&b);
        crdt__integrate(d, it, 0);
        return it;
    }
    bool is_map = v->kind == CRDT_ANY_OBJECT;
    crdt_item *it = new_item(d, parent, left, right, psub, pn, CRDT_C_TYPE);
    crdt_type *nt = crdt__type_new(is_map ? CRDT_T_MAP : CRDT_T_ARRAY);
    it->c.type = nt;
    it->length = 1;
    crdt__integrate(d, it, 0);
    if (is_map) {
        for (size_t i = 0; i < v->u.obj.len; i++) {
            const crdt_any_prop *pr = &v->u.obj.props[i];
            /* A repeated key overwrites, as Y.Map.set does. */
            crdt_map_entry *e = crdt__type_entry(nt, pr->key, pr->key_len, false);
            put_tree(d, nt, e ? e->item : NULL, pr->key, pr->key_len, &pr->value, members_plain,
                     in_flat(flat, pr->key, pr->key_len), flat, depth + 1);
        }
    } else {
        crdt_item *prev = NULL;
        for (size_t i = 0; i < v->u.arr.len; i++)
            prev =
                put_tree(d, nt, prev, NULL, 0, &v->u.arr.items[i], false, false, flat, depth + 1);
    }
    return it;
}

crdt_err crdt_map_set_tree(crdt_doc *d, sb_str name, sb_str key, sb_str json,
                           const char *const *flat, sb_buf *update, bool *changed)
{
    *changed = false;
    if (!sb_utf8_valid(key.ptr, key.len, NULL))
        return CRDT_E_UTF8;
    crdt_any a;
    if (!crdt__json_parse(json.ptr, json.len, &a))
        return CRDT_E_JSON;
    crdt_type *t;
    crdt_err e = crdt__root_of(d, name, CRDT_T_MAP, &t);
    if (e) {
        crdt_any_free(&a);
        return e;
    }
    crdt__txn_begin(d, NULL, true);
    crdt_map_entry *en = crdt__type_entry(t, key.ptr, key.len, false);
    put_tree(d, t, en ? en->item : NULL, key.ptr, key.len, &a, false,
             in_flat(flat, key.ptr, key.len), flat, 0);
    crdt__txn_end(d, update, changed);
    crdt_any_free(&a);
    return CRDT_OK;
}

crdt_err crdt_map_delete(crdt_doc *d, sb_str name, sb_str key, sb_buf *update, bool *changed)
{
    *changed = false;
    crdt_type *t;
    crdt_err e = crdt__root_of(d, name, CRDT_T_MAP, &t);
    if (e)
        return e;
    crdt_map_entry *en = crdt__type_entry(t, key.ptr, key.len, false);
    if (!en || !en->item || (en->item->flags & CRDT_F_DELETED))
        return CRDT_OK;
    crdt__txn_begin(d, NULL, true);
    crdt__delete(d, en->item);
    crdt__txn_end(d, update, changed);
    return CRDT_OK;
}

/* Inserts one item after the counted item ending at index (arrays, XML). */
static crdt_item *list_new_at(crdt_doc *d, crdt_type *t, uint64_t index, uint8_t ckind)
{
    uint64_t s;
    crdt_item *left = locate(d, t, index, false, &s);
    crdt_item *right = left ? left->right : t->start;
    return new_item(d, t, left, right, NULL, 0, ckind);
}

crdt_err crdt_array_insert(crdt_doc *d, sb_str name, uint64_t index, sb_str json_array,
                           sb_buf *update, bool *changed)
{
    *changed = false;
    crdt_any arr;
    if (!crdt__json_parse(json_array.ptr, json_array.len, &arr))
        return CRDT_E_JSON;
    if (arr.kind != CRDT_ANY_ARRAY) {
        crdt_any_free(&arr);
        return CRDT_E_JSON;
    }
    size_t n = arr.u.arr.len;
    crdt_bytes *vals = sb_calloc(n ? n : 1, sizeof(crdt_bytes));
    for (size_t i = 0; i < n; i++)
        any_bytes(&arr.u.arr.items[i], &vals[i]);
    crdt_any_free(&arr);
    crdt_type *t;
    crdt_err e = crdt__root_of(d, name, CRDT_T_ARRAY, &t);
    if (!e && index > t->length)
        e = CRDT_E_RANGE;
    if (e || n == 0) {
        for (size_t k = 0; k < n; k++)
            free(vals[k].p);
        free(vals);
        return e;
    }
    crdt__txn_begin(d, NULL, true);
    crdt_item *it = list_new_at(d, t, index, CRDT_C_ANY);
    it->c.list.v = vals;
    it->c.list.cap = n;
    it->length = n;
    crdt__integrate(d, it, 0);
    t->marker_p = it;
    t->marker_i = index;
    crdt__txn_end(d, update, changed);
    return CRDT_OK;
}

crdt_err crdt_array_delete(crdt_doc *d, sb_str name, uint64_t index, uint64_t len, sb_buf *update,
                           bool *changed)
{
    return delete_range(d, name, CRDT_T_ARRAY, index, len, update, changed);
}

/* getXmlFragment(name).insert(index, [new type]): an XmlElement named tag,
 * or an XmlText holding text (its prelim content is inserted once the type
 * is integrated, in the same transaction, as YText._integrate does). */
static crdt_err xml_insert(crdt_doc *d, sb_str name, uint64_t index, uint8_t kind, sb_str s,
                           sb_buf *update, bool *changed)
{
    *changed = false;
    if (!sb_utf8_valid(s.ptr, s.len, NULL))
        return CRDT_E_UTF8;
    crdt_type *t;
    crdt_err e = crdt__root_of(d, name, CRDT_T_XML_FRAGMENT, &t);
    if (!e && index > t->length)
        e = CRDT_E_RANGE;
    if (e)
        return e;
    crdt__txn_begin(d, NULL, true);
    crdt_item *it = list_new_at(d, t, index, CRDT_C_TYPE);
    crdt_type *nt = crdt__type_new(kind);
    it->c.type = nt;
    it->length = 1;
    if (kind == CRDT_T_XML_ELEMENT)
        crdt__bytes_set(&nt->name, s.ptr, s.len);
    crdt__integrate(d, it, 0);
    if (kind == CRDT_T_XML_TEXT && s.len)
        text_insert_at(d, nt, 0, s);
    crdt__txn_end(d, update, changed);
    return CRDT_OK;
}

crdt_err crdt_xml_insert_element(crdt_doc *d, sb_str name, uint64_t index, sb_str tag,
                                 sb_buf *update, bool *changed)
{
    return xml_insert(d, name, index, CRDT_T_XML_ELEMENT, tag, update, changed);
}

crdt_err crdt_xml_insert_text(crdt_doc *d, sb_str name, uint64_t index, sb_str utf8, sb_buf *update,
                              bool *changed)
{
    return xml_insert(d, name, index, CRDT_T_XML_TEXT, utf8, update, changed);
}

crdt_err crdt_xml_set_attr(crdt_doc *d, sb_str name, uint64_t index, sb_str attr, sb_str value,
                           sb_buf *update, bool *changed)
{
    *changed = false;
    if (!sb_utf8_valid(attr.ptr, attr.len, NULL) || !sb_utf8_valid(value.ptr, value.len, NULL))
        return CRDT_E_UTF8;
    crdt_type *t;
    crdt_err e = crdt__root_of(d, name, CRDT_T_XML_FRAGMENT, &t);
    if (e)
        return e;
    if (index >= t->length)
        return CRDT_E_RANGE;
    /* the element at index: typeListGet */
    crdt_item *found = NULL;
    uint64_t i = index;
    for (crdt_item *it = t->start; it; it = it->right) {
        if (!list_counted(it))
            continue;
        if (i < it->length) {
            found = it;
            break;
        }
        i -= it->length;
    }
    if (!found || found->ckind != CRDT_C_TYPE || found->c.type->kind != CRDT_T_XML_ELEMENT)
        return CRDT_E_KIND;
    crdt_any v = crdt_any_string(value.ptr, value.len);
    crdt_bytes vb;
    any_bytes(&v, &vb);
    crdt__txn_begin(d, NULL, true);
    map_set_any(d, found->c.type, attr, vb);
    crdt__txn_end(d, update, changed);
    return CRDT_OK;
}
