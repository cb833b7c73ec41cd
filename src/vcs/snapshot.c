/*
 * snapshot.c: the project's live content (the default branch's live
 * documents: the pages, files and assets tables) as a git tree, in the
 * layout vcs.h describes. It reads the projects service's tables
 * directly, in one pass each: the caller has been authorized on the
 * project, and a snapshot is a read of everything.
 */
#include <string.h>

#include "vcs/vcs_int.h"

typedef struct updates {
    git_tree_update *u;
    size_t n, cap;
    char **paths; /* owned */
} updates;

static void add(updates *up, const char *path, const git_oid *oid)
{
    if (up->n == up->cap) {
        up->cap = up->cap ? 2 * up->cap : 64;
        up->u = realloc(up->u, up->cap * sizeof(*up->u));
        up->paths = realloc(up->paths, up->cap * sizeof(*up->paths));
        if (!up->u || !up->paths)
            sb_die("out of memory snapshotting a project");
    }
    up->paths[up->n] = strdup(path);
    if (!up->paths[up->n])
        sb_die("out of memory snapshotting a project");
    up->u[up->n] = (git_tree_update){.action = GIT_TREE_UPDATE_UPSERT,
                                     .id = *oid,
                                     .filemode = GIT_FILEMODE_BLOB,
                                     .path = up->paths[up->n]};
    up->n++;
}

static void updates_free(updates *up)
{
    for (size_t i = 0; i < up->n; i++)
        free(up->paths[i]);
    free(up->paths);
    free(up->u);
}

/* Writes a JSON value as a blob: 2-space indented, a final newline. */
static int json_blob(vcs__repo *r, const json_t *v, git_oid *oid)
{
    char *s = json_dumps(v, JSON_INDENT(2) | JSON_PRESERVE_ORDER);
    if (!s)
        sb_die("out of memory writing JSON");
    size_t n = strlen(s);
    sb_buf b = SB_BUF_INIT;
    sb_buf_append(&b, s, n);
    sb_buf_putc(&b, '\n');
    free(s);
    int rc = git_blob_create_from_buffer(oid, r->git, b.ptr, b.len);
    sb_buf_free(&b);
    return rc;
}

static json_t *parse_or(const char *text, json_t *fallback)
{
    json_t *v = text ? json_loads(text, JSON_DECODE_ANY, NULL) : NULL;
    if (!v)
        return fallback;
    json_decref(fallback);
    return v;
}

static projects_err query(vcs__repo *r, const char *sql, store_stmt **st)
{
    sb_errbuf err = {{0}};
    store_err e = store_prepare(r->c->db, sql, st, &err);
    if (e != STORE_OK) {
        sb_log(SB_LOG_ERROR, "vcs snapshot failed", SB_LOG_STR("error", err.msg));
        return PROJECTS_STORE;
    }
    store_bind_cstr(*st, 1, r->project_id);
    return PROJECTS_OK;
}

static projects_err finish(store_stmt *st, store_err e, const sb_errbuf *err)
{
    store_reset(st);
    if (e == STORE_DONE)
        return PROJECTS_OK;
    sb_log(SB_LOG_ERROR, "vcs snapshot failed", SB_LOG_STR("error", err->msg));
    return e == STORE_BUSY ? PROJECTS_STORE : PROJECTS_INTERNAL;
}

static projects_err pages(vcs__repo *r, updates *up)
{
    store_stmt *st;
    projects_err pe = query(r,
                            "SELECT id, name, path, published, metadata, components FROM pages "
                            "WHERE project_id = $1",
                            &st);
    if (pe != PROJECTS_OK)
        return pe;
    store_err e;
    sb_errbuf err = {{0}};
    while ((e = store_step(st, &err)) == STORE_ROW) {
        json_t *pg = json_object();
        const char *id = store_col_text(st, 0, NULL);
        json_object_set_new(pg, "id", json_string(id));
        json_object_set_new(pg, "name", json_string(store_col_text(st, 1, NULL)));
        json_object_set_new(pg, "path", json_string(store_col_text(st, 2, NULL)));
        json_object_set_new(pg, "published", json_boolean(store_col_bool(st, 3)));
        json_object_set_new(pg, "metadata", parse_or(store_col_text(st, 4, NULL), json_object()));
        json_object_set_new(pg, "components", parse_or(store_col_text(st, 5, NULL), json_array()));
        git_oid oid;
        int rc = json_blob(r, pg, &oid);
        json_decref(pg);
        if (rc < 0) {
            store_reset(st);
            return vcs__git_fail("writing a page", rc);
        }
        char path[64];
        snprintf(path, sizeof(path), "pages/%s.json", id);
        add(up, path, &oid);
    }
    return finish(st, e, &err);
}

static projects_err files(vcs__repo *r, updates *up)
{
    store_stmt *st;
    projects_err pe = query(r, "SELECT path, content FROM files WHERE project_id = $1", &st);
    if (pe != PROJECTS_OK)
        return pe;
    store_err e;
    sb_errbuf err = {{0}};
    sb_buf path = SB_BUF_INIT;
    while ((e = store_step(st, &err)) == STORE_ROW) {
        size_t n;
        const void *data = store_col_blob(st, 1, &n);
        git_oid oid;
        int rc = git_blob_create_from_buffer(&oid, r->git, n ? data : "", n);
        if (rc < 0) {
            store_reset(st);
            sb_buf_free(&path);
            return vcs__git_fail("writing a file", rc);
        }
        sb_buf_reset(&path);
        sb_buf_appendf(&path, "files/%s", store_col_text(st, 0, NULL));
        add(up, path.ptr, &oid);
    }
    sb_buf_free(&path);
    return finish(st, e, &err);
}

static projects_err assets(vcs__repo *r, updates *up)
{
    store_stmt *st;
    projects_err pe =
        query(r, "SELECT id, sha256, type, size, filename FROM assets WHERE project_id = $1", &st);
    if (pe != PROJECTS_OK)
        return pe;
    store_err e;
    sb_errbuf err = {{0}};
    while ((e = store_step(st, &err)) == STORE_ROW) {
        json_t *a = json_object();
        const char *id = store_col_text(st, 0, NULL);
        json_object_set_new(a, "id", json_string(id));
        json_object_set_new(a, "sha256", json_string(store_col_text(st, 1, NULL)));
        json_object_set_new(a, "type", json_string(store_col_text(st, 2, NULL)));
        json_object_set_new(a, "size", json_integer(store_col_int(st, 3)));
        const char *fn = store_col_text(st, 4, NULL);
        json_object_set_new(a, "filename", fn ? json_string(fn) : json_null());
        git_oid oid;
        int rc = json_blob(r, a, &oid);
        json_decref(a);
        if (rc < 0) {
            store_reset(st);
            return vcs__git_fail("writing an asset reference", rc);
        }
        char path[64];
        snprintf(path, sizeof(path), "assets/%s.json", id);
        add(up, path, &oid);
    }
    return finish(st, e, &err);
}

projects_err vcs__snapshot(vcs__repo *r, git_oid *tree)
{
    updates up = {0};
    projects_err pe = pages(r, &up);
    if (pe == PROJECTS_OK)
        pe = files(r, &up);
    if (pe == PROJECTS_OK)
        pe = assets(r, &up);
    if (pe == PROJECTS_OK) {
        int rc = git_tree_create_updated(tree, r->git, NULL, up.n, up.u);
        if (rc < 0)
            pe = vcs__git_fail("writing a tree", rc);
    }
    updates_free(&up);
    return pe;
}
