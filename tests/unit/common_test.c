/* common_test.c: checked arithmetic, error buffers, allocation edges. */
#include "cmocka_prelude.h"

#include <stdlib.h>

#include "base/common.h"

static void test_checked(void **state)
{
    size_t out = 7;
    assert_false(sb_add_overflows(1, 2, &out));
    assert_int_equal(out, 3);
    assert_true(sb_add_overflows(SIZE_MAX, 1, &out));
    assert_false(sb_mul_overflows(1 << 20, 1 << 10, &out));
    assert_int_equal(out, 1 << 30);
    assert_true(sb_mul_overflows(SIZE_MAX / 2 + 1, 2, &out));
}

static void test_errbuf(void **state)
{
    sb_errbuf e;
    assert_false(sb_errf(&e, "key %s: %d", "threads", 5));
    assert_string_equal(e.msg, "key threads: 5");
    char long_text[600];
    memset(long_text, 'x', sizeof(long_text) - 1);
    long_text[sizeof(long_text) - 1] = '\0';
    sb_errf(&e, "%s", long_text);
    assert_int_equal(strlen(e.msg), sizeof(e.msg) - 1); /* truncated, terminated */
    assert_false(sb_errf(NULL, "ignored"));
}

static void test_alloc(void **state)
{
    void *p = sb_malloc(0);
    assert_non_null(p);
    free(p);
    char *s = sb_strndup("abcdef", 3);
    assert_string_equal(s, "abc");
    free(s);
    s = sb_strdup("xyz");
    assert_string_equal(s, "xyz");
    sb_secure_zero(s, 3);
    assert_memory_equal(s, "\0\0\0", 3);
    free(s);
    int *z = sb_calloc(4, sizeof(int));
    assert_int_equal(z[0] | z[1] | z[2] | z[3], 0);
    free(z);
}

int main(void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(test_checked),
        cmocka_unit_test(test_errbuf),
        cmocka_unit_test(test_alloc),
    };
    return cmocka_run_group_tests(tests, NULL, NULL);
}
