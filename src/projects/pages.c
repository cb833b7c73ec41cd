/*
 * pages.c: a project's pages, each with its component tree. Trees are
 * validated (tree.h: objects, ids unique in the page, depth <= 64, size
 * limits) and stored normalised, so every reader sees props and children
 * on every component.
 *
 * Who sees which page: members with a role read them all; guests only the
 * pages shared with them; anyone, on a public project, the published ones.
 */
#include <stdlib.h>
#include <string.h>

#include "base/clock.h"
#include "projects/projects_int.h"
#include "projects/tree.h"

#define PAGE_NAME_MAX 200
#define PAGE_PATH_MAX 512

#define PAGE_COLS "id, name, path, components, metadata, published, version, created_at, updated_at"

static void write_page(sb_jw *w, store_stmt *st, bool with_tree)
{
    char t[SB_RFC3339_LEN];
    sb_jw_obj_begin(w);
    sb_jw_kv_str(w, "id", store_col_text(st, 0, NULL));
    sb_jw_kv_str(w, "name", store_col_text(st, 1, NULL));
    sb_jw_kv_str(w, "path", store_col_text(st, 2, NULL));
    if (with_tree) {
        size_t n;
        const char *tree = store_col_text(st, 3, &n);
        sb_jw_key(w, "components");
        sb_jw_raw(w, tree, n);
    }
    size_t n;
    const char *meta = store_col_text(st, 4, &n);
    sb_jw_key(w, "metadata");
    sb_jw_raw(w, meta, n);
    sb_jw_kv_bool(w, "published", store_col_bool(st, 5));
    sb_jw_kv_int(w, "version", store_col_int(st, 6));
    sb_jw_kv_str(w, "created_at", sb_rfc3339(store_col_int(st, 7), t));
    sb_jw_kv_str(w, "updated_at", sb_rfc3339(store_col_int(st, 8), t));
    sb_jw_obj_end(w);
}

/* A page's URL path: "/" or "/a/b", printable ASCII without spaces,
 * no "." or ".." segments, no "//". */
static bool page_path_ok(sb_str s)
{
    if (s.len == 0 || s.len > PAGE_PATH_MAX || s.ptr[0] != '/')
        return false;
    for (size_t i = 0; i < s.len; i++) {
        unsigned char ch = (unsigned char)s.ptr[i];
        if (ch <= ' ' || ch >= 0x7f || ch == '\\' || ch == '?' || ch == '#')
            return false;
    }
    size_t i = 1;
    while (i <= s.len) {
        size_t start = i;
        while (i < s.len && s.ptr[i] != '/')
            i++;
        sb_str seg = sb_str_slice(s, start, i);
        if (sb_str_eq(seg, SB_STR(".")) || sb_str_eq(seg, SB_STR("..")))
            return false;
        if (seg.len == 0 && !(s.len == 1))
            return false;
        i++;
    }
    return true;
}

typedef struct page_values {
    char *components, *metadata; /* heap; NULL = keep */
} page_values;

static void values_free(page_values *v)
{
    free(v->components);
    free(v->metadata);
}

static projects_err check_page(projects_ctx *c, const projects_page_input *in, bool creating,
                               page_values *v, projects_problem *p)
{
    if (creating && !in->name.ptr)
        return projects__invalid(p, "name", "is required");
    if (creating && !in->path.ptr)
        return projects__invalid(p, "path", "is required");
    if ((in->name.ptr || creating) && !projects__text_ok(in->name, 1, PAGE_NAME_MAX))
        return projects__invalid(p, "name", "must be 1 to 200 characters of text");
    if ((in->path.ptr || creating) && !page_path_ok(in->path))
        return projects__invalid(p, "path",
                                 "must be a URL path like /about: '/' then segments of visible "
                                 "ASCII, no '.' or '..' segments, at most 512 bytes");
    if (in->components) {
        projects_tree_limits lim = PROJECTS_TREE_LIMITS_DEFAULT;
        projects_tree_error te;
        if (!projects_tree_validate(in->components, &lim, &te))
            return projects__tree_invalid(p, "components", NULL, &te);
        json_t *norm = projects_tree_normalize(in->components);
        projects_err r = projects__tree_text(c, norm, "components", &v->components, p);
        json_decref(norm);
        if (r != PROJECTS_OK)
            return r;
    } else if (creating) {
        v->components = strdup("[]");
    }
    if (in->metadata) {
        if (!json_is_object(in->metadata))
            return projects__invalid(p, "metadata", "must be an object");
        v->metadata = json_dumps(in->metadata, JSON_COMPACT | JSON_PRESERVE_ORDER);
        if (strlen(v->metadata) > 64 * 1024)
            return projects__invalid(p, "metadata", "must be at most 64 KiB as JSON");
    } else if (creating) {
        v->metadata = strdup("{}");
    }
    return PROJECTS_OK;
}

