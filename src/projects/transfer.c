/*
 * transfer.c: handing a project to another owner. API.md's table gives it
 * to owners alone (the DELETE action, so a team's MFA rule applies); that
 * is the project's owner and, as for deleting, the owners of its team.
 *
 * Who may receive it: someone who already holds the project with its
 * owner, so a transfer never brings a stranger in: for a team project a
 * member of the team (not a guest), for a personal project a collaborator
 * on it (project member, not a guest). Anyone else gets the same 400
 * whether or not the id is a user's, so the route tells nothing about
 * accounts.
 *
 * The previous owner stays on as a project admin (project_members, the
 * model of sharing.c), so handing a project over never locks its author
 * out; the new owner's own project role, now outranked, is dropped. The
 * owner change, the roles and the audit row are one transaction, and the
 * update only applies while the owner is still the one read, so two racing
 * transfers cannot both win.
 */
#include <stdio.h>
#include <string.h>

#include "projects/projects_int.h"

/* Whether user_id holds the project other than as a guest: team members
 * for a team project, project members for a personal one. */
static store_err may_hold(projects_ctx *c, const projects__proj *pr, const char *user_id, bool *ok,
                          sb_errbuf *err)
{
    store_stmt *st;
    store_err e = store_prepare(
        c->db,
        pr->team_id[0] ? "SELECT role FROM team_members WHERE team_id = $1 AND user_id = $2"
                       : "SELECT role FROM project_members WHERE project_id = $1 AND user_id = $2",
        &st, err);
    if (e != STORE_OK)
        return e;
    store_bind_cstr(st, 1, pr->team_id[0] ? pr->team_id : pr->id);
    store_bind_cstr(st, 2, user_id);
    e = store_step(st, err);
    authz_role role = AUTHZ_NONE;
    size_t n;
    const char *text = e == STORE_ROW ? store_col_text(st, 0, &n) : NULL;
    if (text)
        authz_role_parse(sb_str_make(text, n), &role);
    store_reset(st);
    *ok = role > AUTHZ_GUEST;
    return e == STORE_ROW || e == STORE_DONE ? STORE_OK : e;
}

projects_err projects_project_transfer(projects_ctx *c, sb_str id, sb_str user_id,
                                       projects_ver if_ver, sb_jw *out, projects_ver *ver,
                                       projects_problem *p)
{
    projects__proj pr;
    projects_err r = projects__project(c, id, AUTHZ_DELETE, &pr);
    if (r != PROJECTS_OK)
        return r;
    const char *who = pr.team_id[0] ? "must be a member of the project's team (not a guest)"
                                    : "must be a collaborator on the project (not a guest): "
                                      "add them with PUT /api/projects/:id/members first";
    if (!projects__id_ok(user_id))
        return projects__invalid(p, "user_id", who);
    char to[SB_UUID_STR_LEN], now[24], version[24];
    projects__copy(to, sizeof(to), user_id);
    if (strcmp(to, pr.owner_id) == 0)
        return projects__invalid(p, "user_id", "is already the project's owner");
    snprintf(now, sizeof(now), "%lld", (long long)c->now_us);
    snprintf(version, sizeof(version), "%lld", (long long)if_ver);
    sb_errbuf err;
    bool ok = false;
    int64_t changed = 0;
    store_err e = store_begin(c->db, &err);
    if (e == STORE_OK)
        e = may_hold(c, &pr, to, &ok, &err);
    if (e == STORE_OK && ok)
        e = projects__exec(c->db,
                           "UPDATE projects SET owner_id = $1, version = version + 1, "
                           "updated_at = CAST($2 AS BIGINT) WHERE id = $3 AND owner_id = $4 AND "
                           "(CAST($5 AS BIGINT) = 0 OR version = CAST($5 AS BIGINT))",
                           (const char *const[]){to, now, pr.id, pr.owner_id, version}, 5, &changed,
                           &err);
    if (e == STORE_OK && changed)
        e = projects__exec(c->db,
                           "DELETE FROM project_members WHERE project_id = $1 AND "
                           "user_id IN ($2, $3)",
                           (const char *const[]){pr.id, to, pr.owner_id}, 3, NULL, &err);
    if (e == STORE_OK && changed)
        e = projects__exec(c->db,
                           "INSERT INTO project_members (project_id, user_id, role, created_at) "
                           "VALUES ($1, $2, 'admin', CAST($3 AS BIGINT))",
                           (const char *const[]){pr.id, pr.owner_id, now}, 3, NULL, &err);
    if (e != STORE_OK)
        return projects__store(c, "transferring a project", e, &err);
    if (!ok || !changed) {
        store_rollback(c->db, NULL);
        /* Not changed: the version (If-Match) or the owner moved on. */
        return ok ? PROJECTS_STALE : projects__invalid(p, "user_id", who);
    }
    char details[128];
    snprintf(details, sizeof(details), "{\"from\":\"%s\",\"to\":\"%s\"}", pr.owner_id, to);
    if ((r = projects__audit(c, pr.id, "project_transferred", to, details)) != PROJECTS_OK)
        return r;
    if ((e = projects__commit_access(c, &err)) != STORE_OK)
        return projects__store(c, "transferring a project", e, &err);
    /* The previous owner reads on as an admin; a team owner who made the
     * transfer reads as one too. */
    return projects_project_get(c, sb_str_c(pr.id), out, ver);
}
