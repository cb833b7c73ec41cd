/*
 * auth.c: the /api/auth routes of the API contract (API.md, "Auth").
 *
 * Password work (register, login) runs on the worker pool with that
 * thread's store connection, so a loop never waits for argon2; everything
 * else runs on the loop with its own connection. Token answers carry
 * Cache-Control: no-store (RFC 6749 §5.1) and set the browser cookies:
 * sb_session (the access token) and sb_refresh (the refresh token, sent
 * only to /api/auth), both HttpOnly, Secure, SameSite=Lax.
 */
#include "api/auth.h"
#include "api/analytics.h"

#include <stdlib.h>
#include <string.h>

#include "api/body.h"
#include "base/clock.h"
#include "base/json.h"
#include "base/log.h"

#define HEADER_MAX 512

/* ---- shared helpers ---- */

static const char *header_copy(net_req *req, const char *name, size_t max)
{
    sb_str v;
    if (!net_req_header(req, name, &v) || v.len == 0)
        return NULL;
    return sb_arena_strndup(&req->arena, v.ptr, SB_MIN(v.len, max));
}

identity_client api_client(net_req *req)
{
    return (identity_client){
        .ip = net_req_peer(req),
        .user_agent = header_copy(req, "user-agent", HEADER_MAX),
        .device = header_copy(req, "x-device-fingerprint", 128),
        .now_us = sb_wall_us(),
    };
}

void api_respond_identity(net_req *req, identity_err e, const identity_problem *p)
{
    static const char *const details[] = {
        [IDENTITY_BAD_CREDENTIALS] = "The email or password is wrong.",
        [IDENTITY_UNAUTHENTICATED] = "Sign in first: send an access token.",
        [IDENTITY_TOKEN_INVALID] = "The token is invalid or expired.",
        [IDENTITY_TOKEN_REUSED] = "This refresh token was already used; the session is revoked.",
        [IDENTITY_DISABLED] = "This account is disabled.",
        [IDENTITY_EMAIL_TAKEN] = "An account with this email exists.",
        [IDENTITY_USERNAME_TAKEN] = "This username is taken.",
        [IDENTITY_NOT_FOUND] = "Not found.",
        [IDENTITY_STORE] = "The database is not available; try again.",
        [IDENTITY_INTERNAL] = "Something went wrong on our side.",
    };
    int status = identity_err_status(e);
    if (status == 401)
        net_header_static(req, "www-authenticate", "Bearer");
    if (status == 503)
        net_header_static(req, "retry-after", "1");
    char detail[160];
    const char *d = (size_t)e < SB_ARRAY_LEN(details) ? details[e] : NULL;
    api_field_error fe = {0};
    if (p && p->field) {
        snprintf(detail, sizeof(detail), "%s %s.", p->field, p->message);
        d = detail;
        fe = (api_field_error){p->field, p->message};
    }
    net_respond_problem_ext(req, status, identity_err_code(e), identity_err_title(e), d,
                            fe.field ? api_field_error_members : NULL, &fe);
}

/* The value of cookie `name` in the Cookie header, or false. */
static bool cookie(net_req *req, const char *name, sb_str *out)
{
    sb_str all;
    if (!net_req_header(req, "cookie", &all))
        return false;
    size_t nlen = strlen(name);
    size_t i = 0;
    while (i < all.len) {
        while (i < all.len && (all.ptr[i] == ' ' || all.ptr[i] == ';'))
            i++;
        size_t start = i;
        while (i < all.len && all.ptr[i] != ';')
            i++;
        sb_str pair = sb_str_make(all.ptr + start, i - start);
        if (pair.len > nlen && memcmp(pair.ptr, name, nlen) == 0 && pair.ptr[nlen] == '=') {
            *out = sb_str_slice(pair, nlen + 1, pair.len);
            return true;
        }
    }
    return false;
}

