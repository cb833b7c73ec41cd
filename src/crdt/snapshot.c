/*
 * snapshot.c: snapshots (Yjs Snapshot.js) and the document as it was at one.
 *
 * A snapshot is a state vector and a delete set: an item was there at the
 * snapshot when its clock is below the vector's clock for its client and
 * the delete set does not cover it (Yjs's isVisible). That only describes
 * past content while the content is still in the store, so everything that
 * reads a document at a snapshot refuses a doc with gc on (CRDT_E_GC), as
 * Y.createDocFromSnapshot throws for one.
 *
 * Two ways to read the past, as Yjs has them:
 * - Y.createDocFromSnapshot writes the structs below the vector and the
 *   snapshot's delete set as one update and applies it to a new document.
 *   crdt_doc_from_snapshot does exactly that, with our own decoder, so the
 *   new doc is what Yjs's is (pending structs for a vector that is not
 *   causally closed, formatting cleanup in nested texts, gc of the deleted
 *   content), and its JSON and state are Yjs's.
 * - Text.toDelta(snapshot, prevSnapshot) renders the live document,
 *   skipping what was not there, or with a previous snapshot marking what
 *   changed since (json.c's delta with snapshots).
 * Both first split the structs the snapshot cuts (at the vector's clocks,
 * and for the delta at the delete ranges' ends), inside a transaction whose
 * cleanup merges the pieces again, as Yjs does; so the store ends as Yjs's
 * does, pieces merged, and every item is either all there or all gone at
 * the snapshot.
 *
 * A decoded snapshot keeps what it read as Yjs keeps it (a Map of clients:
 * a later state-vector entry for a client replaces an earlier one; delete
 * ranges of one client in the order read), so equality and re-encoding
 * follow Y.equalSnapshots and Y.encodeSnapshot; lookups go through a
 * sorted and merged copy of the ranges.
 */
#include <stdlib.h>

#include "crdt/crdt_int.h"
#include "crdt/lib0.h"
#include "crdt/update_coder.h"

struct crdt_snapshot {
    crdt_ids sv;     /* clients ascending, one entry each (clock may be 0) */
    crdt_ranges ds;  /* clients ascending; a client's ranges in the order read */
    crdt_ranges del; /* ds sorted and merged, for lookups */
};

static crdt_snapshot *snapshot_new(void)
{
    return sb_calloc(1, sizeof(crdt_snapshot));
}

void crdt_snapshot_free(crdt_snapshot *s)
{
    if (!s)
        return;
    sb_vec_free(&s->sv);
    sb_vec_free(&s->ds);
    sb_vec_free(&s->del);
    free(s);
}

static void index_ranges(crdt_snapshot *s)
{
    s->del.len = 0;
    for (size_t i = 0; i < s->ds.len; i++)
        sb_vec_push(&s->del, s->ds.items[i]);
    crdt__ranges_sort_merge(&s->del);
}

static int id_client_cmp(const void *a, const void *b)
{
    const crdt_id *x = a, *y = b;
    return x->client < y->client ? -1 : x->client > y->client;
}

/* Y.snapshot(doc): createDeleteSetFromStructStore and getStateVector. */
crdt_snapshot *crdt_snapshot_take(crdt_doc *d)
{
    crdt_snapshot *s = snapshot_new();
    for (size_t ci = 0; ci < d->clients.len; ci++) {
        crdt_client *c = &d->clients.items[ci];
        if (!c->len)
            continue;
        sb_vec_push(&s->sv, ((crdt_id){c->client, crdt__state(d, c->client)}));
        for (size_t i = 0; i < c->len; i++) {
            if (!crdt__deleted(c->s[i]))
                continue;
            uint64_t clock = c->s[i]->id.clock, len = c->s[i]->length;
            while (i + 1 < c->len && crdt__deleted(c->s[i + 1]))
                len += c->s[++i]->length;
            crdt__ranges_add(&s->ds, c->client, clock, len);
        }
    }
    if (s->sv.len > 1)
        qsort(s->sv.items, s->sv.len, sizeof(crdt_id), id_client_cmp);
    /* per client the ranges are ascending and apart: sorting by client
     * keeps them as they are */
    crdt__ranges_sort_merge(&s->ds);
    index_ranges(s);
    return s;
}

