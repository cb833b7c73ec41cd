/*
 * library.c: a team's library of reusable components. Each is one
 * component tree {id, type, props, children}, checked by the rules of page
 * trees (tree.h) and stored normalised, under a name unique in the team.
 * A component is given whole, or copied from an element of a page the
 * caller may read; its ids are kept as they are, and every insertion into
 * a page (library_insert.c) gets fresh ones.
 *
 * Who: the library is the team's, so the team role decides: viewers and
 * above read, editors and above write. Library components are team items
 * that are never shared, so a team guest does not see them (NOT_FOUND), as
 * a guest does not see unshared pages.
 *
 * The list is in name order, byte by byte on both drivers (PostgreSQL
 * compares with COLLATE "C"), with the last name as the cursor.
 */
#include <stdlib.h>
#include <string.h>

#include "base/clock.h"
#include "crypto/crypto.h"
#include "projects/projects_int.h"

#define NAME_MAX_CHARS 100

#define LIB_COLS "id, team_id, name, version, created_by, created_at, updated_at, component"

static void write_component(sb_jw *w, store_stmt *st, bool with_tree)
{
    char t[SB_RFC3339_LEN];
    sb_jw_obj_begin(w);
    sb_jw_kv_str(w, "id", store_col_text(st, 0, NULL));
    sb_jw_kv_str(w, "team_id", store_col_text(st, 1, NULL));
    sb_jw_kv_str(w, "name", store_col_text(st, 2, NULL));
    if (with_tree) {
        size_t n;
        const char *tree = store_col_text(st, 7, &n);
        sb_jw_key(w, "component");
        sb_jw_raw(w, tree, n);
    }
    sb_jw_kv_int(w, "version", store_col_int(st, 3));
    sb_jw_kv_str(w, "created_by", store_col_text(st, 4, NULL));
    sb_jw_kv_str(w, "created_at", sb_rfc3339(store_col_int(st, 5), t));
    sb_jw_kv_str(w, "updated_at", sb_rfc3339(store_col_int(st, 6), t));
    sb_jw_obj_end(w);
}

/* The library's team, and whether the caller may do a to its items. */
static projects_err library_team(projects_ctx *c, sb_str team_id, authz_action a, projects__team *t)
{
    projects_err r = projects__team_load(c, team_id, AUTHZ_READ, t);
    if (r != PROJECTS_OK)
        return r;
    t->r.item = true; /* never shared: guests see none */
    return projects__decide(c, a, &t->r);
}

typedef struct component_sink {
    sb_jw *out;
    projects_ver *ver;
} component_sink;

static void component_row(store_stmt *st, void *ctx)
{
    component_sink *k = ctx;
    if (k->out)
        write_component(k->out, st, true);
    if (k->ver)
        *k->ver = store_col_int(st, 3);
}

/* Reads component id of team_id: into out (with the tree) and *ver when
 * they are not NULL. */
static projects_err read_component(projects_ctx *c, const char *team_id, sb_str id, sb_jw *out,
                                   projects_ver *ver)
{
    if (!projects__id_ok(id))
        return PROJECTS_NOT_FOUND;
    char cid[SB_UUID_STR_LEN];
    projects__copy(cid, sizeof(cid), id);
    return projects__one_row(
        c, "reading a library component",
        "SELECT " LIB_COLS " FROM library_components WHERE id = $1 AND team_id = $2",
        (const char *const[]){cid, team_id}, 2, component_row, &(component_sink){out, ver});
}

/* A row's first column into the SB_UUID_STR_LEN buffer ctx. */
static void first_id(store_stmt *st, void *ctx)
{
    snprintf(ctx, SB_UUID_STR_LEN, "%s", store_col_text(st, 0, NULL));
}

/* A component the client gave: valid alone, normalised, as text. */
static projects_err given_text(projects_ctx *c, const json_t *component, char **text,
                               projects_problem *p)
{
    projects_tree_limits lim = PROJECTS_TREE_LIMITS_DEFAULT;
    projects_tree_error te;
    if (!projects_tree_validate_one(component, &lim, &te))
        return projects__tree_invalid(p, "component", NULL, &te);
    json_t *norm = projects_tree_copy_one(component, false);
    projects_err r = projects__tree_text(c, norm, "component", text, p);
    json_decref(norm);
    return r;
}

