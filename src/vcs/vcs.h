/*
 * vcs.h: git-compatible version control of a project's content. A
 * project's pages, code files and asset references map to a git tree:
 *
 *     pages/<page_id>.json   {id, name, path, published, metadata, components}
 *                            (2-space indented JSON, one key order)
 *     files/<path>           a code file's bytes (styles are files/styles/...)
 *     assets/<asset_id>.json {id, sha256, type, size, filename}: a reference;
 *                            the bytes stay in the blob store
 *
 * Commits, branches (refs/heads/<name>), tags (refs/tags/<name>), history,
 * diffs (unified for files, structural for pages), three-way merges
 * (libgit2's file merge for files, vcs_page_merge for pages) with
 * structured conflicts, and rollbacks recorded as new commits.
 *
 * Storage: git objects live in the store's vcs_objects table keyed by
 * (project, object id), through a libgit2 ODB backend (odb.c), so any node
 * that shares the database serves any project and identical content is
 * stored once per project; refs live in vcs_refs, moved with a
 * compare-and-swap so two racing writers cannot both win.
 *
 * The calls are domain services in the manner of projects.h: they take a
 * projects_ctx, check the caller's role, and answer projects_err with a
 * projects_problem. Roles: viewers and above (not guests, not the public)
 * read; editors commit, branch, tag, merge into and roll back any branch
 * but the default one; admins and owners merge into and roll back the
 * default branch (VCS_DEFAULT_BRANCH).
 */
#ifndef SB_VCS_VCS_H
#define SB_VCS_VCS_H

#include <jansson.h>

#include "projects/projects.h"

#define VCS_DEFAULT_BRANCH "main"
#define VCS_REF_NAME_MAX   200 /* bytes of a branch or tag name */
#define VCS_MESSAGE_MAX    (64 * 1024)
#define VCS_CHANGES_MAX    10000 /* entries of one commit's change list */
#define VCS_PAGE_DEPTH_MAX 64    /* levels of components the page engine follows */
#define VCS_LOG_MAX        200

/* ---- the page engine (page_diff.c, page_merge.c): pure, no I/O ---- */

/* The structural difference of two pages (either may be NULL: absent) as
 * a new array of changes, each {op, ...}:
 *   {op:"field", field, old, new}         name, path or published
 *   {op:"metadata", key, old, new}
 *   {op:"added", component_id, type, parent_id, index}
 *   {op:"removed", component_id, type, parent_id}
 *   {op:"moved", component_id, type, old_parent_id, new_parent_id, ...}
 *   {op:"reordered", parent_id, old_order, new_order}
 *   {op:"changed", component_id, type, [old_type], props:[{name, old, new}]}
 * (null stands for absent). NULL when a page is not a valid tree (an id
 * missing or repeated, deeper than VCS_PAGE_DEPTH_MAX). */
json_t *vcs_page_diff(const json_t *old_page, const json_t *new_page);

/* Three-way merge of a page by component id (rules in page_merge.c).
 * base may be NULL (added on both sides). path names the page in conflict
 * ids ("pages/<id>.json#<component>/props/<name>"). resolutions (object or
 * NULL) maps conflict ids to "ours", "theirs", "base" or {"value": v}.
 * Unresolved conflicts are appended to conflicts (an array) as
 * {id, path, kind, component_id?, prop?|field?, base, ours, theirs}; the
 * merged page keeps ours' side of them. Returns the new merged page, or
 * NULL when an input is not a valid tree. */
json_t *vcs_page_merge(const json_t *base, const json_t *ours, const json_t *theirs,
                       const char *path, const json_t *resolutions, json_t *conflicts);

/* ---- repository services (commit.c, refs_api.c, diff.c, merge.c, rollback.c) ---- */

/* A commit: onto branch (created from nothing when the project has no
 * commit yet and it is the default branch), with message (1..64 KiB).
 * Either from_live (the project's current pages, files and assets: the
 * default branch's live documents) or changes, an array of
 *   {path, content}        a file (files/...) as text
 *   {path, page}           a page (pages/<id>.json) as a page object
 *   {path, delete: true}
 * applied to the branch head. expect (40 hex or empty) is the head the
 * caller saw: STALE when the branch moved on. An empty change (same tree)
 * is INVALID. out: the commit as vcs_log writes one. */
typedef struct vcs_commit_input {
    sb_str branch, message, expect;
    bool from_live;
    const json_t *changes;
} vcs_commit_input;

projects_err vcs_commit(projects_ctx *c, sb_str project_id, const vcs_commit_input *in, sb_jw *out,
                        projects_problem *p);

/* History from ref (a branch, a tag or a commit id; empty: the default
 * branch), newest first, at most limit (1..VCS_LOG_MAX) commits:
 * {"items": [{id, parents, author: {name, email}, message, time}]}. */
projects_err vcs_log(projects_ctx *c, sb_str project_id, sb_str ref, int limit, sb_jw *out,
                     projects_problem *p);

/* Branches and tags: {"items": [{name, commit}]}, by name. */
projects_err vcs_branch_list(projects_ctx *c, sb_str project_id, sb_jw *out);
projects_err vcs_tag_list(projects_ctx *c, sb_str project_id, sb_jw *out);
/* A new branch or tag name at from (a ref or commit id; empty: the
 * default branch). CONFLICT when the name is taken. */
projects_err vcs_branch_create(projects_ctx *c, sb_str project_id, sb_str name, sb_str from,
                               sb_jw *out, projects_problem *p);