/* Reads page_id of the project, then asks the policy about this item.
 * What the caller asked for of an allowed page: its JSON (out, with or
 * without the tree), its version, its parsed tree (*tree, the caller's). */
static projects_err load_page(projects_ctx *c, projects__proj *pr, sb_str page_id, authz_action a,
                              bool with_tree, sb_jw *out, projects_ver *ver, json_t **tree)
{
    if (!projects__id_ok(page_id))
        return PROJECTS_NOT_FOUND;
    sb_errbuf err;
    store_stmt *st;
    store_err e = store_prepare(
        c->db, "SELECT " PAGE_COLS " FROM pages WHERE id = $1 AND project_id = $2", &st, &err);
    if (e != STORE_OK)
        return projects__store(c, "reading a page", e, &err);
    store_bind_text(st, 1, page_id.ptr, page_id.len);
    store_bind_cstr(st, 2, pr->id);
    e = store_step(st, &err);
    if (e != STORE_ROW) {
        store_reset(st);
        return e == STORE_DONE ? PROJECTS_NOT_FOUND : projects__store(c, "reading a page", e, &err);
    }
    pr->r.item = true;
    pr->r.published = store_col_bool(st, 5);
    projects_err r = PROJECTS_OK;
    if (authz_effective_role(&pr->r) == AUTHZ_GUEST)
        r = projects__shared(c, pr->id, "page", page_id, &pr->r.shared);
    if (r == PROJECTS_OK)
        r = projects__decide(c, a, &pr->r);
    if (r == PROJECTS_OK && out)
        write_page(out, st, with_tree);
    if (r == PROJECTS_OK && tree && !(*tree = json_loads(store_col_text(st, 3, NULL), 0, NULL)))
        r = PROJECTS_INTERNAL; /* the column holds what check_page wrote */
    if (ver)
        *ver = store_col_int(st, 6);
    store_reset(st);
    return r;
}

/* A list's row: the page without its tree. */
static void write_summary(sb_jw *w, store_stmt *st)
{
    write_page(w, st, false);
}

projects_err projects_page_list(projects_ctx *c, sb_str project_id, sb_jw *out)
{
    static const projects__item_list list = {
        "listing pages",
        "SELECT " PAGE_COLS ", EXISTS (SELECT 1 FROM project_shares s WHERE s.project_id = "
        "pages.project_id AND s.user_id = $2 AND s.kind = 'page' AND s.item = pages.id) "
        "FROM pages WHERE project_id = $1 ORDER BY path, id",
        9, 5, write_summary};
    return projects__list_items(c, project_id, &list, out);
}

static projects_err write_by_id(projects_ctx *c, projects__proj *pr, const char *id, sb_jw *out,
                                projects_ver *ver)
{
    return load_page(c, pr, sb_str_c(id), AUTHZ_READ, true, out, ver, NULL);
}

