/*
 * vcs.c: /api/projects/:id/vcs/... (commits, branches, tags, diff, merge,
 * rollback, files at a ref) and /git/<project_id>.git/..., git's dumb HTTP
 * protocol for `git clone`, authenticated by Basic auth whose password is
 * an access token (the user name is ignored). The services are vcs/vcs.h.
 */
#include <openssl/evp.h>
#include <stdlib.h>
#include <string.h>
#include <zlib.h>

#include "api/domain.h"
#include "base/clock.h"
#include "vcs/vcs.h"

typedef struct commit_body {
    sb_str branch, message, expect;
    api_bool from_live;
    json_t *changes;
} commit_body;

static const api_field commit_fields[] = {
    {"branch", API_STRING, false, 1, VCS_REF_NAME_MAX, offsetof(commit_body, branch)},
    {"message", API_STRING, true, 1, VCS_MESSAGE_MAX, offsetof(commit_body, message)},
    {"expect", API_STRING, false, 40, 40, offsetof(commit_body, expect)},
    {"from_live", API_BOOL, false, 0, 0, offsetof(commit_body, from_live)},
    {"changes", API_ARRAY, false, 0, 0, offsetof(commit_body, changes)},
};

typedef struct ref_body {
    sb_str name, from;
} ref_body;

static const api_field ref_fields[] = {
    {"name", API_STRING, true, 1, VCS_REF_NAME_MAX, offsetof(ref_body, name)},
    {"from", API_STRING, false, 1, VCS_REF_NAME_MAX, offsetof(ref_body, from)},
};

typedef struct merge_body {
    sb_str source, target, message, expect_target, expect_source;
    json_t *resolutions;
} merge_body;

static const api_field merge_fields[] = {
    {"source", API_STRING, true, 1, VCS_REF_NAME_MAX, offsetof(merge_body, source)},
    {"target", API_STRING, false, 1, VCS_REF_NAME_MAX, offsetof(merge_body, target)},
    {"message", API_STRING, false, 1, VCS_MESSAGE_MAX, offsetof(merge_body, message)},
    {"expect_target", API_STRING, false, 40, 40, offsetof(merge_body, expect_target)},
    {"expect_source", API_STRING, false, 40, 40, offsetof(merge_body, expect_source)},
    {"resolutions", API_OBJECT, false, 0, 0, offsetof(merge_body, resolutions)},
};

typedef struct rollback_body {
    sb_str branch, to, message;
} rollback_body;

static const api_field rollback_fields[] = {
    {"branch", API_STRING, false, 1, VCS_REF_NAME_MAX, offsetof(rollback_body, branch)},
    {"to", API_STRING, true, 1, VCS_REF_NAME_MAX, offsetof(rollback_body, to)},
    {"message", API_STRING, false, 1, VCS_MESSAGE_MAX, offsetof(rollback_body, message)},
};

static sb_str query(net_req *req, const char *key)
{
    sb_str v = SB_STR("");
    net_req_query(req, key, &v);
    return v;
}

static void commits_list(net_req *req, void *ctx)
{
    API_DOMAIN_BEGIN(true);
    sb_str l = query(req, "limit");
    int limit = l.len ? 0 : 50; /* 0 and anything not 1..200 in digits: 400 */
    for (size_t i = 0; i < l.len && limit >= 0; i++)
        limit =
            l.len <= 3 && l.ptr[i] >= '0' && l.ptr[i] <= '9' ? limit * 10 + (l.ptr[i] - '0') : -1;
    api_finish(req, vcs_log(&c, net_req_param(req, "id"), query(req, "ref"), limit, &w, &prob),
               &prob, 200, &body);
}

