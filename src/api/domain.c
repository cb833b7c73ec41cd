/*
 * domain.c: the shared parts of the domain routes (see domain.h).
 */
#include "api/domain.h"

#include <string.h>

#include "api/body.h"
#include "base/clock.h"

/* projects_ctx.written for requests: the page or file goes to its
 * collaborative document (docs/collab.md). */
typedef struct written_ctx {
    net_req *req;
    api_app *app;
} written_ctx;

static void doc_written(void *ctx, const char *project_id, const char *kind, sb_str item,
                        sb_str content, int64_t version)
{
    written_ctx *w = ctx;
    char name[COLLAB_DOC_MAX + 1];
    int n = snprintf(name, sizeof(name), "%s:%.*s", strcmp(kind, "page") == 0 ? "page" : "code",
                     (int)item.len, item.ptr);
    if (n > 0 && (size_t)n < sizeof(name))
        api_collab_rest_write(w->req, w->app, project_id, sb_str_make(name, (size_t)n), content,
                              version);
}

bool api_caller(net_req *req, api_app *app, bool required, identity_principal *p, projects_ctx *c)
{
    memset(p, 0, sizeof(*p));
    *c = (projects_ctx){
        .db = api_loop_of(req)->db,
        .blobs = app->blobs,
        .caller = {.ip = net_req_peer(req)},
        .now_us = sb_wall_us(),
        .limits = &app->limits,
        .written = doc_written,
    };
    written_ctx *wc = sb_arena_alloc(&req->arena, sizeof(*wc));
    *wc = (written_ctx){req, app};
    c->written_ctx = wc;
    sb_str v;
    bool has = net_req_header(req, "authorization", &v) || net_req_header(req, "cookie", &v);
    if (!has && !required)
        return true;
    /* Revocation takes effect at once on the domain routes too. */
    if (!api_auth(req, app, true, p))
        return false;
    c->caller.user_id = p->user_id;
    c->session_id = p->session_id;
    return true;
}

void api_respond_projects(net_req *req, projects_err e, const projects_problem *p)
{
    static const char *const details[] = {
        [PROJECTS_FORBIDDEN] = "Your role does not allow this.",
        [PROJECTS_MFA_REQUIRED] = "This team requires a second factor for admin actions: sign "
                                  "in with your authenticator code.",
        [PROJECTS_IP_DENIED] = "This team accepts requests only from its allowed IP ranges.",
        [PROJECTS_NOT_FOUND] = "Not found.",
        [PROJECTS_STALE] = "The resource changed since you read it; read it again (If-Match).",
        [PROJECTS_STORE] = "The database is not available; try again.",
        [PROJECTS_INTERNAL] = "Something went wrong on our side.",
    };
    int status = projects_err_status(e);
    if (status == 503)
        net_header_static(req, "retry-after", "1");
    char detail[352]; /* field, message and punctuation */
    const char *d = (size_t)e < SB_ARRAY_LEN(details) ? details[e] : NULL;
    bool field = p && p->field &&
                 (e == PROJECTS_INVALID || e == PROJECTS_CONFLICT || e == PROJECTS_TOO_LARGE ||
                  e == PROJECTS_LAST_OWNER);
    api_field_error fe = {0};
    if (field) {
        snprintf(detail, sizeof(detail), "%s %s.", p->field, p->message);
        d = detail;
        fe = (api_field_error){p->field, p->message};
    }
    net_respond_problem_ext(req, status, projects_err_code(e), projects_err_title(e), d,
                            field ? api_field_error_members : NULL, &fe);
}

/* Parses one entity tag that we could have given: "N" or W/"N". */
static bool parse_etag(sb_str t, projects_ver *out)
{
    if (t.len > 2 && t.ptr[0] == 'W' && t.ptr[1] == '/')
        t = sb_str_slice(t, 2, t.len);
    if (t.len < 3 || t.ptr[0] != '"' || t.ptr[t.len - 1] != '"')
        return false;
    return sb_str_to_i64(sb_str_slice(t, 1, t.len - 1), 1, INT64_MAX, out);
}

static sb_str trim(sb_str s)
{
    while (s.len && (s.ptr[0] == ' ' || s.ptr[0] == '\t'))
        s = sb_str_slice(s, 1, s.len);
    while (s.len && (s.ptr[s.len - 1] == ' ' || s.ptr[s.len - 1] == '\t'))
        s.len--;
    return s;
}

/* Walks the entity-tag list of If-Match / If-None-Match. With want == 0,
 * finds the first tag we could have given and puts it in *found; with a
 * version, tells whether the list names it. "*" matches anything (and
 * finds 0). */