bool api_auth(net_req *req, api_app *app, bool check_session, identity_principal *p)
{
    sb_str h, token = SB_STR_NULL;
    bool from_cookie = false;
    if (net_req_header(req, "authorization", &h)) {
        if (h.len > 7 && sb_str_eq_nocase(sb_str_slice(h, 0, 7), SB_STR("Bearer ")))
            token = sb_str_slice(h, 7, h.len);
    } else if (cookie(req, "sb_session", &token)) {
        from_cookie = true;
    }
    if (!token.ptr) {
        api_respond_identity(req, IDENTITY_UNAUTHENTICATED, NULL);
        return false;
    }
    int64_t now = sb_wall_us();
    identity_err e = identity_authenticate(app->identity, token, now, p);
    api_loop *al = api_loop_of(req);
    if (e == IDENTITY_OK && (check_session || from_cookie))
        e = identity_check_session(app->identity, al->db, p, now);
    bool changes_state = req->method != NET_GET && req->method != NET_HEAD;
    if (e == IDENTITY_OK && from_cookie && changes_state) {
        /* A browser request that changes state proves it is our page's
         * with the CSRF token only our page could read. */
        sb_str csrf;
        if (!net_req_header(req, "x-csrf-token", &csrf)) {
            net_respond_problem(
                req, 403, "csrf", "Forbidden",
                "Cookie-authenticated requests that change state need X-CSRF-Token.");
            return false;
        }
        if (identity_check_csrf(app->identity, al->db, p, csrf) != IDENTITY_OK) {
            net_respond_problem(req, 403, "csrf", "Forbidden", "The X-CSRF-Token does not match.");
            return false;
        }
    }
    if (e != IDENTITY_OK) {
        api_respond_identity(req, e == IDENTITY_DISABLED ? e : IDENTITY_TOKEN_INVALID, NULL);
        return false;
    }
    return true;
}

void api_jw_time(sb_jw *w, const char *key, int64_t us)
{
    sb_jw_key(w, key);
    if (us == 0) {
        sb_jw_null(w);
        return;
    }
    char t[SB_RFC3339_LEN];
    sb_jw_str(w, sb_rfc3339(us, t));
}

static void write_user(sb_jw *w, const identity_user *u)
{
    sb_jw_obj_begin(w);
    sb_jw_kv_str(w, "id", u->id);
    sb_jw_kv_str(w, "email", u->email);
    sb_jw_kv_str(w, "username", u->username);
    sb_jw_key(w, "profile");
    sb_jw_json(w, u->profile);
    sb_jw_kv_str(w, "subscription_tier", u->subscription_tier);
    sb_jw_kv_str(w, "status", u->status);
    sb_jw_kv_bool(w, "mfa_enabled", u->mfa_enabled);
    api_jw_time(w, "created_at", u->created_at);
    api_jw_time(w, "updated_at", u->updated_at);
    api_jw_time(w, "last_active", u->last_active);
    sb_jw_obj_end(w);
}

static void set_cookie(net_req *req, const char *name, const char *value, size_t len,
                       const char *path, int64_t max_age)
{
    sb_buf c = SB_BUF_INIT;
    sb_buf_appendf(&c, "%s=%.*s; Path=%s; Max-Age=%ld; HttpOnly; Secure; SameSite=Lax", name,
                   (int)len, value, path, (long)max_age);
    net_headern(req, "set-cookie", c.ptr, c.len);
    sb_secure_zero(c.ptr, c.len);
    sb_buf_free(&c);
}

/* {user?, access_token, refresh_token, expires_in, token_type} + cookies. */
static void respond_tokens(net_req *req, api_app *app, int status, const identity_user *u,
                           const identity_tokens *t)
{
    set_cookie(req, "sb_session", t->access.ptr, t->access.len, "/", t->expires_in);
    set_cookie(req, "sb_refresh", t->refresh.ptr, t->refresh.len, "/api/auth",
               app->cfg->refresh_token_ttl_ms / 1000);
    if (t->csrf.len)
        net_headern(req, "x-csrf-token", t->csrf.ptr, t->csrf.len);
    net_header_static(req, "cache-control", "no-store");
    sb_buf body = SB_BUF_INIT;
    sb_jw w;
    sb_jw_init(&w, &body);
    sb_jw_obj_begin(&w);
    if (u) {
        sb_jw_key(&w, "user");
        write_user(&w, u);
    }
    sb_jw_key(&w, "access_token");
    sb_jw_strn(&w, t->access.ptr, t->access.len);
    sb_jw_key(&w, "refresh_token");
    sb_jw_strn(&w, t->refresh.ptr, t->refresh.len);
    sb_jw_kv_int(&w, "expires_in", t->expires_in);
    sb_jw_kv_str(&w, "token_type", "Bearer");
    sb_jw_obj_end(&w);
    net_respond_json(req, status, &body);
    sb_secure_zero(body.ptr, body.len);
    sb_buf_free(&body);
}