/* --- encoding (Yjs encodeSnapshot: writeDeleteSet, writeStateVector, with
 * DSEncoderV1: plain var-uints) --- */

void crdt_snapshot_encode(const crdt_snapshot *s, sb_buf *out)
{
    const crdt_ranges *ds = &s->ds;
    size_t nclients = 0;
    for (size_t i = 0; i < ds->len; i++)
        if (i == 0 || ds->items[i].client != ds->items[i - 1].client)
            nclients++;
    crdt_enc_var_uint(out, nclients);
    /* clients descending, as writeDeleteSet sorts them */
    for (size_t end = ds->len; end > 0;) {
        size_t start = end - 1;
        while (start > 0 && ds->items[start - 1].client == ds->items[end - 1].client)
            start--;
        crdt_enc_var_uint(out, ds->items[start].client);
        crdt_enc_var_uint(out, end - start);
        for (size_t i = start; i < end; i++) {
            crdt_enc_var_uint(out, ds->items[i].clock);
            crdt_enc_var_uint(out, ds->items[i].len);
        }
        end = start;
    }
    crdt_enc_var_uint(out, s->sv.len);
    for (size_t i = s->sv.len; i-- > 0;) {
        crdt_enc_var_uint(out, s->sv.items[i].client);
        crdt_enc_var_uint(out, s->sv.items[i].clock);
    }
}

/* --- decoding --- */

/* An entry read at position seq, for a stable sort by client. */
typedef struct seq_range {
    crdt_range r;
    size_t seq;
} seq_range;

static int seq_range_cmp(const void *a, const void *b)
{
    const seq_range *x = a, *y = b;
    if (x->r.client != y->r.client)
        return x->r.client < y->r.client ? -1 : 1;
    return x->seq < y->seq ? -1 : x->seq > y->seq;
}

static crdt_err decode_fail(crdt_dec *dec, sb_errbuf *err, const char *what)
{
    crdt_err e = dec->err == CRDT_LIB0_EEOF     ? CRDT_E_TRUNCATED
                 : dec->err == CRDT_LIB0_ERANGE ? CRDT_E_LIMIT
                 : dec->err == CRDT_LIB0_ELIMIT ? CRDT_E_LIMIT
                                                : CRDT_E_MALFORMED;
    sb_errf(err, "snapshot: %s: %s at byte %zu", what,
            dec->err ? crdt_lib0_strerror(dec->err) : crdt_strerror(e), dec->pos);
    return e;
}

/* Reads a count of entries of at least min_bytes each, checked against
 * what is left, so a hostile count cannot make us allocate. */
static bool read_count(crdt_dec *dec, size_t min_bytes, uint64_t *n)
{
    *n = crdt_dec_var_uint(dec);
    if (!crdt_dec_ok(dec))
        return false;
    if (*n > crdt_dec_remaining(dec) / min_bytes) {
        crdt_dec_fail(dec, CRDT_LIB0_ELIMIT);
        return false;
    }
    return true;
}

/* The delete set part (Yjs readDeleteSet): clients in any order, repeated
 * clients adding to the same list. */
