/*
 * update_coder.c: Yjs's UpdateDecoderV1/V2 and UpdateEncoderV1/V2 field
 * coders (see update_coder.h). Each read or write is one switch on the
 * format; the v2 column layout is in init and finish, nowhere else.
 */
#include "crdt/update_coder.h"

#include <assert.h>
#include <jansson.h>
#include <stdlib.h>

/* --- decoding --- */

/* Before a read: true when the decoder has failed (in any stream). */
static bool failed(crdt_upd_dec *u)
{
    if (!u->err)
        u->err = u->rest.err;
    return u->err != 0;
}

/* After a read from a stream whose error is err: make it the decoder's. */
static void note(crdt_upd_dec *u, int err)
{
    if (!u->err)
        u->err = err;
}

/* After a read of v from a stream whose error is err: the value, or 0
 * when the decoder has now failed. */
static uint64_t settle(crdt_upd_dec *u, uint64_t v, int err)
{
    note(u, err);
    return u->err ? 0 : v;
}

int crdt_upd_dec_init(crdt_upd_dec *u, const void *p, size_t n, bool v2)
{
    *u = (crdt_upd_dec){.v2 = v2};
    crdt_dec_init(&u->rest, p, n);
    if (!v2)
        return 0;
    crdt_dec_var_uint(&u->rest); /* feature flag, unused by Yjs 13 */
    sb_str col[9];
    for (int i = 0; i < 9; i++)
        col[i] = crdt_dec_var_bytes(&u->rest);
    /* On error the views are NULL and empty: every column then fails on
     * its first read, and rest already holds the error. */
    crdt_int_diff_opt_rle_dec_init(&u->key_clock, col[0].ptr, col[0].len);
    crdt_uint_opt_rle_dec_init(&u->client, col[1].ptr, col[1].len, false);
    crdt_int_diff_opt_rle_dec_init(&u->left_clock, col[2].ptr, col[2].len);
    crdt_int_diff_opt_rle_dec_init(&u->right_clock, col[3].ptr, col[3].len);
    crdt_rle_u8_dec_init(&u->info, col[4].ptr, col[4].len);
    crdt_string_dec_init(&u->string, col[5].ptr, col[5].len);
    crdt_rle_u8_dec_init(&u->parent_info, col[6].ptr, col[6].len);
    crdt_uint_opt_rle_dec_init(&u->type_ref, col[7].ptr, col[7].len, false);
    crdt_uint_opt_rle_dec_init(&u->len, col[8].ptr, col[8].len, false);
    note(u, u->rest.err);
    note(u, crdt_string_dec_err(&u->string));
    return u->err;
}

void crdt_upd_dec_deinit(crdt_upd_dec *u)
{
    free(u->keys);
    u->keys = NULL;
    u->nkeys = u->keys_cap = 0;
}

int crdt_upd_dec_err(const crdt_upd_dec *u)
{
    return u->err ? u->err : u->rest.err;
}

static uint64_t read_clock(crdt_upd_dec *u, crdt_int_diff_opt_rle_dec *col)
{
    if (failed(u))
        return 0;
    if (!u->v2)
        return settle(u, crdt_dec_var_uint(&u->rest), u->rest.err);
    int64_t v = crdt_int_diff_opt_rle_dec_read(col);
    if (!col->d.err && v < 0)
        crdt_dec_fail(&col->d, CRDT_LIB0_ERANGE); /* a clock is never negative */
    return settle(u, (uint64_t)v, col->d.err);
}

void crdt_upd_dec_left_id(crdt_upd_dec *u, uint64_t *client, uint64_t *clock)
{
    *client = crdt_upd_dec_client(u);
    *clock = read_clock(u, &u->left_clock);
    if (u->err)
        *client = 0;
}

void crdt_upd_dec_right_id(crdt_upd_dec *u, uint64_t *client, uint64_t *clock)
{
    *client = crdt_upd_dec_client(u);
    *clock = read_clock(u, &u->right_clock);
    if (u->err)
        *client = 0;
}

uint64_t crdt_upd_dec_client(crdt_upd_dec *u)
{
    if (failed(u))
        return 0;
    if (u->v2)
        return settle(u, crdt_uint_opt_rle_dec_read(&u->client), u->client.d.err);
    return settle(u, crdt_dec_var_uint(&u->rest), u->rest.err);
}

