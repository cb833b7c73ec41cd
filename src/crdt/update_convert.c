/*
 * update_convert.c: re-coding an update between formats v1 and v2 (see
 * update_convert.h). Each field read from the decoder is written to the
 * encoder at once; the walk follows Yjs's struct layout:
 *
 *   #clients, per client: #structs, client, first clock, structs;
 *   struct: info; GC (ref 0): len; Skip (info 10): rest var-uint len;
 *   Item: [left id if info & 0x80] [right id if info & 0x40], and when it
 *   has neither origin: parent info, then a root key string or parent id,
 *   then [parent sub string if info & 0x20]; then the content by ref.
 *   delete set: #clients, per client: client, #ranges, (clock, len)...
 *
 * Never: write to out before the whole update has been read and checked.
 */
#include "crdt/update_convert.h"

#include <string.h>

/* v2 clock columns double differences: keep clocks where that is exact. */
#define MAX_V2_CLOCK ((uint64_t)1 << 51)

typedef struct conv {
    crdt_upd_dec *d;
    crdt_upd_enc *e;
    bool to_v2;
    size_t budget; /* structs and delete ranges still allowed */
} conv;

static bool failed(conv *c)
{
    return crdt_upd_dec_err(c->d) != 0;
}

static void fail(conv *c, int err)
{
    crdt_dec_fail(crdt_upd_dec_rest(c->d), err);
}

static uint64_t rest_uint(conv *c)
{
    uint64_t v = crdt_dec_var_uint(crdt_upd_dec_rest(c->d));
    crdt_enc_var_uint(crdt_upd_enc_rest(c->e), v);
    return v;
}

static void copy_id(conv *c, bool left)
{
    uint64_t client, clock;
    if (left)
        crdt_upd_dec_left_id(c->d, &client, &clock);
    else
        crdt_upd_dec_right_id(c->d, &client, &clock);
    if (c->to_v2 && clock >= MAX_V2_CLOCK)
        fail(c, CRDT_LIB0_ERANGE);
    if (failed(c))
        return;
    if (left)
        crdt_upd_enc_left_id(c->e, client, clock);
    else
        crdt_upd_enc_right_id(c->e, client, clock);
}

static void copy_string(conv *c)
{
    sb_str s = crdt_upd_dec_string(c->d);
    if (!failed(c))
        crdt_upd_enc_string(c->e, s.ptr, s.len);
}

static void copy_key(conv *c)
{
    sb_str s = crdt_upd_dec_key(c->d);
    if (!failed(c))
        crdt_upd_enc_key(c->e, s.ptr, s.len);
}

static uint64_t copy_len(conv *c)
{
    uint64_t len = crdt_upd_dec_len(c->d);
    crdt_upd_enc_len(c->e, len);
    return len;
}

/* True when v cannot be v1 JSON text: a bigint (JSON.stringify throws, so
 * Yjs's converter fails too) or U+0000 in an object key (jansson, which
 * reads v1's JSON text, refuses it; JSON.parse would take it). */
static bool not_v1_json(const crdt_any *v)
{
    if (v->kind == CRDT_ANY_BIGINT)
        return true;
    if (v->kind == CRDT_ANY_ARRAY) {
        for (size_t i = 0; i < v->u.arr.len; i++)
            if (not_v1_json(&v->u.arr.items[i]))
                return true;
    } else if (v->kind == CRDT_ANY_OBJECT) {
        for (size_t i = 0; i < v->u.obj.len; i++) {
            const crdt_any_prop *p = &v->u.obj.props[i];
            if (memchr(p->key, 0, p->key_len) || not_v1_json(&p->value))
                return true;
        }
    }
    return false;
}

static void copy_any(conv *c, bool json)
{
    crdt_any v;
    if ((json ? crdt_upd_dec_json(c->d, &v) : crdt_upd_dec_any(c->d, &v)) == 0) {
        /* Write no v1 JSON that we could not read back. */
        if (json && !c->to_v2 && not_v1_json(&v))
            fail(c, CRDT_LIB0_EFORMAT);
        else if (json)
            crdt_upd_enc_json(c->e, &v);
        else
            crdt_upd_enc_any(c->e, &v);
    }
    crdt_any_free(&v);
}

