/*
 * project.c: projects: create (optionally from a template), read, update
 * (PUT replaces, PATCH merges), delete, and the list with filters,
 * full-text search and keyset pagination.
 *
 * The list: SQL narrows the rows to projects where the caller has some
 * role (owner, project member, or team member where visibility lets the
 * team role count); each row then goes through authz_check like any other
 * read, so the team rules (IP ranges) apply to lists as well. Pages are
 * keyset pages on (sort key, id): a cursor names the last row seen, so
 * inserts and deletes between pages neither repeat nor skip rows.
 *
 * Search: SQLite FTS5 (projects_fts, kept in step here in the same
 * transaction) or PostgreSQL's tsvector column with the 'simple'
 * configuration; both match whole words, every word of q.
 */
#include <ctype.h>
#include <pthread.h>
#include <stdlib.h>
#include <string.h>

#include "base/clock.h"
#include "projects/projects_int.h"
#include "projects/tree.h"

#define NAME_MAX_CHARS 100
#define DESC_MAX_CHARS 2000
#define Q_MAX_BYTES    200

static projects_err write_by_id(projects_ctx *c, const char *id, sb_jw *out, projects_ver *ver)
{
    sb_errbuf err;
    store_stmt *st;
    store_err e = store_prepare(
        c->db, "SELECT " PROJECTS__PROJECT_COLS " FROM projects p WHERE p.id = $1", &st, &err);
    if (e != STORE_OK)
        return projects__store(c, "reading a project", e, &err);
    store_bind_cstr(st, 1, id);
    e = store_step(st, &err);
    if (e == STORE_ROW) {
        if (out)
            projects__write_project(out, st, 0);
        if (ver)
            *ver = store_col_int(st, 9);
    }
    store_reset(st);
    if (e == STORE_DONE)
        return PROJECTS_NOT_FOUND;
    return e == STORE_ROW ? PROJECTS_OK : projects__store(c, "reading a project", e, &err);
}

/* ---- validation ---- */

/* settings: an object with only seo, performance and security, each an
 * object. Writes the canonical text (every section present). */
static char *settings_text(const json_t *in, projects_problem *p)
{
    static const char *const sections[] = {"seo", "performance", "security"};
    if (in && !json_is_object(in)) {
        projects__invalid(p, "settings", "must be an object {seo, performance, security}");
        return NULL;
    }
    const char *key;
    const json_t *v;
    json_object_foreach((json_t *)in, key, v)
    {
        bool known = false;
        for (size_t i = 0; i < 3; i++)
            known |= strcmp(key, sections[i]) == 0;
        if (!known || !json_is_object(v)) {
            projects__invalid(p, "settings",
                              "may only hold the objects seo, performance and security");
            return NULL;
        }
    }
    json_t *gc = in ? json_object_get(json_object_get(in, "security"), "guest_comments") : NULL;
    if (gc && !json_is_boolean(gc)) {
        projects__invalid(p, "settings", "security.guest_comments must be true or false");
        return NULL;
    }
    json_t *out = json_object();
    for (size_t i = 0; i < 3; i++) {
        json_t *s = in ? json_object_get(in, sections[i]) : NULL;
        json_object_set_new(out, sections[i], s ? json_deep_copy(s) : json_object());
    }
    char *text = json_dumps(out, JSON_COMPACT | JSON_PRESERVE_ORDER);
    json_decref(out);
    return text;
}

static char *object_text(const json_t *in, const char *field, projects_problem *p)
{
    if (in && !json_is_object(in)) {
        projects__invalid(p, field, "must be an object");
        return NULL;
    }
    return in ? json_dumps(in, JSON_COMPACT | JSON_PRESERVE_ORDER) : strdup("{}");
}

typedef struct fields {
    sb_str name, description;
    authz_visibility vis;
    char *settings, *deployment; /* heap; NULL = keep */
} fields;

static void fields_free(fields *f)
{
    free(f->settings);
    free(f->deployment);
}

