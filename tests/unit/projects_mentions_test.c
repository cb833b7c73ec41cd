/*
 * projects_mentions_test.c: which @usernames a comment's text mentions
 * (mentions.h): identity's username rules, addresses that are not
 * mentions, each person once, in order, and the cap.
 */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <cmocka.h>

#include <stdio.h>
#include <string.h>

#include "projects/mentions.h"

/* The names text mentions, joined by spaces. */
static const char *names(const char *text, size_t max)
{
    static char joined[1024];
    char out[8][PROJECTS_USERNAME_MAX + 1];
    size_t n = projects_mentions_parse(sb_str_c(text), out, max < 8 ? max : 8);
    joined[0] = 0;
    for (size_t i = 0; i < n; i++)
        snprintf(joined + strlen(joined), sizeof(joined) - strlen(joined), "%s%s", i ? " " : "",
                 out[i]);
    return joined;
}

static void test_parse(void **state)
{
    (void)state;
    static const struct {
        const char *text;
        size_t max;
        const char *want;
    } cases[] = {
        {"@ann please look", 8, "ann"},
        {"cc @Ann_B, @bob-2 and (@carol).", 8, "ann_b bob-2 carol"},
        {"line one\n@dave: here", 8, "dave"},
        /* Addresses and words with an '@' inside are not mentions. */
        {"mail ann@example.com or @bob@example.com", 8, ""},
        {"@@ann x@ann", 8, ""},
        /* Identity's lengths: 3..32, no cutting a longer run short. */
        {"@al @abc", 8, "abc"},
        {"@abcdefghijklmnopqrstuvwxyz0123456 @abcdefghijklmnopqrstuvwxyz012345", 8,
         "abcdefghijklmnopqrstuvwxyz012345"},
        /* The run stops at the first character a username cannot hold. */
        {"@ann's turn, @bob.", 8, "ann bob"},
        /* ... but a run going on in a non-ASCII letter is no mention;
         * non-ASCII punctuation ends a name like ASCII's does. */
        {"@jos\xc3\xa9 @ann\xe2\x80\x94 @bob\xc2\xbb @eve\xe3\x80\x82 @zo\xc3\xab", 8,
         "ann bob eve"},
        /* Each person once, in the order of their first mention; the cap. */
        {"@bob @ANN @Bob @ann", 8, "bob ann"},
        {"@aaa @bbb @ccc", 2, "aaa bbb"},
        {"", 8, ""},
        {"@", 8, ""},
    };
    for (size_t i = 0; i < sizeof(cases) / sizeof(cases[0]); i++)
        if (strcmp(names(cases[i].text, cases[i].max), cases[i].want) != 0)
            fail_msg("%s: got [%s], want [%s]", cases[i].text, names(cases[i].text, cases[i].max),
                     cases[i].want);
}

int main(void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(test_parse),
    };
    return cmocka_run_group_tests(tests, NULL, NULL);
}
