/*
 * lib0_rle.c: update v2's run-length column codecs (see lib0_rle.h for the
 * formats). Decoders keep to the column they were given and report through
 * their crdt_dec's sticky error; no decoder allocates.
 */
#include "crdt/lib0_rle.h"

#include "base/utf8.h"

#include <stdlib.h>

/* --- rle_u8 --- */

void crdt_rle_u8_enc_init(crdt_rle_u8_enc *e)
{
    *e = (crdt_rle_u8_enc){.buf = SB_BUF_INIT};
}

void crdt_rle_u8_enc_write(crdt_rle_u8_enc *e, uint8_t v)
{
    if (e->count > 0 && e->s == v) {
        e->count++;
        return;
    }
    /* A new value closes the previous run: its length - 1 goes first. */
    if (e->count > 0)
        crdt_enc_var_uint(&e->buf, e->count - 1);
    crdt_enc_u8(&e->buf, v);
    e->s = v;
    e->count = 1;
}

const sb_buf *crdt_rle_u8_enc_finish(crdt_rle_u8_enc *e)
{
    return &e->buf;
}

void crdt_rle_u8_enc_deinit(crdt_rle_u8_enc *e)
{
    sb_buf_free(&e->buf);
}

void crdt_rle_u8_dec_init(crdt_rle_u8_dec *r, const void *p, size_t len)
{
    *r = (crdt_rle_u8_dec){0};
    crdt_dec_init(&r->d, p, len);
}

uint8_t crdt_rle_u8_dec_read(crdt_rle_u8_dec *r)
{
    if (r->count == 0 && !r->forever) {
        r->s = crdt_dec_u8(&r->d);
        if (crdt_dec_remaining(&r->d) > 0)
            r->count = crdt_dec_var_uint(&r->d) + 1;
        else
            r->forever = true;
    }
    if (r->d.err)
        return 0;
    if (!r->forever)
        r->count--;
    return r->s;
}

/* --- uint_opt_rle and inc_uint_opt_rle --- */

void crdt_uint_opt_rle_enc_init(crdt_uint_opt_rle_enc *e, bool inc)
{
    *e = (crdt_uint_opt_rle_enc){.buf = SB_BUF_INIT, .inc = inc};
}

static void uint_opt_flush(crdt_uint_opt_rle_enc *e)
{
    if (e->count == 0)
        return;
    /* The sign says "a run length follows"; for s == 0 that is -0. */
    crdt_enc_var_int_signed(&e->buf, e->s, e->count > 1);
    if (e->count > 1)
        crdt_enc_var_uint(&e->buf, e->count - 2);
}

void crdt_uint_opt_rle_enc_write(crdt_uint_opt_rle_enc *e, uint64_t v)
{
    /* As lib0, the state starts at (0, 0): a first 0 joins the empty run. */
    uint64_t next = e->inc ? e->s + e->count : e->s;
    if (next == v) {
        e->count++;
        return;
    }
    uint_opt_flush(e);
    e->s = v;
    e->count = 1;
}

const sb_buf *crdt_uint_opt_rle_enc_finish(crdt_uint_opt_rle_enc *e)
{
    uint_opt_flush(e);
    e->count = 0;
    return &e->buf;
}

void crdt_uint_opt_rle_enc_deinit(crdt_uint_opt_rle_enc *e)
{
    sb_buf_free(&e->buf);
}

void crdt_uint_opt_rle_dec_init(crdt_uint_opt_rle_dec *r, const void *p, size_t len, bool inc)
{
    *r = (crdt_uint_opt_rle_dec){.inc = inc};
    crdt_dec_init(&r->d, p, len);
}

uint64_t crdt_uint_opt_rle_dec_read(crdt_uint_opt_rle_dec *r)
{
    if (r->d.err)
        return 0;
    if (r->count == 0) {
        bool run;
        int64_t v = crdt_dec_var_int(&r->d, &run);
        uint64_t count = run ? crdt_dec_var_uint(&r->d) + 2 : 1;
        if (r->d.err)
            return 0;
        r->s = v < 0 ? (uint64_t)-v : (uint64_t)v;
        r->count = count;
    }
    if (r->inc && r->s > CRDT_MAX_SAFE_INT) {
        crdt_dec_fail(&r->d, CRDT_LIB0_ERANGE);
        return 0;
    }
    r->count--;
    return r->inc ? r->s++ : r->s;
}

/* --- int_diff_opt_rle --- */

void crdt_int_diff_opt_rle_enc_init(crdt_int_diff_opt_rle_enc *e)
{
    *e = (crdt_int_diff_opt_rle_enc){.buf = SB_BUF_INIT};
}

