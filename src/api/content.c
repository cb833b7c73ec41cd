/*
 * content.c: a project's pages (with component trees) and code files.
 * Files are addressed by their path in the URL (/files/src/app.js), which
 * the router hands over decoded; the service normalises and checks it.
 * GET of a file answers its raw content with its own content type.
 */
#include <string.h>

#include "api/domain.h"

/* ---- documents (docs/collab.md, "Documents and the REST API") ---- */

/* A page written through REST becomes an update of its document; page is
 * the page's JSON as the service answered it. */
static void page_to_doc(net_req *req, api_app *app, const sb_buf *page, projects_ver ver)
{
    char name[COLLAB_DOC_MAX + 1];
    sb_str id = net_req_param(req, "page_id");
    char project[128];
    sb_str pid = net_req_param(req, "id");
    if (id.len > 64 || pid.len >= sizeof(project))
        return;
    snprintf(project, sizeof(project), "%.*s", (int)pid.len, pid.ptr);
    int n = snprintf(name, sizeof(name), "page:%.*s", (int)id.len, id.ptr);
    api_collab_rest_write(req, app, project, sb_str_make(name, (size_t)n), sb_buf_str(page), ver);
}

/* A file written through REST becomes an update of its code document
 * (which style:<name> is too, for styles/<name>.css: collab_doc_canonical). */
static void file_to_doc(net_req *req, api_app *app, sb_str path, sb_str content, projects_ver ver)
{
    char name[COLLAB_DOC_MAX + 1];
    char project[128];
    sb_str pid = net_req_param(req, "id");
    if (pid.len >= sizeof(project) || path.len + sizeof("code:") > sizeof(name))
        return;
    snprintf(project, sizeof(project), "%.*s", (int)pid.len, pid.ptr);
    int n = snprintf(name, sizeof(name), "code:%.*s", (int)path.len, path.ptr);
    api_collab_rest_write(req, app, project, sb_str_make(name, (size_t)n), content, ver);
}

/* The version of the file a create answered (its JSON in body). */
static projects_ver created_version(const sb_buf *body)
{
    json_t *o = json_loadb(body->ptr, body->len, 0, NULL);
    projects_ver v = (projects_ver)json_integer_value(json_object_get(o, "version"));
    json_decref(o);
    return v;
}

typedef struct page_body {
    sb_str name, path;
    json_t *components, *metadata;
    api_bool published;
} page_body;

static const api_field page_fields[] = {
    {"name", API_STRING, false, 1, 200, offsetof(page_body, name)},
    {"path", API_STRING, false, 1, 512, offsetof(page_body, path)},
    {"components", API_ARRAY, false, 0, 0, offsetof(page_body, components)},
    {"metadata", API_OBJECT, false, 0, 0, offsetof(page_body, metadata)},
    {"published", API_BOOL, false, 0, 0, offsetof(page_body, published)},
};

static projects_page_input page_input(const page_body *b)
{
    return (projects_page_input){
        .name = b->name,
        .path = b->path,
        .components = b->components,
        .metadata = b->metadata,
        .published = b->published.set ? b->published.value : -1,
    };
}

static void page_list(net_req *req, void *ctx)
{
    API_DOMAIN_BEGIN(false);
    api_finish(req, projects_page_list(&c, net_req_param(req, "id"), &w), &prob, 200, &body);
}

static void page_create(net_req *req, void *ctx)
{
    API_DOMAIN_BEGIN(true);
    page_body b = {0};
    json_t *doc;
    api_idem idem;
    if (!api_post_begin(req, page_fields, SB_ARRAY_LEN(page_fields), &b, &doc, pr.user_id, &idem)) {
        sb_buf_free(&body);
        return;
    }
    projects_page_input in = page_input(&b);
    char id[SB_UUID_STR_LEN] = "", loc[128];
    sb_str pid = net_req_param(req, "id");
    projects_err e = projects_page_create(&c, pid, &in, &w, id, &prob);
    json_decref(doc);
    snprintf(loc, sizeof(loc), "/api/projects/%.*s/pages/%s", SB_STR_FMT(pid), id);
    api_idem_finish(req, &idem, e, &prob, 201, &body, loc);
    sb_buf_free(&body);
}

static void page_get(net_req *req, void *ctx)
{
    API_DOMAIN_BEGIN(false);
    projects_ver ver = 0;
    projects_err e =
        projects_page_get(&c, net_req_param(req, "id"), net_req_param(req, "page_id"), &w, &ver);
    if (e == PROJECTS_OK)
        api_respond_versioned(req, ver, NULL, &body);
    else
        api_respond_projects(req, e, &prob);
    sb_buf_free(&body);
}

