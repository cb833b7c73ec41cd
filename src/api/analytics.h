/*
 * analytics.h: what the analytics routes share (influx.c: /write, /query,
 * /ping; collect.c: /api/collect; dashboard.c: /api/projects/:id/analytics)
 * and the one function the rest of the API records its events with.
 *
 * Backend calls block, so they run as jobs on the worker pool and answer
 * back on the request's loop (api_tsdb_submit); a parsed query the
 * backend can answer at once (query_quick) is answered on the loop.
 */
#ifndef SB_API_ANALYTICS_H
#define SB_API_ANALYTICS_H

#include "analytics/backend.h"
#include "analytics/recorder.h"
#include "api/domain.h"
#include "tsdb/influxql.h"

/* The version /ping and every InfluxDB-compatible answer report. */
#define API_INFLUX_VERSION "1.6.7-sitebase"

typedef enum api_tsdb_op {
    API_TSDB_WRITE,
    API_TSDB_QUERY,
    API_TSDB_CREATE_DB,
} api_tsdb_op;

/* A backend call for a request. Everything it reads is owned by the job
 * (the request may go away while it runs). */
typedef struct api_tsdb_job {
    api_app *app;
    net_req_ref *ref;
    api_tsdb_op op;
    char db[64];
    sb_buf body; /* WRITE: lines; QUERY: the InfluxQL */
    char precision[8];
    char epoch[8]; /* "" = none */
    sb_buf params; /* QUERY: params JSON; ptr NULL = none */
    bool has_params;
    analytics_span *db_spans; /* QUERY: where the text names databases (heap) */
    size_t ndb_spans;
    /* QUERY: body parsed (api_tsdb_job_parse), views into body and arena */
    bool has_parsed;
    iql_query parsed;
    sb_arena arena;
    analytics_result res;
    /* On the loop, when the request is still there: answers it. */
    void (*answer)(net_req *req, struct api_tsdb_job *j);
    void *ctx; /* the answer's own state; freed by free_ctx */
    void (*free_ctx)(void *ctx);
} api_tsdb_job;

api_tsdb_job *api_tsdb_job_new(api_app *app, api_tsdb_op op, sb_str db);
/* Frees a job that was not submitted. */
void api_tsdb_job_free(api_tsdb_job *j);
/* Parses the InfluxQL in j->body once, for the route's checks and the
 * backend alike (j->parsed); false with err on a syntax error. */
bool api_tsdb_job_parse(api_tsdb_job *j, iql_error *err);
/* Answers j now when the backend can (a parsed query that query_quick
 * takes: j->answer runs, j is freed); else defers req and runs j on the
 * pool. When the pool is full, answers 503 (InfluxDB shape when
 * influx_shape, else problem+json) and frees j. */
void api_tsdb_submit(net_req *req, api_tsdb_job *j, bool influx_shape);

/* Answers {"error": msg} with status, as InfluxDB does (and the version
 * header). */
void api_influx_error(net_req *req, int status, const char *fmt, ...) SB_PRINTF(3, 4);

/* Answers a backend result that is not a success on an /api route:
 * problem+json, 503 unavailable when the store is down. */
void api_tsdb_problem(net_req *req, const analytics_result *r);

/* Records one of Sitebase's own events (never blocks; see recorder.h).
 * project_id empty: the system database. */
void api_record(api_app *app, const char *project_id, const tsdb_point *p);

/* The events the routes record (events.c): a sign-up or sign-in (the
 * route it came through is the "via" tag), and an AI content record with
 * what its result says of the model, tokens, response time and
 * satisfaction. */
void api_record_signin(net_req *req, api_app *app, bool signup, const identity_user *u);
void api_record_ai(api_app *app, sb_str project_id, sb_str type, size_t prompt_bytes,
                   const json_t *result);

/* Route registration. */
void api_influx_register(net_router *r, api_app *app);
void api_collect_register(net_router *r, api_app *app);
void api_dashboard_register(net_router *r, api_app *app);

/* /metrics lines of the recorder (ops.c). */
void api_analytics_metrics(api_app *app, sb_buf *out);

/* The server hook that records 5xx answers as events. */
void api_analytics_answered(net_req *req, void *app, int status);

#endif