static void commits_create(net_req *req, void *ctx)
{
    API_DOMAIN_BEGIN(true);
    commit_body b = {0};
    json_t *doc;
    api_idem idem;
    if (api_post_begin(req, commit_fields, SB_ARRAY_LEN(commit_fields), &b, &doc, pr.user_id,
                       &idem)) {
        vcs_commit_input in = {.branch = b.branch,
                               .message = b.message,
                               .expect = b.expect,
                               .from_live = b.from_live.set && b.from_live.value,
                               .changes = b.changes};
        if (!in.branch.ptr)
            in.branch = SB_STR("");
        if (!in.expect.ptr)
            in.expect = SB_STR("");
        sb_str id = net_req_param(req, "id");
        bool other = in.branch.len && !sb_str_eq(in.branch, SB_STR(VCS_DEFAULT_BRANCH));
        json_t *rooms = NULL;
        projects_err e = PROJECTS_OK;
        if (other && in.from_live && !in.changes) {
            /* another branch's live content is its rooms' (branch_rooms.c),
             * every accepted edit in the log */
            api_collab_settle(app, req);
            e = api_branch_rooms_changes(&c, id, in.branch, &rooms, &prob);
            in.from_live = false;
            in.changes = rooms;
        }
        char before[VCS_OID_HEX + 1] = "";
        if (e == PROJECTS_OK && other && !rooms &&
            vcs_branch_head(&c, id, in.branch, before) != PROJECTS_OK)
            before[0] = '\0';
        if (e == PROJECTS_OK)
            e = vcs_commit(&c, id, &in, &w, &prob);
        if (e == PROJECTS_OK && before[0]) /* a change list: the rooms follow */
            api_branch_rooms_follow(req, app, &c, id, in.branch, before);
        json_decref(rooms);
        json_decref(doc);
        api_idem_finish(req, &idem, e, &prob, 201, &body, NULL);
    }
    sb_buf_free(&body);
}

static void branches_list(net_req *req, void *ctx)
{
    API_DOMAIN_BEGIN(true);
    api_finish(req, vcs_branch_list(&c, net_req_param(req, "id"), &w), &prob, 200, &body);
}

static void tags_list(net_req *req, void *ctx)
{
    API_DOMAIN_BEGIN(true);
    api_finish(req, vcs_tag_list(&c, net_req_param(req, "id"), &w), &prob, 200, &body);
}

static void ref_create(net_req *req, void *ctx, bool tag)
{
    API_DOMAIN_BEGIN(true);
    ref_body b = {0};
    json_t *doc;
    api_idem idem;
    if (api_post_begin(req, ref_fields, SB_ARRAY_LEN(ref_fields), &b, &doc, pr.user_id, &idem)) {
        sb_str from = b.from.ptr ? b.from : SB_STR("");
        sb_str id = net_req_param(req, "id");
        projects_err e = tag ? vcs_tag_create(&c, id, b.name, from, &w, &prob)
                             : vcs_branch_create(&c, id, b.name, from, &w, &prob);
        json_decref(doc);
        api_idem_finish(req, &idem, e, &prob, 201, &body, NULL);
    }
    sb_buf_free(&body);
}

static void branches_create(net_req *req, void *ctx)
{
    ref_create(req, ctx, false);
}

static void tags_create(net_req *req, void *ctx)
{
    ref_create(req, ctx, true);
}

static void branches_delete(net_req *req, void *ctx)
{
    API_DOMAIN_BEGIN(true);
    projects_err e = vcs_branch_delete(&c, net_req_param(req, "id"), net_req_param(req, "name"));
    if (e == PROJECTS_OK)
        api_success_body(&body);
    if (e == PROJECTS_INVALID)
        prob.field = "name",
        snprintf(prob.message, sizeof(prob.message), "the default branch cannot be deleted");
    api_finish(req, e, &prob, 200, &body);
}

static void tags_delete(net_req *req, void *ctx)
{
    API_DOMAIN_BEGIN(true);
    projects_err e = vcs_tag_delete(&c, net_req_param(req, "id"), net_req_param(req, "name"));
    if (e == PROJECTS_OK)
        api_success_body(&body);
    api_finish(req, e, &prob, 200, &body);
}

static void diff(net_req *req, void *ctx)
{
    API_DOMAIN_BEGIN(true);
    api_finish(
        req,
        vcs_diff(&c, net_req_param(req, "id"), query(req, "from"), query(req, "to"), &w, &prob),
        &prob, 200, &body);
}

