/*
 * update_ops.c: merge, diff, state vector and meta of encoded updates (see
 * update_ops.h). The shape follows Yjs's: a lazy reader per update yields
 * one struct at a time (GC, Skip or an item whose content is decoded and
 * shared by reference), and a lazy writer groups consecutive structs of a
 * client, keeping each group's rest-stream bytes aside until the number of
 * groups is known.
 *
 * Merge: the readers are kept ordered by their current struct (client
 * descending, clock ascending, ties in their previous order, as Yjs's
 * stable re-sort gives); only the first reader ever moves, so one
 * binary-search re-insertion replaces the sort. One pending struct is
 * held back so that the next one can be joined to it (GC to GC), cut where
 * it overlaps, or a Skip put between them over a gap.
 */
#include "crdt/update_ops.h"

#include <stdlib.h>
#include <string.h>

enum { K_GC, K_SKIP, K_ITEM };

/* An item's content, decoded once and shared by the slices of its item. */
typedef struct content {
    int refs;
    uint8_t ref;    /* 1-9, yjs's content refs */
    uint64_t len;   /* Deleted: its length; JSON, Any: element count */
    sb_str str;     /* String, Binary, Doc guid, Format key, Type name */
    uint64_t units; /* String: its length in UTF-16 units */
    uint64_t tref;  /* Type: type ref */
    crdt_any any;   /* Embed, Format value, Doc options */
    sb_str *strs;   /* JSON */
    crdt_any *anys; /* Any */
} content;

typedef struct ystruct {
    uint8_t kind;
    uint64_t client, clock, len;
    /* items: */
    bool has_origin, has_rorigin, has_sub;
    uint64_t oc, ok, rc, rk; /* origin and right origin ids */
    uint8_t parent;          /* 0 none, 1 root key, 2 parent id */
    sb_str pkey, sub;
    uint64_t pc, pk;
    content *c;
    uint64_t off; /* content units cut off the front */
} ystruct;

typedef struct ops {
    size_t budget;
    uint64_t max_clock;
    bool v2;
} ops;

static void content_unref(content *c)
{
    if (!c || --c->refs > 0)
        return;
    crdt_any_free(&c->any);
    if (c->anys)
        for (uint64_t i = 0; i < c->len; i++)
            crdt_any_free(&c->anys[i]);
    free(c->anys);
    free(c->strs);
    free(c);
}

static void drop(ystruct *s)
{
    if (s->kind == K_ITEM)
        content_unref(s->c);
    s->c = NULL;
}

static ystruct copy(const ystruct *s)
{
    if (s->kind == K_ITEM)
        s->c->refs++;
    return *s;
}

static uint64_t end(const ystruct *s)
{
    return s->clock + s->len;
}

/* ---- Reading ---- */

typedef struct reader {
    crdt_upd_dec d;
    ops *o;
    bool filter_skips;
    size_t index; /* position among the merged inputs */
    uint64_t clients_left, structs_left, client, clock;
    bool has;
    ystruct curr;
} reader;

static crdt_dec *rest(reader *r)
{
    return crdt_upd_dec_rest(&r->d);
}

static bool rfailed(reader *r)
{
    return crdt_upd_dec_err(&r->d) != 0;
}

static void rfail(reader *r, int err)
{
    crdt_dec_fail(rest(r), err);
}

static bool take(reader *r, uint64_t n)
{
    if (n > r->o->budget) {
        rfail(r, CRDT_LIB0_ELIMIT);
        return false;
    }
    r->o->budget -= (size_t)n;
    return true;
}

static void read_id(reader *r, bool left, uint64_t *client, uint64_t *clock)
{
    if (left)
        crdt_upd_dec_left_id(&r->d, client, clock);
    else
        crdt_upd_dec_right_id(&r->d, client, clock);
    if (*clock >= r->o->max_clock)
        rfail(r, CRDT_LIB0_ERANGE);
}

/* UTF-16 units of valid UTF-8 s. */
static uint64_t utf16_units(sb_str s)
{
    uint64_t n = 0;
    for (size_t i = 0; i < s.len; i++) {
        uint8_t b = (uint8_t)s.ptr[i];
        if ((b & 0xC0) != 0x80)
            n += b >= 0xF0 ? 2 : 1;
    }
    return n;
}

static bool truthy(const crdt_any *v)
{
    switch (v->kind) {
    case CRDT_ANY_UNDEFINED:
    case CRDT_ANY_NULL:
        return false;
    case CRDT_ANY_NUMBER:
        return v->u.num == v->u.num && v->u.num != 0;
    case CRDT_ANY_BIGINT:
        return v->u.big != 0;
    case CRDT_ANY_BOOL:
        return v->u.b;
    case CRDT_ANY_STRING:
        return v->u.str.len != 0;
    default:
        return true;
    }
}

/* An own property of an object that is not undefined, or NULL. */
static const crdt_any *opt(const crdt_any *o, const char *key)
{
    if (o->kind != CRDT_ANY_OBJECT)
        return NULL;
    const crdt_any *v = crdt_any_object_get(o, key, strlen(key));
    return v && v->kind != CRDT_ANY_UNDEFINED ? v : NULL;
}

