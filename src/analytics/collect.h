/*
 * collect.h: the body of POST /api/collect, the beacon a published site
 * sends from its visitors' browsers, decoded and checked into line
 * protocol for the site's project database.
 *
 *   {"site": "<project id>",
 *    "events": [
 *      {"type": "pageview", "path": "/pricing", "referrer": "https://x.example/a"},
 *      {"type": "vital", "path": "/", "name": "LCP", "value": 1234.5},
 *      {"type": "event", "path": "/", "name": "signup_click", "props": {"plan": "pro", "n": 2}}
 *    ]}
 *
 * Series written (time: the server's clock, as client clocks are not to
 * be trusted):
 *   page_views,path=P[,referrer=HOST] count=1i
 *   web_vitals,metric=LCP|CLS|INP|TTFB|FCP,path=P value=<float>
 *   events,name=N,path=P count=1i[,<prop>=<value>...]
 *
 * Everything from the body is untrusted: sizes, types, UTF-8 and the
 * characters of names are checked before anything is written (limits
 * below); unknown members are refused, as everywhere in the API.
 */
#ifndef SB_ANALYTICS_COLLECT_H
#define SB_ANALYTICS_COLLECT_H

#include "base/common.h"
#include "base/str.h"

#define ANALYTICS_COLLECT_MAX_BODY   16384 /* bytes of a body */
#define ANALYTICS_COLLECT_MAX_EVENTS 50    /* events in one body */
#define ANALYTICS_COLLECT_MAX_PATH   512   /* bytes of a path */
#define ANALYTICS_COLLECT_MAX_NAME   64    /* bytes of an event name */
#define ANALYTICS_COLLECT_MAX_PROPS  16    /* props of one event */
#define ANALYTICS_COLLECT_MAX_VALUE  256   /* bytes of a string prop */

typedef struct analytics_collect_error {
    char field[96];    /* "events[2].value" */
    char message[128]; /* "must be a number between 0 and 600000" */
} analytics_collect_error;

/* Decodes body; on success appends the lines (timestamp now_ns each) to
 * lines, sets site to the body's site (a view into *lines' neighbour:
 * copied into site, 37 bytes) and *npoints, and returns true. On failure
 * returns false with err filled and lines unchanged. */
bool analytics_collect_decode(sb_str body, int64_t now_ns, sb_buf *lines, char site[37],
                              size_t *npoints, analytics_collect_error *err);

#endif