/* 200 {mfa_required: true, mfa_token}: the password was right, now the code. */
static void respond_mfa_required(net_req *req, const identity_tokens *t)
{
    net_header_static(req, "cache-control", "no-store");
    sb_buf body = SB_BUF_INIT;
    sb_jw w;
    sb_jw_init(&w, &body);
    sb_jw_obj_begin(&w);
    sb_jw_kv_bool(&w, "mfa_required", true);
    sb_jw_key(&w, "mfa_token");
    sb_jw_strn(&w, t->mfa_token.ptr, t->mfa_token.len);
    sb_jw_obj_end(&w);
    net_respond_json(req, 200, &body);
    sb_secure_zero(body.ptr, body.len);
    sb_buf_free(&body);
}

void api_respond_signin(net_req *req, api_app *app, int ok_status, identity_err e,
                        const identity_user *u, const identity_tokens *t, const identity_problem *p)
{
    switch (e) {
    case IDENTITY_OK:
        api_record_signin(req, app, ok_status == 201, u);
        respond_tokens(req, app, ok_status, u, t);
        return;
    case IDENTITY_MFA_REQUIRED:
        respond_mfa_required(req, t);
        return;
    case IDENTITY_MAGIC_LINK_REQUIRED: {
        /* The password was right but the sign-in looks unusual: a link
         * went to the account's address; following it signs in. */
        static const char body[] = "{\"magic_link_required\":true}";
        net_header_static(req, "cache-control", "no-store");
        net_respond(req, 200, "application/json; charset=utf-8", body, sizeof(body) - 1);
        return;
    }
    case IDENTITY_LOCKED: {
        char secs[24];
        snprintf(secs, sizeof(secs), "%lld", (long long)t->retry_after_s);
        net_header(req, "retry-after", secs);
        net_respond_problemf(req, 429, identity_err_code(e), identity_err_title(e),
                             "Too many failed sign-ins; try again in %lld s.",
                             (long long)t->retry_after_s);
        return;
    }
    default:
        api_respond_identity(req, e,
                             e == IDENTITY_INVALID || e == IDENTITY_WEAK_PASSWORD ? p : NULL);
    }
}

static void respond_success(net_req *req)
{
    static const char body[] = "{\"success\":true}";
    net_respond(req, 200, "application/json; charset=utf-8", body, sizeof(body) - 1);
}

/* ---- register and login, on the worker pool ---- */

typedef struct password_job {
    net_req_ref *ref;
    api_app *app;
    bool registering;
    sb_buf email, password, username;
    api_client_owned client; /* copies: the request may go away */
    identity_err result;
    identity_problem problem;
    identity_user user;
    identity_tokens tokens;
} password_job;

static void password_work(void *arg)
{
    password_job *j = arg;
    store *db = api_worker_store();
    if (!db) {
        j->result = IDENTITY_STORE;
        return;
    }
    j->client.c.now_us = sb_wall_us();
    if (j->registering)
        j->result = identity_register(j->app->identity, db, sb_buf_str(&j->email),
                                      sb_buf_str(&j->password), sb_buf_str(&j->username),
                                      &j->client.c, &j->user, &j->tokens, &j->problem);
    else
        j->result = identity_login(j->app->identity, db, sb_buf_str(&j->email),
                                   sb_buf_str(&j->password), &j->client.c, &j->user, &j->tokens);
    if (j->result == IDENTITY_MAGIC_LINK_REQUIRED)
        api_mail_magic_link(j->app, &j->tokens); /* we are on a worker: mail may block */
}

static void password_job_free(password_job *j)
{
    if (j->password.ptr)
        sb_secure_zero(j->password.ptr, j->password.len);
    sb_buf_free(&j->email);
    sb_buf_free(&j->password);
    sb_buf_free(&j->username);
    api_client_owned_free(&j->client);
    identity_user_clear(&j->user);
    identity_tokens_clear(&j->tokens);
    free(j);
}

static void password_done(void *arg)
{
    password_job *j = arg;
    net_req *req = net_req_ref_get(j->ref);
    if (req)
        api_respond_signin(req, j->app, j->registering ? 201 : 200, j->result, &j->user, &j->tokens,
                           &j->problem);
    net_req_ref_release(j->ref);
    password_job_free(j);
}

static char *dup_or_null(const char *s)
{
    return s ? sb_strdup(s) : NULL;
}

void api_client_own(net_req *req, api_client_owned *o)
{
    identity_client c = api_client(req);
    o->ip = dup_or_null(c.ip);
    o->user_agent = dup_or_null(c.user_agent);
    o->device = dup_or_null(c.device);
    o->c = (identity_client){o->ip, o->user_agent, o->device, c.now_us};
}