/* A subdocument's options as Yjs writes them back: it builds a Doc from
 * {guid, ...opts} and keeps only gc: false, autoLoad: true and a non-null
 * meta, in that order; an opts.guid replaces the guid. */
static void doc_opts(reader *r, content *c)
{
    crdt_any in = c->any, outv = crdt_any_object();
    if (in.kind == CRDT_ANY_UNDEFINED || in.kind == CRDT_ANY_NULL) {
        rfail(r, CRDT_LIB0_EFORMAT); /* Yjs throws reading opts.shouldLoad */
    } else {
        const crdt_any *g = opt(&in, "guid");
        if (g && g->kind != CRDT_ANY_STRING)
            rfail(r, CRDT_LIB0_EFORMAT);
        else if (g)
            c->str = (sb_str){g->u.str.ptr, g->u.str.len}; /* kept alive below */
        const crdt_any *gc = opt(&in, "gc");
        if (gc && !truthy(gc))
            crdt_any_object_set(&outv, "gc", 2, crdt_any_bool(false));
        const crdt_any *al = opt(&in, "autoLoad");
        if (al && truthy(al))
            crdt_any_object_set(&outv, "autoLoad", 8, crdt_any_bool(true));
        const crdt_any *meta = opt(&in, "meta");
        if (meta && meta->kind != CRDT_ANY_NULL)
            crdt_any_object_set(&outv, "meta", 4, crdt_any_copy(meta));
        if (g) {
            /* The guid view must outlive c->any: keep the input value in
             * anys[0] (len 0, so nothing else reads it). */
            c->anys = calloc(1, sizeof(crdt_any));
            if (!c->anys)
                abort();
            c->anys[0] = in;
            c->len = 1;
            c->any = outv;
            return;
        }
    }
    crdt_any_free(&c->any);
    c->any = outv;
}

static content *read_content(reader *r, uint8_t ref)
{
    content *c = calloc(1, sizeof(*c));
    if (!c)
        abort();
    c->refs = 1;
    c->ref = ref;
    crdt_upd_dec *d = &r->d;
    switch (ref) {
    case 1: /* Deleted */
        c->len = crdt_upd_dec_len(d);
        break;
    case 2:   /* JSON */
    case 8: { /* Any */
        uint64_t n = crdt_upd_dec_len(d);
        if (rfailed(r) || !take(r, n))
            break;
        if (ref == 2)
            c->strs = calloc(n ? n : 1, sizeof(sb_str));
        else
            c->anys = calloc(n ? n : 1, sizeof(crdt_any));
        if (!c->strs && !c->anys)
            abort();
        for (uint64_t i = 0; i < n && !rfailed(r); i++) {
            if (ref == 2) {
                c->strs[i] = crdt_upd_dec_string(d);
            } else {
                if (crdt_upd_dec_any(d, &c->anys[i]) != 0) {
                    crdt_any_free(&c->anys[i]);
                    break;
                }
            }
            c->len = i + 1;
        }
        break;
    }
    case 3: /* Binary */
        c->str = crdt_upd_dec_buf(d);
        break;
    case 4: /* String */
        c->str = crdt_upd_dec_string(d);
        c->units = utf16_units(c->str);
        break;
    case 5: /* Embed */
        crdt_upd_dec_json(d, &c->any);
        break;
    case 6: /* Format */
        c->str = crdt_upd_dec_key(d);
        crdt_upd_dec_json(d, &c->any);
        break;
    case 7: /* Type; XmlElement (3) and XmlHook (5) are named */
        c->tref = crdt_upd_dec_type_ref(d);
        if (c->tref > 6)
            rfail(r, CRDT_LIB0_EFORMAT);
        else if (c->tref == 3 || c->tref == 5)
            c->str = crdt_upd_dec_key(d);
        break;
    case 9: /* Doc */
        c->str = crdt_upd_dec_string(d);
        if (crdt_upd_dec_any(d, &c->any) == 0)
            doc_opts(r, c);
        break;
    default: /* 10 with other bits, 11-31: Yjs has no such content */
        rfail(r, CRDT_LIB0_EFORMAT);
    }
    return c;
}

static uint64_t content_len(const content *c)
{
    switch (c->ref) {
    case 1:
    case 2:
    case 8:
        return c->len;
    case 4:
        return c->units;
    default:
        return 1;
    }
}

