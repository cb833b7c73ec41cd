/*
 * branch_rooms.c: each branch has its own live collaborative documents
 * (docs/vcs.md, "Branch rooms"). The document "branch/<name>/page:<id>"
 * (or code:<path>, style:<name>) is the page or file <id> on branch
 * <name>; a client switches to a branch by connecting to those names.
 *
 *   seed      a branch document nothing was stored for starts as the file
 *             of its path at the branch head (pages/<id>.json, files/<path>);
 *             it is never materialised into the live pages and files, which
 *             are the default branch's;
 *   access    viewers and up of the project read a branch's documents,
 *             editors and up write them; guests and strangers get 404, as
 *             for the history (the branch must exist);
 *   changes   POST .../vcs/commits {branch, from_live: true}: the branch's
 *             stored documents as a change list on its head;
 *   follow    after a merge, a rollback or a change-list commit moved a
 *             branch, each changed path's stored document is handed the
 *             new content through its room (collab_set_content), as the
 *             default branch's documents follow the live tables.
 *
 * Seeds run on the worker pool with that thread's store; the others on
 * the request's loop.
 */
#include <string.h>

#include "api/domain.h"
#include "base/clock.h"
#include "base/log.h"
#include "collab/collab.h"
#include "collab/persist.h"
#include "vcs/vcs.h"

#define DOCS_MAX VCS_CHANGES_MAX /* a branch's documents one commit takes */

/* The tree path of a branch document's part (page:<id>, code:<path>; a
 * style is stored as its code: document), in buf; NULL for components. */
static const char *tree_path(sb_str rest, collab_kind *kind, char *buf, size_t cap)
{
    sb_str item;
    if (!collab_doc_parse(rest, kind, &item))
        return NULL;
    int n;
    if (*kind == COLLAB_PAGE)
        n = snprintf(buf, cap, "pages/%.*s.json", (int)item.len, item.ptr);
    else if (*kind == COLLAB_CODE)
        n = snprintf(buf, cap, "files/%.*s", (int)item.len, item.ptr);
    else if (*kind == COLLAB_STYLE)
        n = snprintf(buf, cap, "files/styles/%.*s.css", (int)item.len, item.ptr);
    else
        return NULL;
    return n > 0 && (size_t)n < cap ? buf : NULL;
}

static projects_ctx system_ctx(api_app *app, store *db)
{
    return (projects_ctx){.db = db,
                          .blobs = app->blobs,
                          .now_us = sb_wall_us(),
                          .limits = &app->limits,
                          .system = true};
}

static bool branch_seed(void *ctx, store *db, const char *project_id, const char *doc, crdt_doc *d,
                        bool empty, sb_buf *update, int64_t *version, sb_errbuf *err)
{
    *version = 0; /* no REST item: every follow (version: its time) is newer */
    if (!empty)
        return true;
    api_app *app = ctx;
    sb_str branch, rest;
    char path[COLLAB_DOC_MAX + 32];
    collab_kind kind;
    if (!collab_doc_branch(sb_str_c(doc), &branch, &rest) ||
        !tree_path(rest, &kind, path, sizeof(path)))
        return true;
    projects_ctx c = system_ctx(app, db);
    sb_buf content = SB_BUF_INIT;
    projects_err e = vcs_read(&c, sb_str_c(project_id), branch, sb_str_c(path), &content);
    bool ok = true;
    if (e == PROJECTS_OK) {
        crdt_err ce = collab_content_seed(d, kind, sb_buf_str(&content), update);
        if (ce != CRDT_OK)
            sb_log(SB_LOG_WARN, "collab: cannot seed a branch document", SB_LOG_STR("doc", doc),
                   SB_LOG_STR("error", crdt_strerror(ce)));
    } else if (e != PROJECTS_NOT_FOUND) {
        sb_errf(err, "reading the branch head: %s", projects_err_code(e));
        ok = false;
    } /* NOT_FOUND: a path the head lacks, or a branch deleted since: it starts empty */
    sb_buf_free(&content);
    return ok;
}

void api_branch_rooms_bind(api_app *app)
{
    collab_binding b = {.ctx = app, .seed = branch_seed}; /* never materialised */
    collab_branch_bind(app->collab, &b);
}

projects_err api_branch_rooms_access(projects_ctx *c, sb_str project_id, sb_str branch,
                                     bool *can_write)
{
    char head[VCS_OID_HEX + 1];
    *can_write = false;
    projects_err e = vcs_branch_head(c, project_id, branch, head);
    if (e != PROJECTS_OK)
        return e;
    /* editors and up write; a viewer's "no" is a read-only connection */
    e = projects_project_authorize(c, project_id, AUTHZ_EDIT, true);
    *can_write = e == PROJECTS_OK;
    return e == PROJECTS_OK || e == PROJECTS_FORBIDDEN ? PROJECTS_OK : e;
}