/* Content by ref (yjs src/structs/Content*.js, read/write). */
static void copy_content(conv *c, uint8_t ref)
{
    switch (ref) {
    case 1: /* Deleted */
        copy_len(c);
        break;
    case 2: { /* JSON: strings, "undefined" or JSON text, passed as they are */
        uint64_t len = copy_len(c);
        for (uint64_t i = 0; i < len && !failed(c); i++)
            copy_string(c);
        break;
    }
    case 3: { /* Binary */
        sb_str b = crdt_upd_dec_buf(c->d);
        if (!failed(c))
            crdt_upd_enc_buf(c->e, b.ptr, b.len);
        break;
    }
    case 4: /* String */
        copy_string(c);
        break;
    case 5: /* Embed */
        copy_any(c, true);
        break;
    case 6: /* Format */
        copy_key(c);
        copy_any(c, true);
        break;
    case 7: { /* Type; XmlElement (3) and XmlHook (5) carry a name */
        uint64_t type_ref = crdt_upd_dec_type_ref(c->d);
        crdt_upd_enc_type_ref(c->e, type_ref);
        if (type_ref > 6)
            fail(c, CRDT_LIB0_EFORMAT);
        else if (type_ref == 3 || type_ref == 5)
            copy_key(c);
        break;
    }
    case 8: { /* Any */
        uint64_t len = copy_len(c);
        for (uint64_t i = 0; i < len && !failed(c); i++)
            copy_any(c, false);
        break;
    }
    case 9: /* Doc: guid, options */
        copy_string(c);
        copy_any(c, false);
        break;
    default:
        fail(c, CRDT_LIB0_EFORMAT);
    }
}

static void copy_struct(conv *c)
{
    uint8_t info = crdt_upd_dec_info(c->d);
    uint8_t ref = info & 0x1F;
    /* An item with an origin does not carry its parent sub (it copies it
     * from the origin on integration), so Yjs's converter, which rebuilds
     * the info byte from what it read, drops the 0x20 flag there. */
    crdt_upd_enc_info(c->e, ref != 0 && ref != 10 && (info & 0xC0) ? info & ~0x20 : info);
    if (ref == 0) { /* GC */
        copy_len(c);
        return;
    }
    if (ref == 10) { /* Skip: its length is in the rest stream */
        if (info != 10)
            fail(c, CRDT_LIB0_EFORMAT);
        rest_uint(c);
        return;
    }
    if (info & 0x80)
        copy_id(c, true);
    if (info & 0x40)
        copy_id(c, false);
    if (!(info & 0xC0)) {
        bool is_key = crdt_upd_dec_parent_info(c->d);
        crdt_upd_enc_parent_info(c->e, is_key);
        if (is_key)
            copy_string(c);
        else
            copy_id(c, true);
        if (info & 0x20)
            copy_string(c);
    }
    copy_content(c, ref);
}

/* A count that must fit in the budget. */
static uint64_t take(conv *c, uint64_t n)
{
    if (n > c->budget) {
        fail(c, CRDT_LIB0_ELIMIT);
        return 0;
    }
    c->budget -= (size_t)n;
    return n;
}

static void copy_structs(conv *c)
{
    uint64_t nclients = rest_uint(c);
    for (uint64_t i = 0; i < nclients && !failed(c); i++) {
        uint64_t nstructs = take(c, rest_uint(c));
        crdt_upd_enc_client(c->e, crdt_upd_dec_client(c->d));
        rest_uint(c); /* first clock */
        for (uint64_t k = 0; k < nstructs && !failed(c); k++)
            copy_struct(c);
    }
}

static void copy_delete_set(conv *c)
{
    uint64_t nclients = rest_uint(c);
    for (uint64_t i = 0; i < nclients && !failed(c); i++) {
        crdt_upd_dec_ds_reset(c->d);
        crdt_upd_enc_ds_reset(c->e);
        rest_uint(c); /* client */
        uint64_t nranges = take(c, rest_uint(c));
        uint64_t end = 0; /* v2 codes each clock from the previous end */
        for (uint64_t k = 0; k < nranges && !failed(c); k++) {
            uint64_t clock = crdt_upd_dec_ds_clock(c->d);
            uint64_t len = crdt_upd_dec_ds_len(c->d);
            if (failed(c))
                return;
            if (c->to_v2 && (clock < end || len == 0)) {
                fail(c, CRDT_LIB0_EFORMAT);
                return;
            }
            crdt_upd_enc_ds_clock(c->e, clock);
            crdt_upd_enc_ds_len(c->e, len);
            end = clock + len;
        }
    }
}

int crdt_update_convert(const void *p, size_t n, bool from_v2, bool to_v2, size_t max_items,
                        sb_buf *out)
{
    crdt_upd_dec d;
    crdt_upd_enc e;
    crdt_upd_dec_init(&d, p, n, from_v2);
    crdt_upd_enc_init(&e, to_v2);
    conv c = {&d, &e, to_v2, max_items ? max_items : CRDT_CONVERT_MAX_ITEMS};
    if (!failed(&c))
        copy_structs(&c);
    if (!failed(&c))
        copy_delete_set(&c);
    if (!failed(&c) && crdt_dec_remaining(crdt_upd_dec_rest(&d)) != 0)
        fail(&c, CRDT_LIB0_EFORMAT); /* bytes after the delete set */
    int err = crdt_upd_dec_err(&d);
    if (!err)
        crdt_upd_enc_finish(&e, out);
    crdt_upd_enc_deinit(&e);
    crdt_upd_dec_deinit(&d);
    return err;
}