/* Reads one struct at r->client/r->clock into *s (undefined on error). */
static void read_struct(reader *r, ystruct *s)
{
    memset(s, 0, sizeof(*s));
    s->client = r->client;
    s->clock = r->clock;
    uint8_t info = crdt_upd_dec_info(&r->d);
    uint8_t ref = info & 0x1F;
    if (info == 10) {
        s->kind = K_SKIP;
        s->len = crdt_dec_var_uint(rest(r));
    } else if (ref == 0) {
        s->kind = K_GC;
        s->len = crdt_upd_dec_len(&r->d);
    } else {
        s->kind = K_ITEM;
        if ((s->has_origin = info & 0x80))
            read_id(r, true, &s->oc, &s->ok);
        if ((s->has_rorigin = info & 0x40))
            read_id(r, false, &s->rc, &s->rk);
        if (!(info & 0xC0)) {
            if (crdt_upd_dec_parent_info(&r->d)) {
                s->parent = 1;
                s->pkey = crdt_upd_dec_string(&r->d);
            } else {
                s->parent = 2;
                read_id(r, true, &s->pc, &s->pk);
            }
            if ((s->has_sub = info & 0x20))
                s->sub = crdt_upd_dec_string(&r->d);
        }
        s->c = read_content(r, ref);
        s->len = content_len(s->c);
    }
    if (s->len >= r->o->max_clock - s->clock)
        rfail(r, CRDT_LIB0_ERANGE);
    /* Yjs writes no empty struct; its merge would let one swallow others. */
    if (s->len == 0)
        rfail(r, CRDT_LIB0_EFORMAT);
}

/* Moves to the next struct; r->has false at the end or on error. */
static void next(reader *r)
{
    if (r->has)
        drop(&r->curr);
    r->has = false;
    while (!rfailed(r)) {
        if (r->structs_left == 0) {
            if (r->clients_left == 0)
                return;
            r->clients_left--;
            r->structs_left = crdt_dec_var_uint(rest(r));
            r->client = crdt_upd_dec_client(&r->d);
            r->clock = crdt_dec_var_uint(rest(r));
            if (r->clock >= r->o->max_clock)
                rfail(r, CRDT_LIB0_ERANGE);
            if (!take(r, r->structs_left))
                return;
            continue;
        }
        r->structs_left--;
        read_struct(r, &r->curr);
        if (rfailed(r)) {
            drop(&r->curr);
            return;
        }
        r->clock = end(&r->curr);
        if (r->filter_skips && r->curr.kind == K_SKIP)
            continue;
        r->has = true;
        return;
    }
}

static int reader_init(reader *r, ops *o, const void *p, size_t n, bool filter_skips)
{
    memset(r, 0, sizeof(*r));
    r->o = o;
    r->filter_skips = filter_skips;
    int err = crdt_upd_dec_init(&r->d, p, n, o->v2);
    if (!err) {
        r->clients_left = crdt_dec_var_uint(rest(r));
        next(r);
    }
    return crdt_upd_dec_err(&r->d);
}

static void reader_deinit(reader *r)
{
    if (r->has)
        drop(&r->curr);
    r->has = false;
    crdt_upd_dec_deinit(&r->d);
}

/* ---- Delete sets ---- */

typedef struct drange {
    uint64_t client, clock, len;
    size_t seq;
} drange;

typedef struct dset {
    drange *v;
    size_t n, cap;
} dset;

static void read_ds(reader *r, dset *ds)
{
    uint64_t nclients = crdt_dec_var_uint(rest(r));
    for (uint64_t i = 0; i < nclients && !rfailed(r); i++) {
        crdt_upd_dec_ds_reset(&r->d);
        uint64_t client = crdt_dec_var_uint(rest(r));
        uint64_t n = crdt_dec_var_uint(rest(r));
        if (!take(r, n))
            return;
        for (uint64_t k = 0; k < n && !rfailed(r); k++) {
            uint64_t clock = crdt_upd_dec_ds_clock(&r->d);
            uint64_t len = crdt_upd_dec_ds_len(&r->d);
            if (rfailed(r))
                return;
            if (clock >= r->o->max_clock || len >= r->o->max_clock - clock) {
                rfail(r, CRDT_LIB0_ERANGE);
                return;
            }
            if (ds->n == ds->cap) {
                ds->cap = ds->cap ? ds->cap * 2 : 16;
                ds->v = realloc(ds->v, ds->cap * sizeof(drange));
                if (!ds->v)
                    abort();
            }
            ds->v[ds->n] = (drange){client, clock, len, ds->n};
            ds->n++;
        }
    }
    if (!rfailed(r) && crdt_dec_remaining(rest(r)) != 0)
        rfail(r, CRDT_LIB0_EFORMAT); /* bytes after the delete set */
}

/* Client descending, then clock ascending (merge) or read order (diff). */
static int cmp_merge(const void *a, const void *b)
{
    const drange *x = a, *y = b;
    if (x->client != y->client)
        return x->client > y->client ? -1 : 1;
    if (x->clock != y->clock)
        return x->clock < y->clock ? -1 : 1;
    return x->seq < y->seq ? -1 : x->seq > y->seq;
}

static int cmp_diff(const void *a, const void *b)
{
    const drange *x = a, *y = b;
    if (x->client != y->client)
        return x->client > y->client ? -1 : 1;
    return x->seq < y->seq ? -1 : x->seq > y->seq;
}

/* Writes ranges sorted by client; joins overlapping or touching ranges of
 * a client first when join. v2 codes clocks as rising differences:
 * anything else is EFORMAT. */
