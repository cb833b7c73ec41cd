/*
 * diff.c: what changed between two commits: each path added, modified or
 * deleted, with a unified diff for files (libgit2's patch of two blobs,
 * three lines of context) and the structural diff (vcs_page_diff) for
 * pages, which names the components and props that changed.
 */
#include <string.h>

#include "vcs/vcs_int.h"

static json_t *blob_json(git_blob *b)
{
    if (!b)
        return NULL;
    return json_loadb(git_blob_rawcontent(b), (size_t)git_blob_rawsize(b), 0, NULL);
}

static projects_err one_path(vcs__repo *r, sb_jw *out, const char *path, const char *a,
                             const char *b)
{
    git_blob *ba = vcs__blob(r, a), *bb = vcs__blob(r, b);
    sb_jw_obj_begin(out);
    sb_jw_kv_str(out, "path", path);
    sb_jw_kv_str(out, "status", !a ? "added" : !b ? "deleted" : "modified");
    projects_err pe = PROJECTS_OK;
    if (vcs__is_page(path)) {
        sb_jw_kv_str(out, "kind", "page");
        json_t *ja = blob_json(ba), *jb = blob_json(bb);
        json_t *d = vcs_page_diff(ja, jb);
        sb_jw_key(out, "changes");
        if (d)
            sb_jw_json(out, d);
        else
            sb_jw_null(out); /* not a page we can read: the bytes changed */
        json_decref(d);
        json_decref(ja);
        json_decref(jb);
    } else {
        sb_jw_kv_str(out, "kind", strncmp(path, "assets/", 7) == 0 ? "asset" : "file");
        git_patch *patch = NULL;
        git_diff_options opts;
        git_diff_options_init(&opts, GIT_DIFF_OPTIONS_VERSION);
        int rc = git_patch_from_blobs(&patch, ba, path, bb, path, &opts);
        git_buf buf = GIT_BUF_INIT;
        if (rc == 0)
            rc = git_patch_to_buf(&buf, patch);
        if (rc < 0)
            pe = vcs__git_fail("diffing a file", rc);
        else {
            sb_jw_key(out, "patch");
            sb_jw_strn(out, buf.ptr, buf.size);
        }
        git_buf_dispose(&buf);
        git_patch_free(patch);
    }
    sb_jw_obj_end(out);
    git_blob_free(ba);
    git_blob_free(bb);
    return pe;
}

typedef struct diff_ctx {
    vcs__repo *r;
    sb_jw *out;
} diff_ctx;

static projects_err diff_one(void *ctx, const char *path, const char *a, const char *b)
{
    diff_ctx *dc = ctx;
    return one_path(dc->r, dc->out, path, a, b);
}

projects_err vcs_diff(projects_ctx *c, sb_str project_id, sb_str from, sb_str to, sb_jw *out,
                      projects_problem *p)
{
    vcs__repo r;
    projects_err pe = vcs__open(c, project_id, AUTHZ_READ, &r);
    if (pe != PROJECTS_OK)
        return pe;
    git_oid a, b;
    pe = vcs__resolve(&r, from, "from", &a, p);
    if (pe == PROJECTS_OK)
        pe = vcs__resolve(&r, to, "to", &b, p);
    if (pe == PROJECTS_OK) {
        char hex[GIT_OID_HEXSZ + 1];
        sb_jw_obj_begin(out);
        sb_jw_kv_str(out, "from", git_oid_tostr(hex, sizeof(hex), &a));
        sb_jw_kv_str(out, "to", git_oid_tostr(hex, sizeof(hex), &b));
        sb_jw_key(out, "files");
        sb_jw_arr_begin(out);
        diff_ctx dc = {&r, out};
        pe = vcs__each_change(&r, &a, &b, diff_one, &dc);
        sb_jw_arr_end(out);
        sb_jw_obj_end(out);
    }
    vcs__close(&r);
    return pe;
}
