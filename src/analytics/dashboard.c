/*
 * dashboard.c: the dashboard's metrics (see dashboard.h). The table is
 * the whitelist: a metric names its measurement, its aggregate, an
 * optional tag filter and the tags it may be grouped by, all constants.
 */
#include "analytics/dashboard.h"

#include <stdio.h>
#include <string.h>

#include "base/clock.h"
#include "tsdb/influxql.h"

typedef struct metric {
    const char *name;
    const char *select;    /* the aggregate expression */
    const char *from;      /* measurement */
    const char *where;     /* extra condition or NULL */
    const char *groups[4]; /* tags it may be grouped by, NULL-terminated */
} metric;

static const metric metrics[] = {
    {"page_views", "sum(\"count\")", "page_views", NULL, {"path", "referrer", NULL}},
    {"events", "sum(\"count\")", "events", NULL, {"name", "path", NULL}},
    {"lcp", "mean(\"value\")", "web_vitals", "\"metric\" = 'LCP'", {"path", NULL}},
    {"cls", "mean(\"value\")", "web_vitals", "\"metric\" = 'CLS'", {"path", NULL}},
    {"inp", "mean(\"value\")", "web_vitals", "\"metric\" = 'INP'", {"path", NULL}},
    {"ttfb", "mean(\"value\")", "web_vitals", "\"metric\" = 'TTFB'", {"path", NULL}},
    {"fcp", "mean(\"value\")", "web_vitals", "\"metric\" = 'FCP'", {"path", NULL}},
    {"ai_requests", "count(\"response_ms\")", "ai_interactions", NULL, {"model", "type", NULL}},
    {"ai_tokens", "sum(\"tokens\")", "ai_interactions", NULL, {"model", "type", NULL}},
    {"ai_response_ms", "mean(\"response_ms\")", "ai_interactions", NULL, {"model", "type", NULL}},
    {"ai_satisfaction", "mean(\"satisfaction\")", "ai_interactions", NULL, {"model", "type", NULL}},
};

const char *analytics_dash_metrics(void)
{
    return "page_views, events, lcp, cls, inp, ttfb, fcp, ai_requests, ai_tokens, "
           "ai_response_ms, ai_satisfaction";
}

#define NS_S        1000000000LL
#define MAX_BUCKETS 10000

static bool bad(analytics_dash_error *err, const char *field, const char *msg)
{
    err->field = field;
    snprintf(err->message, sizeof(err->message), "%s", msg);
    return false;
}

/* "15m" -> ns; units s m h d; 1 s .. 31 d. */
static bool parse_interval(sb_str s, int64_t *ns)
{
    if (s.len < 2 || s.len > 6)
        return false;
    int64_t n;
    if (!sb_str_to_i64(sb_str_slice(s, 0, s.len - 1), 1, 100000, &n))
        return false;
    int64_t unit;
    switch (s.ptr[s.len - 1]) {
    case 's':
        unit = NS_S;
        break;
    case 'm':
        unit = 60 * NS_S;
        break;
    case 'h':
        unit = 3600 * NS_S;
        break;
    case 'd':
        unit = 86400 * NS_S;
        break;
    default:
        return false;
    }
    *ns = n * unit;
    return *ns <= 31 * 86400 * NS_S;
}

static void format_interval(int64_t ns, char *out, size_t cap)
{
    static const struct {
        int64_t unit;
        char c;
    } units[] = {{86400 * NS_S, 'd'}, {3600 * NS_S, 'h'}, {60 * NS_S, 'm'}, {NS_S, 's'}};
    for (size_t i = 0; i < SB_ARRAY_LEN(units); i++)
        if (ns % units[i].unit == 0) {
            snprintf(out, cap, "%lld%c", (long long)(ns / units[i].unit), units[i].c);
            return;
        }
    snprintf(out, cap, "%llds", (long long)(ns / NS_S));
}

/* A round interval giving at most about 60 buckets over span. */
static int64_t auto_interval(int64_t span)
{
    static const int64_t steps[] = {
        NS_S,        10 * NS_S,       60 * NS_S,    5 * 60 * NS_S,   15 * 60 * NS_S,
        3600 * NS_S, 6 * 3600 * NS_S, 86400 * NS_S, 7 * 86400 * NS_S};
    for (size_t i = 0; i < SB_ARRAY_LEN(steps); i++)
        if (span / steps[i] <= 60)
            return steps[i];
    return 31 * 86400 * NS_S;
}

