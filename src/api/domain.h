/*
 * domain.h: what the routes of the domain services (teams, projects and
 * their content) share: who the caller is (signed in or anonymous), the
 * mapping of service errors to problem+json, and the HTTP semantics of
 * API.md's conventions: ETag / If-None-Match (304), If-Match (412), and
 * Idempotency-Key on POST (the first answer again for 24 h).
 */
#ifndef SB_API_DOMAIN_H
#define SB_API_DOMAIN_H

#include "api/auth.h"
#include "api/body.h"
#include "projects/projects.h"

/* Fills the service context for req. required: no credentials is 401;
 * otherwise an anonymous caller (user_id NULL). Bad credentials are 401
 * either way. On false the request was answered. */
bool api_caller(net_req *req, api_app *app, bool required, identity_principal *p, projects_ctx *c);

/* Answers a service error as problem+json (with the field for INVALID). */
void api_respond_projects(net_req *req, projects_err e, const projects_problem *p);

/* The version named by If-Match ("N", W/"N"; "*" is 0 = any). When the
 * header is present but names no version we could have given, answers 412
 * and returns false. */
bool api_if_match(net_req *req, projects_ver *out);

/* Sets ETag: "ver" on the answer. */
void api_etag(net_req *req, projects_ver ver);

/* Writes {"success":true}, the body of answers that have nothing else to
 * say (API.md). */
void api_success_body(sb_buf *body);

/* Answers 200 with body and ETag "ver", or 304 when If-None-Match names
 * it. content_type NULL is JSON. */
void api_respond_versioned(net_req *req, projects_ver ver, const char *content_type,
                           const sb_buf *body);

/* Parses ?limit= and ?cursor= (API.md: 1..200, default 50). false when it
 * answered 400. */
bool api_page_query(net_req *req, projects_page *pg);

/* Idempotency-Key on POST (idempotency.c). begin: without the header,
 * does nothing. With it: a finished first request's answer is replayed
 * (with Idempotent-Replayed: true); one still running is 409; the same
 * key with another method, path or body is 422. false when it answered.
 * respond: answers and records the answer for replays. abort: forgets the
 * key (failed requests are not remembered, so a retry runs again). */
typedef struct api_idem {
    bool active;
    char user_id[SB_UUID_STR_LEN];
    char key[256];
} api_idem;

bool api_idem_begin(net_req *req, const char *user_id, api_idem *idem);
void api_idem_respond(net_req *req, api_idem *idem, int status, const sb_buf *body,
                      const char *location);
void api_idem_abort(net_req *req, api_idem *idem);
/* Forgets answers older than the 24 hours they are kept (the housekeeper
 * calls it; api_idem_begin also drops an expired one it meets). */
bool api_idem_expire(store *db, int64_t now_us, sb_errbuf *err);

/* How a POST that honours Idempotency-Key starts: api_body, then
 * api_idem_begin for user_id. On false it has answered (400, a replay,
 * 409, 422) and released the document; on true *doc is the caller's. */
bool api_post_begin(net_req *req, const api_field *fields, size_t nfields, void *out, json_t **doc,
                    const char *user_id, api_idem *idem);

/* How it ends: on OK answers status with body and records the answer for
 * replays (with Location when location is not NULL); otherwise forgets the
 * key (a retry runs again) and answers the error. Does not free body. */
void api_idem_finish(net_req *req, api_idem *idem, projects_err e, const projects_problem *p,
                     int status, const sb_buf *body, const char *location);

/* How every domain handler starts: the caller (c, pr), a JSON body
 * writer (w into body) and a problem for field errors. */
#define API_DOMAIN_BEGIN(required)                                                                 \
    api_app *app = ctx;                                                                            \
    identity_principal pr;                                                                         \
    projects_ctx c;                                                                                \
    if (!api_caller(req, app, (required), &pr, &c))                                                \
        return;                                                                                    \
    sb_buf body = SB_BUF_INIT;                                                                     \
    sb_jw w;                                                                                       \
    sb_jw_init(&w, &body);                                                                         \
    projects_problem prob = {0}

/* After API_DOMAIN_BEGIN: decodes the body into out (api_body, *doc the
 * caller's to json_decref). When it does not fit, api_body has answered:
 * frees body and returns from the handler. */
#define API_DOMAIN_BODY(fields, nfields, out, doc)                                                 \
    do {                                                                                           \
        if (!api_body(req, (fields), (nfields), (out), (doc))) {                                   \
            sb_buf_free(&body);                                                                    \
            return;                                                                                \
        }                                                                                          \
    } while (0)

/* Answers status with body on OK, else the error; frees body. */
void api_finish(net_req *req, projects_err e, const projects_problem *p, int status, sb_buf *body);

/* A PUT or PATCH of a versioned resource. begin honours If-Match (412 for
 * a tag we never gave; *if_ver 0 when absent) and parses the body into
 * fields; false when it answered (*doc is then not the caller's). finish
 * sends the new version as ETag with 200 and body on OK, or the error;
 * it frees body. */
bool api_write_begin(net_req *req, const api_field *fields, size_t nfields, void *out, json_t **doc,
                     projects_ver *if_ver);
void api_write_finish(net_req *req, projects_err e, const projects_problem *p, projects_ver ver,
                      sb_buf *body);

/* The same for a GET of one resource: on OK api_respond_versioned (ETag
 * ver, 304 for a matching If-None-Match); frees body. */
void api_finish_versioned(net_req *req, projects_err e, const projects_problem *p, projects_ver ver,
                          sb_buf *body);

/* A DELETE of one resource below another: the parent's id is the route's
 * :id, the resource's is param; honours If-Match and answers
 * {"success":true}. For handlers that have nothing else to do. */
typedef projects_err (*api_delete_fn)(projects_ctx *c, sb_str parent_id, sb_str id,
                                      projects_ver if_ver);
void api_delete_child(net_req *req, void *ctx, const char *param, api_delete_fn fn);

/* Route registration (teams.c, projects.c, content.c, assets.c,
 * comments.c, library.c, ai_content.c, history.c). */
void api_teams_register(net_router *r, api_app *app);
void api_projects_register(net_router *r, api_app *app);
void api_content_register(net_router *r, api_app *app);
void api_assets_register(net_router *r, api_app *app);
void api_comments_register(net_router *r, api_app *app);
void api_library_register(net_router *r, api_app *app);
void api_ai_content_register(net_router *r, api_app *app);
void api_vcs_register(net_router *r, api_app *app); /* vcs.c */
void api_history_register(net_router *r, api_app *app);

#endif
