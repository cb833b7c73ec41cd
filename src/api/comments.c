/*
 * comments.c: /api/projects/:id/comments routes: threads of comments on
 * page elements, replies, resolve and reopen, mentions (the service is
 * projects/comments.c and its siblings). The people a create or an edit
 * newly mentions are mailed from the worker pool, after the answer is
 * decided: the answer never depends on the mail.
 */
#include <stdlib.h>
#include <string.h>

#include "api/domain.h"
#include "base/log.h"

typedef struct comment_body {
    sb_str page_id, element_id, parent_id, body;
    json_t *position, *mentions;
} comment_body;

static const api_field create_fields[] = {
    {"page_id", API_STRING, false, 1, 64, offsetof(comment_body, page_id)},
    {"element_id", API_STRING, false, 1, PROJECTS_ELEMENT_ID_MAX,
     offsetof(comment_body, element_id)},
    {"parent_id", API_STRING, false, 1, 64, offsetof(comment_body, parent_id)},
    {"position", API_OBJECT, false, 0, 0, offsetof(comment_body, position)},
    {"body", API_STRING, true, 1, PROJECTS_COMMENT_MAX, offsetof(comment_body, body)},
    {"mentions", API_ARRAY, false, 0, 0, offsetof(comment_body, mentions)},
};
/* An edit changes the words (and so the mentions), never the anchor. */
static const api_field edit_fields[] = {
    {"body", API_STRING, true, 1, PROJECTS_COMMENT_MAX, offsetof(comment_body, body)},
    {"mentions", API_ARRAY, false, 0, 0, offsetof(comment_body, mentions)},
};

static projects_comment_input input_of(const comment_body *b)
{
    return (projects_comment_input){
        .page_id = b->page_id,
        .element_id = b->element_id,
        .parent_id = b->parent_id,
        .body = b->body,
        .position = b->position,
        .mentions = b->mentions,
    };
}

/* ---- mention mail ---- */

typedef struct mention_job {
    api_app *app;
    size_t n;
    char *to[PROJECTS_MENTIONS_MAX];
    char *text;
} mention_job;

static void mention_work(void *arg)
{
    mention_job *j = arg;
    api_mail_send(j->app, "a mention", (const char *const *)j->to, j->n,
                  "You were mentioned in a comment on Sitebase", j->text);
}

static void mention_done(void *arg)
{
    mention_job *j = arg;
    for (size_t i = 0; i < j->n; i++)
        free(j->to[i]);
    free(j->text);
    free(j);
}

/* The start of the comment, quoted: at most EXCERPT characters, every
 * line behind "> ". A CR alone or before LF ends a line as LF does, so the
 * mail never carries a bare CR (relays differ on those: SMTP smuggling),
 * and no line of it starts with the '.' that ends SMTP data. */
#define EXCERPT 500
static void quote(sb_str body, sb_buf *out)
{
    size_t chars = 0, i = 0;
    sb_buf_puts(out, "> ");
    for (; i < body.len; i++) {
        unsigned char b = (unsigned char)body.ptr[i];
        if ((b & 0xc0) != 0x80 && chars++ == EXCERPT)
            break;
        if (b == '\r' && i + 1 < body.len && body.ptr[i + 1] == '\n')
            continue;
        if (b == '\r' || b == '\n')
            sb_buf_puts(out, "\n> ");
        else
            sb_buf_putc(out, (char)b);
    }
    sb_buf_puts(out, i < body.len ? " [...]\n" : "\n");
}

