/*
 * identity_admin_test.c: the operator's actions (admin.c) and signing-key
 * rotation (keys.c) on a real SQLite store: create follows register's
 * rules, disable ends every session, reset-mfa removes the factor, and a
 * rotation reaches another identity (a running server) through reload while
 * tokens of the older key keep verifying until its retired_at.
 */
#include "cmocka_prelude.h"

#include <stdio.h>
#include <stdlib.h>
#include <unistd.h>

#include "base/clock.h"
#include "base/log.h"
#include "crypto/crypto.h"
#include "identity/identity_int.h"
#include "store/migrate.h"

typedef struct fx {
    char dir[256];
    store *db;
    identity *id;
} fx;

static identity_config config(const char *dir)
{
    return (identity_config){
        .access_ttl_s = 900,
        .refresh_ttl_s = 86400,
        .reuse_window_s = 10,
        .argon2 = {1024, 1, 1}, /* cheap: these tests are not about hashing */
        .issuer = "sitebase",
        .data_dir = dir,
    };
}

static identity *open_identity(fx *f)
{
    identity_config cfg = config(f->dir);
    sb_errbuf err;
    identity *id = identity_new(&cfg, f->db, &err);
    if (!id)
        fail_msg("identity_new: %s", err.msg);
    return id;
}

static int setup(void **state)
{
    fx *f = calloc(1, sizeof(*f));
    snprintf(f->dir, sizeof(f->dir), "%s/sb-admin-XXXXXX",
             getenv("TMPDIR") ? getenv("TMPDIR") : "/tmp");
    assert_non_null(mkdtemp(f->dir));
    sb_errbuf err;
    int applied;
    assert_int_equal(store_open("", f->dir, &f->db, &err), STORE_OK);
    assert_int_equal(store_migrate(f->db, &applied, &err), STORE_OK);
    f->id = open_identity(f);
    *state = f;
    return 0;
}

static int teardown(void **state)
{
    fx *f = *state;
    identity_free(f->id);
    store_close(f->db);
    char cmd[300];
    snprintf(cmd, sizeof(cmd), "rm -rf '%s'", f->dir);
    assert_int_equal(system(cmd), 0);
    free(f);
    return 0;
}

static identity_client operator(void)
{
    return (identity_client){.user_agent = "test", .now_us = sb_wall_us()};
}

/* One integer from a query without parameters. */
static int64_t query_int(fx *f, const char *sql)
{
    store_stmt *st;
    sb_errbuf err;
    assert_int_equal(store_prepare(f->db, sql, &st, &err), STORE_OK);
    assert_int_equal(store_step(st, &err), STORE_ROW);
    int64_t v = store_col_int(st, 0);
    store_reset(st);
    return v;
}

static void exec_ok(fx *f, const char *sql)
{
    sb_errbuf err;
    if (store_exec(f->db, sql, &err) != STORE_OK)
        fail_msg("%s: %s", sql, err.msg);
}

/* The kid in a compact JWT's header. */
static void kid_of(const sb_buf *token, char out[32])
{
    const char *dot = memchr(token->ptr, '.', token->len);
    assert_non_null(dot);
    sb_buf hdr = SB_BUF_INIT;
    assert_true(crypto_b64url_decode(token->ptr, (size_t)(dot - token->ptr), &hdr));
    json_t *h = json_loadb(hdr.ptr, hdr.len, 0, NULL);
    assert_non_null(h);
    snprintf(out, 32, "%s", json_string_value(json_object_get(h, "kid")));
    json_decref(h);
    sb_buf_free(&hdr);
}

/* An access token for a made-up user and session, signed by id now. */
static void sign(identity *id, const char *sid, sb_buf *out)
{
    identity_tokens t = {0};
    identity__access_token(id, "01900000-0000-7000-8000-000000000001", sid, sb_wall_us(), &t);
    sb_buf_reset(out);
    sb_buf_append(out, t.access.ptr, t.access.len);
    identity_tokens_clear(&t);
}

static identity_err verify(identity *id, const sb_buf *token)
{
    identity_principal p;
    return identity_authenticate(id, sb_str_make(token->ptr, token->len), sb_wall_us(), &p);
}

static identity_user create_ok(fx *f, const char *email, const char *username)
{
    identity_client c = operator();
    identity_user u;
    identity_problem p = {0};
    identity_err e = identity_admin_create(f->id, f->db, sb_str_c(email),
                                           sb_str_c("correct horse battery staple"),
                                           sb_str_c(username), &c, &u, &p);
    if (e != IDENTITY_OK)
        fail_msg("create %s: %s (%s %s)", email, identity_err_code(e), p.field ? p.field : "",
                 p.message);
    return u;
}

