/*
 * format.c: Yjs's cleanup of redundant formatting after a remote
 * transaction (YText.js cleanupYTextAfterTransaction): when a remote update
 * touched a text that has formatting, format items that no longer change
 * anything are deleted in a new local transaction, so every replica keeps
 * the same minimal set. Only a typed text (Text, XmlText, nested or a
 * declared root) changed by the transaction asks for the cleanup, as only
 * YText instances do in Yjs; but once asked, it covers every parent that
 * got a format or lost an item, whatever its type: Yjs's pass walks any
 * parent's items (a root no one has called a Text yet is a plain
 * AbstractType there, and is cleaned all the same).
 *
 * Attribute values compare as JavaScript's === does: primitives by value,
 * objects only when they are the same item's value.
 */
#include <string.h>

#include "crdt/crdt_int.h"

static bool is_text(const crdt_type *t)
{
    return t->kind == CRDT_T_TEXT || t->kind == CRDT_T_XML_TEXT;
}

void crdt__txn_changed(crdt_doc *d, crdt_type *t)
{
    if (!d->txn || t->in_changed || !is_text(t))
        return;
    t->in_changed = true;
    /* addChangedTypeToTransaction leaves out a type created in this
     * transaction or already deleted: Yjs calls no observer of it, so it
     * asks for no formatting cleanup (the first change decides for the
     * whole transaction, as it would in Yjs) */
    t->changed_new = false;
    if (t->item) {
        uint64_t before = 0;
        const crdt_ids *b = &d->txn->before;
        for (size_t i = 0; i < b->len; i++)
            if (b->items[i].client == t->item->id.client)
                before = b->items[i].clock;
        t->changed_new = t->item->id.clock >= before || (t->item->flags & CRDT_F_DELETED);
    }
    sb_vec_push(&d->txn->changed, t);
}

static const char NULL_JSON[] = "null";
const crdt_bytes crdt__null_json = {(char *)NULL_JSON, 4};
#define NULL_VAL crdt__null_json

bool crdt__js_eq(const crdt_bytes *a, const crdt_bytes *b)
{
    if (a->p == b->p)
        return true;
    bool obj = (a->n && (a->p[0] == '{' || a->p[0] == '[')) ||
               (b->n && (b->p[0] == '{' || b->p[0] == '['));
    return !obj && a->n == b->n && memcmp(a->p, b->p, a->n) == 0;
}

static fattr *fa_find(fattrs *a, const crdt_bytes *key)
{
    for (size_t i = 0; i < a->len; i++)
        if (a->items[i].key.n == key->n && memcmp(a->items[i].key.p, key->p, key->n) == 0)
            return &a->items[i];
    return NULL;
}

const crdt_bytes *crdt__fa_get(fattrs *a, const crdt_bytes *key)
{
    fattr *f = fa_find(a, key);
    return f ? f->val : &NULL_VAL;
}

void crdt__fa_delete(fattrs *a, const crdt_bytes *key)
{
    fattr *f = fa_find(a, key);
    if (f) {
        size_t i = (size_t)(f - a->items);
        memmove(a->items + i, a->items + i + 1, (a->len - i - 1) * sizeof(fattr));
        a->len--;
    }
}

/* Map.set: an existing key keeps its position. */
void crdt__fa_set(fattrs *a, const crdt_bytes *key, const crdt_bytes *val)
{
    fattr *f = fa_find(a, key);
    if (f)
        f->val = val;
    else
        sb_vec_push(a, ((fattr){*key, val}));
}

/* updateCurrentAttributes: null removes the key. */
void crdt__fa_update(fattrs *a, crdt_item *f)
{
    if (crdt__js_eq(&f->c.fmt.val, &NULL_VAL))
        crdt__fa_delete(a, &f->c.fmt.key);
    else
        crdt__fa_set(a, &f->c.fmt.key, &f->c.fmt.val);
}

static void fa_copy(fattrs *dst, const fattrs *src)
{
    dst->len = 0;
    for (size_t i = 0; i < src->len; i++)
        sb_vec_push(dst, src->items[i]);
}

static bool live_format(const crdt_item *it)
{
    return !(it->flags & CRDT_F_DELETED) && it->ckind == CRDT_C_FORMAT;
}

