/*
 * locks.c: element locks (docs/collab.md, "Locks"). A lock names one
 * element of a project (a component id), its kind (edit or view), its
 * holder and when it expires. Editors and above take and release them; a
 * live lock of another user refuses (CONFLICT); an expired one is no lock
 * at all: every read filters on expires_at and the next taker overwrites
 * it, so expiry needs no sweeper. Taking is one upsert whose WHERE admits
 * only a free, expired or own row, so two racing takers cannot both win.
 * Locks are not audited: they live minutes and say nothing about content.
 */
#include "projects/projects_int.h"

#include "base/clock.h"

#define LOCK_COLS           "element, type, user_id, expires_at, created_at"
#define LOCK_TTL_DEFAULT_US (5 * 60 * 1000000LL)
#define LOCK_TTL_MAX_US     (60 * 60 * 1000000LL)

static void write_lock(sb_jw *w, store_stmt *st)
{
    char t[SB_RFC3339_LEN];
    sb_jw_obj_begin(w);
    sb_jw_kv_str(w, "element", store_col_text(st, 0, NULL));
    sb_jw_kv_str(w, "type", store_col_text(st, 1, NULL));
    sb_jw_kv_str(w, "user_id", store_col_text(st, 2, NULL));
    sb_jw_kv_str(w, "expires_at", sb_rfc3339(store_col_int(st, 3), t));
    sb_jw_kv_str(w, "created_at", sb_rfc3339(store_col_int(st, 4), t));
    sb_jw_obj_end(w);
}

/* The live lock on element as JSON into out; NOT_FOUND when none. */
static projects_err lock_get(projects_ctx *c, const char *project_id, sb_str element, sb_jw *out,
                             char holder[SB_UUID_STR_LEN])
{
    sb_errbuf err;
    store_stmt *st;
    store_err e = store_prepare(c->db,
                                "SELECT " LOCK_COLS " FROM element_locks WHERE project_id = $1 "
                                "AND element = $2 AND expires_at > $3",
                                &st, &err);
    if (e != STORE_OK)
        return projects__store(c, "reading a lock", e, &err);
    store_bind_cstr(st, 1, project_id);
    store_bind_text(st, 2, element.ptr, element.len);
    store_bind_int(st, 3, c->now_us);
    e = store_step(st, &err);
    if (e == STORE_ROW) {
        if (out)
            write_lock(out, st);
        if (holder)
            snprintf(holder, SB_UUID_STR_LEN, "%s", store_col_text(st, 2, NULL));
    }
    store_reset(st);
    if (e == STORE_ROW)
        return PROJECTS_OK;
    return e == STORE_DONE ? PROJECTS_NOT_FOUND : projects__store(c, "reading a lock", e, &err);
}

projects_err projects_lock_take(projects_ctx *c, sb_str project_id, const projects_lock_input *in,
                                sb_jw *out, projects_problem *p)
{
    projects__proj pr;
    projects_err r = projects__project(c, project_id, AUTHZ_EDIT, &pr);
    if (r != PROJECTS_OK)
        return r;
    if (!projects__text_ok(in->element, 1, 200))
        return projects__invalid(p, "element", "must be 1 to 200 characters");
    if (!sb_str_eq(in->type, SB_STR("edit")) && !sb_str_eq(in->type, SB_STR("view")))
        return projects__invalid(p, "type", "must be edit or view");
    int64_t expires = in->expires_at_us ? in->expires_at_us : c->now_us + LOCK_TTL_DEFAULT_US;
    if (expires <= c->now_us || expires > c->now_us + LOCK_TTL_MAX_US)
        return projects__invalid(p, "expires_at", "must be in the future, within an hour");
    sb_errbuf err;
    store_stmt *st;
    store_err e = store_prepare(
        c->db,
        "INSERT INTO element_locks (project_id, element, user_id, type, expires_at, created_at) "
        "VALUES ($1, $2, $3, $4, $5, $6) ON CONFLICT (project_id, element) DO UPDATE SET "
        "user_id = excluded.user_id, type = excluded.type, expires_at = excluded.expires_at, "
        "created_at = CASE WHEN element_locks.user_id = excluded.user_id "
        "AND element_locks.expires_at > $6 THEN element_locks.created_at "
        "ELSE excluded.created_at END "
        "WHERE element_locks.user_id = excluded.user_id OR element_locks.expires_at <= $6",
        &st, &err);
    int64_t changed = 0;
    if (e == STORE_OK) {
        store_bind_cstr(st, 1, pr.id);
        store_bind_text(st, 2, in->element.ptr, in->element.len);
        store_bind_cstr(st, 3, c->caller.user_id);
        store_bind_text(st, 4, in->type.ptr, in->type.len);
        store_bind_int(st, 5, expires);
        store_bind_int(st, 6, c->now_us);
        e = store_step(st, &err);
        changed = store_changes(st);
        store_reset(st);
    }
    if (e != STORE_DONE)
        return projects__store(c, "taking a lock", e, &err);
    if (changed == 0) {
        p->field = "element";
        snprintf(p->message, sizeof(p->message), "is locked by another user");
        return PROJECTS_CONFLICT;
    }
    return lock_get(c, pr.id, in->element, out, NULL);
}

