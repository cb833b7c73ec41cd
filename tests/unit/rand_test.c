/* rand_test.c: random bytes fill what is asked (through the pool and
 * around it), and sb_rand_below stays in range without obvious bias. */
#include "cmocka_prelude.h"

#include "base/rand.h"

static void test_bytes(void **state)
{
    uint8_t a[1000], b[1000];
    memset(a, 0, sizeof(a));
    memset(b, 0, sizeof(b));
    sb_rand_bytes(a, sizeof(a)); /* straight from the kernel */
    sb_rand_bytes(b, 10);        /* from the pool */
    int zeros = 0;
    for (size_t i = 0; i < sizeof(a); i++)
        zeros += a[i] == 0;
    assert_true(zeros < 20); /* expected ~4 */
    assert_memory_not_equal(a, b, 10);
    /* Many small draws cross pool refills and never repeat a 16-byte run. */
    uint8_t prev[16], cur[16];
    sb_rand_bytes(prev, 16);
    for (int i = 0; i < 2000; i++) {
        sb_rand_bytes(cur, 16);
        assert_memory_not_equal(prev, cur, 16);
        memcpy(prev, cur, 16);
    }
}

static void test_below(void **state)
{
    int counts[6] = {0};
    for (int i = 0; i < 60000; i++) {
        uint64_t v = sb_rand_below(6);
        assert_true(v < 6);
        counts[v]++;
    }
    for (int i = 0; i < 6; i++)
        assert_true(counts[i] > 9000 && counts[i] < 11000);
    assert_int_equal(sb_rand_below(1), 0);
}

int main(void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(test_bytes),
        cmocka_unit_test(test_below),
    };
    return cmocka_run_group_tests(tests, NULL, NULL);
}
