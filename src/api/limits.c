/*
 * limits.c: rate limits on the auth routes that sign in or send mail.
 *
 * Two token buckets per request: the peer's IP (rate_limit_auth_ip a
 * minute) and, where the body names an account, the lower-cased email
 * (rate_limit_auth_account a minute): the first slows one machine trying
 * many accounts, the second many machines trying one account. Buckets are
 * per process; behind several processes each enforces its own share.
 * Answers carry the RateLimit-Limit / -Remaining / -Reset fields (IETF
 * httpapi draft) of whichever bucket is nearer empty.
 */
#include "api/app.h"

#include <stdio.h>

#include "base/clock.h"

#define MAX_KEYS        100000
#define ACCOUNT_KEY_MAX 254

void api_app_limits(api_app *app)
{
    const sb_config *c = app->cfg;
    if (c->rate_limit_auth_ip > 0)
        app->ip_limit = sb_ratelimit_new(c->rate_limit_auth_ip, c->rate_limit_auth_ip, MAX_KEYS);
    if (c->rate_limit_auth_account > 0)
        app->account_limit =
            sb_ratelimit_new(c->rate_limit_auth_account, c->rate_limit_auth_account, MAX_KEYS);
    if (c->rate_limit_collect > 0)
        app->collect_limit =
            sb_ratelimit_new(c->rate_limit_collect, c->rate_limit_collect, MAX_KEYS);
}

static void set_int_header(net_req *req, const char *name, int64_t v)
{
    char text[24];
    snprintf(text, sizeof(text), "%lld", (long long)v);
    net_header(req, name, text);
}

bool api_rate_limit(net_req *req, api_app *app, sb_str account)
{
    int64_t now = (int64_t)(sb_mono_ns() / 1000);
    sb_ratelimit_result ip = {.allowed = true}, acct = {.allowed = true};
    bool have_ip = false, have_acct = false;
    if (app->ip_limit) {
        const char *peer = net_req_peer(req);
        sb_ratelimit_take(app->ip_limit, sb_str_c(peer ? peer : "?"), now, &ip);
        have_ip = true;
    }
    if (app->account_limit && account.len > 0) {
        char key[ACCOUNT_KEY_MAX];
        size_t n = SB_MIN(account.len, sizeof(key));
        for (size_t i = 0; i < n; i++) {
            char ch = account.ptr[i];
            key[i] = ch >= 'A' && ch <= 'Z' ? (char)(ch + 32) : ch;
        }
        sb_ratelimit_take(app->account_limit, sb_str_make(key, n), now, &acct);
        have_acct = true;
    }
    if (!have_ip && !have_acct)
        return true;
    /* Report the bucket that refused, else the one with less left. */
    const sb_ratelimit_result *r;
    if (!have_acct)
        r = &ip;
    else if (!have_ip)
        r = &acct;
    else if (ip.allowed != acct.allowed)
        r = ip.allowed ? &acct : &ip;
    else
        r = ip.remaining <= acct.remaining ? &ip : &acct;
    set_int_header(req, "ratelimit-limit", r->limit);
    set_int_header(req, "ratelimit-remaining", r->remaining);
    set_int_header(req, "ratelimit-reset", r->reset_s);
    if (r->allowed)
        return true;
    set_int_header(req, "retry-after", r->retry_after);
    net_respond_problemf(req, 429, "rate_limited", "Too Many Requests",
                         "Too many attempts; try again in %lld s.", (long long)r->retry_after);
    return false;
}

bool api_body_limited(net_req *req, api_app *app, const api_field *fields, size_t nfields,
                      void *out, json_t **doc, const sb_str *account)
{
    json_t *d;
    if (!api_body(req, fields, nfields, out, &d))
        return false;
    if (!api_rate_limit(req, app, account ? *account : SB_STR_NULL)) {
        json_decref(d);
        return false;
    }
    *doc = d;
    return true;
}
