/*
 * txn.c: transactions (Yjs Transaction.js): the state before, what was
 * deleted, which split items may merge again; and the cleanup at the end:
 * garbage collection of deleted content (when the doc has gc on), merging
 * of neighbours as Yjs does it (so runs, and thus encodings, match Yjs),
 * and the v1 update of the transaction.
 */
#include <stdlib.h>

#include "crdt/crdt_int.h"
#include "crdt/lib0.h"
#include "crdt/update_coder.h"

void crdt__txn_begin(crdt_doc *d, crdt_txn *t, bool local)
{
    /* the vectors are the doc's, reused, so a keystroke allocates nothing */
    (void)t;
    t = &d->scratch;
    t->local = local;
    t->before.len = t->ds.len = t->merge.len = t->changed.len = 0;
    for (size_t i = 0; i < d->clients.len; i++) {
        crdt_client *c = &d->clients.items[i];
        if (c->len)
            sb_vec_push(&t->before, ((crdt_id){c->client, crdt__state(d, c->client)}));
    }
    d->txn = t;
}

static uint64_t before_of(const crdt_txn *t, uint64_t client)
{
    for (size_t i = 0; i < t->before.len; i++)
        if (t->before.items[i].client == client)
            return t->before.items[i].clock;
    return 0;
}

static void gc_ds(crdt_doc *d, const crdt_ranges *ds)
{
    for (size_t k = ds->len; k-- > 0;) {
        crdt_range r = ds->items[k];
        crdt_client *c = crdt__client_get(d, r.client);
        uint64_t end = r.clock + r.len;
        for (size_t si = crdt__find_index(c, r.clock); si < c->len; si++) {
            crdt_item *s = c->s[si];
            if (s->id.clock >= end)
                break;
            if (s->kind == CRDT_STRUCT_ITEM && (s->flags & CRDT_F_DELETED) &&
                !(s->flags & CRDT_F_KEEP))
                crdt__gc_item(d, s, false);
        }
    }
}

static void merge_ds(crdt_doc *d, const crdt_ranges *ds)
{
    for (size_t k = ds->len; k-- > 0;) {
        crdt_range r = ds->items[k];
        crdt_client *c = crdt__client_get(d, r.client);
        ptrdiff_t si = (ptrdiff_t)crdt__find_index(c, r.clock + r.len - 1) + 1;
        if (si > (ptrdiff_t)c->len - 1)
            si = (ptrdiff_t)c->len - 1;
        while (si > 0 && c->s[si]->id.clock >= r.clock)
            si -= 1 + (ptrdiff_t)crdt__merge_lefts(d, c, (size_t)si);
    }
}

/* The cleanup of transaction t (d->txn == t): gc, merges, the update. */
static void finish(crdt_doc *d, crdt_txn *t, sb_buf *out, bool *changed)
{
    /* before gc, which may free types listed here. A remote change drops
     * a text's search markers (AbstractType._callObserver), leaving the
     * items' marked bits as they are, as Yjs does. */
    for (size_t i = 0; i < t->changed.len; i++) {
        t->changed.items[i]->in_changed = false;
        if (!t->local && t->changed.items[i]->ym && !t->changed.items[i]->changed_new)
            t->changed.items[i]->ym->n = 0;
    }
    t->changed.len = 0;
    if (d->gc)
        gc_ds(d, &t->ds);
    merge_ds(d, &t->ds);
    bool grew = false;
    for (size_t i = 0; i < d->clients.len; i++) {
        crdt_client *c = &d->clients.items[i];
        if (!c->len)
            continue;
        uint64_t before = before_of(t, c->client);
        if (before == crdt__state(d, c->client))
            continue;
        grew = true;
        size_t first = before ? crdt__find_index(c, before) : 0;
        if (first < 1)
            first = 1;
        for (ptrdiff_t k = (ptrdiff_t)c->len - 1; k >= (ptrdiff_t)first;)
            k -= 1 + (ptrdiff_t)crdt__merge_lefts(d, c, (size_t)k);
    }
    for (size_t i = t->merge.len; i-- > 0;) {
        crdt_id id = t->merge.items[i];
        crdt_client *c = crdt__client_get(d, id.client);
        size_t pos = crdt__find_index(c, id.clock);
        if (pos + 1 < c->len && crdt__merge_lefts(d, c, pos + 1) > 1)
            continue;
        if (pos > 0)
            crdt__merge_lefts(d, c, pos);
    }
    if (changed)
        *changed = false;
    if (out && (grew || t->ds.len)) {
        crdt_upd_enc e;
        crdt_upd_enc_init(&e, false);
        crdt__write_structs(d, &e, t->before.items, t->before.len);
        crdt__write_ds(&e, &t->ds);
        crdt_upd_enc_finish(&e, out);
        crdt_upd_enc_deinit(&e);
        *changed = true;
    }
}

void crdt__txn_end(crdt_doc *d, sb_buf *out, bool *changed)
{
    crdt_txn *t = d->txn;
    crdt__ranges_sort_merge(&t->ds);
    /* Yjs runs the formatting cleanup of a remote transaction in a new
     * transaction from its observers, before the first one's gc; that
     * one's cleanup follows (its update is not kept: every replica makes
     * the same deletions itself). */
    crdt_txn second = {.local = true};
    bool nested = false;
    if (!t->local && t->changed.len) {
        for (size_t i = 0; i < d->clients.len; i++) {
            crdt_client *c = &d->clients.items[i];
            if (c->len)
                sb_vec_push(&second.before, ((crdt_id){c->client, crdt__state(d, c->client)}));
        }
        crdt__format_cleanup(d, t, &second);
        nested = true;
    }
    finish(d, t, out, changed);
    t->before.len = t->ds.len = t->merge.len = t->changed.len = 0;
    if (nested) {
        d->txn = &second;
        crdt__ranges_sort_merge(&second.ds);
        finish(d, &second, NULL, NULL);
        sb_vec_free(&second.before);
        sb_vec_free(&second.ds);
        sb_vec_free(&second.merge);
        sb_vec_free(&second.changed);
    }
    d->txn = NULL;
}
