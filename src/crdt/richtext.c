/*
 * richtext.c: text edits as Yjs's YText does them: insert (with or without
 * attributes), insertEmbed, delete and format (YText.js findPosition,
 * insertText, insertAttributes, insertNegatedAttributes,
 * minimizeAttributeChanges, formatText, deleteText).
 *
 * Positions are found from the start of the text, tracking the attributes
 * in force. Yjs finds plain inserts, embeds without attributes and deletes
 * from a search marker, but drops a text's markers for good once a format
 * item is integrated into it (ContentFormat.integrate), so in a text that
 * had formatting every lookup starts at the beginning, as here; in a text
 * without format items both ways give the same items, and edit.c keeps its
 * faster lookup; marker.c covers the case in between.
 *
 * Attribute values are JSON texts; a user's value never is the same object
 * as an item's, so they compare equal only as primitives or as flat
 * objects of equal primitives (Yjs's equalAttrs).
 */
#include <stdlib.h>
#include <string.h>

#include "base/utf8.h"
#include "crdt/any.h"
#include "crdt/crdt_int.h"

/* Newlines a format past the end may append (Yjs appends one per unit). */
#define FORMAT_PAD_MAX (1u << 20)

typedef struct uattr {
    crdt_bytes key; /* owned */
    crdt_bytes val; /* a format value (crdt__fval_*): may be an item's */
} uattr;
typedef SB_VEC(uattr) uattrs;

/* ItemTextListPosition */
typedef struct tpos {
    crdt_doc *d;
    crdt_type *t;
    crdt_item *left, *right;
    uint64_t index;
    fattrs cur;
} tpos;

static void fwd(tpos *p)
{
    crdt_item *r = p->right;
    if (!(r->flags & CRDT_F_DELETED)) {
        if (r->ckind == CRDT_C_FORMAT)
            crdt__fa_update(&p->cur, r);
        else
            p->index += r->length;
    }
    p->left = r;
    p->right = r->right;
}

/* findPosition: count units on from the start, or from a search marker
 * (with no attributes in force) when Yjs would take one (marker.c). */
static void find_pos(tpos *p, uint64_t index, bool use_marker)
{
    crdt_ymark *m = use_marker && p->t->ym_exact ? crdt__ymark_find(p->d, p->t, index) : NULL;
    p->left = m ? m->p->left : NULL;
    p->right = m ? m->p : p->t->start;
    p->index = m ? m->index : 0;
    uint64_t count = index - p->index;
    while (p->right && count > 0) {
        crdt_item *r = p->right;
        if (!(r->flags & CRDT_F_DELETED) && r->ckind != CRDT_C_FORMAT) {
            if (count < r->length)
                crdt__clean_start(p->d, (crdt_id){r->id.client, r->id.clock + count});
            count -= r->length;
        }
        fwd(p);
    }
}

static bool primitive(const crdt_bytes *v)
{
    return !(v->n && (v->p[0] == '{' || v->p[0] == '['));
}

/* equalAttrs: ===, or both objects with the same keys and === values. */
static bool equal_attrs(const crdt_bytes *a, const crdt_bytes *b)
{
    if (a == b)
        return true;
    if (!a || !b)
        return false;
    if (crdt__js_eq(a, b))
        return true;
    if (primitive(a) || primitive(b))
        return false;
    crdt_any x, y;
    if (!crdt__json_parse(a->p, a->n, &x))
        return false;
    if (!crdt__json_parse(b->p, b->n, &y)) {
        crdt_any_free(&x);
        return false;
    }
    bool eq = false;
    if (x.kind == CRDT_ANY_OBJECT && y.kind == CRDT_ANY_OBJECT && x.u.obj.len == y.u.obj.len) {
        eq = true;
        for (size_t i = 0; i < x.u.obj.len && eq; i++) {
            const crdt_any *xv = &x.u.obj.props[i].value;
            const crdt_any *yv =
                crdt_any_object_get(&y, x.u.obj.props[i].key, x.u.obj.props[i].key_len);
            eq = yv && xv->kind != CRDT_ANY_OBJECT && xv->kind != CRDT_ANY_ARRAY &&
                 crdt_any_equal(xv, yv);
        }
    } else if (x.kind == CRDT_ANY_ARRAY && y.kind == CRDT_ANY_ARRAY && x.u.arr.len == y.u.arr.len) {
        eq = true;
        for (size_t i = 0; i < x.u.arr.len && eq; i++) {
            const crdt_any *xv = &x.u.arr.items[i];
            eq = xv->kind != CRDT_ANY_OBJECT && xv->kind != CRDT_ANY_ARRAY &&
                 crdt_any_equal(xv, &y.u.arr.items[i]);
        }
    }
    crdt_any_free(&x);
    crdt_any_free(&y);
    return eq;
}

