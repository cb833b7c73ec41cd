/*
 * assets.c: a project's uploads. POST takes the file either as the raw
 * body (any Content-Type, which is ignored: the bytes are sniffed; the
 * name from ?filename=) or as multipart/form-data with one part named
 * "file" (its filename parameter names it). The bytes are served from
 * .../assets/:asset_id/content with single byte ranges (RFC 9110 §14),
 * an entity tag that is the SHA-256 itself, and headers that keep a
 * browser from running what it fetches.
 *
 * Uploads are stored on the worker pool (see upload_job), so a large one
 * never holds a loop.
 */
#include <stdlib.h>
#include <string.h>

#include "api/domain.h"
#include "net/multipart.h"
#include "net/range.h"

#define FORM_PARTS_MAX 4

/* The file out of a multipart body: exactly one part, named "file". A
 * form with other fields is refused, as unknown JSON fields are. */
static bool form_file(net_req *req, sb_str ct, sb_str *data, sb_str *filename)
{
    sb_str boundary;
    net_part parts[FORM_PARTS_MAX];
    size_t n = 0;
    net_multipart_err me = net_multipart_boundary(ct, &boundary);
    if (me == NET_MULTIPART_OK)
        me = net_multipart_parse(req->body, boundary, parts, FORM_PARTS_MAX, &n);
    if (me != NET_MULTIPART_OK) {
        net_respond_problemf(req, 400, "invalid_multipart", "Bad Request",
                             "The multipart body cannot be read: %s.", net_multipart_strerror(me));
        return false;
    }
    const net_part *file = NULL;
    for (size_t i = 0; i < n; i++) {
        if (!sb_str_eq(parts[i].name, SB_STR("file")) || file) {
            api_respond_invalid_field(req, "file", "must be the form's one part (name=\"file\")");
            return false;
        }
        file = &parts[i];
    }
    if (!file) {
        api_respond_invalid_field(req, "file", "is required");
        return false;
    }
    *data = file->data;
    *filename = SB_STR_NULL;
    if (file->filename.len) {
        char *name = sb_arena_alloc(&req->arena, file->filename.len);
        *filename = sb_str_make(name, net_multipart_unquote(file->filename, name));
    }
    return true;
}

/* An upload runs on the worker pool: storing it hashes and, with the fs
 * driver, fsyncs up to max_upload_body bytes, which must not hold a loop
 * that serves other connections. The job owns copies of everything it
 * reads (the request may go away meanwhile) and works on the worker's own
 * store connection; the answer (and its Idempotency-Key record) is made
 * back on the request's loop. */
typedef struct upload_job {
    net_req_ref *ref;
    api_app *app;
    api_idem idem;
    char user_id[SB_UUID_STR_LEN], session_id[SB_UUID_STR_LEN];
    char *ip;
    sb_buf project_id, data, filename;
    bool named;
    int64_t now_us;
    projects_err result;
    projects_problem prob;
    sb_buf body;
    char id[SB_UUID_STR_LEN];
} upload_job;

static void upload_work(void *arg)
{
    upload_job *j = arg;
    projects_ctx c = {
        .db = api_worker_store(),
        .blobs = j->app->blobs,
        .caller = {.user_id = j->user_id, .ip = j->ip},
        .session_id = j->session_id,
        .now_us = j->now_us,
        .limits = &j->app->limits,
    };
    if (!c.db) {
        j->result = PROJECTS_STORE;
        return;
    }
    sb_jw w;
    sb_jw_init(&w, &j->body);
    j->result = projects_asset_create(&c, sb_buf_str(&j->project_id), j->data.ptr, j->data.len,
                                      j->named ? sb_buf_str(&j->filename) : SB_STR_NULL, &w, j->id,
                                      &j->prob);
}

static void upload_job_free(upload_job *j)
{
    free(j->ip);
    sb_buf_free(&j->project_id);
    sb_buf_free(&j->data);
    sb_buf_free(&j->filename);
    sb_buf_free(&j->body);
    free(j);
}

static void upload_done(void *arg)
{
    upload_job *j = arg;
    net_req *req = net_req_ref_get(j->ref);
    /* A client that went away leaves the key claimed; the claim goes stale
     * after a minute, and its retry then runs (and uploads) again. */
    if (req) {
        char loc[160];
        snprintf(loc, sizeof(loc), "/api/projects/%s/assets/%s", j->project_id.ptr, j->id);
        api_idem_finish(req, &j->idem, j->result, &j->prob, 201, &j->body,
                        j->result == PROJECTS_OK ? loc : NULL);
    }
    net_req_ref_release(j->ref);
    upload_job_free(j);
}