/* ---- commits from a branch's documents ---- */

/* A page document ({name, path, components, metadata}, each when held)
 * over the page at the head (or a new one): the page object of the tree,
 * or NULL when it is the head's (equal as JSON: a room may render keys in
 * another order than the head's bytes, which must not make a change). */
static json_t *page_of(projects_ctx *c, sb_str project_id, sb_str branch, const char *path,
                       const char *json, size_t n)
{
    json_t *docj = json_loadb(json, n, 0, NULL);
    if (!json_is_object(docj)) {
        json_decref(docj);
        return NULL;
    }
    sb_buf head = SB_BUF_INIT;
    json_t *page = NULL;
    if (vcs_read(c, project_id, branch, sb_str_c(path), &head) == PROJECTS_OK)
        page = json_loadb(head.ptr, head.len, 0, NULL);
    sb_buf_free(&head);
    if (!json_is_object(page)) {
        json_decref(page);
        size_t idn = strlen(path) - strlen("pages/") - strlen(".json");
        page = json_pack("{s:s%,s:b,s:{},s:[]}", "id", path + 6, idn, "published", 0, "metadata",
                         "components");
    }
    json_t *was = json_deep_copy(page);
    static const char *const keys[] = {"name", "path", "components", "metadata"};
    for (size_t i = 0; i < SB_ARRAY_LEN(keys); i++) {
        json_t *v = json_object_get(docj, keys[i]);
        if (v)
            json_object_set(page, keys[i], v);
    }
    json_decref(docj);
    if (json_equal(page, was)) {
        json_decref(page);
        page = NULL;
    }
    json_decref(was);
    return page;
}

/* One stored document of the branch as a change, appended to changes;
 * false on a store failure. */
static bool doc_change(projects_ctx *c, sb_str project_id, sb_str branch, const char *pid,
                       const char *doc, json_t *changes, sb_errbuf *err)
{
    sb_str b, rest;
    char path[COLLAB_DOC_MAX + 32];
    collab_kind kind;
    if (!collab_doc_branch(sb_str_c(doc), &b, &rest) || !sb_str_eq(b, branch) ||
        !tree_path(rest, &kind, path, sizeof(path)))
        return true; /* a nested branch's document, or a component */
    crdt_doc *d = NULL;
    int64_t last_seq, nlog;
    if (!collab_persist_load(c->db, pid, doc, &d, &last_seq, &nlog, err))
        return false;
    int ck;
    const char *root = collab_doc_root(kind, &ck);
    sb_buf json = SB_BUF_INIT;
    crdt_err ce = crdt_doc_json(d, sb_str_c(root), (crdt_kind)ck, &json);
    crdt_doc_free(d);
    if (ce != CRDT_OK) {
        /* a root of another type (a hand-made client): not a page or file */
        sb_log(SB_LOG_WARN, "vcs: a branch document is not its kind", SB_LOG_STR("doc", doc),
               SB_LOG_STR("error", crdt_strerror(ce)));
        sb_buf_free(&json);
        return true;
    }
    json_t *change = NULL;
    if (kind == COLLAB_PAGE) {
        json_t *page = page_of(c, project_id, branch, path, json.ptr, json.len);
        if (page)
            change = json_pack("{s:s,s:o}", "path", path, "page", page);
    } else {
        json_t *text = json_loadb(json.ptr, json.len, JSON_DECODE_ANY, NULL);
        if (json_is_string(text))
            change = json_pack("{s:s,s:O}", "path", path, "content", text);
        json_decref(text);
    }
    sb_buf_free(&json);
    if (change)
        json_array_append_new(changes, change);
    return true;
}

