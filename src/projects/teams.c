/*
 * teams.c: teams and their settings (the attribute rules authz applies:
 * MFA for admin actions, IP allowlists). A team always has at least one
 * owner: it is made with the caller as owner, and members.c refuses any
 * change that would leave it without one.
 */
#include <string.h>

#include <stdlib.h>

#include "base/clock.h"
#include "projects/projects_int.h"

#define TEAM_NAME_MAX 100

static void write_team(sb_jw *w, store_stmt *st, int col, const char *role)
{
    /* Columns from col: id, name, settings, version, created_at, updated_at. */
    char t[SB_RFC3339_LEN];
    sb_jw_obj_begin(w);
    sb_jw_kv_str(w, "id", store_col_text(st, col, NULL));
    sb_jw_kv_str(w, "name", store_col_text(st, col + 1, NULL));
    sb_jw_kv_str(w, "role", role);
    sb_jw_key(w, "settings");
    const char *settings = store_col_text(st, col + 2, NULL);
    sb_jw_raw(w, settings, strlen(settings));
    sb_jw_kv_int(w, "version", store_col_int(st, col + 3));
    sb_jw_kv_str(w, "created_at", sb_rfc3339(store_col_int(st, col + 4), t));
    sb_jw_kv_str(w, "updated_at", sb_rfc3339(store_col_int(st, col + 5), t));
    sb_jw_obj_end(w);
}

/* Writes team id as the caller sees it. */
static projects_err write_team_by_id(projects_ctx *c, const char *id, const char *role, sb_jw *out,
                                     projects_ver *ver)
{
    sb_errbuf err;
    store_stmt *st;
    store_err e = store_prepare(c->db,
                                "SELECT id, name, settings, version, created_at, updated_at "
                                "FROM teams WHERE id = $1",
                                &st, &err);
    if (e != STORE_OK)
        return projects__store(c, "reading a team", e, &err);
    store_bind_cstr(st, 1, id);
    e = store_step(st, &err);
    if (e == STORE_ROW) {
        if (out)
            write_team(out, st, 0, role);
        if (ver)
            *ver = store_col_int(st, 3);
    }
    store_reset(st);
    if (e == STORE_DONE)
        return PROJECTS_NOT_FOUND;
    return e == STORE_ROW ? PROJECTS_OK : projects__store(c, "reading a team", e, &err);
}

projects_err projects_team_create(projects_ctx *c, sb_str name, sb_jw *out, projects_problem *p)
{
    if (!c->caller.user_id)
        return PROJECTS_NOT_FOUND;
    if (!projects__text_ok(name, 1, TEAM_NAME_MAX))
        return projects__invalid(p, "name", "must be 1 to 100 characters of text");
    char id[SB_UUID_STR_LEN];
    projects__new_id(id);
    sb_errbuf err;
    store_stmt *st;
    store_err e = store_begin(c->db, &err);
    if (e == STORE_OK)
        e = store_prepare(c->db,
                          "INSERT INTO teams (id, name, settings, created_at, updated_at) "
                          "VALUES ($1, $2, '{\"mfa_required_for_admin\":false,"
                          "\"ip_allowlist\":[]}', $3, $3)",
                          &st, &err);
    if (e == STORE_OK) {
        store_bind_cstr(st, 1, id);
        store_bind_text(st, 2, name.ptr, name.len);
        store_bind_int(st, 3, c->now_us);
        e = store_step(st, &err);
        store_reset(st);
        if (e == STORE_DONE)
            e = store_prepare(c->db,
                              "INSERT INTO team_members (team_id, user_id, role, created_at, "
                              "updated_at) VALUES ($1, $2, 'owner', $3, $3)",
                              &st, &err);
        if (e == STORE_DONE || e == STORE_OK) {
            store_bind_cstr(st, 1, id);
            store_bind_cstr(st, 2, c->caller.user_id);
            store_bind_int(st, 3, c->now_us);
            e = store_step(st, &err);
            store_reset(st);
        }
        if (e == STORE_DONE)
            e = store_commit(c->db, &err);
    }
    if (e != STORE_OK)
        return projects__store(c, "creating a team", e, &err);
    return write_team_by_id(c, id, "owner", out, NULL);
}

projects_err projects_team_list(projects_ctx *c, sb_jw *out)
{
    if (!c->caller.user_id)
        return PROJECTS_NOT_FOUND;
    sb_errbuf err;
    store_stmt *st;
    store_err e = store_prepare(c->db,
                                "SELECT m.role, t.id, t.name, t.settings, t.version, "
                                "t.created_at, t.updated_at FROM team_members m "
                                "JOIN teams t ON t.id = m.team_id WHERE m.user_id = $1 "
                                "ORDER BY t.id",
                                &st, &err);
    if (e != STORE_OK)
        return projects__store(c, "listing teams", e, &err);
    store_bind_cstr(st, 1, c->caller.user_id);
    sb_jw_obj_begin(out);
    sb_jw_key(out, "items");
    sb_jw_arr_begin(out);
    while ((e = store_step(st, &err)) == STORE_ROW)
        write_team(out, st, 1, store_col_text(st, 0, NULL));
    store_reset(st);
    sb_jw_arr_end(out);
    sb_jw_kv_str(out, "next_cursor", NULL);
    sb_jw_obj_end(out);
    return e == STORE_DONE ? PROJECTS_OK : projects__store(c, "listing teams", e, &err);
}

projects_err projects_team_get(projects_ctx *c, sb_str team_id, sb_jw *out, projects_ver *ver)
{
    projects__team t;
    projects_err r = projects__team_load(c, team_id, AUTHZ_READ, &t);
    if (r != PROJECTS_OK)
        return r;
    return write_team_by_id(c, t.id, authz_role_name(t.r.team_role), out, ver);
}

