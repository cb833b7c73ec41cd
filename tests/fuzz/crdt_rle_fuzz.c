/*
 * crdt_rle_fuzz.c: libFuzzer target for update v2's column decoders
 * (lib0_rle.h). The first byte picks the decoder, the rest is the column.
 * Beyond "no crash, no UB, nothing read past the column": the values read
 * before the first error, written with the matching encoder, read back the
 * same (the codecs are each other's inverse on whatever decodes).
 */
#include <assert.h>
#include <string.h>

#include "crdt/lib0_rle.h"

#define MAX_READS 4096

static void check_u8(const uint8_t *p, size_t n)
{
    static uint8_t vals[MAX_READS];
    crdt_rle_u8_dec r;
    crdt_rle_u8_dec_init(&r, p, n);
    size_t k = 0;
    while (k < MAX_READS) {
        uint8_t v = crdt_rle_u8_dec_read(&r);
        if (r.d.err)
            break;
        vals[k++] = v;
    }
    crdt_rle_u8_enc e;
    crdt_rle_u8_enc_init(&e);
    for (size_t i = 0; i < k; i++)
        crdt_rle_u8_enc_write(&e, vals[i]);
    const sb_buf *col = crdt_rle_u8_enc_finish(&e);
    crdt_rle_u8_dec_init(&r, col->ptr, col->len);
    for (size_t i = 0; i < k; i++)
        assert(crdt_rle_u8_dec_read(&r) == vals[i] && !r.d.err);
    crdt_rle_u8_enc_deinit(&e);
}

static void check_uint(const uint8_t *p, size_t n, bool inc)
{
    static uint64_t vals[MAX_READS];
    crdt_uint_opt_rle_dec r;
    crdt_uint_opt_rle_dec_init(&r, p, n, inc);
    size_t k = 0;
    while (k < MAX_READS) {
        uint64_t v = crdt_uint_opt_rle_dec_read(&r);
        if (r.d.err)
            break;
        vals[k++] = v;
    }
    crdt_uint_opt_rle_enc e;
    crdt_uint_opt_rle_enc_init(&e, inc);
    for (size_t i = 0; i < k; i++)
        crdt_uint_opt_rle_enc_write(&e, vals[i]);
    const sb_buf *col = crdt_uint_opt_rle_enc_finish(&e);
    crdt_uint_opt_rle_dec_init(&r, col->ptr, col->len, inc);
    for (size_t i = 0; i < k; i++)
        assert(crdt_uint_opt_rle_dec_read(&r) == vals[i] && !r.d.err);
    crdt_uint_opt_rle_enc_deinit(&e);
}

static void check_int_diff(const uint8_t *p, size_t n)
{
    static int64_t vals[MAX_READS];
    crdt_int_diff_opt_rle_dec r;
    crdt_int_diff_opt_rle_dec_init(&r, p, n);
    size_t k = 0;
    while (k < MAX_READS) {
        int64_t v = crdt_int_diff_opt_rle_dec_read(&r);
        if (r.d.err)
            break;
        /* The encoder takes |v| < 2^51 (it doubles diffs); stop there. */
        if (v > (int64_t)(CRDT_MAX_SAFE_INT / 4) || v < -(int64_t)(CRDT_MAX_SAFE_INT / 4))
            break;
        vals[k++] = v;
    }
    crdt_int_diff_opt_rle_enc e;
    crdt_int_diff_opt_rle_enc_init(&e);
    for (size_t i = 0; i < k; i++)
        crdt_int_diff_opt_rle_enc_write(&e, vals[i]);
    const sb_buf *col = crdt_int_diff_opt_rle_enc_finish(&e);
    crdt_int_diff_opt_rle_dec_init(&r, col->ptr, col->len);
    for (size_t i = 0; i < k; i++)
        assert(crdt_int_diff_opt_rle_dec_read(&r) == vals[i] && !r.d.err);
    crdt_int_diff_opt_rle_enc_deinit(&e);
}

static void check_string(const uint8_t *p, size_t n)
{
    static sb_str vals[MAX_READS];
    crdt_string_dec r;
    crdt_string_dec_init(&r, p, n);
    size_t k = 0;
    while (k < MAX_READS) {
        sb_str s = crdt_string_dec_read(&r);
        if (crdt_string_dec_err(&r))
            break;
        assert(s.len == 0 || (s.ptr >= (const char *)p && s.ptr + s.len <= (const char *)p + n));
        vals[k++] = s;
    }
    crdt_string_enc e;
    crdt_string_enc_init(&e);
    for (size_t i = 0; i < k; i++)
        crdt_string_enc_write(&e, vals[i].ptr, vals[i].len);
    const sb_buf *col = crdt_string_enc_finish(&e);
    crdt_string_dec_init(&r, col->ptr, col->len);
    for (size_t i = 0; i < k; i++) {
        sb_str s = crdt_string_dec_read(&r);
        assert(!crdt_string_dec_err(&r) && sb_str_eq(s, vals[i]));
    }
    crdt_string_enc_deinit(&e);
}

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
    if (size == 0)
        return 0;
    const uint8_t *p = data + 1;
    size_t n = size - 1;
    switch (data[0] % 5) {
    case 0:
        check_u8(p, n);
        break;
    case 1:
        check_uint(p, n, false);
        break;
    case 2:
        check_uint(p, n, true);
        break;
    case 3:
        check_int_diff(p, n);
        break;
    default:
        check_string(p, n);
        break;
    }
    return 0;
}
