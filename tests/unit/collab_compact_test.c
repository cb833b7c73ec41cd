/*
 * collab_compact_test.c: when a room folds its log into the state
 * (collab__compact_due, room_store.c): at compact_after rows once the log
 * holds half the state's bytes, at 20 x compact_after rows whatever the
 * sizes, never with compaction off.
 */
#include "cmocka_prelude.h"

#include "collab/collab_int.h"

static void test_rows_and_bytes(void **state)
{
    (void)state;
    /* A state not known yet (a load): rows alone decide. */
    assert_false(collab__compact_due(199, 0, 0, 200));
    assert_true(collab__compact_due(200, 0, 0, 200));
    /* A small state: the rows decide. */
    assert_true(collab__compact_due(200, 6000, 1000, 200));
    /* A large state is rewritten once the log holds half its bytes. */
    assert_false(collab__compact_due(200, 6000, 1000000, 200));
    assert_false(collab__compact_due(3000, 499999, 1000000, 200));
    assert_true(collab__compact_due(3000, 500000, 1000000, 200));
    /* Still fewer rows than compact_after: not yet, whatever the bytes. */
    assert_false(collab__compact_due(199, 500000, 1000, 200));
}

static void test_row_cap_and_off(void **state)
{
    (void)state;
    /* However large the state, a load never applies more than 20 x. */
    assert_false(collab__compact_due(3999, 1000, 100000000, 200));
    assert_true(collab__compact_due(4000, 1000, 100000000, 200));
    /* 0: compaction off. */
    assert_false(collab__compact_due(1000000, 1000000, 0, 0));
}

int main(void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(test_rows_and_bytes),
        cmocka_unit_test(test_row_cap_and_off),
    };
    return cmocka_run_group_tests(tests, NULL, NULL);
}
