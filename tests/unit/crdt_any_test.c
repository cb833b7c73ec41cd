/* crdt_any_test.c: lib0's "any" values: the wire form writeAny picks, what
 * readAny builds (JavaScript key order, duplicates, __proto__), the limits
 * on hostile input, and JSON exactly as JSON.stringify prints it. */
#include "cmocka_prelude.h"

#include <jansson.h>
#include <math.h>

#include "crdt/any.h"

#define BYTES(...) ((const uint8_t[]){__VA_ARGS__}), sizeof((const uint8_t[]){__VA_ARGS__})

static void expect_write(crdt_any v, const uint8_t *want, size_t n)
{
    sb_buf b = SB_BUF_INIT;
    crdt_any_write(&b, &v);
    assert_int_equal(b.len, n);
    assert_memory_equal(b.ptr, want, n);
    /* And it reads back to an equal value. */
    crdt_dec d;
    crdt_dec_init(&d, b.ptr, b.len);
    crdt_any r;
    assert_int_equal(crdt_any_read(&d, &r), 0);
    assert_int_equal(crdt_dec_remaining(&d), 0);
    assert_true(crdt_any_equal(&r, &v));
    crdt_any_free(&r);
    crdt_any_free(&v);
    sb_buf_free(&b);
}

static void test_numbers(void **state)
{
    expect_write(crdt_any_number(0), BYTES(125, 0x00));
    expect_write(crdt_any_number(-0.0), BYTES(125, 0x40));
    expect_write(crdt_any_number(-1), BYTES(125, 0x41));
    expect_write(crdt_any_number(2147483647.0), BYTES(125, 0xbf, 0xff, 0xff, 0xff, 0x0f));
    /* 2^31 is past BITS31: float32 represents it exactly. */
    expect_write(crdt_any_number(2147483648.0), BYTES(124, 0x4f, 0x00, 0x00, 0x00));
    expect_write(crdt_any_number(0.5), BYTES(124, 0x3f, 0x00, 0x00, 0x00));
    expect_write(crdt_any_number(0.1), BYTES(123, 0x3f, 0xb9, 0x99, 0x99, 0x99, 0x99, 0x99, 0x9a));
    expect_write(crdt_any_number(INFINITY), BYTES(124, 0x7f, 0x80, 0x00, 0x00));
    expect_write(crdt_any_number(NAN), BYTES(123, 0x7f, 0xf8, 0, 0, 0, 0, 0, 0));
    expect_write(crdt_any_number(1e300),
                 BYTES(123, 0x7e, 0x37, 0xe4, 0x3c, 0x88, 0x00, 0x75, 0x9c));
    expect_write(crdt_any_bigint(-2), BYTES(122, 0xff, 0xff, 0xff, 0xff, 0xff, 0xff, 0xff, 0xfe));
}

static void test_other_kinds(void **state)
{
    expect_write(crdt_any_undefined(), BYTES(127));
    expect_write(crdt_any_null(), BYTES(126));
    expect_write(crdt_any_bool(true), BYTES(120));
    expect_write(crdt_any_bool(false), BYTES(121));
    expect_write(crdt_any_string("ab", 2), BYTES(119, 2, 'a', 'b'));
    expect_write(crdt_any_binary(NULL, 0), BYTES(116, 0));
    crdt_any a = crdt_any_array();
    crdt_any_array_push(&a, crdt_any_number(1));
    crdt_any_array_push(&a, crdt_any_null());
    expect_write(a, BYTES(117, 2, 125, 1, 126));
    crdt_any o = crdt_any_object();
    crdt_any_object_set(&o, "b", 1, crdt_any_bool(true));
    crdt_any_object_set(&o, "a", 1, crdt_any_array());
    expect_write(o, BYTES(118, 2, 1, 'b', 120, 1, 'a', 117, 0));
}

static void test_object_order(void **state)
{
    /* As JavaScript: index keys first ascending, then insertion order. */
    crdt_any o = crdt_any_object();
    crdt_any_object_set(&o, "z", 1, crdt_any_number(1));
    crdt_any_object_set(&o, "10", 2, crdt_any_number(2));
    crdt_any_object_set(&o, "01", 2, crdt_any_number(3));
    crdt_any_object_set(&o, "2", 1, crdt_any_number(4));
    crdt_any_object_set(&o, "z", 1, crdt_any_number(5));           /* replaces in place */
    crdt_any_object_set(&o, "4294967295", 10, crdt_any_number(6)); /* not an index */
    sb_buf b = SB_BUF_INIT;
    crdt_any_to_json(&o, &b);
    assert_string_equal(b.ptr, "{\"2\":4,\"10\":2,\"z\":5,\"01\":3,\"4294967295\":6}");
    assert_true(crdt_any_object_get(&o, "01", 2)->u.num == 3);
    assert_null(crdt_any_object_get(&o, "y", 1));

    /* readAny: same order, duplicates keep the first place and the last
     * value, "__proto__" is not an own key. */
    crdt_dec d;
    crdt_dec_init(&d, BYTES(118, 5, 1, 'z', 125, 1, 1, '3', 125, 2, 9, '_', '_', 'p', 'r', 'o', 't',
                            'o', '_', '_', 126, 1, 'z', 125, 3, 1, 'a', 127));
    crdt_any r;
    assert_int_equal(crdt_any_read(&d, &r), 0);
    sb_buf_reset(&b);
    crdt_any_to_json(&r, &b);
    assert_string_equal(b.ptr, "{\"3\":2,\"z\":3}"); /* undefined "a" omitted */
    assert_int_equal(r.u.obj.len, 3);
    crdt_any c = crdt_any_copy(&r);
    assert_true(crdt_any_equal(&c, &r));
    crdt_any_object_set(&c, "a", 1, crdt_any_null());
    assert_false(crdt_any_equal(&c, &r));
    crdt_any_free(&c);
    crdt_any_free(&r);
    crdt_any_free(&o);
    sb_buf_free(&b);
}