/* Validates in; with `base` (PATCH), absent fields are taken from it. */
static projects_err check_fields(const projects_project_input *in, bool creating, fields *f,
                                 projects_problem *p)
{
    if (creating && !in->name.ptr)
        return projects__invalid(p, "name", "is required");
    if (in->name.ptr || creating) {
        if (!projects__text_ok(in->name, 1, NAME_MAX_CHARS))
            return projects__invalid(p, "name", "must be 1 to 100 characters of text");
        f->name = in->name;
    }
    if (in->description.ptr) {
        if (in->description.len && !projects__text_ok(in->description, 0, DESC_MAX_CHARS))
            return projects__invalid(p, "description", "must be at most 2000 characters of text");
        f->description = in->description;
    }
    if (in->visibility.ptr && !authz_visibility_parse(in->visibility, &f->vis))
        return projects__invalid(p, "visibility", "must be private, team or public");
    if (in->settings || creating) {
        if (!(f->settings = settings_text(in->settings, p)))
            return PROJECTS_INVALID;
    }
    if (in->deployment || creating) {
        if (!(f->deployment = object_text(in->deployment, "deployment", p)))
            return PROJECTS_INVALID;
    }
    return PROJECTS_OK;
}

/* Keeps projects_fts in step (SQLite; PostgreSQL's column is generated). */
static store_err fts_sync(store *db, const char *id, bool remove, sb_errbuf *err)
{
    if (store_driver_of(db) != STORE_SQLITE)
        return STORE_OK;
    const char *args[] = {id};
    store_err e = projects__exec(db, "DELETE FROM projects_fts WHERE id = $1", args, 1, NULL, err);
    if (e == STORE_OK && !remove)
        e = projects__exec(db,
                           "INSERT INTO projects_fts (id, name, description) SELECT id, name, "
                           "description FROM projects WHERE id = $1",
                           args, 1, NULL, err);
    return e;
}

/* ---- create ---- */

projects_err projects_project_create(projects_ctx *c, const projects_project_input *in, sb_jw *out,
                                     char id[SB_UUID_STR_LEN], projects_problem *p)
{
    if (!c->caller.user_id)
        return PROJECTS_NOT_FOUND;
    fields f = {.vis = AUTHZ_PRIVATE, .description = SB_STR("")};
    projects_err r = check_fields(in, true, &f, p);
    char team[SB_UUID_STR_LEN] = "";
    if (r == PROJECTS_OK && in->team_id.ptr) {
        /* Creating in a team is editing the team's work: editor or above. */
        projects__team t;
        r = projects__team_load(c, in->team_id, AUTHZ_READ, &t);
        if (r == PROJECTS_NOT_FOUND)
            r = projects__invalid(p, "team_id", "must be the id of a team you belong to");
        else if (r == PROJECTS_OK)
            r = projects__decide(c, AUTHZ_EDIT, &t.r);
        if (r == PROJECTS_OK)
            snprintf(team, sizeof(team), "%s", t.id);
    }
    if (r == PROJECTS_OK && !in->team_id.ptr && f.vis == AUTHZ_TEAM)
        r = projects__invalid(p, "visibility", "can be team only for a project in a team");
    if (r != PROJECTS_OK) {
        fields_free(&f);
        return r;
    }
    projects__new_id(id);
    sb_errbuf err;
    store_stmt *st;
    store_err e = store_begin(c->db, &err);
    if (e == STORE_OK)
        e = store_prepare(c->db,
                          "INSERT INTO projects (id, name, description, owner_id, team_id, "
                          "visibility, settings, deployment, created_at, updated_at) "
                          "VALUES ($1, $2, $3, $4, $5, $6, $7, $8, $9, $9)",
                          &st, &err);
    if (e == STORE_OK) {
        store_bind_cstr(st, 1, id);
        store_bind_text(st, 2, f.name.ptr, f.name.len);
        store_bind_text(st, 3, f.description.ptr, f.description.len);
        store_bind_cstr(st, 4, c->caller.user_id);
        store_bind_cstr(st, 5, team[0] ? team : NULL);
        store_bind_cstr(st, 6, authz_visibility_name(f.vis));
        store_bind_cstr(st, 7, f.settings);
        store_bind_cstr(st, 8, f.deployment);
        store_bind_int(st, 9, c->now_us);
        e = store_step(st, &err);
        store_reset(st);
        if (e == STORE_DONE)
            e = fts_sync(c->db, id, false, &err);
    }
    fields_free(&f);
    if (e != STORE_OK)
        return projects__store(c, "creating a project", e, &err);
    if (in->template_id.ptr &&
        (r = projects__template_apply(c, id, in->template_id, in->customizations, p)) !=
            PROJECTS_OK) {
        store_rollback(c->db, NULL);
        return r;
    }
    if ((r = projects__audit(c, id, "project_created", id, NULL)) != PROJECTS_OK)
        return r;
    return projects__finish(c, write_by_id(c, id, out, NULL), "creating a project");
}

