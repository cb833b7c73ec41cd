/*
 * vcs_int.h: what the files of vcs/ share: the flat view of a page, the
 * repository of one project opened over the store, refs, and helpers.
 */
#ifndef SB_VCS_INT_H
#define SB_VCS_INT_H

#include <git2.h>
#include <stdlib.h>

#include "base/log.h"
#include "vcs/vcs.h"

/* ---- pages as flat tables (page_flat.c) ---- */

typedef struct vcs__node {
    const json_t *comp; /* borrowed from the page */
    const char *id;     /* borrowed */
    const char *parent; /* NULL: top level */
    size_t index;       /* among its siblings */
} vcs__node;

typedef struct vcs__flat {
    vcs__node *nodes; /* tree order (depth first) */
    size_t n, cap;
    json_t *index; /* id -> position in nodes */
    json_t *kids;  /* parent id ("" for the top level) -> array of child ids, in order */
} vcs__flat;

/* false when page (NULL: no components) is not a valid tree. */
bool vcs__flat_init(vcs__flat *f, const json_t *page);
void vcs__flat_deinit(vcs__flat *f);
const vcs__node *vcs__flat_get(const vcs__flat *f, const char *id);
const json_t *vcs__props(const vcs__node *n); /* NULL when none */
/* The ids of parent's children (NULL: the top level), in order; a new
 * reference (an empty array when there are none). */
json_t *vcs__flat_children(const vcs__flat *f, const char *parent);
bool vcs__json_eq(const json_t *a, const json_t *b); /* NULL: absent */
bool vcs__str_eq(const char *a, const char *b);      /* NULL: top level */
json_t *vcs__str_or_null(const char *s);
/* The keys of objects a and b (either NULL), each once, sorted. */
json_t *vcs__sorted_keys(const json_t *a, const json_t *b);

/* ---- a project's repository (repo.c, odb.c, refs.c) ---- */

typedef struct vcs__repo {
    projects_ctx *c;
    char project_id[SB_UUID_STR_LEN];
    git_repository *git;
} vcs__repo;

/* Checks that the caller may do a (AUTHZ_READ, EDIT, MANAGE) to the
 * project's history, then opens its repository over c->db. */
projects_err vcs__open(projects_ctx *c, sb_str project_id, authz_action a, vcs__repo *r);
void vcs__close(vcs__repo *r);

/* A libgit2 object database backend over the store's vcs_objects rows of
 * one project. db and project_id must outlive it. */
int vcs__odb_backend_new(git_odb_backend **out, store *db, const char *project_id);

/* Refs (full names: refs/heads/x). get: NOT_FOUND when absent. set: moves
 * name from expect to oid (expect NULL: creates it, CONFLICT if it
 * exists; STALE when it no longer points at expect). */
projects_err vcs__ref_get(vcs__repo *r, const char *name, git_oid *out);
projects_err vcs__ref_set(vcs__repo *r, const char *name, const git_oid *oid,
                          const git_oid *expect);
projects_err vcs__ref_delete(vcs__repo *r, const char *name);
/* Writes {"items": [{name, commit}]} for refs under prefix ("refs/heads/"),
 * names without the prefix; or, with text, "<oid>\t<name>\n" lines. */
projects_err vcs__ref_list(vcs__repo *r, const char *prefix, sb_jw *out, sb_buf *text);

/* A ref move and its event (event.c). */
typedef struct vcs__move {
    const char *type;           /* the event: vcs_commit, vcs_branch_created, ... */
    const char *ref;            /* full name: refs/heads/x, refs/tags/x */
    const git_oid *old;         /* the head seen (NULL: the ref is created) */
    const git_oid *now;         /* the new head (NULL: the ref is deleted) */
    bool with_commit;           /* name now's parents and subject (a new commit) */
    const char *source;         /* a merge's source branch, or NULL */
    const git_oid *source_head; /* a merge's source head */
    bool fast_forward;          /* a merge that only moved the target */
    const git_oid *to;          /* a rollback's target, or NULL */
    const json_t *resolved;     /* a merge's resolutions (their ids are logged), or NULL */
} vcs__move;