static void page_put(net_req *req, void *ctx)
{
    API_DOMAIN_BEGIN(true);
    page_body b = {0};
    json_t *doc;
    projects_ver if_ver, ver = 0;
    if (!api_write_begin(req, page_fields, SB_ARRAY_LEN(page_fields), &b, &doc, &if_ver)) {
        sb_buf_free(&body);
        return;
    }
    projects_page_input in = page_input(&b);
    projects_err e = projects_page_put(&c, net_req_param(req, "id"), net_req_param(req, "page_id"),
                                       &in, if_ver, &w, &ver, &prob);
    json_decref(doc);
    if (e == PROJECTS_OK)
        page_to_doc(req, app, &body, ver);
    api_write_finish(req, e, &prob, ver, &body);
}

static void page_delete(net_req *req, void *ctx)
{
    api_delete_child(req, ctx, "page_id", projects_page_delete);
}

/* ---- files ---- */

typedef struct file_body {
    sb_str path, content, language;
} file_body;

static const api_field file_create_fields[] = {
    {"path", API_STRING, true, 1, 1024, offsetof(file_body, path)},
    {"content", API_STRING, true, 0, SIZE_MAX, offsetof(file_body, content)},
    {"language", API_STRING, false, 1, 32, offsetof(file_body, language)},
};
static const api_field file_put_fields[] = {
    {"content", API_STRING, true, 0, SIZE_MAX, offsetof(file_body, content)},
};

static void file_list(net_req *req, void *ctx)
{
    API_DOMAIN_BEGIN(false);
    api_finish(req, projects_file_list(&c, net_req_param(req, "id"), &w), &prob, 200, &body);
}

static void file_create(net_req *req, void *ctx)
{
    API_DOMAIN_BEGIN(true);
    file_body b = {0};
    json_t *doc;
    api_idem idem;
    if (!api_post_begin(req, file_create_fields, SB_ARRAY_LEN(file_create_fields), &b, &doc,
                        pr.user_id, &idem)) {
        sb_buf_free(&body);
        return;
    }
    projects_err e = projects_file_create(&c, net_req_param(req, "id"), b.path, b.content,
                                          b.language, &w, &prob);
    if (e == PROJECTS_OK) /* a document of an earlier file by that path */
        file_to_doc(req, app, b.path, b.content, created_version(&body));
    json_decref(doc);
    api_idem_finish(req, &idem, e, &prob, 201, &body, NULL);
    sb_buf_free(&body);
}

static void file_get(net_req *req, void *ctx)
{
    API_DOMAIN_BEGIN(false);
    projects_file f = {SB_BUF_INIT, NULL, 0};
    projects_err e =
        projects_file_get(&c, net_req_param(req, "id"), net_req_param(req, "path"), &f);
    if (e == PROJECTS_OK) {
        /* Never let a browser guess a more dangerous type than we name. */
        net_header_static(req, "x-content-type-options", "nosniff");
        net_header_static(req, "content-security-policy", "default-src 'none'; sandbox");
        api_respond_versioned(req, f.version, f.content_type, &f.content);
    } else {
        api_respond_projects(req, e, &prob);
    }
    sb_buf_free(&f.content);
    sb_buf_free(&body);
}

static void file_put(net_req *req, void *ctx)
{
    API_DOMAIN_BEGIN(true);
    file_body b = {0};
    json_t *doc;
    projects_ver if_ver, ver = 0;
    if (!api_write_begin(req, file_put_fields, 1, &b, &doc, &if_ver)) {
        sb_buf_free(&body);
        return;
    }
    projects_err e = projects_file_put(&c, net_req_param(req, "id"), net_req_param(req, "path"),
                                       b.content, if_ver, &w, &ver, &prob);
    if (e == PROJECTS_OK)
        file_to_doc(req, app, net_req_param(req, "path"), b.content, ver);
    json_decref(doc);
    api_write_finish(req, e, &prob, ver, &body);
}

static void file_delete(net_req *req, void *ctx)
{
    api_delete_child(req, ctx, "path", projects_file_delete);
}

void api_content_register(net_router *r, api_app *app)
{
    net_router_add(r, NET_GET, "/api/projects/:id/pages", page_list, app, 0);
    net_router_add(r, NET_POST, "/api/projects/:id/pages", page_create, app, 0);
    net_router_add(r, NET_GET, "/api/projects/:id/pages/:page_id", page_get, app, 0);
    net_router_add(r, NET_PUT, "/api/projects/:id/pages/:page_id", page_put, app, 0);
    net_router_add(r, NET_DELETE, "/api/projects/:id/pages/:page_id", page_delete, app, 0);
    /* A file of 1 MiB as a JSON string may take up to 6 bytes per byte. */
    size_t file_body_max = 6 * (app->limits.file_max ? app->limits.file_max : (1u << 20)) + 4096;
    net_router_add(r, NET_GET, "/api/projects/:id/files", file_list, app, 0);
    net_router_add(r, NET_POST, "/api/projects/:id/files", file_create, app, file_body_max);
    net_router_add(r, NET_GET, "/api/projects/:id/files/*path", file_get, app, 0);
    net_router_add(r, NET_PUT, "/api/projects/:id/files/*path", file_put, app, file_body_max);
    net_router_add(r, NET_DELETE, "/api/projects/:id/files/*path", file_delete, app, 0);
}