void api_client_owned_free(api_client_owned *o)
{
    free(o->ip);
    free(o->user_agent);
    free(o->device);
    memset(o, 0, sizeof(*o));
}

static void start_password_job(net_req *req, api_app *app, bool registering, sb_str email,
                               sb_str password, sb_str username)
{
    password_job *j = sb_calloc(1, sizeof(*j));
    j->app = app;
    j->registering = registering;
    sb_buf_append_str(&j->email, email);
    sb_buf_append_str(&j->password, password);
    sb_buf_append_str(&j->username, username);
    api_client_own(req, &j->client);
    j->ref = net_req_defer(req);
    if (!net_workers_submit(app->workers, req->loop, password_work, password_done, j)) {
        net_req_ref_release(j->ref);
        password_job_free(j);
        net_header_static(req, "retry-after", "1");
        net_respond_problem(req, 503, "overloaded", "Service Unavailable",
                            "Too many sign-ins at once; try again in a moment.");
    }
}

typedef struct register_body {
    sb_str email, password, username;
} register_body;

static const api_field register_fields[] = {
    {"email", API_STRING, true, 3, 254, offsetof(register_body, email)},
    {"password", API_STRING, true, 0, 4096, offsetof(register_body, password)},
    {"username", API_STRING, false, 0, 64, offsetof(register_body, username)},
};

static void auth_register(net_req *req, void *ctx)
{
    register_body b = {0};
    json_t *doc;
    if (!api_body_limited(req, ctx, register_fields, SB_ARRAY_LEN(register_fields), &b, &doc, NULL))
        return;
    start_password_job(req, ctx, true, b.email, b.password, b.username);
    json_decref(doc);
}

typedef struct login_body {
    sb_str email, password;
} login_body;

static const api_field login_fields[] = {
    {"email", API_STRING, true, 0, 0, offsetof(login_body, email)},
    {"password", API_STRING, true, 0, 0, offsetof(login_body, password)},
};

static void auth_login(net_req *req, void *ctx)
{
    login_body b = {0};
    json_t *doc;
    if (!api_body_limited(req, ctx, login_fields, SB_ARRAY_LEN(login_fields), &b, &doc, &b.email))
        return;
    start_password_job(req, ctx, false, b.email, b.password, SB_STR(""));
    json_decref(doc);
}

/* ---- on the loop ---- */

typedef struct refresh_body {
    sb_str refresh_token;
} refresh_body;

static const api_field refresh_fields[] = {
    {"refresh_token", API_STRING, false, 0, 0, offsetof(refresh_body, refresh_token)},
};

static void auth_refresh(net_req *req, void *ctx)
{
    api_app *app = ctx;
    refresh_body b = {0};
    json_t *doc = NULL;
    sb_str token = SB_STR_NULL;
    /* A browser sends no body: its refresh token is the sb_refresh cookie. */
    if (req->body.len > 0) {
        if (!api_body(req, refresh_fields, SB_ARRAY_LEN(refresh_fields), &b, &doc))
            return;
        token = b.refresh_token;
    }
    if (!token.ptr && !cookie(req, "sb_refresh", &token)) {
        api_respond_invalid_field(req, "refresh_token", "is required");
        json_decref(doc);
        return;
    }
    identity_client c = api_client(req);
    identity_tokens t = {0};
    identity_err e = identity_refresh(app->identity, api_loop_of(req)->db, token, &c, &t);
    if (e == IDENTITY_OK)
        respond_tokens(req, app, 200, NULL, &t);
    else
        api_respond_identity(req, e, NULL);
    identity_tokens_clear(&t);
    json_decref(doc);
}

static void auth_logout(net_req *req, void *ctx)
{
    api_app *app = ctx;
    identity_principal p;
    if (!api_auth(req, app, false, &p))
        return;
    identity_client c = api_client(req);
    identity_err e = identity_logout(app->identity, api_loop_of(req)->db, &p, &c);
    if (e != IDENTITY_OK) {
        api_respond_identity(req, e, NULL);
        return;
    }
    set_cookie(req, "sb_session", "", 0, "/", 0);
    set_cookie(req, "sb_refresh", "", 0, "/api/auth", 0);
    respond_success(req);
}

