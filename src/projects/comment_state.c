/*
 * comment_state.c: a thread's life after its words: resolve, reopen, and
 * deleting a reply or a whole thread (see comments.c for the invariants).
 *
 * Resolving is the thread's, never a reply's: the root carries the state.
 * Asking for the state a thread is already in changes nothing (no new
 * version, no audit row), so a client may repeat it safely. Deleting a
 * root deletes its replies with it (the foreign key's ON DELETE CASCADE):
 * a conversation without its opening makes no sense.
 */
#include <string.h>

#include "projects/projects_int.h"

projects_err projects_comment_resolve(projects_ctx *c, sb_str project_id, sb_str comment_id,
                                      bool resolved, projects_ver if_ver, sb_jw *out,
                                      projects_ver *ver, projects_problem *p)
{
    projects__proj pr;
    projects__comment cm;
    projects_err r =
        projects__comment_open(c, project_id, comment_id, AUTHZ_COMMENT_RESOLVE, &pr, &cm);
    if (r != PROJECTS_OK)
        return r;
    if (cm.is_reply)
        return projects__invalid(p, "comment_id", "is a reply: resolve or reopen its thread");
    if (if_ver && if_ver != cm.version)
        return PROJECTS_STALE;
    if (cm.resolved == resolved)
        return projects__comment_write_by_id(c, cm.id, out, ver);
    sb_errbuf err;
    store_stmt *st;
    store_err e = store_begin(c->db, &err);
    if (e == STORE_OK)
        e = store_prepare(c->db,
                          "UPDATE comments SET resolved_at = $1, resolved_by = $2, "
                          "version = version + 1 WHERE id = $3 AND ($4 = 0 OR version = $4)",
                          &st, &err);
    if (e != STORE_OK)
        return projects__store(c, "resolving a thread", e, &err);
    if (resolved) {
        store_bind_int(st, 1, c->now_us);
        store_bind_cstr(st, 2, c->caller.user_id);
    }
    store_bind_cstr(st, 3, cm.id);
    store_bind_int(st, 4, if_ver);
    if ((r = projects__write_versioned(c, st, "resolving a thread")) != PROJECTS_OK ||
        (r = projects__audit(c, pr.id, resolved ? "comment_resolved" : "comment_reopened", cm.id,
                             NULL)) != PROJECTS_OK)
        return r;
    return projects__finish(c, projects__comment_write_by_id(c, cm.id, out, ver),
                            "resolving a thread");
}

projects_err projects_comment_delete(projects_ctx *c, sb_str project_id, sb_str comment_id,
                                     projects_ver if_ver)
{
    projects__proj pr;
    projects__comment cm;
    projects_err r =
        projects__comment_open(c, project_id, comment_id, AUTHZ_COMMENT_DELETE, &pr, &cm);
    if (r != PROJECTS_OK)
        return r;
    sb_errbuf err;
    store_stmt *st;
    int64_t replies = 0;
    store_err e = store_begin(c->db, &err);
    if (e != STORE_OK)
        return projects__store(c, "deleting a comment", e, &err);
    if ((r = projects__reply_count(c, cm.id, &replies)) != PROJECTS_OK)
        return r;
    /* The version check is in the statement that deletes: of two racing
     * writers with one version, one wins. */
    e = store_prepare(c->db, "DELETE FROM comments WHERE id = $1 AND ($2 = 0 OR version = $2)", &st,
                      &err);
    if (e != STORE_OK)
        return projects__store(c, "deleting a comment", e, &err);
    store_bind_cstr(st, 1, cm.id);
    store_bind_int(st, 2, if_ver);
    if ((r = projects__write_versioned(c, st, "deleting a comment")) != PROJECTS_OK)
        return r;
    if (cm.is_reply && (r = projects__thread_touch(c, cm.root_id)) != PROJECTS_OK)
        return r;
    char details[96];
    if (cm.is_reply)
        snprintf(details, sizeof(details), "{\"thread\":\"%s\"}", cm.root_id);
    else
        snprintf(details, sizeof(details), "{\"replies\":%lld}", (long long)replies);
    if ((r = projects__audit(c, pr.id, "comment_deleted", cm.id, details)) != PROJECTS_OK)
        return r;
    e = store_commit(c->db, &err);
    return e == STORE_OK ? PROJECTS_OK : projects__store(c, "deleting a comment", e, &err);
}