uint8_t crdt_upd_dec_info(crdt_upd_dec *u)
{
    if (failed(u))
        return 0;
    if (u->v2)
        return settle(u, crdt_rle_u8_dec_read(&u->info), u->info.d.err);
    return settle(u, crdt_dec_u8(&u->rest), u->rest.err);
}

sb_str crdt_upd_dec_string(crdt_upd_dec *u)
{
    if (failed(u))
        return SB_STR_NULL;
    sb_str s = u->v2 ? crdt_string_dec_read(&u->string) : crdt_dec_var_string(&u->rest);
    note(u, u->v2 ? crdt_string_dec_err(&u->string) : u->rest.err);
    return u->err ? SB_STR_NULL : s;
}

bool crdt_upd_dec_parent_info(crdt_upd_dec *u)
{
    if (failed(u))
        return false;
    if (u->v2)
        return settle(u, crdt_rle_u8_dec_read(&u->parent_info), u->parent_info.d.err) == 1;
    return settle(u, crdt_dec_var_uint(&u->rest), u->rest.err) == 1;
}

uint64_t crdt_upd_dec_type_ref(crdt_upd_dec *u)
{
    if (failed(u))
        return 0;
    if (u->v2)
        return settle(u, crdt_uint_opt_rle_dec_read(&u->type_ref), u->type_ref.d.err);
    return settle(u, crdt_dec_var_uint(&u->rest), u->rest.err);
}

uint64_t crdt_upd_dec_len(crdt_upd_dec *u)
{
    if (failed(u))
        return 0;
    if (u->v2)
        return settle(u, crdt_uint_opt_rle_dec_read(&u->len), u->len.d.err);
    return settle(u, crdt_dec_var_uint(&u->rest), u->rest.err);
}

int crdt_upd_dec_any(crdt_upd_dec *u, crdt_any *out)
{
    if (failed(u)) {
        *out = crdt_any_undefined();
        return u->err;
    }
    note(u, crdt_any_read(&u->rest, out));
    return u->err;
}

sb_str crdt_upd_dec_buf(crdt_upd_dec *u)
{
    if (failed(u))
        return SB_STR_NULL;
    sb_str s = crdt_dec_var_bytes(&u->rest);
    note(u, u->rest.err);
    return s;
}

int crdt_upd_dec_json(crdt_upd_dec *u, crdt_any *out)
{
    *out = crdt_any_undefined();
    if (failed(u))
        return u->err;
    if (u->v2) {
        note(u, crdt_any_read(&u->rest, out));
        return u->err;
    }
    sb_str s = crdt_dec_var_string(&u->rest);
    if (u->rest.err) {
        note(u, u->rest.err);
        return u->err;
    }
    json_error_t jerr;
    /* JSON.parse makes every number a double: so does INT_AS_REAL, also
     * for integers beyond int64 that jansson would otherwise refuse. */
    json_t *j =
        json_loadb(s.ptr, s.len, JSON_DECODE_ANY | JSON_ALLOW_NUL | JSON_DECODE_INT_AS_REAL, &jerr);
    bool ok = j && crdt_any_from_json(j, out);
    json_decref(j);
    if (!ok)
        note(u, CRDT_LIB0_EFORMAT);
    return u->err;
}

sb_str crdt_upd_dec_key(crdt_upd_dec *u)
{
    if (failed(u))
        return SB_STR_NULL;
    if (!u->v2)
        return crdt_upd_dec_string(u);
    int64_t clock = crdt_int_diff_opt_rle_dec_read(&u->key_clock);
    note(u, u->key_clock.d.err);
    if (u->err)
        return SB_STR_NULL;
    if (clock >= 0 && (uint64_t)clock < u->nkeys)
        return u->keys[clock];
    sb_str key = crdt_upd_dec_string(u);
    if (u->err)
        return SB_STR_NULL;
    if (u->nkeys == u->keys_cap) {
        size_t cap = u->keys_cap ? u->keys_cap * 2 : 16, bytes;
        if (sb_mul_overflows(cap, sizeof(sb_str), &bytes))
            sb_die("crdt_upd_dec: too many keys");
        u->keys = sb_realloc(u->keys, bytes);
        u->keys_cap = cap;
    }
    u->keys[u->nkeys++] = key;
    return key;
}

