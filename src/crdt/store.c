/*
 * store.c: the struct store (Yjs StructStore): per client a clock-ordered
 * array of structs without gaps, found by binary search; splitting at a
 * clock; the item pool; delete-set ranges.
 *
 * Items come from a pool of fixed-size chunks with a free list, so an edit
 * never calls malloc for its item. Clients are indexed by an open-addressing
 * table (client -> position in d->clients), which keeps insertion order for
 * iteration as Yjs's Map does.
 */
#include <stdlib.h>
#include <string.h>

#include "crdt/crdt_int.h"

#define POOL_CHUNK 256

struct crdt_pool_chunk {
    crdt_pool_chunk *next;
    crdt_item items[POOL_CHUNK];
};

crdt_item *crdt__item_alloc(crdt_doc *d)
{
    if (!d->free_items) {
        crdt_pool_chunk *c = sb_malloc(sizeof(*c));
        c->next = d->chunks;
        d->chunks = c;
        for (size_t i = 0; i < POOL_CHUNK; i++) {
            c->items[i].right = d->free_items;
            d->free_items = &c->items[i];
        }
    }
    crdt_item *it = d->free_items;
    d->free_items = it->right;
    memset(it, 0, sizeof(*it));
    return it;
}

void crdt__item_release(crdt_doc *d, crdt_item *it)
{
    it->kind = 0xff; /* poison: a released item must never be reached */
    it->right = d->free_items;
    d->free_items = it;
}

static inline size_t cidx_hash(uint64_t c, size_t cap)
{
    c ^= c >> 33;
    c *= 0xff51afd7ed558ccdULL;
    c ^= c >> 33;
    return (size_t)c & (cap - 1);
}

crdt_client *crdt__client_get(crdt_doc *d, uint64_t client)
{
    if (!d->cidx_cap)
        return NULL;
    for (size_t i = cidx_hash(client, d->cidx_cap);; i = (i + 1) & (d->cidx_cap - 1)) {
        if (!d->cidx_vals[i])
            return NULL;
        if (d->cidx_keys[i] == client)
            return &d->clients.items[d->cidx_vals[i] - 1];
    }
}

static void cidx_put(crdt_doc *d, uint64_t client, uint32_t v)
{
    size_t i = cidx_hash(client, d->cidx_cap);
    while (d->cidx_vals[i])
        i = (i + 1) & (d->cidx_cap - 1);
    d->cidx_keys[i] = client;
    d->cidx_vals[i] = v;
}

crdt_client *crdt__client_make(crdt_doc *d, uint64_t client)
{
    crdt_client *c = crdt__client_get(d, client);
    if (c)
        return c;
    if ((d->clients.len + 1) * 2 > d->cidx_cap) {
        size_t ncap = d->cidx_cap ? d->cidx_cap * 2 : 16;
        free(d->cidx_keys);
        free(d->cidx_vals);
        d->cidx_keys = sb_calloc(ncap, sizeof(uint64_t));
        d->cidx_vals = sb_calloc(ncap, sizeof(uint32_t));
        d->cidx_cap = ncap;
        for (size_t i = 0; i < d->clients.len; i++)
            cidx_put(d, d->clients.items[i].client, (uint32_t)i + 1);
    }
    sb_vec_push(&d->clients, ((crdt_client){.client = client}));
    cidx_put(d, client, (uint32_t)d->clients.len);
    return &d->clients.items[d->clients.len - 1];
}

uint64_t crdt__state(crdt_doc *d, uint64_t client)
{
    crdt_client *c = crdt__client_get(d, client);
    if (!c || !c->len)
        return 0;
    crdt_item *last = c->s[c->len - 1];
    return last->id.clock + last->length;
}

/* Yjs's findIndexSS: guess the position from the clock, then bisect. The
 * structs cover the client's clocks without gaps, so the one holding clock
 * is the last that starts at or before it. */
