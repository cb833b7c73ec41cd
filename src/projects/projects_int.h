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

/* access_memo.c: this thread's memo of project records for access
 * decisions (see there). get fills out (its policy pointer at out's own
 * copy) with a record of the caller's for project_id read within
 * PROJECTS__ACCESS_MEMO_US under the current change count; put remembers
 * one the caller may read, with gen the count taken before the read. */
#define PROJECTS__ACCESS_MEMO_US (1000 * 1000)
bool projects__access_memo_get(const projects_ctx *c, sb_str project_id, projects__proj *out);
void projects__access_memo_put(const projects_ctx *c, const projects__proj *p, uint64_t gen);
/* The count of access changes this process committed; bumped after each
 * commit that changes members, roles, owners, visibility, team policies
 * or deletes a project or team (projects__commit_access does both). */
uint64_t projects__access_gen(void);
void projects__access_changed(void);
store_err projects__commit_access(projects_ctx *c, sb_errbuf *err);

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
/* The same, and on OK writes the project (API.md's shape) into out when
 * out is not NULL: one statement for a GET. */
projects_err projects__project_load(projects_ctx *c, sb_str id, authz_action a, projects__proj *p,
                                    sb_jw *out);

/* The columns of a project as projects__write_project reads them, for a
 * SELECT from projects aliased p; it writes the row's project from
 * column col on. */
#define PROJECTS__PROJECT_COLS                                                                     \
    "p.id, p.name, p.description, p.owner_id, p.team_id, p.visibility, p.template, p.settings, "   \
    "p.deployment, p.version, p.created_at, p.updated_at"
void projects__write_project(sb_jw *w, store_stmt *st, int col);
projects_err projects__team_load(projects_ctx *c, sb_str id, authz_action a, projects__team *t);
/* Asks authz_check and maps its outcome to an error (HIDDEN is
 * NOT_FOUND). Loads the session's MFA state only when a team rule needs
 * it. */
projects_err projects__decide(projects_ctx *c, authz_action a, const authz_resource *r);

/* Whether the caller has the page or file shared with them (guests). */
projects_err projects__shared(projects_ctx *c, const char *project_id, const char *kind,
                              sb_str item, bool *shared);

/* A project's pages or files that the caller may read, each item asked
 * of the policy with its facts, written as {"items": [...],
 * "next_cursor": null} (sharing.c). sql selects the items of project $1,
 * with in column shared_col whether user $2 has the item shared, and in
 * published_col whether it is published (-1: such items never are). */
typedef struct projects__item_list {
    const char *what; /* "listing pages", for errors */
    const char *sql;
    int shared_col, published_col;
    void (*write_row)(sb_jw *w, store_stmt *st);
} projects__item_list;

projects_err projects__list_items(projects_ctx *c, sb_str project_id, const projects__item_list *l,
                                  sb_jw *out);

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

/* Steps st, a bound UPDATE or DELETE whose WHERE holds a version check,
 * in the caller's transaction: STALE (rolled back) when it changed no
 * row, the lost race or the stale If-Match. */
projects_err projects__write_versioned(projects_ctx *c, store_stmt *st, const char *what);

/* Ends a write's transaction. r is the read-back that answers the write,
 * made before the commit: after it, a later writer's row (or none, if it
 * was deleted) could be answered as this write's, with its version.
 * Commits when r is PROJECTS_OK; rolls back and returns r otherwise. */
projects_err projects__finish(projects_ctx *c, projects_err r, const char *what);

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

/* Prepares sql and binds args[0..n) as its text parameters $1..$n (NULL
 * entries bind SQL NULL). */
store_err projects__prepare(store *db, const char *sql, const char *const *args, size_t n,
                            store_stmt **st, sb_errbuf *err);

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

/* Keyset cursors, opaque to clients: base64url of "<sort>\n<key>\n<id>".
 * parse: false unless cursor is one that make gave for this sort; then
 * key gets the key appended and id the row's id. */
void projects__cursor_make(const char *sort, const char *key, const char *id, sb_buf *out);
bool projects__cursor_parse(sb_str cursor, const char *sort, sb_buf *key, char id[SB_UUID_STR_LEN]);

/* ---- comments (comments.c, comment_post.c, comment_state.c, comment_list.c, mentions.c) ---- */

/* The columns projects__comment_write reads, in its order, for a SELECT
 * from comments aliased c. */
#define PROJECTS__COMMENT_COLS                                                                     \
    "c.id, c.project_id, c.page_id, c.element_id, c.position, c.parent_id, c.author_id, c.body, "  \
    "c.mentions, c.resolved_at, c.resolved_by, c.version, c.created_at, c.updated_at"