static void test_hostile(void **state)
{
    crdt_dec d;
    crdt_any r;
    /* An array claiming 2^40 elements in three bytes allocates nothing. */
    crdt_dec_init(&d, BYTES(117, 0x80, 0x80, 0x80, 0x80, 0x80, 0x20, 126));
    assert_int_equal(crdt_any_read(&d, &r), CRDT_LIB0_ELIMIT);
    assert_int_equal(r.kind, CRDT_ANY_UNDEFINED);
    /* Unknown tag. */
    crdt_dec_init(&d, BYTES(117, 2, 126, 115));
    assert_int_equal(crdt_any_read(&d, &r), CRDT_LIB0_ETAG);
    assert_int_equal(r.kind, CRDT_ANY_UNDEFINED);
    /* Truncated object leaves nothing behind (ASan checks for leaks). */
    crdt_dec_init(&d, BYTES(118, 2, 1, 'a', 119, 1, 'x', 1));
    assert_int_equal(crdt_any_read(&d, &r), CRDT_LIB0_EEOF);
    /* Bad UTF-8 in a key. */
    crdt_dec_init(&d, BYTES(118, 1, 1, 0xff, 126));
    assert_int_equal(crdt_any_read(&d, &r), CRDT_LIB0_EUTF8);
    /* 64 nested arrays are fine, 65 are not. */
    uint8_t deep[2 * 65 + 1];
    for (int i = 0; i < 65; i++) {
        deep[2 * i] = 117;
        deep[2 * i + 1] = 1;
    }
    deep[130] = 126;
    crdt_dec_init(&d, deep + 2, sizeof(deep) - 2);
    assert_int_equal(crdt_any_read(&d, &r), 0);
    crdt_any_free(&r);
    crdt_dec_init(&d, deep, sizeof(deep));
    assert_int_equal(crdt_any_read(&d, &r), CRDT_LIB0_EDEPTH);
    /* A decoder that already failed reads nothing. */
    assert_int_equal(crdt_any_read(&d, &r), CRDT_LIB0_EDEPTH);
}

static void expect_json(crdt_any v, const char *want)
{
    sb_buf b = SB_BUF_INIT;
    crdt_any_to_json(&v, &b);
    assert_string_equal(b.ptr, want);
    sb_buf_free(&b);
    crdt_any_free(&v);
}

static void test_json_numbers(void **state)
{
    /* What String(x) prints in JavaScript. */
    expect_json(crdt_any_number(0), "0");
    expect_json(crdt_any_number(-0.0), "0");
    expect_json(crdt_any_number(1.5), "1.5");
    expect_json(crdt_any_number(-42), "-42");
    expect_json(crdt_any_number(0.1), "0.1");
    expect_json(crdt_any_number(0.1 + 0.2), "0.30000000000000004");
    expect_json(crdt_any_number(1e21), "1e+21");
    expect_json(crdt_any_number(1e20), "100000000000000000000");
    expect_json(crdt_any_number(123456789012345680000.0), "123456789012345680000");
    expect_json(crdt_any_number(0.000001), "0.000001");
    expect_json(crdt_any_number(1.5e-7), "1.5e-7");
    expect_json(crdt_any_number(5e-324), "5e-324");
    expect_json(crdt_any_number(1.7976931348623157e308), "1.7976931348623157e+308");
    expect_json(crdt_any_number(9007199254740991.0), "9007199254740991");
    expect_json(crdt_any_number(NAN), "null");
    expect_json(crdt_any_number(-INFINITY), "null");
    expect_json(crdt_any_bigint(-12), "-12");
}

