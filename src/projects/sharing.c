/*
 * sharing.c: per-project roles (a private project's collaborators, a
 * guest) and the items shared with guests. Managing them is MANAGE on the
 * project; nobody grants more than they hold.
 */
#include <string.h>

#include "projects/projects_int.h"

projects_err projects_project_member_set(projects_ctx *c, sb_str project_id, sb_str user_id,
                                         sb_str role, projects_problem *p)
{
    projects__proj pr;
    authz_role to = AUTHZ_NONE;
    projects_err r = projects__project(c, project_id, AUTHZ_READ, &pr);
    if (r != PROJECTS_OK)
        return r;
    if (role.ptr && !sb_str_eq(role, SB_STR("none")) && !authz_role_parse(role, &to))
        return projects__invalid(p, "role", "must be admin, editor, viewer, guest or none");
    if (to == AUTHZ_OWNER)
        return projects__invalid(p, "role", "cannot be owner: transfer the project instead");
    if ((r = projects__decide(c, AUTHZ_MANAGE, &pr.r)) != PROJECTS_OK)
        return r;
    if (!authz_may_grant(authz_effective_role(&pr.r), to))
        return PROJECTS_FORBIDDEN;
    if (!projects__id_ok(user_id))
        return projects__invalid(p, "user_id", "must be the id of a user");
    char uid[SB_UUID_STR_LEN], now[24];
    projects__copy(uid, sizeof(uid), user_id);
    snprintf(now, sizeof(now), "%lld", (long long)c->now_us);
    sb_errbuf err;
    store_err e = store_begin(c->db, &err);
    if (e == STORE_OK)
        e = projects__exec(c->db,
                           "DELETE FROM project_members WHERE project_id = $1 AND user_id = $2",
                           (const char *const[]){pr.id, uid}, 2, NULL, &err);
    if (e == STORE_OK && to != AUTHZ_NONE)
        e = projects__exec(c->db,
                           "INSERT INTO project_members (project_id, user_id, role, created_at) "
                           "VALUES ($1, $2, $3, CAST($4 AS BIGINT))",
                           (const char *const[]){pr.id, uid, authz_role_name(to), now}, 4, NULL,
                           &err);
    if (e == STORE_CONSTRAINT) {
        store_rollback(c->db, NULL);
        return projects__invalid(p, "user_id", "must be the id of a user");
    }
    if (e != STORE_OK)
        return projects__store(c, "setting a project role", e, &err);
    char details[64];
    snprintf(details, sizeof(details), "{\"role\":\"%s\"}", authz_role_name(to));
    if ((r = projects__audit(c, pr.id, "member_role_changed", uid, details)) != PROJECTS_OK)
        return r;
    e = projects__commit_access(c, &err);
    return e == STORE_OK ? PROJECTS_OK : projects__store(c, "setting a project role", e, &err);
}

projects_err projects_share(projects_ctx *c, sb_str project_id, sb_str user_id, sb_str kind,
                            sb_str item, projects_problem *p)
{
    projects__proj pr;
    projects_err r = projects__project(c, project_id, AUTHZ_MANAGE, &pr);
    if (r != PROJECTS_OK)
        return r;
    if (!sb_str_eq(kind, SB_STR("page")) && !sb_str_eq(kind, SB_STR("file")))
        return projects__invalid(p, "kind", "must be page or file");
    if (!projects__id_ok(user_id))
        return projects__invalid(p, "user_id", "must be the id of a user");
    if (item.len == 0 || item.len > 512 || !projects__text_ok(item, 1, 512))
        return projects__invalid(p, "item", "must be a page id or a file path");
    char uid[SB_UUID_STR_LEN], now[24], it[513], k[8];
    projects__copy(uid, sizeof(uid), user_id);
    projects__copy(it, sizeof(it), item);
    projects__copy(k, sizeof(k), kind);
    snprintf(now, sizeof(now), "%lld", (long long)c->now_us);
    sb_errbuf err;
    store_err e = store_begin(c->db, &err);
    if (e == STORE_OK)
        e = projects__exec(c->db,
                           "INSERT INTO project_shares (project_id, user_id, kind, item, "
                           "created_at) SELECT $1, $2, $3, $4, CAST($5 AS BIGINT) WHERE NOT "
                           "EXISTS (SELECT 1 FROM project_shares WHERE project_id = $1 AND "
                           "user_id = $2 AND kind = $3 AND item = $4)",
                           (const char *const[]){pr.id, uid, k, it, now}, 5, NULL, &err);
    if (e == STORE_CONSTRAINT) {
        store_rollback(c->db, NULL);
        return projects__invalid(p, "user_id", "must be the id of a user");
    }
    if (e != STORE_OK)
        return projects__store(c, "sharing", e, &err);
    if ((r = projects__audit(c, pr.id, "item_shared", uid, NULL)) != PROJECTS_OK)
        return r;
    e = store_commit(c->db, &err);
    return e == STORE_OK ? PROJECTS_OK : projects__store(c, "sharing", e, &err);
}

projects_err projects__list_items(projects_ctx *c, sb_str project_id, const projects__item_list *l,
                                  sb_jw *out)
{
    projects__proj pr;
    projects_err r = projects__project(c, project_id, AUTHZ_READ, &pr);
    if (r != PROJECTS_OK)
        return r;
    bool guest = authz_effective_role(&pr.r) == AUTHZ_GUEST;
    sb_errbuf err;
    store_stmt *st;
    const char *args[] = {pr.id, c->caller.user_id ? c->caller.user_id : ""};
    store_err e = projects__prepare(c->db, l->sql, args, 2, &st, &err);
    if (e != STORE_OK)
        return projects__store(c, l->what, e, &err);
    sb_jw_obj_begin(out);
    sb_jw_key(out, "items");
    sb_jw_arr_begin(out);
    while ((e = store_step(st, &err)) == STORE_ROW) {
        authz_resource item = pr.r;
        item.item = true;
        item.published = l->published_col >= 0 && store_col_bool(st, l->published_col);
        item.shared = guest && store_col_bool(st, l->shared_col);
        if (authz_check(&c->caller, AUTHZ_READ, &item).outcome == AUTHZ_ALLOW)
            l->write_row(out, st);
    }
    store_reset(st);
    sb_jw_arr_end(out);
    sb_jw_kv_str(out, "next_cursor", NULL);
    sb_jw_obj_end(out);
    return e == STORE_DONE ? PROJECTS_OK : projects__store(c, l->what, e, &err);
}
