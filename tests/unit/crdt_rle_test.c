/* crdt_rle_test.c: update v2's column codecs against columns the real lib0
 * wrote (tests/crdt/lib0_vectors.json), both ways, and the decoders'
 * behaviour on columns lib0 never writes: exhausted, split surrogate
 * pairs, out-of-range values, huge runs. */
#include "cmocka_prelude.h"

#include "base/utf8.h"
#include "crdt/lib0_rle.h"
#include "crdt_vectors.h"

#define HEX(v)    json_string_value(json_object_get((v), "hex"))
#define VAL(v, k) json_array_get(json_object_get((v), "values"), (k))
#define NVALS(v)  json_array_size(json_object_get((v), "values"))
#define NUM(v, k) strtoll(json_string_value(VAL((v), (k))), NULL, 10)

static void test_rle_u8(void **state)
{
    sb_buf in = SB_BUF_INIT;
    EACH("rle_u8", v)
    {
        crdt_rle_u8_enc e;
        crdt_rle_u8_enc_init(&e);
        for (size_t k = 0; k < NVALS(v); k++)
            crdt_rle_u8_enc_write(&e, (uint8_t)json_integer_value(VAL(v, k)));
        vectors_expect_hex(crdt_rle_u8_enc_finish(&e), HEX(v), "rle_u8");
        crdt_rle_u8_enc_deinit(&e);
        vectors_unhex(HEX(v), &in);
        crdt_rle_u8_dec r;
        crdt_rle_u8_dec_init(&r, in.ptr, in.len);
        for (size_t k = 0; k < NVALS(v); k++)
            assert_int_equal(crdt_rle_u8_dec_read(&r), json_integer_value(VAL(v, k)));
        assert_true(crdt_dec_ok(&r.d));
    }
    sb_buf_free(&in);
}

static void check_uint_opt(const char *name, bool inc)
{
    sb_buf in = SB_BUF_INIT;
    EACH(name, v)
    {
        crdt_uint_opt_rle_enc e;
        crdt_uint_opt_rle_enc_init(&e, inc);
        for (size_t k = 0; k < NVALS(v); k++)
            crdt_uint_opt_rle_enc_write(&e, (uint64_t)NUM(v, k));
        vectors_expect_hex(crdt_uint_opt_rle_enc_finish(&e), HEX(v), name);
        crdt_uint_opt_rle_enc_deinit(&e);
        vectors_unhex(HEX(v), &in);
        crdt_uint_opt_rle_dec r;
        crdt_uint_opt_rle_dec_init(&r, in.ptr, in.len, inc);
        for (size_t k = 0; k < NVALS(v); k++)
            assert_true(crdt_uint_opt_rle_dec_read(&r) == (uint64_t)NUM(v, k));
        assert_true(crdt_dec_ok(&r.d));
        assert_int_equal(crdt_dec_remaining(&r.d), 0);
        /* Past the end is an error, not lib0's endless zeros. */
        crdt_uint_opt_rle_dec_read(&r);
        assert_true(r.count > 0 || r.d.err == CRDT_LIB0_EEOF);
    }
    sb_buf_free(&in);
}

static void test_uint_opt_rle(void **state)
{
    check_uint_opt("uint_opt_rle", false);
    check_uint_opt("inc_uint_opt_rle", true);
}

static void test_int_diff_opt_rle(void **state)
{
    sb_buf in = SB_BUF_INIT;
    EACH("int_diff_opt_rle", v)
    {
        crdt_int_diff_opt_rle_enc e;
        crdt_int_diff_opt_rle_enc_init(&e);
        for (size_t k = 0; k < NVALS(v); k++)
            crdt_int_diff_opt_rle_enc_write(&e, NUM(v, k));
        vectors_expect_hex(crdt_int_diff_opt_rle_enc_finish(&e), HEX(v), "int_diff_opt_rle");
        crdt_int_diff_opt_rle_enc_deinit(&e);
        vectors_unhex(HEX(v), &in);
        crdt_int_diff_opt_rle_dec r;
        crdt_int_diff_opt_rle_dec_init(&r, in.ptr, in.len);
        for (size_t k = 0; k < NVALS(v); k++)
            assert_true(crdt_int_diff_opt_rle_dec_read(&r) == NUM(v, k));
        assert_true(crdt_dec_ok(&r.d));
        assert_int_equal(crdt_dec_remaining(&r.d), 0);
    }
    sb_buf_free(&in);
}

static void test_string(void **state)
{
    sb_buf in = SB_BUF_INIT;
    EACH("string", v)
    {
        crdt_string_enc e;
        crdt_string_enc_init(&e);
        for (size_t k = 0; k < NVALS(v); k++)
            crdt_string_enc_write(&e, json_string_value(VAL(v, k)), json_string_length(VAL(v, k)));
        vectors_expect_hex(crdt_string_enc_finish(&e), HEX(v), "string");
        crdt_string_enc_deinit(&e);
        vectors_unhex(HEX(v), &in);
        crdt_string_dec r;
        crdt_string_dec_init(&r, in.ptr, in.len);
        for (size_t k = 0; k < NVALS(v); k++) {
            sb_str s = crdt_string_dec_read(&r);
            assert_int_equal(crdt_string_dec_err(&r), 0);
            assert_true(sb_str_eq(
                s, sb_str_make(json_string_value(VAL(v, k)), json_string_length(VAL(v, k)))));
        }
    }
    sb_buf_free(&in);
}