static int write_ds(crdt_upd_enc *e, dset *ds, bool join, bool v2)
{
    if (ds->n > 1)
        qsort(ds->v, ds->n, sizeof(drange), join ? cmp_merge : cmp_diff);
    if (join) {
        size_t j = 0;
        for (size_t i = 0; i < ds->n; i++) {
            drange *l = j ? &ds->v[j - 1] : NULL, *x = &ds->v[i];
            if (l && l->client == x->client && l->clock + l->len >= x->clock) {
                uint64_t e2 = x->clock + x->len;
                if (e2 > l->clock + l->len)
                    l->len = e2 - l->clock;
            } else {
                ds->v[j++] = *x;
            }
        }
        ds->n = j;
    }
    if (v2)
        for (size_t i = 1; i < ds->n; i++)
            if (ds->v[i].client == ds->v[i - 1].client &&
                ds->v[i].clock < ds->v[i - 1].clock + ds->v[i - 1].len)
                return CRDT_LIB0_EFORMAT;
    size_t nclients = 0;
    for (size_t i = 0; i < ds->n; i++)
        nclients += i == 0 || ds->v[i].client != ds->v[i - 1].client;
    sb_buf *b = crdt_upd_enc_rest(e);
    crdt_enc_var_uint(b, nclients);
    for (size_t i = 0; i < ds->n;) {
        size_t k = i;
        while (k < ds->n && ds->v[k].client == ds->v[i].client)
            k++;
        crdt_upd_enc_ds_reset(e);
        crdt_enc_var_uint(b, ds->v[i].client);
        crdt_enc_var_uint(b, k - i);
        for (; i < k; i++) {
            crdt_upd_enc_ds_clock(e, ds->v[i].clock);
            crdt_upd_enc_ds_len(e, ds->v[i].len);
        }
    }
    return 0;
}

/* ---- Writing ---- */

typedef struct writer {
    crdt_upd_enc e;
    uint64_t client;
    size_t written; /* structs in the open group */
    size_t groups;
    sb_buf frags; /* per group: its struct count, then its rest bytes */
} writer;

static void flush(writer *w)
{
    if (w->written == 0)
        return;
    sb_buf *r = crdt_upd_enc_rest(&w->e);
    crdt_enc_var_uint(&w->frags, w->written);
    sb_buf_append(&w->frags, r->ptr, r->len);
    sb_buf_reset(r);
    w->groups++;
    w->written = 0;
}

/* The string s without its first off UTF-16 units; a cut inside a
 * surrogate pair leaves U+FFFD for the pair's second half, as Yjs. */
static void write_string_from(crdt_upd_enc *e, sb_str s, uint64_t off)
{
    size_t i = 0;
    uint64_t u = 0;
    while (i < s.len && u < off) {
        uint8_t b = (uint8_t)s.ptr[i];
        size_t n = b < 0x80 ? 1 : b < 0xE0 ? 2 : b < 0xF0 ? 3 : 4;
        if (n == 4 && u + 1 == off) {
            sb_buf t = SB_BUF_INIT;
            sb_buf_append(&t, "\xEF\xBF\xBD", 3);
            sb_buf_append(&t, s.ptr + i + 4, s.len - i - 4);
            crdt_upd_enc_string(e, t.ptr, t.len);
            sb_buf_free(&t);
            return;
        }
        u += n == 4 ? 2 : 1;
        i += n;
    }
    crdt_upd_enc_string(e, s.ptr + i, s.len - i);
}

static void write_content(crdt_upd_enc *e, const content *c, uint64_t off)
{
    switch (c->ref) {
    case 1:
        crdt_upd_enc_len(e, c->len - off);
        break;
    case 2:
        crdt_upd_enc_len(e, c->len - off);
        for (uint64_t i = off; i < c->len; i++)
            crdt_upd_enc_string(e, c->strs[i].ptr, c->strs[i].len);
        break;
    case 3:
        crdt_upd_enc_buf(e, c->str.ptr, c->str.len);
        break;
    case 4:
        write_string_from(e, c->str, off);
        break;
    case 5:
        crdt_upd_enc_json(e, &c->any);
        break;
    case 6:
        crdt_upd_enc_key(e, c->str.ptr, c->str.len);
        crdt_upd_enc_json(e, &c->any);
        break;
    case 7:
        crdt_upd_enc_type_ref(e, c->tref);
        if (c->tref == 3 || c->tref == 5)
            crdt_upd_enc_key(e, c->str.ptr, c->str.len);
        break;
    case 8:
        crdt_upd_enc_len(e, c->len - off);
        for (uint64_t i = off; i < c->len; i++)
            crdt_upd_enc_any(e, &c->anys[i]);
        break;
    case 9:
        crdt_upd_enc_string(e, c->str.ptr, c->str.len);
        crdt_upd_enc_any(e, &c->any);
        break;
    }
}

