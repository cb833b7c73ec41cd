/*
 * doc.c: the document: its client id, gc setting, struct store, root types
 * and pending updates; creation, destruction and error messages.
 */
#include <stdlib.h>

#include "crdt/crdt_int.h"

static const char *const crdt_messages[] = {
#define CRDT__MSG(name, msg) msg,
    CRDT_ERROR_MAP(CRDT__MSG)
#undef CRDT__MSG
};

const char *crdt_strerror(crdt_err e)
{
    if ((unsigned)e >= SB_ARRAY_LEN(crdt_messages))
        return "unknown error";
    return crdt_messages[e];
}

crdt_doc *crdt_doc_new(uint64_t client_id, bool gc)
{
    crdt_doc *d = sb_calloc(1, sizeof(*d));
    d->client_id = client_id;
    d->gc = gc;
    sb_map_init(&d->root_index);
    return d;
}

void crdt_doc_free(crdt_doc *d)
{
    if (!d)
        return;
    crdt__pending_free(d);
    sb_vec_free(&d->scratch.before);
    sb_vec_free(&d->scratch.ds);
    sb_vec_free(&d->scratch.merge);
    sb_vec_free(&d->scratch.changed);
    for (size_t i = 0; i < d->clients.len; i++) {
        crdt_client *c = &d->clients.items[i];
        for (size_t k = 0; k < c->len; k++)
            if (c->s[k]->kind == CRDT_STRUCT_ITEM)
                crdt__content_free(d, c->s[k]);
        free(c->s);
        free(c->ck);
    }
    sb_vec_free(&d->clients);
    free(d->cidx_keys);
    free(d->cidx_vals);
    for (size_t i = 0; i < d->roots.len; i++)
        crdt__type_free(d, d->roots.items[i]);
    sb_vec_free(&d->roots);
    sb_map_deinit(&d->root_index);
    while (d->chunks) {
        crdt_pool_chunk *n = *(crdt_pool_chunk **)d->chunks;
        free(d->chunks);
        d->chunks = n;
    }
    free(d);
}