static void mail_mentions(net_req *req, api_app *app, sb_str project_id,
                          const projects_mentioned *m, sb_str body)
{
    if (m->n == 0)
        return;
    mention_job *j = sb_calloc(1, sizeof(*j));
    j->app = app;
    for (; j->n < m->n; j->n++)
        j->to[j->n] = sb_strdup(m->email[j->n]);
    sb_buf text = SB_BUF_INIT;
    sb_buf_appendf(&text,
                   "Hello,\n\n"
                   "%s%s mentioned you in a comment on the page %s of \"%s\":\n\n",
                   m->author[0] ? "@" : "", m->author[0] ? m->author : "A collaborator",
                   m->page_path, m->project_name);
    quote(body, &text);
    sb_buf_appendf(&text,
                   "\nOpen the thread:\n\n%s/projects/%.*s/pages/%s?comment=%s\n\n"
                   "You get this mail because you can read that project.\n",
                   app->public_url, SB_STR_FMT(project_id), m->page_id, m->comment_id);
    j->text = sb_buf_detach(&text, NULL);
    if (!net_workers_submit(app->workers, req->loop, mention_work, mention_done, j)) {
        sb_log(SB_LOG_ERROR, "a mention was not mailed: the worker pool is full");
        mention_done(j);
    }
}

/* ---- pushes (docs/collab.md, "Pushes") ---- */

/* {"action": action, "comment": comment} to the project's event streams;
 * comment is the comment's JSON as the service wrote it (or {"id": ...}
 * for a deletion). */
static void push_comment(net_req *req, api_app *app, const char *action, sb_str comment)
{
    sb_str pid = net_req_param(req, "id");
    char project[64];
    if (pid.len >= sizeof(project) || comment.len == 0)
        return;
    snprintf(project, sizeof(project), "%.*s", SB_STR_FMT(pid));
    sb_buf b = SB_BUF_INIT;
    sb_buf_appendf(&b, "{\"action\":\"%s\",\"comment\":", action);
    sb_buf_append(&b, comment.ptr, comment.len);
    sb_buf_append(&b, "}", 1);
    api_events_publish(app, project, "comment", b.ptr, b.len);
    sb_buf_free(&b);
}

/* ---- routes ---- */

static void comment_list(net_req *req, void *ctx)
{
    API_DOMAIN_BEGIN(false);
    projects_comment_query q = {0};
    if (!api_page_query(req, &q.page)) {
        sb_buf_free(&body);
        return;
    }
    net_req_query(req, "page_id", &q.page_id);
    net_req_query(req, "element_id", &q.element_id);
    net_req_query(req, "resolved", &q.resolved);
    net_req_query(req, "sort", &q.sort);
    api_finish(req, projects_comment_list(&c, net_req_param(req, "id"), &q, &w, &prob), &prob, 200,
               &body);
}

static void comment_create(net_req *req, void *ctx)
{
    API_DOMAIN_BEGIN(true);
    comment_body b = {0};
    json_t *doc;
    api_idem idem;
    if (!api_post_begin(req, create_fields, SB_ARRAY_LEN(create_fields), &b, &doc, pr.user_id,
                        &idem))
        goto out;
    projects_comment_input in = input_of(&b);
    projects_mentioned m;
    char id[SB_UUID_STR_LEN];
    sb_str pid = net_req_param(req, "id");
    projects_err e = projects_comment_create(&c, pid, &in, &w, id, &m, &prob);
    char loc[128] = "";
    if (e == PROJECTS_OK) {
        mail_mentions(req, app, pid, &m, b.body);
        push_comment(req, app, "created", sb_buf_str(&body));
        snprintf(loc, sizeof(loc), "/api/projects/%.*s/comments/%s", SB_STR_FMT(pid), id);
    }
    api_idem_finish(req, &idem, e, &prob, 201, &body, loc);
    json_decref(doc);
out:
    sb_buf_free(&body);
}

static void comment_get(net_req *req, void *ctx)
{
    API_DOMAIN_BEGIN(false);
    projects_ver ver = 0;
    projects_err e = projects_comment_get(&c, net_req_param(req, "id"),
                                          net_req_param(req, "comment_id"), &w, &ver);
    if (e == PROJECTS_OK)
        api_respond_versioned(req, ver, NULL, &body);
    else
        api_respond_projects(req, e, &prob);
    sb_buf_free(&body);
}