static bool read_ds(crdt_dec *dec, crdt_ranges *ds, const char **what)
{
    SB_VEC(seq_range) tmp = {0};
    uint64_t nclients, nranges;
    bool ok = false;
    *what = "delete set client count";
    if (!read_count(dec, 2, &nclients))
        goto out;
    for (uint64_t c = 0; c < nclients; c++) {
        *what = "delete set client";
        uint64_t client = crdt_dec_var_uint(dec);
        if (!crdt_dec_ok(dec))
            goto out;
        *what = "delete range count";
        if (!read_count(dec, 2, &nranges))
            goto out;
        *what = "delete range";
        for (uint64_t k = 0; k < nranges; k++) {
            uint64_t clock = crdt_dec_var_uint(dec);
            uint64_t len = crdt_dec_var_uint(dec);
            if (!crdt_dec_ok(dec))
                goto out;
            /* clocks are JavaScript integers: a range cannot end past
             * 2^53-1 (one that did would merge into lengths no update can
             * carry) */
            if (len > CRDT_MAX_SAFE_INT - clock) {
                crdt_dec_fail(dec, CRDT_LIB0_ERANGE);
                goto out;
            }
            sb_vec_push(&tmp, ((seq_range){{client, clock, len}, tmp.len}));
        }
    }
    if (tmp.len > 1)
        qsort(tmp.items, tmp.len, sizeof(seq_range), seq_range_cmp);
    for (size_t i = 0; i < tmp.len; i++)
        sb_vec_push(ds, tmp.items[i].r);
    ok = true;
out:
    sb_vec_free(&tmp);
    return ok;
}

typedef struct seq_id {
    crdt_id id;
    size_t seq;
} seq_id;

static int seq_id_cmp(const void *a, const void *b)
{
    const seq_id *x = a, *y = b;
    if (x->id.client != y->id.client)
        return x->id.client < y->id.client ? -1 : 1;
    return x->seq < y->seq ? -1 : x->seq > y->seq;
}

/* The state vector part (Yjs readStateVector: Map.set, the last entry of a
 * client wins). */
static bool read_sv(crdt_dec *dec, crdt_ids *sv, const char **what)
{
    SB_VEC(seq_id) tmp = {0};
    uint64_t n;
    bool ok = false;
    *what = "state vector length";
    if (!read_count(dec, 2, &n))
        goto out;
    *what = "state vector entry";
    for (uint64_t i = 0; i < n; i++) {
        uint64_t client = crdt_dec_var_uint(dec);
        uint64_t clock = crdt_dec_var_uint(dec);
        if (!crdt_dec_ok(dec))
            goto out;
        sb_vec_push(&tmp, ((seq_id){{client, clock}, tmp.len}));
    }
    if (tmp.len > 1)
        qsort(tmp.items, tmp.len, sizeof(seq_id), seq_id_cmp);
    for (size_t i = 0; i < tmp.len; i++) {
        if (i + 1 < tmp.len && tmp.items[i + 1].id.client == tmp.items[i].id.client)
            continue; /* a later entry of this client follows */
        sb_vec_push(sv, tmp.items[i].id);
    }
    ok = true;
out:
    sb_vec_free(&tmp);
    return ok;
}

crdt_err crdt_snapshot_decode(const void *p, size_t n, crdt_snapshot **out, sb_errbuf *err)
{
    crdt_dec dec;
    crdt_dec_init(&dec, p, n);
    crdt_snapshot *s = snapshot_new();
    const char *what = "";
    if (!read_ds(&dec, &s->ds, &what) || !read_sv(&dec, &s->sv, &what)) {
        crdt_err e = decode_fail(&dec, err, what);
        crdt_snapshot_free(s);
        return e;
    }
    if (crdt_dec_remaining(&dec)) {
        /* Yjs ignores what follows; nothing it writes has any */
        sb_errf(err, "snapshot: %zu bytes after the state vector", crdt_dec_remaining(&dec));
        crdt_snapshot_free(s);
        return CRDT_E_MALFORMED;
    }
    index_ranges(s);
    *out = s;
    return CRDT_OK;
}

bool crdt_snapshot_equal(const crdt_snapshot *a, const crdt_snapshot *b)
{
    if (a->sv.len != b->sv.len || a->ds.len != b->ds.len)
        return false;
    for (size_t i = 0; i < a->sv.len; i++)
        if (!crdt__id_eq(a->sv.items[i], b->sv.items[i]))
            return false;
    for (size_t i = 0; i < a->ds.len; i++) {
        const crdt_range *x = &a->ds.items[i], *y = &b->ds.items[i];
        if (x->client != y->client || x->clock != y->clock || x->len != y->len)
            return false;
    }
    return true;
}

