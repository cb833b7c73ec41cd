/*
 * projects_int.h: what the files of projects/ share and nobody else sees:
 * loading the authorization facts of a team or project, the audit log,
 * and small helpers for rows and ids.
 */
#ifndef SB_PROJECTS_INT_H
#define SB_PROJECTS_INT_H

#include "projects/projects.h"

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

/* Keyset pages over ids (UUIDv7, so in creation order): the cursor a
 * page gave is the id of its last row. id_cursor checks pg's cursor and
 * copies it into after ("" for the first page); INVALID for a cursor no
 * page gave. write_page writes {"items": [...], "next_cursor": ...} from
 * st, whose query asked for limit + 1 rows with the id in column 0; the
 * extra row only tells that there is a next page. */
projects_err projects__id_cursor(const projects_page *pg, char after[SB_UUID_STR_LEN],
                                 projects_problem *p);
projects_err projects__write_page(projects_ctx *c, store_stmt *st, int limit,
                                  void (*write_row)(sb_jw *w, store_stmt *st), sb_jw *out,
                                  const char *what);

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

/* assets.c: gives back the blob reference of every asset of the projects
 * `project_scope` picks ("= $1", or "IN (SELECT id FROM projects WHERE
 * team_id = $1)", $1 being id), before those rows are deleted, in the
 * caller's transaction. */
projects_err projects__assets_release(projects_ctx *c, const char *project_scope, const char *id);

/* A UTF-8 string of 1..max characters without control characters. */
bool projects__text_ok(sb_str s, size_t min, size_t max);

#endif
