/*
 * files.c: a project's code files, by path ("src/app.js"). Paths are
 * normalised by path.c (no "..", no absolute paths, no NUL or control
 * bytes, length limits; case-sensitive), so the stored path is the one
 * name of a file. The language comes from the extension unless the
 * client names one; content is UTF-8 text up to limits->file_max bytes.
 */
#include <string.h>

#include "base/clock.h"
#include "base/utf8.h"
#include "projects/path.h"
#include "projects/projects_int.h"

#define LANGUAGE_MAX 32

static void write_file(sb_jw *w, store_stmt *st)
{
    /* path, language, size, version, created_at, updated_at */
    char t[SB_RFC3339_LEN];
    sb_jw_obj_begin(w);
    sb_jw_kv_str(w, "path", store_col_text(st, 0, NULL));
    sb_jw_kv_str(w, "language", store_col_text(st, 1, NULL));
    sb_jw_kv_int(w, "size", store_col_int(st, 2));
    sb_jw_kv_int(w, "version", store_col_int(st, 3));
    sb_jw_kv_str(w, "created_at", sb_rfc3339(store_col_int(st, 4), t));
    sb_jw_kv_str(w, "updated_at", sb_rfc3339(store_col_int(st, 5), t));
    sb_jw_obj_end(w);
}

#define FILE_COLS "path, language, size, version, created_at, updated_at"

static projects_err normalize(sb_str path, char out[PROJECTS_PATH_OUT_CAP], projects_problem *p)
{
    size_t n;
    projects_path_err e = projects_path_normalize(path, out, PROJECTS_PATH_OUT_CAP, &n);
    if (e != PROJECTS_PATH_OK)
        return projects__invalid(p, "path", projects_path_strerror(e));
    return PROJECTS_OK;
}

static projects_err check_content(projects_ctx *c, sb_str content, projects_problem *p)
{
    if (content.len > c->limits->file_max) {
        p->field = "content";
        snprintf(p->message, sizeof(p->message), "must be at most %zu bytes", c->limits->file_max);
        return PROJECTS_TOO_LARGE;
    }
    if (!sb_utf8_valid(content.ptr, content.len, NULL))
        return projects__invalid(p, "content", "must be UTF-8 text");
    return PROJECTS_OK;
}

/* Loads the project for a file action, with the item facts (guests see
 * files shared with them; public visitors see no files: sources are not
 * published content). */
static projects_err authorize(projects_ctx *c, sb_str project_id, const char *path, authz_action a,
                              projects__proj *pr)
{
    projects_err r = projects__project(c, project_id, AUTHZ_READ, pr);
    if (r != PROJECTS_OK)
        return r;
    pr->r.item = true;
    if (authz_effective_role(&pr->r) == AUTHZ_GUEST &&
        (r = projects__shared(c, pr->id, "file", sb_str_c(path), &pr->r.shared)) != PROJECTS_OK)
        return r;
    return projects__decide(c, a, &pr->r);
}

static projects_err write_by_path(projects_ctx *c, const char *project_id, const char *path,
                                  sb_jw *out, projects_ver *ver)
{
    sb_errbuf err;
    store_stmt *st;
    store_err e = store_prepare(
        c->db, "SELECT " FILE_COLS " FROM files WHERE project_id = $1 AND path = $2", &st, &err);
    if (e != STORE_OK)
        return projects__store(c, "reading a file", e, &err);
    store_bind_cstr(st, 1, project_id);
    store_bind_cstr(st, 2, path);
    e = store_step(st, &err);
    if (e == STORE_ROW) {
        if (out)
            write_file(out, st);
        if (ver)
            *ver = store_col_int(st, 3);
    }
    store_reset(st);
    if (e == STORE_DONE)
        return PROJECTS_NOT_FOUND;
    return e == STORE_ROW ? PROJECTS_OK : projects__store(c, "reading a file", e, &err);
}

