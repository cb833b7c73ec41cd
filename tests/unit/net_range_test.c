/*
 * net_range_test.c: the Range header: the three forms, cutting at the end,
 * what is unsatisfiable, and everything that must be ignored (several
 * ranges, other units, bad syntax, positions too long to add safely).
 */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>

#include <cmocka.h>

#include "net/range.h"

static net_range_result parse(const char *v, int64_t size, int64_t *off, int64_t *len)
{
    *off = *len = -7;
    return net_range_parse(sb_str_c(v), size, off, len);
}

static void test_forms(void **state)
{
    int64_t off, len;
    assert_int_equal(parse("bytes=0-499", 1000, &off, &len), NET_RANGE_OK);
    assert_int_equal(off, 0);
    assert_int_equal(len, 500);
    assert_int_equal(parse("bytes=500-", 1000, &off, &len), NET_RANGE_OK);
    assert_int_equal(off, 500);
    assert_int_equal(len, 500);
    assert_int_equal(parse("bytes=-100", 1000, &off, &len), NET_RANGE_OK);
    assert_int_equal(off, 900);
    assert_int_equal(len, 100);
    assert_int_equal(parse("BYTES= 7-7 ", 1000, &off, &len), NET_RANGE_OK);
    assert_int_equal(off, 7);
    assert_int_equal(len, 1);
}

static void test_cut_to_the_end(void **state)
{
    int64_t off, len;
    assert_int_equal(parse("bytes=990-5000", 1000, &off, &len), NET_RANGE_OK);
    assert_int_equal(off, 990);
    assert_int_equal(len, 10);
    assert_int_equal(parse("bytes=-5000", 1000, &off, &len), NET_RANGE_OK);
    assert_int_equal(off, 0);
    assert_int_equal(len, 1000);
    assert_int_equal(parse("bytes=999-", 1000, &off, &len), NET_RANGE_OK);
    assert_int_equal(len, 1);
}

static void test_unsatisfiable(void **state)
{
    int64_t off, len;
    assert_int_equal(parse("bytes=1000-", 1000, &off, &len), NET_RANGE_UNSATISFIABLE);
    assert_int_equal(parse("bytes=1000-2000", 1000, &off, &len), NET_RANGE_UNSATISFIABLE);
    assert_int_equal(parse("bytes=-0", 1000, &off, &len), NET_RANGE_UNSATISFIABLE);
    assert_int_equal(parse("bytes=0-", 0, &off, &len), NET_RANGE_UNSATISFIABLE);
    assert_int_equal(parse("bytes=-1", 0, &off, &len), NET_RANGE_UNSATISFIABLE);
    assert_int_equal(off, -7); /* untouched */
}

static void test_ignored(void **state)
{
    int64_t off, len;
    const char *bad[] = {
        "",
        "bytes",
        "bytes=",
        "items=0-1",
        "bytes=0-1,5-6", /* several: the whole thing */
        "bytes=5-2",     /* last before first: invalid */
        "bytes=a-b",
        "bytes=-",
        "bytes=1",
        "bytes=--1",
        "bytes=0-1x",
        "bytes=1234567890123456789-", /* 19 digits: could overflow */
        "bytes=-1234567890123456789",
        "bytes=0-1234567890123456789",
    };
    for (size_t i = 0; i < sizeof(bad) / sizeof(bad[0]); i++) {
        assert_int_equal(parse(bad[i], 1000, &off, &len), NET_RANGE_NONE);
        assert_int_equal(off, -7);
    }
    /* 18 digits are fine, and cut to the end. */
    assert_int_equal(parse("bytes=0-999999999999999999", 1000, &off, &len), NET_RANGE_OK);
    assert_int_equal(len, 1000);
}

int main(void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(test_forms),
        cmocka_unit_test(test_cut_to_the_end),
        cmocka_unit_test(test_unsatisfiable),
        cmocka_unit_test(test_ignored),
    };
    return cmocka_run_group_tests(tests, NULL, NULL);
}