static void comment_patch(net_req *req, void *ctx)
{
    API_DOMAIN_BEGIN(true);
    comment_body b = {0};
    json_t *doc;
    projects_ver if_ver, ver = 0;
    if (!api_write_begin(req, edit_fields, SB_ARRAY_LEN(edit_fields), &b, &doc, &if_ver)) {
        sb_buf_free(&body);
        return;
    }
    projects_comment_input in = input_of(&b);
    projects_mentioned m;
    sb_str pid = net_req_param(req, "id");
    projects_err e = projects_comment_edit(&c, pid, net_req_param(req, "comment_id"), &in, if_ver,
                                           &w, &ver, &m, &prob);
    if (e == PROJECTS_OK) {
        mail_mentions(req, app, pid, &m, b.body);
        push_comment(req, app, "updated", sb_buf_str(&body));
    }
    json_decref(doc);
    api_write_finish(req, e, &prob, ver, &body);
}

/* resolve and reopen take no body; one that is sent must be an empty
 * object (unknown fields are refused, as everywhere). */
static bool no_body(net_req *req)
{
    json_t *doc;
    if (req->body.len == 0)
        return true;
    if (!api_body(req, NULL, 0, NULL, &doc))
        return false;
    json_decref(doc);
    return true;
}

static void comment_state(net_req *req, void *ctx, bool resolved)
{
    API_DOMAIN_BEGIN(true);
    projects_ver if_ver, ver = 0;
    api_idem idem;
    if (!api_if_match(req, &if_ver) || !no_body(req) || !api_idem_begin(req, pr.user_id, &idem))
        goto out;
    projects_err e =
        projects_comment_resolve(&c, net_req_param(req, "id"), net_req_param(req, "comment_id"),
                                 resolved, if_ver, &w, &ver, &prob);
    if (e == PROJECTS_OK) {
        api_etag(req, ver);
        push_comment(req, app, resolved ? "resolved" : "reopened", sb_buf_str(&body));
    }
    api_idem_finish(req, &idem, e, &prob, 200, &body, NULL);
out:
    sb_buf_free(&body);
}

static void comment_resolve(net_req *req, void *ctx)
{
    comment_state(req, ctx, true);
}

static void comment_reopen(net_req *req, void *ctx)
{
    comment_state(req, ctx, false);
}

static void comment_delete(net_req *req, void *ctx)
{
    API_DOMAIN_BEGIN(true);
    projects_ver if_ver;
    if (!api_if_match(req, &if_ver)) {
        sb_buf_free(&body);
        return;
    }
    sb_str cid = net_req_param(req, "comment_id");
    projects_err e = projects_comment_delete(&c, net_req_param(req, "id"), cid, if_ver);
    if (e == PROJECTS_OK) {
        json_t *o = json_pack("{s:s%}", "id", cid.ptr ? cid.ptr : "", cid.len);
        char *js = o ? json_dumps(o, JSON_COMPACT) : NULL;
        if (js)
            push_comment(req, app, "deleted", sb_str_c(js));
        free(js);
        json_decref(o);
        api_success_body(&body);
    }
    api_finish(req, e, &prob, 200, &body);
}

void api_comments_register(net_router *r, api_app *app)
{
    net_router_add(r, NET_GET, "/api/projects/:id/comments", comment_list, app, 0);
    net_router_add(r, NET_POST, "/api/projects/:id/comments", comment_create, app, 0);
    net_router_add(r, NET_GET, "/api/projects/:id/comments/:comment_id", comment_get, app, 0);
    net_router_add(r, NET_PATCH, "/api/projects/:id/comments/:comment_id", comment_patch, app, 0);
    net_router_add(r, NET_DELETE, "/api/projects/:id/comments/:comment_id", comment_delete, app, 0);
    net_router_add(r, NET_POST, "/api/projects/:id/comments/:comment_id/resolve", comment_resolve,
                   app, 0);
    net_router_add(r, NET_POST, "/api/projects/:id/comments/:comment_id/reopen", comment_reopen,
                   app, 0);
}