static void create_follows_register_rules(void **state)
{
    fx *f = *state;
    identity_user u = create_ok(f, "Ada@Example.COM", "Ada_L");
    assert_string_equal(u.email, "ada@example.com");
    assert_string_equal(u.username, "ada_l");
    assert_string_equal(u.status, "active");
    assert_false(u.mfa_enabled);
    /* No session is opened for an account made by an operator. */
    char sql[200];
    snprintf(sql, sizeof(sql), "SELECT count(*) FROM user_sessions WHERE user_id = '%s'", u.id);
    assert_int_equal(query_int(f, sql), 0);

    identity_client c = operator();
    identity_user v;
    identity_problem p = {0};
    assert_int_equal(identity_admin_create(f->id, f->db, sb_str_c("not-an-email"),
                                           sb_str_c("correct horse battery staple"), sb_str_c(""),
                                           &c, &v, &p),
                     IDENTITY_INVALID);
    assert_string_equal(p.field, "email");
    p = (identity_problem){0};
    assert_int_equal(identity_admin_create(f->id, f->db, sb_str_c("b@example.com"),
                                           sb_str_c("password123"), sb_str_c(""), &c, &v, &p),
                     IDENTITY_WEAK_PASSWORD);
    assert_string_equal(p.field, "password");
    p = (identity_problem){0};
    assert_int_equal(identity_admin_create(f->id, f->db, sb_str_c("b@example.com"),
                                           sb_str_c("short"), sb_str_c(""), &c, &v, &p),
                     IDENTITY_INVALID);
    assert_string_equal(p.field, "password");
    assert_int_equal(identity_admin_create(f->id, f->db, sb_str_c("ADA@example.com"),
                                           sb_str_c("correct horse battery staple"), sb_str_c(""),
                                           &c, &v, &p),
                     IDENTITY_EMAIL_TAKEN);
    assert_int_equal(query_int(f, "SELECT count(*) FROM users"), 1);
    identity_user_clear(&u);
}

static void find_by_email_or_id(void **state)
{
    fx *f = *state;
    identity_user u = create_ok(f, "grace@example.com", "");
    char uid[SB_UUID_STR_LEN] = "";
    assert_int_equal(identity_admin_find(f->db, "Grace@Example.com", uid), IDENTITY_OK);
    assert_string_equal(uid, u.id);
    memset(uid, 0, sizeof(uid));
    assert_int_equal(identity_admin_find(f->db, u.id, uid), IDENTITY_OK);
    assert_string_equal(uid, u.id);
    assert_int_equal(identity_admin_find(f->db, "nobody@example.com", uid), IDENTITY_NOT_FOUND);
    assert_int_equal(identity_admin_find(f->db, "not-a-uuid", uid), IDENTITY_NOT_FOUND);
    assert_int_equal(identity_admin_find(f->db, "@", uid), IDENTITY_NOT_FOUND);
    identity_user_clear(&u);
}

static void collect(void *ctx, const identity_user *u)
{
    sb_buf *b = ctx;
    sb_buf_append(b, u->email, strlen(u->email));
    sb_buf_append(b, " ", 1);
}

static void list_oldest_first(void **state)
{
    fx *f = *state;
    const char *emails[] = {"c@example.com", "a@example.com", "b@example.com"};
    for (size_t i = 0; i < 3; i++) {
        identity_user u = create_ok(f, emails[i], "");
        identity_user_clear(&u);
    }
    sb_buf b = SB_BUF_INIT;
    assert_int_equal(identity_admin_list(f->id, f->db, collect, &b), IDENTITY_OK);
    assert_int_equal(b.len, strlen("c@example.com a@example.com b@example.com "));
    assert_memory_equal(b.ptr, "c@example.com a@example.com b@example.com ", b.len);
    sb_buf_free(&b);
}

