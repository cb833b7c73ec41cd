/*
 * locks.c: element locks (docs/collab.md, "Locks"):
 *   GET    /api/projects/:id/locks              the live locks (readers)
 *   POST   /api/projects/:id/locks              take or renew one (editors and up)
 *   DELETE /api/projects/:id/locks?element=...  release one (its holder, managers)
 * Every change is pushed to the project's event streams (project_events.c)
 * as `event: lock`. A user's locks are released when their last
 * collaboration connection to the project closes (api_locks_user_left, on
 * the worker pool). Expiries are pushed by the event streams' sweep
 * (project_events.c) for locks taken on this node.
 */
#include "api/domain.h"
#include "base/clock.h"
#include "base/log.h"

typedef struct lock_body {
    sb_str element, type, expires_at;
} lock_body;

static const api_field lock_fields[] = {
    {"element", API_STRING, true, 1, 200, offsetof(lock_body, element)},
    {"type", API_STRING, false, 1, 8, offsetof(lock_body, type)},
    {"expires_at", API_STRING, false, 1, 64, offsetof(lock_body, expires_at)},
};

/* Watches the lock the service wrote (JSON) for its expiry push. */
static void watch_lock(api_app *app, const char *project_id, sb_str lock_json)
{
    json_t *o = json_loadb(lock_json.ptr, lock_json.len, 0, NULL);
    const char *el = json_string_value(json_object_get(o, "element"));
    const char *user = json_string_value(json_object_get(o, "user_id"));
    const char *type = json_string_value(json_object_get(o, "type"));
    const char *exp = json_string_value(json_object_get(o, "expires_at"));
    int64_t us;
    if (el && user && type && exp && sb_rfc3339_parse(exp, strlen(exp), &us))
        api_events_lock_watch(app, project_id, sb_str_c(el), user, type, us);
    json_decref(o);
}

/* {"action": action, <key>: value} to the project's streams. */
static void push(api_app *app, const char *project_id, const char *action, const char *key,
                 sb_str value)
{
    sb_buf b = SB_BUF_INIT;
    sb_buf_appendf(&b, "{\"action\":\"%s\",\"%s\":", action, key);
    sb_buf_append(&b, value.ptr, value.len);
    sb_buf_append(&b, "}", 1);
    api_events_publish(app, project_id, "lock", b.ptr, b.len);
    sb_buf_free(&b);
}

static bool project_of(net_req *req, char out[64])
{
    sb_str id = net_req_param(req, "id");
    if (id.len >= 64)
        return false;
    snprintf(out, 64, "%.*s", (int)id.len, id.ptr);
    return true;
}

static void lock_list(net_req *req, void *ctx)
{
    API_DOMAIN_BEGIN(true);
    api_finish(req, projects_lock_list(&c, net_req_param(req, "id"), &w), &prob, 200, &body);
}

static void lock_take(net_req *req, void *ctx)
{
    API_DOMAIN_BEGIN(true);
    lock_body b = {0};
    json_t *doc;
    API_DOMAIN_BODY(lock_fields, SB_ARRAY_LEN(lock_fields), &b, &doc);
    projects_lock_input in = {.element = b.element, .type = b.type.ptr ? b.type : SB_STR("edit")};
    projects_err e = PROJECTS_OK;
    if (b.expires_at.ptr &&
        !sb_rfc3339_parse(b.expires_at.ptr, b.expires_at.len, &in.expires_at_us)) {
        prob.field = "expires_at";
        snprintf(prob.message, sizeof(prob.message), "must be an RFC 3339 time");
        e = PROJECTS_INVALID;
    }
    if (e == PROJECTS_OK)
        e = projects_lock_take(&c, net_req_param(req, "id"), &in, &w, &prob);
    json_decref(doc);
    char project[64];
    if (e == PROJECTS_OK && project_of(req, project)) {
        push(app, project, "taken", "lock", sb_buf_str(&body));
        watch_lock(app, project, sb_buf_str(&body));
    }
    api_finish(req, e, &prob, 200, &body);
}

static void lock_release(net_req *req, void *ctx)
{
    API_DOMAIN_BEGIN(true);
    sb_str element = SB_STR_NULL;
    if (!net_req_query(req, "element", &element) || element.len == 0 || element.len > 800) {
        net_respond_problem(req, 400, "invalid_query", "Bad Request",
                            "element must name the locked element");
        sb_buf_free(&body);
        return;
    }
    projects_err e = projects_lock_release(&c, net_req_param(req, "id"), element);
    char project[64];
    if (e == PROJECTS_OK && project_of(req, project)) {
        api_events_lock_unwatch(app, project, element);
        json_t *el = json_stringn(element.ptr, element.len);
        char *js = el ? json_dumps(el, JSON_ENCODE_ANY) : NULL;
        sb_buf v = SB_BUF_INIT;
        sb_buf_appendf(&v, "{\"element\":%s,\"user_id\":\"%s\"}", js ? js : "null", pr.user_id);
        push(app, project, "released", "lock", sb_buf_str(&v));
        sb_buf_free(&v);
        free(js);
        json_decref(el);
    }
    if (e == PROJECTS_OK)
        net_respond(req, 204, NULL, NULL, 0);
    else
        api_respond_projects(req, e, &prob);
    sb_buf_free(&body);
}

/* ---- released on disconnect ---- */

typedef struct left_job {
    api_app *app;
    char project_id[64];
    char user_id[64];
    sb_buf released; /* JSON array of the locks released */
    bool ok;
} left_job;

static void left_work(void *arg)
{
    left_job *j = arg;
    store *db = api_worker_store();
    if (!db)
        return;
    projects_ctx c = {.db = db, .now_us = sb_wall_us(), .limits = &j->app->limits, .system = true};
    sb_jw w;
    sb_jw_init(&w, &j->released);
    j->ok = projects_locks_drop_user(&c, j->project_id, j->user_id, &w) == PROJECTS_OK;
}

static void left_done(void *arg)
{
    left_job *j = arg;
    json_t *arr = j->ok ? json_loadb(j->released.ptr, j->released.len, 0, NULL) : NULL;
    size_t i;
    json_t *lock;
    json_array_foreach(arr, i, lock)
    {
        const char *el = json_string_value(json_object_get(lock, "element"));
        if (el)
            api_events_lock_unwatch(j->app, j->project_id, sb_str_c(el));
        char *js = json_dumps(lock, JSON_COMPACT);
        push(j->app, j->project_id, "released", "lock", sb_str_c(js));
        free(js);
    }
    json_decref(arr);
    sb_buf_free(&j->released);
    free(j);
}

void api_locks_user_left(void *ctx, net_loop *loop, const char *project_id, const char *user_id)
{
    api_app *app = ctx;
    left_job *j = sb_calloc(1, sizeof(*j));
    j->app = app;
    snprintf(j->project_id, sizeof(j->project_id), "%s", project_id);
    snprintf(j->user_id, sizeof(j->user_id), "%s", user_id);
    j->released = (sb_buf)SB_BUF_INIT;
    if (!net_workers_submit(app->workers, loop, left_work, left_done, j)) {
        /* The pool is full: the locks expire on their own. */
        sb_log(SB_LOG_WARN, "locks: not released on disconnect (pool full)",
               SB_LOG_STR("user", user_id));
        free(j);
    }
}

void api_locks_register(net_router *r, api_app *app)
{
    net_router_add(r, NET_GET, "/api/projects/:id/locks", lock_list, app, 0);
    net_router_add(r, NET_POST, "/api/projects/:id/locks", lock_take, app, 0);
    net_router_add(r, NET_DELETE, "/api/projects/:id/locks", lock_release, app, 0);
}