projects_err projects_page_create(projects_ctx *c, sb_str project_id, const projects_page_input *in,
                                  sb_jw *out, char id[SB_UUID_STR_LEN], projects_problem *p)
{
    projects__proj pr;
    projects_err r = projects__project(c, project_id, AUTHZ_EDIT, &pr);
    if (r != PROJECTS_OK)
        return r;
    page_values v = {0};
    if ((r = check_page(c, in, true, &v, p)) != PROJECTS_OK) {
        values_free(&v);
        return r;
    }
    projects__new_id(id);
    sb_errbuf err;
    store_stmt *st;
    store_err e = store_begin(c->db, &err);
    if (e == STORE_OK)
        e = store_prepare(c->db,
                          "INSERT INTO pages (id, project_id, name, path, components, metadata, "
                          "published, created_at, updated_at) "
                          "VALUES ($1, $2, $3, $4, $5, $6, $7, $8, $8)",
                          &st, &err);
    if (e == STORE_OK) {
        store_bind_cstr(st, 1, id);
        store_bind_cstr(st, 2, pr.id);
        store_bind_text(st, 3, in->name.ptr, in->name.len);
        store_bind_text(st, 4, in->path.ptr, in->path.len);
        store_bind_cstr(st, 5, v.components);
        store_bind_cstr(st, 6, v.metadata);
        store_bind_bool(st, 7, in->published == 1);
        store_bind_int(st, 8, c->now_us);
        e = store_step(st, &err);
        store_reset(st);
    }
    values_free(&v);
    if (e == STORE_CONSTRAINT) {
        store_rollback(c->db, NULL);
        p->field = "path";
        snprintf(p->message, sizeof(p->message), "is already the path of another page");
        return PROJECTS_CONFLICT;
    }
    if (e != STORE_DONE)
        return projects__store(c, "creating a page", e, &err);
    if ((r = projects__audit(c, pr.id, "page_created", id, NULL)) != PROJECTS_OK)
        return r;
    return projects__finish(c, write_by_id(c, &pr, id, out, NULL), "creating a page");
}

projects_err projects_page_get(projects_ctx *c, sb_str project_id, sb_str page_id, sb_jw *out,
                               projects_ver *ver)
{
    projects__proj pr;
    projects_err r = projects__project(c, project_id, AUTHZ_READ, &pr);
    if (r != PROJECTS_OK)
        return r;
    return load_page(c, &pr, page_id, AUTHZ_READ, true, out, ver, NULL);
}

projects_err projects_page_put(projects_ctx *c, sb_str project_id, sb_str page_id,
                               const projects_page_input *in, projects_ver if_ver, sb_jw *out,
                               projects_ver *ver, projects_problem *p)
{
    projects__proj pr;
    /* The page decides (load_page): a guest's unshared page is hidden. */
    projects_err r = projects__project(c, project_id, AUTHZ_READ, &pr);
    if (r == PROJECTS_OK)
        r = load_page(c, &pr, page_id, AUTHZ_EDIT, false, NULL, NULL, NULL);
    if (r != PROJECTS_OK)
        return r;
    page_values v = {0};
    if ((r = check_page(c, in, false, &v, p)) != PROJECTS_OK) {
        values_free(&v);
        return r;
    }
    sb_errbuf err;
    store_stmt *st;
    store_err e = store_begin(c->db, &err);
    if (e == STORE_OK)
        e = store_prepare(c->db,
                          "UPDATE pages SET name = COALESCE($1, name), path = COALESCE($2, path), "
                          "components = COALESCE($3, components), "
                          "metadata = COALESCE($4, metadata), "
                          "published = CASE WHEN $5 < 0 THEN published ELSE $5 = 1 END, "
                          "version = version + 1, updated_at = $6 "
                          "WHERE id = $7 AND project_id = $8 AND ($9 = 0 OR version = $9)",
                          &st, &err);
    int64_t changed = 0;
    if (e == STORE_OK) {
        if (in->name.ptr)
            store_bind_text(st, 1, in->name.ptr, in->name.len);
        if (in->path.ptr)
            store_bind_text(st, 2, in->path.ptr, in->path.len);
        store_bind_cstr(st, 3, v.components);
        store_bind_cstr(st, 4, v.metadata);
        store_bind_int(st, 5, in->published);
        store_bind_int(st, 6, c->now_us);
        store_bind_text(st, 7, page_id.ptr, page_id.len);
        store_bind_cstr(st, 8, pr.id);
        store_bind_int(st, 9, if_ver);
        e = store_step(st, &err);
        changed = store_changes(st);
        store_reset(st);
    }
    values_free(&v);
    if (e == STORE_CONSTRAINT) {
        store_rollback(c->db, NULL);
        p->field = "path";
        snprintf(p->message, sizeof(p->message), "is already the path of another page");
        return PROJECTS_CONFLICT;
    }
    if (e != STORE_DONE)
        return projects__store(c, "updating a page", e, &err);
    if (changed == 0) {
        store_rollback(c->db, NULL);
        return PROJECTS_STALE;
    }
    char id[SB_UUID_STR_LEN];
    projects__copy(id, sizeof(id), page_id);
    if ((r = projects__audit(c, pr.id, "page_updated", id, NULL)) != PROJECTS_OK)
        return r;
    return projects__finish(c, write_by_id(c, &pr, id, out, ver), "updating a page");
}

