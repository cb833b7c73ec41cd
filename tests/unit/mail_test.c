/* mail_test.c: the message handed to the relay: headers in order, CRLF
 * line ends whatever the text used, and refusal of header injection. */
#include "cmocka_prelude.h"

#include <string.h>

#include "mail/mail.h"

static void test_format(void **state)
{
    sb_buf m = SB_BUF_INIT;
    mail_format("Sitebase <a@site.test>", "b@example.com", "Hi", "line 1\nline 2\r\n.dot\n",
                1767225600, &m); /* 2026-01-01T00:00:00Z */
    const char *s = m.ptr;
    assert_non_null(strstr(s, "Date: Thu, 01 Jan 2026 00:00:00 +0000\r\n"));
    assert_non_null(
        strstr(s, "From: Sitebase <a@site.test>\r\nTo: b@example.com\r\nSubject: Hi\r\n"));
    assert_non_null(strstr(s, "@site.test>\r\n")); /* Message-ID in the sender's domain */
    assert_non_null(strstr(s, "Content-Type: text/plain; charset=utf-8\r\n"));
    const char *text = strstr(s, "\r\n\r\n");
    assert_non_null(text);
    assert_string_equal(text + 4, "line 1\r\nline 2\r\n.dot\r\n");
    /* No bare LF anywhere. */
    for (size_t i = 0; i < m.len; i++)
        if (s[i] == '\n')
            assert_int_equal(s[i - 1], '\r');
    sb_buf_free(&m);
}

static void test_refuses_injection(void **state)
{
    mail_config c = {"smtp://127.0.0.1:1", "a@site.test", "", "", false, ""};
    sb_errbuf err;
    assert_false(mail_send(&c, "b@example.com\r\nBcc: x@evil.test", "Hi", "x", &err));
    assert_non_null(strstr(err.msg, "line break"));
    assert_false(mail_send(&c, "b@example.com", "Hi\nBcc: x@evil.test", "x", &err));
    assert_false(mail_send(&c, "not-an-address", "Hi", "x", &err));
    assert_non_null(strstr(err.msg, "malformed"));
    mail_config off = {"", "a@site.test", "", "", false, ""};
    assert_false(mail_send(&off, "b@example.com", "Hi", "x", &err));
    assert_non_null(strstr(err.msg, "smtp_url"));
}

int main(void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(test_format),
        cmocka_unit_test(test_refuses_injection),
    };
    return cmocka_run_group_tests(tests, NULL, NULL);
}