projects_err vcs_tag_create(projects_ctx *c, sb_str project_id, sb_str name, sb_str from,
                            sb_jw *out, projects_problem *p);
/* Deletes a branch (not the default one: INVALID) or a tag; NOT_FOUND
 * when there is none. */
projects_err vcs_branch_delete(projects_ctx *c, sb_str project_id, sb_str name);
projects_err vcs_tag_delete(projects_ctx *c, sb_str project_id, sb_str name);

/* What changed from from to to (refs or commit ids): {from, to, files:
 * [{path, status: added|modified|deleted, kind: page|file|asset,
 * patch (files: unified diff) | changes (pages: vcs_page_diff)}]}. */
projects_err vcs_diff(projects_ctx *c, sb_str project_id, sb_str from, sb_str to, sb_jw *out,
                      projects_problem *p);

/* Merges branch source into branch target. Fast-forwards when target is
 * an ancestor of source; otherwise a merge commit with both parents.
 * resolutions (object or NULL) resolves conflicts by id (see
 * vcs_page_merge; a file conflict's id is its path and takes "ours",
 * "theirs", "base" or {"value": "text"}). expect_target/expect_source
 * (40 hex or empty): the heads the resolutions were made against (STALE
 * if either moved). On unresolved conflicts: CONFLICT, nothing changes,
 * and out holds {conflicts: [...], target_head, source_head}; else OK and
 * out holds {commit, fast_forward, up_to_date}. */
typedef struct vcs_merge_input {
    sb_str source, target, message, expect_target, expect_source;
    const json_t *resolutions;
} vcs_merge_input;

projects_err vcs_merge(projects_ctx *c, sb_str project_id, const vcs_merge_input *in, sb_jw *out,
                       projects_problem *p);

/* Rolls branch back to commit to (one of its ancestors, or any commit of
 * the project): a new commit on the branch whose tree is to's, so the
 * history keeps what was undone; an audit row records it. out: the new
 * commit. */
projects_err vcs_rollback(projects_ctx *c, sb_str project_id, sb_str branch, sb_str to,
                          sb_str message, sb_jw *out, projects_problem *p);

/* One file of the tree at ref (a path such as "files/a.js" or
 * "pages/<id>.json"): its bytes into out. */
projects_err vcs_read(projects_ctx *c, sb_str project_id, sb_str ref, sb_str path, sb_buf *out);

/* ---- branch rooms (branch_live.c, docs/vcs.md "Branch rooms") ---- */

#define VCS_OID_HEX 40

/* The head of branch (hex: 40 characters and a NUL); NOT_FOUND when the
 * project has no such branch (or the caller may not read its history). */
projects_err vcs_branch_head(projects_ctx *c, sb_str project_id, sb_str branch,
                             char hex[VCS_OID_HEX + 1]);

/* Called for each path that differs between two commits, in byte order:
 * content is the path's bytes at the second (borrowed for the call), NULL
 * when it is gone there. */
typedef void (*vcs_path_fn)(void *ctx, const char *path, const sb_str *content);
/* The paths that differ from commit from to commit to (refs or ids). */
projects_err vcs_changed_paths(projects_ctx *c, sb_str project_id, sb_str from, sb_str to,
                               vcs_path_fn fn, void *ctx);

/* ---- git's dumb HTTP protocol (git_http.c), read-only ---- */

/* info/refs: "<oid>\t<refname>\n" per branch and tag, by name. */
projects_err vcs_git_info_refs(projects_ctx *c, sb_str project_id, sb_buf *out);
/* HEAD: "ref: refs/heads/main\n". */
projects_err vcs_git_head(projects_ctx *c, sb_str project_id, sb_buf *out);
/* objects/xx/yyyy...: the object hex (40 characters) as a zlib-deflated
 * loose object ("<type> <size>\0<data>"). NOT_FOUND when the project has
 * no such object. */
projects_err vcs_git_object(projects_ctx *c, sb_str project_id, sb_str hex, sb_buf *out);

/* ---- git's smart HTTP protocol, upload-pack (pktline.c, upload_pack.c) ---- */

#define VCS_UPLOAD_WANTS_MAX 256
#define VCS_UPLOAD_HAVES_MAX 1024

/* What a git-upload-pack request asks for: object ids as 20 bytes. */
typedef struct vcs_upload_request {
    size_t nwants, nhaves;
    bool done;
    unsigned char wants[VCS_UPLOAD_WANTS_MAX][20];
    unsigned char haves[VCS_UPLOAD_HAVES_MAX][20];
} vcs_upload_request;

/* Parses the pkt-lines of a request body (untrusted). false with err
 * (cap bytes) saying why: malformed, too many ids, a capability line we
 * do not serve (shallow, deepen, filter). */
bool vcs_upload_parse(const void *body, size_t len, vcs_upload_request *out, char *err, size_t cap);

/* info/refs?service=git-upload-pack: the service line, a flush, the refs
 * with capabilities on the first (HEAD first when main exists), a flush. */
projects_err vcs_git_advertise(projects_ctx *c, sb_str project_id, sb_buf *out);
/* The answer to a parsed request: NAK, then (when req->done) a pack of
 * every object reachable from the wants and not from the haves. INVALID
 * when a want is not a commit of the project. */
projects_err vcs_git_upload_pack(projects_ctx *c, sb_str project_id, const vcs_upload_request *req,
                                 sb_buf *out);

#endif