projects_err projects_page_delete(projects_ctx *c, sb_str project_id, sb_str page_id,
                                  projects_ver if_ver)
{
    projects__proj pr;
    projects_ver cur = 0;
    projects_err r = projects__project(c, project_id, AUTHZ_READ, &pr);
    if (r == PROJECTS_OK)
        r = load_page(c, &pr, page_id, AUTHZ_EDIT, false, NULL, &cur, NULL);
    if (r != PROJECTS_OK)
        return r;
    if (if_ver && if_ver != cur)
        return PROJECTS_STALE;
    char id[SB_UUID_STR_LEN];
    projects__copy(id, sizeof(id), page_id);
    sb_errbuf err;
    const char *args[] = {id, pr.id};
    store_err e = store_begin(c->db, &err);
    if (e == STORE_OK)
        e = projects__exec(c->db, "DELETE FROM pages WHERE id = $1 AND project_id = $2", args, 2,
                           NULL, &err);
    if (e != STORE_OK)
        return projects__store(c, "deleting a page", e, &err);
    if ((r = projects__audit(c, pr.id, "page_deleted", id, NULL)) != PROJECTS_OK)
        return r;
    e = store_commit(c->db, &err);
    return e == STORE_OK ? PROJECTS_OK : projects__store(c, "deleting a page", e, &err);
}

/* ---- for the library (library.c, library_insert.c) ---- */

projects_err projects__page_tree(projects_ctx *c, projects__proj *pr, sb_str page_id,
                                 authz_action a, json_t **tree, projects_ver *ver)
{
    return load_page(c, pr, page_id, a, false, NULL, ver, tree);
}

projects_err projects__page_set_tree(projects_ctx *c, projects__proj *pr, const char *page_id,
                                     const json_t *tree, const projects__page_change *change,
                                     sb_jw *out, projects_ver *ver, projects_problem *p)
{
    char *text = NULL;
    projects_err r = projects__tree_text(c, tree, "components", &text, p);
    if (r != PROJECTS_OK)
        return r;
    sb_errbuf err;
    store_stmt *st;
    int64_t changed = 0;
    store_err e = store_begin(c->db, &err);
    if (e == STORE_OK)
        e = store_prepare(c->db,
                          "UPDATE pages SET components = $1, version = version + 1, "
                          "updated_at = $2 WHERE id = $3 AND project_id = $4 AND version = $5",
                          &st, &err);
    if (e == STORE_OK) {
        store_bind_cstr(st, 1, text);
        store_bind_int(st, 2, c->now_us);
        store_bind_cstr(st, 3, page_id);
        store_bind_cstr(st, 4, pr->id);
        store_bind_int(st, 5, change->expect);
        e = store_step(st, &err);
        changed = store_changes(st);
        store_reset(st);
    }
    free(text);
    if (e != STORE_DONE)
        return projects__store(c, "updating a page", e, &err);
    if (changed == 0) {
        store_rollback(c->db, NULL);
        return PROJECTS_STALE;
    }
    if ((r = projects__audit(c, pr->id, change->action, page_id, change->details)) != PROJECTS_OK)
        return r;
    return projects__finish(c, write_by_id(c, pr, page_id, out, ver), "updating a page");
}
