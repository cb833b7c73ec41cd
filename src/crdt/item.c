/*
 * item.c: integration of items (YATA, as Yjs's Item.integrate does it),
 * splitting, deletion, garbage collection and merging of neighbours.
 *
 * The conflict loop follows Yjs INTERNALS.md and Item.integrate exactly:
 * between the left origin and the right origin, an item goes after every
 * conflicting item with a lower client id or whose origin lies to the right
 * of ours, so every replica orders concurrent inserts the same way.
 * Every function here runs inside a transaction (d->txn).
 */
#include <stdlib.h>
#include <string.h>

#include "crdt/crdt_int.h"

/* A set of items with O(1) clear (generation stamps), for the conflict
 * loop's conflictingItems and itemsBeforeOrigin. */
typedef struct ptrset {
    crdt_item **k;
    uint32_t *g;
    size_t cap, used;
    uint32_t gen;
} ptrset;

static void ps_init(ptrset *s, crdt_item **kbuf, uint32_t *gbuf, size_t cap)
{
    s->k = kbuf;
    s->g = gbuf;
    s->cap = cap;
    s->used = 0;
    s->gen = 1;
    memset(kbuf, 0, cap * sizeof(*kbuf));
}

static size_t ps_hash(const crdt_item *p, size_t cap)
{
    uint64_t h = (uint64_t)(uintptr_t)p * 0x9E3779B97F4A7C15ULL;
    return (size_t)(h >> 20) & (cap - 1);
}

static void ps_grow(ptrset *s)
{
    size_t ncap = s->cap * 2;
    crdt_item **ok = s->k;
    uint32_t *og = s->g;
    size_t ocap = s->cap;
    bool heap = s->cap > 64;
    s->k = sb_calloc(ncap, sizeof(*s->k));
    s->g = sb_calloc(ncap, sizeof(*s->g));
    s->cap = ncap;
    s->used = 0;
    for (size_t i = 0; i < ocap; i++) {
        if (ok[i] && og[i] == s->gen) {
            size_t j = ps_hash(ok[i], ncap);
            while (s->k[j])
                j = (j + 1) & (ncap - 1);
            s->k[j] = ok[i];
            s->g[j] = s->gen;
            s->used++;
        }
    }
    if (heap) {
        free(ok);
        free(og);
    }
}

static bool ps_has(const ptrset *s, const crdt_item *p)
{
    for (size_t i = ps_hash(p, s->cap);; i = (i + 1) & (s->cap - 1)) {
        if (!s->k[i])
            return false;
        if (s->k[i] == p)
            return s->g[i] == s->gen;
    }
}

static void ps_add(ptrset *s, crdt_item *p)
{
    if ((s->used + 1) * 2 > s->cap)
        ps_grow(s);
    size_t i = ps_hash(p, s->cap);
    for (;; i = (i + 1) & (s->cap - 1)) {
        if (!s->k[i]) {
            s->used++;
            break;
        }
        if (s->k[i] == p)
            break;
    }
    s->k[i] = p;
    s->g[i] = s->gen;
}

static void ps_clear(ptrset *s)
{
    s->gen++;
}

static void ps_free(ptrset *s)
{
    if (s->cap > 64) {
        free(s->k);
        free(s->g);
    }
}

crdt_item *crdt__split(crdt_doc *d, crdt_item *left, uint64_t diff)
{
    crdt_item *r = crdt__item_alloc(d);
    r->kind = CRDT_STRUCT_ITEM;
    r->id = (crdt_id){left->id.client, left->id.clock + diff};
    r->length = left->length - diff;
    r->left = left;
    r->origin = (crdt_id){left->id.client, left->id.clock + diff - 1};
    r->right = left->right;
    r->rorigin = left->rorigin;
    r->flags = (uint8_t)(CRDT_F_HAS_ORIGIN |
                         (left->flags & (CRDT_F_HAS_RORIGIN | CRDT_F_DELETED | CRDT_F_KEEP)));
    r->parent = left->parent;
    r->parent_sub = left->parent_sub;
    r->parent_sub_len = left->parent_sub_len;
    crdt__content_split(left, r, diff);
    left->right = r;
    if (r->right)
        r->right->left = r;
    sb_vec_push(&d->txn->merge, r->id);
    if (r->parent_sub && !r->right) {
        crdt_map_entry *e = crdt__type_entry(r->parent, r->parent_sub, r->parent_sub_len, false);
        e->item = r;
    }
    left->length = diff;
    return r;
}

