/*
 * update_v1.c: Yjs's update format v1 (encoding.js, DeleteSet.js): decoding
 * an update into staged structs, integrating them with pending structs for
 * missing dependencies (Yjs's integrateStructs), applying delete sets with
 * pending deletes, and encoding the whole state or the diff against a state
 * vector byte for byte as Y.encodeStateAsUpdate does.
 *
 * An update is decoded completely, and checked against the document,
 * before anything is mutated: a malformed or contradictory update is
 * rejected and the document stays exactly as it was.
 *
 * Wire layout (v1): varuint #clients, per client: varuint #structs,
 * varuint client, varuint first clock, structs; then the delete set:
 * varuint #clients, per client: varuint client, varuint #ranges, ranges of
 * (varuint clock, varuint len). A struct is an info byte (content ref in
 * the low 5 bits, 0x80 origin, 0x40 right origin, 0x20 parent sub), the
 * origins as (client, clock), the parent when neither origin is given (1 +
 * root key, or 0 + parent item id) and parent sub, then the content.
 */
#include <assert.h>
#include <jansson.h>
#include <stdlib.h>
#include <string.h>

#include "base/utf8.h"
#include "crdt/any.h"
#include "crdt/crdt_int.h"
#include "crdt/lib0.h"
#include "crdt/update_coder.h"
#include "crdt/update_convert.h"

enum { P_NONE = 0, P_ROOT = 1, P_ID = 2 };

struct crdt_ref {
    crdt_item *it; /* a pool item: id, length, kind, flags, origins, content */
    uint8_t pkind;
    crdt_id pid;
    crdt_bytes pname; /* root key (P_ROOT) */
    crdt_bytes psub;  /* parent sub, when written */
};

typedef struct group {
    uint64_t client;
    SB_VEC(crdt_ref) refs;
    size_t i;
    bool dead; /* taken out (rest) */
} group;

typedef SB_VEC(group) groups;

static void ref_free(crdt_doc *d, crdt_ref *r)
{
    if (r->it) {
        crdt__content_free(d, r->it);
        crdt__item_release(d, r->it);
        r->it = NULL;
    }
    free(r->pname.p);
    free(r->psub.p);
    r->pname.p = r->psub.p = NULL;
}

static void groups_free(crdt_doc *d, groups *gs)
{
    for (size_t g = 0; g < gs->len; g++) {
        for (size_t i = 0; i < gs->items[g].refs.len; i++)
            ref_free(d, &gs->items[g].refs.items[i]);
        sb_vec_free(&gs->items[g].refs);
    }
    sb_vec_free(gs);
}

/* --- decoding --- */

typedef struct dctx {
    crdt_dec dec;
    crdt_err err;
    sb_errbuf *eb;
} dctx;

static bool fail(dctx *c, crdt_err e, const char *what)
{
    if (c->err == CRDT_OK) {
        c->err = e;
        sb_errf(c->eb, "%s: %s at byte %zu", crdt_strerror(e), what, c->dec.pos);
    }
    return false;
}

static bool dec_check(dctx *c, const char *what)
{
    if (crdt_dec_ok(&c->dec))
        return true;
    crdt_err e = c->dec.err == CRDT_LIB0_EEOF     ? CRDT_E_TRUNCATED
                 : c->dec.err == CRDT_LIB0_EUTF8  ? CRDT_E_UTF8
                 : c->dec.err == CRDT_LIB0_ELIMIT ? CRDT_E_LIMIT
                 : c->dec.err == CRDT_LIB0_EDEPTH ? CRDT_E_LIMIT
                 : c->dec.err == CRDT_LIB0_ERANGE ? CRDT_E_LIMIT
                                                  : CRDT_E_MALFORMED;
    if (c->err == CRDT_OK) {
        c->err = e;
        sb_errf(c->eb, "%s: %s (%s) at byte %zu", crdt_strerror(e), what,
                crdt_lib0_strerror(c->dec.err), c->dec.pos);
    }
    return false;
}

/* JSON.parse(s) as an any; false when s is not JSON. */
bool crdt__json_parse(const char *s, size_t n, crdt_any *out)
{
    json_error_t je;
    json_t *j = json_loadb(s, n, JSON_DECODE_ANY | JSON_ALLOW_NUL | JSON_DECODE_INT_AS_REAL, &je);
    if (!j)
        return false;
    bool ok = crdt_any_from_json(j, out);
    json_decref(j);
    return ok;
}

/* JSON.stringify(JSON.parse(s)) into out; false when s is not JSON. */
bool crdt__json_canon(const char *s, size_t n, crdt_bytes *out)
{
    crdt_any v;
    if (!crdt__json_parse(s, n, &v))
        return false;
    sb_buf b = SB_BUF_INIT;
    crdt_any_to_json(&v, &b);
    crdt_any_free(&v);
    crdt__bytes_set(out, b.ptr ? b.ptr : "", b.len);
    sb_buf_free(&b);
    return true;
}

/* Reads one any and keeps its canonical encoding (what Yjs writes back). */
static bool read_any(dctx *c, crdt_bytes *out)
{
    crdt_any v;
    if (crdt_any_read(&c->dec, &v) != 0)
        return dec_check(c, "any value");
    sb_buf b = SB_BUF_INIT;
    crdt_any_write(&b, &v);
    crdt_any_free(&v);
    crdt__bytes_set(out, b.ptr, b.len);
    sb_buf_free(&b);
    return true;
}

static bool js_truthy(const crdt_any *v)
{
    switch (v->kind) {
    case CRDT_ANY_UNDEFINED:
    case CRDT_ANY_NULL:
        return false;
    case CRDT_ANY_NUMBER:
        return v->u.num != 0 && v->u.num == v->u.num;
    case CRDT_ANY_BIGINT:
        return v->u.big != 0;
    case CRDT_ANY_BOOL:
        return v->u.b;
    case CRDT_ANY_STRING:
        return v->u.str.len > 0;
    default:
        return true;
    }
}

/* ContentDoc re-encodes the options of the Doc it made, not what it read:
 * {gc: false} when gc was falsy, {autoLoad: true} when truthy, meta. */
static bool read_doc_opts(dctx *c, crdt_bytes *out)
{
    crdt_any v;
    if (crdt_any_read(&c->dec, &v) != 0)
        return dec_check(c, "subdocument options");
    crdt_any o = crdt_any_object();
    if (v.kind == CRDT_ANY_OBJECT) {
        const crdt_any *gc = crdt_any_object_get(&v, "gc", 2);
        if (gc && gc->kind != CRDT_ANY_UNDEFINED && !js_truthy(gc))
            crdt_any_object_set(&o, "gc", 2, crdt_any_bool(false));
        const crdt_any *al = crdt_any_object_get(&v, "autoLoad", 8);
        if (al && js_truthy(al))
            crdt_any_object_set(&o, "autoLoad", 8, crdt_any_bool(true));
        const crdt_any *meta = crdt_any_object_get(&v, "meta", 4);
        if (meta && meta->kind != CRDT_ANY_UNDEFINED && meta->kind != CRDT_ANY_NULL)
            crdt_any_object_set(&o, "meta", 4, crdt_any_copy(meta));
    }
    crdt_any_free(&v);
    sb_buf b = SB_BUF_INIT;
    crdt_any_write(&b, &o);
    crdt_any_free(&o);
    crdt__bytes_set(out, b.ptr, b.len);
    sb_buf_free(&b);
    return true;
}

static bool read_json_str(dctx *c, crdt_bytes *out, bool allow_undefined)
{
    sb_str s = crdt_dec_var_string(&c->dec);
    if (!dec_check(c, "JSON string"))
        return false;
    if (allow_undefined && s.len == 9 && memcmp(s.ptr, "undefined", 9) == 0) {
        crdt__bytes_set(out, s.ptr, s.len);
        return true;
    }
    if (!crdt__json_canon(s.ptr, s.len, out))
        return fail(c, CRDT_E_JSON, "content JSON");
    return true;
}