void crdt_upd_dec_ds_reset(crdt_upd_dec *u)
{
    u->ds_cur = 0;
}

uint64_t crdt_upd_dec_ds_clock(crdt_upd_dec *u)
{
    if (failed(u))
        return 0;
    uint64_t v = crdt_dec_var_uint(&u->rest);
    if (u->v2 && !u->rest.err) {
        if (v > CRDT_MAX_SAFE_INT - u->ds_cur)
            crdt_dec_fail(&u->rest, CRDT_LIB0_ERANGE);
        else
            v = u->ds_cur += v;
    }
    note(u, u->rest.err);
    return u->err ? 0 : v;
}

uint64_t crdt_upd_dec_ds_len(crdt_upd_dec *u)
{
    if (failed(u))
        return 0;
    uint64_t v = crdt_dec_var_uint(&u->rest);
    if (u->v2 && !u->rest.err) {
        /* v2 writes len - 1 (a range is never empty) and moves the base. */
        if (v + 1 > CRDT_MAX_SAFE_INT - u->ds_cur)
            crdt_dec_fail(&u->rest, CRDT_LIB0_ERANGE);
        else
            u->ds_cur += ++v;
    }
    note(u, u->rest.err);
    return u->err ? 0 : v;
}

/* --- encoding --- */

void crdt_upd_enc_init(crdt_upd_enc *e, bool v2)
{
    *e = (crdt_upd_enc){.v2 = v2, .rest = SB_BUF_INIT};
    crdt_int_diff_opt_rle_enc_init(&e->key_clock);
    crdt_uint_opt_rle_enc_init(&e->client, false);
    crdt_int_diff_opt_rle_enc_init(&e->left_clock);
    crdt_int_diff_opt_rle_enc_init(&e->right_clock);
    crdt_rle_u8_enc_init(&e->info);
    crdt_string_enc_init(&e->string);
    crdt_rle_u8_enc_init(&e->parent_info);
    crdt_uint_opt_rle_enc_init(&e->type_ref, false);
    crdt_uint_opt_rle_enc_init(&e->len, false);
}

void crdt_upd_enc_deinit(crdt_upd_enc *e)
{
    sb_buf_free(&e->rest);
    crdt_int_diff_opt_rle_enc_deinit(&e->key_clock);
    crdt_uint_opt_rle_enc_deinit(&e->client);
    crdt_int_diff_opt_rle_enc_deinit(&e->left_clock);
    crdt_int_diff_opt_rle_enc_deinit(&e->right_clock);
    crdt_rle_u8_enc_deinit(&e->info);
    crdt_string_enc_deinit(&e->string);
    crdt_rle_u8_enc_deinit(&e->parent_info);
    crdt_uint_opt_rle_enc_deinit(&e->type_ref);
    crdt_uint_opt_rle_enc_deinit(&e->len);
}

static void put_column(sb_buf *out, const sb_buf *col)
{
    crdt_enc_var_bytes(out, col->ptr, col->len);
}

void crdt_upd_enc_finish(crdt_upd_enc *e, sb_buf *out)
{
    if (e->v2) {
        crdt_enc_var_uint(out, 0); /* feature flag */
        put_column(out, crdt_int_diff_opt_rle_enc_finish(&e->key_clock));
        put_column(out, crdt_uint_opt_rle_enc_finish(&e->client));
        put_column(out, crdt_int_diff_opt_rle_enc_finish(&e->left_clock));
        put_column(out, crdt_int_diff_opt_rle_enc_finish(&e->right_clock));
        put_column(out, crdt_rle_u8_enc_finish(&e->info));
        put_column(out, crdt_string_enc_finish(&e->string));
        put_column(out, crdt_rle_u8_enc_finish(&e->parent_info));
        put_column(out, crdt_uint_opt_rle_enc_finish(&e->type_ref));
        put_column(out, crdt_uint_opt_rle_enc_finish(&e->len));
    }
    crdt_enc_bytes(out, e->rest.ptr, e->rest.len); /* to the end, no length */
}