static void disable_revokes_every_session(void **state)
{
    fx *f = *state;
    identity_user u = create_ok(f, "dis@example.com", "");
    identity_client c = operator();
    identity_tokens t1 = {0}, t2 = {0};
    assert_int_equal(identity__session_open(f->id, f->db, u.id, &c, false, &t1), IDENTITY_OK);
    assert_int_equal(identity__session_open(f->id, f->db, u.id, &c, false, &t2), IDENTITY_OK);
    identity_principal p;
    assert_int_equal(
        identity_authenticate(f->id, sb_str_make(t1.access.ptr, t1.access.len), c.now_us, &p),
        IDENTITY_OK);
    assert_int_equal(identity_check_session(f->id, f->db, &p, c.now_us), IDENTITY_OK);

    assert_int_equal(identity_admin_set_active(f->id, f->db, u.id, false, &c), IDENTITY_OK);
    assert_int_not_equal(identity_check_session(f->id, f->db, &p, c.now_us), IDENTITY_OK);
    char sql[300];
    snprintf(sql, sizeof(sql),
             "SELECT count(*) FROM user_sessions WHERE user_id = '%s' AND revoked_at IS NOT "
             "NULL AND revoke_reason = 'disabled'",
             u.id);
    assert_int_equal(query_int(f, sql), 2);
    identity_tokens r = {0};
    assert_int_not_equal(
        identity_refresh(f->id, f->db, sb_str_make(t2.refresh.ptr, t2.refresh.len), &c, &r),
        IDENTITY_OK);
    identity_tokens_clear(&r);
    identity_user v;
    assert_int_equal(identity_user_get(f->id, f->db, u.id, &v), IDENTITY_OK);
    assert_string_equal(v.status, "disabled");
    identity_user_clear(&v);

    assert_int_equal(identity_admin_set_active(f->id, f->db, u.id, true, &c), IDENTITY_OK);
    assert_int_equal(identity_user_get(f->id, f->db, u.id, &v), IDENTITY_OK);
    assert_string_equal(v.status, "active");
    identity_user_clear(&v);
    /* Enabling does not bring revoked sessions back. */
    assert_int_not_equal(identity_check_session(f->id, f->db, &p, c.now_us), IDENTITY_OK);
    snprintf(sql, sizeof(sql),
             "SELECT count(*) FROM user_security_events WHERE user_id = '%s' AND event_type IN "
             "('account_disabled', 'account_enabled')",
             u.id);
    assert_int_equal(query_int(f, sql), 2);
    identity_tokens_clear(&t1);
    identity_tokens_clear(&t2);
    identity_user_clear(&u);
}

static void reset_mfa_removes_factor_and_codes(void **state)
{
    fx *f = *state;
    identity_user u = create_ok(f, "mfa@example.com", "");
    char sql[400];
    snprintf(sql, sizeof(sql),
             "INSERT INTO mfa_factors (id, user_id, kind, secret_sealed, enabled, created_at) "
             "VALUES ('f1', '%s', 'totp', X'00', 1, 1); "
             "INSERT INTO recovery_codes (code_hash, user_id) VALUES ('h1', '%s'), ('h2', '%s'); "
             "UPDATE users SET mfa_enabled = 1 WHERE id = '%s'",
             u.id, u.id, u.id, u.id);
    exec_ok(f, sql);
    identity_client c = operator();
    assert_int_equal(identity_admin_reset_mfa(f->db, u.id, &c), IDENTITY_OK);
    assert_int_equal(query_int(f, "SELECT count(*) FROM mfa_factors"), 0);
    assert_int_equal(query_int(f, "SELECT count(*) FROM recovery_codes"), 0);
    identity_user v;
    assert_int_equal(identity_user_get(f->id, f->db, u.id, &v), IDENTITY_OK);
    assert_false(v.mfa_enabled);
    identity_user_clear(&v);
    assert_int_equal(
        query_int(f, "SELECT count(*) FROM user_security_events WHERE event_type = 'mfa_reset'"),
        1);
    identity_user_clear(&u);
}