static bool read_content(crdt_doc *d, dctx *c, crdt_item *it, unsigned ref)
{
    crdt_dec *dec = &c->dec;
    it->ckind = (uint8_t)ref;
    switch (ref) {
    case CRDT_C_DELETED:
        it->length = crdt_dec_var_uint(dec);
        return dec_check(c, "deleted length");
    case CRDT_C_JSON:
    case CRDT_C_ANY: {
        uint64_t n = crdt_dec_var_uint(dec);
        if (!dec_check(c, "content length"))
            return false;
        if (n > crdt_dec_remaining(dec))
            return fail(c, CRDT_E_LIMIT, "content length exceeds the input");
        it->c.list.v = sb_calloc(n ? n : 1, sizeof(crdt_bytes));
        it->c.list.cap = n;
        for (uint64_t i = 0; i < n; i++) {
            bool ok = ref == CRDT_C_ANY ? read_any(c, &it->c.list.v[i])
                                        : read_json_str(c, &it->c.list.v[i], true);
            it->length = i + 1; /* so a failure frees what was read */
            if (!ok)
                return false;
        }
        it->length = n;
        return true;
    }
    case CRDT_C_BINARY: {
        sb_str s = crdt_dec_var_bytes(dec);
        if (!dec_check(c, "binary"))
            return false;
        crdt__bytes_set(&it->c.bin, s.ptr, s.len);
        it->length = 1;
        return true;
    }
    case CRDT_C_STRING: {
        sb_str s = crdt_dec_var_string(dec);
        if (!dec_check(c, "string"))
            return false;
        size_t n = sb_utf16_len(s.ptr, s.len);
        it->c.str.u = sb_malloc((n ? n : 1) * sizeof(uint16_t));
        it->c.str.cap = n;
        it->length = crdt__utf8_to_utf16(s.ptr, s.len, it->c.str.u);
        return true;
    }
    case CRDT_C_EMBED:
        it->length = 1;
        return read_json_str(c, &it->c.bin, false);
    case CRDT_C_FORMAT: {
        sb_str k = crdt_dec_var_string(dec);
        if (!dec_check(c, "format key"))
            return false;
        crdt__bytes_set(&it->c.fmt.key, k.ptr, k.len);
        it->length = 1;
        crdt_bytes v = {0};
        if (!read_json_str(c, &v, false))
            return false;
        it->c.fmt.val = crdt__fval_new(v.p, v.n);
        free(v.p);
        return true;
    }
    case CRDT_C_TYPE: {
        uint64_t tr = crdt_dec_var_uint(dec);
        if (!dec_check(c, "type ref"))
            return false;
        if (tr > CRDT_T_XML_TEXT)
            return fail(c, CRDT_E_CONTENT, "unknown type ref");
        crdt_type *t = crdt__type_new((uint8_t)tr);
        it->c.type = t;
        it->length = 1;
        if (tr == CRDT_T_XML_ELEMENT || tr == CRDT_T_XML_HOOK) {
            sb_str k = crdt_dec_var_string(dec);
            if (!dec_check(c, "node name"))
                return false;
            crdt__bytes_set(&t->name, k.ptr, k.len);
        }
        return true;
    }
    case CRDT_C_DOC: {
        sb_str g = crdt_dec_var_string(dec);
        if (!dec_check(c, "subdocument guid"))
            return false;
        crdt__bytes_set(&it->c.doc.guid, g.ptr, g.len);
        it->length = 1;
        return read_doc_opts(c, &it->c.doc.opts);
    }
    default:
        it->ckind = CRDT_C_DELETED;
        return fail(c, CRDT_E_CONTENT, "unknown content ref");
    }
}

static bool read_id(dctx *c, crdt_id *id, const char *what)
{
    id->client = crdt_dec_var_uint(&c->dec);
    id->clock = crdt_dec_var_uint(&c->dec);
    return dec_check(c, what);
}

/* Reads the struct part of an update into gs. */
static bool read_structs(crdt_doc *d, dctx *c, groups *gs)
{
    crdt_dec *dec = &c->dec;
    uint64_t nclients = crdt_dec_var_uint(dec);
    if (!dec_check(c, "client count"))
        return false;
    if (nclients > crdt_dec_remaining(dec))
        return fail(c, CRDT_E_LIMIT, "client count exceeds the input");
    for (uint64_t ci = 0; ci < nclients; ci++) {
        uint64_t nstructs = crdt_dec_var_uint(dec);
        uint64_t client = crdt_dec_var_uint(dec);
        uint64_t clock = crdt_dec_var_uint(dec);
        if (!dec_check(c, "client header"))
            return false;
        if (nstructs > crdt_dec_remaining(dec))
            return fail(c, CRDT_E_LIMIT, "struct count exceeds the input");
        /* a later group of the same client replaces the earlier (Yjs: Map.set) */
        group *g = NULL;
        for (size_t k = 0; k < gs->len; k++) {
            if (gs->items[k].client == client) {
                g = &gs->items[k];
                for (size_t i = 0; i < g->refs.len; i++)
                    ref_free(d, &g->refs.items[i]);
                g->refs.len = 0;
            }
        }
        if (!g) {
            sb_vec_push(gs, ((group){.client = client}));
            g = &gs->items[gs->len - 1];
        }
        sb_vec_reserve(&g->refs, nstructs);
        for (uint64_t si = 0; si < nstructs; si++) {
            uint8_t info = crdt_dec_u8(dec);
            if (!dec_check(c, "struct info"))
                return false;
            crdt_ref r = {0};
            r.it = crdt__item_alloc(d);
            crdt_item *it = r.it;
            it->id = (crdt_id){client, clock};
            sb_vec_push(&g->refs, r);
            unsigned ref = info & 31;
            /* Yjs's update reader takes a Skip only as info 10 exactly
             * (other bits set make it an item of the unknown content 10) */
            if (ref == CRDT_C_SKIP && info != CRDT_C_SKIP)
                return fail(c, CRDT_E_MALFORMED, "skip struct with flag bits");
            if (ref == CRDT_C_GC || ref == CRDT_C_SKIP) {
                it->kind = ref == CRDT_C_GC ? CRDT_STRUCT_GC : CRDT_STRUCT_SKIP;
                it->ckind = CRDT_C_DELETED;
                it->length = crdt_dec_var_uint(dec);
                if (!dec_check(c, "struct length"))
                    return false;
            } else {
                it->kind = CRDT_STRUCT_ITEM;
                crdt_ref *rp = &g->refs.items[g->refs.len - 1];
                if (info & 0x80) {
                    if (!read_id(c, &it->origin, "origin"))
                        return false;
                    it->flags |= CRDT_F_HAS_ORIGIN;
                }
                if (info & 0x40) {
                    if (!read_id(c, &it->rorigin, "right origin"))
                        return false;
                    it->flags |= CRDT_F_HAS_RORIGIN;
                }
                if (!(info & 0xC0)) {
                    uint64_t pi = crdt_dec_var_uint(dec);
                    if (!dec_check(c, "parent info"))
                        return false;
                    if (pi == 1) {
                        sb_str k = crdt_dec_var_string(dec);
                        if (!dec_check(c, "parent key"))
                            return false;
                        rp->pkind = P_ROOT;
                        crdt__bytes_set(&rp->pname, k.ptr, k.len);
                    } else {
                        rp->pkind = P_ID;
                        if (!read_id(c, &rp->pid, "parent id"))
                            return false;
                    }
                    if (info & 0x20) {
                        sb_str k = crdt_dec_var_string(dec);
                        if (!dec_check(c, "parent sub"))
                            return false;
                        crdt__bytes_set(&rp->psub, k.ptr, k.len);
                    }
                }
                if (!read_content(d, c, it, ref))
                    return false;
                /* references to the same client must point backwards, or
                 * Yjs would fail half-way through integrating */
                if (((it->flags & CRDT_F_HAS_ORIGIN) && it->origin.client == client &&
                     it->origin.clock >= clock) ||
                    ((it->flags & CRDT_F_HAS_RORIGIN) && it->rorigin.client == client &&
                     it->rorigin.clock >= clock) ||
                    (rp->pkind == P_ID && rp->pid.client == client && rp->pid.clock >= clock))
                    return fail(c, CRDT_E_INCONSISTENT, "struct refers to its own future");
                /* an item cannot sit between a struct and itself; Yjs would
                 * integrate it where no other replica can agree */
                if ((it->flags & CRDT_F_HAS_ORIGIN) && (it->flags & CRDT_F_HAS_RORIGIN) &&
                    crdt__id_eq(it->origin, it->rorigin))
                    return fail(c, CRDT_E_INCONSISTENT, "origin equals right origin");
            }
            if (it->length == 0)
                return fail(c, CRDT_E_MALFORMED, "struct of length 0");
            if (it->length > CRDT_MAX_CLOCK - clock)
                return fail(c, CRDT_E_LIMIT, "clock above 2^53");
            clock += it->length;
        }
    }
    return true;
}

