/*
 * events.c: the event log and the states of a project as the services
 * offer them: the access rule (viewers and above, see projects.h) on top
 * of history/, which knows nothing of callers.
 */
#include "base/clock.h"
#include "base/log.h"
#include "history/history.h"
#include "projects/projects_int.h"

/* The project, if the caller may read its whole history. The log holds
 * every item, drafts and unshared ones included, so it is asked of the
 * policy as an item that is never shared or published: viewers and above
 * read it; guests and the public of a public project get NOT_FOUND, as
 * for any item hidden from them. */
static projects_err open_project(projects_ctx *c, sb_str project_id, projects__proj *pr)
{
    projects_err r = projects__project(c, project_id, AUTHZ_READ, pr);
    if (r != PROJECTS_OK)
        return r;
    pr->r.item = true;
    pr->r.shared = false;
    pr->r.published = false;
    return projects__decide(c, AUTHZ_READ, &pr->r);
}

static projects_err history_failed(const char *what, history_err e, const sb_errbuf *err)
{
    sb_log(SB_LOG_ERROR, "history failed", SB_LOG_STR("what", what),
           SB_LOG_STR("error", err->msg[0] ? err->msg : history_strerror(e)));
    return e == HISTORY_STORE ? PROJECTS_STORE : PROJECTS_INTERNAL;
}

projects_err projects_events_list(projects_ctx *c, sb_str project_id, int64_t after, int limit,
                                  sb_jw *out, projects_problem *p)
{
    projects__proj pr;
    projects_err r = open_project(c, project_id, &pr);
    if (r != PROJECTS_OK)
        return r;
    if (after < 0)
        return projects__invalid(p, "after", "must be a sequence number (0 or more)");
    sb_errbuf err = {{0}};
    history_err e = history_events_list(c->db, pr.id, after, limit, out, &err);
    return e == HISTORY_OK ? PROJECTS_OK : history_failed("listing events", e, &err);
}

projects_err projects_state_get(projects_ctx *c, sb_str project_id, const projects_state_at *at,
                                sb_jw *out, projects_problem *p)
{
    projects__proj pr;
    projects_err r = open_project(c, project_id, &pr);
    if (r != PROJECTS_OK)
        return r;
    sb_errbuf err = {{0}};
    json_t *state = NULL;
    int64_t seq = at->v;
    history_err e = HISTORY_OK;
    if (at->kind == PROJECTS_AT_HEAD) {
        e = history_state_live(c->db, pr.id, &state, &seq, &err);
    } else {
        if (at->kind == PROJECTS_AT_TIME)
            e = history_seq_at_time(c->db, pr.id, at->v, &seq, &err);
        if (e == HISTORY_OK)
            e = history_state_at(c->db, pr.id, seq, &state, &err);
    }
    if (e == HISTORY_NOT_FOUND) {
        p->field = "at";
        snprintf(p->message, sizeof(p->message), "%s",
                 at->kind == PROJECTS_AT_TIME ? "is before the project's first event"
                                              : "is not a sequence number of this project");
        return PROJECTS_NOT_FOUND;
    }
    if (e != HISTORY_OK)
        return history_failed("reading a state", e, &err);
    int64_t t = 0;
    bool have_t = seq > 0 && history_event_time(c->db, pr.id, seq, &t, &err) == HISTORY_OK;
    char ts[SB_RFC3339_LEN];
    sb_jw_obj_begin(out);
    sb_jw_kv_str(out, "project_id", pr.id);
    sb_jw_kv_int(out, "seq", seq);
    sb_jw_kv_str(out, "at", have_t ? sb_rfc3339(t, ts) : NULL);
    sb_jw_key(out, "state");
    sb_buf text = SB_BUF_INIT;
    history_state_text(state, &text);
    sb_jw_raw(out, text.ptr, text.len);
    sb_buf_free(&text);
    sb_jw_obj_end(out);
    json_decref(state);
    return PROJECTS_OK;
}
