/* uuid_test.c: UUIDv7 layout, ordering, formatting and parsing. */
#include "cmocka_prelude.h"

#include "base/clock.h"
#include "base/uuid.h"

static void test_layout(void **state)
{
    const uint8_t rnd[8] = {0xff, 0xee, 0xdd, 0xcc, 0xbb, 0xaa, 0x99, 0x88};
    sb_uuid u;
    sb_uuid_v7_from(&u, 0x0190a1b2c3d4ULL, 0xabc, rnd);
    char s[SB_UUID_STR_LEN];
    /* ms | 7 + counter | variant 10 + 62 random bits */
    assert_string_equal(sb_uuid_format(&u, s), "0190a1b2-c3d4-7abc-bfee-ddccbbaa9988");
    assert_int_equal(sb_uuid_v7_ms(&u), 0x0190a1b2c3d4ULL);
}

static void test_increasing(void **state)
{
    sb_uuid prev, cur;
    sb_uuid_v7(&prev);
    uint64_t now_ms = (uint64_t)(sb_wall_us() / 1000);
    assert_true(sb_uuid_v7_ms(&prev) >= now_ms - 1000 && sb_uuid_v7_ms(&prev) <= now_ms + 1000);
    for (int i = 0; i < 100000; i++) {
        sb_uuid_v7(&cur);
        assert_int_equal(cur.b[6] >> 4, 7);
        assert_int_equal(cur.b[8] >> 6, 2);
        assert_true(sb_uuid_cmp(&prev, &cur) < 0);
        prev = cur;
    }
}

static void test_parse(void **state)
{
    sb_uuid u, v;
    assert_true(sb_uuid_parse(SB_STR("0190A1B2-C3D4-7ABC-BFEE-DDCCBBAA9988"), &u));
    char s[SB_UUID_STR_LEN];
    assert_string_equal(sb_uuid_format(&u, s), "0190a1b2-c3d4-7abc-bfee-ddccbbaa9988");
    assert_true(sb_uuid_parse(sb_str_c(s), &v));
    assert_int_equal(sb_uuid_cmp(&u, &v), 0);
    assert_false(sb_uuid_parse(SB_STR("0190a1b2c3d47abcbfeeddccbbaa9988"), &u));
    assert_false(sb_uuid_parse(SB_STR("0190a1b2-c3d4-7abc-bfee-ddccbbaa998"), &u));
    assert_false(sb_uuid_parse(SB_STR("0190a1b2-c3d4-7abc-bfee-ddccbbaa998g"), &u));
    assert_false(sb_uuid_parse(SB_STR("0190a1b2_c3d4-7abc-bfee-ddccbbaa9988"), &u));
    assert_false(sb_uuid_parse(SB_STR(""), &u));
}

int main(void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(test_layout),
        cmocka_unit_test(test_increasing),
        cmocka_unit_test(test_parse),
    };
    return cmocka_run_group_tests(tests, NULL, NULL);
}
