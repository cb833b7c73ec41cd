/*
 * git_http.c: what git's dumb HTTP protocol reads (Documentation/technical/
 * http-protocol.txt, "dumb" clients): info/refs, HEAD and loose objects,
 * served from the store so any node answers. Read-only.
 *
 * A loose object is zlib("<type> <size>\0<content>"); git checks the
 * object id of what it receives, so a corrupt row cannot pass unseen.
 */
#include <string.h>
#include <zlib.h>

#include "vcs/vcs_int.h"

projects_err vcs_git_info_refs(projects_ctx *c, sb_str project_id, sb_buf *out)
{
    vcs__repo r;
    projects_err pe = vcs__open(c, project_id, AUTHZ_READ, &r);
    if (pe != PROJECTS_OK)
        return pe;
    pe = vcs__ref_list(&r, "refs/", NULL, out);
    vcs__close(&r);
    return pe;
}

projects_err vcs_git_head(projects_ctx *c, sb_str project_id, sb_buf *out)
{
    vcs__repo r;
    projects_err pe = vcs__open(c, project_id, AUTHZ_READ, &r);
    if (pe != PROJECTS_OK)
        return pe;
    sb_buf_puts(out, "ref: refs/heads/" VCS_DEFAULT_BRANCH "\n");
    vcs__close(&r);
    return PROJECTS_OK;
}

projects_err vcs_git_object(projects_ctx *c, sb_str project_id, sb_str hex, sb_buf *out)
{
    git_oid oid;
    if (!vcs__oid_hex_ok(hex) || !vcs__oid_parse(hex, &oid))
        return PROJECTS_NOT_FOUND;
    vcs__repo r;
    projects_err pe = vcs__open(c, project_id, AUTHZ_READ, &r);
    if (pe != PROJECTS_OK)
        return pe;
    git_odb *odb = NULL;
    git_odb_object *obj = NULL;
    if (git_repository_odb(&odb, r.git) < 0 || git_odb_read(&obj, odb, &oid) < 0) {
        pe = PROJECTS_NOT_FOUND;
    } else {
        sb_buf raw = SB_BUF_INIT;
        size_t n = git_odb_object_size(obj);
        sb_buf_appendf(&raw, "%s %zu", git_object_type2string(git_odb_object_type(obj)), n);
        sb_buf_putc(&raw, '\0');
        sb_buf_append(&raw, git_odb_object_data(obj), n);
        uLongf cap = compressBound((uLong)raw.len);
        sb_buf_reserve(out, cap);
        if (compress2((Bytef *)out->ptr + out->len, &cap, (const Bytef *)raw.ptr, (uLong)raw.len,
                      Z_BEST_SPEED) != Z_OK)
            sb_die("zlib cannot compress a git object");
        out->len += cap;
        sb_buf_free(&raw);
    }
    git_odb_object_free(obj);
    git_odb_free(odb);
    vcs__close(&r);
    return pe;
}