/* Writes s from offset on (0 <= offset < s->len, or 0). */
static void write_struct(writer *w, const ystruct *s, uint64_t offset)
{
    crdt_upd_enc *e = &w->e;
    if (w->written > 0 && w->client != s->client)
        flush(w);
    if (w->written == 0) {
        w->client = s->client;
        crdt_upd_enc_client(e, s->client);
        crdt_enc_var_uint(crdt_upd_enc_rest(e), s->clock + offset);
    }
    w->written++;
    if (s->kind == K_GC) {
        crdt_upd_enc_info(e, 0);
        crdt_upd_enc_len(e, s->len - offset);
        return;
    }
    if (s->kind == K_SKIP) {
        crdt_upd_enc_info(e, 10);
        crdt_enc_var_uint(crdt_upd_enc_rest(e), s->len - offset);
        return;
    }
    /* A cut item's origin is its own previous unit; its info byte keeps
     * the parent-sub flag even though the sub is not written then. */
    bool origin = offset > 0 || s->has_origin;
    uint64_t oc = offset > 0 ? s->client : s->oc, ok = offset > 0 ? s->clock + offset - 1 : s->ok;
    crdt_upd_enc_info(e, (uint8_t)(s->c->ref | (origin ? 0x80 : 0) | (s->has_rorigin ? 0x40 : 0) |
                                   (s->has_sub ? 0x20 : 0)));
    if (origin)
        crdt_upd_enc_left_id(e, oc, ok);
    if (s->has_rorigin)
        crdt_upd_enc_right_id(e, s->rc, s->rk);
    if (!origin && !s->has_rorigin) {
        crdt_upd_enc_parent_info(e, s->parent == 1);
        if (s->parent == 1)
            crdt_upd_enc_string(e, s->pkey.ptr, s->pkey.len);
        else
            crdt_upd_enc_left_id(e, s->pc, s->pk);
        if (s->has_sub)
            crdt_upd_enc_string(e, s->sub.ptr, s->sub.len);
    }
    write_content(e, s->c, s->off + offset);
}

static void writer_init(writer *w, bool v2)
{
    memset(w, 0, sizeof(*w));
    crdt_upd_enc_init(&w->e, v2);
}

/* Puts the groups in front of the rest stream; the delete set follows. */
static void writer_end_structs(writer *w)
{
    flush(w);
    sb_buf *r = crdt_upd_enc_rest(&w->e);
    crdt_enc_var_uint(r, w->groups);
    sb_buf_append(r, w->frags.ptr, w->frags.len);
}

static int writer_finish(writer *w, size_t max_out, sb_buf *out)
{
    sb_buf tmp = SB_BUF_INIT;
    crdt_upd_enc_finish(&w->e, &tmp);
    int err = tmp.len > max_out ? CRDT_LIB0_ELIMIT : 0;
    if (!err)
        sb_buf_append(out, tmp.ptr, tmp.len);
    sb_buf_free(&tmp);
    return err;
}

static void writer_deinit(writer *w)
{
    crdt_upd_enc_deinit(&w->e);
    sb_buf_free(&w->frags);
}

static void ops_init(ops *o, bool v2, const crdt_update_limits *lim, size_t *max_out)
{
    o->v2 = v2;
    o->budget = lim && lim->max_items ? lim->max_items : CRDT_UPDATE_MAX_ITEMS;
    /* v2 clock columns double differences: keep clocks where that is
     * exact; v1 clocks are JavaScript's safe integers. */
    o->max_clock = v2 ? (uint64_t)1 << 51 : CRDT_MAX_SAFE_INT;
    *max_out = lim && lim->max_out ? lim->max_out : CRDT_UPDATE_MAX_OUT;
}

/* ---- Merge ---- */

/* Yjs's order of readers: client descending, clock ascending; at one id,
 * structs of one kind are equal, while a GC and an item are each "less"
 * than the other (Yjs's comparator answers -1 both ways, so the result
 * depends on how the sort calls it; see v8_sort). */
static int rcmp(const reader *a, const reader *b)
{
    if (a->curr.client != b->curr.client)
        return a->curr.client > b->curr.client ? -1 : 1;
    if (a->curr.clock != b->curr.clock)
        return a->curr.clock < b->curr.clock ? -1 : 1;
    return (a->curr.kind == K_GC) == (b->curr.kind == K_GC) ? 0 : -1;
}

/* rcmp with kinds ignored: a consistent order, for long lists. */
static int rcmp_consistent(const reader *a, const reader *b)
{
    int c = rcmp(a, b);
    return a->curr.client == b->curr.client && a->curr.clock == b->curr.clock ? 0 : c;
}

static int rcmp_stable(const void *a, const void *b)
{
    const reader *x = *(reader *const *)a, *y = *(reader *const *)b;
    int c = rcmp_consistent(x, y);
    return c ? c : (x->index < y->index ? -1 : 1);
}

/* Array.prototype.sort as V8 runs it on fewer than 64 elements (its
 * TimSort's minimum run is then the whole array): the leading run,
 * reversed when strictly descending, then binary insertion of the rest.
 * Followed step by step because rcmp is not consistent. */
static void v8_sort(reader **a, size_t m)
{
    if (m < 2)
        return;
    size_t run = 2;
    bool desc = rcmp(a[1], a[0]) < 0;
    for (; run < m; run++) {
        int o = rcmp(a[run], a[run - 1]);
        if (desc ? o >= 0 : o < 0)
            break;
    }
    if (desc)
        for (size_t i = 0, j = run - 1; i < j; i++, j--) {
            reader *t = a[i];
            a[i] = a[j];
            a[j] = t;
        }
    for (size_t k = run; k < m; k++) {
        reader *pivot = a[k];
        size_t lo = 0, hi = k;
        while (lo < hi) {
            size_t mid = lo + ((hi - lo) >> 1);
            if (rcmp(pivot, a[mid]) < 0)
                hi = mid;
            else
                lo = mid + 1;
        }
        memmove(a + lo + 1, a + lo, (k - lo) * sizeof(*a));
        a[lo] = pivot;
    }
}

