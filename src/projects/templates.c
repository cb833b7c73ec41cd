/*
 * templates.c: templates are snapshots of a project's pages and files.
 * A project created from one gets copies of the pages with fresh
 * component ids (tree.h), so two projects never share an element id,
 * and records {id, version, customizations} as its template.
 *
 * Who may use a template: its creator, and the team's members who may
 * edit its projects (editors and up), who could read all of it in the
 * project anyway. A template holds drafts and code files, so it is never
 * shared more widely than its source: one made from a private project is
 * its creator's alone, and team viewers and guests see no templates.
 */
#include <stdlib.h>
#include <string.h>

#include "base/clock.h"
#include "projects/projects_int.h"
#include "projects/tree.h"

#define NAME_MAX_CHARS 100

static projects_err write_template(projects_ctx *c, const char *id, sb_jw *out);

projects_err projects_template_create(projects_ctx *c, sb_str project_id, sb_str name,
                                      sb_str description, sb_jw *out, projects_problem *p)
{
    projects__proj pr;
    projects_err r = projects__project(c, project_id, AUTHZ_EDIT, &pr);
    if (r != PROJECTS_OK)
        return r;
    if (!projects__text_ok(name, 1, NAME_MAX_CHARS))
        return projects__invalid(p, "name", "must be 1 to 100 characters of text");
    if (description.len && !projects__text_ok(description, 0, 2000))
        return projects__invalid(p, "description", "must be at most 2000 characters of text");
    sb_errbuf err;
    store_stmt *st;
    /* Snapshot pages and files as JSON arrays. */
    json_t *pages = json_array(), *files = json_array();
    store_err e = store_prepare(c->db,
                                "SELECT name, path, components, metadata FROM pages "
                                "WHERE project_id = $1 ORDER BY path",
                                &st, &err);
    if (e == STORE_OK) {
        store_bind_cstr(st, 1, pr.id);
        while ((e = store_step(st, &err)) == STORE_ROW)
            json_array_append_new(
                pages, json_pack("{s:s, s:s, s:o, s:o}", "name", store_col_text(st, 0, NULL),
                                 "path", store_col_text(st, 1, NULL), "components",
                                 json_loads(store_col_text(st, 2, NULL), 0, NULL), "metadata",
                                 json_loads(store_col_text(st, 3, NULL), 0, NULL)));
        store_reset(st);
    }
    if (e == STORE_DONE)
        e = store_prepare(c->db,
                          "SELECT path, content, language FROM files WHERE project_id = $1 "
                          "ORDER BY path",
                          &st, &err);
    if (e == STORE_OK) {
        store_bind_cstr(st, 1, pr.id);
        while ((e = store_step(st, &err)) == STORE_ROW) {
            size_t n;
            const char *content = store_col_blob(st, 1, &n);
            json_array_append_new(files,
                                  json_pack("{s:s, s:s%, s:s}", "path", store_col_text(st, 0, NULL),
                                            "content", content ? content : "", n, "language",
                                            store_col_text(st, 2, NULL)));
        }
        store_reset(st);
    }
    char *pages_text = json_dumps(pages, JSON_COMPACT | JSON_PRESERVE_ORDER);
    char *files_text = json_dumps(files, JSON_COMPACT | JSON_PRESERVE_ORDER);
    json_decref(pages);
    json_decref(files);
    char id[SB_UUID_STR_LEN];
    projects__new_id(id);
    if (e == STORE_DONE)
        e = store_prepare(c->db,
                          "INSERT INTO templates (id, name, description, team_id, created_by, "
                          "pages, files, created_at, updated_at) "
                          "VALUES ($1, $2, $3, $4, $5, $6, $7, $8, $8)",
                          &st, &err);
    if (e == STORE_OK) {
        store_bind_cstr(st, 1, id);
        store_bind_text(st, 2, name.ptr, name.len);
        store_bind_text(st, 3, description.ptr ? description.ptr : "", description.len);
        bool team = pr.team_id[0] && pr.r.visibility != AUTHZ_PRIVATE;
        store_bind_cstr(st, 4, team ? pr.team_id : NULL);
        store_bind_cstr(st, 5, c->caller.user_id);
        store_bind_cstr(st, 6, pages_text);
        store_bind_cstr(st, 7, files_text);
        store_bind_int(st, 8, c->now_us);
        e = store_step(st, &err);
        store_reset(st);
    }
    free(pages_text);
    free(files_text);
    if (e != STORE_DONE)
        return projects__store(c, "creating a template", e, &err);
    return write_template(c, id, out);
}