/* --- visibility --- */

/* The vector's clock for client, or 0 (and *known false) without one. */
static uint64_t sv_clock(const crdt_snapshot *s, uint64_t client, bool *known)
{
    size_t lo = 0, hi = s->sv.len;
    while (lo < hi) {
        size_t m = lo + (hi - lo) / 2;
        if (s->sv.items[m].client < client)
            lo = m + 1;
        else
            hi = m;
    }
    *known = lo < s->sv.len && s->sv.items[lo].client == client;
    return *known ? s->sv.items[lo].clock : 0;
}

/* Yjs isDeleted(ds, id). */
static bool deleted_at(const crdt_snapshot *s, uint64_t client, uint64_t clock)
{
    /* the first range after (client, clock); the one before may cover it */
    size_t lo = 0, hi = s->del.len;
    while (lo < hi) {
        size_t m = lo + (hi - lo) / 2;
        const crdt_range *r = &s->del.items[m];
        if (r->client < client || (r->client == client && r->clock <= clock))
            lo = m + 1;
        else
            hi = m;
    }
    if (lo == 0)
        return false;
    const crdt_range *r = &s->del.items[lo - 1];
    return r->client == client && clock - r->clock < r->len;
}

bool crdt_snapshot_contains(const crdt_snapshot *s, uint64_t client, uint64_t clock)
{
    bool known;
    uint64_t end = sv_clock(s, client, &known);
    return known && clock < end && !deleted_at(s, client, clock);
}

bool crdt__snapshot_visible(const crdt_snapshot *s, const crdt_item *it)
{
    return crdt_snapshot_contains(s, it->id.client, it->id.clock);
}

/* --- the document at a snapshot --- */

static crdt_err refuse_gc(const crdt_doc *d, sb_errbuf *err)
{
    if (!d->gc)
        return CRDT_OK;
    sb_errf(err, "snapshot: %s (Yjs: garbage-collection must be disabled in `originDoc`)",
            crdt_strerror(CRDT_E_GC));
    return CRDT_E_GC;
}

/* Splits the struct at (client, clock) when it starts before it (Yjs
 * getItemCleanStart inside the caller's transaction). */
static void cut(crdt_doc *d, uint64_t client, uint64_t clock)
{
    if (clock > 0 && clock < crdt__state(d, client))
        crdt__clean_start(d, (crdt_id){client, clock});
}

/* splitSnapshotAffectedStructs: at the vector's clocks and at both ends of
 * the delete ranges the store has (iterateDeletedStructs: a client's ranges
 * in order, up to the first one past the store). */
static void cut_snapshot(crdt_doc *d, const crdt_snapshot *s)
{
    for (size_t i = 0; i < s->sv.len; i++)
        cut(d, s->sv.items[i].client, s->sv.items[i].clock);
    bool stop = false;
    for (size_t i = 0; i < s->ds.len; i++) {
        crdt_range r = s->ds.items[i];
        if (i > 0 && r.client != s->ds.items[i - 1].client)
            stop = false;
        uint64_t state = crdt__state(d, r.client);
        if (stop || r.clock >= state) {
            stop = true;
            continue;
        }
        if (r.len == 0)
            continue;
        cut(d, r.client, r.clock);
        cut(d, r.client, r.clock + r.len);
    }
}

/* The update createDocFromSnapshot applies: per client of the vector, the
 * structs from clock 0 up to the vector's clock, then the snapshot's
 * delete set. Runs in a transaction on d (the cut at each clock is merged
 * back when it ends). */