projects_err projects_project_get(projects_ctx *c, sb_str id, sb_jw *out, projects_ver *ver)
{
    /* One statement: the authorization facts and the row together. */
    projects__proj pr;
    projects_err r = projects__project_load(c, id, AUTHZ_READ, &pr, out);
    if (r == PROJECTS_OK && ver)
        *ver = pr.version;
    return r;
}

/* ---- update and delete ---- */

projects_err projects_project_update(projects_ctx *c, sb_str id, const projects_project_input *in,
                                     bool replace, projects_ver if_ver, sb_jw *out,
                                     projects_ver *ver, projects_problem *p)
{
    projects__proj pr;
    /* Visibility and settings are the project's management; the rest is
     * content. PUT replaces settings, so it manages too. */
    bool manages = in->visibility.ptr || in->settings || replace;
    projects_err r = projects__project(c, id, manages ? AUTHZ_MANAGE : AUTHZ_EDIT, &pr);
    if (r != PROJECTS_OK)
        return r;
    if (in->team_id.ptr || in->template_id.ptr)
        return projects__invalid(p, in->team_id.ptr ? "team_id" : "template_id",
                                 "cannot be changed after creation");
    fields f = {.vis = pr.r.visibility};
    if ((r = check_fields(in, replace, &f, p)) != PROJECTS_OK) {
        fields_free(&f);
        return r;
    }
    if (replace && !in->description.ptr)
        f.description = SB_STR("");
    if (f.vis == AUTHZ_TEAM && !pr.team_id[0]) {
        fields_free(&f);
        return projects__invalid(p, "visibility", "can be team only for a project in a team");
    }
    sb_errbuf err;
    store_stmt *st;
    store_err e = store_begin(c->db, &err);
    if (e == STORE_OK)
        e = store_prepare(c->db,
                          "UPDATE projects SET name = COALESCE($1, name), "
                          "description = COALESCE($2, description), visibility = $3, "
                          "settings = COALESCE($4, settings), "
                          "deployment = COALESCE($5, deployment), version = version + 1, "
                          "updated_at = $6 WHERE id = $7 AND ($8 = 0 OR version = $8)",
                          &st, &err);
    int64_t changed = 0;
    if (e == STORE_OK) {
        if (f.name.ptr)
            store_bind_text(st, 1, f.name.ptr, f.name.len);
        if (f.description.ptr)
            store_bind_text(st, 2, f.description.ptr, f.description.len);
        store_bind_cstr(st, 3, authz_visibility_name(f.vis));
        store_bind_cstr(st, 4, f.settings);
        store_bind_cstr(st, 5, f.deployment);
        store_bind_int(st, 6, c->now_us);
        store_bind_cstr(st, 7, pr.id);
        store_bind_int(st, 8, if_ver);
        e = store_step(st, &err);
        changed = store_changes(st);
        store_reset(st);
        if (e == STORE_DONE)
            e = changed ? fts_sync(c->db, pr.id, false, &err) : STORE_OK;
    }
    fields_free(&f);
    if (e != STORE_OK)
        return projects__store(c, "updating a project", e, &err);
    if (changed == 0) {
        store_rollback(c->db, NULL);
        return PROJECTS_STALE;
    }
    if ((r = projects__audit(c, pr.id, manages ? "project_settings_changed" : "project_updated",
                             pr.id, NULL)) != PROJECTS_OK)
        return r;
    if ((e = projects__commit_access(c, &err)) != STORE_OK)
        return projects__store(c, "updating a project", e, &err);
    return write_by_id(c, pr.id, out, ver);
}

