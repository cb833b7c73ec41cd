/*
 * vcs_names_test.c: what clients name before a repository is opened: ref
 * names (vcs__name_ok: our narrower character set, then git's rules),
 * object ids as clients give them (vcs__oid_parse: 40 hex digits of either
 * case, nothing shorter or longer) and as git writes them (vcs__oid_hex_ok:
 * 40 lowercase digits, so that a branch named with 40 uppercase ones is
 * still a branch).
 *
 * No git_libgit2_init here: these checks run before any repository is
 * opened, and a refused name or id once crashed libgit2 when nothing had
 * started it. test_name_ok runs first so that it meets libgit2 unstarted.
 */
#include "cmocka_prelude.h"

#include <string.h>

#include "vcs/vcs_int.h"

#define HEX "0123456789abcdef0123456789abcdef01234567"

static void test_name_ok(void **st)
{
    (void)st;
    assert_true(vcs__name_ok(sb_str_c("main"), "refs/heads/"));
    assert_true(vcs__name_ok(sb_str_c("feature/x-1.2_b"), "refs/heads/"));
    assert_true(vcs__name_ok(sb_str_c("v1.0"), "refs/tags/"));
    /* Refused by git's rules (these set libgit2's error). */
    assert_false(vcs__name_ok(sb_str_c("a..b"), "refs/heads/"));
    assert_false(vcs__name_ok(sb_str_c("a/"), "refs/heads/"));
    assert_false(vcs__name_ok(sb_str_c("x.lock"), "refs/heads/"));
    /* Refused by ours: characters, length. */
    assert_false(vcs__name_ok(SB_STR(""), "refs/heads/"));
    assert_false(vcs__name_ok(sb_str_c("a b"), "refs/heads/"));
    assert_false(vcs__name_ok(sb_str_c("a~1"), "refs/heads/"));
    char longest[VCS_REF_NAME_MAX + 1];
    memset(longest, 'a', sizeof(longest));
    assert_true(vcs__name_ok((sb_str){longest, VCS_REF_NAME_MAX}, "refs/heads/"));
    assert_false(vcs__name_ok((sb_str){longest, VCS_REF_NAME_MAX + 1}, "refs/heads/"));
}

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
        cmocka_unit_test(test_name_ok), /* first: see the top */
        cmocka_unit_test(test_parse),
        cmocka_unit_test(test_hex_ok),
    };
    return cmocka_run_group_tests(tests, NULL, NULL);
}