/* The project of page_id (an id): in->project_id when given, else the
 * page's own. Whether the caller may read either is asked afterwards. */
static projects_err page_project(projects_ctx *c, const projects_library_input *in,
                                 char project_id[SB_UUID_STR_LEN])
{
    if (in->project_id.ptr) {
        projects__copy(project_id, SB_UUID_STR_LEN, in->project_id);
        return PROJECTS_OK;
    }
    char page_id[SB_UUID_STR_LEN];
    projects__copy(page_id, sizeof(page_id), in->page_id);
    return projects__one_row(c, "reading a page", "SELECT project_id FROM pages WHERE id = $1",
                             (const char *const[]){page_id}, 1, first_id, project_id);
}

/* A copy of element element_id of a page the caller may read, as text.
 * Page trees are stored normal, so the element is written as it is. */
static projects_err element_text(projects_ctx *c, const projects_library_input *in, char **text,
                                 projects_problem *p)
{
    static const char unreadable[] = "must be the id of a page you can read";
    if (!in->element_id.ptr)
        return projects__invalid(p, "element_id", "is required with page_id");
    if (!projects__id_ok(in->page_id) || (in->project_id.ptr && !projects__id_ok(in->project_id)))
        return projects__invalid(p, "page_id", unreadable);
    char project_id[SB_UUID_STR_LEN];
    projects__proj pr;
    json_t *tree = NULL;
    projects_err r = page_project(c, in, project_id);
    if (r == PROJECTS_OK)
        r = projects__project(c, sb_str_c(project_id), AUTHZ_READ, &pr);
    if (r == PROJECTS_OK)
        r = projects__page_tree(c, &pr, in->page_id, AUTHZ_READ, &tree, NULL);
    if (r == PROJECTS_NOT_FOUND)
        return projects__invalid(p, "page_id", unreadable);
    if (r != PROJECTS_OK)
        return r;
    const json_t *el = projects_tree_find(tree, in->element_id);
    if (el)
        r = projects__tree_text(c, el, "element_id", text, p);
    else
        r = projects__invalid(p, "element_id", "is not the id of a component on the page");
    json_decref(tree);
    return r;
}

/* What the statement that wrote a library row answered (e, err): a taken
 * name is CONFLICT on name. */
static projects_err written(projects_ctx *c, store_err e, const sb_errbuf *err, const char *what,
                            projects_problem *p)
{
    if (e == STORE_CONSTRAINT) {
        p->field = "name";
        snprintf(p->message, sizeof(p->message),
                 "is already the name of a component in the library");
        return PROJECTS_CONFLICT;
    }
    return e == STORE_DONE ? PROJECTS_OK : projects__store(c, what, e, err);
}

projects_err projects_library_create(projects_ctx *c, sb_str team_id,
                                     const projects_library_input *in, sb_jw *out,
                                     char id[SB_UUID_STR_LEN], projects_problem *p)
{
    projects__team t;
    projects_err r = library_team(c, team_id, AUTHZ_EDIT, &t);
    if (r != PROJECTS_OK)
        return r;
    if (!projects__text_ok(in->name, 1, NAME_MAX_CHARS))
        return projects__invalid(p, "name", "must be 1 to 100 characters of text");
    if (in->component && (in->page_id.ptr || in->project_id.ptr || in->element_id.ptr))
        return projects__invalid(p,
                                 in->page_id.ptr      ? "page_id"
                                 : in->project_id.ptr ? "project_id"
                                                      : "element_id",
                                 "cannot be given with component");
    if (!in->component && !in->page_id.ptr)
        return projects__invalid(p, "component",
                                 "is required (or page_id and element_id, to copy from a page)");
    char *text = NULL;
    r = in->component ? given_text(c, in->component, &text, p) : element_text(c, in, &text, p);
    if (r != PROJECTS_OK)
        return r;
    projects__new_id(id);
    sb_errbuf err;
    store_stmt *st;
    store_err e = store_prepare(c->db,
                                "INSERT INTO library_components (id, team_id, name, component, "
                                "created_by, created_at, updated_at) "
                                "VALUES ($1, $2, $3, $4, $5, $6, $6)",
                                &st, &err);
    if (e == STORE_OK) {
        store_bind_cstr(st, 1, id);
        store_bind_cstr(st, 2, t.id);
        store_bind_text(st, 3, in->name.ptr, in->name.len);
        store_bind_cstr(st, 4, text);
        store_bind_cstr(st, 5, c->caller.user_id);
        store_bind_int(st, 6, c->now_us);
        e = store_step(st, &err);
        store_reset(st);
    }
    free(text);
    if ((r = written(c, e, &err, "creating a library component", p)) != PROJECTS_OK)
        return r;
    return read_component(c, t.id, sb_str_c(id), out, NULL);
}