static bool opt_id_eq(bool ha, crdt_id a, bool hb, crdt_id b)
{
    return ha == hb && (!ha || crdt__id_eq(a, b));
}

/* Drops the first off units of content (Yjs: content = content.splice(off)). */
static void content_drop_front(crdt_doc *d, crdt_item *it, uint64_t off)
{
    uint64_t rn = it->length - off;
    switch (it->ckind) {
    case CRDT_C_STRING: {
        uint16_t *u = it->c.str.u;
        bool pair = u[off - 1] >= 0xD800 && u[off - 1] <= 0xDBFF;
        memmove(u, u + off, rn * sizeof(uint16_t));
        if (pair)
            u[0] = 0xFFFD;
        break;
    }
    case CRDT_C_JSON:
    case CRDT_C_ANY:
        for (uint64_t i = 0; i < off; i++)
            free(it->c.list.v[i].p);
        memmove(it->c.list.v, it->c.list.v + off, rn * sizeof(crdt_bytes));
        break;
    case CRDT_C_DELETED:
        break;
    default:
        sb_die("crdt: offset integrate of content %d", it->ckind);
    }
    (void)d;
}

static crdt_item *first_of_key(crdt_type *p, const crdt_item *it)
{
    crdt_map_entry *e = crdt__type_entry(p, it->parent_sub, it->parent_sub_len, false);
    crdt_item *o = e ? e->item : NULL;
    while (o && o->left)
        o = o->left;
    return o;
}

void crdt__integrate(crdt_doc *d, crdt_item *it, uint64_t offset)
{
    if (it->kind == CRDT_STRUCT_GC) {
        if (offset) {
            it->id.clock += offset;
            it->length -= offset;
        }
        crdt__add_struct(d, it);
        return;
    }
    if (offset) {
        it->id.clock += offset;
        it->left = crdt__clean_end(d, (crdt_id){it->id.client, it->id.clock - 1});
        it->origin = crdt__last_id(it->left);
        it->flags |= CRDT_F_HAS_ORIGIN;
        content_drop_front(d, it, offset);
        it->length -= offset;
    }
    crdt_type *parent = it->parent;
    crdt_item *left = it->left;
    if ((!left && (!it->right || it->right->left)) || (left && left->right != it->right)) {
        crdt_item *o;
        if (left)
            o = left->right;
        else if (it->parent_sub)
            o = first_of_key(parent, it);
        else
            o = parent->start;
        crdt_item *kb1[64], *kb2[64];
        uint32_t gb1[64], gb2[64];
        ptrset before, conflicting;
        ps_init(&before, kb1, gb1, 64);
        ps_init(&conflicting, kb2, gb2, 64);
        bool ho = it->flags & CRDT_F_HAS_ORIGIN, hr = it->flags & CRDT_F_HAS_RORIGIN;
        while (o && o != it->right) {
            ps_add(&before, o);
            ps_add(&conflicting, o);
            bool oho = o->flags & CRDT_F_HAS_ORIGIN;
            if (opt_id_eq(ho, it->origin, oho, o->origin)) {
                if (o->id.client < it->id.client) {
                    left = o;
                    ps_clear(&conflicting);
                } else if (opt_id_eq(hr, it->rorigin, o->flags & CRDT_F_HAS_RORIGIN, o->rorigin)) {
                    break;
                }
            } else if (oho && ps_has(&before, crdt__find(d, o->origin))) {
                if (!ps_has(&conflicting, crdt__find(d, o->origin))) {
                    left = o;
                    ps_clear(&conflicting);
                }
            } else {
                break;
            }
            o = o->right;
        }
        ps_free(&before);
        ps_free(&conflicting);
        it->left = left;
    }
    crdt_map_entry *entry = NULL;
    if (it->parent_sub)
        entry = crdt__type_entry(parent, it->parent_sub, it->parent_sub_len, true);
    if (it->left) {
        it->right = it->left->right;
        it->left->right = it;
    } else {
        crdt_item *r;
        if (entry) {
            r = entry->item;
            while (r && r->left)
                r = r->left;
        } else {
            r = parent->start;
            parent->start = it;
        }
        it->right = r;
    }
    if (it->right) {
        it->right->left = it;
    } else if (entry) {
        entry->item = it;
        if (it->left)
            crdt__delete(d, it->left);
    }
    if (it->ckind == CRDT_C_FORMAT) {
        parent->has_formats = true;
        if (parent->ym_exact)
            crdt__ymark_drop(parent);
    }
    crdt__txn_changed(d, parent);
    if (!it->parent_sub) {
        parent->marker_p = NULL;
        if (crdt__countable(it) && !(it->flags & CRDT_F_DELETED))
            parent->length += it->length;
    }
    crdt__add_struct(d, it);
    if (it->ckind == CRDT_C_DELETED && !(it->flags & CRDT_F_DELETED)) {
        /* ContentDeleted.integrate: the item arrives deleted */
        crdt__ranges_add(&d->txn->ds, it->id.client, it->id.clock, it->length);
        it->flags |= CRDT_F_DELETED;
    }
    if (it->ckind == CRDT_C_TYPE) {
        it->c.type->item = it;
        it->c.type->depth = (uint16_t)(parent->depth + 1);
    }
    if ((parent->item && (parent->item->flags & CRDT_F_DELETED)) || (it->parent_sub && it->right))
        crdt__delete(d, it);
}