projects_err projects_file_create(projects_ctx *c, sb_str project_id, sb_str path, sb_str content,
                                  sb_str language, sb_jw *out, projects_problem *p)
{
    char norm[PROJECTS_PATH_OUT_CAP];
    projects__proj pr;
    projects_err r = normalize(path, norm, p);
    /* A new file is added to the project, as a new page is: the project
     * decides (a guest, who sees it, is told 403 like for pages). */
    if (r == PROJECTS_OK)
        r = projects__project(c, project_id, AUTHZ_EDIT, &pr);
    if (r == PROJECTS_OK)
        r = check_content(c, content, p);
    if (r != PROJECTS_OK)
        return r;
    const char *lang = projects_path_language(sb_str_c(norm));
    char given[LANGUAGE_MAX + 1];
    if (language.ptr) {
        for (size_t i = 0; i < language.len; i++) {
            char ch = language.ptr[i];
            if (!((ch >= 'a' && ch <= 'z') || (ch >= '0' && ch <= '9') || ch == '-' || ch == '+'))
                language.len = 0;
        }
        if (language.len == 0 || language.len > LANGUAGE_MAX)
            return projects__invalid(p, "language",
                                     "must be 1 to 32 of a-z, 0-9, '-' and '+' (javascript)");
        projects__copy(given, sizeof(given), language);
        lang = given;
    }
    sb_errbuf err;
    store_stmt *st;
    store_err e = store_begin(c->db, &err);
    if (e == STORE_OK)
        e = store_prepare(c->db,
                          "INSERT INTO files (project_id, path, content, language, size, "
                          "created_at, updated_at) VALUES ($1, $2, $3, $4, $5, $6, $6)",
                          &st, &err);
    if (e == STORE_OK) {
        store_bind_cstr(st, 1, pr.id);
        store_bind_cstr(st, 2, norm);
        store_bind_blob(st, 3, content.ptr ? content.ptr : "", content.len);
        store_bind_cstr(st, 4, lang);
        store_bind_int(st, 5, (int64_t)content.len);
        store_bind_int(st, 6, c->now_us);
        e = store_step(st, &err);
        store_reset(st);
    }
    if (e == STORE_CONSTRAINT) {
        store_rollback(c->db, NULL);
        p->field = "path";
        snprintf(p->message, sizeof(p->message), "already exists; PUT to change it");
        return PROJECTS_CONFLICT;
    }
    if (e != STORE_DONE)
        return projects__store(c, "creating a file", e, &err);
    if ((r = projects__audit(c, pr.id, "file_created", norm, NULL)) != PROJECTS_OK)
        return r;
    return projects__finish(c, write_by_path(c, pr.id, norm, out, NULL), "creating a file");
}

projects_err projects_file_put(projects_ctx *c, sb_str project_id, sb_str path, sb_str content,
                               projects_ver if_ver, sb_jw *out, projects_ver *ver,
                               projects_problem *p)
{
    char norm[PROJECTS_PATH_OUT_CAP];
    projects__proj pr;
    projects_err r = normalize(path, norm, p);
    if (r == PROJECTS_OK)
        r = authorize(c, project_id, norm, AUTHZ_EDIT, &pr);
    if (r == PROJECTS_OK)
        r = check_content(c, content, p);
    if (r != PROJECTS_OK)
        return r;
    sb_errbuf err;
    store_stmt *st;
    store_err e = store_begin(c->db, &err);
    if (e == STORE_OK)
        e = store_prepare(c->db,
                          "UPDATE files SET content = $1, size = $2, version = version + 1, "
                          "updated_at = $3 WHERE project_id = $4 AND path = $5 "
                          "AND ($6 = 0 OR version = $6)",
                          &st, &err);
    int64_t changed = 0;
    if (e == STORE_OK) {
        store_bind_blob(st, 1, content.ptr ? content.ptr : "", content.len);
        store_bind_int(st, 2, (int64_t)content.len);
        store_bind_int(st, 3, c->now_us);
        store_bind_cstr(st, 4, pr.id);
        store_bind_cstr(st, 5, norm);
        store_bind_int(st, 6, if_ver);
        e = store_step(st, &err);
        changed = store_changes(st);
        store_reset(st);
    }
    if (e != STORE_DONE)
        return projects__store(c, "updating a file", e, &err);
    if (changed == 0) {
        store_rollback(c->db, NULL);
        /* Stale, or absent: tell which. */
        projects_ver cur = 0;
        r = write_by_path(c, pr.id, norm, NULL, &cur);
        return r == PROJECTS_OK ? PROJECTS_STALE : r;
    }
    if ((r = projects__audit(c, pr.id, "file_updated", norm, NULL)) != PROJECTS_OK)
        return r;
    return projects__finish(c, write_by_path(c, pr.id, norm, out, ver), "updating a file");
}

