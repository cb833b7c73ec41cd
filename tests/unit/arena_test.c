/* arena_test.c: alignment, chunking, big allocations, reset reuse. */
#include "cmocka_prelude.h"

#include "base/arena.h"

static void test_alignment_and_contents(void **state)
{
    sb_arena a;
    sb_arena_init(&a, 256);
    char *prev = NULL;
    for (int i = 1; i < 100; i++) {
        char *p = sb_arena_alloc(&a, (size_t)i);
        assert_int_equal((uintptr_t)p % 16, 0);
        memset(p, i, (size_t)i);
        if (prev)
            assert_int_equal((unsigned char)prev[0], i - 1); /* earlier memory untouched */
        prev = p;
    }
    int *z = sb_arena_calloc(&a, 10, sizeof(int));
    for (int i = 0; i < 10; i++)
        assert_int_equal(z[i], 0);
    assert_string_equal(sb_arena_strndup(&a, "hello world", 5), "hello");
    assert_string_equal(sb_arena_sprintf(&a, "%s-%d", "id", 42), "id-42");
    sb_arena_deinit(&a);
}

static void test_big_allocation(void **state)
{
    sb_arena a;
    sb_arena_init(&a, 128);
    char *small = sb_arena_alloc(&a, 16);
    char *big = sb_arena_alloc(&a, 100000);
    memset(big, 1, 100000);
    /* The big one-off goes behind the head: the head keeps its room. */
    char *small2 = sb_arena_alloc(&a, 16);
    assert_ptr_equal(small2, small + 16);
    assert_int_equal(a.total, 16 + 100000 + 16);
    sb_arena_deinit(&a);
}

static void test_reset_reuses(void **state)
{
    sb_arena a;
    sb_arena_init(&a, 0);
    assert_int_equal(a.chunk_size, 4096);
    void *first = sb_arena_alloc(&a, 32);
    for (int i = 0; i < 1000; i++)
        sb_arena_alloc(&a, 64); /* several chunks */
    sb_arena_alloc(&a, 50000);
    sb_arena_reset(&a);
    assert_int_equal(a.total, 0);
    /* The first ordinary chunk is kept: the next allocation lands there. */
    assert_ptr_equal(sb_arena_alloc(&a, 32), first);
    sb_arena_deinit(&a);
    assert_null(a.head);
}

int main(void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(test_alignment_and_contents),
        cmocka_unit_test(test_big_allocation),
        cmocka_unit_test(test_reset_reuses),
    };
    return cmocka_run_group_tests(tests, NULL, NULL);
}