projects_err projects_lock_release(projects_ctx *c, sb_str project_id, sb_str element)
{
    projects__proj pr;
    projects_err r = projects__project(c, project_id, AUTHZ_EDIT, &pr);
    if (r != PROJECTS_OK)
        return r;
    char holder[SB_UUID_STR_LEN];
    if ((r = lock_get(c, pr.id, element, NULL, holder)) != PROJECTS_OK)
        return r;
    /* Someone else's: only those who manage the project break it. */
    if (strcmp(holder, c->caller.user_id ? c->caller.user_id : "") != 0 &&
        (r = projects__decide(c, AUTHZ_MANAGE, &pr.r)) != PROJECTS_OK)
        return r == PROJECTS_NOT_FOUND ? PROJECTS_FORBIDDEN : r;
    sb_errbuf err;
    store_stmt *st;
    store_err e = store_prepare(c->db,
                                "DELETE FROM element_locks WHERE project_id = $1 AND element = $2 "
                                "AND user_id = $3",
                                &st, &err);
    if (e == STORE_OK) {
        store_bind_cstr(st, 1, pr.id);
        store_bind_text(st, 2, element.ptr, element.len);
        store_bind_cstr(st, 3, holder);
        e = store_step(st, &err);
        store_reset(st);
    }
    return e == STORE_DONE ? PROJECTS_OK : projects__store(c, "releasing a lock", e, &err);
}

projects_err projects_lock_list(projects_ctx *c, sb_str project_id, sb_jw *out)
{
    /* Who may read the project as a whole, as for presence: members, not
     * guests nor strangers to a public project. */
    bool can_write;
    projects_err r = projects_collab_access(c, project_id, NULL, SB_STR_NULL, &can_write);
    projects__proj pr;
    if (r == PROJECTS_OK)
        r = projects__project(c, project_id, AUTHZ_READ, &pr);
    if (r != PROJECTS_OK)
        return r;
    sb_errbuf err;
    store_stmt *st;
    store_err e = store_prepare(c->db,
                                "SELECT " LOCK_COLS " FROM element_locks WHERE project_id = $1 "
                                "AND expires_at > $2 ORDER BY element",
                                &st, &err);
    if (e != STORE_OK)
        return projects__store(c, "listing locks", e, &err);
    store_bind_cstr(st, 1, pr.id);
    store_bind_int(st, 2, c->now_us);
    sb_jw_obj_begin(out);
    sb_jw_key(out, "items");
    sb_jw_arr_begin(out);
    while ((e = store_step(st, &err)) == STORE_ROW)
        write_lock(out, st);
    sb_jw_arr_end(out);
    sb_jw_obj_end(out);
    store_reset(st);
    return e == STORE_DONE ? PROJECTS_OK : projects__store(c, "listing locks", e, &err);
}

projects_err projects_locks_drop_user(projects_ctx *c, const char *project_id, const char *user_id,
                                      sb_jw *released)
{
    sb_errbuf err;
    store_stmt *st;
    store_err e = store_begin(c->db, &err);
    if (e == STORE_OK)
        e = store_prepare(c->db,
                          "SELECT " LOCK_COLS " FROM element_locks WHERE project_id = $1 "
                          "AND user_id = $2 AND expires_at > $3 ORDER BY element",
                          &st, &err);
    if (e != STORE_OK)
        return projects__store(c, "releasing locks", e, &err);
    store_bind_cstr(st, 1, project_id);
    store_bind_cstr(st, 2, user_id);
    store_bind_int(st, 3, c->now_us);
    sb_jw_arr_begin(released);
    while ((e = store_step(st, &err)) == STORE_ROW)
        write_lock(released, st);
    sb_jw_arr_end(released);
    store_reset(st);
    if (e == STORE_DONE)
        e = store_prepare(c->db, "DELETE FROM element_locks WHERE project_id = $1 AND user_id = $2",
                          &st, &err);
    if (e == STORE_OK) {
        store_bind_cstr(st, 1, project_id);
        store_bind_cstr(st, 2, user_id);
        e = store_step(st, &err);
        store_reset(st);
    }
    if (e != STORE_DONE)
        return projects__store(c, "releasing locks", e, &err);
    if ((e = store_commit(c->db, &err)) != STORE_OK)
        return projects__store(c, "releasing locks", e, &err);
    return PROJECTS_OK;
}
