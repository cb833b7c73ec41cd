/* map_test.c: a hash map under load: insert, replace, delete with
 * backward shift, reinsert, iterate, keys with NUL bytes. */
#include "cmocka_prelude.h"

#include <stdio.h>

#include "base/map.h"

#define N 100000

static void test_many(void **state)
{
    sb_map m;
    sb_map_init(&m);
    static int values[N];
    char key[32];
    for (int i = 0; i < N; i++) {
        values[i] = i;
        int n = snprintf(key, sizeof(key), "key-%d", i);
        assert_null(sb_map_put(&m, sb_str_make(key, (size_t)n), &values[i]));
    }
    assert_int_equal(m.len, N);
    assert_true(m.len * 4 <= m.cap * 3);
    for (int i = 0; i < N; i++) {
        int n = snprintf(key, sizeof(key), "key-%d", i);
        int *v = sb_map_get(&m, sb_str_make(key, (size_t)n));
        assert_non_null(v);
        assert_int_equal(*v, i);
    }
    /* Delete the even keys; the odd ones must all still be found. */
    for (int i = 0; i < N; i += 2) {
        int n = snprintf(key, sizeof(key), "key-%d", i);
        assert_ptr_equal(sb_map_del(&m, sb_str_make(key, (size_t)n)), &values[i]);
    }
    assert_int_equal(m.len, N / 2);
    for (int i = 0; i < N; i++) {
        int n = snprintf(key, sizeof(key), "key-%d", i);
        void *v = sb_map_get(&m, sb_str_make(key, (size_t)n));
        if (i % 2)
            assert_ptr_equal(v, &values[i]);
        else
            assert_null(v);
    }
    /* Iteration visits each remaining entry once. */
    size_t it = 0, seen = 0;
    sb_map_entry *e;
    while ((e = sb_map_next(&m, &it))) {
        assert_int_equal(*(int *)e->value % 2, 1);
        seen++;
    }
    assert_int_equal(seen, N / 2);
    for (int i = 0; i < N; i += 2) {
        int n = snprintf(key, sizeof(key), "key-%d", i);
        assert_null(sb_map_put(&m, sb_str_make(key, (size_t)n), &values[i]));
    }
    assert_int_equal(m.len, N);
    sb_map_deinit(&m);
}

static void test_replace_and_nul_keys(void **state)
{
    sb_map m;
    sb_map_init(&m);
    int a = 1, b = 2;
    assert_null(sb_map_get(&m, SB_STR("x")));
    assert_null(sb_map_del(&m, SB_STR("x")));
    assert_null(sb_map_put(&m, sb_str_make("a\0b", 3), &a));
    assert_null(sb_map_put(&m, sb_str_make("a\0c", 3), &b));
    assert_ptr_equal(sb_map_get(&m, sb_str_make("a\0b", 3)), &a);
    assert_ptr_equal(sb_map_get(&m, sb_str_make("a\0c", 3)), &b);
    assert_null(sb_map_get(&m, SB_STR("a")));
    assert_ptr_equal(sb_map_put(&m, sb_str_make("a\0b", 3), &b), &a);
    assert_int_equal(m.len, 2);
    sb_map_deinit(&m);
}

int main(void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(test_many),
        cmocka_unit_test(test_replace_and_nul_keys),
    };
    return cmocka_run_group_tests(tests, NULL, NULL);
}