static const crdt_bytes *ua_get(uattrs *ua, const crdt_bytes *key)
{
    for (size_t i = 0; i < ua->len; i++)
        if (ua->items[i].key.n == key->n && memcmp(ua->items[i].key.p, key->p, key->n) == 0)
            return &ua->items[i].val;
    return NULL;
}

static const crdt_bytes *fa_lookup(fattrs *a, const crdt_bytes *key)
{
    for (size_t i = 0; i < a->len; i++)
        if (a->items[i].key.n == key->n && memcmp(a->items[i].key.p, key->p, key->n) == 0)
            return a->items[i].val;
    return NULL;
}

static crdt_item *new_at(tpos *p, uint8_t ckind)
{
    crdt_doc *d = p->d;
    crdt_item *it = crdt__item_alloc(d);
    it->kind = CRDT_STRUCT_ITEM;
    it->ckind = ckind;
    it->id = (crdt_id){d->client_id, crdt__state(d, d->client_id)};
    it->left = p->left;
    it->right = p->right;
    if (p->left) {
        it->origin = crdt__last_id(p->left);
        it->flags |= CRDT_F_HAS_ORIGIN;
    }
    if (p->right) {
        it->rorigin = p->right->id;
        it->flags |= CRDT_F_HAS_RORIGIN;
    }
    it->parent = p->t;
    it->length = 1;
    return it;
}

static void insert_format(tpos *p, const crdt_bytes *key, const crdt_bytes *val)
{
    crdt_item *it = new_at(p, CRDT_C_FORMAT);
    crdt__bytes_set(&it->c.fmt.key, key->p, key->n);
    it->c.fmt.val = val == &crdt__null_json ? crdt__fval_new("null", 4) : crdt__fval_ref(val);
    crdt__integrate(p->d, it, 0);
    p->right = it;
    fwd(p);
}

static void minimize(tpos *p, uattrs *ua)
{
    while (p->right) {
        crdt_item *r = p->right;
        if (!(r->flags & CRDT_F_DELETED)) {
            if (r->ckind != CRDT_C_FORMAT)
                break;
            const crdt_bytes *want = ua_get(ua, &r->c.fmt.key);
            if (!equal_attrs(want ? want : &crdt__null_json, &r->c.fmt.val))
                break;
        }
        fwd(p);
    }
}

static void insert_attributes(tpos *p, uattrs *ua, fattrs *negated)
{
    for (size_t i = 0; i < ua->len; i++) {
        const crdt_bytes *cur = crdt__fa_get(&p->cur, &ua->items[i].key);
        if (!equal_attrs(cur, &ua->items[i].val)) {
            crdt__fa_set(negated, &ua->items[i].key, cur);
            insert_format(p, &ua->items[i].key, &ua->items[i].val);
        }
    }
}

static void insert_negated(tpos *p, fattrs *negated)
{
    while (p->right) {
        crdt_item *r = p->right;
        if (!(r->flags & CRDT_F_DELETED)) {
            if (r->ckind != CRDT_C_FORMAT ||
                !equal_attrs(fa_lookup(negated, &r->c.fmt.key), &r->c.fmt.val))
                break;
            crdt__fa_delete(negated, &r->c.fmt.key);
        }
        fwd(p);
    }
    /* the keys may point into items; copy the pairs before inserting */
    fattrs todo = {0};
    for (size_t i = 0; i < negated->len; i++)
        sb_vec_push(&todo, negated->items[i]);
    for (size_t i = 0; i < todo.len; i++)
        insert_format(p, &todo.items[i].key, todo.items[i].val);
    sb_vec_free(&todo);
}

static void ua_free(uattrs *ua)
{
    for (size_t i = 0; i < ua->len; i++) {
        free(ua->items[i].key.p);
        crdt__fval_free(&ua->items[i].val);
    }
    sb_vec_free(ua);
}

