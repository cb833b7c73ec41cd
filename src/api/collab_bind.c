/*
 * collab_bind.c: collaborative documents and the pages and files they are
 * the source of truth for (docs/collab.md, "Documents and the REST API"):
 *
 *   seed         a document nothing was stored for starts as the REST
 *                content: a code file's or style sheet's text, a page's
 *                name and path;
 *   materialise  the document's content written back, through the
 *                projects service as Sitebase itself (projects_ctx.system:
 *                audited without an actor), when it differs;
 *   api_collab_rest_write  a REST write handed to the document's room.
 *
 * Runs on the worker pool (seed, materialise) with that thread's store.
 */
#include "api/domain.h"
#include "base/clock.h"
#include "base/log.h"
#include "collab/collab.h"

/* The file a code or style document is, in buf (NULL: not a file). */
static const char *doc_file(const char *doc, char *buf, size_t cap, collab_kind *kind)
{
    sb_str item;
    if (!collab_doc_parse(sb_str_c(doc), kind, &item))
        return NULL;
    if (*kind == COLLAB_CODE)
        snprintf(buf, cap, "%.*s", (int)item.len, item.ptr);
    else if (*kind == COLLAB_STYLE)
        snprintf(buf, cap, "styles/%.*s.css", (int)item.len, item.ptr);
    else if (*kind == COLLAB_PAGE)
        snprintf(buf, cap, "%.*s", (int)item.len, item.ptr);
    else
        return NULL;
    return buf;
}

static projects_ctx system_ctx(api_app *app, store *db)
{
    return (projects_ctx){
        .db = db,
        .blobs = app->blobs,
        .now_us = sb_wall_us(),
        .limits = &app->limits,
        .system = true,
    };
}

static bool bind_seed(void *ctx, store *db, const char *project_id, const char *doc, crdt_doc *d,
                      bool empty, sb_buf *update, int64_t *version, sb_errbuf *err)
{
    *version = 0;
    api_app *app = ctx;
    char item[COLLAB_DOC_MAX + 16];
    collab_kind kind;
    if (!doc_file(doc, item, sizeof(item), &kind))
        return true; /* components: the library's, not bound */
    projects_ctx c = system_ctx(app, db);
    projects_err e;
    sb_buf content = SB_BUF_INIT;
    if (kind == COLLAB_PAGE) {
        sb_jw w;
        sb_jw_init(&w, &content);
        e = projects_page_get(&c, sb_str_c(project_id), sb_str_c(item), &w, version);
    } else {
        projects_file f = {SB_BUF_INIT, NULL, 0};
        e = projects_file_get(&c, sb_str_c(project_id), sb_str_c(item), &f);
        content = f.content;
        *version = f.version;
    }
    if (e != PROJECTS_OK)
        *version = 0;
    bool ok = true;
    if (e == PROJECTS_OK && empty) {
        crdt_err ce = collab_content_seed(d, kind, sb_buf_str(&content), update);
        if (ce != CRDT_OK) /* a binary file: it starts empty rather than never loading */
            sb_log(SB_LOG_WARN, "collab: cannot seed a document", SB_LOG_STR("doc", doc),
                   SB_LOG_STR("error", crdt_strerror(ce)));
    } else if (e != PROJECTS_OK && e != PROJECTS_NOT_FOUND) {
        sb_errf(err, "reading the REST content: %s", projects_err_code(e));
        ok = false;
    }
    sb_buf_free(&content);
    return ok;
}

static void materialise_file(projects_ctx *c, const char *project_id, const char *path,
                             const char *json, size_t n, int64_t if_ver, int64_t *written)
{
    json_t *v = json_loadb(json, n, JSON_DECODE_ANY | JSON_ALLOW_NUL, NULL);
    if (!json_is_string(v)) {
        json_decref(v);
        return;
    }
    sb_str want = sb_str_make(json_string_value(v), json_string_length(v));
    projects_file f = {SB_BUF_INIT, NULL, 0};
    projects_err e = projects_file_get(c, sb_str_c(project_id), sb_str_c(path), &f);
    if (e == PROJECTS_OK && !sb_str_eq(sb_buf_str(&f.content), want)) {
        sb_buf out = SB_BUF_INIT;
        sb_jw w;
        sb_jw_init(&w, &out);
        projects_problem p = {0};
        projects_ver ver;
        /* 0 would mean no precondition: a file the load did not find. */
        if (if_ver > 0)
            e = projects_file_put(c, sb_str_c(project_id), sb_str_c(path), want, if_ver, &w, &ver,
                                  &p);
        if (e == PROJECTS_OK && if_ver > 0)
            *written = ver;
        sb_buf_free(&out);
    }
    /* STALE: a REST write is on its way to the document; its arrival
     * materialises again. */
    if (e != PROJECTS_OK && e != PROJECTS_NOT_FOUND && e != PROJECTS_STALE)
        sb_log(SB_LOG_ERROR, "collab: cannot write a file from its document",
               SB_LOG_STR("path", path), SB_LOG_STR("error", projects_err_code(e)));
    sb_buf_free(&f.content);
    json_decref(v);
}