static void merge_run(net_req *req, void *ctx, bool resolve)
{
    API_DOMAIN_BEGIN(true);
    merge_body b = {0};
    json_t *doc;
    API_DOMAIN_BODY(merge_fields, SB_ARRAY_LEN(merge_fields), &b, &doc);
    if (resolve && (!b.resolutions || !b.expect_target.ptr || !b.expect_source.ptr)) {
        json_decref(doc);
        prob.field = !b.resolutions ? "resolutions" : "expect_target";
        snprintf(prob.message, sizeof(prob.message),
                 "is required: resolving names the conflicts and the heads they were made on");
        api_finish(req, PROJECTS_INVALID, &prob, 200, &body);
        return;
    }
    vcs_merge_input in = {.source = b.source,
                          .target = b.target.ptr ? b.target : SB_STR(""),
                          .message = b.message.ptr ? b.message : SB_STR(""),
                          .expect_target = b.expect_target.ptr ? b.expect_target : SB_STR(""),
                          .expect_source = b.expect_source.ptr ? b.expect_source : SB_STR(""),
                          .resolutions = b.resolutions};
    sb_str id = net_req_param(req, "id");
    char before[VCS_OID_HEX + 1] = "";
    if (in.target.len && vcs_branch_head(&c, id, in.target, before) != PROJECTS_OK)
        before[0] = '\0';
    projects_err e = vcs_merge(&c, id, &in, &w, &prob);
    if (e == PROJECTS_OK && before[0])
        api_branch_rooms_follow(req, app, &c, id, in.target, before);
    json_decref(doc);
    if (e == PROJECTS_CONFLICT && body.len) {
        /* the conflicts are the answer: a 409 with what to resolve */
        net_respond_json(req, 409, &body);
        sb_buf_free(&body);
        return;
    }
    api_finish(req, e, &prob, 200, &body);
}

static void merge(net_req *req, void *ctx)
{
    merge_run(req, ctx, false);
}

static void merge_resolve(net_req *req, void *ctx)
{
    merge_run(req, ctx, true);
}

static void rollback(net_req *req, void *ctx)
{
    API_DOMAIN_BEGIN(true);
    rollback_body b = {0};
    json_t *doc;
    api_idem idem;
    if (api_post_begin(req, rollback_fields, SB_ARRAY_LEN(rollback_fields), &b, &doc, pr.user_id,
                       &idem)) {
        sb_str id = net_req_param(req, "id"), branch = b.branch.ptr ? b.branch : SB_STR("");
        char before[VCS_OID_HEX + 1] = "";
        if (branch.len && vcs_branch_head(&c, id, branch, before) != PROJECTS_OK)
            before[0] = '\0';
        projects_err e =
            vcs_rollback(&c, id, branch, b.to, b.message.ptr ? b.message : SB_STR(""), &w, &prob);
        if (e == PROJECTS_OK && before[0])
            api_branch_rooms_follow(req, app, &c, id, branch, before);
        json_decref(doc);
        api_idem_finish(req, &idem, e, &prob, 201, &body, NULL);
    }
    sb_buf_free(&body);
}

static void file_at(net_req *req, void *ctx)
{
    API_DOMAIN_BEGIN(true);
    projects_err e = vcs_read(&c, net_req_param(req, "id"), query(req, "ref"),
                              net_req_param(req, "file_path"), &body);
    if (e == PROJECTS_OK) {
        net_respond(req, 200, "application/octet-stream", body.ptr, body.len);
        sb_buf_free(&body);
        return;
    }
    api_finish(req, e, &prob, 200, &body);
}

/* ---- git's dumb HTTP protocol ---- */

/* The caller of a git request: Basic auth with an access token as the
 * password. Without credentials: 401 with a Basic challenge, which is
 * what makes git ask for (or send) them. */
static bool git_caller(net_req *req, api_app *app, identity_principal *pr, projects_ctx *c)
{
    memset(pr, 0, sizeof(*pr));
    *c = (projects_ctx){.db = api_loop_of(req)->db,
                        .blobs = app->blobs,
                        .caller = {.ip = net_req_peer(req)},
                        .now_us = sb_wall_us(),
                        .limits = &app->limits};
    sb_str h;
    unsigned char raw[4096];
    int n = -1;
    if (net_req_header(req, "authorization", &h) && h.len > 6 && h.len < 5400 &&
        sb_str_eq_nocase(sb_str_slice(h, 0, 6), SB_STR("Basic "))) {
        n = EVP_DecodeBlock(raw, (const unsigned char *)h.ptr + 6, (int)(h.len - 6));
        /* EVP_DecodeBlock counts padding as zero bytes: drop them */
        for (size_t i = h.len; n > 0 && i > 6 && h.ptr[i - 1] == '='; i--)
            n--;
    }
    const unsigned char *colon = n > 0 ? memchr(raw, ':', (size_t)n) : NULL;
    if (colon) {
        sb_str token = {(const char *)colon + 1, (size_t)(raw + n - colon - 1)};
        if (identity_authenticate(app->identity, token, c->now_us, pr) == IDENTITY_OK &&
            identity_check_session(app->identity, c->db, pr, c->now_us) == IDENTITY_OK) {
            c->caller.user_id = pr->user_id;
            c->session_id = pr->session_id;
            return true;
        }
    }
    net_header_static(req, "WWW-Authenticate", "Basic realm=\"sitebase\", charset=\"UTF-8\"");
    net_respond_problem(req, 401, "unauthenticated", "Unauthorized",
                        "Use an access token as the password.");
    return false;
}

