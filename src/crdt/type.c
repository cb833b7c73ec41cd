/*
 * type.c: shared types (Yjs's AbstractType and its subclasses share one
 * layout here): the list of items, the map of keys in insertion order (as a
 * JS Map iterates), and the document's root types.
 *
 * A type never owns items: the struct store does. Map keys are owned by the
 * type's entries, and items of a key point at that copy (parent_sub).
 */
#include <stdlib.h>
#include <string.h>

#include "crdt/crdt_int.h"

crdt_type *crdt__type_new(uint8_t kind)
{
    crdt_type *t = sb_calloc(1, sizeof(*t));
    t->kind = kind;
    t->depth = 1;
    sb_map_init(&t->index);
    return t;
}

void crdt__type_free(crdt_doc *d, crdt_type *t)
{
    (void)d;
    if (!t)
        return;
    for (size_t i = 0; i < t->entries.len; i++)
        free(t->entries.items[i].key.p);
    sb_vec_free(&t->entries);
    sb_map_deinit(&t->index);
    free(t->ym);
    free(t->name.p);
    free(t);
}

crdt_map_entry *crdt__type_entry(crdt_type *t, const char *key, size_t klen, bool create)
{
    uintptr_t v = (uintptr_t)sb_map_get(&t->index, sb_str_make(key, klen));
    if (v)
        return &t->entries.items[v - 1];
    if (!create)
        return NULL;
    char *k = sb_malloc(klen + 1);
    memcpy(k, key, klen);
    k[klen] = 0;
    sb_vec_push(&t->entries, ((crdt_map_entry){{k, klen}, NULL}));
    sb_map_put(&t->index, sb_str_make(k, klen), (void *)(uintptr_t)t->entries.len);
    return &t->entries.items[t->entries.len - 1];
}

crdt_type *crdt__root(crdt_doc *d, const char *name, size_t n, bool create)
{
    crdt_type *t = sb_map_get(&d->root_index, sb_str_make(name, n));
    if (t || !create)
        return t;
    t = crdt__type_new(CRDT_T_UNDEFINED);
    t->name.p = sb_malloc(n + 1);
    memcpy(t->name.p, name, n);
    t->name.p[n] = 0;
    t->name.n = n;
    sb_vec_push(&d->roots, t);
    sb_map_put(&d->root_index, sb_str_make(t->name.p, n), t);
    return t;
}
