/*
 * live.c: the default branch's live documents follow its head. When a
 * merge or a rollback moves the default branch, the paths that changed
 * between the old and the new head are written to the live project
 * through the projects service (so versions, validation and the audit
 * log are the service's own): pages by id (PUT; a page that no longer
 * exists live is created again, under a new id, which the service
 * assigns), code files by path, deletions as deletions. Asset references
 * are not written back: an asset's bytes may be gone from the blob store.
 *
 * Not atomic with the ref move: the ref moves first, then the paths are
 * written one by one; a failure stops there and is returned (the history
 * is right, the live project is behind it until the next write). Live
 * edits not yet committed to the paths a merge or rollback changes are
 * overwritten: commit them (from_live) first.
 */
#include <string.h>

#include "vcs/vcs_int.h"

/* Deleting what is already gone live is done. */
static projects_err deleted(projects_err pe)
{
    return pe == PROJECTS_NOT_FOUND ? PROJECTS_OK : pe;
}

/* put_page and put_file write path's blob b (NULL: path is gone) to the
 * live project; scratch (empty, the caller frees it) takes the service's
 * answers. */
static projects_err put_page(vcs__repo *r, const char *path, git_blob *b, sb_buf *scratch)
{
    char id[SB_UUID_STR_LEN];
    size_t n = strlen(path) - strlen("pages/") - strlen(".json");
    if (n != SB_UUID_STR_LEN - 1)
        return PROJECTS_OK; /* not a page the service could have made */
    memcpy(id, path + 6, n);
    id[n] = '\0';
    sb_str pid = sb_str_c(r->project_id);
    if (!b)
        return deleted(projects_page_delete(r->c, pid, sb_str_c(id), 0));
    json_t *pg = json_loadb(git_blob_rawcontent(b), (size_t)git_blob_rawsize(b), 0, NULL);
    const json_t *name = json_object_get(pg, "name"), *ppath = json_object_get(pg, "path");
    if (!json_is_string(name) || !json_is_string(ppath)) {
        json_decref(pg);
        return PROJECTS_INVALID;
    }
    const json_t *pub = json_object_get(pg, "published");
    projects_page_input in = {
        .name = {json_string_value(name), json_string_length(name)},
        .path = {json_string_value(ppath), json_string_length(ppath)},
        .components = json_object_get(pg, "components"),
        .metadata = json_object_get(pg, "metadata"),
        .published = json_is_boolean(pub) ? json_is_true(pub) : -1,
    };
    sb_jw w;
    sb_jw_init(&w, scratch);
    projects_problem p = {0};
    projects_ver ver = 0;
    projects_err pe = projects_page_put(r->c, pid, sb_str_c(id), &in, 0, &w, &ver, &p);
    if (pe == PROJECTS_OK && r->c->written)
        r->c->written(r->c->written_ctx, r->project_id, "page", sb_str_c(id), sb_buf_str(scratch),
                      ver);
    if (pe == PROJECTS_NOT_FOUND) {
        char nid[SB_UUID_STR_LEN];
        sb_buf_reset(scratch);
        sb_jw_init(&w, scratch);
        pe = projects_page_create(r->c, pid, &in, &w, nid, &p);
    }
    json_decref(pg);
    return pe;
}

static projects_err put_file(vcs__repo *r, const char *path, git_blob *b, sb_buf *scratch)
{
    sb_str pid = sb_str_c(r->project_id), fpath = sb_str_c(path + strlen("files/"));
    if (!b)
        return deleted(projects_file_delete(r->c, pid, fpath, 0));
    sb_str content = {git_blob_rawcontent(b), (size_t)git_blob_rawsize(b)};
    if (!content.ptr)
        content = SB_STR("");
    sb_jw w;
    sb_jw_init(&w, scratch);
    projects_problem p = {0};
    projects_ver ver = 0;
    projects_err pe = projects_file_put(r->c, pid, fpath, content, 0, &w, &ver, &p);
    if (pe == PROJECTS_NOT_FOUND) {
        sb_buf_reset(scratch);
        sb_jw_init(&w, scratch);
        pe = projects_file_create(r->c, pid, fpath, content, SB_STR_NULL, &w, &p);
        if (pe == PROJECTS_OK) { /* the version is in the file's JSON */
            json_t *o = json_loadb(scratch->ptr, scratch->len, 0, NULL);
            ver = json_integer_value(json_object_get(o, "version"));
            json_decref(o);
        }
    }
    /* A file's document follows it (docs/collab.md). */
    if (pe == PROJECTS_OK && r->c->written)
        r->c->written(r->c->written_ctx, r->project_id, "file", fpath, content, ver);
    return pe;
}

static projects_err follow(void *ctx, const char *path, const char *a, const char *hb)
{
    (void)a;
    vcs__repo *r = ctx;
    bool page = vcs__is_page(path), file = strncmp(path, "files/", 6) == 0;
    if (!page && !file)
        return PROJECTS_OK; /* asset references stay as they are live */
    git_blob *b = vcs__blob(r, hb);
    sb_buf scratch = SB_BUF_INIT;
    projects_err pe;
    if (hb && !b)
        pe = PROJECTS_INTERNAL;
    else
        pe = page ? put_page(r, path, b, &scratch) : put_file(r, path, b, &scratch);
    sb_buf_free(&scratch);
    git_blob_free(b);
    if (pe != PROJECTS_OK)
        sb_log(SB_LOG_ERROR, "vcs: the live project could not follow main",
               SB_LOG_STR("project", r->project_id), SB_LOG_STR("path", path),
               SB_LOG_STR("error", projects_err_code(pe)));
    return pe;
}

projects_err vcs__apply_live(vcs__repo *r, const git_oid *from, const git_oid *to)
{
    return vcs__each_change(r, from, to, follow, r);
}