size_t crdt__find_index(const crdt_client *c, uint64_t clock)
{
    const uint64_t *ck = c->ck;
    size_t n = c->len;
    /* the common case while a client's structs arrive in order: an origin
     * in the struct just added (clock is below the state, by contract) */
    if (ck[n - 1] <= clock) {
        if (clock >= ck[n - 1] + c->s[n - 1]->length)
            sb_die("crdt: clock %llu not in store", (unsigned long long)clock);
        return n - 1;
    }
    size_t end = (size_t)ck[n - 1]; /* ck[0] is 0: structs start at clock 0 */
    size_t lo = 0, hi = n - 1;      /* ck[lo] <= clock < ck[hi] */
    size_t m = end ? (size_t)((double)clock / (double)end * (double)(n - 1)) : 0;
    if (m > lo && m < hi) {
        if (ck[m] <= clock)
            lo = m;
        else
            hi = m;
    }
    if (ck[lo] > clock)
        sb_die("crdt: clock %llu not in store", (unsigned long long)clock);
    while (hi - lo > 1) {
        m = lo + (hi - lo) / 2;
        if (ck[m] <= clock)
            lo = m;
        else
            hi = m;
    }
    return lo;
}

crdt_item *crdt__find(crdt_doc *d, crdt_id id)
{
    crdt_client *c = crdt__client_get(d, id.client);
    return c->s[crdt__find_index(c, id.clock)];
}

void crdt__client_insert(crdt_client *c, size_t pos, crdt_item *it)
{
    if (c->len == c->cap) {
        c->cap = c->cap ? c->cap * 2 : 8;
        c->s = sb_realloc(c->s, c->cap * sizeof(*c->s));
        c->ck = sb_realloc(c->ck, c->cap * sizeof(*c->ck));
    }
    memmove(c->s + pos + 1, c->s + pos, (c->len - pos) * sizeof(*c->s));
    memmove(c->ck + pos + 1, c->ck + pos, (c->len - pos) * sizeof(*c->ck));
    c->s[pos] = it;
    c->ck[pos] = it->id.clock;
    c->len++;
}

void crdt__add_struct(crdt_doc *d, crdt_item *it)
{
    crdt_client *c = crdt__client_make(d, it->id.client);
    crdt__client_insert(c, c->len, it);
}

crdt_item *crdt__clean_start(crdt_doc *d, crdt_id id)
{
    crdt_client *c = crdt__client_get(d, id.client);
    size_t i = crdt__find_index(c, id.clock);
    crdt_item *s = c->s[i];
    if (s->id.clock < id.clock && s->kind == CRDT_STRUCT_ITEM) {
        crdt_item *r = crdt__split(d, s, id.clock - s->id.clock);
        crdt__client_insert(c, i + 1, r);
        return r;
    }
    return s;
}

crdt_item *crdt__clean_end(crdt_doc *d, crdt_id id)
{
    crdt_client *c = crdt__client_get(d, id.client);
    size_t i = crdt__find_index(c, id.clock);
    crdt_item *s = c->s[i];
    if (id.clock != s->id.clock + s->length - 1 && s->kind == CRDT_STRUCT_ITEM) {
        crdt_item *r = crdt__split(d, s, id.clock - s->id.clock + 1);
        crdt__client_insert(c, i + 1, r);
    }
    return s;
}

void crdt__ranges_add(crdt_ranges *r, uint64_t client, uint64_t clock, uint64_t len)
{
    sb_vec_push(r, ((crdt_range){client, clock, len}));
}

static int range_cmp(const void *a, const void *b)
{
    const crdt_range *x = a, *y = b;
    if (x->client != y->client)
        return x->client < y->client ? -1 : 1;
    if (x->clock != y->clock)
        return x->clock < y->clock ? -1 : 1;
    return 0;
}

/* Yjs's sortAndMergeDeleteSet: per client by clock, overlapping or touching
 * ranges joined. Clients end up ascending here; writers order them. */
void crdt__ranges_sort_merge(crdt_ranges *r)
{
    if (r->len < 2)
        return;
    /* ranges mostly come in order (a state's delete set, deletes of one
     * edit): sort only when they are not */
    size_t k = 1;
    while (k < r->len && range_cmp(&r->items[k - 1], &r->items[k]) <= 0)
        k++;
    if (k < r->len)
        qsort(r->items, r->len, sizeof(crdt_range), range_cmp);
    size_t j = 0;
    for (size_t i = 1; i < r->len; i++) {
        crdt_range *l = &r->items[j], *x = &r->items[i];
        if (l->client == x->client && l->clock + l->len >= x->clock) {
            uint64_t end = SB_MAX(l->clock + l->len, x->clock + x->len);
            l->len = end - l->clock;
        } else {
            r->items[++j] = *x;
        }
    }
    r->len = j + 1;
}
