/* ratelimit_test.c: token buckets: burst then refusal, refill over time,
 * the header numbers, independent keys, the bound on keys, and threads
 * sharing one limiter without losing or inventing tokens. */
#include "cmocka_prelude.h"

#include <pthread.h>
#include <stdio.h>

#include "base/ratelimit.h"

#define S 1000000LL

static void test_burst_then_refuse(void **state)
{
    sb_ratelimit *rl = sb_ratelimit_new(60, 3, 100); /* one a second, burst 3 */
    sb_ratelimit_result r;
    int64_t t = 1000 * S;
    assert_true(sb_ratelimit_take(rl, SB_STR("a"), t, &r));
    assert_int_equal(r.limit, 3);
    assert_int_equal(r.remaining, 2);
    assert_int_equal(r.reset_s, 1);
    assert_true(sb_ratelimit_take(rl, SB_STR("a"), t, &r));
    assert_true(sb_ratelimit_take(rl, SB_STR("a"), t, &r));
    assert_int_equal(r.remaining, 0);
    assert_int_equal(r.reset_s, 3);
    assert_false(sb_ratelimit_take(rl, SB_STR("a"), t, &r));
    assert_int_equal(r.retry_after, 1);
    assert_int_equal(r.remaining, 0);
    /* Another key has its own bucket. */
    assert_true(sb_ratelimit_take(rl, SB_STR("b"), t, &r));
    /* Half a second refills half a token: still refused, retry in 1 s. */
    assert_false(sb_ratelimit_take(rl, SB_STR("a"), t + S / 2, &r));
    assert_int_equal(r.retry_after, 1);
    /* A second later one token is back. */
    assert_true(sb_ratelimit_take(rl, SB_STR("a"), t + S, &r));
    assert_false(sb_ratelimit_take(rl, SB_STR("a"), t + S, &r));
    /* Long idle: full again, never more than the burst. */
    assert_true(sb_ratelimit_take(rl, SB_STR("a"), t + 3600 * S, &r));
    assert_int_equal(r.remaining, 2);
    sb_ratelimit_free(rl);
}

static void test_slow_refill_retry_after(void **state)
{
    sb_ratelimit *rl = sb_ratelimit_new(2, 1, 100); /* one per 30 s */
    sb_ratelimit_result r;
    assert_true(sb_ratelimit_take(rl, SB_STR("k"), 0, &r));
    assert_false(sb_ratelimit_take(rl, SB_STR("k"), 10 * S, &r));
    assert_int_equal(r.retry_after, 20);
    assert_int_equal(r.reset_s, 20);
    sb_ratelimit_free(rl);
}

static void test_bounded(void **state)
{
    sb_ratelimit *rl = sb_ratelimit_new(60, 5, 160); /* 10 per shard */
    sb_ratelimit_result r;
    char key[32];
    for (int i = 0; i < 10000; i++) {
        int n = snprintf(key, sizeof(key), "ip-%d", i);
        assert_true(sb_ratelimit_take(rl, sb_str_make(key, (size_t)n), i, &r));
    }
    assert_true(sb_ratelimit_size(rl) <= 160);
    /* Refilled buckets are dropped when room is needed: a later wave of
     * keys fits without growing the table past its bound. */
    for (int i = 0; i < 1000; i++) {
        int n = snprintf(key, sizeof(key), "later-%d", i);
        assert_true(sb_ratelimit_take(rl, sb_str_make(key, (size_t)n), 100 * S + i, &r));
    }
    assert_true(sb_ratelimit_size(rl) <= 160);
    sb_ratelimit_free(rl);
}

typedef struct hammer {
    sb_ratelimit *rl;
    int allowed;
} hammer;

static void *hammer_run(void *arg)
{
    hammer *h = arg;
    sb_ratelimit_result r;
    for (int i = 0; i < 10000; i++)
        h->allowed += sb_ratelimit_take(h->rl, SB_STR("shared"), 5 * S, &r);
    return NULL;
}

static void test_threads(void **state)
{
    /* No refill within one instant: exactly the burst is handed out. */
    sb_ratelimit *rl = sb_ratelimit_new(1, 1000, 100);
    hammer h[4] = {{rl, 0}, {rl, 0}, {rl, 0}, {rl, 0}};
    pthread_t t[4];
    for (int i = 0; i < 4; i++)
        pthread_create(&t[i], NULL, hammer_run, &h[i]);
    int total = 0;
    for (int i = 0; i < 4; i++) {
        pthread_join(t[i], NULL);
        total += h[i].allowed;
    }
    assert_int_equal(total, 1000);
    sb_ratelimit_free(rl);
}

int main(void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(test_burst_then_refuse),
        cmocka_unit_test(test_slow_refill_retry_after),
        cmocka_unit_test(test_bounded),
        cmocka_unit_test(test_threads),
    };
    return cmocka_run_group_tests(tests, NULL, NULL);
}