/* Parses a JSON object of attributes, in JavaScript key order. */
static bool ua_parse(sb_str json, uattrs *ua)
{
    crdt_any o;
    if (!crdt__json_parse(json.ptr, json.len, &o))
        return false;
    if (o.kind != CRDT_ANY_OBJECT) {
        crdt_any_free(&o);
        return false;
    }
    for (size_t i = 0; i < o.u.obj.len; i++) {
        uattr a;
        crdt__bytes_set(&a.key, o.u.obj.props[i].key, o.u.obj.props[i].key_len);
        sb_buf b = SB_BUF_INIT;
        crdt_any_to_json(&o.u.obj.props[i].value, &b);
        a.val = crdt__fval_new(b.ptr, b.len);
        sb_buf_free(&b);
        sb_vec_push(ua, a);
    }
    crdt_any_free(&o);
    return true;
}

/* Parses the attributes and declares the text root. */
static crdt_err rich_begin(crdt_doc *d, sb_str name, sb_str attrs, uattrs *ua, crdt_type **t)
{
    if (!ua_parse(attrs, ua))
        return CRDT_E_JSON;
    return crdt__root_of(d, name, CRDT_T_TEXT, t);
}

/* insertText: content is a string or an embed; attributes in force that ua
 * does not name are negated. */
static void insert_text(tpos *p, uattrs *ua, uint8_t ckind, sb_str s)
{
    for (size_t i = 0; i < p->cur.len; i++) {
        if (!ua_get(ua, &p->cur.items[i].key)) {
            uattr a;
            crdt__bytes_set(&a.key, p->cur.items[i].key.p, p->cur.items[i].key.n);
            a.val = crdt__fval_new("null", 4);
            sb_vec_push(ua, a);
        }
    }
    minimize(p, ua);
    fattrs negated = {0};
    insert_attributes(p, ua, &negated);
    crdt_item *it = new_at(p, ckind);
    if (ckind == CRDT_C_STRING) {
        size_t n = sb_utf16_len(s.ptr, s.len);
        it->c.str.u = sb_malloc(n * sizeof(uint16_t));
        it->c.str.cap = n;
        it->length = crdt__utf8_to_utf16(s.ptr, s.len, it->c.str.u);
    } else {
        crdt__bytes_set(&it->c.bin, s.ptr, s.len);
    }
    if (p->t->ym_exact)
        crdt__ymark_changes(p->t, p->index, (int64_t)it->length);
    crdt__integrate(p->d, it, 0);
    p->right = it;
    fwd(p);
    insert_negated(p, &negated);
    sb_vec_free(&negated);
}

/* The attributes in force at p, as the attributes of an insert. */
static void ua_from_cur(uattrs *ua, const fattrs *cur)
{
    for (size_t i = 0; i < cur->len; i++) {
        uattr a;
        crdt__bytes_set(&a.key, cur->items[i].key.p, cur->items[i].key.n);
        a.val = crdt__fval_ref(cur->items[i].val);
        sb_vec_push(ua, a);
    }
}

/* YText.insert: with attributes ua, or (NULL) those in force where the
 * text lands. */
static void text_insert(crdt_doc *d, crdt_type *t, uint64_t index, sb_str utf8, uattrs *ua)
{
    tpos p = {.d = d, .t = t};
    uattrs own = {0};
    find_pos(&p, index, !ua);
    if (!ua) {
        ua_from_cur(&own, &p.cur);
        ua = &own;
    }
    insert_text(&p, ua, CRDT_C_STRING, utf8);
    sb_vec_free(&p.cur);
    ua_free(&own);
}

crdt_err crdt__text_insert_rich(crdt_doc *d, crdt_type *t, uint64_t index, sb_str utf8,
                                sb_str attrs)
{
    uattrs ua = {0};
    bool given = attrs.ptr && attrs.len;
    if (given && !ua_parse(attrs, &ua))
        return CRDT_E_JSON;
    text_insert(d, t, index, utf8, given ? &ua : NULL);
    ua_free(&ua);
    return CRDT_OK;
}

crdt_err crdt_text_embed(crdt_doc *d, sb_str name, uint64_t index, sb_str json, sb_buf *update,
                         bool *changed)
{
    *changed = false;
    crdt_bytes canon;
    if (!crdt__json_canon(json.ptr, json.len, &canon))
        return CRDT_E_JSON;
    crdt_type *t;
    crdt_err e = CRDT_OK;
    if (canon.n == 0 || canon.p[0] != '{') /* insertEmbed takes an object */
        e = CRDT_E_JSON;
    if (!e)
        e = crdt__root_of(d, name, CRDT_T_TEXT, &t);
    if (!e && index > t->length)
        e = CRDT_E_RANGE;
    if (e) {
        free(canon.p);
        return e;
    }
    crdt__txn_begin(d, NULL, true);
    tpos p = {.d = d, .t = t};
    uattrs ua = {0};
    find_pos(&p, index, true);
    insert_text(&p, &ua, CRDT_C_EMBED, sb_str_make(canon.p, canon.n));
    crdt__txn_end(d, update, changed);
    sb_vec_free(&p.cur);
    ua_free(&ua);
    free(canon.p);
    return CRDT_OK;
}