projects_err projects_library_get(projects_ctx *c, sb_str team_id, sb_str id, sb_jw *out,
                                  projects_ver *ver)
{
    projects__team t;
    projects_err r = library_team(c, team_id, AUTHZ_READ, &t);
    if (r != PROJECTS_OK)
        return r;
    return read_component(c, t.id, id, out, ver);
}

/* Whether the caller may change component id of team_id, which exists. */
static projects_err editable(projects_ctx *c, sb_str team_id, sb_str id, projects__team *t)
{
    projects_err r = library_team(c, team_id, AUTHZ_EDIT, t);
    return r == PROJECTS_OK ? read_component(c, t->id, id, NULL, NULL) : r;
}

projects_err projects_library_put(projects_ctx *c, sb_str team_id, sb_str id,
                                  const projects_library_input *in, projects_ver if_ver, sb_jw *out,
                                  projects_ver *ver, projects_problem *p)
{
    projects__team t;
    projects_err r = editable(c, team_id, id, &t);
    if (r != PROJECTS_OK)
        return r;
    if (in->name.ptr && !projects__text_ok(in->name, 1, NAME_MAX_CHARS))
        return projects__invalid(p, "name", "must be 1 to 100 characters of text");
    char *text = NULL;
    if (in->component && (r = given_text(c, in->component, &text, p)) != PROJECTS_OK)
        return r;
    sb_errbuf err;
    store_stmt *st;
    int64_t changed = 0;
    store_err e = store_prepare(c->db,
                                "UPDATE library_components SET name = COALESCE($1, name), "
                                "component = COALESCE($2, component), version = version + 1, "
                                "updated_at = $3 WHERE id = $4 AND team_id = $5 AND "
                                "($6 = 0 OR version = $6)",
                                &st, &err);
    if (e == STORE_OK) {
        if (in->name.ptr)
            store_bind_text(st, 1, in->name.ptr, in->name.len);
        store_bind_cstr(st, 2, text);
        store_bind_int(st, 3, c->now_us);
        store_bind_text(st, 4, id.ptr, id.len);
        store_bind_cstr(st, 5, t.id);
        store_bind_int(st, 6, if_ver);
        e = store_step(st, &err);
        changed = store_changes(st);
        store_reset(st);
    }
    free(text);
    if ((r = written(c, e, &err, "updating a library component", p)) != PROJECTS_OK)
        return r;
    if (changed == 0)
        return PROJECTS_STALE;
    return read_component(c, t.id, id, out, ver);
}

projects_err projects_library_delete(projects_ctx *c, sb_str team_id, sb_str id,
                                     projects_ver if_ver)
{
    projects__team t;
    projects_err r = editable(c, team_id, id, &t);
    if (r != PROJECTS_OK)
        return r;
    sb_errbuf err;
    store_stmt *st;
    int64_t changed = 0;
    store_err e = store_prepare(c->db,
                                "DELETE FROM library_components WHERE id = $1 AND team_id = $2 "
                                "AND ($3 = 0 OR version = $3)",
                                &st, &err);
    if (e == STORE_OK) {
        store_bind_text(st, 1, id.ptr, id.len);
        store_bind_cstr(st, 2, t.id);
        store_bind_int(st, 3, if_ver);
        e = store_step(st, &err);
        changed = store_changes(st);
        store_reset(st);
    }
    if (e != STORE_DONE)
        return projects__store(c, "deleting a library component", e, &err);
    return changed ? PROJECTS_OK : PROJECTS_STALE;
}

/* ---- the list ---- */

