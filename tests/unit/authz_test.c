/*
 * authz_test.c: the policy against API.md's "Teams and roles" table, cell
 * by cell, and the attribute rules on top of it: visibility, guests and
 * shares, MFA for admin actions, IP ranges, owners managed only by owners.
 */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <cmocka.h>

#include <string.h>

#include "authz/authz.h"

static const authz_caller member = {.user_id = "u1", .ip = "10.1.2.3", .mfa = false};

static authz_outcome on_team_project(authz_role team_role, authz_action a)
{
    authz_resource r = {
        .kind = AUTHZ_KIND_PROJECT, .team_role = team_role, .visibility = AUTHZ_TEAM};
    return authz_check(&member, a, &r).outcome;
}

/* The table, as API.md writes it: Y allow, N deny (the guest column is
 * about the project itself; items are tested below). */
static void test_table(void **state)
{
    (void)state;
    static const struct {
        authz_action a;
        const char *row; /* owner admin editor viewer */
    } rows[] = {
        {AUTHZ_READ, "YYYY"},
        {AUTHZ_COMMENT, "YYYY"},
        {AUTHZ_EDIT, "YYYN"},
        {AUTHZ_DEPLOY, "YYYN"},
        {AUTHZ_MANAGE, "YYNN"},
        {AUTHZ_DELETE, "YNNN"},
        {AUTHZ_AUDIT, "YYNN"},
        /* Another's comment: nobody edits it, editors resolve, admins delete. */
        {AUTHZ_COMMENT_EDIT, "NNNN"},
        {AUTHZ_COMMENT_RESOLVE, "YYYN"},
        {AUTHZ_COMMENT_DELETE, "YYNN"},
    };
    const authz_role roles[] = {AUTHZ_OWNER, AUTHZ_ADMIN, AUTHZ_EDITOR, AUTHZ_VIEWER};
    for (size_t i = 0; i < sizeof(rows) / sizeof(rows[0]); i++)
        for (size_t j = 0; j < 4; j++) {
            authz_outcome want = rows[i].row[j] == 'Y' ? AUTHZ_ALLOW : AUTHZ_DENY;
            if (on_team_project(roles[j], rows[i].a) != want)
                fail_msg("%s as %s", authz_action_name(rows[i].a), authz_role_name(roles[j]));
        }
}

static void test_visibility(void **state)
{
    (void)state;
    authz_resource r = {
        .kind = AUTHZ_KIND_PROJECT, .team_role = AUTHZ_EDITOR, .visibility = AUTHZ_PRIVATE};
    /* A team editor does not see a private project ... */
    assert_int_equal(authz_check(&member, AUTHZ_READ, &r).outcome, AUTHZ_HIDDEN);
    /* ... unless made a project member, or its owner. */
    r.project_role = AUTHZ_VIEWER;
    assert_int_equal(authz_check(&member, AUTHZ_READ, &r).outcome, AUTHZ_ALLOW);
    assert_int_equal(authz_check(&member, AUTHZ_EDIT, &r).outcome, AUTHZ_DENY);
    r.project_role = AUTHZ_NONE;
    r.is_owner = true;
    assert_int_equal(authz_check(&member, AUTHZ_DELETE, &r).outcome, AUTHZ_ALLOW);
    /* Team admins oversee private projects. */
    r.is_owner = false;
    r.team_role = AUTHZ_ADMIN;
    assert_int_equal(authz_check(&member, AUTHZ_MANAGE, &r).outcome, AUTHZ_ALLOW);

    /* Strangers and anonymous callers: public projects only, published
     * items only, read only; a change to what they can see is refused
     * (403), not hidden. */
    authz_caller anon = {.ip = "127.0.0.1"};
    authz_resource pub = {.kind = AUTHZ_KIND_PROJECT, .visibility = AUTHZ_PUBLIC};
    assert_int_equal(authz_check(&anon, AUTHZ_READ, &pub).outcome, AUTHZ_ALLOW);
    assert_int_equal(authz_check(&anon, AUTHZ_COMMENT, &pub).outcome, AUTHZ_DENY);
    assert_int_equal(authz_check(&member, AUTHZ_EDIT, &pub).outcome, AUTHZ_DENY);
    pub.item = true;
    assert_int_equal(authz_check(&anon, AUTHZ_READ, &pub).outcome, AUTHZ_HIDDEN);
    assert_int_equal(authz_check(&member, AUTHZ_EDIT, &pub).outcome, AUTHZ_HIDDEN); /* a draft */
    pub.published = true;
    assert_int_equal(authz_check(&anon, AUTHZ_READ, &pub).outcome, AUTHZ_ALLOW);
    authz_resource team = {.kind = AUTHZ_KIND_PROJECT, .visibility = AUTHZ_TEAM};
    assert_int_equal(authz_check(&anon, AUTHZ_READ, &team).outcome, AUTHZ_HIDDEN);
    assert_int_equal(authz_check(&member, AUTHZ_READ, &team).outcome, AUTHZ_HIDDEN);
}

