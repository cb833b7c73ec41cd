/*
 * api_decode_test.c: the table-driven body decoder: types, lengths in
 * characters, required fields, unknown fields, and that every problem is
 * reported at once.
 */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <string.h>

#include <cmocka.h>

#include "api/decode.h"

typedef struct body {
    sb_str name;
    api_bool flag;
    api_int count;
    json_t *meta;
} body;

static const api_field fields[] = {
    {"name", API_STRING, true, 2, 4, offsetof(body, name)},
    {"flag", API_BOOL, false, 0, 0, offsetof(body, flag)},
    {"count", API_INT, false, 1, 10, offsetof(body, count)},
    {"meta", API_OBJECT, false, 0, 0, offsetof(body, meta)},
};

/* Decoded strings and unknown-field names borrow from the document, so
 * each test's last document lives until the next decode or the teardown. */
static json_t *last_doc;

static bool decode(const char *json, body *b, api_errors *errs)
{
    json_decref(last_doc);
    last_doc = json_loads(json, JSON_DECODE_ANY, NULL);
    assert_non_null(last_doc);
    memset(b, 0, sizeof(*b));
    return api_decode(last_doc, fields, 4, b, errs);
}

static int release_doc(void **state)
{
    json_decref(last_doc);
    last_doc = NULL;
    return 0;
}

static void test_all_fields(void **state)
{
    body b;
    api_errors errs;
    json_t *doc = json_loads(
        "{\"name\":\"\xc3\xa9t\xc3\xa9\",\"flag\":true,\"count\":7,\"meta\":{}}", 0, NULL);
    memset(&b, 0, sizeof(b));
    assert_true(api_decode(doc, fields, 4, &b, &errs));
    assert_int_equal(errs.n, 0);
    assert_int_equal(b.name.len, 5); /* 3 characters, 5 bytes */
    assert_memory_equal(b.name.ptr, "\xc3\xa9t\xc3\xa9", 5);
    assert_true(b.flag.set && b.flag.value);
    assert_true(b.count.set);
    assert_int_equal(b.count.value, 7);
    assert_true(json_is_object(b.meta));
    json_decref(doc);
}

static void test_optional_absent_and_null(void **state)
{
    body b;
    api_errors errs;
    assert_true(decode("{\"name\":\"abc\",\"flag\":null}", &b, &errs));
    assert_false(b.flag.set);
    assert_false(b.count.set);
    assert_null(b.meta);
}

static void test_every_problem_listed(void **state)
{
    body b;
    api_errors errs;
    assert_false(decode("{\"flag\":1,\"count\":11,\"meta\":[],\"extra\":true}", &b, &errs));
    assert_int_equal(errs.n, 5);
    assert_string_equal(errs.items[0].field, "extra");
    assert_string_equal(errs.items[0].message, "is not a known field");
    assert_string_equal(errs.items[1].field, "name");
    assert_string_equal(errs.items[1].message, "is required");
    assert_string_equal(errs.items[2].message, "must be true or false");
    assert_string_equal(errs.items[3].message, "must be an integer from 1 to 10");
    assert_string_equal(errs.items[4].message, "must be an object");
}

static void test_lengths_in_characters(void **state)
{
    body b;
    api_errors errs;
    assert_false(decode("{\"name\":\"a\"}", &b, &errs));
    assert_string_equal(errs.items[0].message, "must have 2 to 4 characters");
    assert_false(decode("{\"name\":\"abcde\"}", &b, &errs));
    /* Four characters of two bytes each fit. */
    assert_true(decode("{\"name\":\"\xc3\xa9\xc3\xa9\xc3\xa9\xc3\xa9\"}", &b, &errs));
    assert_false(decode("{\"name\":5}", &b, &errs));
    assert_string_equal(errs.items[0].message, "must be a string");
}

static void test_not_an_object(void **state)
{
    body b;
    api_errors errs;
    assert_false(decode("[1,2]", &b, &errs));
    assert_int_equal(errs.n, 1);
    assert_string_equal(errs.items[0].field, "");
    assert_string_equal(errs.items[0].message, "the body must be a JSON object");
}

/* API_JSON takes any value but null, as the document's own. */
static void test_any_json(void **state)
{
    typedef struct any_body {
        json_t *result;
    } any_body;
    static const api_field any_fields[] = {
        {"result", API_JSON, true, 0, 0, offsetof(any_body, result)},
    };
    const char *accepted[] = {"{\"result\":\"text\"}", "{\"result\":{\"a\":1}}", "{\"result\":[1]}",
                              "{\"result\":0}", "{\"result\":false}"};
    for (size_t i = 0; i < sizeof(accepted) / sizeof(accepted[0]); i++) {
        json_t *doc = json_loads(accepted[i], 0, NULL);
        any_body b = {0};
        api_errors errs;
        assert_true(api_decode(doc, any_fields, 1, &b, &errs));
        assert_ptr_equal(b.result, json_object_get(doc, "result"));
        json_decref(doc);
    }
    json_t *doc = json_loads("{\"result\":null}", 0, NULL);
    any_body b = {0};
    api_errors errs;
    assert_false(api_decode(doc, any_fields, 1, &b, &errs));
    assert_string_equal(errs.items[0].message, "is required");
    assert_null(b.result);
    json_decref(doc);
}

int main(void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(test_all_fields),
        cmocka_unit_test_teardown(test_optional_absent_and_null, release_doc),
        cmocka_unit_test_teardown(test_every_problem_listed, release_doc),
        cmocka_unit_test_teardown(test_lengths_in_characters, release_doc),
        cmocka_unit_test_teardown(test_not_an_object, release_doc),
        cmocka_unit_test(test_any_json),
    };
    return cmocka_run_group_tests(tests, NULL, NULL);
}
