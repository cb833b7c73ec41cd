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
    char ref[VCS_REF_NAME_MAX + 16];
    snprintf(ref, sizeof(ref), "refs/heads/%.*s", (int)branch.len, branch.ptr);
    git_oid oid;
    pe = vcs__ref_get(&r, ref, &oid);
    if (pe == PROJECTS_OK)
        git_oid_tostr(hex, VCS_OID_HEX + 1, &oid);
    vcs__close(&r);
    return pe;
}

static projects_err files_at(vcs__repo *r, sb_str hex, json_t **files)
{
    projects_problem p = {0};
    git_oid oid;
    projects_err pe = vcs__resolve(r, hex, "commit", &oid, &p);
    if (pe != PROJECTS_OK)
        return pe;
    return vcs__commit_files(r, &oid, files);
}

projects_err vcs_changed_paths(projects_ctx *c, sb_str project_id, sb_str from, sb_str to,
                               vcs_path_fn fn, void *ctx)
{
    vcs__repo r;
    projects_err pe = vcs__open(c, project_id, AUTHZ_READ, &r);
    if (pe != PROJECTS_OK)
        return pe;
    json_t *fa = NULL, *fb = NULL;
    pe = files_at(&r, from, &fa);
    if (pe == PROJECTS_OK)
        pe = files_at(&r, to, &fb);
    if (pe == PROJECTS_OK) {
        json_t *keys = vcs__sorted_keys(fa, fb);
        size_t i;
        json_t *k;
        json_array_foreach(keys, i, k)
        {
            const char *path = json_string_value(k);
            const char *ha = json_string_value(json_object_get(fa, path));
            const char *hb = json_string_value(json_object_get(fb, path));
            if (ha && hb && strcmp(ha, hb) == 0)
                continue;
            git_blob *b = hb ? vcs__blob(&r, hb) : NULL;
            if (hb && !b) {
                pe = vcs__git_fail("reading a blob", -1);
                break;
            }
            sb_str content =
                b ? sb_str_make(git_blob_rawcontent(b), (size_t)git_blob_rawsize(b)) : SB_STR_NULL;
            fn(ctx, path, b ? &content : NULL);
            git_blob_free(b);
        }
        json_decref(keys);
    }
    json_decref(fa);
    json_decref(fb);
    vcs__close(&r);
    return pe;
}