static bool read_ds(dctx *c, crdt_ranges *ds)
{
    crdt_dec *dec = &c->dec;
    uint64_t n = crdt_dec_var_uint(dec);
    if (!dec_check(c, "delete set client count"))
        return false;
    if (n > crdt_dec_remaining(dec))
        return fail(c, CRDT_E_LIMIT, "delete set client count exceeds the input");
    for (uint64_t i = 0; i < n; i++) {
        uint64_t client = crdt_dec_var_uint(dec);
        uint64_t k = crdt_dec_var_uint(dec);
        if (!dec_check(c, "delete set header"))
            return false;
        if (k > crdt_dec_remaining(dec))
            return fail(c, CRDT_E_LIMIT, "delete range count exceeds the input");
        for (uint64_t j = 0; j < k; j++) {
            uint64_t clock = crdt_dec_var_uint(dec);
            uint64_t len = crdt_dec_var_uint(dec);
            if (!dec_check(c, "delete range"))
                return false;
            /* the end too: merged with others, a range ending past 2^53
             * would make a state no one can read back */
            if (clock > CRDT_MAX_CLOCK || len > CRDT_MAX_CLOCK - clock)
                return fail(c, CRDT_E_LIMIT, "delete range ending above 2^53");
            crdt__ranges_add(ds, client, clock, len);
        }
    }
    return true;
}

/* --- integration (Yjs integrateStructs) --- */

static group *group_of(groups *gs, uint64_t client)
{
    for (size_t k = 0; k < gs->len; k++)
        if (gs->items[k].client == client && !gs->items[k].dead)
            return &gs->items[k];
    return NULL;
}

static void missing_set(crdt_ids *m, uint64_t client, uint64_t clock)
{
    for (size_t i = 0; i < m->len; i++) {
        if (m->items[i].client == client) {
            if (m->items[i].clock > clock)
                m->items[i].clock = clock;
            return;
        }
    }
    sb_vec_push(m, ((crdt_id){client, clock}));
}

typedef SB_VEC(crdt_ref) refvec;

/* Resolves origins and parent (Yjs Item.getMissing). Returns true and sets
 * *missing when a dependency from another client is absent. */
static bool get_missing(crdt_doc *d, crdt_ref *r, uint64_t *missing)
{
    crdt_item *it = r->it;
    uint64_t cl = it->id.client;
    if ((it->flags & CRDT_F_HAS_ORIGIN) && it->origin.client != cl &&
        it->origin.clock >= crdt__state(d, it->origin.client)) {
        *missing = it->origin.client;
        return true;
    }
    if ((it->flags & CRDT_F_HAS_RORIGIN) && it->rorigin.client != cl &&
        it->rorigin.clock >= crdt__state(d, it->rorigin.client)) {
        *missing = it->rorigin.client;
        return true;
    }
    if (r->pkind == P_ID && r->pid.client != cl && r->pid.clock >= crdt__state(d, r->pid.client)) {
        *missing = r->pid.client;
        return true;
    }
    if (it->flags & CRDT_F_HAS_ORIGIN) {
        it->left = crdt__clean_end(d, it->origin);
        it->origin = crdt__last_id(it->left);
    }
    if (it->flags & CRDT_F_HAS_RORIGIN) {
        it->right = crdt__clean_start(d, it->rorigin);
        it->rorigin = it->right->id;
    }
    it->parent = NULL;
    if ((it->left && it->left->kind == CRDT_STRUCT_GC) ||
        (it->right && it->right->kind == CRDT_STRUCT_GC)) {
        it->parent = NULL;
    } else if (r->pkind == P_NONE) {
        crdt_item *src = it->left && it->left->kind == CRDT_STRUCT_ITEM     ? it->left
                         : it->right && it->right->kind == CRDT_STRUCT_ITEM ? it->right
                                                                            : NULL;
        if (src) {
            it->parent = src->parent;
            it->parent_sub = src->parent_sub;
            it->parent_sub_len = src->parent_sub_len;
        }
    } else {
        if (r->pkind == P_ID) {
            crdt_item *p = crdt__find(d, r->pid);
            if (p->kind == CRDT_STRUCT_ITEM && p->ckind == CRDT_C_TYPE)
                it->parent = p->c.type;
        } else {
            it->parent = crdt__root(d, r->pname.p, r->pname.n, true);
        }
        if (it->parent && r->psub.p) {
            crdt_map_entry *e = crdt__type_entry(it->parent, r->psub.p, r->psub.n, true);
            it->parent_sub = e->key.p;
            it->parent_sub_len = (uint32_t)e->key.n;
        }
    }
    return false;
}

static void integrate_ref(crdt_doc *d, crdt_ref *r, uint64_t offset)
{
    crdt_item *it = r->it;
    r->it = NULL;
    free(r->pname.p);
    free(r->psub.p);
    r->pname.p = r->psub.p = NULL;
    if (it->kind == CRDT_STRUCT_ITEM && !it->parent) {
        /* no parent (it was collected): a GC struct takes the range */
        crdt__content_free(d, it);
        if (offset) {
            it->id.clock += offset;
            crdt__clean_end(d, (crdt_id){it->id.client, it->id.clock - 1});
            it->length -= offset;
            offset = 0;
        }
        it->kind = CRDT_STRUCT_GC;
        it->ckind = CRDT_C_DELETED;
        it->flags = 0;
        it->left = it->right = NULL;
    }
    crdt__integrate(d, it, offset);
}

/* Moves r into the rest (pending) lists. */
static void rest_put(crdt_doc *d, groups *rest, uint64_t client, crdt_ref *refs, size_t n)
{
    group *g = NULL;
    for (size_t k = 0; k < rest->len; k++)
        if (rest->items[k].client == client)
            g = &rest->items[k];
    if (!g) {
        sb_vec_push(rest, ((group){.client = client}));
        g = &rest->items[rest->len - 1];
    } else {
        /* Yjs: restStructs.clients.set replaces (the earlier refs are lost) */
        for (size_t i = 0; i < g->refs.len; i++) {
            bool kept = false;
            for (size_t j = 0; j < n; j++)
                kept |= g->refs.items[i].it == refs[j].it;
            if (!kept)
                ref_free(d, &g->refs.items[i]);
        }
        g->refs.len = 0;
    }
    for (size_t i = 0; i < n; i++)
        sb_vec_push(&g->refs, refs[i]);
}

static int u64_cmp(const void *a, const void *b)
{
    uint64_t x = *(const uint64_t *)a, y = *(const uint64_t *)b;
    return x < y ? -1 : x > y;
}

/* Integrates gs (consumed); what cannot be integrated goes to rest, with
 * the lowest missing clock per client in missing. Dropped refs are freed. */
