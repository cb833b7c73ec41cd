/*
 * history.c: a project's event log and its states (docs/history.md):
 *   GET /api/projects/:id/events?after=&limit=
 *   GET /api/projects/:id/state?at=<sequence number | RFC 3339 time>
 */
#include <string.h>

#include "api/domain.h"
#include "base/clock.h"

static void events_list(net_req *req, void *ctx)
{
    API_DOMAIN_BEGIN(true);
    int64_t limit = 50, after = 0;
    sb_str v;
    if (!net_req_query_ok(req)) {
        sb_buf_free(&body);
        api_respond_invalid_field(req, "query", "is not a well-formed query string");
        return;
    }
    if (net_req_query(req, "limit", &v) && !sb_str_to_i64(v, 1, 200, &limit)) {
        sb_buf_free(&body);
        api_respond_invalid_field(req, "limit", "must be a whole number from 1 to 200");
        return;
    }
    /* after: a sequence number; cursor: the same, as next_cursor gave it. */
    if ((net_req_query(req, "after", &v) || net_req_query(req, "cursor", &v)) &&
        !sb_str_to_i64(v, 0, INT64_MAX, &after)) {
        sb_buf_free(&body);
        api_respond_invalid_field(req, "after", "must be a sequence number (0 or more)");
        return;
    }
    api_finish(req,
               projects_events_list(&c, net_req_param(req, "id"), after, (int)limit, &w, &prob),
               &prob, 200, &body);
}

static void state_get(net_req *req, void *ctx)
{
    API_DOMAIN_BEGIN(true);
    projects_state_at at = {PROJECTS_AT_HEAD, 0};
    sb_str v;
    if (!net_req_query_ok(req)) {
        sb_buf_free(&body);
        api_respond_invalid_field(req, "query", "is not a well-formed query string");
        return;
    }
    if (net_req_query(req, "at", &v)) {
        /* All digits: a sequence number; otherwise an RFC 3339 time. */
        if (sb_str_to_i64(v, 1, INT64_MAX, &at.v)) {
            at.kind = PROJECTS_AT_SEQ;
        } else if (sb_rfc3339_parse(v.ptr, v.len, &at.v)) {
            at.kind = PROJECTS_AT_TIME;
        } else {
            sb_buf_free(&body);
            api_respond_invalid_field(req, "at",
                                      "must be a sequence number (1 or more) or an RFC 3339 time");
            return;
        }
    }
    api_finish(req, projects_state_get(&c, net_req_param(req, "id"), &at, &w, &prob), &prob, 200,
               &body);
}

void api_history_register(net_router *r, api_app *app)
{
    net_router_add(r, NET_GET, "/api/projects/:id/events", events_list, app, 0);
    net_router_add(r, NET_GET, "/api/projects/:id/state", state_get, app, 0);
}
