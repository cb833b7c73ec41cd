/*
 * security_events.c: GET /api/auth/security-events: the caller's own
 * security log (sign-ins with their risk, failures, locks, step-ups, MFA,
 * revocations), newest first, paged by cursor.
 */
#include <string.h>

#include "api/auth.h"
#include "api/body.h"
#include "base/str.h"

#define LIMIT_DEFAULT 50
#define LIMIT_MAX     200

typedef struct page {
    sb_jw *w;
    char last_id[SB_UUID_STR_LEN];
} page;

static void write_event(void *ctx, const identity_event *e)
{
    page *pg = ctx;
    sb_jw *w = pg->w;
    sb_jw_obj_begin(w);
    sb_jw_kv_str(w, "id", e->id);
    sb_jw_kv_str(w, "type", e->type);
    sb_jw_kv_int(w, "risk_score", e->risk_score);
    sb_jw_kv_str(w, "ip", e->ip);
    sb_jw_kv_str(w, "user_agent", e->user_agent);
    sb_jw_key(w, "metadata");
    /* Written by us as JSON objects; checked anyway, never passed raw
     * if it is not one. */
    size_t n = strlen(e->metadata);
    if (n >= 2 && e->metadata[0] == '{' && e->metadata[n - 1] == '}')
        sb_jw_raw(w, e->metadata, n);
    else
        sb_jw_raw(w, "{}", 2);
    api_jw_time(w, "created_at", e->created_at);
    sb_jw_obj_end(w);
    snprintf(pg->last_id, sizeof(pg->last_id), "%s", e->id);
}

static void auth_security_events(net_req *req, void *ctx)
{
    api_app *app = ctx;
    identity_principal p;
    if (!api_auth(req, app, true, &p))
        return;
    int64_t limit = LIMIT_DEFAULT;
    sb_str v, cursor = SB_STR_NULL;
    if (net_req_query(req, "limit", &v) && !sb_str_to_i64(v, 1, LIMIT_MAX, &limit)) {
        api_respond_invalid_field(req, "limit", "must be a whole number from 1 to 200");
        return;
    }
    if (net_req_query(req, "cursor", &cursor) &&
        (cursor.len == 0 || cursor.len >= SB_UUID_STR_LEN)) {
        api_respond_invalid_field(req, "cursor", "is not a cursor this list gave");
        return;
    }
    sb_buf body = SB_BUF_INIT;
    sb_jw w;
    sb_jw_init(&w, &body);
    page pg = {&w, ""};
    bool more = false;
    sb_jw_obj_begin(&w);
    sb_jw_key(&w, "items");
    sb_jw_arr_begin(&w);
    identity_err e = identity_events_list(app->identity, api_loop_of(req)->db, p.user_id, cursor,
                                          (int)limit, write_event, &pg, &more);
    sb_jw_arr_end(&w);
    sb_jw_kv_str(&w, "next_cursor", more ? pg.last_id : NULL);
    sb_jw_obj_end(&w);
    if (e == IDENTITY_OK)
        net_respond_json(req, 200, &body);
    else
        api_respond_identity(req, e, NULL);
    sb_buf_free(&body);
}

void api_security_events_register(net_router *r, api_app *app)
{
    net_router_add(r, NET_GET, "/api/auth/security-events", auth_security_events, app, 0);
}