static void test_guests(void **state)
{
    (void)state;
    authz_resource r = {
        .kind = AUTHZ_KIND_PROJECT, .project_role = AUTHZ_GUEST, .visibility = AUTHZ_PRIVATE};
    assert_int_equal(authz_check(&member, AUTHZ_READ, &r).outcome, AUTHZ_ALLOW);
    r.item = true;
    assert_int_equal(authz_check(&member, AUTHZ_READ, &r).outcome, AUTHZ_HIDDEN);
    assert_int_equal(authz_check(&member, AUTHZ_COMMENT, &r).outcome, AUTHZ_HIDDEN);
    r.shared = true;
    assert_int_equal(authz_check(&member, AUTHZ_READ, &r).outcome, AUTHZ_ALLOW);
    assert_int_equal(authz_check(&member, AUTHZ_COMMENT, &r).outcome, AUTHZ_DENY);
    assert_int_equal(authz_check(&member, AUTHZ_EDIT, &r).outcome, AUTHZ_DENY);
    r.guest_comments = true;
    assert_int_equal(authz_check(&member, AUTHZ_COMMENT, &r).outcome, AUTHZ_ALLOW);
    assert_int_equal(authz_check(&member, AUTHZ_EDIT, &r).outcome, AUTHZ_DENY);
    /* A public project's published pages are anyone's: its guests read
     * them too, shared or not; drafts stay hidden, and reading is all. */
    authz_resource pub = {.kind = AUTHZ_KIND_PROJECT,
                          .project_role = AUTHZ_GUEST,
                          .visibility = AUTHZ_PUBLIC,
                          .item = true};
    assert_int_equal(authz_check(&member, AUTHZ_READ, &pub).outcome, AUTHZ_HIDDEN);
    pub.published = true;
    assert_int_equal(authz_check(&member, AUTHZ_READ, &pub).outcome, AUTHZ_ALLOW);
    assert_int_equal(authz_check(&member, AUTHZ_EDIT, &pub).outcome, AUTHZ_DENY);
}

/* The author of a comment acts on it as a commenter: whatever the role,
 * while they may comment there, and not once that is gone. */
