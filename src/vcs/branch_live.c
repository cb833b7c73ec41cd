/*
 * branch_live.c: what a branch's collaborative documents need from its
 * history (docs/vcs.md, "Branch rooms"): the branch head, which a room of
 * the branch seeds from (vcs_read at that head), and, when the branch
 * moved by something else than its rooms (a merge, a rollback, a commit
 * of a change list), the paths that changed, so that its open rooms
 * follow the new head as the default branch's rooms follow the live
 * tables.
 */
#include <string.h>

#include "vcs/vcs_int.h"

projects_err vcs_branch_head(projects_ctx *c, sb_str project_id, sb_str branch,
                             char hex[VCS_OID_HEX + 1])
{
    if (!vcs__name_ok(branch, "refs/heads/"))
        return PROJECTS_NOT_FOUND;
    vcs__repo r;
    projects_err pe = vcs__open(c, project_id, AUTHZ_READ, &r);
    if (pe != PROJECTS_OK)
        return pe;
    char ref[VCS__REF_CAP];
    git_oid oid;
    pe = vcs__ref_get(&r, vcs__ref_full(ref, "refs/heads/", branch), &oid);
    if (pe == PROJECTS_OK)
        git_oid_tostr(hex, VCS_OID_HEX + 1, &oid);
    vcs__close(&r);
    return pe;
}

typedef struct paths_ctx {
    vcs__repo *r;
    vcs_path_fn fn;
    void *ctx;
} paths_ctx;

static projects_err path_changed(void *ctx, const char *path, const char *a, const char *hb)
{
    (void)a;
    paths_ctx *pc = ctx;
    git_blob *b = hb ? vcs__blob(pc->r, hb) : NULL;
    if (hb && !b)
        return vcs__git_fail("reading a blob", -1);
    sb_str content =
        b ? sb_str_make(git_blob_rawcontent(b), (size_t)git_blob_rawsize(b)) : SB_STR_NULL;
    pc->fn(pc->ctx, path, b ? &content : NULL);
    git_blob_free(b);
    return PROJECTS_OK;
}

projects_err vcs_changed_paths(projects_ctx *c, sb_str project_id, sb_str from, sb_str to,
                               vcs_path_fn fn, void *ctx)
{
    vcs__repo r;
    projects_err pe = vcs__open(c, project_id, AUTHZ_READ, &r);
    if (pe != PROJECTS_OK)
        return pe;
    projects_problem p = {0};
    git_oid a, b;
    pe = vcs__resolve(&r, from, "commit", &a, &p);
    if (pe == PROJECTS_OK)
        pe = vcs__resolve(&r, to, "commit", &b, &p);
    paths_ctx pc = {&r, fn, ctx};
    if (pe == PROJECTS_OK)
        pe = vcs__each_change(&r, &a, &b, path_changed, &pc);
    vcs__close(&r);
    return pe;
}
