/*
 * dashboard.c: GET /api/projects/:id/analytics?metric=&from=&to=&interval=&group_by=
 * for the dashboard: one metric of the project's series over a time range,
 * in buckets, optionally per page (or referrer, event, model). The
 * parameters are checked and turned into InfluxQL by analytics/dashboard.c
 * (whitelists: no request text reaches the query); the answer is our own
 * small JSON, and errors are problem+json. Viewers and up.
 */
#include "api/analytics.h"

#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "analytics/dashboard.h"
#include "api/body.h"
#include "base/clock.h"

static void dash_answer(net_req *req, api_tsdb_job *j)
{
    const analytics_dash_query *q = j->ctx;
    if (j->res.status != 200) {
        api_tsdb_problem(req, &j->res);
        return;
    }
    sb_buf body = SB_BUF_INIT;
    sb_jw w;
    sb_jw_init(&w, &body);
    analytics_dash_error err = {0};
    if (!analytics_dash_answer(q, sb_buf_str(&j->res.body), &w, &err)) {
        /* A database that has no series yet is an empty answer, not an
         * error: the project simply has no data. */
        if (strstr(err.message, "database not found")) {
            sb_buf_reset(&body);
            sb_jw_init(&w, &body);
            analytics_dash_answer(q, SB_STR("{\"results\":[{\"statement_id\":0}]}"), &w, &err);
        } else {
            sb_buf_free(&body);
            net_respond_problemf(req, 502, "tsdb_error", "Bad Gateway",
                                 "The time-series store failed: %s", err.message);
            return;
        }
    }
    net_header_static(req, "cache-control", "private, max-age=10");
    net_respond_json(req, 200, &body);
    sb_buf_free(&body);
}

static void dashboard(net_req *req, void *ctx)
{
    api_app *app = ctx;
    identity_principal pr;
    projects_ctx c;
    if (!api_caller(req, app, true, &pr, &c))
        return;
    sb_str project = net_req_param(req, "id");
    projects_err e = projects_analytics_access(&c, project, false);
    if (e != PROJECTS_OK) {
        api_respond_projects(req, e, NULL);
        return;
    }
    analytics_dash_params p = {0};
    net_req_query(req, "metric", &p.metric);
    net_req_query(req, "from", &p.from);
    net_req_query(req, "to", &p.to);
    net_req_query(req, "interval", &p.interval);
    net_req_query(req, "group_by", &p.group_by);
    if (!net_req_query_ok(req)) {
        net_respond_problem(req, 400, "bad_query", "Bad Request", "The query string is malformed.");
        return;
    }
    analytics_dash_query *q = sb_calloc(1, sizeof(*q));
    analytics_dash_error err = {0};
    if (!analytics_dash_parse(&p, (int64_t)sb_wall_us() * 1000, q, &err)) {
        free(q);
        char detail[256];
        snprintf(detail, sizeof(detail), "%s %s", err.field, err.message);
        api_field_error fe = {err.field, err.message};
        net_respond_problem_ext(req, 400, "validation", "Validation Failed", detail,
                                api_field_error_members, &fe);
        return;
    }
    api_tsdb_job *j = api_tsdb_job_new(app, API_TSDB_QUERY, project);
    analytics_dash_influxql(q, &j->body);
    snprintf(j->epoch, sizeof(j->epoch), "ns");
    j->ctx = q;
    j->free_ctx = free;
    j->answer = dash_answer;
    api_tsdb_submit(req, j, false);
}

void api_dashboard_register(net_router *r, api_app *app)
{
    net_router_add(r, NET_GET, "/api/projects/:id/analytics", dashboard, app, 0);
}
