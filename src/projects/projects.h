/*
 * projects.h: teams, memberships and invitations; projects with their
 * pages, code files, assets, comments, templates and library components;
 * the per-project audit log. A domain service: it takes a store
 * connection and the caller (projects_ctx) and returns results or typed
 * errors; it never sees HTTP.
 *
 * Every call asks authz_check (authz/authz.h) before it reads or changes
 * anything, with the facts loaded by access.c; a resource the caller may
 * not see is NOT_FOUND, exactly as one that does not exist.
 *
 * Representations: calls that return a resource write its JSON (the shapes
 * of API.md) into a caller's sb_jw, straight from the row, and give its
 * version (the ETag). Updates take the version the caller saw (0: any) and
 * answer STALE when it moved on, checked in the same statement that
 * writes, so two racing writers cannot both win.
 *
 * Every change writes an audit_log row (who, which session, from where,
 * what) and appends an event to the project's event log (history/) in
 * the same transaction as the change.
 */
#ifndef SB_PROJECTS_PROJECTS_H
#define SB_PROJECTS_PROJECTS_H

#include <jansson.h>

#include "authz/authz.h"
#include "base/json.h"
#include "base/str.h"
#include "base/uuid.h"
#include "blob/blob.h"
#include "store/store.h"

#define PROJECTS_ERRNO_MAP(X)                                                                      \
    X(OK, 200, "ok", "OK")                                                                         \
    X(INVALID, 400, "validation", "Validation Failed")                                             \
    X(FORBIDDEN, 403, "forbidden", "Forbidden")                                                    \
    X(MFA_REQUIRED, 403, "mfa_required", "MFA Required")                                           \
    X(IP_DENIED, 403, "ip_not_allowed", "IP Not Allowed")                                          \
    X(NOT_FOUND, 404, "not_found", "Not Found")                                                    \
    X(CONFLICT, 409, "conflict", "Conflict")                                                       \
    X(LAST_OWNER, 409, "last_owner", "Last Owner")                                                 \
    X(STALE, 412, "precondition_failed", "Precondition Failed")                                    \
    X(TOO_LARGE, 413, "too_large", "Payload Too Large")                                            \
    X(RANGE, 416, "range_not_satisfiable", "Range Not Satisfiable")                                \
    X(STORE, 503, "unavailable", "Service Unavailable")                                            \
    X(INTERNAL, 500, "internal", "Internal Server Error")

typedef enum projects_err {
#define PROJECTS__ENUM(name, status, code, title) PROJECTS_##name,
    PROJECTS_ERRNO_MAP(PROJECTS__ENUM)
#undef PROJECTS__ENUM
} projects_err;

int projects_err_status(projects_err e);
const char *projects_err_code(projects_err e);
const char *projects_err_title(projects_err e);

/* Details for INVALID, CONFLICT and friends: which field and why (message
 * is a sentence fragment: "is required", "must be private, team or
 * public"). field NULL: the error needs no field. */
typedef struct projects_problem {
    const char *field;
    char message[288]; /* a tree error's place (160) and reason (96) fit */
} projects_problem;

/* Limits; projects_limits_default() gives the documented defaults. */
typedef struct projects_limits {
    size_t file_max;      /* bytes of one code file: 1 MiB */
    size_t asset_max;     /* bytes of one asset: 50 MiB */
    size_t page_max;      /* bytes of a page's component tree: 512 KiB */
    int64_t invite_ttl_s; /* 7 days */
    int snapshot_every;   /* events between snapshots of the event log: 100 */
} projects_limits;

projects_limits projects_limits_default(void);

/* Who calls, on which connection, when. Strings are the caller's. */
typedef struct projects_ctx {
    store *db;
    blob_store *blobs;
    authz_caller caller; /* user_id NULL: anonymous */
    const char *session_id;
    int64_t now_us;
    const projects_limits *limits;
    /* Sitebase itself writes (collaborative documents materialised into
     * pages and files, docs/collab.md): the policy is not asked, and the
     * audit row has no actor. Never set from a request. */
    bool system;
    /* Told of each page or file a call wrote that the REST routes do not
     * hand to collaborative documents themselves (version control's live
     * writes): kind "page" (content: the page's JSON) or "file" (its
     * text), item the page id or path, version the one written. NULL:
     * nobody listens. */
    void (*written)(void *ctx, const char *project_id, const char *kind, sb_str item,
                    sb_str content, int64_t version);
    void *written_ctx;
} projects_ctx;