/* Drops list[0] if its reader is done, then orders the list as Yjs's
 * re-sort would; returns the new m. From 64 readers on, only list[0] is
 * out of place (the others did not move) and a stable sort of a
 * consistent order puts it before its equals: one binary search. */
static size_t reorder(reader **list, size_t m)
{
    reader *r = list[0];
    if (!r->has) {
        memmove(list, list + 1, (m - 1) * sizeof(*list));
        m--;
        if (m < 64)
            v8_sort(list, m);
        return m;
    }
    if (m < 64) {
        v8_sort(list, m);
        return m;
    }
    size_t lo = 1, hi = m; /* first j with list[j] >= r */
    while (lo < hi) {
        size_t mid = lo + (hi - lo) / 2;
        if (rcmp_consistent(list[mid], r) < 0)
            lo = mid + 1;
        else
            hi = mid;
    }
    memmove(list, list + 1, (lo - 1) * sizeof(*list));
    list[lo - 1] = r;
    return m;
}

/* The right part of s from diff on (0 < diff < s->len). */
static ystruct slice(const ystruct *s, uint64_t diff)
{
    ystruct t = copy(s);
    t.clock += diff;
    t.len -= diff;
    if (t.kind == K_ITEM) {
        t.has_origin = true;
        t.oc = s->client;
        t.ok = s->clock + diff - 1;
        t.off += diff;
    }
    return t;
}

static void merge_structs(reader **list, size_t m, writer *w)
{
    bool has_cw = false;
    ystruct cw = {0};
    bool first = true;
    while (true) {
        if (!first)
            m = reorder(list, m);
        first = false;
        if (m == 0)
            break;
        reader *r = list[0];
        uint64_t fc = r->curr.client;
        if (has_cw) {
            bool iterated = false;
            while (r->has && end(&r->curr) <= end(&cw) && r->curr.client >= cw.client) {
                next(r);
                iterated = true;
            }
            if (!r->has || r->curr.client != fc || (iterated && r->curr.clock > end(&cw)))
                continue;
            ystruct *cur = &r->curr;
            if (fc != cw.client) {
                write_struct(w, &cw, 0);
                drop(&cw);
                cw = copy(cur);
                next(r);
            } else if (end(&cw) < cur->clock) {
                if (cw.kind == K_SKIP) {
                    cw.len = end(cur) - cw.clock;
                } else {
                    write_struct(w, &cw, 0);
                    drop(&cw);
                    uint64_t at = end(&cw);
                    cw = (ystruct){
                        .kind = K_SKIP, .client = fc, .clock = at, .len = cur->clock - at};
                }
            } else {
                uint64_t diff = end(&cw) - cur->clock;
                ystruct c2;
                if (diff > 0 && cw.kind == K_SKIP) {
                    cw.len -= diff;
                    c2 = copy(cur);
                } else {
                    c2 = diff > 0 ? slice(cur, diff) : copy(cur);
                }
                if (cw.kind != K_ITEM && cw.kind == c2.kind) { /* GC joins GC */
                    cw.len += c2.len;
                    drop(&c2);
                } else {
                    write_struct(w, &cw, 0);
                    drop(&cw);
                    cw = c2;
                    next(r);
                }
            }
        } else {
            cw = copy(&r->curr);
            has_cw = true;
            next(r);
        }
        for (; r->has && r->curr.client == fc && r->curr.clock == end(&cw); next(r)) {
            write_struct(w, &cw, 0);
            drop(&cw);
            cw = copy(&r->curr);
        }
    }
    if (has_cw) {
        write_struct(w, &cw, 0);
        drop(&cw);
    }
}

/* Reads every struct of update p, calling f (if any) for each, then the
 * delete set: every byte is checked. */
typedef void (*struct_fn)(void *arg, const ystruct *s);

static int walk_ops(ops *o, const void *p, size_t n, struct_fn f, void *arg)
{
    reader r;
    reader_init(&r, o, p, n, false);
    for (; r.has; next(&r))
        if (f)
            f(arg, &r.curr);
    dset ds = {0};
    if (!rfailed(&r))
        read_ds(&r, &ds);
    int err = crdt_upd_dec_err(&r.d);
    free(ds.v);
    reader_deinit(&r);
    return err;
}