static void test_comment_authors(void **state)
{
    (void)state;
    static const authz_action own[] = {AUTHZ_COMMENT_EDIT, AUTHZ_COMMENT_RESOLVE,
                                       AUTHZ_COMMENT_DELETE};
    authz_resource r = {.kind = AUTHZ_KIND_PROJECT,
                        .team_role = AUTHZ_VIEWER,
                        .visibility = AUTHZ_TEAM,
                        .item = true,
                        .is_author = true};
    for (size_t i = 0; i < SB_ARRAY_LEN(own); i++)
        assert_int_equal(authz_check(&member, own[i], &r).outcome, AUTHZ_ALLOW);
    /* A guest author, on a shared page of a project that lets guests
     * comment; the share withdrawn, the comment is out of sight. */
    r.team_role = AUTHZ_NONE;
    r.project_role = AUTHZ_GUEST;
    r.guest_comments = true;
    r.shared = true;
    assert_int_equal(authz_check(&member, AUTHZ_COMMENT_EDIT, &r).outcome, AUTHZ_ALLOW);
    r.guest_comments = false;
    assert_int_equal(authz_check(&member, AUTHZ_COMMENT_EDIT, &r).outcome, AUTHZ_DENY);
    r.shared = false;
    assert_int_equal(authz_check(&member, AUTHZ_COMMENT_DELETE, &r).outcome, AUTHZ_HIDDEN);
    /* A guest who is not the author does nothing to it. */
    r.shared = true;
    r.guest_comments = true;
    r.is_author = false;
    assert_int_equal(authz_check(&member, AUTHZ_COMMENT_RESOLVE, &r).outcome, AUTHZ_DENY);
    /* Anonymous callers are never authors. */
    authz_caller anon = {.ip = "127.0.0.1"};
    r.is_author = true;
    r.visibility = AUTHZ_PUBLIC;
    assert_int_equal(authz_check(&anon, AUTHZ_COMMENT_DELETE, &r).outcome, AUTHZ_HIDDEN);
    /* Nor do these actions ask for a second factor. */
    authz_team_policy pol = {.mfa_for_admin = true};
    authz_resource admin = {.kind = AUTHZ_KIND_PROJECT,
                            .team_role = AUTHZ_ADMIN,
                            .visibility = AUTHZ_TEAM,
                            .item = true,
                            .policy = &pol};
    assert_int_equal(authz_check(&member, AUTHZ_COMMENT_DELETE, &admin).outcome, AUTHZ_ALLOW);
}

static void test_mfa_and_owners(void **state)
{
    (void)state;
    authz_team_policy pol = {.mfa_for_admin = true};
    authz_resource r = {.kind = AUTHZ_KIND_TEAM, .team_role = AUTHZ_ADMIN, .policy = &pol};
    assert_int_equal(authz_check(&member, AUTHZ_MANAGE, &r).outcome, AUTHZ_NEED_MFA);
    assert_int_equal(authz_check(&member, AUTHZ_READ, &r).outcome, AUTHZ_ALLOW);
    authz_caller strong = member;
    strong.mfa = true;
    assert_int_equal(authz_check(&strong, AUTHZ_MANAGE, &r).outcome, AUTHZ_ALLOW);
    /* An editor is told no, not to add a factor. */
    r.team_role = AUTHZ_EDITOR;
    assert_int_equal(authz_check(&member, AUTHZ_MANAGE, &r).outcome, AUTHZ_DENY);
    /* Admins may not touch owners; owners may. */
    r.team_role = AUTHZ_ADMIN;
    r.target_owner = true;
    assert_int_equal(authz_check(&strong, AUTHZ_MANAGE, &r).outcome, AUTHZ_DENY);
    r.team_role = AUTHZ_OWNER;
    assert_int_equal(authz_check(&strong, AUTHZ_MANAGE, &r).outcome, AUTHZ_ALLOW);
    assert_true(authz_may_grant(AUTHZ_OWNER, AUTHZ_OWNER));
    assert_true(authz_may_grant(AUTHZ_ADMIN, AUTHZ_ADMIN));
    assert_false(authz_may_grant(AUTHZ_ADMIN, AUTHZ_OWNER));
    assert_false(authz_may_grant(AUTHZ_EDITOR, AUTHZ_VIEWER));
    /* Non-members of the team never see it. */
    r.team_role = AUTHZ_NONE;
    assert_int_equal(authz_check(&strong, AUTHZ_READ, &r).outcome, AUTHZ_HIDDEN);
}