static void auth_me(net_req *req, void *ctx)
{
    api_app *app = ctx;
    identity_principal p;
    /* identity_me checks the session in the same read as the user. */
    if (!api_auth(req, app, false, &p))
        return;
    identity_user u;
    identity_err e = identity_me(app->identity, api_loop_of(req)->db, &p, sb_wall_us(), &u);
    if (e != IDENTITY_OK) {
        api_respond_identity(req, e, NULL);
        return;
    }
    sb_buf body = SB_BUF_INIT;
    sb_jw w;
    sb_jw_init(&w, &body);
    write_user(&w, &u);
    net_header_static(req, "cache-control", "no-store");
    net_respond_json(req, 200, &body);
    sb_buf_free(&body);
    identity_user_clear(&u);
}

static void write_session(void *ctx, const identity_session *s)
{
    sb_jw *w = ctx;
    sb_jw_obj_begin(w);
    sb_jw_kv_str(w, "id", s->id);
    sb_jw_kv_str(w, "device", s->device);
    sb_jw_kv_str(w, "ip", s->ip);
    sb_jw_kv_str(w, "user_agent", s->user_agent);
    api_jw_time(w, "created_at", s->created_at);
    api_jw_time(w, "last_seen", s->last_seen);
    sb_jw_kv_bool(w, "current", s->current);
    sb_jw_obj_end(w);
}

static void auth_sessions(net_req *req, void *ctx)
{
    api_app *app = ctx;
    identity_principal p;
    if (!api_auth(req, app, true, &p))
        return;
    sb_buf body = SB_BUF_INIT;
    sb_jw w;
    sb_jw_init(&w, &body);
    sb_jw_obj_begin(&w);
    sb_jw_key(&w, "items");
    sb_jw_arr_begin(&w);
    identity_err e = identity_sessions_list(app->identity, api_loop_of(req)->db, &p, sb_wall_us(),
                                            write_session, &w);
    sb_jw_arr_end(&w);
    sb_jw_key(&w, "next_cursor");
    sb_jw_null(&w);
    sb_jw_obj_end(&w);
    if (e == IDENTITY_OK)
        net_respond_json(req, 200, &body);
    else
        api_respond_identity(req, e, NULL);
    sb_buf_free(&body);
}

static void auth_session_delete(net_req *req, void *ctx)
{
    api_app *app = ctx;
    identity_principal p;
    if (!api_auth(req, app, true, &p))
        return;
    identity_client c = api_client(req);
    identity_err e = identity_session_revoke(app->identity, api_loop_of(req)->db, &p,
                                             net_req_param(req, "id"), &c);
    if (e != IDENTITY_OK)
        api_respond_identity(req, e, NULL);
    else
        respond_success(req);
}

/* ---- MFA ---- */

typedef struct mfa_verify_body {
    sb_str mfa_token, code;
} mfa_verify_body;

static const api_field mfa_verify_fields[] = {
    {"mfa_token", API_STRING, true, 1, 128, offsetof(mfa_verify_body, mfa_token)},
    {"code", API_STRING, true, 6, 11, offsetof(mfa_verify_body, code)},
};

static void auth_mfa_verify(net_req *req, void *ctx)
{
    api_app *app = ctx;
    mfa_verify_body b = {0};
    json_t *doc;
    if (!api_body_limited(req, app, mfa_verify_fields, SB_ARRAY_LEN(mfa_verify_fields), &b, &doc,
                          NULL))
        return;
    identity_client c = api_client(req);
    identity_user u = {0};
    identity_tokens t = {0};
    identity_err e =
        identity_mfa_verify(app->identity, api_loop_of(req)->db, b.mfa_token, b.code, &c, &u, &t);
    api_respond_signin(req, app, 200, e, &u, &t, NULL);
    identity_user_clear(&u);
    identity_tokens_clear(&t);
    json_decref(doc);
}

static void auth_totp_setup(net_req *req, void *ctx)
{
    api_app *app = ctx;
    identity_principal p;
    if (!api_auth(req, app, true, &p))
        return;
    identity_client c = api_client(req);
    sb_buf secret = SB_BUF_INIT, uri = SB_BUF_INIT;
    identity_err e =
        identity_totp_setup(app->identity, api_loop_of(req)->db, &p, &c, &secret, &uri);
    if (e == IDENTITY_OK) {
        sb_buf body = SB_BUF_INIT;
        sb_jw w;
        sb_jw_init(&w, &body);
        sb_jw_obj_begin(&w);
        sb_jw_key(&w, "secret");
        sb_jw_strn(&w, secret.ptr, secret.len);
        sb_jw_key(&w, "otpauth_uri");
        sb_jw_strn(&w, uri.ptr, uri.len);
        sb_jw_obj_end(&w);
        net_header_static(req, "cache-control", "no-store");
        net_respond_json(req, 200, &body);
        sb_secure_zero(body.ptr, body.len);
        sb_buf_free(&body);
    } else {
        api_respond_identity(req, e, NULL);
    }
    if (secret.ptr)
        sb_secure_zero(secret.ptr, secret.len);
    if (uri.ptr)
        sb_secure_zero(uri.ptr, uri.len);
    sb_buf_free(&secret);
    sb_buf_free(&uri);
}