int crdt_update_merge(const sb_str *updates, size_t n, bool v2, const crdt_update_limits *lim,
                      sb_buf *out)
{
    ops o;
    size_t max_out;
    ops_init(&o, v2, lim, &max_out);
    if (n == 1) { /* Yjs returns a lone update as it is */
        int err = walk_ops(&o, updates[0].ptr, updates[0].len, NULL, NULL);
        if (!err && updates[0].len > max_out)
            err = CRDT_LIB0_ELIMIT;
        if (!err)
            sb_buf_append(out, updates[0].ptr, updates[0].len);
        return err;
    }
    reader *rs = calloc(n ? n : 1, sizeof(reader));
    reader **list = calloc(n ? n : 1, sizeof(reader *));
    if (!rs || !list)
        abort();
    int err = 0;
    size_t inited = 0, m = 0;
    for (; inited < n && !err; inited++) {
        rs[inited].index = inited;
        err = reader_init(&rs[inited], &o, updates[inited].ptr, updates[inited].len, true);
        rs[inited].index = inited;
        if (rs[inited].has)
            list[m++] = &rs[inited];
    }
    writer w;
    writer_init(&w, v2);
    if (!err) {
        if (m < 64)
            v8_sort(list, m);
        else
            qsort(list, m, sizeof(*list), rcmp_stable);
        merge_structs(list, m, &w);
        for (size_t i = 0; i < n && !err; i++)
            err = crdt_upd_dec_err(&rs[i].d);
    }
    dset ds = {0};
    for (size_t i = 0; i < n && !err; i++) {
        read_ds(&rs[i], &ds);
        err = crdt_upd_dec_err(&rs[i].d);
    }
    if (!err) {
        writer_end_structs(&w);
        err = write_ds(&w.e, &ds, true, v2);
    }
    if (!err)
        err = writer_finish(&w, max_out, out);
    free(ds.v);
    writer_deinit(&w);
    for (size_t i = 0; i < inited; i++)
        reader_deinit(&rs[i]);
    free(rs);
    free(list);
    return err;
}

/* ---- State vectors ---- */

typedef struct sv_ent {
    crdt_update_clock c;
    size_t i; /* position in the input */
} sv_ent;

static int cmp_sv_ent(const void *a, const void *b)
{
    const sv_ent *x = a, *y = b;
    if (x->c.client != y->c.client)
        return x->c.client < y->c.client ? -1 : 1;
    return x->i < y->i ? -1 : x->i > y->i;
}

/* A state vector, sorted by client; a repeated client keeps its last clock
 * (Yjs reads it into a Map). */
static int read_sv(const void *p, size_t n, crdt_update_clock **out, size_t *count)
{
    crdt_dec d;
    crdt_dec_init(&d, p, n);
    uint64_t k = crdt_dec_var_uint(&d);
    if (crdt_dec_ok(&d) && k > crdt_dec_remaining(&d) / 2)
        crdt_dec_fail(&d, CRDT_LIB0_ELIMIT);
    if (!crdt_dec_ok(&d))
        return d.err;
    sv_ent *e = calloc(k ? k : 1, sizeof(sv_ent));
    if (!e)
        abort();
    for (uint64_t i = 0; i < k; i++) {
        e[i].c.client = crdt_dec_var_uint(&d);
        e[i].c.clock = crdt_dec_var_uint(&d);
        e[i].i = i;
    }
    if (crdt_dec_ok(&d) && crdt_dec_remaining(&d) != 0)
        crdt_dec_fail(&d, CRDT_LIB0_EFORMAT);
    if (!crdt_dec_ok(&d)) {
        free(e);
        return d.err;
    }
    qsort(e, k, sizeof(sv_ent), cmp_sv_ent);
    crdt_update_clock *v = calloc(k ? k : 1, sizeof(*v));
    if (!v)
        abort();
    size_t m = 0;
    for (size_t i = 0; i < k; i++) {
        if (m && v[m - 1].client == e[i].c.client)
            v[m - 1] = e[i].c; /* a later entry of the same client */
        else
            v[m++] = e[i].c;
    }
    free(e);
    *out = v;
    *count = m;
    return 0;
}

static uint64_t sv_get(const crdt_update_clock *v, size_t n, uint64_t client)
{
    size_t lo = 0, hi = n;
    while (lo < hi) {
        size_t mid = lo + (hi - lo) / 2;
        if (v[mid].client < client)
            lo = mid + 1;
        else
            hi = mid;
    }
    return lo < n && v[lo].client == client ? v[lo].clock : 0;
}

int crdt_update_diff(const void *p, size_t n, const void *sv, size_t sv_len, bool v2,
                     const crdt_update_limits *lim, sb_buf *out)
{
    ops o;
    size_t max_out;
    ops_init(&o, v2, lim, &max_out);
    crdt_update_clock *state = NULL;
    size_t nstate = 0;
    int err = read_sv(sv, sv_len, &state, &nstate);
    if (err)
        return err;
    reader r;
    writer w;
    writer_init(&w, v2);
    err = reader_init(&r, &o, p, n, false);
    while (!err && r.has) {
        uint64_t client = r.curr.client, svc = sv_get(state, nstate, client);
        if (r.curr.kind == K_SKIP) { /* a client's first struct is no Skip */
            next(&r);
            continue;
        }
        if (end(&r.curr) > svc) {
            write_struct(&w, &r.curr, svc > r.curr.clock ? svc - r.curr.clock : 0);
            for (next(&r); r.has && r.curr.client == client; next(&r))
                write_struct(&w, &r.curr, 0);
        } else {
            while (r.has && r.curr.client == client && end(&r.curr) <= svc)
                next(&r);
        }
    }
    dset ds = {0};
    if (!rfailed(&r))
        read_ds(&r, &ds);
    err = crdt_upd_dec_err(&r.d);
    if (!err) {
        writer_end_structs(&w);
        err = write_ds(&w.e, &ds, false, v2);
    }
    if (!err)
        err = writer_finish(&w, max_out, out);
    free(ds.v);
    free(state);
    writer_deinit(&w);
    reader_deinit(&r);
    return err;
}