/* Moves m->ref (vcs__ref_set from old to now; now NULL: deletes it) and
 * appends m's event and audit row, all in one transaction: the caller's
 * when one is open, else one of its own. Errors as vcs__ref_set, and
 * NOT_FOUND for deleting a ref that is not there. */
projects_err vcs__ref_move(vcs__repo *r, const vcs__move *m);

/* A branch or tag name: 1..VCS_REF_NAME_MAX bytes git accepts in a ref. */
bool vcs__name_ok(sb_str name, const char *prefix);
/* Room for a full ref name: a prefix ("refs/heads/", "refs/tags/") and a
 * name of up to VCS_REF_NAME_MAX bytes. */
#define VCS__REF_CAP (VCS_REF_NAME_MAX + 16)
/* Writes prefix and name into out (VCS__REF_CAP bytes; cut to fit, so
 * check the name with vcs__name_ok first) and returns out. */
const char *vcs__ref_full(char *out, const char *prefix, sb_str name);
/* Whether s is an object id as git writes it: 40 lowercase hex digits
 * (a branch may be named with 40 uppercase ones). */
bool vcs__oid_hex_ok(sb_str s);
/* Parses an object id given by a client: exactly 40 hex digits, either
 * case (as git_oid_fromstr). false, *oid unspecified, for anything else. */
bool vcs__oid_parse(sb_str s, git_oid *oid);
/* Resolves a branch, a tag or a 40-hex commit id to a commit; empty is
 * the default branch. NOT_FOUND (field) when there is none. */
projects_err vcs__resolve(vcs__repo *r, sb_str ref, const char *field, git_oid *out,
                          projects_problem *p);

/* Maps a libgit2 failure to INTERNAL, logging libgit2's message. */
projects_err vcs__git_fail(const char *what, int rc);

/* A tree's blobs as an object path -> 40-hex oid (tree NULL: empty). */
projects_err vcs__tree_files(vcs__repo *r, const git_tree *tree, json_t **out);
/* The same for a commit's tree. */
projects_err vcs__commit_files(vcs__repo *r, const git_oid *commit, json_t **out);
/* Calls fn for each path whose blob differs between commits from and to
 * (a and b: the blobs' hex ids, NULL where the path is absent), in path
 * order, until fn returns other than PROJECTS_OK, which is returned. */
typedef projects_err (*vcs__change_fn)(void *ctx, const char *path, const char *a, const char *b);
projects_err vcs__each_change(vcs__repo *r, const git_oid *from, const git_oid *to,
                              vcs__change_fn fn, void *ctx);
/* A blob's bytes, or NULL. */
git_blob *vcs__blob(vcs__repo *r, const char *hex);

/* Writes a commit as {id, parents, author, committer, message, time}. */
void vcs__commit_json(sb_jw *w, const git_commit *cm);
/* A new commit of tree with parents, by the caller, into *out. */
projects_err vcs__commit_tree(vcs__repo *r, const git_oid *tree, const git_oid *const *parents,
                              size_t nparents, const char *message, git_oid *out);
/* Writes the commit oid (read back) into out. */
projects_err vcs__commit_out(vcs__repo *r, const git_oid *oid, sb_jw *out);

/* Whether path holds a page (pages/<x>.json). */
bool vcs__is_page(const char *path);

/* Writes the pages and files that differ between commits from and to
 * into the live project (live.c): the default branch moved from from to
 * to. */
projects_err vcs__apply_live(vcs__repo *r, const git_oid *from, const git_oid *to);

/* Built packs (pack_cache.c): the key of a request (the project, its
 * wants and haves) into key; get appends a kept pack to out (false when
 * none); put keeps a copy. Any thread. */
void vcs__pack_key(sb_buf *key, const char *project_id, const vcs_upload_request *req);
bool vcs__pack_cache_get(const sb_buf *key, sb_buf *out);
void vcs__pack_cache_put(const sb_buf *key, const void *pack, size_t n);

/* The project's live pages, files and assets as a new tree (snapshot.c). */
projects_err vcs__snapshot(vcs__repo *r, git_oid *tree);

#endif