bool analytics_dash_parse(const analytics_dash_params *p, int64_t now_ns, analytics_dash_query *q,
                          analytics_dash_error *err)
{
    memset(q, 0, sizeof(*q));
    const metric *m = NULL;
    for (size_t i = 0; p->metric.ptr && i < SB_ARRAY_LEN(metrics); i++)
        if (sb_str_eq(p->metric, sb_str_c(metrics[i].name)))
            m = &metrics[i];
    if (!m) {
        err->field = "metric";
        snprintf(err->message, sizeof(err->message), "must be one of %s", analytics_dash_metrics());
        return false;
    }
    q->metric = m;
    if (p->group_by.ptr && p->group_by.len) {
        for (size_t i = 0; m->groups[i]; i++)
            if (sb_str_eq(p->group_by, sb_str_c(m->groups[i])))
                q->group_by = m->groups[i];
        if (!q->group_by) {
            err->field = "group_by";
            snprintf(err->message, sizeof(err->message), "%s may be grouped by %s%s%s", m->name,
                     m->groups[0], m->groups[1] ? " or " : "", m->groups[1] ? m->groups[1] : "");
            return false;
        }
    }
    q->to_ns = now_ns;
    if (p->to.ptr && !iql_parse_time(p->to, &q->to_ns))
        return bad(err, "to", "must be an RFC 3339 time");
    q->from_ns = q->to_ns - 86400 * NS_S;
    if (p->from.ptr && !iql_parse_time(p->from, &q->from_ns))
        return bad(err, "from", "must be an RFC 3339 time");
    if (q->from_ns >= q->to_ns)
        return bad(err, "from", "must be before to");
    int64_t span = q->to_ns - q->from_ns;
    if (p->interval.ptr) {
        if (!parse_interval(p->interval, &q->interval_ns))
            return bad(err, "interval", "must be a number and a unit s, m, h or d (1s .. 31d)");
    } else {
        q->interval_ns = auto_interval(span);
    }
    if (span / q->interval_ns > MAX_BUCKETS)
        return bad(err, "interval", "gives more than 10000 buckets over from..to");
    format_interval(q->interval_ns, q->interval, sizeof(q->interval));
    return true;
}

void analytics_dash_influxql(const analytics_dash_query *q, sb_buf *out)
{
    const metric *m = q->metric;
    sb_buf_appendf(out, "SELECT %s AS \"value\" FROM \"%s\" WHERE time >= %lld AND time < %lld",
                   m->select, m->from, (long long)q->from_ns, (long long)q->to_ns);
    if (m->where)
        sb_buf_appendf(out, " AND %s", m->where);
    sb_buf_appendf(out, " GROUP BY time(%s)", q->interval);
    if (q->group_by)
        sb_buf_appendf(out, ", \"%s\"", q->group_by);
    sb_buf_puts(out, " fill(none)");
}

bool analytics_dash_answer(const analytics_dash_query *q, sb_str influx_json, sb_jw *w,
                           analytics_dash_error *err)
{
    const metric *m = q->metric;
    json_error_t jerr;
    json_t *doc = json_loadb(influx_json.ptr ? influx_json.ptr : "", influx_json.len, 0, &jerr);
    const json_t *res = json_array_get(json_object_get(doc, "results"), 0);
    if (!json_is_object(res)) {
        json_decref(doc);
        return bad(err, NULL, "the time-series store gave an answer we cannot read");
    }
    const json_t *e = json_object_get(res, "error");
    if (json_is_string(e)) {
        bad(err, NULL, json_string_value(e));
        json_decref(doc);
        return false;
    }
    char t[SB_RFC3339_LEN];
    sb_jw_obj_begin(w);
    sb_jw_kv_str(w, "metric", m->name);
    sb_jw_kv_str(w, "from", sb_rfc3339(q->from_ns / 1000, t));
    sb_jw_kv_str(w, "to", sb_rfc3339(q->to_ns / 1000, t));
    sb_jw_kv_str(w, "interval", q->interval);
    sb_jw_kv_str(w, "group_by", q->group_by);
    sb_jw_key(w, "series");
    sb_jw_arr_begin(w);
    size_t i;
    const json_t *s;
    json_array_foreach(json_object_get(res, "series"), i, s)
    {
        sb_jw_obj_begin(w);
        sb_jw_key(w, "group");
        sb_jw_obj_begin(w);
        if (q->group_by) {
            const json_t *tv = json_object_get(json_object_get(s, "tags"), q->group_by);
            sb_jw_kv_str(w, q->group_by, json_is_string(tv) ? json_string_value(tv) : "");
        }
        sb_jw_obj_end(w);
        sb_jw_key(w, "points");
        sb_jw_arr_begin(w);
        size_t j;
        const json_t *row;
        json_array_foreach(json_object_get(s, "values"), j, row)
        {
            const json_t *tm = json_array_get(row, 0), *v = json_array_get(row, 1);
            if (!json_is_integer(tm))
                continue;
            sb_jw_obj_begin(w);
            sb_jw_kv_str(w, "time", sb_rfc3339(json_integer_value(tm) / 1000, t));
            sb_jw_key(w, "value");
            if (json_is_number(v))
                sb_jw_double(w, json_number_value(v));
            else
                sb_jw_null(w);
            sb_jw_obj_end(w);
        }
        sb_jw_arr_end(w);
        sb_jw_obj_end(w);
    }
    sb_jw_arr_end(w);
    sb_jw_obj_end(w);
    json_decref(doc);
    return true;
}