void crdt__cleanup_gap(crdt_doc *d, crdt_item *start, crdt_item *curr, fattrs *start_attrs,
                       fattrs *curr_attrs)
{
    crdt_item *end = start;
    SB_VEC(crdt_item *) end_formats = {0};
    while (end && (!crdt__countable(end) || (end->flags & CRDT_F_DELETED))) {
        if (live_format(end)) {
            size_t i = 0;
            for (; i < end_formats.len; i++) {
                crdt_bytes *k = &end_formats.items[i]->c.fmt.key;
                if (k->n == end->c.fmt.key.n && memcmp(k->p, end->c.fmt.key.p, k->n) == 0)
                    break;
            }
            if (i < end_formats.len)
                end_formats.items[i] = end;
            else
                sb_vec_push(&end_formats, end);
        }
        end = end->right;
    }
    bool reached = false;
    for (; start != end; start = start->right) {
        if (curr == start)
            reached = true;
        if (!live_format(start))
            continue;
        const crdt_bytes *key = &start->c.fmt.key, *val = &start->c.fmt.val;
        const crdt_bytes *sv = crdt__fa_get(start_attrs, key);
        crdt_item *ef = NULL;
        for (size_t i = 0; i < end_formats.len; i++) {
            crdt_bytes *k = &end_formats.items[i]->c.fmt.key;
            if (k->n == key->n && memcmp(k->p, key->p, k->n) == 0)
                ef = end_formats.items[i];
        }
        if (ef != start || crdt__js_eq(sv, val)) {
            crdt__delete(d, start);
            if (!reached && crdt__js_eq(crdt__fa_get(curr_attrs, key), val) &&
                !crdt__js_eq(sv, val)) {
                if (crdt__js_eq(sv, &NULL_VAL))
                    crdt__fa_delete(curr_attrs, key);
                else
                    crdt__fa_set(curr_attrs, key, sv);
            }
        }
        if (!reached && !(start->flags & CRDT_F_DELETED))
            crdt__fa_update(curr_attrs, start);
    }
    sb_vec_free(&end_formats);
}

/* cleanupYTextFormatting */
static void cleanup_text(crdt_doc *d, crdt_type *t)
{
    crdt_item *start = t->start;
    fattrs sa = {0}, ca = {0};
    for (crdt_item *end = t->start; end; end = end->right) {
        if (end->flags & CRDT_F_DELETED)
            continue;
        if (end->ckind == CRDT_C_FORMAT) {
            crdt__fa_update(&ca, end);
        } else {
            crdt__cleanup_gap(d, start, end, &sa, &ca);
            fa_copy(&sa, &ca);
            start = end;
        }
    }
    sb_vec_free(&sa);
    sb_vec_free(&ca);
}

/* cleanupContextlessFormattingGap */
static void cleanup_contextless(crdt_doc *d, crdt_item *it)
{
    while (it && it->right && ((it->right->flags & CRDT_F_DELETED) || !crdt__countable(it->right)))
        it = it->right;
    SB_VEC(crdt_bytes) keys = {0};
    for (; it && ((it->flags & CRDT_F_DELETED) || !crdt__countable(it)); it = it->left) {
        if (!live_format(it))
            continue;
        bool seen = false;
        for (size_t i = 0; i < keys.len; i++)
            seen |= keys.items[i].n == it->c.fmt.key.n &&
                    memcmp(keys.items[i].p, it->c.fmt.key.p, it->c.fmt.key.n) == 0;
        if (seen)
            crdt__delete(d, it);
        else
            sb_vec_push(&keys, it->c.fmt.key);
    }
    sb_vec_free(&keys);
}

static bool listed(crdt_type **v, size_t n, crdt_type *t)
{
    for (size_t i = 0; i < n; i++)
        if (v[i] == t)
            return true;
    return false;
}

/* Runs after a remote transaction `first` (still d->txn), before its gc:
 * the deletions go into `second`, a new local transaction. */
void crdt__format_cleanup(crdt_doc *d, crdt_txn *first, crdt_txn *second)
{
    bool need = false;
    for (size_t i = 0; i < first->changed.len; i++) {
        crdt_type *t = first->changed.items[i];
        if (t->has_formats && !t->changed_new && (!t->item || !(t->item->flags & CRDT_F_DELETED)))
            need = true;
    }
    if (!need)
        return;
    SB_VEC(crdt_type *) full = {0};
    /* formats inserted by this transaction make their text need a full pass */
    for (size_t ci = 0; ci < d->clients.len; ci++) {
        crdt_client *c = &d->clients.items[ci];
        uint64_t before = 0;
        for (size_t k = 0; k < first->before.len; k++)
            if (first->before.items[k].client == c->client)
                before = first->before.items[k].clock;
        if (!c->len || before >= crdt__state(d, c->client))
            continue;
        for (size_t si = crdt__find_index(c, before); si < c->len; si++) {
            crdt_item *it = c->s[si];
            if (it->kind == CRDT_STRUCT_ITEM && live_format(it) &&
                !listed(full.items, full.len, it->parent))
                sb_vec_push(&full, it->parent);
        }
    }
    d->txn = second;
    for (size_t r = 0; r < first->ds.len; r++) {
        crdt_range rg = first->ds.items[r];
        crdt_client *c = crdt__client_get(d, rg.client);
        for (size_t si = crdt__find_index(c, rg.clock); si < c->len; si++) {
            crdt_item *it = c->s[si];
            if (it->id.clock >= rg.clock + rg.len)
                break;
            if (it->kind != CRDT_STRUCT_ITEM || !it->parent->has_formats ||
                listed(full.items, full.len, it->parent))
                continue;
            if (it->ckind == CRDT_C_FORMAT)
                sb_vec_push(&full, it->parent);
            else
                cleanup_contextless(d, it);
        }
    }
    for (size_t i = 0; i < full.len; i++)
        cleanup_text(d, full.items[i]);
    d->txn = first;
    sb_vec_free(&full);
}
