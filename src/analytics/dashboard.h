/*
 * dashboard.h: GET /api/projects/:id/analytics, without the HTTP: the
 * dashboard's parameters checked against whitelists, turned into one
 * InfluxQL statement, and InfluxDB's answer turned into a small JSON of
 * our own:
 *
 *   {"metric": "page_views", "from": "...", "to": "...", "interval": "1h",
 *    "group_by": "path" | null,
 *    "series": [{"group": {"path": "/"}, "points": [{"time": "...", "value": 3}]}]}
 *
 * No text from the request is ever pasted into the query: the metric and
 * group_by name rows of a table (whose identifiers are ours), times are
 * written as integers of nanoseconds and the interval as a number and a
 * unit we print ourselves.
 */
#ifndef SB_ANALYTICS_DASHBOARD_H
#define SB_ANALYTICS_DASHBOARD_H

#include "base/common.h"
#include "base/json.h"
#include "base/str.h"

typedef struct analytics_dash_params {
    sb_str metric, from, to, interval, group_by; /* ptr NULL: not given */
} analytics_dash_params;

typedef struct analytics_dash_query {
    const void *metric;   /* the table row */
    const char *group_by; /* NULL: none */
    int64_t from_ns, to_ns, interval_ns;
    char interval[24]; /* as answered: "1h", "5m" */
} analytics_dash_query;

typedef struct analytics_dash_error {
    const char *field;
    char message[160];
} analytics_dash_error;

/* Checks p (now_ns: the default "to"; from defaults to 24 h before to; the
 * interval to about 60 buckets) and fills q, or returns false with err. */
bool analytics_dash_parse(const analytics_dash_params *p, int64_t now_ns, analytics_dash_query *q,
                          analytics_dash_error *err);

/* Appends the InfluxQL statement for q. */
void analytics_dash_influxql(const analytics_dash_query *q, sb_buf *out);

/* Writes our answer from InfluxDB's /query JSON (asked with epoch=ns).
 * false when that JSON is not what InfluxDB answers (or holds an error:
 * its text goes to err->message). */
bool analytics_dash_answer(const analytics_dash_query *q, sb_str influx_json, sb_jw *w,
                           analytics_dash_error *err);

/* The metric names, for docs and errors: "page_views, ..." */
const char *analytics_dash_metrics(void);

#endif