/* Deletes a child of a deleted type (Yjs ContentType.delete); one already
 * deleted before this transaction may merge at its end, so it is noted. */
static void delete_child(crdt_doc *d, crdt_item *c)
{
    if (!(c->flags & CRDT_F_DELETED)) {
        crdt__delete(d, c);
        return;
    }
    crdt_txn *tx = d->txn;
    for (size_t i = 0; i < tx->before.len; i++) {
        if (tx->before.items[i].client == c->id.client) {
            if (c->id.clock < tx->before.items[i].clock)
                sb_vec_push(&tx->merge, c->id);
            break;
        }
    }
}

/* Marks one item deleted (Item.delete without the descent into types). */
static void mark_deleted(crdt_doc *d, crdt_item *it)
{
    crdt_type *p = it->parent;
    crdt__txn_changed(d, p);
    if (!it->parent_sub) {
        p->marker_p = NULL;
        if (crdt__countable(it))
            p->length -= it->length;
    }
    it->flags |= CRDT_F_DELETED;
    crdt__ranges_add(&d->txn->ds, it->id.client, it->id.clock, it->length);
}

/* Item.delete, whose ContentType.delete deletes the type's children, depth
 * first in list order then map entries. Nesting comes from input, so the
 * descent keeps its own stack instead of recursing. */
typedef struct dframe {
    crdt_type *t;
    crdt_item *next;
    size_t entry;
} dframe;

void crdt__delete(crdt_doc *d, crdt_item *it)
{
    if (it->flags & CRDT_F_DELETED)
        return;
    mark_deleted(d, it);
    if (it->ckind != CRDT_C_TYPE)
        return;
    SB_VEC(dframe) st = {0};
    sb_vec_push(&st, ((dframe){it->c.type, it->c.type->start, 0}));
    while (st.len) {
        dframe *f = &st.items[st.len - 1];
        crdt_item *c;
        if (f->next) {
            c = f->next;
            f->next = c->right;
        } else if (f->entry < f->t->entries.len) {
            c = f->t->entries.items[f->entry++].item;
            if (!c)
                continue;
        } else {
            st.len--;
            continue;
        }
        if (c->flags & CRDT_F_DELETED) {
            delete_child(d, c); /* notes it for merging */
            continue;
        }
        mark_deleted(d, c);
        if (c->ckind == CRDT_C_TYPE)
            sb_vec_push(&st, ((dframe){c->c.type, c->c.type->start, 0}));
    }
    sb_vec_free(&st);
}