/* :repo is "<project_id>.git". */
static sb_str repo_id(net_req *req)
{
    sb_str r = net_req_param(req, "repo");
    if (r.len > 4 && memcmp(r.ptr + r.len - 4, ".git", 4) == 0)
        r.len -= 4;
    return r;
}

static void git_answer(net_req *req, projects_err e, const char *type, sb_buf *out)
{
    if (e == PROJECTS_OK) {
        net_header_static(req, "Cache-Control", "no-cache");
        net_respond(req, 200, type, out->ptr ? out->ptr : "", out->len);
    } else {
        api_respond_projects(req, e, NULL);
    }
    sb_buf_free(out);
}

static void git_info_refs(net_req *req, void *ctx)
{
    identity_principal pr;
    projects_ctx c;
    if (!git_caller(req, ctx, &pr, &c))
        return;
    sb_buf out = SB_BUF_INIT;
    sb_str service;
    if (net_req_query(req, "service", &service)) {
        if (!sb_str_eq(service, SB_STR("git-upload-pack"))) {
            /* pushes (git-receive-pack) are not served: read-only */
            net_respond_problem(req, 403, "forbidden", "Forbidden",
                                "The repository is read-only: only git-upload-pack is served.");
            return;
        }
        git_answer(req, vcs_git_advertise(&c, repo_id(req), &out),
                   "application/x-git-upload-pack-advertisement", &out);
        return;
    }
    /* a client of the dumb protocol */
    git_answer(req, vcs_git_info_refs(&c, repo_id(req), &out), "text/plain; charset=utf-8", &out);
}

#define UPLOAD_BODY_MAX (1u << 20)

/* git gzips large request bodies (Content-Encoding: gzip): inflates at
 * most UPLOAD_BODY_MAX bytes; false when the body is not gzip or larger. */
static bool gunzip(sb_str in, sb_buf *out)
{
    z_stream z = {0};
    if (inflateInit2(&z, 16 + MAX_WBITS) != Z_OK)
        return false;
    sb_buf_reserve(out, UPLOAD_BODY_MAX);
    z.next_in = (Bytef *)in.ptr;
    z.avail_in = (uInt)in.len;
    z.next_out = (Bytef *)out->ptr;
    z.avail_out = UPLOAD_BODY_MAX;
    int rc = inflate(&z, Z_FINISH);
    out->len = UPLOAD_BODY_MAX - z.avail_out;
    inflateEnd(&z);
    return rc == Z_STREAM_END;
}

static void git_upload_pack(net_req *req, void *ctx)
{
    identity_principal pr;
    projects_ctx c;
    if (!git_caller(req, ctx, &pr, &c))
        return;
    sb_str body = req->body, enc;
    sb_buf inflated = SB_BUF_INIT, out = SB_BUF_INIT;
    if (net_req_header(req, "content-encoding", &enc) && sb_str_eq_nocase(enc, SB_STR("gzip"))) {
        if (!gunzip(body, &inflated)) {
            sb_buf_free(&inflated);
            net_respond_problem(req, 400, "validation", "Bad Request",
                                "The gzip body is malformed or over 1 MiB.");
            return;
        }
        body = (sb_str){inflated.ptr, inflated.len};
    }
    vcs_upload_request *ur = calloc(1, sizeof(*ur));
    if (!ur)
        sb_die("out of memory reading an upload-pack request");
    char err[96];
    if (!vcs_upload_parse(body.ptr, body.len, ur, err, sizeof(err))) {
        net_respond_problemf(req, 400, "validation", "Bad Request", "upload-pack: %s.", err);
    } else {
        projects_err e = vcs_git_upload_pack(&c, repo_id(req), ur, &out);
        if (e == PROJECTS_INVALID)
            net_respond_problem(req, 400, "validation", "Bad Request",
                                "upload-pack: a want is not a commit of the project.");
        else
            git_answer(req, e, "application/x-git-upload-pack-result", &out);
    }
    free(ur);
    sb_buf_free(&inflated);
    sb_buf_free(&out);
}