/* By name, bytewise on both drivers; $2 is the last name seen ('' first). */
static const char *const list_sql[2] = {
    [STORE_SQLITE] = "SELECT " LIB_COLS " FROM library_components WHERE team_id = $1 AND "
                     "name > $2 ORDER BY name LIMIT $3",
    [STORE_POSTGRES] = "SELECT " LIB_COLS " FROM library_components WHERE team_id = $1 AND "
                       "name COLLATE \"C\" > $2 ORDER BY name COLLATE \"C\" LIMIT $3",
};

projects_err projects_library_list(projects_ctx *c, sb_str team_id, const projects_page *pg,
                                   sb_jw *out, projects_problem *p)
{
    projects__team t;
    projects_err r = library_team(c, team_id, AUTHZ_READ, &t);
    if (r != PROJECTS_OK)
        return r;
    /* The cursor is the last name, base64url-encoded. */
    sb_buf after = SB_BUF_INIT, last = SB_BUF_INIT, next = SB_BUF_INIT;
    if (pg->cursor.len &&
        !(pg->cursor.len <= 1024 && crypto_b64url_decode(pg->cursor.ptr, pg->cursor.len, &after) &&
          projects__text_ok(sb_buf_str(&after), 1, NAME_MAX_CHARS))) {
        sb_buf_free(&after);
        return projects__invalid(p, "cursor", "is not a cursor this list gave");
    }
    sb_errbuf err;
    store_stmt *st;
    store_err e = store_prepare(c->db, list_sql[store_driver_of(c->db)], &st, &err);
    if (e != STORE_OK) {
        sb_buf_free(&after);
        return projects__store(c, "listing library components", e, &err);
    }
    store_bind_cstr(st, 1, t.id);
    store_bind_text(st, 2, after.ptr ? after.ptr : "", after.len);
    store_bind_int(st, 3, pg->limit + 1);
    sb_jw_obj_begin(out);
    sb_jw_key(out, "items");
    sb_jw_arr_begin(out);
    int n = 0;
    while ((e = store_step(st, &err)) == STORE_ROW) {
        if (n == pg->limit) {
            /* One more row than the page: the cursor is the last shown. */
            sb_jw_arr_end(out);
            sb_jw_key(out, "next_cursor");
            crypto_b64url_encode(last.ptr, last.len, &next);
            sb_jw_strn(out, next.ptr, next.len);
            break;
        }
        write_component(out, st, false);
        sb_buf_reset(&last);
        sb_buf_puts(&last, store_col_text(st, 2, NULL));
        n++;
    }
    store_reset(st);
    if (!next.ptr) {
        sb_jw_arr_end(out);
        sb_jw_kv_str(out, "next_cursor", NULL);
    }
    sb_jw_obj_end(out);
    sb_buf_free(&after);
    sb_buf_free(&last);
    sb_buf_free(&next);
    return e == STORE_ROW || e == STORE_DONE
               ? PROJECTS_OK
               : projects__store(c, "listing library components", e, &err);
}

/* ---- for library_insert.c ---- */

typedef struct library_row {
    char team_id[SB_UUID_STR_LEN];
    json_t *tree;
} library_row;

static void library_row_read(store_stmt *st, void *ctx)
{
    library_row *l = ctx;
    first_id(st, l->team_id);
    l->tree = json_loads(store_col_text(st, 1, NULL), 0, NULL);
}

projects_err projects__library_component(projects_ctx *c, sb_str id, json_t **component)
{
    if (!projects__id_ok(id))
        return PROJECTS_NOT_FOUND;
    char cid[SB_UUID_STR_LEN];
    projects__copy(cid, sizeof(cid), id);
    library_row l = {0};
    projects__team t;
    projects_err r =
        projects__one_row(c, "reading a library component",
                          "SELECT team_id, component FROM library_components WHERE id = $1",
                          (const char *const[]){cid}, 1, library_row_read, &l);
    if (r == PROJECTS_OK)
        r = l.tree ? library_team(c, sb_str_c(l.team_id), AUTHZ_READ, &t) : PROJECTS_INTERNAL;
    if (r != PROJECTS_OK) {
        json_decref(l.tree);
        return r;
    }
    *component = l.tree;
    return PROJECTS_OK;
}
