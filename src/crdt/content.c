/*
 * content.c: the contents an Item can hold (Yjs's Content* classes): how
 * each splits at an offset, merges with its right neighbour, and is freed.
 *
 * Strings are UTF-16 code units because Yjs measures and splits text in
 * them; a split inside a surrogate pair replaces both halves with U+FFFD, as
 * Yjs's ContentString.splice does (yjs issue 248). Contents of length one
 * (binary, embed, format, type, doc) never split or merge.
 */
#include <stddef.h>
#include <stdlib.h>
#include <string.h>

#include "crdt/crdt_int.h"

void crdt__bytes_set(crdt_bytes *b, const void *p, size_t n)
{
    b->p = sb_malloc(n + 1);
    if (n)
        memcpy(b->p, p, n);
    b->p[n] = 0;
    b->n = n;
}

static void bytes_free(crdt_bytes *b)
{
    free(b->p);
    b->p = NULL;
    b->n = 0;
}

/* A format value's buffer: a reference count before the bytes. */
typedef union fval_hdr {
    uint32_t refs;
    max_align_t align;
} fval_hdr;

static fval_hdr *fval_hdr_of(const crdt_bytes *v)
{
    return (fval_hdr *)(void *)(v->p - sizeof(fval_hdr));
}

crdt_bytes crdt__fval_new(const char *p, size_t n)
{
    fval_hdr *h = sb_malloc(sizeof(fval_hdr) + n + 1);
    h->refs = 1;
    char *b = (char *)(h + 1);
    if (n)
        memcpy(b, p, n);
    b[n] = 0;
    return (crdt_bytes){b, n};
}

crdt_bytes crdt__fval_ref(const crdt_bytes *v)
{
    fval_hdr_of(v)->refs++;
    return *v;
}

void crdt__fval_free(crdt_bytes *v)
{
    if (v->p && --fval_hdr_of(v)->refs == 0)
        free(fval_hdr_of(v));
    v->p = NULL;
    v->n = 0;
}

void crdt__content_free(crdt_doc *d, crdt_item *it)
{
    switch (it->ckind) {
    case CRDT_C_STRING:
        free(it->c.str.u);
        break;
    case CRDT_C_JSON:
    case CRDT_C_ANY:
        for (uint64_t i = 0; i < it->length; i++)
            bytes_free(&it->c.list.v[i]);
        free(it->c.list.v);
        break;
    case CRDT_C_BINARY:
    case CRDT_C_EMBED:
        bytes_free(&it->c.bin);
        break;
    case CRDT_C_FORMAT:
        bytes_free(&it->c.fmt.key);
        crdt__fval_free(&it->c.fmt.val);
        break;
    case CRDT_C_TYPE:
        crdt__type_free(d, it->c.type);
        break;
    case CRDT_C_DOC:
        bytes_free(&it->c.doc.guid);
        bytes_free(&it->c.doc.opts);
        break;
    default:
        break;
    }
    memset(&it->c, 0, sizeof(it->c));
}

/* Whether a buffer of cap elements holding len is worth shrinking. */
#define SHRINK_WORTH(cap, len) ((cap) > 2 * (len) + 8)

void crdt__content_split(crdt_item *it, crdt_item *right, uint64_t off)
{
    uint64_t rn = it->length - off;
    right->ckind = it->ckind;
    switch (it->ckind) {
    case CRDT_C_STRING: {
        uint16_t *u = it->c.str.u;
        right->c.str.u = sb_malloc(rn * sizeof(uint16_t));
        right->c.str.cap = rn;
        memcpy(right->c.str.u, u + off, rn * sizeof(uint16_t));
        if (u[off - 1] >= 0xD800 && u[off - 1] <= 0xDBFF) {
            u[off - 1] = 0xFFFD;
            right->c.str.u[0] = 0xFFFD;
        }
        /* a long run split near its start would otherwise keep its whole
         * buffer: the left part shrinks to fit when that saves much */
        if (SHRINK_WORTH(it->c.str.cap, off)) {
            it->c.str.u = sb_realloc(u, off * sizeof(uint16_t));
            it->c.str.cap = off;
        }
        break;
    }
    case CRDT_C_JSON:
    case CRDT_C_ANY:
        right->c.list.v = sb_malloc(rn * sizeof(crdt_bytes));
        right->c.list.cap = rn;
        memcpy(right->c.list.v, it->c.list.v + off, rn * sizeof(crdt_bytes));
        if (SHRINK_WORTH(it->c.list.cap, off)) {
            it->c.list.v = sb_realloc(it->c.list.v, off * sizeof(crdt_bytes));
            it->c.list.cap = off;
        }
        break;
    case CRDT_C_DELETED:
        break;
    default:
        sb_die("crdt: split of content %d", it->ckind);
    }
}

bool crdt__content_mergeable(uint8_t ckind)
{
    return ckind == CRDT_C_DELETED || ckind == CRDT_C_STRING || ckind == CRDT_C_JSON ||
           ckind == CRDT_C_ANY;
}

void crdt__str_append(crdt_item *it, const uint16_t *u, uint64_t n)
{
    uint64_t need = it->length + n;
    if (need > it->c.str.cap) {
        uint64_t cap = it->c.str.cap * 2;
        if (cap < need)
            cap = need;
        if (cap < 16)
            cap = 16;
        it->c.str.u = sb_realloc(it->c.str.u, cap * sizeof(uint16_t));
        it->c.str.cap = cap;
    }
    memcpy(it->c.str.u + it->length, u, n * sizeof(uint16_t));
}

bool crdt__content_merge(crdt_item *it, crdt_item *right)
{
    switch (it->ckind) {
    case CRDT_C_DELETED:
        return true;
    case CRDT_C_STRING:
        crdt__str_append(it, right->c.str.u, right->length);
        free(right->c.str.u);
        right->c.str.u = NULL;
        return true;
    case CRDT_C_JSON:
    case CRDT_C_ANY: {
        uint64_t need = it->length + right->length;
        if (need > it->c.list.cap) {
            uint64_t cap = SB_MAX(need, it->c.list.cap * 2);
            it->c.list.v = sb_realloc(it->c.list.v, cap * sizeof(crdt_bytes));
            it->c.list.cap = cap;
        }
        memcpy(it->c.list.v + it->length, right->c.list.v, right->length * sizeof(crdt_bytes));
        free(right->c.list.v);
        right->c.list.v = NULL;
        return true;
    }
    default:
        return false;
    }
}
