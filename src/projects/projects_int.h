/*
 * projects_int.h: what the files of projects/ share and nobody else sees:
 * loading the authorization facts of a team or project, the audit log,
 * and small helpers for rows and ids.
 */
#ifndef SB_PROJECTS_INT_H
#define SB_PROJECTS_INT_H

#include "projects/projects.h"
#include "projects/tree.h"

/* A project as access.c loads it, with the caller's place in it. */
typedef struct projects__proj {
    char id[SB_UUID_STR_LEN];
    char team_id[SB_UUID_STR_LEN]; /* "" for a personal project */
    char owner_id[SB_UUID_STR_LEN];
    projects_ver version;
    authz_resource r;
    authz_team_policy policy;
} projects__proj;

/* A team with the caller's role in it. */
typedef struct projects__team {
    char id[SB_UUID_STR_LEN];
    char name[101];
    projects_ver version;
    authz_resource r;
    authz_team_policy policy;
} projects__team;

/* Loads project id (NOT_FOUND for a malformed or unknown id) and asks the
 * policy whether the caller may do a to it (item facts: set p->r.item,
 * .shared, .published before calling projects__decide again for items). */
projects_err projects__project(projects_ctx *c, sb_str id, authz_action a, projects__proj *p);
projects_err projects__team_load(projects_ctx *c, sb_str id, authz_action a, projects__team *t);
/* Asks authz_check and maps its outcome to an error (HIDDEN is
 * NOT_FOUND). Loads the session's MFA state only when a team rule needs
 * it. */
projects_err projects__decide(projects_ctx *c, authz_action a, const authz_resource *r);

/* Whether the caller has the page or file shared with them (guests). */
projects_err projects__shared(projects_ctx *c, const char *project_id, const char *kind,
                              sb_str item, bool *shared);

/* Parses a team's settings JSON into its policy (unknown keys ignored:
 * they were validated on the way in). */
void projects__policy_parse(const char *settings, authz_team_policy *out);

/* Appends an audit row in the caller's transaction (or alone). details is
 * a JSON object text or NULL. */
projects_err projects__audit(projects_ctx *c, const char *project_id, const char *action,
                             const char *target, const char *details);

/* Maps a store failure to STORE (or CONFLICT for a constraint), logging
 * the driver's message; rolls back an open transaction. */
projects_err projects__store(projects_ctx *c, const char *what, store_err e, const sb_errbuf *err);

/* A new UUIDv7 as text. */
void projects__new_id(char out[SB_UUID_STR_LEN]);
/* Whether s has the shape of an id (36 characters of a UUID). */
bool projects__id_ok(sb_str s);
/* Copies s into out (cap bytes, NUL-terminated; s must fit). */
void projects__copy(char *out, size_t cap, sb_str s);

/* Runs sql (text parameters as projects__exec) for at most one row, which
 * it hands to row(st, ctx) before resetting the statement. NOT_FOUND when
 * there is none; a store failure as projects__store, what naming the
 * work. */
typedef void (*projects__row_fn)(store_stmt *st, void *ctx);
projects_err projects__one_row(projects_ctx *c, const char *what, const char *sql,
                               const char *const *args, size_t n, projects__row_fn row, void *ctx);

/* Fills p for INVALID and returns it. */
projects_err projects__invalid(projects_problem *p, const char *field, const char *message);

/* Runs sql (a statement without results) with text parameters; NULL
 * entries bind SQL NULL. *changes gets the rows changed (may be NULL). */
store_err projects__exec(store *db, const char *sql, const char *const *args, size_t n,
                         int64_t *changes, sb_errbuf *err);

/* templates.c: copies template_id's pages (fresh component ids) and files
 * into project_id and records the template on it, in the caller's
 * transaction. INVALID when the caller may not use that template. */
projects_err projects__template_apply(projects_ctx *c, const char *project_id, sb_str template_id,
                                      const json_t *customizations, projects_problem *p);

/* A UTF-8 string of 1..max characters without control characters. */
bool projects__text_ok(sb_str s, size_t min, size_t max);

/* Component trees (access.c). tree_invalid: fills p for a tree problem on
 * field ("components[1].id: must be unique within the page", after lead
 * when not NULL) and returns INVALID. tree_text: the compact JSON of a valid, normalised tree or
 * component into *text (heap, the caller's), or TOO_LARGE naming field
 * when it passes the page limit (the same limit for every tree). */
projects_err projects__tree_invalid(projects_problem *p, const char *field, const char *lead,
                                    const projects_tree_error *te);
projects_err projects__tree_text(projects_ctx *c, const json_t *tree, const char *field,
                                 char **text, projects_problem *p);

/* pages.c, for the library. page_tree: page_id of pr's project, allowed
 * for a (item rules included), with its parsed tree (*tree, the caller
 * json_decref's it) and version. page_set_tree: replaces the page's tree
 * with tree (valid and normal; size checked here) if its version is still
 * change->expect (else STALE), bumps the version, writes the audit row
 * change->action (target the page, details change->details or NULL), and
 * writes the page as GET shows it into out. */
typedef struct projects__page_change {
    projects_ver expect;
    const char *action;
    const char *details;
} projects__page_change;

projects_err projects__page_tree(projects_ctx *c, projects__proj *pr, sb_str page_id,
                                 authz_action a, json_t **tree, projects_ver *ver);
projects_err projects__page_set_tree(projects_ctx *c, projects__proj *pr, const char *page_id,
                                     const json_t *tree, const projects__page_change *change,
                                     sb_jw *out, projects_ver *ver, projects_problem *p);

/* Lists newest first by id whose cursor is the last id shown (id_page.c).
 * id_cursor: pg's cursor into after ("" for the first page), INVALID when
 * it is not an id. The page: begin writes {"items": [; the caller reads
 * limit + 1 rows and writes each row for which take (given the row's id)
 * says true, stopping at the first false (the row past the page); end
 * closes with next_cursor, the last id shown when there is more, or null. */
typedef struct projects__id_page {
    sb_jw *out;
    int limit, n;
    bool more;
    char last[SB_UUID_STR_LEN];
} projects__id_page;

projects_err projects__id_cursor(const projects_page *pg, char after[SB_UUID_STR_LEN],
                                 projects_problem *p);
void projects__id_page_begin(projects__id_page *l, sb_jw *out, int limit);
bool projects__id_page_take(projects__id_page *l, const char *id);
void projects__id_page_end(projects__id_page *l);

/* library.c, for inserting into pages: library component id as the caller
 * may read it (*component: its tree, the caller json_decref's it).
 * NOT_FOUND when it does not exist or the caller may not read it. */
projects_err projects__library_component(projects_ctx *c, sb_str id, json_t **component);

#endif