static void test_hostile(void **state)
{
    /* rle_u8: the last run repeats for ever; an empty column fails. */
    crdt_rle_u8_dec r8;
    crdt_rle_u8_dec_init(&r8, "\x07", 1);
    for (int k = 0; k < 1000; k++)
        assert_int_equal(crdt_rle_u8_dec_read(&r8), 7);
    crdt_rle_u8_dec_init(&r8, NULL, 0);
    crdt_rle_u8_dec_read(&r8);
    assert_int_equal(r8.d.err, CRDT_LIB0_EEOF);

    /* uint_opt_rle: -0 is "the value 0, a run follows"; a run of 2^53
     * costs nothing until read. */
    crdt_uint_opt_rle_dec ru;
    crdt_uint_opt_rle_dec_init(&ru, "\x40\xff\xff\xff\xff\xff\xff\xff\x0f", 9, false);
    for (int k = 0; k < 100; k++)
        assert_int_equal(crdt_uint_opt_rle_dec_read(&ru), 0);
    assert_true(crdt_dec_ok(&ru.d));
    /* inc: a run that climbs past 2^53-1 is out of range. */
    crdt_uint_opt_rle_dec_init(&ru, "\xff\xff\xff\xff\xff\xff\xff\x1f\x00", 9, true);
    assert_true(crdt_uint_opt_rle_dec_read(&ru) == CRDT_MAX_SAFE_INT);
    crdt_uint_opt_rle_dec_read(&ru);
    assert_int_equal(ru.d.err, CRDT_LIB0_ERANGE);

    /* int_diff_opt_rle: a diff run that walks out of range. */
    crdt_int_diff_opt_rle_dec rd;
    sb_buf b = SB_BUF_INIT;
    crdt_enc_var_int(&b, (int64_t)(CRDT_MAX_SAFE_INT / 2) * 2 + 1); /* diff 2^52-1, run */
    crdt_enc_var_uint(&b, 10);
    crdt_int_diff_opt_rle_dec_init(&rd, b.ptr, b.len);
    assert_true(crdt_int_diff_opt_rle_dec_read(&rd) == (int64_t)(CRDT_MAX_SAFE_INT / 2));
    assert_true(crdt_int_diff_opt_rle_dec_read(&rd) == (int64_t)(CRDT_MAX_SAFE_INT / 2) * 2);
    crdt_int_diff_opt_rle_dec_read(&rd);
    assert_int_equal(rd.d.err, CRDT_LIB0_ERANGE);
    /* Negative odd values floor as lib0's Math.floor(diff / 2). */
    sb_buf_reset(&b);
    crdt_enc_var_int(&b, -3); /* diff -2, run of 2 */
    crdt_enc_var_uint(&b, 0);
    crdt_int_diff_opt_rle_dec_init(&rd, b.ptr, b.len);
    assert_int_equal(crdt_int_diff_opt_rle_dec_read(&rd), -2);
    assert_int_equal(crdt_int_diff_opt_rle_dec_read(&rd), -4);
    crdt_int_diff_opt_rle_dec_read(&rd);
    assert_int_equal(rd.d.err, CRDT_LIB0_EEOF);

    /* string: a length that splits a surrogate pair, one past the end,
     * and invalid UTF-8 in the concatenation. */
    crdt_string_dec rs;
    crdt_string_dec_init(&rs, "\x04\xf0\x9f\x98\x80\x01", 6);
    assert_null(crdt_string_dec_read(&rs).ptr);
    assert_int_equal(crdt_string_dec_err(&rs), CRDT_LIB0_EFORMAT);
    crdt_string_dec_init(&rs, "\x02hi\x03", 4);
    assert_null(crdt_string_dec_read(&rs).ptr);
    assert_int_equal(crdt_string_dec_err(&rs), CRDT_LIB0_EEOF);
    crdt_string_dec_init(&rs, "\x01\xff\x01", 3);
    assert_int_equal(crdt_string_dec_err(&rs), CRDT_LIB0_EUTF8);
    assert_null(crdt_string_dec_read(&rs).ptr);
    /* An empty string is an empty view, not NULL (found by the fuzzer). */
    crdt_string_dec_init(&rs, "\x00\x00", 2);
    sb_str empty = crdt_string_dec_read(&rs);
    assert_non_null(empty.ptr);
    assert_int_equal(empty.len, 0);
    assert_int_equal(crdt_string_dec_err(&rs), 0);
    assert_int_equal(sb_utf16_len("a\xc3\xa9\xe6\x97\xa5\xf0\x9f\x98\x80", 10), 5);
    sb_buf_free(&b);
}

int main(void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(test_rle_u8),           cmocka_unit_test(test_uint_opt_rle),
        cmocka_unit_test(test_int_diff_opt_rle), cmocka_unit_test(test_string),
        cmocka_unit_test(test_hostile),
    };
    return cmocka_run_group_tests(tests, vectors_setup, vectors_teardown);
}