/* deleteText, in the current transaction */
void crdt__text_delete_rich(crdt_doc *d, crdt_type *t, uint64_t index, uint64_t len)
{
    tpos p = {.d = d, .t = t};
    find_pos(&p, index, true);
    fattrs start_attrs = {0};
    for (size_t i = 0; i < p.cur.len; i++)
        sb_vec_push(&start_attrs, p.cur.items[i]);
    crdt_item *start = p.right;
    uint64_t left = len;
    while (left > 0 && p.right) {
        crdt_item *r = p.right;
        if (!(r->flags & CRDT_F_DELETED) &&
            (r->ckind == CRDT_C_STRING || r->ckind == CRDT_C_EMBED || r->ckind == CRDT_C_TYPE)) {
            if (left < r->length)
                crdt__clean_start(d, (crdt_id){r->id.client, r->id.clock + left});
            left -= r->length;
            crdt__delete(d, r);
        }
        fwd(&p);
    }
    if (start)
        crdt__cleanup_gap(d, start, p.right, &start_attrs, &p.cur);
    if (t->ym_exact)
        crdt__ymark_changes(t, p.index, -(int64_t)(len - left));
    sb_vec_free(&start_attrs);
    sb_vec_free(&p.cur);
}

crdt_err crdt_text_format(crdt_doc *d, sb_str name, uint64_t index, uint64_t len, sb_str attrs,
                          sb_buf *update, bool *changed)
{
    *changed = false;
    uattrs ua = {0};
    crdt_type *t;
    crdt_err e = rich_begin(d, name, attrs, &ua, &t);
    /* Yjs appends a newline per unit a range passes the end by (Quill's
     * habit); bounded here */
    if (!e && index < t->length && len > t->length - index &&
        len - (t->length - index) > FORMAT_PAD_MAX)
        e = CRDT_E_LIMIT;
    if (e || len == 0) {
        ua_free(&ua);
        return e;
    }
    crdt__txn_begin(d, NULL, true);
    tpos p = {.d = d, .t = t};
    find_pos(&p, index, false);
    if (p.right) {
        minimize(&p, &ua);
        fattrs negated = {0};
        insert_attributes(&p, &ua, &negated);
        uint64_t length = len;
        while (p.right && (length > 0 || (negated.len > 0 && ((p.right->flags & CRDT_F_DELETED) ||
                                                              p.right->ckind == CRDT_C_FORMAT)))) {
            crdt_item *r = p.right;
            if (!(r->flags & CRDT_F_DELETED)) {
                if (r->ckind == CRDT_C_FORMAT) {
                    const crdt_bytes *want = ua_get(&ua, &r->c.fmt.key);
                    if (want) {
                        if (equal_attrs(want, &r->c.fmt.val)) {
                            crdt__fa_delete(&negated, &r->c.fmt.key);
                        } else {
                            if (length == 0)
                                break;
                            crdt__fa_set(&negated, &r->c.fmt.key, &r->c.fmt.val);
                        }
                        crdt__delete(d, r);
                    } else {
                        crdt__fa_set(&p.cur, &r->c.fmt.key, &r->c.fmt.val);
                    }
                } else {
                    if (length < r->length)
                        crdt__clean_start(d, (crdt_id){r->id.client, r->id.clock + length});
                    length = length > r->length ? length - r->length : 0;
                }
            }
            fwd(&p);
        }
        if (length > 0) { /* past the end: newlines, as Yjs */
            crdt_item *it = new_at(&p, CRDT_C_STRING);
            it->c.str.u = sb_malloc(length * sizeof(uint16_t));
            it->c.str.cap = length;
            for (uint64_t k = 0; k < length; k++)
                it->c.str.u[k] = '\n';
            it->length = length;
            crdt__integrate(d, it, 0);
            p.right = it;
            fwd(&p);
        }
        insert_negated(&p, &negated);
        sb_vec_free(&negated);
    }
    crdt__txn_end(d, update, changed);
    sb_vec_free(&p.cur);
    ua_free(&ua);
    return CRDT_OK;
}
