/*
 * authz.c: the policy (see authz.h). The role table of API.md is min_role
 * below, one row per action; the guest column is the only one that is not
 * a threshold, so it is spelled out in guest_may().
 *
 * Order of the rules, and why:
 *   1. the effective role (visibility decides whether a team role counts);
 *   2. the team's IP ranges: a member outside them is refused with 403
 *      (they know the resource exists; a 404 would only confuse them);
 *      for everyone else the resource is treated as if they had no role;
 *   3. no role: public projects are readable (published items only),
 *      everything else is HIDDEN;
 *   4. guests: shared items only; an unshared item stays HIDDEN (unless
 *      it is published content of a public project, which anyone reads);
 *   5. the table; then MFA for admin actions, last, so a caller who could
 *      not do the action anyway is told that rather than to add a factor.
 * A comment's author asks rules 1-5 for COMMENT instead of the COMMENT_*
 * action: their own words stay theirs to change, resolve or remove while
 * they may comment there, and no longer once a share or role is gone.
 */
#include "authz/authz.h"

#include <assert.h>

#include "base/log.h"

static const char *const role_names[] = {"none", "guest", "viewer", "editor", "admin", "owner"};

const char *authz_role_name(authz_role r)
{
    return (size_t)r < SB_ARRAY_LEN(role_names) ? role_names[r] : "none";
}

bool authz_role_parse(sb_str s, authz_role *out)
{
    for (size_t i = AUTHZ_GUEST; i < SB_ARRAY_LEN(role_names); i++)
        if (sb_str_eq(s, sb_str_c(role_names[i]))) {
            *out = (authz_role)i;
            return true;
        }
    return false;
}

const char *authz_action_name(authz_action a)
{
    static const char *const names[] = {
#define AUTHZ__N(name, text) text,
        AUTHZ_ACTION_MAP(AUTHZ__N)
#undef AUTHZ__N
    };
    return (size_t)a < SB_ARRAY_LEN(names) ? names[a] : "?";
}

static const char *const visibility_names[] = {"private", "team", "public"};

const char *authz_visibility_name(authz_visibility v)
{
    return (size_t)v < SB_ARRAY_LEN(visibility_names) ? visibility_names[v] : "private";
}

bool authz_visibility_parse(sb_str s, authz_visibility *out)
{
    for (size_t i = 0; i < SB_ARRAY_LEN(visibility_names); i++)
        if (sb_str_eq(s, sb_str_c(visibility_names[i]))) {
            *out = (authz_visibility)i;
            return true;
        }
    return false;
}

/* API.md's table: the weakest role that may do each action. Guests are
 * below every threshold; their column is guest_may(). */
static const authz_role min_role[AUTHZ_ACTION_COUNT] = {
    [AUTHZ_READ] = AUTHZ_VIEWER,
    [AUTHZ_COMMENT] = AUTHZ_VIEWER,
    [AUTHZ_EDIT] = AUTHZ_EDITOR,
    [AUTHZ_DEPLOY] = AUTHZ_EDITOR,
    [AUTHZ_MANAGE] = AUTHZ_ADMIN,
    [AUTHZ_AUDIT] = AUTHZ_ADMIN,
    [AUTHZ_DELETE] = AUTHZ_OWNER,
    [AUTHZ_COMMENT_RESOLVE] = AUTHZ_EDITOR,
    [AUTHZ_COMMENT_DELETE] = AUTHZ_ADMIN,
    /* COMMENT_EDIT: the author only, whatever the role (see decide). */
    [AUTHZ_COMMENT_EDIT] = AUTHZ_OWNER,
};

/* Actions a team may put behind a second factor. */
static bool is_admin_action(authz_action a)
{
    return a == AUTHZ_MANAGE || a == AUTHZ_AUDIT || a == AUTHZ_DELETE;
}

authz_role authz_effective_role(const authz_resource *r)
{
    if (r->kind == AUTHZ_KIND_TEAM)
        return r->team_role;
    authz_role role = r->project_role;
    if (r->is_owner)
        role = AUTHZ_OWNER;
    /* Team owners and admins oversee every project of the team; other
     * team roles reach only projects shown to the team. */
    if (r->team_role >= AUTHZ_ADMIN || r->visibility != AUTHZ_PRIVATE)
        role = SB_MAX(role, r->team_role);
    return role;
}

