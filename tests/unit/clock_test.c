/* clock_test.c: RFC 3339 formatting and parsing with exact strings. */
#include "cmocka_prelude.h"

#include "base/clock.h"

static void test_format(void **state)
{
    char t[SB_RFC3339_LEN];
    assert_string_equal(sb_rfc3339(0, t), "1970-01-01T00:00:00.000000Z");
    assert_string_equal(sb_rfc3339(1, t), "1970-01-01T00:00:00.000001Z");
    assert_string_equal(sb_rfc3339(-1, t), "1969-12-31T23:59:59.999999Z");
    /* 2026-11-24T10:11:12.123456Z */
    assert_string_equal(sb_rfc3339(1795515072123456LL, t), "2026-11-24T10:11:12.123456Z");
    /* A leap day. */
    assert_string_equal(sb_rfc3339(951782400000000LL, t), "2000-02-29T00:00:00.000000Z");
    assert_string_equal(sb_rfc3339(INT64_MAX, t), "9999-12-31T23:59:59.999999Z");
    assert_string_equal(sb_rfc3339(INT64_MIN, t), "0000-01-01T00:00:00.000000Z");
}

static void test_parse(void **state)
{
    int64_t us;
    assert_true(sb_rfc3339_parse("2026-11-24T10:11:12.123456Z", 27, &us));
    assert_int_equal(us, 1795515072123456LL);
    assert_true(sb_rfc3339_parse("2026-11-24T12:11:12.123456789+02:00", 35, &us));
    assert_int_equal(us, 1795515072123456LL);
    assert_true(sb_rfc3339_parse("1970-01-01T00:00:00Z", 20, &us));
    assert_int_equal(us, 0);
    assert_true(sb_rfc3339_parse("2000-02-29t00:00:00.5z", 22, &us));
    assert_int_equal(us, 951782400500000LL);
    assert_false(sb_rfc3339_parse("2001-02-29T00:00:00Z", 20, &us));
    assert_false(sb_rfc3339_parse("2026-13-01T00:00:00Z", 20, &us));
    assert_false(sb_rfc3339_parse("2026-11-24 10:11:12Z", 20, &us));
    assert_false(sb_rfc3339_parse("2026-11-24T10:11:12", 19, &us));
    assert_false(sb_rfc3339_parse("2026-11-24T10:11:12.Z", 21, &us));
    assert_false(sb_rfc3339_parse("2026-11-24T10:11:12Zjunk", 24, &us));
}

static void test_clocks_move(void **state)
{
    uint64_t a = sb_mono_ns(), b = sb_mono_ns();
    assert_true(b >= a);
    assert_true(sb_wall_us() > 1700000000000000LL);
}

int main(void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(test_format),
        cmocka_unit_test(test_parse),
        cmocka_unit_test(test_clocks_move),
    };
    return cmocka_run_group_tests(tests, NULL, NULL);
}
