/* crdt_lib0_test.c: lib0's primitives with exact bytes (worked out from lib0
 * src/encoding.js; lib0_vectors_test checks the same against real lib0),
 * and the decoder's promises: bounds, sticky errors, ranges, UTF-8. */
#include "cmocka_prelude.h"

#include <math.h>

#include "crdt/lib0.h"

#define BYTES(...) ((const uint8_t[]){__VA_ARGS__}), sizeof((const uint8_t[]){__VA_ARGS__})

static void expect_buf(sb_buf *b, const uint8_t *want, size_t n)
{
    assert_int_equal(b->len, n);
    assert_memory_equal(b->ptr, want, n);
    sb_buf_reset(b);
}

static void test_var_uint(void **state)
{
    sb_buf b = SB_BUF_INIT;
    crdt_enc_var_uint(&b, 0);
    expect_buf(&b, BYTES(0x00));
    crdt_enc_var_uint(&b, 127);
    expect_buf(&b, BYTES(0x7f));
    crdt_enc_var_uint(&b, 128);
    expect_buf(&b, BYTES(0x80, 0x01));
    crdt_enc_var_uint(&b, 300);
    expect_buf(&b, BYTES(0xac, 0x02));
    crdt_enc_var_uint(&b, CRDT_MAX_SAFE_INT);
    expect_buf(&b, BYTES(0xff, 0xff, 0xff, 0xff, 0xff, 0xff, 0xff, 0x0f));

    crdt_dec d;
    crdt_dec_init(&d, BYTES(0xff, 0xff, 0xff, 0xff, 0xff, 0xff, 0xff, 0x0f, 0xac, 0x02, 0x00));
    assert_true(crdt_dec_var_uint(&d) == CRDT_MAX_SAFE_INT);
    assert_int_equal(crdt_dec_var_uint(&d), 300);
    assert_int_equal(crdt_dec_var_uint(&d), 0);
    assert_true(crdt_dec_ok(&d));
    assert_int_equal(crdt_dec_remaining(&d), 0);
    /* Padding groups are accepted, as lib0 does. */
    crdt_dec_init(&d, BYTES(0x81, 0x80, 0x00));
    assert_int_equal(crdt_dec_var_uint(&d), 1);
    assert_true(crdt_dec_ok(&d));
    sb_buf_free(&b);
}

static void test_var_uint_errors(void **state)
{
    crdt_dec d;
    /* 2^53 is one above the safe range. */
    crdt_dec_init(&d, BYTES(0x80, 0x80, 0x80, 0x80, 0x80, 0x80, 0x80, 0x10));
    assert_int_equal(crdt_dec_var_uint(&d), 0);
    assert_int_equal(d.err, CRDT_LIB0_ERANGE);
    assert_int_equal(d.pos, 0);
    /* Truncated: the continuation bit promises a byte that is not there. */
    crdt_dec_init(&d, BYTES(0x80));
    assert_int_equal(crdt_dec_var_uint(&d), 0);
    assert_int_equal(d.err, CRDT_LIB0_EEOF);
    /* Sticky: a later read that would succeed returns 0 and does not move. */
    crdt_dec_init(&d, BYTES(0x80, 0x05));
    d.len = 1;
    crdt_dec_var_uint(&d);
    d.len = 2;
    assert_int_equal(crdt_dec_u8(&d), 0);
    assert_int_equal(d.pos, 0);
    assert_int_equal(crdt_dec_peek(&d), -1);
    assert_int_equal(d.err, CRDT_LIB0_EEOF);
    /* Endless padding is garbage, not a hang. */
    uint8_t pad[64];
    memset(pad, 0x80, sizeof(pad));
    crdt_dec_init(&d, pad, sizeof(pad));
    crdt_dec_var_uint(&d);
    assert_int_equal(d.err, CRDT_LIB0_ERANGE);
    /* Empty input. */
    crdt_dec_init(&d, NULL, 0);
    assert_int_equal(crdt_dec_peek(&d), -1);
    crdt_dec_var_uint(&d);
    assert_int_equal(d.err, CRDT_LIB0_EEOF);
}

static void test_var_int(void **state)
{
    sb_buf b = SB_BUF_INIT;
    crdt_enc_var_int(&b, 0);
    expect_buf(&b, BYTES(0x00));
    crdt_enc_var_int_signed(&b, 0, true);
    expect_buf(&b, BYTES(0x40));
    crdt_enc_var_int(&b, 63);
    expect_buf(&b, BYTES(0x3f));
    crdt_enc_var_int(&b, 64);
    expect_buf(&b, BYTES(0x80, 0x01));
    crdt_enc_var_int(&b, -1);
    expect_buf(&b, BYTES(0x41));
    crdt_enc_var_int(&b, -64);
    expect_buf(&b, BYTES(0xc0, 0x01));
    crdt_enc_var_int(&b, -(int64_t)CRDT_MAX_SAFE_INT);
    expect_buf(&b, BYTES(0xff, 0xff, 0xff, 0xff, 0xff, 0xff, 0xff, 0x1f));

    crdt_dec d;
    bool neg;
    crdt_dec_init(
        &d, BYTES(0x40, 0x00, 0xc0, 0x01, 0x3f, 0xff, 0xff, 0xff, 0xff, 0xff, 0xff, 0xff, 0x1f));
    assert_int_equal(crdt_dec_var_int(&d, &neg), 0);
    assert_true(neg); /* -0 survives */
    assert_int_equal(crdt_dec_var_int(&d, &neg), 0);
    assert_false(neg);
    assert_int_equal(crdt_dec_var_int(&d, &neg), -64);
    assert_true(neg);
    assert_int_equal(crdt_dec_var_int(&d, NULL), 63);
    assert_true(crdt_dec_var_int(&d, &neg) == -(int64_t)CRDT_MAX_SAFE_INT);
    assert_true(crdt_dec_ok(&d));
    /* Magnitude 2^53: out of range. */
    crdt_dec_init(&d, BYTES(0x80, 0x80, 0x80, 0x80, 0x80, 0x80, 0x80, 0x20));
    crdt_dec_var_int(&d, &neg);
    assert_int_equal(d.err, CRDT_LIB0_ERANGE);
    crdt_dec_init(&d, BYTES(0xc0));
    assert_int_equal(crdt_dec_var_int(&d, &neg), 0);
    assert_false(neg);
    assert_int_equal(d.err, CRDT_LIB0_EEOF);
    sb_buf_free(&b);
}

