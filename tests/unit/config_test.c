/* config_test.c: defaults, the four layers and their precedence, value
 * syntax, and errors that name key, value and source exactly. */
#include "cmocka_prelude.h"

#include <stdio.h>
#include <stdlib.h>
#include <unistd.h>

#include "base/config.h"

static const char *fake_env[][2] = {{NULL, NULL}, {NULL, NULL}, {NULL, NULL}};

static char *fake_getenv(const char *name)
{
    for (size_t i = 0; i < 3; i++)
        if (fake_env[i][0] && strcmp(fake_env[i][0], name) == 0)
            return (char *)fake_env[i][1];
    return NULL;
}

static void set_env(int i, const char *k, const char *v)
{
    fake_env[i][0] = k;
    fake_env[i][1] = v;
}

static char *write_file(const char *text)
{
    static char path[] = "/tmp/sitebase-config-test-XXXXXX";
    memcpy(path + sizeof(path) - 7, "XXXXXX", 6);
    int fd = mkstemp(path);
    assert_true(fd >= 0);
    assert_int_equal(write(fd, text, strlen(text)), (ssize_t)strlen(text));
    close(fd);
    return path;
}

static void test_defaults(void **state)
{
    sb_config c;
    sb_config_init(&c);
    assert_string_equal(c.listen, "127.0.0.1:8080");
    assert_string_equal(c.data_dir, "./data");
    assert_string_equal(c.db, "");
    assert_string_equal(c.bus, "mem://");
    assert_int_equal(c.threads, 0);
    assert_int_equal(c.max_json_body, 1024 * 1024);
    assert_int_equal(c.max_upload_body, 50 * 1024 * 1024);
    assert_int_equal(c.request_timeout_ms, 10000);
    assert_int_equal(c.refresh_token_ttl_ms, 30LL * 24 * 3600 * 1000);
    assert_true(c.access_log);
    sb_errbuf err;
    assert_true(sb_config_validate(&c, &err));
    sb_config_deinit(&c);
}

static void test_precedence(void **state)
{
    sb_config c;
    sb_errbuf err;
    sb_config_init(&c);
    char *path = write_file("# comment\n\nthreads = 3\nlisten = \"0.0.0.0:9000\"  \n"
                            "data = /srv/sb # trailing comment\nworkers = 6\n");
    assert_true(sb_config_load_file(&c, path, &err));
    assert_int_equal(c.threads, 3);
    assert_string_equal(c.listen, "0.0.0.0:9000");
    assert_string_equal(c.data_dir, "/srv/sb");
    set_env(0, "SITEBASE_THREADS", "2");
    set_env(1, "SITEBASE_MAX_JSON_BODY", "2M");
    assert_true(sb_config_load_env(&c, fake_getenv, &err));
    assert_int_equal(c.threads, 2); /* env beats file */
    assert_int_equal(c.workers, 6); /* file kept where env is silent */
    assert_int_equal(c.max_json_body, 2 * 1024 * 1024);
    assert_true(sb_config_set(&c, "threads", "1", "--threads", &err));
    assert_int_equal(c.threads, 1); /* flag beats env */
    set_env(0, NULL, NULL);
    set_env(1, NULL, NULL);
    unlink(path);
    sb_config_deinit(&c);
}

static void test_values(void **state)
{
    sb_config c;
    sb_errbuf err;
    sb_config_init(&c);
    assert_true(sb_config_set(&c, "max_upload_body", "512K", "t", &err));
    assert_int_equal(c.max_upload_body, 512 * 1024);
    assert_true(sb_config_set(&c, "max_upload_body", "1GiB", "t", &err));
    assert_int_equal(c.max_upload_body, 1024 * 1024 * 1024);
    assert_true(sb_config_set(&c, "request_timeout", "250ms", "t", &err));
    assert_int_equal(c.request_timeout_ms, 250);
    assert_true(sb_config_set(&c, "request_timeout", "2s", "t", &err));
    assert_int_equal(c.request_timeout_ms, 2000);
    assert_true(sb_config_set(&c, "refresh_token_ttl", "7d", "t", &err));
    assert_int_equal(c.refresh_token_ttl_ms, 7LL * 86400 * 1000);
    assert_true(sb_config_set(&c, "access_log", "off", "t", &err));
    assert_false(c.access_log);
    assert_true(sb_config_set(&c, "access_log", "yes", "t", &err));
    assert_true(c.access_log);
    sb_config_deinit(&c);
}