static void integrate_structs(crdt_doc *d, groups *gs, groups *rest, crdt_ids *missing)
{
    SB_VEC(uint64_t) ids = {0};
    for (size_t k = 0; k < gs->len; k++)
        sb_vec_push(&ids, gs->items[k].client);
    if (ids.len > 1)
        qsort(ids.items, ids.len, sizeof(uint64_t), u64_cmp);
    SB_VEC(crdt_ref *) stack = {0};
    SB_VEC(crdt_ref *) dropped = {0};

#define NEXT_TARGET()                                                                              \
    do {                                                                                           \
        cur = NULL;                                                                                \
        while (ids.len) {                                                                          \
            group *g_ = group_of(gs, ids.items[ids.len - 1]);                                      \
            if (g_ && g_->i < g_->refs.len) {                                                      \
                cur = g_;                                                                          \
                break;                                                                             \
            }                                                                                      \
            ids.len--;                                                                             \
        }                                                                                          \
    } while (0)

    group *cur;
    NEXT_TARGET();
    if (!cur)
        goto out;
    crdt_ref *head = &cur->refs.items[cur->i++];
    for (;;) {
        crdt_item *hit = head->it;
        if (hit && hit->kind != CRDT_STRUCT_SKIP) {
            uint64_t local = crdt__state(d, hit->id.client);
            if (local < hit->id.clock) {
                sb_vec_push(&stack, head);
                missing_set(missing, hit->id.client, hit->id.clock - 1);
                goto dead_wall;
            }
            uint64_t offset = local - hit->id.clock;
            uint64_t mclient;
            if (get_missing(d, head, &mclient)) {
                sb_vec_push(&stack, head);
                group *mg = group_of(gs, mclient);
                if (!mg || mg->i == mg->refs.len) {
                    missing_set(missing, mclient, crdt__state(d, mclient));
                    goto dead_wall;
                }
                head = &mg->refs.items[mg->i++];
                continue;
            }
            if (offset == 0 || offset < hit->length)
                integrate_ref(d, head, offset);
            else
                sb_vec_push(&dropped, head);
        } else if (hit) {
            sb_vec_push(&dropped, head);
        }
        goto next;
    dead_wall:
        for (size_t s = 0; s < stack.len; s++) {
            crdt_ref *sr = stack.items[s];
            uint64_t client = sr->it->id.client;
            group *g = group_of(gs, client);
            if (g) {
                g->i--;
                rest_put(d, rest, client, g->refs.items + g->i, g->refs.len - g->i);
                g->refs.len = g->i; /* moved out */
                g->dead = true;
            } else {
                rest_put(d, rest, client, sr, 1);
                sr->it = NULL; /* moved */
                /* keep the moved ref's strings: rest_put copied the struct */
                sr->pname.p = sr->psub.p = NULL;
            }
            size_t w = 0;
            for (size_t q = 0; q < ids.len; q++)
                if (ids.items[q] != client)
                    ids.items[w++] = ids.items[q];
            ids.len = w;
        }
        stack.len = 0;
    next:
        if (stack.len) {
            head = stack.items[--stack.len];
        } else if (cur && !cur->dead && cur->i < cur->refs.len) {
            head = &cur->refs.items[cur->i++];
        } else {
            NEXT_TARGET();
            if (!cur)
                break;
            head = &cur->refs.items[cur->i++];
        }
    }
#undef NEXT_TARGET
out:
    for (size_t i = 0; i < dropped.len; i++)
        ref_free(d, dropped.items[i]);
    /* refs never reached (moved refs have it == NULL) */
    for (size_t k = 0; k < gs->len; k++) {
        group *g = &gs->items[k];
        for (size_t i = 0; i < g->refs.len; i++)
            ref_free(d, &g->refs.items[i]);
        sb_vec_free(&g->refs);
    }
    gs->len = 0;
    sb_vec_free(gs);
    sb_vec_free(&ids);
    sb_vec_free(&stack);
    sb_vec_free(&dropped);
}

/* Yjs readAndApplyDeleteSet: deletes what is known, returns the rest. */
static void apply_ds(crdt_doc *d, const crdt_ranges *ds, crdt_ranges *unapplied)
{
    for (size_t i = 0; i < ds->len; i++) {
        crdt_range r = ds->items[i];
        uint64_t state = crdt__state(d, r.client);
        uint64_t end = r.clock + r.len;
        if (r.clock >= state) {
            crdt__ranges_add(unapplied, r.client, r.clock, r.len);
            continue;
        }
        if (state < end)
            crdt__ranges_add(unapplied, r.client, state, end - state);
        crdt_client *c = crdt__client_get(d, r.client);
        size_t idx = crdt__find_index(c, r.clock);
        crdt_item *s = c->s[idx];
        if (!crdt__deleted(s) && s->id.clock < r.clock) {
            crdt_item *rt = crdt__split(d, s, r.clock - s->id.clock);
            crdt__client_insert(c, idx + 1, rt);
            idx++;
        }
        while (idx < c->len) {
            s = c->s[idx++];
            if (s->id.clock >= end)
                break;
            if (!crdt__deleted(s)) {
                if (end < s->id.clock + s->length) {
                    crdt_item *rt = crdt__split(d, s, end - s->id.clock);
                    crdt__client_insert(c, idx, rt);
                }
                crdt__delete(d, s);
            }
        }
    }
}

/* sliceStruct: drops the first diff clocks of r. A sliced item has its
 * left neighbour as origin and no parent info, as Yjs writes and reads it
 * back in the pending update. */
static void ref_slice(crdt_doc *d, crdt_ref *r, uint64_t diff)
{
    crdt_item *it = r->it;
    if (it->kind == CRDT_STRUCT_ITEM) {
        crdt_item *right = crdt__item_alloc(d);
        *right = *it;
        crdt__content_split(it, right, diff);
        it->length = diff;
        crdt__content_free(d, it);
        crdt__item_release(d, it);
        right->origin = (crdt_id){right->id.client, right->id.clock + diff - 1};
        right->flags |= CRDT_F_HAS_ORIGIN;
        free(r->pname.p);
        free(r->psub.p);
        r->pname = r->psub = (crdt_bytes){0};
        r->pkind = P_NONE;
        r->it = it = right;
    }
    it->id.clock += diff;
    it->length -= diff;
}

/* One input of a pending merge: refs of all clients, clients descending. */
typedef struct pq {
    crdt_ref **v;
    size_t n, i;
} pq;

static int pq_client_desc(const void *a, const void *b)
{
    uint64_t x = (*(crdt_ref *const *)a)->it->id.client;
    uint64_t y = (*(crdt_ref *const *)b)->it->id.client;
    return x > y ? -1 : x < y;
}

/* Yjs reads the inputs of mergeUpdates with filterSkips: input Skips are
 * dropped (freed) here. */
/* Sorts n elements of size sz by cmp, keeping equal ones in their order
 * (clocks stay ascending within a client). Runs already in order, the
 * common case, cost one pass: an insertion sort, moving each element
 * once to its place. */
static void stable_sort(void *v, size_t n, size_t sz, int (*cmp)(const void *, const void *))
{
    unsigned char t[128]; /* the largest element: went */
    assert(sz <= sizeof(t));
    unsigned char *b = v;
    for (size_t a = 1; a < n; a++) {
        size_t k = a;
        while (k > 0 && cmp(b + (k - 1) * sz, b + a * sz) > 0)
            k--;
        if (k == a)
            continue;
        memcpy(t, b + a * sz, sz);
        memmove(b + (k + 1) * sz, b + k * sz, (a - k) * sz);
        memcpy(b + k * sz, t, sz);
    }
}

static void pq_of(crdt_doc *d, pq *q, void **gv, size_t ng, bool indirect)
{
    size_t n = 0;
    for (size_t g = 0; g < ng; g++) {
        group *gr = indirect ? (group *)gv[g] : &((group *)gv)[g];
        n += gr->refs.len;
    }
    q->v = sb_malloc((n + 1) * sizeof(crdt_ref *));
    q->n = q->i = 0;
    for (size_t g = 0; g < ng; g++) {
        group *gr = indirect ? (group *)gv[g] : &((group *)gv)[g];
        for (size_t k = 0; k < gr->refs.len; k++) {
            crdt_ref *r = &gr->refs.items[k];
            if (r->it && r->it->kind == CRDT_STRUCT_SKIP)
                ref_free(d, r);
            else if (r->it)
                q->v[q->n++] = r;
        }
    }
    stable_sort(q->v, q->n, sizeof(*q->v), pq_client_desc);
}

static crdt_ref *pq_cur(pq *q)
{
    return q->i < q->n ? q->v[q->i] : NULL;
}