projects_err projects_file_get(projects_ctx *c, sb_str project_id, sb_str path, projects_file *out)
{
    char norm[PROJECTS_PATH_OUT_CAP];
    projects__proj pr;
    projects_problem p;
    /* A path that cannot name a file names no file: 404, not 400, so
     * probing with odd paths learns nothing. */
    if (normalize(path, norm, &p) != PROJECTS_OK)
        return PROJECTS_NOT_FOUND;
    projects_err r = authorize(c, project_id, norm, AUTHZ_READ, &pr);
    if (r != PROJECTS_OK)
        return r;
    sb_errbuf err;
    store_stmt *st;
    store_err e = store_prepare(
        c->db, "SELECT content, version FROM files WHERE project_id = $1 AND path = $2", &st, &err);
    if (e != STORE_OK)
        return projects__store(c, "reading a file", e, &err);
    store_bind_cstr(st, 1, pr.id);
    store_bind_cstr(st, 2, norm);
    e = store_step(st, &err);
    if (e == STORE_ROW) {
        size_t n;
        const void *b = store_col_blob(st, 0, &n);
        sb_buf_append(&out->content, b, n);
        out->version = store_col_int(st, 1);
        out->content_type = projects_path_content_type(sb_str_c(norm));
    }
    store_reset(st);
    if (e == STORE_DONE)
        return PROJECTS_NOT_FOUND;
    return e == STORE_ROW ? PROJECTS_OK : projects__store(c, "reading a file", e, &err);
}

projects_err projects_file_delete(projects_ctx *c, sb_str project_id, sb_str path,
                                  projects_ver if_ver)
{
    char norm[PROJECTS_PATH_OUT_CAP];
    projects__proj pr;
    projects_problem p;
    if (normalize(path, norm, &p) != PROJECTS_OK)
        return PROJECTS_NOT_FOUND;
    projects_err r = authorize(c, project_id, norm, AUTHZ_EDIT, &pr);
    if (r != PROJECTS_OK)
        return r;
    sb_errbuf err;
    int64_t changed = 0;
    char ver[24];
    snprintf(ver, sizeof(ver), "%lld", (long long)if_ver);
    store_err e = store_begin(c->db, &err);
    if (e == STORE_OK)
        e = projects__exec(c->db,
                           "DELETE FROM files WHERE project_id = $1 AND path = $2 AND "
                           "(CAST($3 AS BIGINT) = 0 OR version = CAST($3 AS BIGINT))",
                           (const char *const[]){pr.id, norm, ver}, 3, &changed, &err);
    if (e != STORE_OK)
        return projects__store(c, "deleting a file", e, &err);
    if (changed == 0) {
        store_rollback(c->db, NULL);
        projects_ver cur;
        r = write_by_path(c, pr.id, norm, NULL, &cur);
        return r == PROJECTS_OK ? PROJECTS_STALE : r;
    }
    if ((r = projects__audit(c, pr.id, "file_deleted", norm, NULL)) != PROJECTS_OK)
        return r;
    e = store_commit(c->db, &err);
    return e == STORE_OK ? PROJECTS_OK : projects__store(c, "deleting a file", e, &err);
}

projects_err projects_file_list(projects_ctx *c, sb_str project_id, sb_jw *out)
{
    /* Files are never published: sources are not the site. */
    static const projects__item_list list = {
        "listing files",
        "SELECT " FILE_COLS ", EXISTS (SELECT 1 FROM project_shares s WHERE s.project_id = "
        "files.project_id AND s.user_id = $2 AND s.kind = 'file' AND s.item = files.path) "
        "FROM files WHERE project_id = $1 ORDER BY path",
        6, -1, write_file};
    return projects__list_items(c, project_id, &list, out);
}
