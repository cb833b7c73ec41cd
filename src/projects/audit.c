/*
 * audit.c: the per-project audit log, newest first: who did what, when,
 * from which session and address. Rows are written by the services in the
 * same transaction as the change (projects__audit); reading them is an
 * admin action (owners and admins, MFA if the team asks for it).
 */
#include <string.h>

#include "base/clock.h"
#include "projects/projects_int.h"

static void write_entry(sb_jw *out, store_stmt *st)
{
    char t[SB_RFC3339_LEN];
    sb_jw_obj_begin(out);
    sb_jw_kv_str(out, "id", store_col_text(st, 0, NULL));
    sb_jw_kv_str(out, "actor_id", store_col_text(st, 1, NULL));
    sb_jw_kv_str(out, "session_id", store_col_text(st, 2, NULL));
    sb_jw_kv_str(out, "ip", store_col_text(st, 3, NULL));
    sb_jw_kv_str(out, "action", store_col_text(st, 4, NULL));
    sb_jw_kv_str(out, "target", store_col_text(st, 5, NULL));
    size_t dn;
    const char *d = store_col_text(st, 6, &dn);
    sb_jw_key(out, "details");
    sb_jw_raw(out, d, dn);
    sb_jw_kv_str(out, "created_at", sb_rfc3339(store_col_int(st, 7), t));
    sb_jw_obj_end(out);
}

projects_err projects_audit_list(projects_ctx *c, sb_str project_id, const projects_page *pg,
                                 sb_jw *out, projects_problem *p)
{
    projects__proj pr;
    projects_err r = projects__project(c, project_id, AUTHZ_AUDIT, &pr);
    if (r != PROJECTS_OK)
        return r;
    char after[SB_UUID_STR_LEN];
    if ((r = projects__id_cursor(pg, after, p)) != PROJECTS_OK)
        return r;
    return projects__id_page_run(c, "reading the audit log",
                                 "SELECT id, actor_id, session_id, ip, action, target, details, "
                                 "created_at FROM audit_log WHERE project_id = $1 AND "
                                 "($2 = '' OR id < $2) ORDER BY id DESC LIMIT $3",
                                 (const char *const[]){pr.id, after}, 2, pg->limit, write_entry,
                                 out);
}
