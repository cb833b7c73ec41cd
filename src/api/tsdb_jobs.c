/*
 * tsdb_jobs.c: running backend calls on the worker pool for the analytics
 * routes, the event recorder's entry point, and its /metrics lines.
 */
#include "api/analytics.h"

#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

api_tsdb_job *api_tsdb_job_new(api_app *app, api_tsdb_op op, sb_str db)
{
    api_tsdb_job *j = sb_calloc(1, sizeof(*j));
    j->app = app;
    j->op = op;
    snprintf(j->db, sizeof(j->db), "%.*s", (int)SB_MIN(db.len, sizeof(j->db) - 1),
             db.ptr ? db.ptr : "");
    sb_arena_init(&j->arena, 0);
    return j;
}

bool api_tsdb_job_parse(api_tsdb_job *j, iql_error *err)
{
    j->has_parsed = iql_parse(sb_buf_str(&j->body), &j->arena, &j->parsed, err);
    return j->has_parsed;
}

void api_tsdb_job_free(api_tsdb_job *j)
{
    sb_arena_deinit(&j->arena);
    sb_buf_free(&j->body);
    sb_buf_free(&j->params);
    free(j->db_spans);
    analytics_result_free(&j->res);
    if (j->free_ctx)
        j->free_ctx(j->ctx);
    free(j);
}

/* The backend's view of a query job. */
static analytics_query query_of(const api_tsdb_job *j)
{
    return (analytics_query){
        .db = j->db[0] ? sb_str_c(j->db) : SB_STR_NULL,
        .q = sb_buf_str(&j->body),
        .epoch = j->epoch[0] ? sb_str_c(j->epoch) : SB_STR_NULL,
        .params = j->has_params ? sb_buf_str(&j->params) : SB_STR_NULL,
        .db_spans = j->db_spans,
        .ndb_spans = j->ndb_spans,
        .parsed = j->has_parsed ? &j->parsed : NULL,
    };
}

static void job_work(void *arg)
{
    api_tsdb_job *j = arg;
    analytics_backend *b = j->app->tsdb;
    sb_str db = sb_str_c(j->db);
    switch (j->op) {
    case API_TSDB_WRITE:
        b->vt->write(b, db, sb_buf_str(&j->body),
                     j->precision[0] ? sb_str_c(j->precision) : SB_STR_NULL, &j->res);
        break;
    case API_TSDB_QUERY: {
        analytics_query q = query_of(j);
        b->vt->query(b, &q, &j->res);
        break;
    }
    case API_TSDB_CREATE_DB:
        b->vt->create_db(b, db, &j->res);
        break;
    }
}

static void job_done(void *arg)
{
    api_tsdb_job *j = arg;
    net_req *req = net_req_ref_get(j->ref);
    if (req)
        j->answer(req, j);
    net_req_ref_release(j->ref);
    api_tsdb_job_free(j);
}

/* Whether the backend answered j at once (on this loop thread): a small
 * query over data in memory, with no lock held against it. It saves the
 * two thread hops, and the wait for a pool thread that runs at nice 19
 * on a busy machine. */
static bool answered_now(api_tsdb_job *j)
{
    analytics_backend *b = j->app->tsdb;
    if (j->op != API_TSDB_QUERY || !j->has_parsed || !b->vt->query_quick)
        return false;
    analytics_query q = query_of(j);
    return b->vt->query_quick(b, &q, &j->res);
}

void api_tsdb_submit(net_req *req, api_tsdb_job *j, bool influx_shape)
{
    if (answered_now(j)) {
        j->answer(req, j);
        api_tsdb_job_free(j);
        return;
    }
    j->ref = net_req_defer(req);
    if (net_workers_submit(j->app->workers, req->loop, job_work, job_done, j))
        return;
    net_req_ref_release(j->ref);
    api_tsdb_job_free(j);
    net_header_static(req, "retry-after", "1");
    if (influx_shape)
        api_influx_error(req, 503, "the server is busy; try again");
    else
        net_respond_problem(req, 503, "overloaded", "Service Unavailable",
                            "Too many analytics requests at once; try again in a moment.");
}

