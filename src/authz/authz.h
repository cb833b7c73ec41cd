/*
 * authz.h: who may do what. One policy function, authz_check, decides
 * every (caller, action, resource) question of the API; routes and
 * services ask it and never decide on their own.
 *
 * The role table of API.md ("Teams and roles") is data here (min_role in
 * authz.c); attribute rules sit on top of it:
 *   - project visibility: private projects are seen by their owner, their
 *     project members and the team's owners and admins; team projects by
 *     every team member (with the team role); public projects also by
 *     anyone, who reads the project and its published pages, never drafts;
 *   - guests read (and, if the project allows, comment on) only the items
 *     explicitly shared with them;
 *   - the author of a comment may edit, resolve (a thread) and delete it
 *     for as long as they may comment on its page; others edit nobody's
 *     words, resolve from editor up and delete from admin up;
 *   - a team may require a second factor for admin actions (checked
 *     against the session's MFA state) and may restrict its members to IP
 *     ranges (CIDR);
 *   - a resource the caller may not see is HIDDEN (the API answers 404,
 *     never 403, so nothing is learnt about it); one they may see but not
 *     change (a public project, to a stranger) is DENY (403).
 *
 * Pure: no I/O apart from a debug log line per decision (with its reason)
 * when debug logging is on. The facts (roles, visibility, team policy)
 * are loaded by the services; see projects/access.c.
 */
#ifndef SB_AUTHZ_AUTHZ_H
#define SB_AUTHZ_AUTHZ_H

#include "base/common.h"
#include "base/str.h"

/* Strongest last, so roles compare with < and >. */
typedef enum authz_role {
    AUTHZ_NONE,
    AUTHZ_GUEST,
    AUTHZ_VIEWER,
    AUTHZ_EDITOR,
    AUTHZ_ADMIN,
    AUTHZ_OWNER,
} authz_role;

/* "owner" ... "guest"; "none" for AUTHZ_NONE. */
const char *authz_role_name(authz_role r);
/* Parses a role name (not "none"). */
bool authz_role_parse(sb_str s, authz_role *out);

/* The actions of the API.md table, one row each, plus the audit log. */
#define AUTHZ_ACTION_MAP(X)                                                                        \
    X(READ, "read")       /* project, pages, files, comments */                                    \
    X(COMMENT, "comment") /* write comments */                                                     \
    X(EDIT, "edit")       /* pages, files, assets */                                               \
    X(DEPLOY, "deploy")                                                                            \
    X(MANAGE, "manage") /* members, settings, domains */                                           \
    X(AUDIT, "audit")   /* read the audit log */                                                   \
    X(DELETE, "delete") /* delete or transfer */                                                   \
    /* One comment: its author acts on it as a commenter (is_author); others by role. */           \
    X(COMMENT_EDIT, "comment_edit")       /* change its text: the author only */                   \
    X(COMMENT_RESOLVE, "comment_resolve") /* resolve or reopen a thread: editors+ */               \
    X(COMMENT_DELETE, "comment_delete")   /* delete it: admins+ */

typedef enum authz_action {
#define AUTHZ__A(name, text) AUTHZ_##name,
    AUTHZ_ACTION_MAP(AUTHZ__A)
#undef AUTHZ__A
        AUTHZ_ACTION_COUNT
} authz_action;

const char *authz_action_name(authz_action a);

typedef enum authz_visibility {
    AUTHZ_PRIVATE,
    AUTHZ_TEAM,
    AUTHZ_PUBLIC,
} authz_visibility;

const char *authz_visibility_name(authz_visibility v);
bool authz_visibility_parse(sb_str s, authz_visibility *out);

/* An IPv4 or IPv6 network; IPv4 is kept as ::ffff:a.b.c.d. */
typedef struct authz_cidr {
    uint8_t addr[16];
    uint8_t prefix; /* 0..128, on the 16-byte form */
} authz_cidr;

/* Parses "10.0.0.0/8", "2001:db8::/32" or a single address. Host bits
 * below the prefix must be zero ("10.0.0.1/8" is refused), so what is
 * stored is what the admin meant. */
bool authz_cidr_parse(sb_str s, authz_cidr *out);
/* Writes the canonical text ("10.0.0.0/8") into out (cap >= 64). */
void authz_cidr_format(const authz_cidr *c, char *out, size_t cap);
/* Whether the textual address ip (v4 or v6) lies in c. */
bool authz_cidr_contains(const authz_cidr *c, const char *ip);

#define AUTHZ_MAX_CIDRS 32

/* A team's attribute rules. */
typedef struct authz_team_policy {
    bool mfa_for_admin; /* MANAGE, AUDIT and DELETE need an MFA session */
    size_t ncidrs;      /* 0: any address */
    authz_cidr cidrs[AUTHZ_MAX_CIDRS];
} authz_team_policy;

/* Whether ip (text, may be NULL) may reach the team: true without a policy
 * or ranges, else when a range holds it. */
bool authz_ip_allowed(const authz_team_policy *p, const char *ip);

typedef struct authz_caller {
    const char *user_id; /* NULL: anonymous */
    const char *ip;      /* the peer address, as text */
    bool mfa;            /* the session proved a second factor */
} authz_caller;

typedef enum authz_kind {
    AUTHZ_KIND_PROJECT,
    AUTHZ_KIND_TEAM,
} authz_kind;

/* What the services know about the resource and the caller's place in it. */
typedef struct authz_resource {
    authz_kind kind;
    authz_role team_role;    /* the caller's role in the owning team */
    authz_role project_role; /* from project_members (NONE if none) */
    bool is_owner;           /* the project's owner_id is the caller */
    authz_visibility visibility;
    bool item;                       /* the question is about one page or file ... */
    bool shared;                     /* ... which is shared with the caller (guests) */
    bool published;                  /* ... which is published (public projects) */
    bool guest_comments;             /* the project lets guests comment */
    bool is_author;                  /* COMMENT_*: the caller wrote the comment (thread) */
    bool target_owner;               /* MANAGE aimed at an owner (admins may not) */
    const authz_team_policy *policy; /* NULL: no team, no rules */
} authz_resource;

typedef enum authz_outcome {
    AUTHZ_ALLOW,
    AUTHZ_HIDDEN,   /* may not know it exists: 404 */
    AUTHZ_DENY,     /* sees it, may not do this: 403 */
    AUTHZ_NEED_MFA, /* would be allowed with an MFA session: 403 mfa_required */
    AUTHZ_IP,       /* a member outside the team's IP ranges: 403 */
} authz_outcome;

typedef struct authz_decision {
    authz_outcome outcome;
    authz_role role;    /* the effective role the decision used */
    const char *reason; /* static text, for logs and problem details */
} authz_decision;

/* The caller's effective role on r after the visibility rule (a team
 * member below admin has no role on a private project unless a project
 * member). */
authz_role authz_effective_role(const authz_resource *r);

/* The policy. Logs the decision at debug level with the action, the
 * effective role and the reason. */
authz_decision authz_check(const authz_caller *c, authz_action a, const authz_resource *r);

/* Whether a caller with `role` may grant `to` (or change or remove a
 * member who has it): owners any role, admins up to admin, others none. */
bool authz_may_grant(authz_role role, authz_role to);

#endif