typedef struct totp_enable_body {
    sb_str code;
} totp_enable_body;

static const api_field totp_enable_fields[] = {
    {"code", API_STRING, true, 6, 6, offsetof(totp_enable_body, code)},
};

static void auth_totp_enable(net_req *req, void *ctx)
{
    api_app *app = ctx;
    identity_principal p;
    if (!api_auth(req, app, true, &p))
        return;
    totp_enable_body b = {0};
    json_t *doc;
    sb_str uid = sb_str_c(p.user_id);
    if (!api_body_limited(req, app, totp_enable_fields, SB_ARRAY_LEN(totp_enable_fields), &b, &doc,
                          &uid))
        return;
    identity_client c = api_client(req);
    char codes[IDENTITY_RECOVERY_CODES][IDENTITY_RECOVERY_CODE_LEN + 1];
    identity_err e =
        identity_totp_enable(app->identity, api_loop_of(req)->db, &p, b.code, &c, codes);
    json_decref(doc);
    if (e != IDENTITY_OK) {
        api_respond_identity(req, e, NULL);
        return;
    }
    sb_buf body = SB_BUF_INIT;
    sb_jw w;
    sb_jw_init(&w, &body);
    sb_jw_obj_begin(&w);
    sb_jw_key(&w, "recovery_codes");
    sb_jw_arr_begin(&w);
    for (int i = 0; i < IDENTITY_RECOVERY_CODES; i++)
        sb_jw_str(&w, codes[i]);
    sb_jw_arr_end(&w);
    sb_jw_obj_end(&w);
    net_header_static(req, "cache-control", "no-store");
    net_respond_json(req, 200, &body);
    sb_secure_zero(body.ptr, body.len);
    sb_secure_zero(codes, sizeof(codes));
    sb_buf_free(&body);
}

const api_body_table api_auth_bodies[] = {
    {"POST /api/auth/register", register_fields, SB_ARRAY_LEN(register_fields),
     sizeof(register_body)},
    {"POST /api/auth/login", login_fields, SB_ARRAY_LEN(login_fields), sizeof(login_body)},
    {"POST /api/auth/refresh", refresh_fields, SB_ARRAY_LEN(refresh_fields), sizeof(refresh_body)},
    {"POST /api/auth/magic-link", api_magic_link_fields, 1, sizeof(sb_str)},
    {"POST /api/auth/magic-link/verify", api_magic_verify_fields, 1, sizeof(sb_str)},
    {"POST /api/auth/mfa/verify", mfa_verify_fields, SB_ARRAY_LEN(mfa_verify_fields),
     sizeof(mfa_verify_body)},
    {"POST /api/auth/totp/enable", totp_enable_fields, SB_ARRAY_LEN(totp_enable_fields),
     sizeof(totp_enable_body)},
};
const size_t api_auth_bodies_len = SB_ARRAY_LEN(api_auth_bodies);

void api_auth_register(net_router *r, api_app *app)
{
    api_magic_register(r, app);
    api_security_events_register(r, app);
    net_router_add(r, NET_POST, "/api/auth/mfa/verify", auth_mfa_verify, app, 0);
    net_router_add(r, NET_POST, "/api/auth/totp/setup", auth_totp_setup, app, 0);
    net_router_add(r, NET_POST, "/api/auth/totp/enable", auth_totp_enable, app, 0);
    net_router_add(r, NET_POST, "/api/auth/register", auth_register, app, 0);
    net_router_add(r, NET_POST, "/api/auth/login", auth_login, app, 0);
    net_router_add(r, NET_POST, "/api/auth/refresh", auth_refresh, app, 0);
    net_router_add(r, NET_POST, "/api/auth/logout", auth_logout, app, 0);
    net_router_add(r, NET_GET, "/api/auth/me", auth_me, app, 0);
    net_router_add(r, NET_GET, "/api/auth/sessions", auth_sessions, app, 0);
    net_router_add(r, NET_DELETE, "/api/auth/sessions/:id", auth_session_delete, app, 0);
}
