/*
 * teams.c: /api/teams routes (API.md "Teams and roles"): teams, members,
 * invitations (mailed from the worker pool when the person has no
 * account), role changes, removal and ownership transfer.
 */
#include <stdlib.h>
#include <string.h>

#include "api/domain.h"
#include "base/log.h"

typedef struct name_body {
    sb_str name;
} name_body;
static const api_field team_create_fields[] = {
    {"name", API_STRING, true, 1, 100, offsetof(name_body, name)},
};

static void team_create(net_req *req, void *ctx)
{
    API_DOMAIN_BEGIN(true);
    name_body b = {0};
    json_t *doc;
    api_idem idem;
    if (!api_post_begin(req, team_create_fields, 1, &b, &doc, pr.user_id, &idem)) {
        sb_buf_free(&body);
        return;
    }
    projects_err e = projects_team_create(&c, b.name, &w, &prob);
    json_decref(doc);
    api_idem_finish(req, &idem, e, &prob, 201, &body, NULL);
    sb_buf_free(&body);
}

static void team_list(net_req *req, void *ctx)
{
    API_DOMAIN_BEGIN(true);
    api_finish(req, projects_team_list(&c, &w), &prob, 200, &body);
}

static void team_get(net_req *req, void *ctx)
{
    API_DOMAIN_BEGIN(true);
    projects_ver ver = 0;
    projects_err e = projects_team_get(&c, net_req_param(req, "id"), &w, &ver);
    if (e == PROJECTS_OK)
        api_respond_versioned(req, ver, NULL, &body);
    else
        api_respond_projects(req, e, &prob);
    sb_buf_free(&body);
}

typedef struct team_patch_body {
    sb_str name;
    api_bool mfa;
    json_t *ips;
} team_patch_body;
static const api_field team_patch_fields[] = {
    {"name", API_STRING, false, 1, 100, offsetof(team_patch_body, name)},
    {"mfa_required_for_admin", API_BOOL, false, 0, 0, offsetof(team_patch_body, mfa)},
    {"ip_allowlist", API_ARRAY, false, 0, 0, offsetof(team_patch_body, ips)},
};

static void team_patch(net_req *req, void *ctx)
{
    API_DOMAIN_BEGIN(true);
    team_patch_body b = {0};
    json_t *doc;
    projects_ver if_ver;
    if (!api_write_begin(req, team_patch_fields, SB_ARRAY_LEN(team_patch_fields), &b, &doc,
                         &if_ver))
        goto out;
    projects_team_changes u = {
        .set = (b.name.ptr ? PROJECTS_TEAM_NAME : 0) | (b.mfa.set ? PROJECTS_TEAM_MFA : 0) |
               (b.ips ? PROJECTS_TEAM_IPS : 0),
        .name = b.name,
        .mfa_required_for_admin = b.mfa.value,
        .ip_allowlist = b.ips,
    };
    projects_ver ver = 0;
    projects_err e =
        projects_team_update(&c, net_req_param(req, "id"), &u, if_ver, &w, &ver, &prob);
    json_decref(doc);
    api_write_finish(req, e, &prob, ver, &body);
    return;
out:
    sb_buf_free(&body);
}

static void team_delete(net_req *req, void *ctx)
{
    API_DOMAIN_BEGIN(true);
    projects_err e = projects_team_delete(&c, net_req_param(req, "id"));
    if (e == PROJECTS_OK)
        api_success_body(&body);
    api_finish(req, e, &prob, 200, &body);
}

static void member_list(net_req *req, void *ctx)
{
    API_DOMAIN_BEGIN(true);
    api_finish(req, projects_member_list(&c, net_req_param(req, "id"), &w), &prob, 200, &body);
}

/* ---- invitations by mail ---- */

typedef struct invite_job {
    api_app *app;
    char *to, *team, *token;
} invite_job;

static void invite_work(void *arg)
{
    invite_job *j = arg;
    sb_buf text = SB_BUF_INIT;
    sb_buf_appendf(&text,
                   "Hello,\n\n"
                   "You are invited to join the team \"%s\" on Sitebase.\n\n"
                   "Create your account with this email address, then follow this link to\n"
                   "join (it works once, for 7 days):\n\n"
                   "%s/teams/join?token=%s\n\n"
                   "If you did not expect this, ignore this mail.\n",
                   j->team, j->app->public_url, j->token);
    const char *to[] = {j->to};
    api_mail_send(j->app, "an invitation", to, 1, "You are invited to a team on Sitebase",
                  text.ptr);
    sb_secure_zero(text.ptr, text.len);
    sb_buf_free(&text);
}

static void invite_done(void *arg)
{
    invite_job *j = arg;
    free(j->to);
    free(j->team);
    sb_secure_zero(j->token, strlen(j->token));
    free(j->token);
    free(j);
}

typedef struct member_add_body {
    sb_str email, role;
} member_add_body;
static const api_field member_add_fields[] = {
    {"email", API_STRING, true, 3, 254, offsetof(member_add_body, email)},
    {"role", API_STRING, true, 1, 16, offsetof(member_add_body, role)},
};