void crdt_upd_enc_client(crdt_upd_enc *e, uint64_t client)
{
    if (e->v2)
        crdt_uint_opt_rle_enc_write(&e->client, client);
    else
        crdt_enc_var_uint(&e->rest, client);
}

void crdt_upd_enc_left_id(crdt_upd_enc *e, uint64_t client, uint64_t clock)
{
    crdt_upd_enc_client(e, client);
    if (e->v2)
        crdt_int_diff_opt_rle_enc_write(&e->left_clock, (int64_t)clock);
    else
        crdt_enc_var_uint(&e->rest, clock);
}

void crdt_upd_enc_right_id(crdt_upd_enc *e, uint64_t client, uint64_t clock)
{
    crdt_upd_enc_client(e, client);
    if (e->v2)
        crdt_int_diff_opt_rle_enc_write(&e->right_clock, (int64_t)clock);
    else
        crdt_enc_var_uint(&e->rest, clock);
}

void crdt_upd_enc_info(crdt_upd_enc *e, uint8_t info)
{
    if (e->v2)
        crdt_rle_u8_enc_write(&e->info, info);
    else
        crdt_enc_u8(&e->rest, info);
}

void crdt_upd_enc_string(crdt_upd_enc *e, const char *s, size_t len)
{
    if (e->v2)
        crdt_string_enc_write(&e->string, s, len);
    else
        crdt_enc_var_string(&e->rest, s, len);
}

void crdt_upd_enc_parent_info(crdt_upd_enc *e, bool is_key)
{
    if (e->v2)
        crdt_rle_u8_enc_write(&e->parent_info, is_key);
    else
        crdt_enc_var_uint(&e->rest, is_key);
}

void crdt_upd_enc_type_ref(crdt_upd_enc *e, uint64_t ref)
{
    if (e->v2)
        crdt_uint_opt_rle_enc_write(&e->type_ref, ref);
    else
        crdt_enc_var_uint(&e->rest, ref);
}

void crdt_upd_enc_len(crdt_upd_enc *e, uint64_t len)
{
    if (e->v2)
        crdt_uint_opt_rle_enc_write(&e->len, len);
    else
        crdt_enc_var_uint(&e->rest, len);
}

void crdt_upd_enc_any(crdt_upd_enc *e, const crdt_any *v)
{
    crdt_any_write(&e->rest, v);
}

void crdt_upd_enc_buf(crdt_upd_enc *e, const void *p, size_t n)
{
    crdt_enc_var_bytes(&e->rest, p, n);
}

void crdt_upd_enc_json(crdt_upd_enc *e, const crdt_any *v)
{
    if (e->v2) {
        crdt_any_write(&e->rest, v);
        return;
    }
    sb_buf json = SB_BUF_INIT;
    crdt_any_to_json(v, &json);
    crdt_enc_var_string(&e->rest, json.ptr, json.len);
    sb_buf_free(&json);
}

void crdt_upd_enc_key(crdt_upd_enc *e, const char *s, size_t len)
{
    if (!e->v2) {
        crdt_enc_var_string(&e->rest, s, len);
        return;
    }
    crdt_int_diff_opt_rle_enc_write(&e->key_clock, (int64_t)e->next_key_clock++);
    crdt_string_enc_write(&e->string, s, len);
}

void crdt_upd_enc_ds_reset(crdt_upd_enc *e)
{
    e->ds_cur = 0;
}

void crdt_upd_enc_ds_clock(crdt_upd_enc *e, uint64_t clock)
{
    if (!e->v2) {
        crdt_enc_var_uint(&e->rest, clock);
        return;
    }
    /* Clocks of one client's ranges ascend, so the delta is not negative. */
    assert(clock >= e->ds_cur);
    crdt_enc_var_uint(&e->rest, clock - e->ds_cur);
    e->ds_cur = clock;
}

void crdt_upd_enc_ds_len(crdt_upd_enc *e, uint64_t len)
{
    if (!e->v2) {
        crdt_enc_var_uint(&e->rest, len);
        return;
    }
    assert(len > 0);
    crdt_enc_var_uint(&e->rest, len - 1);
    e->ds_cur += len;
}