#define TEMPLATE_VISIBLE                                                                           \
    "(t.created_by = $1 OR t.team_id IN (SELECT team_id FROM team_members WHERE user_id = $1 "     \
    "AND role IN ('owner', 'admin', 'editor')))"

static void write_row(sb_jw *w, store_stmt *st)
{
    /* id, name, description, team_id, version, created_at, pages */
    char t[SB_RFC3339_LEN];
    sb_jw_obj_begin(w);
    sb_jw_kv_str(w, "id", store_col_text(st, 0, NULL));
    sb_jw_kv_str(w, "name", store_col_text(st, 1, NULL));
    sb_jw_kv_str(w, "description", store_col_text(st, 2, NULL));
    sb_jw_kv_str(w, "team_id", store_col_text(st, 3, NULL));
    sb_jw_kv_int(w, "version", store_col_int(st, 4));
    sb_jw_kv_str(w, "created_at", sb_rfc3339(store_col_int(st, 5), t));
    json_t *pages = json_loads(store_col_text(st, 6, NULL), 0, NULL);
    sb_jw_kv_int(w, "pages", (int64_t)json_array_size(pages));
    json_decref(pages);
    sb_jw_obj_end(w);
}

#define TEMPLATE_COLS "t.id, t.name, t.description, t.team_id, t.version, t.created_at, t.pages"

static projects_err write_template(projects_ctx *c, const char *id, sb_jw *out)
{
    sb_errbuf err;
    store_stmt *st;
    store_err e = store_prepare(c->db, "SELECT " TEMPLATE_COLS " FROM templates t WHERE t.id = $1",
                                &st, &err);
    if (e != STORE_OK)
        return projects__store(c, "reading a template", e, &err);
    store_bind_cstr(st, 1, id);
    e = store_step(st, &err);
    if (e == STORE_ROW)
        write_row(out, st);
    store_reset(st);
    if (e == STORE_DONE)
        return PROJECTS_NOT_FOUND;
    return e == STORE_ROW ? PROJECTS_OK : projects__store(c, "reading a template", e, &err);
}

projects_err projects_template_list(projects_ctx *c, sb_jw *out)
{
    if (!c->caller.user_id)
        return PROJECTS_NOT_FOUND;
    sb_errbuf err;
    store_stmt *st;
    store_err e = store_prepare(
        c->db, "SELECT " TEMPLATE_COLS " FROM templates t WHERE " TEMPLATE_VISIBLE " ORDER BY t.id",
        &st, &err);
    if (e != STORE_OK)
        return projects__store(c, "listing templates", e, &err);
    store_bind_cstr(st, 1, c->caller.user_id);
    sb_jw_obj_begin(out);
    sb_jw_key(out, "items");
    sb_jw_arr_begin(out);
    while ((e = store_step(st, &err)) == STORE_ROW)
        write_row(out, st);
    store_reset(st);
    sb_jw_arr_end(out);
    sb_jw_kv_str(out, "next_cursor", NULL);
    sb_jw_obj_end(out);
    return e == STORE_DONE ? PROJECTS_OK : projects__store(c, "listing templates", e, &err);
}