/* A version the caller saw (from If-Match); 0 = no precondition. */
typedef int64_t projects_ver;

/* A list page: limit 1..200; after is the cursor the previous page gave
 * (opaque to clients; empty for the first page). The call writes
 * {"items": [...], "next_cursor": ...} itself. */
typedef struct projects_page {
    int limit;
    sb_str cursor;
} projects_page;

/* ---- teams (teams.c, members.c) ---- */

typedef enum projects_team_update_flags {
    PROJECTS_TEAM_NAME = 1,
    PROJECTS_TEAM_MFA = 2,
    PROJECTS_TEAM_IPS = 4,
} projects_team_update_flags;

typedef struct projects_team_update {
    unsigned set; /* projects_team_update_flags */
    sb_str name;
    bool mfa_required_for_admin;
    const json_t *ip_allowlist; /* array of CIDR strings */
} projects_team_changes;

/* Creates a team named name (1..100 characters); the caller is its owner. */
projects_err projects_team_create(projects_ctx *c, sb_str name, sb_jw *out, projects_problem *p);
/* The caller's teams, with the caller's role in each. */
projects_err projects_team_list(projects_ctx *c, sb_jw *out);
projects_err projects_team_get(projects_ctx *c, sb_str team_id, sb_jw *out, projects_ver *ver);
/* Name and settings: owners and admins. */
projects_err projects_team_update(projects_ctx *c, sb_str team_id, const projects_team_changes *u,
                                  projects_ver if_ver, sb_jw *out, projects_ver *ver,
                                  projects_problem *p);
/* Deletes the team and its projects: owners. */
projects_err projects_team_delete(projects_ctx *c, sb_str team_id);

/* Members. add: an existing account joins at once (201 membership); an
 * email without an account gets an invitation: *invite_token (64 hex
 * chars, caller's buffer) is set for the caller to mail, and out holds
 * {invite: {...}}. The last owner cannot leave or be demoted
 * (LAST_OWNER); admins manage everyone but owners. */
projects_err projects_member_list(projects_ctx *c, sb_str team_id, sb_jw *out);
projects_err projects_member_add(projects_ctx *c, sb_str team_id, sb_str email, sb_str role,
                                 sb_jw *out, char invite_token[65], char team_name[101],
                                 projects_problem *p);
projects_err projects_member_set_role(projects_ctx *c, sb_str team_id, sb_str user_id, sb_str role,
                                      sb_jw *out, projects_problem *p);
projects_err projects_member_remove(projects_ctx *c, sb_str team_id, sb_str user_id);
/* Makes user_id (a member) an owner and the caller an admin: owners. */
projects_err projects_team_transfer(projects_ctx *c, sb_str team_id, sb_str user_id,
                                    projects_problem *p);
/* Accepts an invitation: the caller joins its team with its role, if the
 * caller's email is the invited one. NOT_FOUND for unknown, used or
 * expired tokens. */
projects_err projects_invite_accept(projects_ctx *c, sb_str token, sb_jw *out);

/* ---- projects (project.c) ---- */

typedef struct projects_project_input {
    sb_str name, description, team_id, template_id, visibility;
    const json_t *settings;       /* object {seo, performance, security} or NULL */
    const json_t *deployment;     /* object or NULL */
    const json_t *customizations; /* with template_id: recorded with it */
} projects_project_input;

typedef struct projects_list_query {
    sb_str team_id, visibility, q, sort; /* sort: name, -name, created_at, ... */
    projects_page page;
} projects_list_query;

projects_err projects_project_create(projects_ctx *c, const projects_project_input *in, sb_jw *out,
                                     char id[SB_UUID_STR_LEN], projects_problem *p);
projects_err projects_project_get(projects_ctx *c, sb_str id, sb_jw *out, projects_ver *ver);
/* replace: PUT semantics (absent optional fields reset to defaults);
 * otherwise PATCH (absent fields keep their values). Changing visibility
 * or settings is MANAGE; name and description EDIT. */
projects_err projects_project_update(projects_ctx *c, sb_str id, const projects_project_input *in,
                                     bool replace, projects_ver if_ver, sb_jw *out,
                                     projects_ver *ver, projects_problem *p);
projects_err projects_project_delete(projects_ctx *c, sb_str id, projects_ver if_ver);
projects_err projects_project_list(projects_ctx *c, const projects_list_query *q, sb_jw *out,
                                   projects_problem *p);