/* Whether V8's sort puts the second of two lazyStructDecoders first: it
 * asks compare(second, first) and swaps when that is negative. Yjs's
 * comparator: higher clients first, then lower clocks; at equal clocks 0
 * for the same constructor, else -1 unless the first argument is a Skip
 * (none here: inputs are read with filterSkips). So at a tie between a GC
 * and an Item the two swap at every step, and which one is written
 * depends on their order before it, which is why the order persists. */
static bool v8_swaps(uint64_t c0, uint64_t k0, uint8_t kind0, uint64_t c1, uint64_t k1,
                     uint8_t kind1)
{
    if (c0 != c1)
        return c1 > c0;
    if (k0 != k1)
        return k1 < k0;
    return kind0 != kind1;
}

static void out_push(groups *out, crdt_ref r)
{
    uint64_t client = r.it->id.client;
    if (!out->len || out->items[out->len - 1].client != client)
        sb_vec_push(out, ((group){.client = client}));
    sb_vec_push(&out->items[out->len - 1].refs, r);
}

/* The pending structs become mergeUpdates([pending, rest]), as Yjs keeps
 * them (one merged update): per clock the first writer wins, later
 * structs that overlap what was written are sliced or dropped, and
 * adjacent GC structs merge. The order of the two inputs persists between
 * steps as Yjs's in-place stable sort keeps it. Gaps are left as gaps: Yjs
 * writes Skips there, which nothing reads back, and which cannot change
 * the merge (each ends where the next struct starts). */
static void groups_merge_into_pending(crdt_doc *d, groups *rest)
{
    pq qs[2];
    pq_of(d, &qs[0], d->pending.items, d->pending.len, true);
    pq_of(d, &qs[1], (void **)rest->items, rest->len, false);
    pq *ord[2] = {&qs[0], &qs[1]};
    groups out = {0};
    crdt_ref cw = {0};
    bool have = false;
    for (;;) {
        pq *live[2];
        int n = 0;
        for (int k = 0; k < 2; k++)
            if (pq_cur(ord[k]))
                live[n++] = ord[k];
        if (!n)
            break;
        crdt_item *x = n == 2 ? pq_cur(live[0])->it : NULL,
                  *y = n == 2 ? pq_cur(live[1])->it : NULL;
        if (n == 2 &&
            v8_swaps(x->id.client, x->id.clock, x->kind, y->id.client, y->id.clock, y->kind)) {
            pq *t = live[0];
            live[0] = live[1];
            live[1] = t;
        }
        ord[0] = live[0];
        ord[1] = n == 2 ? live[1] : (ord[0] == &qs[0] ? &qs[1] : &qs[0]);
        pq *cd = live[0];
        crdt_ref *cur = pq_cur(cd);
        uint64_t first = cur->it->id.client;
        if (have) {
            uint64_t cw_end = cw.it->id.clock + cw.it->length;
            bool iterated = false;
            while (cur && cur->it->id.clock + cur->it->length <= cw_end &&
                   cur->it->id.client >= cw.it->id.client) {
                ref_free(d, cur);
                cd->i++;
                cur = pq_cur(cd);
                iterated = true;
            }
            if (!cur || cur->it->id.client != first || (iterated && cur->it->id.clock > cw_end))
                continue;
            if (first != cw.it->id.client) {
                out_push(&out, cw);
                cw = *cur;
                cd->i++;
            } else if (cw_end < cur->it->id.clock) { /* a gap */
                out_push(&out, cw);
                cw = *cur;
                cd->i++;
            } else {
                uint64_t diff = cw_end - cur->it->id.clock;
                if (diff > 0)
                    ref_slice(d, cur, diff);
                if (cw.it->kind == cur->it->kind && cw.it->kind != CRDT_STRUCT_ITEM) {
                    cw.it->length += cur->it->length;
                    ref_free(d, cur);
                } else {
                    out_push(&out, cw);
                    cw = *cur;
                }
                cd->i++;
            }
        } else {
            cw = *cur;
            cd->i++;
            have = true;
        }
        for (crdt_ref *nx = pq_cur(cd); nx && nx->it->id.client == first &&
                                        nx->it->id.clock == cw.it->id.clock + cw.it->length;
             nx = pq_cur(cd)) {
            out_push(&out, cw);
            cw = *nx;
            cd->i++;
        }
    }
    if (have)
        out_push(&out, cw);
    free(qs[0].v);
    free(qs[1].v);
    /* the refs moved into out; drop the old containers */
    for (size_t j = 0; j < d->pending.len; j++) {
        group *g = d->pending.items[j];
        sb_vec_free(&g->refs);
        free(g);
    }
    d->pending.len = 0;
    for (size_t k = 0; k < rest->len; k++)
        sb_vec_free(&rest->items[k].refs);
    sb_vec_free(rest);
    for (size_t k = 0; k < out.len; k++) {
        group *g = sb_calloc(1, sizeof(group));
        *g = out.items[k];
        sb_vec_push(&d->pending, (void *)g);
    }
    sb_vec_free(&out);
}

/* Applies staged structs and deletes (Yjs readUpdateV2 inside a transaction). */
static void apply_staged(crdt_doc *d, groups *gs, crdt_ranges *ds)
{
    for (;;) {
        groups rest = {0};
        crdt_ids missing = {0};
        integrate_structs(d, gs, &rest, &missing);
        bool retry = false;
        if (d->pending.len) {
            for (size_t i = 0; i < d->pending_missing.len; i++)
                if (d->pending_missing.items[i].clock <
                    crdt__state(d, d->pending_missing.items[i].client))
                    retry = true;
            if (rest.len) {
                for (size_t i = 0; i < missing.len; i++)
                    missing_set(&d->pending_missing, missing.items[i].client,
                                missing.items[i].clock);
                groups_merge_into_pending(d, &rest);
            }
        } else if (rest.len) {
            groups_merge_into_pending(d, &rest);
            d->pending_missing.len = 0;
            for (size_t i = 0; i < missing.len; i++)
                sb_vec_push(&d->pending_missing, missing.items[i]);
        }
        sb_vec_free(&rest);
        sb_vec_free(&missing);
        crdt_ranges un = {0};
        apply_ds(d, ds, &un);
        if (d->pending_ds.len) {
            crdt_ranges old = d->pending_ds;
            d->pending_ds = (crdt_ranges){0};
            apply_ds(d, &old, &un);
            sb_vec_free(&old);
        }
        crdt__ranges_sort_merge(&un);
        sb_vec_free(&d->pending_ds);
        d->pending_ds = un;
        ds->len = 0;
        if (!retry)
            break;
        /* take the pending structs as a new update */
        groups ng = {0};
        for (size_t j = 0; j < d->pending.len; j++) {
            group *g = ((group *)d->pending.items[j]);
            sb_vec_push(&ng, *g);
            free(g);
        }
        d->pending.len = 0;
        d->pending_missing.len = 0;
        *gs = ng;
    }
}

void crdt__pending_free(crdt_doc *d)
{
    for (size_t j = 0; j < d->pending.len; j++) {
        group *g = ((group *)d->pending.items[j]);
        for (size_t i = 0; i < g->refs.len; i++)
            ref_free(d, &g->refs.items[i]);
        sb_vec_free(&g->refs);
        free(g);
    }
    sb_vec_free(&d->pending);
    sb_vec_free(&d->pending_missing);
    sb_vec_free(&d->pending_ds);
}

crdt_err crdt_doc_apply_update(crdt_doc *d, const void *update, size_t n, sb_errbuf *err)
{
    dctx c = {.err = CRDT_OK, .eb = err};
    crdt_dec_init(&c.dec, update, n);
    groups gs = {0};
    crdt_ranges ds = {0};
    if (!read_structs(d, &c, &gs) || !read_ds(&c, &ds)) {
        groups_free(d, &gs);
        sb_vec_free(&ds);
        return c.err;
    }
    crdt__txn_begin(d, NULL, false);
    apply_staged(d, &gs, &ds);
    sb_vec_free(&ds);
    crdt__txn_end(d, NULL, NULL);
    return CRDT_OK;
}

/* --- encoding (v1 and v2 through update_coder.h's field coders) --- */