void api_influx_error(net_req *req, int status, const char *fmt, ...)
{
    char msg[512];
    va_list ap;
    va_start(ap, fmt);
    vsnprintf(msg, sizeof(msg), fmt, ap);
    va_end(ap);
    sb_buf body = SB_BUF_INIT;
    sb_jw w;
    sb_jw_init(&w, &body);
    sb_jw_obj_begin(&w);
    sb_jw_kv_str(&w, "error", msg);
    sb_jw_obj_end(&w);
    net_header_static(req, "x-influxdb-version", API_INFLUX_VERSION);
    net_header_static(req, "x-influxdb-error", "1");
    net_respond_json(req, status, &body);
    sb_buf_free(&body);
}

void api_tsdb_problem(net_req *req, const analytics_result *r)
{
    /* The store's own words, when it gave some. */
    char detail[300] = "";
    json_t *doc = json_loadb(r->body.ptr ? r->body.ptr : "", r->body.len, 0, NULL);
    const json_t *e = json_object_get(doc, "error");
    if (json_is_string(e))
        snprintf(detail, sizeof(detail), "%s", json_string_value(e));
    json_decref(doc);
    if (r->status == 503 || r->status == 0) {
        net_header_static(req, "retry-after", "5");
        net_respond_problemf(req, 503, "tsdb_unavailable", "Service Unavailable",
                             "The time-series store is not available: %s", detail);
    } else if (r->status >= 400 && r->status < 500) {
        net_respond_problemf(req, 400, "tsdb_rejected", "Bad Request",
                             "The time-series store refused the request: %s", detail);
    } else {
        net_respond_problemf(req, 502, "tsdb_error", "Bad Gateway",
                             "The time-series store failed: %s", detail);
    }
}

void api_record(api_app *app, const char *project_id, const tsdb_point *p)
{
    sb_str db = project_id && project_id[0] ? sb_str_c(project_id) : SB_STR(ANALYTICS_SYSTEM_DB);
    analytics_record(app->recorder, db, p);
}

void api_analytics_metrics(api_app *app, sb_buf *out)
{
    analytics_recorder_stats s;
    analytics_recorder_stats_get(app->recorder, &s);
    sb_buf_puts(out, "# HELP sitebase_analytics_events_total Sitebase's own events recorded as "
                     "series, by outcome.\n# TYPE sitebase_analytics_events_total counter\n");
    sb_buf_appendf(out, "sitebase_analytics_events_total{outcome=\"queued\"} %llu\n",
                   (unsigned long long)s.recorded);
    sb_buf_appendf(out, "sitebase_analytics_events_total{outcome=\"written\"} %llu\n",
                   (unsigned long long)s.written);
    sb_buf_puts(out, "# HELP sitebase_analytics_events_dropped_total Events lost: the queue was "
                     "full, or the time-series store refused or could not be reached.\n"
                     "# TYPE sitebase_analytics_events_dropped_total counter\n");
    sb_buf_appendf(out, "sitebase_analytics_events_dropped_total{reason=\"queue\"} %llu\n",
                   (unsigned long long)s.dropped_queue);
    sb_buf_appendf(out, "sitebase_analytics_events_dropped_total{reason=\"store\"} %llu\n",
                   (unsigned long long)s.dropped_store);
    sb_buf_puts(out, "# HELP sitebase_analytics_events_pending Events waiting to be written.\n"
                     "# TYPE sitebase_analytics_events_pending gauge\n");
    sb_buf_appendf(out, "sitebase_analytics_events_pending %llu\n", (unsigned long long)s.pending);
}

void api_analytics_answered(net_req *req, void *app_, int status)
{
    if (status < 500 || status > 599)
        return;
    api_app *app = app_;
    const char *route = req->match.route ? req->match.route->pattern : "unmatched";
    char st[8];
    snprintf(st, sizeof(st), "%d", status);
    tsdb_tag tags[3] = {
        {SB_STR("method"), sb_str_c(net_method_name(req->method))},
        {SB_STR("route"), sb_str_c(route)},
        {SB_STR("status"), sb_str_c(st)},
    };
    tsdb_field f = {.key = SB_STR("count"), .type = TSDB_INT, .v.i = 1};
    tsdb_point p = {.measurement = SB_STR("server_errors"),
                    .tags = tags,
                    .ntags = 3,
                    .fields = &f,
                    .nfields = 1};
    api_record(app, NULL, &p);
}
