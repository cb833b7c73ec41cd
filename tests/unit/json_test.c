/* json_test.c: parsing limits and error positions, and the writer's exact
 * bytes and escapes. */
#include "cmocka_prelude.h"

#include "base/json.h"
#include "base/str.h"

static sb_json_errcode parse(const char *s, size_t max_bytes, unsigned depth, sb_json_error *e)
{
    sb_json_limits l = {max_bytes, depth};
    json_t *v = NULL;
    sb_json_errcode c = sb_json_parse(s, strlen(s), &l, &v, e);
    if (c == SB_JSON_OK)
        json_decref(v);
    return c;
}

static void test_parse_ok(void **state)
{
    json_t *v;
    sb_json_limits l = {0, 0};
    const char *doc = "{\"a\":[1,2.5,\"\xc3\xa9\",null,true]}";
    assert_int_equal(sb_json_parse(doc, strlen(doc), &l, &v, NULL), SB_JSON_OK);
    assert_true(json_is_object(v));
    assert_int_equal(json_array_size(json_object_get(v, "a")), 5);
    json_decref(v);
    assert_int_equal(sb_json_parse("42", 2, &l, &v, NULL), SB_JSON_OK); /* any value */
    json_decref(v);
}

static void test_limits(void **state)
{
    sb_json_error e;
    assert_int_equal(parse("[1,2,3]", 6, 0, &e), SB_JSON_TOO_LARGE);
    assert_int_equal(parse("[1,2,3]", 7, 0, &e), SB_JSON_OK);
    assert_int_equal(parse("[[[1]]]", 0, 3, &e), SB_JSON_OK);
    assert_int_equal(parse("[[[[1]]]]", 0, 3, &e), SB_JSON_TOO_DEEP);
    assert_int_equal(e.offset, 3);
    /* Brackets inside strings do not count. */
    assert_int_equal(parse("[\"[[[[\\\"[[\"]", 0, 1, &e), SB_JSON_OK);
}

static void test_errors(void **state)
{
    sb_json_error e;
    assert_int_equal(parse("{\n  \"a\": 1,\n  \"b\": tru\n}", 0, 0, &e), SB_JSON_SYNTAX);
    assert_int_equal(e.line, 3);
    assert_true(e.offset >= 19 && e.offset <= 22);
    assert_int_equal(parse("{\"a\":1,\"a\":2}", 0, 0, &e), SB_JSON_SYNTAX); /* duplicate */
    assert_int_equal(parse("\"a\\u0000b\"", 0, 0, &e), SB_JSON_SYNTAX);     /* NUL */
    assert_int_equal(parse("", 0, 0, &e), SB_JSON_SYNTAX);
    assert_int_equal(e.offset, 0);
    assert_int_equal(parse("{\"a\":\"\xc3\x28\"}", 0, 0, &e), SB_JSON_BAD_UTF8);
    assert_int_equal(e.offset, 6);
    assert_int_equal(e.line, 1);
    assert_int_equal(e.column, 7);
}

static void test_writer(void **state)
{
    sb_buf b = SB_BUF_INIT;
    sb_jw w;
    sb_jw_init(&w, &b);
    sb_jw_obj_begin(&w);
    sb_jw_kv_str(&w, "s", "q\"\\/\b\f\n\r\t\x01\x7f<>&\xe2\x80\xa8\xff");
    sb_jw_kv_int(&w, "i", -9007199254740993LL);
    sb_jw_key(&w, "u");
    sb_jw_uint(&w, UINT64_MAX);
    sb_jw_key(&w, "d");
    sb_jw_double(&w, 0.1);
    sb_jw_key(&w, "whole");
    sb_jw_double(&w, 2);
    sb_jw_key(&w, "nan");
    sb_jw_double(&w, 0.0 / 0.0);
    sb_jw_key(&w, "a");
    sb_jw_arr_begin(&w);
    sb_jw_bool(&w, true);
    sb_jw_null(&w);
    sb_jw_obj_begin(&w);
    sb_jw_obj_end(&w);
    sb_jw_arr_begin(&w);
    sb_jw_arr_end(&w);
    sb_jw_str(&w, NULL);
    sb_jw_arr_end(&w);
    sb_jw_key(&w, "raw");
    sb_jw_raw(&w, "[1]", 3);
    sb_jw_obj_end(&w);
    assert_string_equal(b.ptr, "{\"s\":\"q\\\"\\\\/\\b\\f\\n\\r\\t\\u0001\\u007f\\u003c\\u003e"
                               "\\u0026\\u2028\\ufffd\",\"i\":-9007199254740993,"
                               "\"u\":18446744073709551615,\"d\":0.10000000000000001,"
                               "\"whole\":2.0,\"nan\":null,\"a\":[true,null,{},[],null],"
                               "\"raw\":[1]}");
    sb_buf_free(&b);
}

static void test_writer_json_round_trip(void **state)
{
    const char *in = "{\"z\":1,\"a\":[\"x\",{\"k\":false}],\"m\":1.5}";
    json_t *v = json_loads(in, 0, NULL);
    sb_buf b = SB_BUF_INIT;
    sb_jw w;
    sb_jw_init(&w, &b);
    sb_jw_json(&w, v);
    assert_string_equal(b.ptr, in); /* insertion order kept */
    json_decref(v);
    sb_buf_free(&b);
}

static bool same(const char *a, const char *b)
{
    json_t *x = json_loads(a, JSON_DECODE_ANY, NULL), *y = json_loads(b, JSON_DECODE_ANY, NULL);
    assert_non_null(x);
    assert_non_null(y);
    bool r = sb_json_same(x, y);
    assert_true(r == sb_json_same(y, x));
    json_decref(x);
    json_decref(y);
    return r;
}

/* Numbers by value, everything else as json_equal. */
static void test_same(void **state)
{
    (void)state;
    assert_true(same("-3.0", "-3"));
    assert_true(same("{\"a\":[1,{\"f\":2.0}],\"b\":null}", "{\"b\":null,\"a\":[1.0,{\"f\":2}]}"));
    assert_true(same("9007199254740993", "9007199254740993"));
    assert_false(same("9007199254740993", "9007199254740992"));
    assert_false(same("3.5", "3"));
    assert_false(same("\"3\"", "3"));
    assert_false(same("[1,2]", "[1,2,3]"));
    assert_false(same("{\"a\":1}", "{\"a\":1,\"b\":1}"));
    assert_false(same("{\"a\":1}", "{\"b\":1}"));
    assert_false(same("null", "false"));
    assert_true(same("true", "true"));
}

int main(void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(test_parse_ok),
        cmocka_unit_test(test_limits),
        cmocka_unit_test(test_errors),
        cmocka_unit_test(test_writer),
        cmocka_unit_test(test_writer_json_round_trip),
        cmocka_unit_test(test_same),
    };
    return cmocka_run_group_tests(tests, NULL, NULL);
}