static void rotation_reaches_a_running_server(void **state)
{
    fx *f = *state;
    identity *server = f->id;
    sb_buf before = SB_BUF_INIT, unseen = SB_BUF_INIT, after = SB_BUF_INIT;
    char kid[32], rotated[32];
    sign(server, "01900000-0000-7000-8000-00000000000a", &before);
    sign(server, "01900000-0000-7000-8000-00000000000b", &unseen);
    kid_of(&before, kid);
    assert_string_equal(kid, "k2"); /* id 1 is the data key */
    assert_int_equal(verify(server, &before), IDENTITY_OK);

    /* The command line is another identity on the same store. */
    identity *cli = open_identity(f);
    sb_errbuf err;
    assert_true(identity_keys_rotate(cli, f->db, 60, rotated, &err));
    assert_string_equal(rotated, "k3");
    int64_t now = sb_wall_us();
    int64_t retired = query_int(f, "SELECT retired_at FROM crypto_keys WHERE kid = 'k2'");
    assert_in_range(retired, now + 55 * 1000000LL, now + 60 * 1000000LL);
    assert_int_equal(query_int(f, "SELECT count(*) FROM crypto_keys WHERE kid = 'k3' AND "
                                  "retired_at IS NULL"),
                     1);
    sign(cli, "01900000-0000-7000-8000-00000000000c", &after);
    kid_of(&after, kid);
    assert_string_equal(kid, "k3");
    assert_int_equal(verify(cli, &before), IDENTITY_OK);

    /* The server does not know k3 until it reloads. */
    assert_int_equal(verify(server, &after), IDENTITY_TOKEN_INVALID);
    char signing[32] = "";
    assert_true(identity_keys_reload(server, f->db, signing, &err));
    assert_string_equal(signing, "k3");
    assert_int_equal(verify(server, &after), IDENTITY_OK);
    assert_int_equal(verify(server, &before), IDENTITY_OK);
    sb_buf fresh = SB_BUF_INIT;
    sign(server, "01900000-0000-7000-8000-00000000000d", &fresh);
    kid_of(&fresh, kid);
    assert_string_equal(kid, "k3");

    /* A server starting now loads the retired key too, and signs with k3. */
    identity *restarted = open_identity(f);
    assert_int_equal(verify(restarted, &unseen), IDENTITY_OK);
    sign(restarted, "01900000-0000-7000-8000-00000000000e", &fresh);
    kid_of(&fresh, kid);
    assert_string_equal(kid, "k3");
    identity_free(restarted);

    /* Once retired_at has passed, a reload drops the key. (A fresh token:
     * one the server verified before stays in its memo until exp.) */
    exec_ok(f, "UPDATE crypto_keys SET retired_at = 1 WHERE kid = 'k2'");
    assert_true(identity_keys_reload(server, f->db, NULL, &err));
    assert_int_equal(verify(server, &unseen), IDENTITY_TOKEN_INVALID);
    assert_int_equal(verify(server, &after), IDENTITY_OK);

    /* A second rotation retires k3 but leaves k2's earlier time alone. */
    assert_true(identity_keys_rotate(cli, f->db, 0, rotated, &err));
    assert_string_equal(rotated, "k4");
    assert_int_equal(query_int(f, "SELECT retired_at FROM crypto_keys WHERE kid = 'k2'"), 1);
    usleep(2000); /* k3's retired_at (now + 0) is then in the past */
    assert_true(identity_keys_reload(server, f->db, NULL, &err));
    sign(server, "01900000-0000-7000-8000-000000000010", &fresh);
    kid_of(&fresh, kid);
    assert_string_equal(kid, "k4");
    identity_free(cli);
    sb_buf_free(&before);
    sb_buf_free(&unseen);
    sb_buf_free(&after);
    sb_buf_free(&fresh);
}

static void reload_without_a_live_key_keeps_the_old_set(void **state)
{
    fx *f = *state;
    sb_buf tok = SB_BUF_INIT;
    sign(f->id, "01900000-0000-7000-8000-000000000011", &tok);
    exec_ok(f, "UPDATE crypto_keys SET retired_at = 1 WHERE purpose = 'jwt'");
    sb_errbuf err;
    assert_false(identity_keys_reload(f->id, f->db, NULL, &err));
    assert_non_null(strstr(err.msg, "no live JWT key"));
    /* The server goes on with the keys it had. */
    assert_int_equal(verify(f->id, &tok), IDENTITY_OK);
    sb_buf_free(&tok);
}

int main(void)
{
    sb_log_setup(SB_LOG_JSON, SB_LOG_WARN, 2); /* no "made a key" lines */
    const struct CMUnitTest tests[] = {
        cmocka_unit_test_setup_teardown(create_follows_register_rules, setup, teardown),
        cmocka_unit_test_setup_teardown(find_by_email_or_id, setup, teardown),
        cmocka_unit_test_setup_teardown(list_oldest_first, setup, teardown),
        cmocka_unit_test_setup_teardown(disable_revokes_every_session, setup, teardown),
        cmocka_unit_test_setup_teardown(reset_mfa_removes_factor_and_codes, setup, teardown),
        cmocka_unit_test_setup_teardown(rotation_reaches_a_running_server, setup, teardown),
        cmocka_unit_test_setup_teardown(reload_without_a_live_key_keeps_the_old_set, setup,
                                        teardown),
    };
    return cmocka_run_group_tests(tests, NULL, NULL);
}
