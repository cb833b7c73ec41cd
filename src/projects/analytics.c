/*
 * analytics.c: who may read and write a project's analytics (its time
 * series), asked of the same policy as everything else.
 *
 * Analytics are project items that are never shared and never published:
 * viewers and up read them, editors and up write them, and neither a
 * guest nor the public of a public project sees them at all (NOT_FOUND),
 * as with AI records.
 */
#include "projects/projects_int.h"

#include <stdlib.h>
#include <string.h>

projects_err projects_analytics_access(projects_ctx *c, sb_str project_id, bool write)
{
    projects__proj pr;
    projects_err r;
    if (projects__access_memo_get(c, project_id, &pr)) {
        /* The same decision projects__project makes after its read. */
        r = projects__decide(c, AUTHZ_READ, &pr.r);
    } else {
        uint64_t gen = projects__access_gen(); /* before the read: see access_memo.c */
        r = projects__project(c, project_id, AUTHZ_READ, &pr);
        if (r == PROJECTS_OK)
            projects__access_memo_put(c, &pr, gen);
    }
    if (r != PROJECTS_OK)
        return r;
    pr.r.item = true; /* never shared, never published */
    return projects__decide(c, write ? AUTHZ_EDIT : AUTHZ_READ, &pr.r);
}

/* At most this many databases in one SHOW DATABASES answer. */
#define READABLE_MAX 1000

projects_err projects_analytics_readable(projects_ctx *c, projects_id_fn fn, void *arg)
{
    if (!c->caller.user_id)
        return PROJECTS_OK;
    /* Every project the caller has any role in; the policy then keeps the
     * ones whose analytics they may read. */
    sb_errbuf err;
    store_stmt *st;
    const char *args[] = {c->caller.user_id};
    store_err e = projects__prepare(
        c->db,
        "SELECT p.id FROM projects p WHERE p.owner_id = $1 OR p.id IN (SELECT project_id FROM "
        "project_members WHERE user_id = $1) OR p.team_id IN (SELECT team_id FROM team_members "
        "WHERE user_id = $1) ORDER BY p.id LIMIT 1000",
        args, 1, &st, &err);
    if (e != STORE_OK)
        return projects__store(c, "listing analytics databases", e, &err);
    char(*ids)[SB_UUID_STR_LEN] = sb_calloc(READABLE_MAX, SB_UUID_STR_LEN);
    size_t n = 0;
    while (n < READABLE_MAX && (e = store_step(st, &err)) == STORE_ROW) {
        size_t len;
        const char *id = store_col_text(st, 0, &len);
        projects__copy(ids[n++], SB_UUID_STR_LEN, sb_str_make(id, len));
    }
    store_reset(st);
    projects_err r = PROJECTS_OK;
    if (e != STORE_ROW && e != STORE_DONE)
        r = projects__store(c, "listing analytics databases", e, &err);
    for (size_t i = 0; r == PROJECTS_OK && i < n; i++) {
        projects_err a = projects_analytics_access(c, sb_str_c(ids[i]), false);
        if (a == PROJECTS_OK)
            fn(arg, ids[i]);
        else if (a == PROJECTS_STORE || a == PROJECTS_INTERNAL)
            r = a;
    }
    free(ids);
    return r;
}

static void no_row(store_stmt *st, void *ctx) {}

projects_err projects_analytics_site(projects_ctx *c, sb_str project_id)
{
    if (!projects__id_ok(project_id))
        return PROJECTS_NOT_FOUND;
    char id[SB_UUID_STR_LEN];
    projects__copy(id, sizeof(id), project_id);
    const char *args[] = {id};
    /* API.md: a public project's deployed site is readable by anyone;
     * other projects have no site a visitor could send beacons from. */
    return projects__one_row(c, "finding a site",
                             "SELECT id FROM projects WHERE id = $1 AND visibility = 'public'",
                             args, 1, no_row, NULL);
}