/* A JSON text as Yjs's writeJSON writes the value it parsed. */
static void enc_json_text(crdt_upd_enc *e, const crdt_bytes *j)
{
    if (!e->v2) {
        crdt_upd_enc_string(e, j->p, j->n); /* already JSON.stringify's text */
        return;
    }
    crdt_any v;
    if (!crdt__json_parse(j->p, j->n, &v))
        v = crdt_any_null();
    crdt_upd_enc_json(e, &v);
    crdt_any_free(&v);
}

static void write_content(crdt_upd_enc *e, const crdt_item *it, uint64_t off, sb_buf *tmp)
{
    switch (it->ckind) {
    case CRDT_C_DELETED:
        crdt_upd_enc_len(e, it->length - off);
        break;
    case CRDT_C_JSON:
    case CRDT_C_ANY:
        crdt_upd_enc_len(e, it->length - off);
        for (uint64_t i = off; i < it->length; i++) {
            if (it->ckind == CRDT_C_JSON)
                crdt_upd_enc_string(e, it->c.list.v[i].p, it->c.list.v[i].n);
            else /* any values go to the rest stream in both formats */
                crdt_enc_bytes(crdt_upd_enc_rest(e), it->c.list.v[i].p, it->c.list.v[i].n);
        }
        break;
    case CRDT_C_BINARY:
        crdt_upd_enc_buf(e, it->c.bin.p, it->c.bin.n);
        break;
    case CRDT_C_STRING:
        tmp->len = 0;
        crdt__utf16_to_utf8(it->c.str.u + off, it->length - off, tmp);
        crdt_upd_enc_string(e, tmp->ptr ? tmp->ptr : "", tmp->len);
        break;
    case CRDT_C_EMBED:
        enc_json_text(e, &it->c.bin);
        break;
    case CRDT_C_FORMAT:
        crdt_upd_enc_key(e, it->c.fmt.key.p, it->c.fmt.key.n);
        enc_json_text(e, &it->c.fmt.val);
        break;
    case CRDT_C_TYPE: {
        const crdt_type *t = it->c.type;
        crdt_upd_enc_type_ref(e, t->kind);
        if (t->kind == CRDT_T_XML_ELEMENT || t->kind == CRDT_T_XML_HOOK)
            crdt_upd_enc_key(e, t->name.p, t->name.n);
        break;
    }
    case CRDT_C_DOC:
        crdt_upd_enc_string(e, it->c.doc.guid.p, it->c.doc.guid.n);
        crdt_enc_bytes(crdt_upd_enc_rest(e), it->c.doc.opts.p, it->c.doc.opts.n);
        break;
    }
}

/* Yjs Item.write / GC.write. */
static inline uint8_t *put_var(uint8_t *o, uint64_t v)
{
    while (v > 0x7F) {
        *o++ = (uint8_t)(0x80 | (v & 0x7F));
        v >>= 7;
    }
    *o++ = (uint8_t)v;
    return o;
}

/* v1 only: the header of an item with origins (the common case: every
 * text struct but the first of a run), and string or deleted content,
 * written straight into the output with no per-field calls and no copy
 * of the UTF-8 (measured: a third of encodeStateAsUpdate's time). */
static bool write_struct_v1_fast(sb_buf *b, const crdt_item *it, uint64_t off)
{
    bool ho = off > 0 || (it->flags & CRDT_F_HAS_ORIGIN);
    bool hr = it->flags & CRDT_F_HAS_RORIGIN;
    if (it->kind != CRDT_STRUCT_ITEM || !(ho || hr) ||
        (it->ckind != CRDT_C_STRING && it->ckind != CRDT_C_DELETED))
        return false;
    uint64_t n = it->length - off;
    size_t utf8 = it->ckind == CRDT_C_STRING ? crdt__utf8_len_of_utf16(it->c.str.u + off, n) : 0;
    sb_buf_reserve(b, 1 + 4 * 10 + 10 + utf8);
    uint8_t *o = (uint8_t *)b->ptr + b->len;
    crdt_id origin = off > 0 ? (crdt_id){it->id.client, it->id.clock + off - 1} : it->origin;
    *o++ = (uint8_t)((it->ckind & 31) | (ho ? 0x80 : 0) | (hr ? 0x40 : 0) |
                     (it->parent_sub ? 0x20 : 0));
    if (ho) {
        o = put_var(o, origin.client);
        o = put_var(o, origin.clock);
    }
    if (hr) {
        o = put_var(o, it->rorigin.client);
        o = put_var(o, it->rorigin.clock);
    }
    if (it->ckind == CRDT_C_DELETED) {
        o = put_var(o, n);
    } else {
        o = put_var(o, utf8);
        b->len = (size_t)((char *)o - b->ptr);
        crdt__utf16_to_utf8(it->c.str.u + off, n, b);
        return true;
    }
    b->len = (size_t)((char *)o - b->ptr);
    b->ptr[b->len] = 0;
    return true;
}

/* An Item's info byte, origins and (when it has neither origin) parent:
 * from ref when the item is a pending struct whose parent is only named
 * (a root or an id not integrated), else from the item's parent. psub is
 * whether a parent sub (map key) is written. */
static void write_item_head(crdt_upd_enc *e, const crdt_item *it, uint64_t off, const crdt_ref *ref,
                            bool psub)
{
    bool ho = off > 0 || (it->flags & CRDT_F_HAS_ORIGIN);
    crdt_id origin = off > 0 ? (crdt_id){it->id.client, it->id.clock + off - 1} : it->origin;
    bool hr = it->flags & CRDT_F_HAS_RORIGIN;
    uint8_t info =
        (uint8_t)((it->ckind & 31) | (ho ? 0x80 : 0) | (hr ? 0x40 : 0) | (psub ? 0x20 : 0));
    crdt_upd_enc_info(e, info);
    if (ho)
        crdt_upd_enc_left_id(e, origin.client, origin.clock);
    if (hr)
        crdt_upd_enc_right_id(e, it->rorigin.client, it->rorigin.clock);
    if (ho || hr)
        return;
    if (ref) {
        crdt_upd_enc_parent_info(e, ref->pkind == P_ROOT);
        if (ref->pkind == P_ROOT)
            crdt_upd_enc_string(e, ref->pname.p, ref->pname.n);
        else
            crdt_upd_enc_left_id(e, ref->pid.client, ref->pid.clock);
        if (ref->psub.p)
            crdt_upd_enc_string(e, ref->psub.p, ref->psub.n);
        return;
    }
    const crdt_type *p = it->parent;
    crdt_upd_enc_parent_info(e, !p->item);
    if (!p->item)
        crdt_upd_enc_string(e, p->name.p, p->name.n);
    else
        crdt_upd_enc_left_id(e, p->item->id.client, p->item->id.clock);
    if (it->parent_sub)
        crdt_upd_enc_string(e, it->parent_sub, it->parent_sub_len);
}

static void write_struct(crdt_upd_enc *e, const crdt_item *it, uint64_t off, sb_buf *tmp)
{
    if (!e->v2 && write_struct_v1_fast(&e->rest, it, off))
        return;
    if (it->kind == CRDT_STRUCT_GC) {
        crdt_upd_enc_info(e, 0);
        crdt_upd_enc_len(e, it->length - off);
        return;
    }
    write_item_head(e, it, off, NULL, it->parent_sub != NULL);
    write_content(e, it, off, tmp);
}

void crdt__write_struct(crdt_upd_enc *e, const crdt_item *it, sb_buf *tmp)
{
    write_struct(e, it, 0, tmp);
}

static int client_desc(const void *a, const void *b)
{
    const crdt_id *x = a, *y = b;
    return x->client > y->client ? -1 : x->client < y->client;
}

