/*
 * magic.c: POST /api/auth/magic-link and /magic-link/verify, and the mail
 * that carries the link.
 *
 * A request answers 202 at once, whatever the email: the lookup, the token
 * and the mail happen afterwards on the worker pool, so neither the answer
 * nor its timing says whether an account exists. The link opens the front
 * end at <public_url>/auth/magic-link?token=...; that page posts the token
 * to /verify.
 */
#include <stdlib.h>
#include <string.h>

#include "api/auth.h"
#include "api/body.h"
#include "base/clock.h"
#include "base/log.h"
#include "mail/mail.h"

const api_field api_magic_link_fields[1] = {
    {"email", API_STRING, true, 3, 254, 0},
};
const api_field api_magic_verify_fields[1] = {
    {"token", API_STRING, true, 1, 128, 0},
};

void api_mail_magic_link(api_app *app, const identity_tokens *t)
{
    sb_buf text = SB_BUF_INIT;
    sb_buf_appendf(&text,
                   "Hello,\n\n"
                   "Follow this link to sign in to Sitebase. It works once, for %d minutes:\n\n"
                   "%s/auth/magic-link?token=%.*s\n\n"
                   "If you did not ask to sign in, ignore this mail: nobody can use the link\n"
                   "without access to your mailbox.\n",
                   IDENTITY_MAGIC_LINK_TTL_S / 60, app->public_url, (int)t->magic_token.len,
                   t->magic_token.ptr);
    const char *to[] = {t->email};
    api_mail_send(app, "a magic link", to, 1, "Your sign-in link", text.ptr);
    sb_secure_zero(text.ptr, text.len);
    sb_buf_free(&text);
}

typedef struct magic_job {
    api_app *app;
    sb_buf email;
    api_client_owned client;
} magic_job;

static void magic_work(void *arg)
{
    magic_job *j = arg;
    store *db = api_worker_store();
    if (!db)
        return;
    identity_tokens t = {0};
    j->client.c.now_us = sb_wall_us();
    if (identity_magic_link_request(j->app->identity, db, sb_buf_str(&j->email), &j->client.c,
                                    &t) == IDENTITY_OK)
        api_mail_magic_link(j->app, &t);
    identity_tokens_clear(&t);
}

static void magic_done(void *arg)
{
    magic_job *j = arg;
    sb_buf_free(&j->email);
    api_client_owned_free(&j->client);
    free(j);
}

static void auth_magic_link(net_req *req, void *ctx)
{
    api_app *app = ctx;
    sb_str email = SB_STR_NULL;
    json_t *doc;
    if (!api_body_limited(req, app, api_magic_link_fields, 1, &email, &doc, &email))
        return;
    magic_job *j = sb_calloc(1, sizeof(*j));
    j->app = app;
    sb_buf_append_str(&j->email, email);
    json_decref(doc);
    api_client_own(req, &j->client);
    if (!net_workers_submit(app->workers, req->loop, magic_work, magic_done, j)) {
        magic_done(j);
        net_header_static(req, "retry-after", "1");
        net_respond_problem(req, 503, "overloaded", "Service Unavailable",
                            "Too many requests at once; try again in a moment.");
        return;
    }
    static const char body[] = "{\"success\":true}";
    net_respond(req, 202, "application/json; charset=utf-8", body, sizeof(body) - 1);
}

static void auth_magic_verify(net_req *req, void *ctx)
{
    api_app *app = ctx;
    sb_str token = SB_STR_NULL;
    json_t *doc;
    if (!api_body_limited(req, app, api_magic_verify_fields, 1, &token, &doc, NULL))
        return;
    identity_client c = api_client(req);
    identity_user u = {0};
    identity_tokens t = {0};
    identity_err e =
        identity_magic_link_verify(app->identity, api_loop_of(req)->db, token, &c, &u, &t);
    api_respond_signin(req, app, 200, e, &u, &t, NULL);
    identity_user_clear(&u);
    identity_tokens_clear(&t);
    json_decref(doc);
}

void api_magic_register(net_router *r, api_app *app)
{
    mail_global_init(); /* before any worker thread can send */
    net_router_add(r, NET_POST, "/api/auth/magic-link", auth_magic_link, app, 0);
    net_router_add(r, NET_POST, "/api/auth/magic-link/verify", auth_magic_verify, app, 0);
}
