/*
 * collect.c: POST /api/collect, the analytics beacon of published sites:
 * page views, web vitals and custom events from visitors' browsers.
 *
 * Anyone may call it (a visitor has no account), from any origin (CORS
 * "*", preflights answered, no credentials), so it is bounded instead:
 * a 16 KiB body of at most 50 events, checked field by field
 * (analytics/collect.h), and a token bucket per site and client IP
 * (rate_limit_collect a minute). The site is named by its project id,
 * which a published site's pages carry anyway; a beacon for an unknown
 * project is 404. The points go to the project's database through the
 * recorder, so the answer (202) never waits for the time-series store.
 * It sets no cookie and reads none.
 */
#include "api/analytics.h"

#include <stdio.h>
#include <string.h>

#include "analytics/collect.h"
#include "api/body.h"
#include "base/clock.h"

static void set_int(net_req *req, const char *name, int64_t v)
{
    char t[24];
    snprintf(t, sizeof(t), "%lld", (long long)v);
    net_header(req, name, t);
}

static void collect(net_req *req, void *ctx)
{
    api_app *app = ctx;
    sb_buf lines = SB_BUF_INIT;
    char site[37];
    size_t n = 0;
    analytics_collect_error err;
    memset(&err, 0, sizeof(err));
    if (!analytics_collect_decode(req->body, (int64_t)sb_wall_us() * 1000, &lines, site, &n,
                                  &err)) {
        char detail[256];
        snprintf(detail, sizeof(detail), "%s %s", err.field[0] ? err.field : "The body",
                 err.message);
        api_field_error fe = {err.field[0] ? err.field : "body", err.message};
        net_respond_problem_ext(req, 400, "validation", "Validation Failed", detail,
                                api_field_error_members, &fe);
        return;
    }
    if (app->collect_limit) {
        const char *peer = net_req_peer(req);
        char key[96];
        snprintf(key, sizeof(key), "%s|%s", site, peer ? peer : "?");
        sb_ratelimit_result r;
        sb_ratelimit_take(app->collect_limit, sb_str_c(key), (int64_t)(sb_mono_ns() / 1000), &r);
        set_int(req, "ratelimit-limit", r.limit);
        set_int(req, "ratelimit-remaining", r.remaining);
        set_int(req, "ratelimit-reset", r.reset_s);
        if (!r.allowed) {
            set_int(req, "retry-after", r.retry_after);
            net_respond_problemf(req, 429, "rate_limited", "Too Many Requests",
                                 "Too many beacons from this address for this site; try again "
                                 "in %lld s.",
                                 (long long)r.retry_after);
            sb_buf_free(&lines);
            return;
        }
    }
    projects_ctx c = {.db = api_loop_of(req)->db, .now_us = sb_wall_us(), .limits = &app->limits};
    projects_err e = projects_analytics_site(&c, sb_str_c(site));
    if (e != PROJECTS_OK) {
        sb_buf_free(&lines);
        if (e == PROJECTS_NOT_FOUND)
            net_respond_problem(req, 404, "not_found", "Not Found", "No site has this id.");
        else
            api_respond_projects(req, e, NULL);
        return;
    }
    if (!analytics_record_lines(app->recorder, sb_str_c(site), sb_buf_str(&lines), n)) {
        sb_buf_free(&lines);
        net_header_static(req, "retry-after", "1");
        net_respond_problem(req, 503, "overloaded", "Service Unavailable",
                            "Too many events are waiting to be stored; try again in a moment.");
        return;
    }
    sb_buf_free(&lines);
    sb_buf body = SB_BUF_INIT;
    sb_buf_appendf(&body, "{\"accepted\":%zu}", n);
    net_header_static(req, "cache-control", "no-store");
    net_respond_json(req, 202, &body);
    sb_buf_free(&body);
}

void api_collect_register(net_router *r, api_app *app)
{
    const net_route *rt =
        net_router_add(r, NET_POST, "/api/collect", collect, app, ANALYTICS_COLLECT_MAX_BODY);
    net_router_public_cors(r, rt);
}