/* Parses an ip_allowlist array into pol's ranges. */
static bool ips_parse(const json_t *ips, authz_team_policy *pol, projects_problem *p)
{
    if (!json_is_array(ips) || json_array_size(ips) > AUTHZ_MAX_CIDRS) {
        projects__invalid(p, "ip_allowlist", "must be an array of at most 32 CIDR ranges");
        return false;
    }
    pol->ncidrs = 0;
    size_t i;
    const json_t *v;
    json_array_foreach(ips, i, v)
    {
        if (!json_is_string(v) ||
            !authz_cidr_parse(sb_str_make(json_string_value(v), json_string_length(v)),
                              &pol->cidrs[pol->ncidrs])) {
            projects__invalid(p, "ip_allowlist",
                              "must hold CIDR ranges like 10.0.0.0/8 (host bits zero)");
            return false;
        }
        pol->ncidrs++;
    }
    return true;
}

/* The settings JSON of a policy, ranges in canonical form (the inverse of
 * projects__policy_parse). */
static char *policy_text(const authz_team_policy *pol)
{
    json_t *ips = json_array();
    for (size_t i = 0; i < pol->ncidrs; i++) {
        char text[64];
        authz_cidr_format(&pol->cidrs[i], text, sizeof(text));
        json_array_append_new(ips, json_string(text));
    }
    json_t *settings =
        json_pack("{s:b, s:o}", "mfa_required_for_admin", pol->mfa_for_admin, "ip_allowlist", ips);
    char *text = json_dumps(settings, JSON_COMPACT | JSON_PRESERVE_ORDER);
    json_decref(settings);
    return text;
}

projects_err projects_team_update(projects_ctx *c, sb_str team_id, const projects_team_changes *u,
                                  projects_ver if_ver, sb_jw *out, projects_ver *ver,
                                  projects_problem *p)
{
    projects__team t;
    projects_err r = projects__team_load(c, team_id, AUTHZ_MANAGE, &t);
    if (r != PROJECTS_OK)
        return r;
    if ((u->set & PROJECTS_TEAM_NAME) && !projects__text_ok(u->name, 1, TEAM_NAME_MAX))
        return projects__invalid(p, "name", "must be 1 to 100 characters of text");
    authz_team_policy next = t.policy;
    if (u->set & PROJECTS_TEAM_MFA)
        next.mfa_for_admin = u->mfa_required_for_admin;
    if ((u->set & PROJECTS_TEAM_IPS) && !ips_parse(u->ip_allowlist, &next, p))
        return PROJECTS_INVALID;
    /* An allowlist that shuts out the admin who sets it would lock the team
     * out of its own settings: refuse it with a clear reason. */
    if (!authz_ip_allowed(&next, c->caller.ip))
        return projects__invalid(p, "ip_allowlist",
                                 "must include the address you are calling from");
    char *text = policy_text(&next);
    sb_str name = (u->set & PROJECTS_TEAM_NAME) ? u->name : sb_str_c(t.name);
    sb_errbuf err;
    store_stmt *st;
    store_err e = store_prepare(c->db,
                                "UPDATE teams SET name = $1, settings = $2, version = version + 1, "
                                "updated_at = $3 WHERE id = $4 AND ($5 = 0 OR version = $5)",
                                &st, &err);
    if (e == STORE_OK) {
        store_bind_text(st, 1, name.ptr, name.len);
        store_bind_cstr(st, 2, text);
        store_bind_int(st, 3, c->now_us);
        store_bind_cstr(st, 4, t.id);
        store_bind_int(st, 5, if_ver);
        e = store_step(st, &err);
    }
    int64_t changed = e == STORE_DONE ? store_changes(st) : 0;
    if (e == STORE_DONE || e == STORE_OK)
        store_reset(st);
    projects__access_changed(); /* autocommit: after the step */
    free(text);
    if (e != STORE_DONE)
        return projects__store(c, "updating a team", e, &err);
    if (changed == 0)
        return PROJECTS_STALE;
    return write_team_by_id(c, t.id, authz_role_name(t.r.team_role), out, ver);
}

projects_err projects_team_delete(projects_ctx *c, sb_str team_id)
{
    projects__team t;
    projects_err r = projects__team_load(c, team_id, AUTHZ_DELETE, &t);
    if (r != PROJECTS_OK)
        return r;
    sb_errbuf err;
    const char *args[] = {t.id};
    /* The team's projects go with it, and their assets' blob references. */
    store_err e = store_begin(c->db, &err);
    if (e != STORE_OK)
        return projects__store(c, "deleting a team", e, &err);
    if ((r = projects__assets_release(c, "IN (SELECT id FROM projects WHERE team_id = $1)",
                                      t.id)) != PROJECTS_OK)
        return r;
    /* SQLite's search index is a separate table that no foreign key
     * cascades to (PostgreSQL's is a generated column) */
    e = STORE_OK;
    if (store_driver_of(c->db) == STORE_SQLITE)
        e = projects__exec(c->db,
                           "DELETE FROM projects_fts WHERE id IN "
                           "(SELECT id FROM projects WHERE team_id = $1)",
                           args, 1, NULL, &err);
    if (e == STORE_OK && (e = projects__exec(c->db, "DELETE FROM teams WHERE id = $1", args, 1,
                                             NULL, &err)) == STORE_OK)
        e = projects__commit_access(c, &err);
    return e == STORE_OK ? PROJECTS_OK : projects__store(c, "deleting a team", e, &err);
}