/* Called by project.c inside its transaction. */
projects_err projects__template_apply(projects_ctx *c, const char *project_id, sb_str template_id,
                                      const json_t *customizations, projects_problem *p)
{
    if (customizations && !json_is_object(customizations))
        return projects__invalid(p, "customizations", "must be an object");
    if (!projects__id_ok(template_id))
        return projects__invalid(p, "template_id", "must be the id of a template you can use");
    sb_errbuf err;
    store_stmt *st;
    store_err e = store_prepare(c->db,
                                "SELECT t.version, t.pages, t.files FROM templates t WHERE "
                                "t.id = $2 AND " TEMPLATE_VISIBLE,
                                &st, &err);
    if (e != STORE_OK)
        return projects__store(c, "reading a template", e, &err);
    store_bind_cstr(st, 1, c->caller.user_id);
    store_bind_text(st, 2, template_id.ptr, template_id.len);
    e = store_step(st, &err);
    if (e != STORE_ROW) {
        store_reset(st);
        if (e == STORE_DONE)
            return projects__invalid(p, "template_id", "must be the id of a template you can use");
        return projects__store(c, "reading a template", e, &err);
    }
    int64_t version = store_col_int(st, 0);
    json_t *pages = json_loads(store_col_text(st, 1, NULL), 0, NULL);
    json_t *files = json_loads(store_col_text(st, 2, NULL), 0, NULL);
    store_reset(st);
    e = STORE_DONE; /* each insert below leaves DONE on success */
    size_t i;
    json_t *v;
    json_array_foreach(pages, i, v)
    {
        if (e != STORE_DONE)
            break;
        char id[SB_UUID_STR_LEN];
        projects__new_id(id);
        json_t *tree = projects_tree_copy_fresh(json_object_get(v, "components"));
        char *tree_text = json_dumps(tree, JSON_COMPACT | JSON_PRESERVE_ORDER);
        char *meta = json_dumps(json_object_get(v, "metadata"), JSON_COMPACT | JSON_PRESERVE_ORDER);
        json_decref(tree);
        e = store_prepare(c->db,
                          "INSERT INTO pages (id, project_id, name, path, components, metadata, "
                          "created_at, updated_at) VALUES ($1, $2, $3, $4, $5, $6, $7, $7)",
                          &st, &err);
        if (e == STORE_OK) {
            store_bind_cstr(st, 1, id);
            store_bind_cstr(st, 2, project_id);
            store_bind_cstr(st, 3, json_string_value(json_object_get(v, "name")));
            store_bind_cstr(st, 4, json_string_value(json_object_get(v, "path")));
            store_bind_cstr(st, 5, tree_text);
            store_bind_cstr(st, 6, meta);
            store_bind_int(st, 7, c->now_us);
            e = store_step(st, &err);
            store_reset(st);
        }
        free(tree_text);
        free(meta);
    }
    json_array_foreach(files, i, v)
    {
        if (e != STORE_DONE)
            break;
        const json_t *content = json_object_get(v, "content");
        e = store_prepare(c->db,
                          "INSERT INTO files (project_id, path, content, language, size, "
                          "created_at, updated_at) VALUES ($1, $2, $3, $4, $5, $6, $6)",
                          &st, &err);
        if (e == STORE_OK) {
            store_bind_cstr(st, 1, project_id);
            store_bind_cstr(st, 2, json_string_value(json_object_get(v, "path")));
            store_bind_blob(st, 3, json_string_value(content), json_string_length(content));
            store_bind_cstr(st, 4, json_string_value(json_object_get(v, "language")));
            store_bind_int(st, 5, (int64_t)json_string_length(content));
            store_bind_int(st, 6, c->now_us);
            e = store_step(st, &err);
            store_reset(st);
        }
    }
    json_decref(pages);
    json_decref(files);
    if (e != STORE_DONE)
        return projects__store(c, "copying a template", e, &err);
    json_t *ref = json_pack("{s:s%, s:I, s:o}", "id", template_id.ptr, template_id.len, "version",
                            (json_int_t)version, "customizations",
                            customizations ? json_deep_copy(customizations) : json_object());
    char *text = json_dumps(ref, JSON_COMPACT | JSON_PRESERVE_ORDER);
    json_decref(ref);
    e = projects__exec(c->db, "UPDATE projects SET template = $2 WHERE id = $1",
                       (const char *const[]){project_id, text}, 2, NULL, &err);
    free(text);
    return e == STORE_OK ? PROJECTS_OK : projects__store(c, "copying a template", e, &err);
}
