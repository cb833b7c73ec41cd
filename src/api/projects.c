/*
 * projects.c: /api/projects routes (API.md "Projects"): the project
 * itself, the list, its members and shares, ownership transfer, its audit
 * log, and templates.
 * Pages and files are in content.c.
 */
#include <string.h>

#include "api/domain.h"

typedef struct project_body {
    sb_str name, description, team_id, template_id, visibility;
    json_t *settings, *deployment, *customizations;
} project_body;

static const api_field project_fields[] = {
    {"name", API_STRING, false, 1, 100, offsetof(project_body, name)},
    {"description", API_STRING, false, 0, 2000, offsetof(project_body, description)},
    {"team_id", API_STRING, false, 1, 64, offsetof(project_body, team_id)},
    {"template_id", API_STRING, false, 1, 64, offsetof(project_body, template_id)},
    {"visibility", API_STRING, false, 1, 16, offsetof(project_body, visibility)},
    {"settings", API_OBJECT, false, 0, 0, offsetof(project_body, settings)},
    {"deployment", API_OBJECT, false, 0, 0, offsetof(project_body, deployment)},
    {"customizations", API_OBJECT, false, 0, 0, offsetof(project_body, customizations)},
};

static projects_project_input input_of(const project_body *b)
{
    return (projects_project_input){
        .name = b->name,
        .description = b->description,
        .team_id = b->team_id,
        .template_id = b->template_id,
        .visibility = b->visibility,
        .settings = b->settings,
        .deployment = b->deployment,
        .customizations = b->customizations,
    };
}

static void project_create(net_req *req, void *ctx)
{
    API_DOMAIN_BEGIN(true);
    project_body b = {0};
    json_t *doc;
    api_idem idem;
    if (!api_post_begin(req, project_fields, SB_ARRAY_LEN(project_fields), &b, &doc, pr.user_id,
                        &idem)) {
        sb_buf_free(&body);
        return;
    }
    projects_project_input in = input_of(&b);
    char id[SB_UUID_STR_LEN] = "", loc[64];
    projects_err e = projects_project_create(&c, &in, &w, id, &prob);
    json_decref(doc);
    snprintf(loc, sizeof(loc), "/api/projects/%s", id);
    api_idem_finish(req, &idem, e, &prob, 201, &body, loc);
    sb_buf_free(&body);
}

static void project_list(net_req *req, void *ctx)
{
    API_DOMAIN_BEGIN(true);
    projects_list_query q = {0};
    if (!api_page_query(req, &q.page)) {
        sb_buf_free(&body);
        return;
    }
    net_req_query(req, "team", &q.team_id);
    net_req_query(req, "visibility", &q.visibility);
    net_req_query(req, "q", &q.q);
    net_req_query(req, "sort", &q.sort);
    q.page.cursor = q.page.cursor.ptr ? q.page.cursor : SB_STR("");
    api_finish(req, projects_project_list(&c, &q, &w, &prob), &prob, 200, &body);
}

static void project_get(net_req *req, void *ctx)
{
    API_DOMAIN_BEGIN(false);
    projects_ver ver = 0;
    projects_err e = projects_project_get(&c, net_req_param(req, "id"), &w, &ver);
    api_finish_versioned(req, e, &prob, ver, &body);
}

static void project_update(net_req *req, void *ctx, bool replace)
{
    API_DOMAIN_BEGIN(true);
    project_body b = {0};
    json_t *doc;
    projects_ver if_ver;
    if (!api_write_begin(req, project_fields, SB_ARRAY_LEN(project_fields), &b, &doc, &if_ver)) {
        sb_buf_free(&body);
        return;
    }
    if (replace && !b.name.ptr) {
        json_decref(doc);
        api_respond_invalid_field(req, "name", "is required (PUT replaces the project)");
        sb_buf_free(&body);
        return;
    }
    projects_project_input in = input_of(&b);
    projects_ver ver = 0;
    projects_err e = projects_project_update(&c, net_req_param(req, "id"), &in, replace, if_ver, &w,
                                             &ver, &prob);
    json_decref(doc);
    api_write_finish(req, e, &prob, ver, &body);
}

static void project_put(net_req *req, void *ctx)
{
    project_update(req, ctx, true);
}

static void project_patch(net_req *req, void *ctx)
{
    project_update(req, ctx, false);
}

static void project_delete(net_req *req, void *ctx)
{
    API_DOMAIN_BEGIN(true);
    projects_ver if_ver;
    if (!api_if_match(req, &if_ver)) {
        sb_buf_free(&body);
        return;
    }
    projects_err e = projects_project_delete(&c, net_req_param(req, "id"), if_ver);
    if (e == PROJECTS_OK)
        api_success_body(&body);
    api_finish(req, e, &prob, 200, &body);
}

static void project_audit(net_req *req, void *ctx)
{
    API_DOMAIN_BEGIN(true);
    projects_page pg;
    if (!api_page_query(req, &pg)) {
        sb_buf_free(&body);
        return;
    }
    api_finish(req, projects_audit_list(&c, net_req_param(req, "id"), &pg, &w, &prob), &prob, 200,
               &body);
}