static void test_strings_and_bytes(void **state)
{
    sb_buf b = SB_BUF_INIT;
    crdt_enc_var_string(&b, "h\xc3\xa9", 3);
    expect_buf(&b, BYTES(0x03, 'h', 0xc3, 0xa9));
    crdt_enc_var_bytes(&b, NULL, 0);
    expect_buf(&b, BYTES(0x00));

    crdt_dec d;
    crdt_dec_init(&d, BYTES(0x04, 0xf0, 0x9f, 0x98, 0x80, 0x00, 0x02, 0xff, 0xfe));
    sb_str s = crdt_dec_var_string(&d);
    assert_int_equal(s.len, 4);
    assert_memory_equal(s.ptr, "\xf0\x9f\x98\x80", 4);
    s = crdt_dec_var_string(&d);
    assert_int_equal(s.len, 0);
    s = crdt_dec_var_bytes(&d); /* bytes need not be UTF-8 */
    assert_int_equal(s.len, 2);
    assert_true(crdt_dec_ok(&d));

    /* Invalid UTF-8 is rejected, and the cursor stays at the string. */
    crdt_dec_init(&d, BYTES(0x02, 0xc3, 0x28));
    s = crdt_dec_var_string(&d);
    assert_null(s.ptr);
    assert_int_equal(d.err, CRDT_LIB0_EUTF8);
    assert_int_equal(d.pos, 0);
    /* A length beyond the input never reads past it. */
    crdt_dec_init(&d, BYTES(0x05, 'a', 'b'));
    s = crdt_dec_var_bytes(&d);
    assert_int_equal(s.len, 0);
    assert_int_equal(d.err, CRDT_LIB0_EEOF);
    crdt_dec_init(&d, BYTES(0xff, 0xff, 0xff, 0xff, 0xff, 0xff, 0xff, 0x0f));
    crdt_dec_var_bytes(&d);
    assert_int_equal(d.err, CRDT_LIB0_EEOF);
    sb_buf_free(&b);
}

static void test_fixed_width(void **state)
{
    sb_buf b = SB_BUF_INIT;
    crdt_enc_f32(&b, 1.5f);
    expect_buf(&b, BYTES(0x3f, 0xc0, 0x00, 0x00));
    crdt_enc_f64(&b, -2.0);
    expect_buf(&b, BYTES(0xc0, 0x00, 0, 0, 0, 0, 0, 0));
    crdt_enc_i64be(&b, -2);
    expect_buf(&b, BYTES(0xff, 0xff, 0xff, 0xff, 0xff, 0xff, 0xff, 0xfe));

    crdt_dec d;
    crdt_dec_init(&d, BYTES(0x3f, 0xc0, 0x00, 0x00, 0xc0, 0x00, 0, 0, 0, 0, 0, 0, 0x7f, 0xff, 0xff,
                            0xff, 0xff, 0xff, 0xff, 0xff, 0x01));
    assert_true(crdt_dec_f32(&d) == 1.5f);
    assert_true(crdt_dec_f64(&d) == -2.0);
    assert_true(crdt_dec_i64be(&d) == INT64_MAX);
    assert_int_equal(crdt_dec_peek(&d), 1);
    assert_int_equal(crdt_dec_remaining(&d), 1);
    assert_true(crdt_dec_f32(&d) == 0.0f); /* 1 byte left of 4 */
    assert_int_equal(d.err, CRDT_LIB0_EEOF);
    assert_int_equal(d.pos, 20);
    sb_buf_free(&b);
}

static void test_strerror(void **state)
{
    assert_string_equal(crdt_lib0_strerror(CRDT_LIB0_OK), "ok");
    assert_string_equal(crdt_lib0_strerror(CRDT_LIB0_EEOF), "unexpected end of input");
    assert_string_equal(crdt_lib0_strerror(9999), "unknown error");
}

int main(void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(test_var_uint),    cmocka_unit_test(test_var_uint_errors),
        cmocka_unit_test(test_var_int),     cmocka_unit_test(test_strings_and_bytes),
        cmocka_unit_test(test_fixed_width), cmocka_unit_test(test_strerror),
    };
    return cmocka_run_group_tests(tests, NULL, NULL);
}
