/*
 * event.c: every ref move is recorded in the project's event log (and
 * the audit log) in the transaction that moves it, so a crash leaves
 * either both or neither: no event for a ref that did not move, no moved
 * ref without its event. The event's payload is the move itself (kind
 * "ref" in history/: it changes no state), compact: the ref, the old and
 * new commit, a new commit's parents and subject line, and what a merge
 * or a rollback adds.
 */
#include <string.h>

#include "vcs/vcs_int.h"

#define SUBJECT_MAX 200 /* bytes of a commit message's first line in an event */

static void oid_kv(sb_jw *w, const char *key, const git_oid *oid)
{
    char hex[GIT_OID_HEXSZ + 1];
    if (oid)
        sb_jw_kv_str(w, key, git_oid_tostr(hex, sizeof(hex), oid));
    else {
        sb_jw_key(w, key);
        sb_jw_null(w);
    }
}

/* The subject is cut at a character boundary: the log is JSON text. */
static size_t subject_len(const char *msg)
{
    size_t n = strcspn(msg, "\n");
    if (n <= SUBJECT_MAX)
        return n;
    n = SUBJECT_MAX;
    while (n > 0 && ((unsigned char)msg[n] & 0xC0) == 0x80)
        n--;
    return n;
}

static projects_err details(vcs__repo *r, const vcs__move *m, const git_oid *old, sb_buf *out)
{
    sb_jw w;
    sb_jw_init(&w, out);
    sb_jw_obj_begin(&w);
    sb_jw_kv_str(&w, "ref", m->ref);
    bool tag = strncmp(m->ref, "refs/tags/", 10) == 0;
    sb_jw_kv_str(&w, tag ? "tag" : "branch", m->ref + (tag ? 10 : 11));
    oid_kv(&w, "old", old);
    oid_kv(&w, "commit", m->now);
    if (m->now && m->with_commit) {
        git_commit *cm;
        int rc = git_commit_lookup(&cm, r->git, m->now);
        if (rc < 0)
            return vcs__git_fail("reading a commit for its event", rc);
        char hex[GIT_OID_HEXSZ + 1];
        sb_jw_key(&w, "parents");
        sb_jw_arr_begin(&w);
        for (unsigned i = 0; i < git_commit_parentcount(cm); i++)
            sb_jw_str(&w, git_oid_tostr(hex, sizeof(hex), git_commit_parent_id(cm, i)));
        sb_jw_arr_end(&w);
        const char *msg = git_commit_message(cm);
        sb_jw_key(&w, "subject");
        sb_jw_strn(&w, msg, subject_len(msg));
        git_commit_free(cm);
    }
    if (m->source) {
        sb_jw_kv_str(&w, "source", m->source);
        oid_kv(&w, "source_commit", m->source_head);
        sb_jw_kv_bool(&w, "fast_forward", m->fast_forward);
    }
    if (m->to)
        oid_kv(&w, "to", m->to);
    if (m->resolved && json_object_size(m->resolved)) {
        /* the conflict ids resolved, not the values: those are in the commit */
        sb_jw_key(&w, "resolved");
        sb_jw_arr_begin(&w);
        const char *k;
        json_t *v;
        json_object_foreach((json_t *)m->resolved, k, v)
        {
            (void)v;
            sb_jw_str(&w, k);
        }
        sb_jw_arr_end(&w);
    }
    sb_jw_obj_end(&w);
    return PROJECTS_OK;
}

projects_err vcs__ref_move(vcs__repo *r, const vcs__move *m)
{
    sb_errbuf err = {{0}};
    bool own = !store_in_transaction(r->c->db);
    if (own && store_begin(r->c->db, &err) != STORE_OK) {
        sb_log(SB_LOG_ERROR, "vcs store failed", SB_LOG_STR("what", "beginning a ref move"),
               SB_LOG_STR("error", err.msg));
        return PROJECTS_STORE;
    }
    git_oid was;
    const git_oid *old = m->old;
    projects_err pe;
    if (m->now) {
        pe = vcs__ref_set(r, m->ref, m->now, m->old);
    } else {
        /* a deletion names what it deleted: read in the transaction */
        pe = vcs__ref_get(r, m->ref, &was);
        old = &was;
        if (pe == PROJECTS_OK)
            pe = vcs__ref_delete(r, m->ref);
    }
    sb_buf d = SB_BUF_INIT;
    if (pe == PROJECTS_OK)
        pe = details(r, m, old, &d);
    if (pe == PROJECTS_OK)
        pe = projects_audit_record(r->c, r->project_id, m->type, m->ref, d.ptr);
    sb_buf_free(&d);
    if (own) {
        if (pe == PROJECTS_OK && store_commit(r->c->db, &err) != STORE_OK) {
            sb_log(SB_LOG_ERROR, "vcs store failed", SB_LOG_STR("what", "committing a ref move"),
                   SB_LOG_STR("error", err.msg));
            pe = PROJECTS_STORE;
        }
        if (pe != PROJECTS_OK && store_in_transaction(r->c->db))
            store_rollback(r->c->db, &err);
    }
    return pe;
}
