/* str_test.c: sb_str views, strict integer parsing, sb_buf growth and its
 * NUL-after-content invariant. */
#include "cmocka_prelude.h"

#include <stdlib.h>

#include "base/str.h"

static void test_views(void **state)
{
    sb_str s = SB_STR("Hello, world");
    assert_true(sb_str_eq(s, sb_str_c("Hello, world")));
    assert_false(sb_str_eq(s, SB_STR("Hello")));
    assert_true(sb_str_eq_nocase(SB_STR("Content-Type"), SB_STR("content-type")));
    assert_false(sb_str_eq_nocase(SB_STR("abc"), SB_STR("abd")));
    assert_true(sb_str_has_prefix(s, SB_STR("Hello")));
    assert_false(sb_str_has_prefix(SB_STR("He"), SB_STR("Hello")));
    assert_int_equal(sb_str_index(s, ',', 0), 5);
    assert_int_equal(sb_str_index(s, 'o', 5), 8);
    assert_int_equal(sb_str_index(s, 'z', 0), -1);
    assert_int_equal(sb_str_index(s, 'H', 100), -1);
    sb_str w = sb_str_slice(s, 7, 100);
    assert_int_equal(w.len, 5);
    assert_memory_equal(w.ptr, "world", 5);
    assert_int_equal(sb_str_slice(s, 9, 3).len, 0);
    /* Bytes after a NUL count: these are not C strings. */
    assert_false(sb_str_eq(sb_str_make("a\0b", 3), sb_str_make("a\0c", 3)));
}

static void test_to_i64(void **state)
{
    int64_t v = 7;
    assert_true(sb_str_to_i64(SB_STR("0"), 0, 10, &v));
    assert_int_equal(v, 0);
    assert_true(sb_str_to_i64(SB_STR("-42"), -100, 100, &v));
    assert_int_equal(v, -42);
    assert_true(sb_str_to_i64(SB_STR("9223372036854775807"), INT64_MIN, INT64_MAX, &v));
    assert_int_equal(v, INT64_MAX);
    assert_true(sb_str_to_i64(SB_STR("-9223372036854775808"), INT64_MIN, INT64_MAX, &v));
    assert_int_equal(v, INT64_MIN);
    v = 7;
    assert_false(sb_str_to_i64(SB_STR("9223372036854775808"), INT64_MIN, INT64_MAX, &v));
    assert_false(sb_str_to_i64(SB_STR(""), 0, 10, &v));
    assert_false(sb_str_to_i64(SB_STR("-"), -10, 10, &v));
    assert_false(sb_str_to_i64(SB_STR(" 1"), 0, 10, &v));
    assert_false(sb_str_to_i64(SB_STR("1x"), 0, 10, &v));
    assert_false(sb_str_to_i64(SB_STR("+1"), 0, 10, &v));
    assert_false(sb_str_to_i64(SB_STR("11"), 0, 10, &v));
    assert_int_equal(v, 7); /* untouched on failure */
}

static void test_buf(void **state)
{
    sb_buf b = SB_BUF_INIT;
    assert_null(b.ptr);
    sb_buf_puts(&b, "abc");
    assert_int_equal(b.len, 3);
    assert_string_equal(b.ptr, "abc");
    sb_buf_append(&b, "\0x", 2);
    assert_int_equal(b.len, 5);
    assert_int_equal(b.ptr[5], '\0');
    sb_buf_reset(&b);
    assert_int_equal(b.len, 0);
    assert_string_equal(b.ptr, "");
    for (int i = 0; i < 1000; i++)
        sb_buf_appendf(&b, "%d,", i);
    assert_int_equal(b.len, 10 * 2 + 90 * 3 + 900 * 4);
    assert_int_equal(b.ptr[b.len], '\0');
    assert_memory_equal(b.ptr + b.len - 4, "999,", 4);
    assert_true(b.cap > b.len);
    sb_buf_reset(&b);
    /* appendf past the first guess grows once and stays exact. */
    char big[300];
    memset(big, 'q', sizeof(big) - 1);
    big[sizeof(big) - 1] = '\0';
    sb_buf_appendf(&b, "<%s>", big);
    assert_int_equal(b.len, 301);
    assert_int_equal(b.ptr[300], '>');
    size_t len;
    char *owned = sb_buf_detach(&b, &len);
    assert_int_equal(len, 301);
    assert_null(b.ptr);
    assert_int_equal(b.len, 0);
    free(owned);
    sb_buf empty = SB_BUF_INIT;
    owned = sb_buf_detach(&empty, &len);
    assert_string_equal(owned, "");
    free(owned);
    sb_buf_free(&b);
}

int main(void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(test_views),
        cmocka_unit_test(test_to_i64),
        cmocka_unit_test(test_buf),
    };
    return cmocka_run_group_tests(tests, NULL, NULL);
}