projects_err projects_project_delete(projects_ctx *c, sb_str id, projects_ver if_ver)
{
    projects__proj pr;
    projects_err r = projects__project(c, id, AUTHZ_DELETE, &pr);
    if (r != PROJECTS_OK)
        return r;
    if (if_ver && if_ver != pr.version)
        return PROJECTS_STALE;
    sb_errbuf err;
    const char *args[] = {pr.id};
    /* Asset rows go with the project; their blobs lose a reference each
     * (garbage collection removes bytes nobody references). */
    store_err e = store_begin(c->db, &err);
    if (e != STORE_OK)
        return projects__store(c, "deleting a project", e, &err);
    if ((r = projects__assets_release(c, "= $1", pr.id)) != PROJECTS_OK)
        return r;
    e = projects__exec(c->db, "DELETE FROM projects WHERE id = $1", args, 1, NULL, &err);
    if (e == STORE_OK)
        e = fts_sync(c->db, pr.id, true, &err);
    if (e != STORE_OK)
        return projects__store(c, "deleting a project", e, &err);
    if ((r = projects__audit(c, pr.id, "project_deleted", pr.id, NULL)) != PROJECTS_OK)
        return r;
    e = projects__commit_access(c, &err);
    return e == STORE_OK ? PROJECTS_OK : projects__store(c, "deleting a project", e, &err);
}

/* ---- the list ---- */

/* Sort keys a client may name; the SQL for each is built once. */
static const struct {
    const char *name, *column;
    bool text;
} sorts[] = {
    {"created_at", "p.id", true}, /* ids are UUIDv7: creation order */
    {"updated_at", "p.updated_at", false},
    {"name", "p.name", true},
};
#define NSORTS 3

/* The list's SQL for each shape of request, built once: a filter or a
 * cursor that is not given is left out of the statement rather than
 * switched off by a parameter ("$2 = '' OR ..."), so that the planner can
 * walk an index on (team_id, <sort key>, id) in order and stop after a
 * page. Parameters come in this order, only those the shape has: $1 the
 * caller, then the team, the visibility, the cursor's key and id, the
 * full-text query, and last the row limit (bind_list follows it). */
enum { LIST_Q = 1, LIST_TEAM = 2, LIST_VIS = 4, LIST_CURSOR = 8, LIST_SHAPES = 16 };

/* [driver][sort][desc][shape] */
static char *list_sql[2][NSORTS][2][LIST_SHAPES];
static pthread_once_t list_once = PTHREAD_ONCE_INIT;

static void build_list_sql(void)
{
    for (int d = 0; d < 2; d++)
        for (int s = 0; s < NSORTS; s++)
            for (int desc = 0; desc < 2; desc++)
                for (int shape = 0; shape < LIST_SHAPES; shape++) {
                    sb_buf b = SB_BUF_INIT;
                    int n = 2;
                    const char *col = sorts[s].column;
                    const char *coll = d == STORE_POSTGRES && sorts[s].text ? " COLLATE \"C\"" : "";
                    const char *idc = d == STORE_POSTGRES ? " COLLATE \"C\"" : "";
                    sb_buf_appendf(
                        &b,
                        "SELECT " PROJECTS__PROJECT_COLS ", tm.role, pm.role, t.settings "
                        "FROM projects p "
                        "LEFT JOIN team_members tm ON tm.team_id = p.team_id AND tm.user_id = $1 "
                        "LEFT JOIN project_members pm ON pm.project_id = p.id AND pm.user_id = $1 "
                        "LEFT JOIN teams t ON t.id = p.team_id "
                        "WHERE (p.owner_id = $1 OR pm.role IS NOT NULL OR (tm.role IS NOT NULL "
                        "AND (p.visibility <> 'private' OR tm.role IN ('owner', 'admin')))) ");
                    if (shape & LIST_TEAM)
                        sb_buf_appendf(&b, "AND p.team_id = $%d ", n++);
                    if (shape & LIST_VIS)
                        sb_buf_appendf(&b, "AND p.visibility = $%d ", n++);
                    if (shape & LIST_CURSOR) {
                        sb_buf_appendf(&b, "AND (%s%s, p.id%s) %s ($%d, $%d) ", col, coll, idc,
                                       desc ? "<" : ">", n, n + 1);
                        n += 2;
                    }
                    if ((shape & LIST_Q) && d == STORE_SQLITE)
                        sb_buf_appendf(&b,
                                       "AND p.id IN (SELECT id FROM projects_fts WHERE "
                                       "projects_fts MATCH $%d) ",
                                       n++);
                    else if (shape & LIST_Q)
                        sb_buf_appendf(&b, "AND p.search @@ plainto_tsquery('simple', $%d) ", n++);
                    sb_buf_appendf(&b, "ORDER BY %s%s %s, p.id%s %s LIMIT $%d", col, coll,
                                   desc ? "DESC" : "ASC", idc, desc ? "DESC" : "ASC", n);
                    list_sql[d][s][desc][shape] = b.ptr; /* lives for the process */
                }
}