/* Replaces the item in the store by a GC struct of the same range. */
static void replace_with_gc(crdt_doc *d, crdt_item *it)
{
    crdt_client *c = crdt__client_get(d, it->id.client);
    size_t i = crdt__find_index(c, it->id.clock);
    crdt_item *g = crdt__item_alloc(d);
    g->kind = CRDT_STRUCT_GC;
    g->id = it->id;
    g->length = it->length;
    c->s[i] = g;
    crdt__content_free(d, it);
    crdt__item_release(d, it);
}

/* Item.gc: the children of a collected type become GC structs first
 * (with an explicit stack: nesting comes from input). */
typedef struct gframe {
    crdt_item *it;
    bool parent_gcd;
    bool expanded;
} gframe;

void crdt__gc_item(crdt_doc *d, crdt_item *it, bool parent_gcd)
{
    SB_VEC(gframe) st = {0};
    sb_vec_push(&st, ((gframe){it, parent_gcd, false}));
    while (st.len) {
        gframe *f = &st.items[st.len - 1];
        crdt_item *x = f->it;
        if (x->ckind == CRDT_C_TYPE && !f->expanded) {
            f->expanded = true;
            crdt_type *t = x->c.type;
            for (crdt_item *c = t->start; c; c = c->right)
                sb_vec_push(&st, ((gframe){c, true, false}));
            t->start = NULL;
            for (size_t k = 0; k < t->entries.len; k++) {
                for (crdt_item *c = t->entries.items[k].item; c; c = c->left)
                    sb_vec_push(&st, ((gframe){c, true, false}));
                t->entries.items[k].item = NULL;
            }
            continue;
        }
        bool gcd = f->parent_gcd;
        st.len--;
        if (gcd) {
            replace_with_gc(d, x);
        } else {
            crdt__content_free(d, x);
            x->ckind = CRDT_C_DELETED;
        }
    }
    sb_vec_free(&st);
}

static bool item_merge(crdt_doc *d, crdt_item *l, crdt_item *r)
{
    if (l->kind == CRDT_STRUCT_GC) {
        l->length += r->length;
        return true;
    }
    if (!(r->flags & CRDT_F_HAS_ORIGIN) || !crdt__id_eq(r->origin, crdt__last_id(l)) ||
        l->right != r ||
        !opt_id_eq(l->flags & CRDT_F_HAS_RORIGIN, l->rorigin, r->flags & CRDT_F_HAS_RORIGIN,
                   r->rorigin) ||
        l->id.client != r->id.client || l->id.clock + l->length != r->id.clock ||
        l->ckind != r->ckind || !crdt__content_mergeable(l->ckind))
        return false;
    crdt_type *p = l->parent;
    if (p->marker_p == r) {
        p->marker_p = l;
        if (!(l->flags & CRDT_F_DELETED) && crdt__countable(l))
            p->marker_i -= l->length;
    }
    crdt__ymark_merged(p, l, r);
    crdt__content_merge(l, r);
    if (r->flags & CRDT_F_KEEP)
        l->flags |= CRDT_F_KEEP;
    l->right = r->right;
    if (l->right)
        l->right->left = l;
    l->length += r->length;
    if (r->parent_sub) {
        crdt_map_entry *e = crdt__type_entry(p, r->parent_sub, r->parent_sub_len, false);
        if (e && e->item == r)
            e->item = l;
    }
    return true;
}

size_t crdt__merge_lefts(crdt_doc *d, crdt_client *c, size_t pos)
{
    size_t i = pos;
    while (i > 0) {
        crdt_item *l = c->s[i - 1], *r = c->s[i];
        if (l->kind != r->kind || crdt__deleted(l) != crdt__deleted(r) || !item_merge(d, l, r))
            break;
        crdt__item_release(d, r);
        c->s[i] = NULL;
        i--;
    }
    size_t merged = pos - i;
    if (merged) {
        memmove(c->s + i + 1, c->s + pos + 1, (c->len - pos - 1) * sizeof(*c->s));
        memmove(c->ck + i + 1, c->ck + pos + 1, (c->len - pos - 1) * sizeof(*c->ck));
        c->len -= merged;
    }
    return merged;
}