static void test_errors(void **state)
{
    sb_config c;
    sb_errbuf err;
    sb_config_init(&c);
    assert_false(sb_config_set(&c, "threads", "999", "SITEBASE_THREADS", &err));
    assert_string_equal(err.msg,
                        "threads: must be between 0 and 256, got 999 (from SITEBASE_THREADS)");
    assert_int_equal(c.threads, 0); /* unchanged */
    assert_false(sb_config_set(&c, "thredas", "4", "sitebase.conf:3", &err));
    assert_string_equal(err.msg, "unknown key 'thredas' (from sitebase.conf:3)");
    assert_false(sb_config_set(&c, "max_json_body", "lots", "--max-json-body", &err));
    assert_non_null(strstr(err.msg, "max_json_body: must be a size like"));
    assert_false(sb_config_set(&c, "access_log", "maybe", "x", &err));
    assert_string_equal(err.msg, "access_log: must be true or false, got 'maybe' (from x)");
    assert_false(sb_config_set(&c, "log_level", "loud", "x", &err));
    assert_string_equal(c.log_level, "info");

    char *path = write_file("threads = 2\nthis line has no equals\n");
    assert_false(sb_config_load_file(&c, path, &err));
    char want[200];
    snprintf(want, sizeof(want), "expected `key = value` (from %s:2)", path);
    assert_string_equal(err.msg, want);
    unlink(path);
    assert_false(sb_config_load_file(&c, "/nonexistent/sitebase.conf", &err));
    assert_non_null(strstr(err.msg, "cannot read config file /nonexistent/sitebase.conf"));

    assert_true(sb_config_set(&c, "tls_cert", "/c.pem", "t", &err));
    assert_false(sb_config_validate(&c, &err));
    assert_string_equal(err.msg, "tls_cert and tls_key: set both or neither");
    assert_true(sb_config_set(&c, "tls_cert", "", "t", &err));
    assert_true(sb_config_set(&c, "listen", "nohost", "t", &err));
    assert_false(sb_config_validate(&c, &err));
    assert_true(sb_config_set(&c, "listen", "[::1]:0", "t", &err));
    assert_true(sb_config_validate(&c, &err));
    assert_true(sb_config_set(&c, "db", "mysql://x", "t", &err));
    assert_false(sb_config_validate(&c, &err));
    assert_true(sb_config_set(&c, "db", "", "t", &err));
    assert_true(sb_config_set(&c, "bus", "redis://127.0.0.1:6390/2", "--bus", &err));
    assert_true(sb_config_validate(&c, &err));
    assert_string_equal(c.bus, "redis://127.0.0.1:6390/2");
    assert_true(sb_config_set(&c, "bus", "nats://x", "--bus", &err));
    assert_false(sb_config_validate(&c, &err));
    assert_string_equal(err.msg, "bus: must be mem:// or redis://host:port/db, got 'nats://x'");
    sb_config_deinit(&c);
}

static void test_describe(void **state)
{
    const char *key, *help, *def;
    size_t n = 0;
    while (sb_config_describe(n, &key, &help, &def))
        n++;
    assert_true(n >= 20);
    assert_true(sb_config_describe(0, &key, &help, &def));
    assert_string_equal(key, "listen");
    assert_string_equal(def, "127.0.0.1:8080");
}

int main(void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(test_defaults), cmocka_unit_test(test_precedence),
        cmocka_unit_test(test_values),   cmocka_unit_test(test_errors),
        cmocka_unit_test(test_describe),
    };
    return cmocka_run_group_tests(tests, NULL, NULL);
}