static void int_diff_flush(crdt_int_diff_opt_rle_enc *e)
{
    if (e->count == 0)
        return;
    /* The low bit says "a run length follows". */
    crdt_enc_var_int(&e->buf, e->diff * 2 + (e->count > 1));
    if (e->count > 1)
        crdt_enc_var_uint(&e->buf, e->count - 2);
}

void crdt_int_diff_opt_rle_enc_write(crdt_int_diff_opt_rle_enc *e, int64_t v)
{
    if (e->diff == v - e->s) {
        e->s = v;
        e->count++;
        return;
    }
    int_diff_flush(e);
    e->count = 1;
    e->diff = v - e->s;
    e->s = v;
}

const sb_buf *crdt_int_diff_opt_rle_enc_finish(crdt_int_diff_opt_rle_enc *e)
{
    int_diff_flush(e);
    e->count = 0;
    return &e->buf;
}

void crdt_int_diff_opt_rle_enc_deinit(crdt_int_diff_opt_rle_enc *e)
{
    sb_buf_free(&e->buf);
}

void crdt_int_diff_opt_rle_dec_init(crdt_int_diff_opt_rle_dec *r, const void *p, size_t len)
{
    *r = (crdt_int_diff_opt_rle_dec){0};
    crdt_dec_init(&r->d, p, len);
}

int64_t crdt_int_diff_opt_rle_dec_read(crdt_int_diff_opt_rle_dec *r)
{
    if (r->d.err)
        return 0;
    if (r->count == 0) {
        int64_t v = crdt_dec_var_int(&r->d, NULL);
        int64_t has_count = (int64_t)((uint64_t)v & 1);
        uint64_t count = has_count ? crdt_dec_var_uint(&r->d) + 2 : 1;
        if (r->d.err)
            return 0;
        r->diff = (v - has_count) / 2; /* floor(v / 2), as lib0 */
        r->count = count;
    }
    /* Both terms are within 2^53, so the sum cannot overflow int64. */
    int64_t s = r->s + r->diff;
    if (s > (int64_t)CRDT_MAX_SAFE_INT || s < -(int64_t)CRDT_MAX_SAFE_INT) {
        crdt_dec_fail(&r->d, CRDT_LIB0_ERANGE);
        return 0;
    }
    r->s = s;
    r->count--;
    return s;
}

/* --- string --- */

void crdt_string_enc_init(crdt_string_enc *e)
{
    e->str = SB_BUF_INIT;
    e->out = SB_BUF_INIT;
    crdt_uint_opt_rle_enc_init(&e->lens, false);
}

void crdt_string_enc_write(crdt_string_enc *e, const char *s, size_t len)
{
    sb_buf_append(&e->str, s, len);
    crdt_uint_opt_rle_enc_write(&e->lens, sb_utf16_len(s, len));
}

const sb_buf *crdt_string_enc_finish(crdt_string_enc *e)
{
    const sb_buf *lens = crdt_uint_opt_rle_enc_finish(&e->lens);
    sb_buf_reset(&e->out);
    crdt_enc_var_string(&e->out, e->str.ptr, e->str.len);
    crdt_enc_bytes(&e->out, lens->ptr, lens->len);
    return &e->out;
}

void crdt_string_enc_deinit(crdt_string_enc *e)
{
    sb_buf_free(&e->str);
    sb_buf_free(&e->out);
    crdt_uint_opt_rle_enc_deinit(&e->lens);
}

void crdt_string_dec_init(crdt_string_dec *r, const void *p, size_t len)
{
    crdt_uint_opt_rle_dec_init(&r->lens, p, len, false);
    /* The lengths column follows the string in the same bytes. */
    r->str = crdt_dec_var_string(&r->lens.d);
    r->spos = 0;
}

sb_str crdt_string_dec_read(crdt_string_dec *r)
{
    uint64_t n = crdt_uint_opt_rle_dec_read(&r->lens);
    if (r->lens.d.err)
        return SB_STR_NULL;
    size_t start = r->spos, pos = start;
    uint64_t units = 0;
    while (units < n) {
        if (pos >= r->str.len) {
            crdt_dec_fail(&r->lens.d, CRDT_LIB0_EEOF);
            return SB_STR_NULL;
        }
        unsigned char c = (unsigned char)r->str.ptr[pos];
        size_t seq = c < 0x80 ? 1 : c < 0xE0 ? 2 : c < 0xF0 ? 3 : 4;
        units += seq == 4 ? 2 : 1;
        if (units > n) {
            crdt_dec_fail(&r->lens.d, CRDT_LIB0_EFORMAT);
            return SB_STR_NULL;
        }
        pos += seq; /* the string was checked to be UTF-8: seq bytes exist */
    }
    r->spos = pos;
    return sb_str_make(r->str.ptr + start, pos - start);
}