static void test_ip_ranges(void **state)
{
    (void)state;
    authz_team_policy pol = {0};
    assert_true(authz_cidr_parse(SB_STR("192.168.0.0/16"), &pol.cidrs[pol.ncidrs++]));
    assert_true(authz_cidr_parse(SB_STR("2001:db8::/32"), &pol.cidrs[pol.ncidrs++]));
    authz_resource r = {.kind = AUTHZ_KIND_PROJECT,
                        .team_role = AUTHZ_EDITOR,
                        .visibility = AUTHZ_TEAM,
                        .policy = &pol};
    authz_caller c = {.user_id = "u1", .ip = "192.168.4.5"};
    assert_int_equal(authz_check(&c, AUTHZ_EDIT, &r).outcome, AUTHZ_ALLOW);
    c.ip = "::ffff:192.168.4.5";
    assert_int_equal(authz_check(&c, AUTHZ_EDIT, &r).outcome, AUTHZ_ALLOW);
    c.ip = "2001:db8:1::9";
    assert_int_equal(authz_check(&c, AUTHZ_READ, &r).outcome, AUTHZ_ALLOW);
    c.ip = "10.0.0.1";
    assert_int_equal(authz_check(&c, AUTHZ_READ, &r).outcome, AUTHZ_IP);
    /* A stranger from outside still learns nothing. */
    r.team_role = AUTHZ_NONE;
    assert_int_equal(authz_check(&c, AUTHZ_READ, &r).outcome, AUTHZ_HIDDEN);
}

static void test_cidr_parse(void **state)
{
    (void)state;
    authz_cidr c;
    char text[64];
    assert_true(authz_cidr_parse(SB_STR("10.0.0.0/8"), &c));
    authz_cidr_format(&c, text, sizeof(text));
    assert_string_equal(text, "10.0.0.0/8");
    assert_true(authz_cidr_parse(SB_STR("127.0.0.1"), &c));
    authz_cidr_format(&c, text, sizeof(text));
    assert_string_equal(text, "127.0.0.1/32");
    assert_true(authz_cidr_contains(&c, "127.0.0.1"));
    assert_false(authz_cidr_contains(&c, "127.0.0.2"));
    assert_true(authz_cidr_parse(SB_STR("::/0"), &c));
    assert_true(authz_cidr_contains(&c, "8.8.8.8"));
    assert_true(authz_cidr_parse(SB_STR("0.0.0.0/0"), &c));
    assert_true(authz_cidr_contains(&c, "1.2.3.4"));
    assert_false(authz_cidr_contains(&c, "2001:db8::1"));
    assert_true(authz_cidr_parse(SB_STR("10.128.0.0/9"), &c));
    assert_true(authz_cidr_contains(&c, "10.200.0.1"));
    assert_false(authz_cidr_contains(&c, "10.100.0.1"));
    assert_false(authz_cidr_parse(SB_STR("10.0.0.1/8"), &c)); /* host bits */
    assert_false(authz_cidr_parse(SB_STR("10.0.0.0/33"), &c));
    assert_false(authz_cidr_parse(SB_STR("10.0.0.0/"), &c));
    assert_false(authz_cidr_parse(SB_STR("nonsense"), &c));
    assert_false(authz_cidr_parse(SB_STR(""), &c));
    assert_false(authz_cidr_parse(sb_str_make("10.0.0.0\0/8", 11), &c));
    assert_false(authz_cidr_contains(&c, "not an ip"));
}

static void test_names(void **state)
{
    (void)state;
    authz_role r;
    assert_true(authz_role_parse(SB_STR("editor"), &r));
    assert_int_equal(r, AUTHZ_EDITOR);
    assert_false(authz_role_parse(SB_STR("none"), &r));
    assert_false(authz_role_parse(SB_STR("Owner"), &r));
    authz_visibility v;
    assert_true(authz_visibility_parse(SB_STR("public"), &v));
    assert_int_equal(v, AUTHZ_PUBLIC);
    assert_false(authz_visibility_parse(SB_STR("secret"), &v));
    assert_string_equal(authz_role_name(AUTHZ_OWNER), "owner");
}

int main(void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(test_table),     cmocka_unit_test(test_visibility),
        cmocka_unit_test(test_guests),    cmocka_unit_test(test_mfa_and_owners),
        cmocka_unit_test(test_ip_ranges), cmocka_unit_test(test_cidr_parse),
        cmocka_unit_test(test_names),     cmocka_unit_test(test_comment_authors),
    };
    return cmocka_run_group_tests(tests, NULL, NULL);
}