typedef struct member_body {
    sb_str user_id, role;
} member_body;
static const api_field member_fields[] = {
    {"user_id", API_STRING, true, 1, 64, offsetof(member_body, user_id)},
    {"role", API_STRING, true, 1, 16, offsetof(member_body, role)},
};

static void project_member_put(net_req *req, void *ctx)
{
    API_DOMAIN_BEGIN(true);
    member_body b = {0};
    json_t *doc;
    API_DOMAIN_BODY(member_fields, 2, &b, &doc);
    projects_err e =
        projects_project_member_set(&c, net_req_param(req, "id"), b.user_id, b.role, &prob);
    json_decref(doc);
    if (e == PROJECTS_OK)
        api_success_body(&body);
    api_finish(req, e, &prob, 200, &body);
}

typedef struct share_body {
    sb_str user_id, kind, item;
} share_body;
static const api_field share_fields[] = {
    {"user_id", API_STRING, true, 1, 64, offsetof(share_body, user_id)},
    {"kind", API_STRING, true, 1, 8, offsetof(share_body, kind)},
    {"item", API_STRING, true, 1, 512, offsetof(share_body, item)},
};

static void project_share(net_req *req, void *ctx)
{
    API_DOMAIN_BEGIN(true);
    share_body b = {0};
    json_t *doc;
    API_DOMAIN_BODY(share_fields, 3, &b, &doc);
    projects_err e = projects_share(&c, net_req_param(req, "id"), b.user_id, b.kind, b.item, &prob);
    json_decref(doc);
    if (e == PROJECTS_OK)
        api_success_body(&body);
    api_finish(req, e, &prob, e == PROJECTS_OK ? 201 : 200, &body);
}

typedef struct transfer_body {
    sb_str user_id;
} transfer_body;
static const api_field transfer_fields[] = {
    {"user_id", API_STRING, true, 1, 64, offsetof(transfer_body, user_id)},
};

static void project_transfer(net_req *req, void *ctx)
{
    API_DOMAIN_BEGIN(true);
    transfer_body b = {0};
    json_t *doc;
    api_idem idem;
    projects_ver if_ver, ver = 0;
    /* Idempotency-Key: a retried transfer must get its first answer again,
     * not a 403 because the first one made the caller an admin. */
    if (api_if_match(req, &if_ver) &&
        api_post_begin(req, transfer_fields, 1, &b, &doc, pr.user_id, &idem)) {
        projects_err e = projects_project_transfer(&c, net_req_param(req, "id"), b.user_id, if_ver,
                                                   &w, &ver, &prob);
        json_decref(doc);
        if (e == PROJECTS_OK)
            api_etag(req, ver);
        api_idem_finish(req, &idem, e, &prob, 200, &body, NULL);
    }
    sb_buf_free(&body);
}

typedef struct template_body {
    sb_str project_id, name, description;
} template_body;
static const api_field template_fields[] = {
    {"project_id", API_STRING, true, 1, 64, offsetof(template_body, project_id)},
    {"name", API_STRING, true, 1, 100, offsetof(template_body, name)},
    {"description", API_STRING, false, 0, 2000, offsetof(template_body, description)},
};

static void template_create(net_req *req, void *ctx)
{
    API_DOMAIN_BEGIN(true);
    template_body b = {0};
    json_t *doc;
    api_idem idem;
    if (!api_post_begin(req, template_fields, 3, &b, &doc, pr.user_id, &idem)) {
        sb_buf_free(&body);
        return;
    }
    projects_err e = projects_template_create(&c, b.project_id, b.name, b.description, &w, &prob);
    json_decref(doc);
    api_idem_finish(req, &idem, e, &prob, 201, &body, NULL);
    sb_buf_free(&body);
}

static void template_list(net_req *req, void *ctx)
{
    API_DOMAIN_BEGIN(true);
    api_finish(req, projects_template_list(&c, &w), &prob, 200, &body);
}

void api_projects_register(net_router *r, api_app *app)
{
    net_router_add(r, NET_GET, "/api/projects", project_list, app, 0);
    net_router_add(r, NET_POST, "/api/projects", project_create, app, 0);
    net_router_add(r, NET_GET, "/api/projects/:id", project_get, app, 0);
    net_router_add(r, NET_PUT, "/api/projects/:id", project_put, app, 0);
    net_router_add(r, NET_PATCH, "/api/projects/:id", project_patch, app, 0);
    net_router_add(r, NET_DELETE, "/api/projects/:id", project_delete, app, 0);
    net_router_add(r, NET_GET, "/api/projects/:id/audit", project_audit, app, 0);
    net_router_add(r, NET_PUT, "/api/projects/:id/members", project_member_put, app, 0);
    net_router_add(r, NET_POST, "/api/projects/:id/shares", project_share, app, 0);
    net_router_add(r, NET_POST, "/api/projects/:id/transfer", project_transfer, app, 0);
    net_router_add(r, NET_GET, "/api/templates", template_list, app, 0);
    net_router_add(r, NET_POST, "/api/templates", template_create, app, 0);
}