/* Project members (private projects, guests) and what guests may see. */
projects_err projects_project_member_set(projects_ctx *c, sb_str project_id, sb_str user_id,
                                         sb_str role, projects_problem *p);
projects_err projects_share(projects_ctx *c, sb_str project_id, sb_str user_id, sb_str kind,
                            sb_str item, projects_problem *p);

/* ---- ownership transfer (transfer.c) ---- */

/* Makes user_id the owner of project id: owners only (DELETE, with the
 * team's MFA rule). The new owner must already hold the project with the
 * caller: a member of its team (not a guest) for a team project, a project
 * member (not a guest) for a personal one; anyone else, existing or not,
 * is the same INVALID on user_id. The caller stays on as a project admin.
 * Bumps the version (STALE when if_ver no longer matches), audits
 * project_transferred, and writes the project into out. */
projects_err projects_project_transfer(projects_ctx *c, sb_str id, sb_str user_id,
                                       projects_ver if_ver, sb_jw *out, projects_ver *ver,
                                       projects_problem *p);
/* ---- collaborative documents (collab_access.c) ---- */

/* Whether the caller may open a collaborative document of project_id: OK
 * to read (NOT_FOUND, FORBIDDEN, ... otherwise), and *can_write when they
 * may also edit it. item_kind ("page", "file") and item name the page or
 * file the document is, for guests' sharing; item_kind NULL: a project
 * document (a component). */
projects_err projects_collab_access(projects_ctx *c, sb_str project_id, const char *item_kind,
                                    sb_str item, bool *can_write);

/* ---- pages (pages.c) ---- */

typedef struct projects_page_input {
    sb_str name, path;
    const json_t *components; /* array or NULL */
    const json_t *metadata;   /* object or NULL */
    int published;            /* -1: not given; 0 draft; 1 published */
} projects_page_input;

projects_err projects_page_list(projects_ctx *c, sb_str project_id, sb_jw *out);
projects_err projects_page_create(projects_ctx *c, sb_str project_id, const projects_page_input *in,
                                  sb_jw *out, char id[SB_UUID_STR_LEN], projects_problem *p);
projects_err projects_page_get(projects_ctx *c, sb_str project_id, sb_str page_id, sb_jw *out,
                               projects_ver *ver);
projects_err projects_page_put(projects_ctx *c, sb_str project_id, sb_str page_id,
                               const projects_page_input *in, projects_ver if_ver, sb_jw *out,
                               projects_ver *ver, projects_problem *p);
projects_err projects_page_delete(projects_ctx *c, sb_str project_id, sb_str page_id,
                                  projects_ver if_ver);

/* ---- element locks (locks.c) ---- */

typedef struct projects_lock_input {
    sb_str element;        /* 1..200 characters */
    sb_str type;           /* "edit" or "view" */
    int64_t expires_at_us; /* 0: in 5 minutes; at most an hour ahead */
} projects_lock_input;

/* Takes (or renews, for its holder) the lock on an element: editors and
 * above. CONFLICT while another user holds a live lock on it. out: the
 * lock {element, type, user_id, expires_at, created_at}. */
projects_err projects_lock_take(projects_ctx *c, sb_str project_id, const projects_lock_input *in,
                                sb_jw *out, projects_problem *p);
/* Releases the live lock on element: its holder, or who manages the
 * project (FORBIDDEN for other editors); NOT_FOUND when there is none. */
projects_err projects_lock_release(projects_ctx *c, sb_str project_id, sb_str element);
/* {"items": [lock...]}: the live locks, for whoever may read the project
 * as a whole (projects_collab_access with no item: members, not guests). */
projects_err projects_lock_list(projects_ctx *c, sb_str project_id, sb_jw *out);
/* Releases every lock user_id holds in project_id (no policy: the caller
 * is Sitebase, on the user's disconnect); released gets the array of the
 * live ones released. */
projects_err projects_locks_drop_user(projects_ctx *c, const char *project_id, const char *user_id,
                                      sb_jw *released);

/* ---- code files (files.c) ---- */

/* A file's raw content for serving. content is the caller's buffer. */
typedef struct projects_file {
    sb_buf content;
    const char *content_type; /* static */
    projects_ver version;
} projects_file;

projects_err projects_file_create(projects_ctx *c, sb_str project_id, sb_str path, sb_str content,
                                  sb_str language, sb_jw *out, projects_problem *p);
