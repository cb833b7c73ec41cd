/*
 * vcs_oid_test.c: object ids as clients give them (vcs__oid_parse: 40 hex
 * digits of either case, nothing shorter or longer) and as git writes them
 * (vcs__oid_hex_ok: 40 lowercase digits, so that a branch named with 40
 * uppercase ones is still a branch). No git_libgit2_init here: parsing is
 * done before any repository is opened, and a refused id once crashed
 * libgit2 when nothing had started it.
 */
#include "cmocka_prelude.h"

#include <string.h>

#include "vcs/vcs_int.h"

#define HEX "0123456789abcdef0123456789abcdef01234567"

static void test_parse(void **st)
{
    (void)st;
    git_oid oid, want;
    assert_int_equal(git_oid_fromstr(&want, HEX), 0);
    assert_true(vcs__oid_parse(sb_str_c(HEX), &oid));
    assert_true(git_oid_equal(&oid, &want));
    assert_true(vcs__oid_parse(sb_str_c("0123456789ABCDEF0123456789ABCDEF01234567"), &oid));
    assert_true(git_oid_equal(&oid, &want));
    /* A prefix is not an id (git_oid_fromstrn alone would pad it). */
    assert_false(vcs__oid_parse((sb_str){HEX, 39}, &oid));
    assert_false(vcs__oid_parse(sb_str_c(HEX "8"), &oid));
    assert_false(vcs__oid_parse(SB_STR(""), &oid));
    assert_false(vcs__oid_parse(sb_str_c("0123456789abcdef0123456789abcdef0123456g"), &oid));
    assert_false(vcs__oid_parse(sb_str_c("g123456789abcdef0123456789abcdef01234567"), &oid));
    /* Only the 40 bytes given are read: a NUL inside is refused. */
    char nul[] = HEX;
    nul[20] = '\0';
    assert_false(vcs__oid_parse((sb_str){nul, 40}, &oid));
}

static void test_hex_ok(void **st)
{
    (void)st;
    assert_true(vcs__oid_hex_ok(sb_str_c(HEX)));
    assert_false(vcs__oid_hex_ok(sb_str_c("0123456789ABCDEF0123456789ABCDEF01234567")));
    assert_false(vcs__oid_hex_ok((sb_str){HEX, 39}));
    assert_false(vcs__oid_hex_ok(sb_str_c(HEX "8")));
    assert_false(vcs__oid_hex_ok(sb_str_c("main")));
}

int main(void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(test_parse),
        cmocka_unit_test(test_hex_ok),
    };
    return cmocka_run_group_tests(tests, NULL, NULL);
}