/* An FTS5 query for q: each word quoted (so no operator syntax gets
 * through), all required. Empty when q has no words. */
static void fts5_query(sb_str q, sb_buf *out)
{
    size_t i = 0;
    while (i < q.len) {
        while (i < q.len && !((unsigned char)q.ptr[i] >= 0x80 || isalnum((unsigned char)q.ptr[i])))
            i++;
        size_t start = i;
        while (i < q.len && ((unsigned char)q.ptr[i] >= 0x80 || isalnum((unsigned char)q.ptr[i])))
            i++;
        if (i > start)
            sb_buf_appendf(out, "%s\"%.*s\"", out->len ? " " : "", (int)(i - start), q.ptr + start);
    }
}

projects_err projects_project_list(projects_ctx *c, const projects_list_query *q, sb_jw *out,
                                   projects_problem *p)
{
    if (!c->caller.user_id)
        return PROJECTS_NOT_FOUND;
    pthread_once(&list_once, build_list_sql);
    int s = 0;
    bool desc = false;
    if (q->sort.len) {
        sb_str name = q->sort;
        if (name.ptr[0] == '-') {
            desc = true;
            name = sb_str_slice(name, 1, name.len);
        }
        for (s = 0; s < NSORTS && !sb_str_eq(name, sb_str_c(sorts[s].name)); s++)
            ;
        if (s == NSORTS)
            return projects__invalid(p, "sort",
                                     "must be name, created_at or updated_at, "
                                     "with '-' for descending");
    }
    authz_visibility vis;
    if (q->visibility.len && !authz_visibility_parse(q->visibility, &vis))
        return projects__invalid(p, "visibility", "must be private, team or public");
    if (q->team_id.len && !projects__id_ok(q->team_id))
        return projects__invalid(p, "team", "must be a team id");
    if (q->q.len > Q_MAX_BYTES || !projects__text_ok(q->q, 0, Q_MAX_BYTES))
        return projects__invalid(p, "q", "must be at most 200 characters of text");
    char sort_tag[16];
    snprintf(sort_tag, sizeof(sort_tag), "%s%s", desc ? "-" : "", sorts[s].name);
    sb_buf ckey = SB_BUF_INIT, match = SB_BUF_INIT, next = SB_BUF_INIT;
    char cid[SB_UUID_STR_LEN] = "";
    bool has_cursor = q->page.cursor.len > 0;
    if (has_cursor && !projects__cursor_parse(q->page.cursor, sort_tag, &ckey, cid)) {
        sb_buf_free(&ckey);
        return projects__invalid(p, "cursor", "is not a cursor this list gave for this sort");
    }
    bool with_q = q->q.len > 0;
    if (with_q && store_driver_of(c->db) == STORE_SQLITE)
        fts5_query(q->q, &match);
    else if (with_q)
        sb_buf_append(&match, q->q.ptr, q->q.len);
    sb_jw_obj_begin(out);
    sb_jw_key(out, "items");
    sb_jw_arr_begin(out);
    projects_err r = PROJECTS_OK;
    int emitted = 0;
    bool more = false;
    char last_id[SB_UUID_STR_LEN] = "";
    sb_buf last_key = SB_BUF_INIT;
    /* Rows the policy refuses (IP ranges) are skipped; read on until the
     * page is full or the rows run out, in bounded batches. */
    int batch = q->page.limit + 1;
    bool exhausted = false;
    for (int round = 0; round < 8 && r == PROJECTS_OK && !more; round++) {
        if (with_q && match.len == 0 && store_driver_of(c->db) == STORE_SQLITE) {
            exhausted = true; /* no words: nothing matches */
            break;
        }
        sb_errbuf err;
        store_stmt *st;
        int d = store_driver_of(c->db) == STORE_POSTGRES;
        int shape = (with_q ? LIST_Q : 0) | (q->team_id.len ? LIST_TEAM : 0) |
                    (q->visibility.len ? LIST_VIS : 0) | (has_cursor ? LIST_CURSOR : 0);
        store_err e = store_prepare(c->db, list_sql[d][s][desc][shape], &st, &err);
        if (e != STORE_OK) {
            r = projects__store(c, "listing projects", e, &err);
            break;
        }
        int arg = 1;
        store_bind_cstr(st, arg++, c->caller.user_id);
        if (shape & LIST_TEAM)
            store_bind_text(st, arg++, q->team_id.ptr, q->team_id.len);
        if (shape & LIST_VIS)
            store_bind_text(st, arg++, q->visibility.ptr, q->visibility.len);
        if ((shape & LIST_CURSOR) && sorts[s].text) {
            store_bind_text(st, arg++, ckey.ptr ? ckey.ptr : "", ckey.len);
        } else if (shape & LIST_CURSOR) {
            int64_t k = 0;
            sb_str_to_i64(sb_buf_str(&ckey), INT64_MIN, INT64_MAX, &k);
            store_bind_int(st, arg++, k);
        }
        if (shape & LIST_CURSOR)
            store_bind_cstr(st, arg++, cid);
        if (shape & LIST_Q)
            store_bind_text(st, arg++, match.ptr, match.len);
        store_bind_int(st, arg, batch);
        int rows = 0;
        while ((e = store_step(st, &err)) == STORE_ROW) {
            rows++;
            /* The row's own place in the order: the next round and the
             * cursor start after it, whether or not it is shown. */
            snprintf(cid, sizeof(cid), "%s", store_col_text(st, 0, NULL));
            sb_buf_reset(&ckey);
            if (sorts[s].text)
                sb_buf_appendf(&ckey, "%s", s == 0 ? cid : store_col_text(st, 1, NULL));
            else
                sb_buf_appendf(&ckey, "%lld", (long long)store_col_int(st, 11));
            has_cursor = true;
            authz_resource res = {.kind = AUTHZ_KIND_PROJECT};
            size_t n;
            const char *v = store_col_text(st, 5, &n);
            authz_visibility_parse(sb_str_make(v, n), &res.visibility);
            const char *tr = store_col_text(st, 12, &n);
            if (tr)
                authz_role_parse(sb_str_make(tr, n), &res.team_role);
            const char *pr = store_col_text(st, 13, &n);
            if (pr)
                authz_role_parse(sb_str_make(pr, n), &res.project_role);
            res.is_owner = strcmp(store_col_text(st, 3, NULL), c->caller.user_id) == 0;
            authz_team_policy pol;
            if (!store_col_is_null(st, 4)) {
                projects__policy_parse(store_col_text(st, 14, NULL), &pol);
                res.policy = &pol;
            }
            if (authz_check(&c->caller, AUTHZ_READ, &res).outcome != AUTHZ_ALLOW)
                continue;
            if (emitted == q->page.limit) {
                more = true;
                break;
            }
            projects__write_project(out, st, 0);
            emitted++;
            snprintf(last_id, sizeof(last_id), "%s", cid);
            sb_buf_reset(&last_key);
            sb_buf_append(&last_key, ckey.ptr, ckey.len);
        }
        store_reset(st);
        if (e != STORE_ROW && e != STORE_DONE)
            r = projects__store(c, "listing projects", e, &err);
        if (rows < batch) {
            exhausted = true;
            break;
        }
    }
    if (!more && !exhausted && r == PROJECTS_OK) {
        /* Stopped reading with rows left (many refused in a row): the
         * cursor continues after the last row examined. */
        more = true;
        snprintf(last_id, sizeof(last_id), "%s", cid);
        sb_buf_reset(&last_key);
        sb_buf_append(&last_key, ckey.ptr, ckey.len);
    }
    sb_jw_arr_end(out);
    sb_jw_key(out, "next_cursor");
    if (more) {
        projects__cursor_make(sort_tag, last_key.ptr, last_id, &next);
        sb_jw_strn(out, next.ptr, next.len);
    } else {
        sb_jw_null(out);
    }
    sb_jw_obj_end(out);
    sb_buf_free(&ckey);
    sb_buf_free(&match);
    sb_buf_free(&next);
    sb_buf_free(&last_key);
    return r;
}