static void asset_create(net_req *req, void *ctx)
{
    API_DOMAIN_BEGIN(true);
    (void)prob; /* the job has its own */
    sb_str ct = SB_STR_NULL, data = req->body, filename = SB_STR_NULL;
    upload_job *j = NULL;
    net_req_header(req, "content-type", &ct);
    sb_str form = SB_STR("multipart/");
    if (ct.len >= form.len && sb_str_eq_nocase(sb_str_slice(ct, 0, form.len), form)) {
        if (!form_file(req, ct, &data, &filename))
            goto out;
    } else if (!net_req_query_ok(req)) {
        api_respond_invalid_field(req, "query", "is not a well-formed query string");
        goto out;
    } else {
        net_req_query(req, "filename", &filename);
    }
    j = sb_calloc(1, sizeof(*j));
    if (!api_idem_begin(req, pr.user_id, &j->idem))
        goto out;
    j->app = app;
    memcpy(j->user_id, pr.user_id, sizeof(j->user_id));
    memcpy(j->session_id, pr.session_id, sizeof(j->session_id));
    j->ip = c.caller.ip ? sb_strdup(c.caller.ip) : NULL;
    j->now_us = c.now_us;
    sb_buf_append_str(&j->project_id, net_req_param(req, "id"));
    sb_buf_append_str(&j->data, data);
    j->named = filename.ptr != NULL;
    sb_buf_append_str(&j->filename, filename);
    j->ref = net_req_defer(req);
    if (!net_workers_submit(app->workers, req->loop, upload_work, upload_done, j)) {
        net_req_ref_release(j->ref);
        api_idem_abort(req, &j->idem);
        net_header_static(req, "retry-after", "1");
        net_respond_problem(req, 503, "overloaded", "Service Unavailable",
                            "Too many uploads at once; try again in a moment.");
        goto out;
    }
    j = NULL; /* the job's now */
out:
    if (j)
        upload_job_free(j);
    sb_buf_free(&body);
}

static void asset_list(net_req *req, void *ctx)
{
    API_DOMAIN_BEGIN(false);
    projects_page pg;
    if (!api_page_query(req, &pg)) {
        sb_buf_free(&body);
        return;
    }
    api_finish(req, projects_asset_list(&c, net_req_param(req, "id"), &pg, &w, &prob), &prob, 200,
               &body);
}

static void asset_get(net_req *req, void *ctx)
{
    API_DOMAIN_BEGIN(false);
    projects_err e =
        projects_asset_get(&c, net_req_param(req, "id"), net_req_param(req, "asset_id"), &w, NULL);
    if (e == PROJECTS_OK)
        api_respond_versioned(req, 1, NULL, &body); /* assets never change */
    else
        api_respond_projects(req, e, &prob);
    sb_buf_free(&body);
}

static void asset_delete(net_req *req, void *ctx)
{
    API_DOMAIN_BEGIN(true);
    projects_err e =
        projects_asset_delete(&c, net_req_param(req, "id"), net_req_param(req, "asset_id"));
    if (e == PROJECTS_OK)
        api_success_body(&body);
    api_finish(req, e, &prob, 200, &body);
}

/* Whether an If-None-Match list names tag (weak comparison, §13.1.2). */
static bool etag_listed(sb_str v, sb_str tag)
{
    size_t i = 0;
    while (i < v.len) {
        while (i < v.len && (v.ptr[i] == ' ' || v.ptr[i] == '\t' || v.ptr[i] == ','))
            i++;
        if (i < v.len && v.ptr[i] == '*')
            return true;
        if (i + 1 < v.len && v.ptr[i] == 'W' && v.ptr[i + 1] == '/')
            i += 2;
        if (v.len - i >= tag.len && memcmp(v.ptr + i, tag.ptr, tag.len) == 0 &&
            (i + tag.len == v.len || v.ptr[i + tag.len] == ',' || v.ptr[i + tag.len] == ' '))
            return true;
        while (i < v.len && v.ptr[i] != ',')
            i++;
    }
    return false;
}

/* Inline for what browsers show safely; a download for the rest. The name
 * goes in RFC 8187's UTF-8 form, percent-encoded, so no byte of it can
 * end the header or the parameter. */
