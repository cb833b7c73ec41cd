/* vec_test.c: typed vectors grow, keep order and free. */
#include "cmocka_prelude.h"

#include "base/vec.h"

static void test_push_pop(void **state)
{
    SB_VEC(int) v = {0};
    for (int i = 0; i < 10000; i++)
        sb_vec_push(&v, i * 3);
    assert_int_equal(v.len, 10000);
    assert_true(v.cap >= 10000);
    for (int i = 0; i < 10000; i++)
        assert_int_equal(v.items[i], i * 3);
    assert_int_equal(sb_vec_pop(&v), 9999 * 3);
    assert_int_equal(v.len, 9999);
    sb_vec_clear(&v);
    assert_int_equal(v.len, 0);
    sb_vec_reserve(&v, 20000);
    assert_true(v.cap >= 20000);
    sb_vec_free(&v);
    assert_null(v.items);
    assert_int_equal(v.cap, 0);
}

static void test_first_growth_is_eight(void **state)
{
    SB_VEC(struct { char c[100]; }) v = {0};
    sb_vec_reserve(&v, 1);
    assert_int_equal(v.cap, 8);
    sb_vec_free(&v);
}

int main(void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(test_push_pop),
        cmocka_unit_test(test_first_growth_is_eight),
    };
    return cmocka_run_group_tests(tests, NULL, NULL);
}
