/* utf8_test.c: strict UTF-8 validation with the offset of the first bad
 * sequence (RFC 3629 §4). */
#include "cmocka_prelude.h"

#include "base/utf8.h"

static size_t bad(const char *s, size_t n)
{
    size_t at = 999;
    assert_false(sb_utf8_valid(s, n, &at));
    return at;
}

static void test_valid(void **state)
{
    assert_true(sb_utf8_valid("", 0, NULL));
    assert_true(sb_utf8_valid("plain ascii", 11, NULL));
    assert_true(sb_utf8_valid("\xc3\xa9", 2, NULL));         /* é */
    assert_true(sb_utf8_valid("\xe2\x82\xac", 3, NULL));     /* € */
    assert_true(sb_utf8_valid("\xf0\x9f\x98\x80", 4, NULL)); /* 😀 */
    assert_true(sb_utf8_valid("\xf4\x8f\xbf\xbf", 4, NULL)); /* U+10FFFF */
    assert_true(sb_utf8_valid("\xed\x9f\xbf", 3, NULL));     /* U+D7FF */
    assert_true(sb_utf8_valid("a\0b", 3, NULL));             /* NUL is valid UTF-8 */
}

static void test_invalid(void **state)
{
    assert_int_equal(bad("ab\x80", 3), 2);   /* lone continuation */
    assert_int_equal(bad("\xc0\xaf", 2), 0); /* overlong '/' */
    assert_int_equal(bad("\xc1\xbf", 2), 0);
    assert_int_equal(bad("x\xe0\x9f\xbf", 4), 1);    /* overlong 3-byte */
    assert_int_equal(bad("\xf0\x8f\xbf\xbf", 4), 0); /* overlong 4-byte */
    assert_int_equal(bad("ok\xed\xa0\x80", 5), 2);   /* surrogate D800 */
    assert_int_equal(bad("\xf4\x90\x80\x80", 4), 0); /* > U+10FFFF */
    assert_int_equal(bad("\xf5\x80\x80\x80", 4), 0);
    assert_int_equal(bad("\xff", 1), 0);
    assert_int_equal(bad("abc\xe2\x82", 5), 3); /* truncated */
    assert_int_equal(bad("\xc3\x28", 2), 0);    /* bad continuation */
    assert_int_equal(bad("\xe2\x28\xa1", 3), 0);
}

int main(void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(test_valid),
        cmocka_unit_test(test_invalid),
    };
    return cmocka_run_group_tests(tests, NULL, NULL);
}