static void content_disposition(net_req *req, const projects_asset *a)
{
    static const char *const inline_prefixes[] = {"image/", "font/",           "video/",
                                                  "audio/", "application/pdf", "text/plain"};
    const char *how = "attachment";
    for (size_t i = 0; i < SB_ARRAY_LEN(inline_prefixes); i++)
        if (strncmp(a->type, inline_prefixes[i], strlen(inline_prefixes[i])) == 0)
            how = "inline";
    sb_buf v = SB_BUF_INIT;
    sb_buf_append_str(&v, sb_str_c(how));
    if (a->filename[0]) {
        sb_buf_append_str(&v, SB_STR("; filename*=UTF-8''"));
        for (const unsigned char *p = (const unsigned char *)a->filename; *p; p++) {
            if ((*p >= 'a' && *p <= 'z') || (*p >= 'A' && *p <= 'Z') || (*p >= '0' && *p <= '9') ||
                strchr("!#$&+-.^_`|~", *p))
                sb_buf_putc(&v, (char)*p);
            else
                sb_buf_appendf(&v, "%%%02X", *p);
        }
    }
    net_headern(req, "content-disposition", v.ptr, v.len);
    sb_buf_free(&v);
}

static void asset_content(net_req *req, void *ctx)
{
    API_DOMAIN_BEGIN(false);
    projects_asset a;
    projects_err e =
        projects_asset_get(&c, net_req_param(req, "id"), net_req_param(req, "asset_id"), NULL, &a);
    if (e != PROJECTS_OK) {
        api_respond_projects(req, e, &prob);
        sb_buf_free(&body);
        return;
    }
    char etag[BLOB_SHA256_HEX_LEN + 3];
    snprintf(etag, sizeof(etag), "\"%s\"", a.sha256);
    sb_str tag = sb_str_c(etag), v;
    net_header(req, "etag", etag);
    net_header_static(req, "accept-ranges", "bytes");
    /* An asset id names the same bytes for ever; private, as reading
     * them may take credentials. */
    net_header_static(req, "cache-control", "private, max-age=31536000, immutable");
    net_header_static(req, "content-security-policy",
                      "default-src 'none'; style-src 'unsafe-inline'; sandbox");
    content_disposition(req, &a);
    if (net_req_header(req, "if-none-match", &v) && etag_listed(v, tag)) {
        net_respond(req, 304, NULL, NULL, 0);
        sb_buf_free(&body);
        return;
    }
    int64_t off = 0, len = a.size;
    net_range_result rr = NET_RANGE_NONE;
    /* If-Range: the range only if the bytes are still the ones the
     * client has (strong comparison: exactly our tag, §13.1.5). */
    bool same = !net_req_header(req, "if-range", &v) || sb_str_eq(v, tag);
    if (same && net_req_header(req, "range", &v))
        rr = net_range_parse(v, a.size, &off, &len);
    char cr[80];
    if (rr == NET_RANGE_UNSATISFIABLE) {
        snprintf(cr, sizeof(cr), "bytes */%lld", (long long)a.size);
        net_header(req, "content-range", cr);
        api_respond_projects(req, PROJECTS_RANGE, NULL);
        sb_buf_free(&body);
        return;
    }
    e = projects_asset_read(&c, &a, off, len, &body);
    if (e != PROJECTS_OK) {
        api_respond_projects(req, e, &prob);
    } else if (rr == NET_RANGE_OK) {
        snprintf(cr, sizeof(cr), "bytes %lld-%lld/%lld", (long long)off, (long long)(off + len - 1),
                 (long long)a.size);
        net_header(req, "content-range", cr);
        net_respond(req, 206, a.type, body.ptr, body.len);
    } else {
        net_respond(req, 200, a.type, body.ptr, body.len);
    }
    sb_buf_free(&body);
}

void api_assets_register(net_router *r, api_app *app)
{
    size_t upload_max = app->cfg->max_upload_body;
    net_router_add(r, NET_GET, "/api/projects/:id/assets", asset_list, app, 0);
    net_router_add(r, NET_POST, "/api/projects/:id/assets", asset_create, app, upload_max);
    net_router_add(r, NET_GET, "/api/projects/:id/assets/:asset_id", asset_get, app, 0);
    net_router_add(r, NET_DELETE, "/api/projects/:id/assets/:asset_id", asset_delete, app, 0);
    net_router_add(r, NET_GET, "/api/projects/:id/assets/:asset_id/content", asset_content, app, 0);
}