projects_err projects_file_put(projects_ctx *c, sb_str project_id, sb_str path, sb_str content,
                               projects_ver if_ver, sb_jw *out, projects_ver *ver,
                               projects_problem *p);
projects_err projects_file_get(projects_ctx *c, sb_str project_id, sb_str path, projects_file *out);
projects_err projects_file_delete(projects_ctx *c, sb_str project_id, sb_str path,
                                  projects_ver if_ver);
projects_err projects_file_list(projects_ctx *c, sb_str project_id, sb_jw *out);

/* ---- assets (assets.c) ---- */

/* What serving an asset's bytes needs. */
typedef struct projects_asset {
    char id[SB_UUID_STR_LEN];
    char sha256[BLOB_SHA256_HEX_LEN + 1];
    char type[80];       /* sniffed media type */
    char filename[1024]; /* "" when none was given */
    int64_t size;
} projects_asset;

/* Stores data[0..len) as a new asset of the project (EDIT): its type
 * sniffed from the bytes, its blob shared with any identical upload.
 * filename (ptr NULL: none) may be a client path; its last segment is
 * kept. TOO_LARGE over limits->asset_max; INVALID when empty. */
projects_err projects_asset_create(projects_ctx *c, sb_str project_id, const void *data, size_t len,
                                   sb_str filename, sb_jw *out, char id[SB_UUID_STR_LEN],
                                   projects_problem *p);
projects_err projects_asset_list(projects_ctx *c, sb_str project_id, const projects_page *pg,
                                 sb_jw *out, projects_problem *p);
/* One asset: its representation into out and/or what serving it needs
 * into meta (either may be NULL). */
projects_err projects_asset_get(projects_ctx *c, sb_str project_id, sb_str asset_id, sb_jw *out,
                                projects_asset *meta);
/* Appends bytes [offset, offset + len) (len -1: to the end) of an asset
 * projects_asset_get gave to out. */
projects_err projects_asset_read(projects_ctx *c, const projects_asset *a, int64_t offset,
                                 int64_t len, sb_buf *out);
/* Deletes the asset (EDIT); its bytes go at the next garbage collection
 * if nothing else references them. */
projects_err projects_asset_delete(projects_ctx *c, sb_str project_id, sb_str asset_id);

/* ---- comments (comments.c, comment_post.c, comment_state.c, comment_list.c, mentions.c) ---- */

/* A comment sits on one element of one page (element_id, and a position
 * the client chooses, such as {x, y} within the element); a thread is a
 * top-level comment with its replies, which share its page and element.
 * A reply to a reply joins the same thread. Threads are resolved and
 * reopened as a whole. A thread's version counts every change to it,
 * replies included, so its ETag changes when a reply arrives. */

#define PROJECTS_COMMENT_MAX    10000 /* characters of a comment's body */
#define PROJECTS_ELEMENT_ID_MAX 128   /* characters of an element id */
#define PROJECTS_POSITION_MAX   1024  /* bytes of a position as compact JSON */
#define PROJECTS_MENTIONS_MAX   20    /* people one comment mentions */
#define PROJECTS_THREAD_MAX     1000  /* replies in one thread */

/* What a create or edit gives; a string with ptr NULL was not given. */
typedef struct projects_comment_input {
    sb_str page_id, element_id, parent_id, body;
    const json_t *position; /* object or NULL */
    const json_t *mentions; /* array of user ids or NULL */
} projects_comment_input;

/* The list's filters: empty strings filter nothing. resolved is "true",
 * "false" or empty; sort "created_at" (default, oldest first) or
 * "-created_at". */
typedef struct projects_comment_query {
    sb_str page_id, element_id, resolved, sort;
    projects_page page;
} projects_comment_query;

/* Whom a create or edit newly mentions (the author aside), for the caller
 * to tell by mail, with what the mail needs to say where. */
typedef struct projects_mentioned {
    size_t n;
    char email[PROJECTS_MENTIONS_MAX][255];
    char comment_id[SB_UUID_STR_LEN], page_id[SB_UUID_STR_LEN];
    char project_name[101];
    char page_path[513];
    char author[33]; /* the author's username, "" if they have none */
} projects_mentioned;

/* Top-level comments (threads) the caller may read, each with its
 * reply_count, in keyset pages ordered by id (creation order). */
projects_err projects_comment_list(projects_ctx *c, sb_str project_id,
                                   const projects_comment_query *q, sb_jw *out,
                                   projects_problem *p);