static int walk(const void *p, size_t n, bool v2, const crdt_update_limits *lim, struct_fn f,
                void *arg)
{
    ops o;
    size_t max_out;
    ops_init(&o, v2, lim, &max_out);
    return walk_ops(&o, p, n, f, arg);
}

typedef struct sv_walk {
    bool any, stop;
    uint64_t client, clock;
    size_t size;
    sb_buf body;
} sv_walk;

static void sv_put(sv_walk *a)
{
    if (a->clock != 0) {
        a->size++;
        crdt_enc_var_uint(&a->body, a->client);
        crdt_enc_var_uint(&a->body, a->clock);
    }
}

static void sv_step(void *arg, const ystruct *s)
{
    sv_walk *a = arg;
    if (!a->any || a->client != s->client) {
        if (a->any)
            sv_put(a);
        a->any = true;
        a->client = s->client;
        a->clock = 0;
        a->stop = s->clock != 0; /* must start at 0 */
    }
    if (s->kind == K_SKIP)
        a->stop = true;
    if (!a->stop)
        a->clock = end(s);
}

int crdt_update_state_vector(const void *p, size_t n, bool v2, const crdt_update_limits *lim,
                             sb_buf *out)
{
    sv_walk a = {0};
    int err = walk(p, n, v2, lim, sv_step, &a);
    if (!err) {
        if (a.any)
            sv_put(&a);
        crdt_enc_var_uint(out, a.size);
        sb_buf_append(out, a.body.ptr, a.body.len);
    }
    sb_buf_free(&a.body);
    return err;
}

typedef struct meta_walk {
    bool any;
    uint64_t client, clock;
    crdt_update_clock *ev; /* runs: client, from clock; to in ev_to */
    uint64_t *ev_to;
    size_t n, cap;
} meta_walk;

static void meta_step(void *arg, const ystruct *s)
{
    meta_walk *a = arg;
    if (!a->any || a->client != s->client) {
        if (a->n == a->cap) {
            a->cap = a->cap ? a->cap * 2 : 16;
            a->ev = realloc(a->ev, a->cap * sizeof(*a->ev));
            a->ev_to = realloc(a->ev_to, a->cap * sizeof(*a->ev_to));
            if (!a->ev || !a->ev_to)
                abort();
        }
        a->ev[a->n++] = (crdt_update_clock){s->client, s->clock};
        a->any = true;
        a->client = s->client;
    }
    a->ev_to[a->n - 1] = end(s);
}

typedef struct run {
    uint64_t client;
    size_t first, last; /* indexes into the runs */
} run;

static int cmp_run(const void *a, const void *b)
{
    const run *x = a, *y = b;
    if (x->client != y->client)
        return x->client < y->client ? -1 : 1;
    return x->first < y->first ? -1 : x->first > y->first;
}

static int cmp_run_first(const void *a, const void *b)
{
    const run *x = a, *y = b;
    return x->first < y->first ? -1 : x->first > y->first;
}

int crdt_update_parse_meta(const void *p, size_t n, bool v2, const crdt_update_limits *lim,
                           crdt_update_meta *meta)
{
    meta_walk a = {0};
    int err = walk(p, n, v2, lim, meta_step, &a);
    if (!err) {
        /* Per client: the place of its first run, the clocks of its last
         * (Yjs sets Map entries run after run). */
        run *rs = calloc(a.n ? a.n : 1, sizeof(run));
        if (!rs)
            abort();
        for (size_t i = 0; i < a.n; i++)
            rs[i] = (run){a.ev[i].client, i, i};
        qsort(rs, a.n, sizeof(run), cmp_run);
        size_t k = 0;
        for (size_t i = 0; i < a.n; i++) {
            if (k && rs[k - 1].client == rs[i].client)
                rs[k - 1].last = rs[i].first;
            else
                rs[k++] = rs[i];
        }
        qsort(rs, k, sizeof(run), cmp_run_first);
        meta->n = k;
        meta->from = calloc(k ? k : 1, sizeof(crdt_update_clock));
        meta->to = calloc(k ? k : 1, sizeof(crdt_update_clock));
        if (!meta->from || !meta->to)
            abort();
        for (size_t i = 0; i < k; i++) {
            size_t l = rs[i].last;
            meta->from[i] = a.ev[l];
            meta->to[i] = (crdt_update_clock){a.ev[l].client, a.ev_to[l]};
        }
        free(rs);
    }
    free(a.ev);
    free(a.ev_to);
    return err;
}

void crdt_update_meta_free(crdt_update_meta *meta)
{
    free(meta->from);
    free(meta->to);
    meta->from = meta->to = NULL;
    meta->n = 0;
}