projects_err api_branch_rooms_changes(projects_ctx *c, sb_str project_id, sb_str branch,
                                      json_t **changes, projects_problem *p)
{
    *changes = NULL;
    char head[VCS_OID_HEX + 1];
    projects_err e = projects_project_authorize(c, project_id, AUTHZ_EDIT, true);
    if (e != PROJECTS_OK)
        return e;
    if ((e = vcs_branch_head(c, project_id, branch, head)) == PROJECTS_NOT_FOUND)
        p->field = "branch", snprintf(p->message, sizeof(p->message), "no such branch");
    if (e != PROJECTS_OK)
        return e;
    char pid[SB_UUID_STR_LEN];
    snprintf(pid, sizeof(pid), "%.*s", (int)project_id.len, project_id.ptr);
    sb_buf prefix = SB_BUF_INIT;
    sb_buf_appendf(&prefix, "branch/%.*s/", (int)branch.len, branch.ptr);
    /* The names first, then each document: a document loads with reads
     * of its own on the same connection. */
    store_stmt *st;
    sb_errbuf err = {{0}};
    store_err se = store_prepare(c->db,
                                 "SELECT doc FROM collab_docs WHERE project_id = $1 AND "
                                 "substr(doc, 1, length($2)) = $2 UNION "
                                 "SELECT doc FROM collab_updates WHERE project_id = $1 AND "
                                 "substr(doc, 1, length($2)) = $2 ORDER BY 1",
                                 &st, &err);
    json_t *names = json_array();
    if (se == STORE_OK) {
        store_bind_cstr(st, 1, pid);
        store_bind_cstr(st, 2, sb_buf_str(&prefix).ptr);
        while ((se = store_step(st, &err)) == STORE_ROW && json_array_size(names) < DOCS_MAX)
            json_array_append_new(names, json_string(store_col_text(st, 0, NULL)));
        store_reset(st);
        if (se == STORE_ROW)
            se = STORE_DONE; /* past DOCS_MAX: the first ones, by name */
    }
    sb_buf_free(&prefix);
    json_t *out = json_array();
    bool ok = se == STORE_DONE;
    size_t i;
    json_t *n;
    json_array_foreach(names, i, n)
    {
        if (!ok)
            break;
        ok = doc_change(c, project_id, branch, pid, json_string_value(n), out, &err);
    }
    json_decref(names);
    if (!ok) {
        sb_log(SB_LOG_ERROR, "vcs: cannot read a branch's documents", SB_LOG_STR("error", err.msg));
        json_decref(out);
        return PROJECTS_STORE;
    }
    *changes = out;
    return PROJECTS_OK;
}

/* ---- rooms follow their branch ---- */

typedef struct follow {
    api_app *app;
    net_req *req;
    projects_ctx *c;
    char pid[SB_UUID_STR_LEN];
    sb_str branch;
    int64_t version;
    size_t posted;
} follow;

/* Whether anything is stored for the document: one never opened seeds
 * from the new head when it first opens, and needs nothing now. */
static bool stored(projects_ctx *c, const char *pid, const char *doc)
{
    store_stmt *st;
    sb_errbuf err = {{0}};
    if (store_prepare(c->db,
                      "SELECT 1 FROM collab_docs WHERE project_id = $1 AND doc = $2 UNION ALL "
                      "SELECT 1 FROM collab_updates WHERE project_id = $1 AND doc = $2 LIMIT 1",
                      &st, &err) != STORE_OK)
        return true; /* when in doubt, hand it over: the room diffs */
    store_bind_cstr(st, 1, pid);
    store_bind_cstr(st, 2, doc);
    store_err e = store_step(st, &err);
    store_reset(st);
    return e != STORE_DONE;
}

static void follow_path(void *ctx, const char *path, const sb_str *content)
{
    follow *f = ctx;
    if (!content)
        return; /* deleted on the branch: its document stays as it was */
    sb_buf doc = SB_BUF_INIT;
    if (strncmp(path, "pages/", 6) == 0 && strlen(path) > 11)
        sb_buf_appendf(&doc, "branch/%.*s/page:%.*s", (int)f->branch.len, f->branch.ptr,
                       (int)(strlen(path) - 11), path + 6);
    else if (strncmp(path, "files/", 6) == 0)
        sb_buf_appendf(&doc, "branch/%.*s/code:%s", (int)f->branch.len, f->branch.ptr, path + 6);
    collab_kind kind;
    sb_str item;
    if (doc.len && doc.len <= COLLAB_DOC_MAX && collab_doc_parse(sb_buf_str(&doc), &kind, &item) &&
        stored(f->c, f->pid, doc.ptr)) {
        collab_set_content(f->app->collab, f->req->loop, f->pid, sb_buf_str(&doc), *content,
                           f->version);
        f->posted++;
    }
    sb_buf_free(&doc);
}

void api_branch_rooms_follow(net_req *req, api_app *app, projects_ctx *c, sb_str project_id,
                             sb_str branch, const char *from)
{
    char to[VCS_OID_HEX + 1];
    if (!app->collab || !from[0] || branch.len == 0 ||
        sb_str_eq(branch, SB_STR(VCS_DEFAULT_BRANCH)) ||
        vcs_branch_head(c, project_id, branch, to) != PROJECTS_OK || strcmp(from, to) == 0)
        return;
    follow f = {.app = app, .req = req, .c = c, .branch = branch, .version = sb_wall_us()};
    snprintf(f.pid, sizeof(f.pid), "%.*s", (int)project_id.len, project_id.ptr);
    /* The room applies a content only when its version is newer than the
     * newest it holds: the time of the move orders moves of one branch. */
    projects_err e =
        vcs_changed_paths(c, project_id, sb_str_c(from), sb_str_c(to), follow_path, &f);
    if (e != PROJECTS_OK)
        sb_log(SB_LOG_WARN, "vcs: branch rooms did not follow", SB_LOG_STR("branch", to),
               SB_LOG_STR("error", projects_err_code(e)));
}