/* Creates a thread (page_id, element_id, body, position?) or a reply
 * (parent_id, body; page_id and element_id may be given if they are the
 * thread's). COMMENT on the page. The element must be a component of the
 * page when its tree has any. Mentions: the @usernames of the body and
 * the user ids of in->mentions, kept only for people who may read the
 * comment, others dropped without a word. out: the new comment as
 * projects_comment_get writes it; id its id; m who to mail. */
projects_err projects_comment_create(projects_ctx *c, sb_str project_id,
                                     const projects_comment_input *in, sb_jw *out,
                                     char id[SB_UUID_STR_LEN], projects_mentioned *m,
                                     projects_problem *p);
/* A thread (with replies, oldest first) or one reply. */
projects_err projects_comment_get(projects_ctx *c, sb_str project_id, sb_str comment_id, sb_jw *out,
                                  projects_ver *ver);
/* New body (and mentions, computed again): the author only. */
projects_err projects_comment_edit(projects_ctx *c, sb_str project_id, sb_str comment_id,
                                   const projects_comment_input *in, projects_ver if_ver,
                                   sb_jw *out, projects_ver *ver, projects_mentioned *m,
                                   projects_problem *p);
/* Resolves (resolved true) or reopens a thread: editors and up, or the
 * thread's author. Asking for the state it is in changes nothing. A reply
 * is INVALID (field comment_id). */
projects_err projects_comment_resolve(projects_ctx *c, sb_str project_id, sb_str comment_id,
                                      bool resolved, projects_ver if_ver, sb_jw *out,
                                      projects_ver *ver, projects_problem *p);
/* Deletes a reply, or a thread with all its replies: admins and up, or
 * the comment's author. */
projects_err projects_comment_delete(projects_ctx *c, sb_str project_id, sb_str comment_id,
                                     projects_ver if_ver);

/* ---- templates (templates.c) ---- */

/* Snapshots a project's pages and files as a template (EDIT on it). */
projects_err projects_template_create(projects_ctx *c, sb_str project_id, sb_str name,
                                      sb_str description, sb_jw *out, projects_problem *p);
projects_err projects_template_list(projects_ctx *c, sb_jw *out);

/* ---- a team's library of components (library.c, library_insert.c) ---- */

/* A library component is one component tree {id, type, props, children}
 * with a name unique in its team. Team members read the library (viewer
 * and above: library components are team items never shared with team
 * guests, who get NOT_FOUND); editors and above write it. */
typedef struct projects_library_input {
    sb_str name;             /* ptr NULL: not given (PUT keeps the name) */
    const json_t *component; /* a component, or NULL */
    /* Create only, instead of component: a copy of the element element_id
     * of page_id (in project_id when given), which the caller may read. */
    sb_str project_id, page_id, element_id;
} projects_library_input;

/* Summaries (no trees) by name, in byte order; the cursor is opaque. */
projects_err projects_library_list(projects_ctx *c, sb_str team_id, const projects_page *pg,
                                   sb_jw *out, projects_problem *p);
/* CONFLICT (field name) when the team has a component of that name. */
projects_err projects_library_create(projects_ctx *c, sb_str team_id,
                                     const projects_library_input *in, sb_jw *out,
                                     char id[SB_UUID_STR_LEN], projects_problem *p);
projects_err projects_library_get(projects_ctx *c, sb_str team_id, sb_str id, sb_jw *out,
                                  projects_ver *ver);
/* Replaces the fields given (name, component). */
projects_err projects_library_put(projects_ctx *c, sb_str team_id, sb_str id,
                                  const projects_library_input *in, projects_ver if_ver, sb_jw *out,
                                  projects_ver *ver, projects_problem *p);
projects_err projects_library_delete(projects_ctx *c, sb_str team_id, sb_str id,
                                     projects_ver if_ver);

typedef struct projects_library_insert_input {
    sb_str library_component_id;
    sb_str parent_id; /* ptr NULL: the page's top level */
    int64_t index;    /* place among the parent's children; -1: at the end */
} projects_library_insert_input;

/* Inserts a copy of a library component the caller may read, with fresh
 * ids (as templates give), into page_id (EDIT on the project). Bumps the
 * page's version: STALE when if_ver no longer matches; without if_ver a
 * concurrent change is merged by reading the page again. The result
 * (out: {element_id, page}) must still be a valid page (depth, count,
 * size); audits library_component_inserted. */