/* Writes the comment of st's row (PROJECTS__COMMENT_COLS first) as an
 * object; with reply_count >= 0 (a thread) adds it, and leaves the object
 * open when open is true, for the caller to add more and close it. */
void projects__comment_write(sb_jw *w, store_stmt *st, int64_t reply_count, bool open);

/* A comment as the services act on it. */
typedef struct projects__comment {
    char id[SB_UUID_STR_LEN];
    char page_id[SB_UUID_STR_LEN];
    char root_id[SB_UUID_STR_LEN]; /* the thread's root: id itself for a root */
    char author_id[SB_UUID_STR_LEN];
    char element_id[4 * PROJECTS_ELEMENT_ID_MAX + 1];
    char mentions[PROJECTS_MENTIONS_MAX * (SB_UUID_STR_LEN + 2) + 2]; /* stored JSON array */
    bool is_reply, resolved;
    projects_ver version; /* its own: for a root, the thread's */
} projects__comment;

/* projects__project (READ) for project_id, then projects__comment_load. */
projects_err projects__comment_open(projects_ctx *c, sb_str project_id, sb_str comment_id,
                                    authz_action a, projects__proj *pr, projects__comment *out);
/* Loads comment_id of pr's project and asks the policy for a on its page
 * (an item never published; is_author for the comment's author): NOT_FOUND
 * for a malformed or unknown id and for one the caller may not read. */
projects_err projects__comment_load(projects_ctx *c, projects__proj *pr, sb_str comment_id,
                                    authz_action a, projects__comment *out);
/* Asks the policy for a on page_id of pr as a comment's item. */
projects_err projects__comment_decide(projects_ctx *c, projects__proj *pr, const char *page_id,
                                      authz_action a, bool is_author);
/* Writes comment id as GET shows it: a thread with its replies, or a
 * reply; *ver (may be NULL) its ETag version. */
projects_err projects__comment_write_by_id(projects_ctx *c, const char *id, sb_jw *out,
                                           projects_ver *ver);
/* How many replies thread root_id has. */
projects_err projects__reply_count(projects_ctx *c, const char *root_id, int64_t *n);
/* In the caller's transaction: the thread root_id changed (its version
 * moves on). */
projects_err projects__thread_touch(projects_ctx *c, const char *root_id);

/* The people a comment mentions (mentions.c). */
typedef struct projects__mentions {
    size_t n;
    struct {
        char user_id[SB_UUID_STR_LEN];
        char email[255];
    } who[PROJECTS_MENTIONS_MAX];
} projects__mentions;

/* Resolves whom a comment on page_id of pr mentions: the @usernames of
 * body, then the user ids of ids (a JSON array or NULL), each person once,
 * at most PROJECTS_MENTIONS_MAX, keeping only active accounts that may
 * read the comment (authz READ with their own roles and shares); others
 * are dropped without a word. INVALID (field mentions) when ids is not an
 * array of at most PROJECTS_MENTIONS_MAX id-shaped strings. */
projects_err projects__mentions_resolve(projects_ctx *c, const projects__proj *pr,
                                        const char *page_id, sb_str body, const json_t *ids,
                                        projects__mentions *out, projects_problem *p);
/* Appends m's user ids as a JSON array. */
void projects__mentions_json(const projects__mentions *m, sb_buf *out);
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

/* Lists in id order (either way) whose cursor is the last id shown
 * (id_page.c). id_cursor: pg's cursor into after ("" for the first page),
 * INVALID when it is not an id. id_page_run runs sql, whose parameters
 * are the texts args[0..n) and then the number of rows (limit + 1: the
 * extra row only tells that there is a next page), and writes
 * {"items": [...], "next_cursor": ...}, each row by write_row; the row's
 * id is its column 0. */
projects_err projects__id_cursor(const projects_page *pg, char after[SB_UUID_STR_LEN],
                                 projects_problem *p);
projects_err projects__id_page_run(projects_ctx *c, const char *what, const char *sql,
                                   const char *const *args, size_t n, int limit,
                                   void (*write_row)(sb_jw *w, store_stmt *st), sb_jw *out);

/* library.c, for inserting into pages: library component id as the caller
 * may read it (*component: its tree, the caller json_decref's it).
 * NOT_FOUND when it does not exist or the caller may not read it. */
projects_err projects__library_component(projects_ctx *c, sb_str id, json_t **component);

#endif