static void member_add(net_req *req, void *ctx)
{
    API_DOMAIN_BEGIN(true);
    member_add_body b = {0};
    json_t *doc;
    api_idem idem;
    if (!api_post_begin(req, member_add_fields, 2, &b, &doc, pr.user_id, &idem)) {
        sb_buf_free(&body);
        return;
    }
    char token[65], team[101] = "";
    projects_err e =
        projects_member_add(&c, net_req_param(req, "id"), b.email, b.role, &w, token, team, &prob);
    if (e == PROJECTS_OK && token[0]) {
        invite_job *j = sb_calloc(1, sizeof(*j));
        j->app = app;
        j->to = sb_strndup(b.email.ptr, b.email.len);
        j->team = sb_strndup(team, strlen(team));
        j->token = sb_strndup(token, 64);
        if (!net_workers_submit(app->workers, req->loop, invite_work, invite_done, j)) {
            sb_log(SB_LOG_ERROR, "an invitation was not mailed: the worker pool is full");
            invite_done(j);
        }
        sb_secure_zero(token, sizeof(token));
    }
    json_decref(doc);
    api_idem_finish(req, &idem, e, &prob, 201, &body, NULL);
    sb_buf_free(&body);
}

typedef struct role_body {
    sb_str role;
} role_body;
static const api_field role_fields[] = {
    {"role", API_STRING, true, 1, 16, offsetof(role_body, role)},
};

static void member_patch(net_req *req, void *ctx)
{
    API_DOMAIN_BEGIN(true);
    role_body b = {0};
    json_t *doc;
    API_DOMAIN_BODY(role_fields, 1, &b, &doc);
    projects_err e = projects_member_set_role(&c, net_req_param(req, "id"),
                                              net_req_param(req, "user_id"), b.role, &w, &prob);
    json_decref(doc);
    api_finish(req, e, &prob, 200, &body);
}

static void member_delete(net_req *req, void *ctx)
{
    API_DOMAIN_BEGIN(true);
    projects_err e =
        projects_member_remove(&c, net_req_param(req, "id"), net_req_param(req, "user_id"));
    if (e == PROJECTS_OK)
        api_success_body(&body);
    else if (e == PROJECTS_LAST_OWNER) {
        prob.field = "user_id";
        snprintf(prob.message, sizeof(prob.message),
                 "is the team's last owner, who cannot leave; transfer ownership first");
    }
    api_finish(req, e, &prob, 200, &body);
}

typedef struct transfer_body {
    sb_str user_id;
} transfer_body;
static const api_field transfer_fields[] = {
    {"user_id", API_STRING, true, 1, 64, offsetof(transfer_body, user_id)},
};

static void team_transfer(net_req *req, void *ctx)
{
    API_DOMAIN_BEGIN(true);
    transfer_body b = {0};
    json_t *doc;
    API_DOMAIN_BODY(transfer_fields, 1, &b, &doc);
    projects_err e = projects_team_transfer(&c, net_req_param(req, "id"), b.user_id, &prob);
    json_decref(doc);
    if (e == PROJECTS_OK)
        api_success_body(&body);
    api_finish(req, e, &prob, 200, &body);
}

typedef struct token_body {
    sb_str token;
} token_body;
static const api_field token_fields[] = {
    {"token", API_STRING, true, 1, 128, offsetof(token_body, token)},
};

static void invite_accept(net_req *req, void *ctx)
{
    API_DOMAIN_BEGIN(true);
    token_body b = {0};
    json_t *doc;
    API_DOMAIN_BODY(token_fields, 1, &b, &doc);
    projects_err e = projects_invite_accept(&c, b.token, &w);
    json_decref(doc);
    api_finish(req, e, &prob, 200, &body);
}

void api_teams_register(net_router *r, api_app *app)
{
    net_router_add(r, NET_POST, "/api/teams", team_create, app, 0);
    net_router_add(r, NET_GET, "/api/teams", team_list, app, 0);
    net_router_add(r, NET_POST, "/api/teams/join", invite_accept, app, 0);
    net_router_add(r, NET_GET, "/api/teams/:id", team_get, app, 0);
    net_router_add(r, NET_PATCH, "/api/teams/:id", team_patch, app, 0);
    net_router_add(r, NET_DELETE, "/api/teams/:id", team_delete, app, 0);
    net_router_add(r, NET_POST, "/api/teams/:id/transfer", team_transfer, app, 0);
    net_router_add(r, NET_GET, "/api/teams/:id/members", member_list, app, 0);
    net_router_add(r, NET_POST, "/api/teams/:id/members", member_add, app, 0);
    net_router_add(r, NET_PATCH, "/api/teams/:id/members/:user_id", member_patch, app, 0);
    net_router_add(r, NET_DELETE, "/api/teams/:id/members/:user_id", member_delete, app, 0);
}