/* The page's members the document holds, written when any differs. */
static void materialise_page(projects_ctx *c, const char *project_id, const char *page_id,
                             const char *json, size_t n, int64_t if_ver, int64_t *written)
{
    json_t *doc = json_loadb(json, n, 0, NULL);
    sb_buf cur_body = SB_BUF_INIT;
    sb_jw w;
    sb_jw_init(&w, &cur_body);
    projects_ver ver;
    projects_err e = projects_page_get(c, sb_str_c(project_id), sb_str_c(page_id), &w, &ver);
    json_t *cur = e == PROJECTS_OK ? json_loadb(cur_body.ptr, cur_body.len, 0, NULL) : NULL;
    projects_page_input in = {.published = -1};
    bool differs = false;
    json_t *v;
    if (json_is_string(v = json_object_get(doc, "name"))) {
        in.name = sb_str_make(json_string_value(v), json_string_length(v));
        differs |= !sb_json_same(v, json_object_get(cur, "name"));
    }
    if (json_is_string(v = json_object_get(doc, "path"))) {
        in.path = sb_str_make(json_string_value(v), json_string_length(v));
        differs |= !sb_json_same(v, json_object_get(cur, "path"));
    }
    if (json_is_array(v = json_object_get(doc, "components"))) {
        in.components = v;
        differs |= !sb_json_same(v, json_object_get(cur, "components"));
    }
    if (json_is_object(v = json_object_get(doc, "metadata"))) {
        in.metadata = v;
        differs |= !sb_json_same(v, json_object_get(cur, "metadata"));
    }
    if (cur && differs && if_ver > 0) {
        sb_buf out = SB_BUF_INIT;
        sb_jw_init(&w, &out);
        projects_problem p = {0};
        e = projects_page_put(c, sb_str_c(project_id), sb_str_c(page_id), &in, if_ver, &w, &ver,
                              &p);
        sb_buf_free(&out);
        if (e == PROJECTS_OK)
            *written = ver;
        else if (e != PROJECTS_STALE) /* stale: a REST write is on its way */
            sb_log(SB_LOG_ERROR, "collab: cannot write a page from its document",
                   SB_LOG_STR("page", page_id), SB_LOG_STR("error", projects_err_code(e)),
                   SB_LOG_STR("field", p.field ? p.field : ""), SB_LOG_STR("why", p.message));
    }
    json_decref(cur);
    json_decref(doc);
    sb_buf_free(&cur_body);
}

static void bind_materialise(void *ctx, store *db, const char *project_id, const char *doc,
                             const char *json, size_t n, int64_t if_ver, int64_t *written)
{
    *written = 0;
    api_app *app = ctx;
    char item[COLLAB_DOC_MAX + 16];
    collab_kind kind;
    if (!doc_file(doc, item, sizeof(item), &kind))
        return;
    projects_ctx c = system_ctx(app, db);
    if (kind == COLLAB_PAGE)
        materialise_page(&c, project_id, item, json, n, if_ver, written);
    else
        materialise_file(&c, project_id, item, json, n, if_ver, written);
}

static bool bind_binds(void *ctx, const char *doc)
{
    (void)ctx;
    char item[COLLAB_DOC_MAX + 16];
    collab_kind kind;
    return doc_file(doc, item, sizeof(item), &kind) != NULL;
}

void api_collab_bind(api_app *app)
{
    collab_binding b = {.ctx = app,
                        .seed = bind_seed,
                        .materialise = bind_materialise,
                        .binds = bind_binds,
                        .on_user_left = api_locks_user_left};
    collab_hub_bind(app->collab, &b);
}

void api_collab_rest_write(net_req *req, api_app *app, const char *project_id, sb_str doc,
                           sb_str content, int64_t version)
{
    if (app->collab)
        collab_set_content(app->collab, req->loop, project_id, doc, content, version);
}