/* Yjs writeClientsStructs: clients whose state exceeds sv, descending. */
void crdt__write_structs(crdt_doc *d, crdt_upd_enc *e, const crdt_id *sv, size_t svn)
{
    crdt_ids sm = {0};
    for (size_t i = 0; i < d->clients.len; i++) {
        crdt_client *c = &d->clients.items[i];
        if (!c->len)
            continue;
        uint64_t from = 0;
        for (size_t k = 0; k < svn; k++)
            if (sv[k].client == c->client)
                from = sv[k].clock;
        uint64_t st = crdt__state(d, c->client);
        if (st > from)
            sb_vec_push(&sm, ((crdt_id){c->client, from}));
    }
    if (sm.len > 1)
        qsort(sm.items, sm.len, sizeof(crdt_id), client_desc);
    sb_buf tmp = SB_BUF_INIT;
    crdt_enc_var_uint(crdt_upd_enc_rest(e), sm.len);
    for (size_t i = 0; i < sm.len; i++) {
        crdt_client *c = crdt__client_get(d, sm.items[i].client);
        uint64_t clock = SB_MAX(sm.items[i].clock, c->s[0]->id.clock);
        size_t start = crdt__find_index(c, clock);
        crdt_enc_var_uint(crdt_upd_enc_rest(e), c->len - start);
        crdt_upd_enc_client(e, c->client);
        crdt_enc_var_uint(crdt_upd_enc_rest(e), clock);
        write_struct(e, c->s[start], clock - c->s[start]->id.clock, &tmp);
        for (size_t k = start + 1; k < c->len; k++)
            write_struct(e, c->s[k], 0, &tmp);
    }
    sb_buf_free(&tmp);
    sb_vec_free(&sm);
}

/* Writes ranges (sorted and merged, clients ascending) as a delete set
 * with clients descending (Yjs writeDeleteSet). */
void crdt__write_ds(crdt_upd_enc *e, const crdt_ranges *r)
{
    sb_buf *rest = crdt_upd_enc_rest(e);
    size_t nclients = 0;
    for (size_t i = 0; i < r->len; i++)
        if (i == 0 || r->items[i].client != r->items[i - 1].client)
            nclients++;
    crdt_enc_var_uint(rest, nclients);
    size_t end = r->len;
    while (end > 0) {
        size_t start = end - 1;
        while (start > 0 && r->items[start - 1].client == r->items[end - 1].client)
            start--;
        crdt_upd_enc_ds_reset(e);
        crdt_enc_var_uint(rest, r->items[start].client);
        crdt_enc_var_uint(rest, end - start);
        for (size_t i = start; i < end; i++) {
            crdt_upd_enc_ds_clock(e, r->items[i].clock);
            crdt_upd_enc_ds_len(e, r->items[i].len);
        }
        end = start;
    }
}

/* The delete set of the whole store (Yjs createDeleteSetFromStructStore). */
static int id_client_asc(const void *a, const void *b)
{
    const crdt_id *x = a, *y = b;
    return x->client < y->client ? -1 : x->client > y->client;
}

/* The store's delete set: clients ascending, each one's deleted structs in
 * clock order with neighbours joined, so nothing needs sorting. */
static void store_ds(crdt_doc *d, crdt_ranges *r)
{
    size_t nc = d->clients.len;
    crdt_id *order = sb_malloc((nc + 1) * sizeof(crdt_id)); /* client, index */
    for (size_t i = 0; i < nc; i++)
        order[i] = (crdt_id){d->clients.items[i].client, i};
    if (nc > 1)
        qsort(order, nc, sizeof(crdt_id), id_client_asc);
    for (size_t k = 0; k < nc; k++) {
        crdt_client *c = &d->clients.items[order[k].clock];
        for (size_t i = 0; i < c->len; i++) {
            crdt_item *s = c->s[i];
            if (!crdt__deleted(s))
                continue;
            uint64_t clock = s->id.clock, len = s->length;
            while (i + 1 < c->len && crdt__deleted(c->s[i + 1]))
                len += c->s[++i]->length;
            crdt__ranges_add(r, c->client, clock, len);
        }
    }
    free(order);
}

static bool read_sv(const void *p, size_t n, crdt_ids *sv)
{
    crdt_dec dec;
    crdt_dec_init(&dec, p, n);
    uint64_t k = crdt_dec_var_uint(&dec);
    if (!crdt_dec_ok(&dec) || k > crdt_dec_remaining(&dec))
        return false;
    for (uint64_t i = 0; i < k; i++) {
        crdt_id e;
        e.client = crdt_dec_var_uint(&dec);
        e.clock = crdt_dec_var_uint(&dec);
        if (!crdt_dec_ok(&dec))
            return false;
        /* Yjs reads into a Map: a later entry for a client wins */
        bool found = false;
        for (size_t j = 0; j < sv->len; j++)
            if (sv->items[j].client == e.client) {
                sv->items[j].clock = e.clock;
                found = true;
            }
        if (!found)
            sb_vec_push(sv, e);
    }
    return true;
}

/* --- the state with pending structs and deletes: Y.mergeUpdates of the
 * state, the pending deletes and the pending structs past sv, emulated on
 * the structs themselves (updates.js mergeUpdatesV2 / diffUpdateV2). --- */

typedef struct went {
    uint8_t kind;        /* CRDT_STRUCT_* */
    const crdt_item *it; /* the item (a doc item, or a pending ref's) */
    const crdt_ref *ref; /* set for pending structs */
    uint64_t client, clock, len, off;
    bool psub_known; /* the decoded form has its parent sub (no origins) */
} went;
typedef SB_VEC(went) wents;

static went went_of(const crdt_item *it, const crdt_ref *ref, uint64_t off)
{
    went w = {.kind = it->kind,
              .it = it,
              .ref = ref,
              .client = it->id.client,
              .clock = it->id.clock + off,
              .len = it->length - off,
              .off = off};
    bool psub = ref ? ref->psub.p != NULL : it->parent_sub != NULL;
    w.psub_known = it->kind == CRDT_STRUCT_ITEM && off == 0 &&
                   !(it->flags & (CRDT_F_HAS_ORIGIN | CRDT_F_HAS_RORIGIN)) && psub;
    return w;
}

static int went_client_desc(const void *a, const void *b)
{
    const went *x = a, *y = b;
    return x->client > y->client ? -1 : x->client < y->client;
}

static void write_went(crdt_upd_enc *e, const went *w, sb_buf *tmp)
{
    if (w->kind != CRDT_STRUCT_ITEM) {
        crdt_upd_enc_info(e, w->kind == CRDT_STRUCT_GC ? 0 : 10);
        if (w->kind == CRDT_STRUCT_GC)
            crdt_upd_enc_len(e, w->len);
        else
            crdt_enc_var_uint(crdt_upd_enc_rest(e), w->len);
        return;
    }
    write_item_head(e, w->it, w->off, w->ref, w->psub_known);
    write_content(e, w->it, w->off, tmp);
}

/* One input of the merge: its structs in order, clients descending. */
typedef struct wq {
    wents v;
    size_t i;
} wq;

static went *wq_cur(wq *q)
{
    return q->i < q->v.len ? &q->v.items[q->i] : NULL;
}