static crdt_err snapshot_update(crdt_doc *d, const crdt_snapshot *s, sb_buf *out, sb_errbuf *err)
{
    for (size_t i = 0; i < s->sv.len; i++) {
        crdt_id e = s->sv.items[i];
        uint64_t state = crdt__state(d, e.client);
        if (e.clock > state) {
            sb_errf(err,
                    "snapshot: ahead of the document: client %llu at clock %llu, the doc has %llu",
                    (unsigned long long)e.client, (unsigned long long)e.clock,
                    (unsigned long long)state);
            return CRDT_E_INCONSISTENT;
        }
    }
    crdt__txn_begin(d, NULL, true);
    crdt_upd_enc e;
    crdt_upd_enc_init(&e, false);
    sb_buf *rest = crdt_upd_enc_rest(&e);
    size_t n = 0;
    for (size_t i = 0; i < s->sv.len; i++)
        n += s->sv.items[i].clock > 0;
    crdt_enc_var_uint(rest, n);
    sb_buf tmp = SB_BUF_INIT;
    /* clients descending: the order of a decoded snapshot's Map (and the
     * order does not change what a doc makes of the update) */
    for (size_t i = s->sv.len; i-- > 0;) {
        crdt_id v = s->sv.items[i];
        if (v.clock == 0)
            continue;
        cut(d, v.client, v.clock);
        crdt_client *c = crdt__client_get(d, v.client);
        size_t last = crdt__find_index(c, v.clock - 1);
        crdt_enc_var_uint(rest, last + 1);
        crdt_upd_enc_client(&e, v.client);
        crdt_enc_var_uint(rest, 0);
        for (size_t k = 0; k <= last; k++)
            crdt__write_struct(&e, c->s[k], &tmp);
    }
    crdt__write_ds(&e, &s->ds);
    crdt_upd_enc_finish(&e, out);
    crdt_upd_enc_deinit(&e);
    sb_buf_free(&tmp);
    crdt__txn_end(d, NULL, NULL);
    return CRDT_OK;
}

crdt_err crdt_doc_from_snapshot(crdt_doc *d, const crdt_snapshot *s, uint64_t client_id, bool gc,
                                crdt_doc **out, sb_errbuf *err)
{
    crdt_err e = refuse_gc(d, err);
    if (e)
        return e;
    sb_buf u = SB_BUF_INIT;
    e = snapshot_update(d, s, &u, err);
    if (e) {
        sb_buf_free(&u);
        return e;
    }
    crdt_doc *nd = crdt_doc_new(client_id, gc);
    e = crdt_doc_apply_update(nd, u.ptr, u.len, err);
    sb_buf_free(&u);
    if (e) {
        crdt_doc_free(nd);
        return e;
    }
    *out = nd;
    return CRDT_OK;
}

crdt_err crdt_doc_json_at(crdt_doc *d, const crdt_snapshot *s, sb_str name, crdt_kind kind,
                          sb_buf *out, sb_errbuf *err)
{
    crdt_doc *at;
    crdt_err e = crdt_doc_from_snapshot(d, s, d->client_id, true, &at, err);
    if (e)
        return e;
    e = crdt_doc_json(at, name, kind, out);
    crdt_doc_free(at);
    return e;
}

crdt_err crdt_doc_encode_state_at(crdt_doc *d, const crdt_snapshot *s, sb_buf *out, sb_errbuf *err)
{
    crdt_doc *at;
    crdt_err e = crdt_doc_from_snapshot(d, s, d->client_id, true, &at, err);
    if (e)
        return e;
    e = crdt_doc_encode_state(at, NULL, 0, out);
    crdt_doc_free(at);
    return e;
}

crdt_err crdt_doc_text_delta_at(crdt_doc *d, const crdt_snapshot *s, const crdt_snapshot *prev,
                                sb_str name, sb_buf *out, sb_errbuf *err)
{
    crdt_err e = refuse_gc(d, err);
    if (e)
        return e;
    crdt_type *t = crdt__root(d, name.ptr, name.len, false);
    if (!t) {
        sb_buf_append(out, "[]", 2);
        return CRDT_OK;
    }
    crdt__txn_begin(d, NULL, true);
    if (s)
        cut_snapshot(d, s);
    if (prev)
        cut_snapshot(d, prev);
    e = crdt__delta_json(t, s, prev, out);
    crdt__txn_end(d, NULL, NULL);
    return e;
}