bool authz_ip_allowed(const authz_team_policy *p, const char *ip)
{
    if (!p || p->ncidrs == 0)
        return true;
    for (size_t i = 0; i < p->ncidrs; i++)
        if (ip && authz_cidr_contains(&p->cidrs[i], ip))
            return true;
    return false;
}

static bool is_comment_action(authz_action a)
{
    return a == AUTHZ_COMMENT_EDIT || a == AUTHZ_COMMENT_RESOLVE || a == AUTHZ_COMMENT_DELETE;
}

static authz_decision decide(const authz_caller *c, authz_action a, const authz_resource *r)
{
    if (is_comment_action(a) && r->is_author && c->user_id) {
        authz_decision d = decide(c, AUTHZ_COMMENT, r);
        if (d.outcome == AUTHZ_ALLOW)
            d.reason = "the author may act on their comment";
        return d;
    }
    authz_role role = c->user_id ? authz_effective_role(r) : AUTHZ_NONE;
    if (role != AUTHZ_NONE && !authz_ip_allowed(r->policy, c->ip))
        return (authz_decision){AUTHZ_IP, role, "the address is outside the team's IP ranges"};
    /* What a public project shows, it shows to anyone; a change to what
     * one can see is refused (403), since hiding it would hide nothing. */
    bool public_visible = r->kind == AUTHZ_KIND_PROJECT && r->visibility == AUTHZ_PUBLIC &&
                          (!r->item || r->published);
    if (role == AUTHZ_NONE || (role == AUTHZ_GUEST && r->item && !r->shared)) {
        if (public_visible && a == AUTHZ_READ)
            return (authz_decision){AUTHZ_ALLOW, role, "public project, published content"};
        if (public_visible)
            return (authz_decision){AUTHZ_DENY, role, "public project: members make changes"};
        return (authz_decision){AUTHZ_HIDDEN, role,
                                role == AUTHZ_NONE ? "no role on the resource"
                                                   : "guest: the item is not shared"};
    }
    if (role == AUTHZ_GUEST) {
        if (a == AUTHZ_READ)
            return (authz_decision){AUTHZ_ALLOW, role, "guest: shared item"};
        if (a == AUTHZ_COMMENT && r->item && r->guest_comments)
            return (authz_decision){AUTHZ_ALLOW, role, "guest: the project allows comments"};
        return (authz_decision){AUTHZ_DENY, role, "guests may only read what is shared"};
    }
    if (a == AUTHZ_COMMENT_EDIT)
        return (authz_decision){AUTHZ_DENY, role, "only its author edits a comment"};
    if (role < min_role[a])
        return (authz_decision){AUTHZ_DENY, role, "the role does not allow this action"};
    if (a == AUTHZ_MANAGE && r->target_owner && role < AUTHZ_OWNER)
        return (authz_decision){AUTHZ_DENY, role, "only owners may manage owners"};
    if (is_admin_action(a) && r->policy && r->policy->mfa_for_admin && !c->mfa)
        return (authz_decision){AUTHZ_NEED_MFA, role,
                                "the team requires a second factor for admin actions"};
    return (authz_decision){AUTHZ_ALLOW, role, "the role allows this action"};
}

authz_decision authz_check(const authz_caller *c, authz_action a, const authz_resource *r)
{
    assert((size_t)a < AUTHZ_ACTION_COUNT);
    authz_decision d = decide(c, a, r);
    if (sb_log_enabled(SB_LOG_DEBUG)) {
        static const char *const outcomes[] = {"allow", "hidden", "deny", "need_mfa", "ip"};
        sb_log(SB_LOG_DEBUG, "authz", SB_LOG_STR("user", c->user_id ? c->user_id : "-"),
               SB_LOG_STR("action", authz_action_name(a)),
               SB_LOG_STR("kind", r->kind == AUTHZ_KIND_TEAM ? "team" : "project"),
               SB_LOG_STR("role", authz_role_name(d.role)),
               SB_LOG_STR("decision", outcomes[d.outcome]), SB_LOG_STR("reason", d.reason));
    }
    return d;
}

bool authz_may_grant(authz_role role, authz_role to)
{
    if (role == AUTHZ_OWNER)
        return true;
    return role == AUTHZ_ADMIN && to <= AUTHZ_ADMIN;
}
