/*
 * app.h: the application the server runs: the shared, read-only parts
 * (configuration, worker pool) and each loop thread's own (its store
 * connection). Route handlers reach both through api_loop_of(req).
 */
#ifndef SB_API_APP_H
#define SB_API_APP_H

#include "analytics/backend.h"
#include "analytics/recorder.h"
#include "api/body.h"
#include "bus/bus.h"
#include "base/config.h"
#include "base/ratelimit.h"
#include "identity/identity.h"
#include "net/req.h"
#include "net/router.h"
#include "net/server.h"
#include "net/workers.h"
#include "blob/blob.h"
#include "collab/collab.h"
#include "projects/projects.h"
#include "store/store.h"

typedef struct api_app {
    const sb_config *cfg;
    net_workers *workers;
    identity *identity;
    sb_ratelimit *ip_limit;      /* auth requests per IP; NULL = off */
    sb_ratelimit *account_limit; /* sign-in attempts per email; NULL = off */
    char public_url[256];        /* base of links in mail, no trailing '/' */
    blob_store *blobs;           /* asset bytes */
    bus *bus;                    /* the message bus between nodes (cfg->bus); any thread */
    projects_limits limits;
    analytics_backend *tsdb;      /* analytics series (--tsdb) */
    analytics_recorder *recorder; /* Sitebase's own events, batched */
    sb_ratelimit *collect_limit;  /* /api/collect per site and IP; NULL = off */
    collab_hub *collab;           /* collaboration rooms (collab.c) */
    struct api_events *events;    /* the projects' event streams (project_events.c) */
} api_app;

typedef struct api_events api_events;
api_events *api_events_new(void);
void api_events_free(api_events *e);
/* From any loop thread: sends `event: event` with data (JSON) to every
 * event stream open on project_id. */
void api_events_publish(api_app *app, const char *project_id, const char *event, const char *data,
                        size_t len);
/* Locks taken on this node, watched so their expiry is pushed (any loop
 * thread); a renewal is another watch, a release an unwatch. */
void api_events_lock_watch(api_app *app, const char *project_id, sb_str element,
                           const char *user_id, const char *type, int64_t expires_us);
void api_events_lock_unwatch(api_app *app, const char *project_id, sb_str element);
/* GET /api/projects/:id/events/stream (project_events.c). */
void api_events_register(net_router *r, api_app *app);
/* Element locks' routes (locks.c), and their release when a user's last
 * collaboration connection to a project closed (a collab_binding hook). */
void api_locks_register(net_router *r, api_app *app);
void api_locks_user_left(void *ctx, net_loop *loop, const char *project_id, const char *user_id);

/* Makes the rate limiters the configuration asks for (limits.c). */
void api_app_limits(api_app *app);

/* Takes a token from the caller's IP bucket and, when account is not
 * empty, from that account's; sets the RateLimit-* fields of the tighter
 * one. On refusal answers 429 with Retry-After and returns false. */
bool api_rate_limit(net_req *req, api_app *app, sb_str account);

/* api_body (body.h), then api_rate_limit on the account *account names
 * (NULL: the IP alone). account is read after the body is decoded, so it
 * may point into out. On false it has answered and *doc is not set; on
 * true the caller json_decref's *doc. */
bool api_body_limited(net_req *req, api_app *app, const api_field *fields, size_t nfields,
                      void *out, json_t **doc, const sb_str *account);

/* Mails text to each of to[0..n) through the configured relay (notify.c).
 * Blocks: call it on the worker pool. what names the mail for the log
 * ("a magic link": "a magic link was not mailed"); failures are logged,
 * never returned, so no answer depends on them. */
void api_mail_send(api_app *app, const char *what, const char *const *to, size_t n,
                   const char *subject, const char *text);

/* Per loop thread; owned by that thread. */
typedef struct api_loop {
    api_app *app;
    store *db;
} api_loop;

/* Hooks that open and close each loop's store connection. */
net_server_hooks api_server_hooks(api_app *app);

/* Hooks that give each worker-pool thread a store connection of its own,
 * and, in a job, that connection (NULL if it could not be opened). */
net_worker_hooks api_worker_hooks(api_app *app);
store *api_worker_store(void);

static inline api_loop *api_loop_of(net_req *req)
{
    return net_loop_app(req->loop);
}

/* Registers every route of the API on r (ops, and the domain routes as
 * they arrive). */
void api_routes_register(net_router *r, api_app *app);

/* Registers the ops routes: /healthz, /readyz, /metrics. */
void api_ops_register(net_router *r, api_app *app);

/* Registers GET /api/openapi.json (openapi.c). */
void api_openapi_register(net_router *r, api_app *app);

/* Registers /api/auth/... (auth.c). */
void api_auth_register(net_router *r, api_app *app);

/* Registers /collab/... and the collaboration REST routes (collab.c). */
void api_collab_register(net_router *r, api_app *app);
/* Binds the hub's documents to pages and files (collab_bind.c). */
void api_collab_bind(api_app *app);
/* Branch rooms (branch_rooms.c, docs/vcs.md "Branch rooms"). bind: after
 * api_collab_bind. access: who may open branch's documents (viewers read,
 * editors write; NOT_FOUND for others or an unknown branch). changes: the
 * branch's stored documents as a new change list for vcs_commit (editors
 * and up). follow: after a write that may have moved branch from head
 * from (40 hex), hands the changed paths' stored documents the new head's
 * content. */
void api_branch_rooms_bind(api_app *app);
projects_err api_branch_rooms_access(projects_ctx *c, sb_str project_id, sb_str branch,
                                     bool *can_write);
projects_err api_branch_rooms_changes(projects_ctx *c, sb_str project_id, sb_str branch,
                                      json_t **changes, projects_problem *p);
void api_branch_rooms_follow(net_req *req, api_app *app, projects_ctx *c, sb_str project_id,
                             sb_str branch, const char *from);
/* Hands a REST write of a page or file to its document's room (docs/collab.md):
 * content is the file's text, or the page's JSON; version the item's
 * version it is (the room keeps the newest of writes that cross). */
void api_collab_rest_write(net_req *req, api_app *app, const char *project_id, sb_str doc,
                           sb_str content, int64_t version);
/* The hub's limits from the configuration. */
collab_limits api_collab_limits(const sb_config *cfg);
/* Waits (bounded) until every accepted collaborative edit is in the log,
 * before a read of stored documents (collab_hub_settle). */
void api_collab_settle(api_app *app, net_req *req);

/* Test builds only (sitebase-test): /_test/... routes. */
void api_test_routes_register(net_router *r, api_app *app);

#endif