static void test_json_other(void **state)
{
    expect_json(crdt_any_string("a\"\\\n\x01\xe2\x80\xa8\xc3\xa9", 10),
                "\"a\\\"\\\\\\n\\u0001\xe2\x80\xa8\xc3\xa9\"");
    expect_json(crdt_any_binary("\x01\xff", 2), "{\"0\":1,\"1\":255}");
    expect_json(crdt_any_binary(NULL, 0), "{}");
    expect_json(crdt_any_undefined(), "null");
    crdt_any a = crdt_any_array();
    crdt_any_array_push(&a, crdt_any_undefined());
    crdt_any_array_push(&a, crdt_any_bool(false));
    crdt_any_array_push(&a, crdt_any_object());
    expect_json(a, "[null,false,{}]");
}

static void test_from_json(void **state)
{
    json_error_t err;
    json_t *j = json_loads("{\"b\":[1,2.5,null,true,\"x\"],\"1\":{},\"__proto__\":-0.0}", 0, &err);
    assert_non_null(j);
    crdt_any v;
    assert_true(crdt_any_from_json(j, &v));
    json_decref(j);
    sb_buf b = SB_BUF_INIT;
    crdt_any_to_json(&v, &b);
    /* JSON.parse keeps "__proto__" as an own key. */
    assert_string_equal(b.ptr, "{\"1\":{},\"b\":[1,2.5,null,true,\"x\"],\"__proto__\":0}");
    crdt_any_free(&v);

    /* With INT_AS_REAL, "-0" stays -0 as in JSON.parse, and lib0 writes it
     * as the var-int 0x40. */
    j = json_loads("[-0,3]", JSON_DECODE_INT_AS_REAL, &err);
    assert_true(crdt_any_from_json(j, &v));
    json_decref(j);
    sb_buf_reset(&b);
    crdt_any_write(&b, &v);
    assert_int_equal(b.len, 6);
    assert_memory_equal(b.ptr, "\x75\x02\x7d\x40\x7d\x03", 6);
    crdt_any_free(&v);

    /* Nesting deeper than the limit is refused. */
    sb_buf_reset(&b);
    for (int i = 0; i < 70; i++)
        sb_buf_putc(&b, '[');
    for (int i = 0; i < 70; i++)
        sb_buf_putc(&b, ']');
    j = json_loadb(b.ptr, b.len, 0, &err);
    assert_non_null(j);
    assert_false(crdt_any_from_json(j, &v));
    assert_int_equal(v.kind, CRDT_ANY_UNDEFINED);
    json_decref(j);
    sb_buf_free(&b);
}

static void test_ill_formed_utf8(void **state)
{
    /* As TextDecoder: one U+FFFD per maximal subpart, and the byte that
     * broke a sequence is read again. */
    static const struct {
        const char *in;
        size_t n;
        const char *want;
    } cases[] = {
        {"a\xc3(", 3, "a\xef\xbf\xbd("},
        {"\xf0\x9f\x98", 3, "\xef\xbf\xbd"},
        {"\xed\xa0\x80", 3, "\xef\xbf\xbd\xef\xbf\xbd\xef\xbf\xbd"},
        {"\xff\xc3\xa9\x80", 4, "\xef\xbf\xbd\xc3\xa9\xef\xbf\xbd"},
        {"\xe2\x82", 2, "\xef\xbf\xbd"},
        {"\xc0\xaf", 2, "\xef\xbf\xbd\xef\xbf\xbd"},
    };
    for (size_t i = 0; i < SB_ARRAY_LEN(cases); i++) {
        crdt_any v = crdt_any_string(cases[i].in, cases[i].n);
        assert_int_equal(v.u.str.len, strlen(cases[i].want));
        assert_memory_equal(v.u.str.ptr, cases[i].want, v.u.str.len);
        crdt_any_free(&v);
    }
    crdt_any o = crdt_any_object();
    crdt_any_object_set(&o, "k\xff", 2, crdt_any_null());
    crdt_any_object_set(&o, "k\xfe", 2, crdt_any_bool(true)); /* the same key now */
    assert_int_equal(o.u.obj.len, 1);
    assert_true(crdt_any_object_get(&o, "k\xef\xbf\xbd", 4)->u.b);
    crdt_any_free(&o);
}

static void test_key_is_index(void **state)
{
    uint32_t i;
    assert_true(crdt_any_key_is_index("0", 1, &i) && i == 0);
    assert_true(crdt_any_key_is_index("4294967294", 10, &i) && i == 4294967294u);
    assert_false(crdt_any_key_is_index("4294967295", 10, &i));
    assert_false(crdt_any_key_is_index("00", 2, &i));
    assert_false(crdt_any_key_is_index("-1", 2, &i));
    assert_false(crdt_any_key_is_index("", 0, &i));
    assert_false(crdt_any_key_is_index("1e3", 3, &i));
}

int main(void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(test_numbers),         cmocka_unit_test(test_other_kinds),
        cmocka_unit_test(test_object_order),    cmocka_unit_test(test_hostile),
        cmocka_unit_test(test_json_numbers),    cmocka_unit_test(test_json_other),
        cmocka_unit_test(test_from_json),       cmocka_unit_test(test_key_is_index),
        cmocka_unit_test(test_ill_formed_utf8),
    };
    return cmocka_run_group_tests(tests, NULL, NULL);
}