projects_err projects_library_insert(projects_ctx *c, sb_str project_id, sb_str page_id,
                                     const projects_library_insert_input *in, projects_ver if_ver,
                                     sb_jw *out, projects_ver *ver, projects_problem *p);

/* ---- AI-generated content records (ai_content.c) ---- */

/* What an AI produced for a project: {id, project_id, type, prompt,
 * result, created_by, created_at}. Records are immutable (version 1).
 * Readers of the project with a role read them (not guests, not the
 * public); editors and above write. type is one of page, component, copy,
 * image, code, style, seo, other; prompt 1..32 KiB of text; result a
 * string, object or array of at most the file limit as compact JSON. */
typedef struct projects_ai_input {
    sb_str type, prompt;
    const json_t *result;
} projects_ai_input;

/* Newest first, without results; type filters when not empty. */
projects_err projects_ai_list(projects_ctx *c, sb_str project_id, sb_str type,
                              const projects_page *pg, sb_jw *out, projects_problem *p);
projects_err projects_ai_create(projects_ctx *c, sb_str project_id, const projects_ai_input *in,
                                sb_jw *out, char id[SB_UUID_STR_LEN], projects_problem *p);
projects_err projects_ai_get(projects_ctx *c, sb_str project_id, sb_str id, sb_jw *out,
                             projects_ver *ver);
projects_err projects_ai_delete(projects_ctx *c, sb_str project_id, sb_str id, projects_ver if_ver);

/* ---- analytics access (analytics.c) ---- */

/* Whether the caller may read (viewer and up) or write (editor and up)
 * project_id's analytics: OK, NOT_FOUND (unknown, or not visible: guests
 * and the public never see analytics), FORBIDDEN, MFA_REQUIRED,
 * IP_DENIED, STORE. */
projects_err projects_analytics_access(projects_ctx *c, sb_str project_id, bool write);
/* Calls fn with the id of each project (at most 1000, by id) whose
 * analytics the caller may read; none for an anonymous caller. */
typedef void (*projects_id_fn)(void *arg, const char *id);
projects_err projects_analytics_readable(projects_ctx *c, projects_id_fn fn, void *arg);
/* Whether project_id has a published site, whoever asks (a site's
 * beacon names it): OK for a public project, else NOT_FOUND. */
projects_err projects_analytics_site(projects_ctx *c, sb_str project_id);
/* ---- for other domain services (authorize.c) ---- */

/* Whether the caller may do a to project id (NOT_FOUND as the services
 * answer it for a project the caller may not see). item: the question is
 * about project data that is never shared or published (history, AI
 * records), so guests and the public of a public project are refused. */
projects_err projects_project_authorize(projects_ctx *c, sb_str id, authz_action a, bool item);
/* Appends an audit row for project_id in the caller's transaction (or
 * alone); details is a JSON object text or NULL. */
projects_err projects_audit_record(projects_ctx *c, const char *project_id, const char *action,
                                   const char *target, const char *details);

/* ---- audit (audit.c) ---- */

projects_err projects_audit_list(projects_ctx *c, sb_str project_id, const projects_page *pg,
                                 sb_jw *out, projects_problem *p);

/* ---- event log and states (events.c; history/history.h) ---- */

/* Reading a project's events and states needs the viewer role or above:
 * they hold every page, file and comment, drafts included, so guests and
 * the public (who read shared or published items only) may not: for them
 * the history is NOT_FOUND, like any item hidden from them. */

/* Events after sequence number after (>= 0), at most limit (1..200),
 * oldest first: {"items": [...], "next_cursor": "<seq>" | null}. */
projects_err projects_events_list(projects_ctx *c, sb_str project_id, int64_t after, int limit,
                                  sb_jw *out, projects_problem *p);

/* What a state request names: the head, a sequence number, or a time. */
typedef struct projects_state_at {
    enum { PROJECTS_AT_HEAD, PROJECTS_AT_SEQ, PROJECTS_AT_TIME } kind;
    int64_t v; /* the sequence number, or Unix microseconds */
} projects_state_at;

/* Writes {"project_id", "seq", "at": time of event seq, "state": {...}}.
 * The head is read from the tables; a number or time is the nearest
 * snapshot plus replay (NOT_FOUND past the head, before the first event,
 * or for seq 0). */
projects_err projects_state_get(projects_ctx *c, sb_str project_id, const projects_state_at *at,
                                sb_jw *out, projects_problem *p);

#endif