static bool etag_list_find(sb_str v, projects_ver want, projects_ver *found)
{
    v = trim(v);
    if (sb_str_eq(v, SB_STR("*"))) {
        *found = 0;
        return true;
    }
    size_t i = 0;
    while (i <= v.len) {
        ptrdiff_t comma = sb_str_index(v, ',', i);
        size_t end = comma < 0 ? v.len : (size_t)comma;
        projects_ver t;
        if (parse_etag(trim(sb_str_slice(v, i, end)), &t) && (want == 0 || t == want)) {
            *found = t;
            return true;
        }
        i = end + 1;
    }
    return false;
}

bool api_if_match(net_req *req, projects_ver *out)
{
    sb_str v;
    *out = 0;
    /* A list names several versions; only one can be current, and the
     * services compare one: take the first we could have given. */
    if (!net_req_header(req, "if-match", &v) || etag_list_find(v, 0, out))
        return true;
    api_respond_projects(req, PROJECTS_STALE, NULL);
    return false;
}

void api_etag(net_req *req, projects_ver ver)
{
    char etag[32];
    snprintf(etag, sizeof(etag), "\"%lld\"", (long long)ver);
    net_header(req, "etag", etag);
}

void api_success_body(sb_buf *body)
{
    sb_buf_append_str(body, SB_STR("{\"success\":true}"));
}

void api_respond_versioned(net_req *req, projects_ver ver, const char *content_type,
                           const sb_buf *body)
{
    api_etag(req, ver);
    net_header_static(req, "cache-control", "private, no-cache");
    sb_str inm;
    projects_ver t;
    if (net_req_header(req, "if-none-match", &inm) && etag_list_find(inm, ver, &t)) {
        net_respond(req, 304, NULL, NULL, 0);
        return;
    }
    if (content_type)
        net_respond(req, 200, content_type, body->ptr, body->len);
    else
        net_respond_json(req, 200, body);
}

bool api_page_query(net_req *req, projects_page *pg)
{
    int64_t limit = 50;
    sb_str v;
    if (!net_req_query_ok(req)) {
        api_respond_invalid_field(req, "query", "is not a well-formed query string");
        return false;
    }
    if (net_req_query(req, "limit", &v) && !sb_str_to_i64(v, 1, 200, &limit)) {
        api_respond_invalid_field(req, "limit", "must be a whole number from 1 to 200");
        return false;
    }
    pg->limit = (int)limit;
    pg->cursor = SB_STR_NULL;
    if (net_req_query(req, "cursor", &v))
        pg->cursor = v;
    return true;
}

void api_finish(net_req *req, projects_err e, const projects_problem *p, int status, sb_buf *body)
{
    if (e == PROJECTS_OK)
        net_respond_json(req, status, body);
    else
        api_respond_projects(req, e, p);
    sb_buf_free(body);
}

void api_finish_versioned(net_req *req, projects_err e, const projects_problem *p, projects_ver ver,
                          sb_buf *body)
{
    if (e == PROJECTS_OK)
        api_respond_versioned(req, ver, NULL, body);
    else
        api_respond_projects(req, e, p);
    sb_buf_free(body);
}

bool api_post_begin(net_req *req, const api_field *fields, size_t nfields, void *out, json_t **doc,
                    const char *user_id, api_idem *idem)
{
    if (!api_body(req, fields, nfields, out, doc))
        return false;
    if (api_idem_begin(req, user_id, idem))
        return true;
    json_decref(*doc);
    return false;
}

void api_delete_child(net_req *req, void *ctx, const char *param, api_delete_fn fn)
{
    API_DOMAIN_BEGIN(true);
    projects_ver if_ver;
    if (!api_if_match(req, &if_ver)) {
        sb_buf_free(&body);
        return;
    }
    projects_err e = fn(&c, net_req_param(req, "id"), net_req_param(req, param), if_ver);
    if (e == PROJECTS_OK)
        api_success_body(&body);
    api_finish(req, e, &prob, 200, &body);
}

bool api_write_begin(net_req *req, const api_field *fields, size_t nfields, void *out, json_t **doc,
                     projects_ver *if_ver)
{
    return api_if_match(req, if_ver) && api_body(req, fields, nfields, out, doc);
}

void api_write_finish(net_req *req, projects_err e, const projects_problem *p, projects_ver ver,
                      sb_buf *body)
{
    if (e == PROJECTS_OK)
        api_etag(req, ver);
    api_finish(req, e, p, 200, body);
}
