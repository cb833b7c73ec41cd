/* log_test.c: both line formats, exactly: escaping, secrets, NULL values,
 * control characters and invalid UTF-8 that must not forge lines. */
#include "cmocka_prelude.h"

#include <stdlib.h>
#include <unistd.h>

#include "base/log.h"
#include "base/str.h"

#define T 1795515072123456LL /* 2026-11-24T10:11:12.123456Z */

static void test_json(void **state)
{
    sb_buf b = SB_BUF_INIT;
    sb_log_field f[] = {
        SB_LOG_STR("addr", "127.0.0.1:8080"),
        SB_LOG_INT("threads", 2),
        SB_LOG_BOOL("tls", false),
        SB_LOG_DBL("ms", 1.5),
        SB_LOG_SECRET("password"),
        SB_LOG_STR("none", NULL),
        SB_LOG_STRN("path", "/a\"b\nc\xff", 7),
    };
    sb_log_render(&b, SB_LOG_JSON, T, SB_LOG_INFO, "listening", f, SB_ARRAY_LEN(f));
    assert_string_equal(b.ptr,
                        "{\"time\":\"2026-11-24T10:11:12.123456Z\",\"level\":\"info\","
                        "\"msg\":\"listening\",\"addr\":\"127.0.0.1:8080\",\"threads\":2,"
                        "\"tls\":false,\"ms\":1.500,\"password\":\"[redacted]\",\"none\":null,"
                        "\"path\":\"/a\\\"b\\nc\\ufffd\"}\n");
    sb_buf_free(&b);
}

static void test_pretty(void **state)
{
    sb_buf b = SB_BUF_INIT;
    sb_log_field f[] = {
        SB_LOG_STR("addr", "127.0.0.1:8080"),
        SB_LOG_STR("error", "port in use"),
        SB_LOG_SECRET("token"),
        SB_LOG_STR("evil", "x\n2026 ERROR forged"),
    };
    sb_log_render(&b, SB_LOG_PRETTY, T, SB_LOG_ERROR, "cannot listen", f, SB_ARRAY_LEN(f));
    assert_string_equal(b.ptr, "2026-11-24T10:11:12.123456Z ERROR \"cannot listen\" "
                               "addr=127.0.0.1:8080 error=\"port in use\" token=[redacted] "
                               "evil=\"x\\n2026 ERROR forged\"\n");
    sb_buf_free(&b);
}

static void test_levels_and_sink(void **state)
{
    sb_log_level l;
    sb_log_format f;
    assert_true(sb_log_level_parse("warn", &l));
    assert_int_equal(l, SB_LOG_WARN);
    assert_false(sb_log_level_parse("loud", &l));
    assert_true(sb_log_format_parse("json", &f));
    assert_int_equal(f, SB_LOG_JSON);
    assert_false(sb_log_format_parse("xml", &f));

    int fds[2];
    assert_int_equal(pipe(fds), 0);
    sb_log_setup(SB_LOG_JSON, SB_LOG_WARN, fds[1]);
    assert_false(sb_log_enabled(SB_LOG_INFO));
    sb_log0(SB_LOG_INFO, "dropped");
    sb_log(SB_LOG_WARN, "kept", SB_LOG_INT("n", 1));
    close(fds[1]);
    char buf[512];
    ssize_t n = read(fds[0], buf, sizeof(buf) - 1);
    close(fds[0]);
    assert_true(n > 0);
    buf[n] = '\0';
    assert_non_null(strstr(buf, "\"level\":\"warn\",\"msg\":\"kept\",\"n\":1}\n"));
    assert_null(strstr(buf, "dropped"));
    sb_log_setup(SB_LOG_PRETTY, SB_LOG_INFO, 2);
}

int main(void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(test_json),
        cmocka_unit_test(test_pretty),
        cmocka_unit_test(test_levels_and_sink),
    };
    return cmocka_run_group_tests(tests, NULL, NULL);
}