static void git_head(net_req *req, void *ctx)
{
    identity_principal pr;
    projects_ctx c;
    if (!git_caller(req, ctx, &pr, &c))
        return;
    sb_buf out = SB_BUF_INIT;
    git_answer(req, vcs_git_head(&c, repo_id(req), &out), "text/plain; charset=utf-8", &out);
}

static void git_packs(net_req *req, void *ctx)
{
    identity_principal pr;
    projects_ctx c;
    if (!git_caller(req, ctx, &pr, &c))
        return;
    /* no packs: every object is loose */
    sb_buf out = SB_BUF_INIT;
    projects_err e = projects_project_authorize(&c, repo_id(req), AUTHZ_READ, true);
    git_answer(req, e, "text/plain; charset=utf-8", &out);
}

static void git_object(net_req *req, void *ctx)
{
    identity_principal pr;
    projects_ctx c;
    if (!git_caller(req, ctx, &pr, &c))
        return;
    sb_str dir = net_req_param(req, "dir"), file = net_req_param(req, "file");
    char hex[41];
    sb_buf out = SB_BUF_INIT;
    if (dir.len != 2 || file.len != 38) {
        git_answer(req, PROJECTS_NOT_FOUND, NULL, &out);
        return;
    }
    memcpy(hex, dir.ptr, 2);
    memcpy(hex + 2, file.ptr, 38);
    hex[40] = '\0';
    git_answer(req, vcs_git_object(&c, repo_id(req), (sb_str){hex, 40}, &out),
               "application/x-git-loose-object", &out);
}

void api_vcs_register(net_router *r, api_app *app)
{
    size_t file_max = app->limits.file_max ? app->limits.file_max : (1u << 20);
    /* a commit may carry many files; the JSON body limit still applies per request */
    size_t commit_max = 6 * file_max + 64 * 1024;
    net_router_add(r, NET_GET, "/api/projects/:id/vcs/commits", commits_list, app, 0);
    net_router_add(r, NET_POST, "/api/projects/:id/vcs/commits", commits_create, app, commit_max);
    net_router_add(r, NET_GET, "/api/projects/:id/vcs/branches", branches_list, app, 0);
    net_router_add(r, NET_POST, "/api/projects/:id/vcs/branches", branches_create, app, 0);
    net_router_add(r, NET_DELETE, "/api/projects/:id/vcs/branches/:name", branches_delete, app, 0);
    net_router_add(r, NET_GET, "/api/projects/:id/vcs/tags", tags_list, app, 0);
    net_router_add(r, NET_POST, "/api/projects/:id/vcs/tags", tags_create, app, 0);
    net_router_add(r, NET_DELETE, "/api/projects/:id/vcs/tags/:name", tags_delete, app, 0);
    net_router_add(r, NET_GET, "/api/projects/:id/vcs/diff", diff, app, 0);
    net_router_add(r, NET_POST, "/api/projects/:id/vcs/merge", merge, app, commit_max);
    net_router_add(r, NET_POST, "/api/projects/:id/vcs/merge/resolve", merge_resolve, app,
                   commit_max);
    net_router_add(r, NET_POST, "/api/projects/:id/vcs/rollback", rollback, app, 0);
    net_router_add(r, NET_GET, "/api/projects/:id/vcs/files/*file_path", file_at, app, 0);
    net_router_add(r, NET_GET, "/git/:repo/info/refs", git_info_refs, app, 0);
    net_router_add(r, NET_GET, "/git/:repo/HEAD", git_head, app, 0);
    net_router_add(r, NET_POST, "/git/:repo/git-upload-pack", git_upload_pack, app,
                   UPLOAD_BODY_MAX);
    net_router_add(r, NET_GET, "/git/:repo/objects/info/packs", git_packs, app, 0);
    net_router_add(r, NET_GET, "/git/:repo/objects/:dir/:file", git_object, app, 0);
}