static void encode_with_pending(crdt_doc *d, const crdt_ids *sv, crdt_upd_enc *e)
{
    wq qs[2] = {{{0}, 0}, {{0}, 0}};
    /* the doc's state past sv (writeStateAsUpdate) */
    for (size_t ci = 0; ci < d->clients.len; ci++) {
        crdt_client *c = &d->clients.items[ci];
        if (!c->len)
            continue;
        uint64_t from = 0;
        for (size_t k = 0; k < sv->len; k++)
            if (sv->items[k].client == c->client)
                from = sv->items[k].clock;
        if (crdt__state(d, c->client) <= from)
            continue;
        from = SB_MAX(from, c->s[0]->id.clock);
        size_t start = crdt__find_index(c, from);
        sb_vec_push(&qs[0].v, went_of(c->s[start], NULL, from - c->s[start]->id.clock));
        for (size_t k = start + 1; k < c->len; k++)
            sb_vec_push(&qs[0].v, went_of(c->s[k], NULL, 0));
    }
    /* the pending structs past sv (diffUpdate), skips dropped (mergeUpdates
     * reads with filterSkips) */
    for (size_t j = 0; j < d->pending.len; j++) {
        group *g = d->pending.items[j];
        uint64_t from = 0;
        for (size_t k = 0; k < sv->len; k++)
            if (sv->items[k].client == g->client)
                from = sv->items[k].clock;
        bool started = false;
        for (size_t i = 0; i < g->refs.len; i++) {
            const crdt_ref *r = &g->refs.items[i];
            const crdt_item *it = r->it;
            if (!it)
                continue;
            if (!started) {
                if (it->kind == CRDT_STRUCT_SKIP || it->id.clock + it->length <= from)
                    continue;
                started = true;
                uint64_t off = from > it->id.clock ? from - it->id.clock : 0;
                sb_vec_push(&qs[1].v, went_of(it, r, off));
            } else if (it->kind != CRDT_STRUCT_SKIP) {
                sb_vec_push(&qs[1].v, went_of(it, r, 0));
            }
        }
    }
    for (int q = 0; q < 2; q++)
        stable_sort(qs[q].v.items, qs[q].v.len, sizeof(went), went_client_desc);
    wents outv = {0};
    went cw;
    bool have = false;
    wq *ord[2] = {&qs[0], &qs[1]};
    for (;;) {
        wq *live[2];
        int n = 0;
        for (int q = 0; q < 2; q++)
            if (wq_cur(ord[q]))
                live[n++] = ord[q];
        if (!n)
            break;
        if (n == 2) {
            went *x = wq_cur(live[0]), *y = wq_cur(live[1]);
            if (v8_swaps(x->client, x->clock, x->kind, y->client, y->clock, y->kind)) {
                wq *t = live[0];
                live[0] = live[1];
                live[1] = t;
            }
            ord[0] = live[0];
            ord[1] = live[1];
        }
        wq *cd = live[0];
        uint64_t first = wq_cur(cd)->client;
        if (have) {
            went *curp = wq_cur(cd);
            bool iterated = false;
            while (curp && curp->clock + curp->len <= cw.clock + cw.len &&
                   curp->client >= cw.client) {
                cd->i++;
                curp = wq_cur(cd);
                iterated = true;
            }
            if (!curp || curp->client != first || (iterated && curp->clock > cw.clock + cw.len))
                continue;
            went cur = *curp;
            if (first != cw.client) {
                sb_vec_push(&outv, cw);
                cw = cur;
                cd->i++;
            } else if (cw.clock + cw.len < cur.clock) {
                if (cw.kind == CRDT_STRUCT_SKIP) {
                    cw.len = cur.clock + cur.len - cw.clock;
                } else {
                    sb_vec_push(&outv, cw);
                    went sk = {.kind = CRDT_STRUCT_SKIP,
                               .client = first,
                               .clock = cw.clock + cw.len,
                               .len = cur.clock - cw.clock - cw.len};
                    cw = sk;
                }
            } else {
                uint64_t diff = cw.clock + cw.len - cur.clock;
                if (diff > 0) {
                    if (cw.kind == CRDT_STRUCT_SKIP) {
                        cw.len -= diff;
                    } else {
                        /* sliced: as Yjs keeps pending structs encoded, a
                         * slice was written with an origin and read back
                         * without its parent sub */
                        cur.off += diff;
                        cur.clock += diff;
                        cur.len -= diff;
                        cur.psub_known = false;
                    }
                }
                bool merged = cw.kind == cur.kind && cw.kind != CRDT_STRUCT_ITEM;
                if (merged) {
                    cw.len += cur.len;
                } else {
                    sb_vec_push(&outv, cw);
                    cw = cur;
                    cd->i++;
                }
            }
        } else {
            cw = *wq_cur(cd);
            cd->i++;
            have = true;
        }
        for (went *nx = wq_cur(cd); nx && nx->client == first && nx->clock == cw.clock + cw.len &&
                                    nx->kind != CRDT_STRUCT_SKIP;
             nx = wq_cur(cd)) {
            sb_vec_push(&outv, cw);
            cw = *nx;
            cd->i++;
        }
    }
    if (have)
        sb_vec_push(&outv, cw);
    /* groups of consecutive structs of one client */
    size_t groups_n = 0;
    for (size_t i = 0; i < outv.len; i++)
        if (i == 0 || outv.items[i].client != outv.items[i - 1].client)
            groups_n++;
    sb_buf tmp = SB_BUF_INIT;
    crdt_enc_var_uint(crdt_upd_enc_rest(e), groups_n);
    for (size_t i = 0; i < outv.len;) {
        size_t j = i;
        while (j < outv.len && outv.items[j].client == outv.items[i].client)
            j++;
        crdt_enc_var_uint(crdt_upd_enc_rest(e), j - i);
        crdt_upd_enc_client(e, outv.items[i].client);
        crdt_enc_var_uint(crdt_upd_enc_rest(e), outv.items[i].clock);
        for (size_t k = i; k < j; k++)
            write_went(e, &outv.items[k], &tmp);
        i = j;
    }
    sb_buf_free(&tmp);
    sb_vec_free(&outv);
    sb_vec_free(&qs[0].v);
    sb_vec_free(&qs[1].v);
}

static crdt_err encode_state(crdt_doc *d, const void *svp, size_t svn, bool v2, sb_buf *out)
{
    crdt_ids sv = {0};
    if (svp && !read_sv(svp, svn, &sv)) {
        sb_vec_free(&sv);
        return CRDT_E_MALFORMED;
    }
    crdt_upd_enc e;
    crdt_upd_enc_init(&e, v2);
    bool pending = crdt_doc_has_pending(d);
    if (pending)
        encode_with_pending(d, &sv, &e);
    else
        crdt__write_structs(d, &e, sv.items, sv.len);
    crdt_ranges r = {0};
    store_ds(d, &r);
    if (pending) { /* mergeDeleteSets with the pending deletes */
        for (size_t i = 0; i < d->pending_ds.len; i++)
            sb_vec_push(&r, d->pending_ds.items[i]);
        crdt__ranges_sort_merge(&r);
    }
    crdt__write_ds(&e, &r);
    crdt_upd_enc_finish(&e, out);
    crdt_upd_enc_deinit(&e);
    sb_vec_free(&r);
    sb_vec_free(&sv);
    return CRDT_OK;
}

crdt_err crdt_doc_encode_state(crdt_doc *d, const void *svp, size_t svn, sb_buf *out)
{
    return encode_state(d, svp, svn, false, out);
}

void crdt_doc_encode_state_vector(crdt_doc *d, sb_buf *out)
{
    crdt_ids sv = {0};
    for (size_t i = 0; i < d->clients.len; i++)
        if (d->clients.items[i].len)
            sb_vec_push(&sv, ((crdt_id){d->clients.items[i].client,
                                        crdt__state(d, d->clients.items[i].client)}));
    if (sv.len > 1)
        qsort(sv.items, sv.len, sizeof(crdt_id), client_desc);
    crdt_enc_var_uint(out, sv.len);
    for (size_t i = 0; i < sv.len; i++) {
        crdt_enc_var_uint(out, sv.items[i].client);
        crdt_enc_var_uint(out, sv.items[i].clock);
    }
    sb_vec_free(&sv);
}

bool crdt_doc_has_pending(const crdt_doc *d)
{
    return d->pending.len > 0 || d->pending_ds.len > 0;
}

crdt_err crdt_doc_apply_update_v2(crdt_doc *d, const void *update, size_t n, sb_errbuf *err)
{
    sb_buf v1 = SB_BUF_INIT;
    int e = crdt_update_convert(update, n, true, false, 0, &v1);
    if (e) {
        sb_errf(err, "%s: update v2: %s", crdt_strerror(CRDT_E_MALFORMED), crdt_lib0_strerror(e));
        sb_buf_free(&v1);
        return e == CRDT_LIB0_ELIMIT ? CRDT_E_LIMIT : CRDT_E_MALFORMED;
    }
    crdt_err r = crdt_doc_apply_update(d, v1.ptr, v1.len, err);
    sb_buf_free(&v1);
    return r;
}

crdt_err crdt_doc_encode_state_v2(crdt_doc *d, const void *sv, size_t svn, sb_buf *out)
{
    return encode_state(d, sv, svn, true, out);
}
