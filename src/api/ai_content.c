/*
 * ai_content.c: /api/projects/:id/ai-content, the records of what an AI
 * generated for a project (type, prompt, result). Records are immutable:
 * there is no PUT, and their ETag is always "1".
 */
#include <string.h>

#include "api/analytics.h"
#include "api/domain.h"

typedef struct ai_body {
    sb_str type, prompt;
    json_t *result;
} ai_body;

/* prompt and result are limited by the service in bytes (413 beyond), so
 * the table bounds neither. */
static const api_field ai_fields[] = {
    {"type", API_STRING, true, 1, 32, offsetof(ai_body, type)},
    {"prompt", API_STRING, true, 0, 0, offsetof(ai_body, prompt)},
    {"result", API_JSON, true, 0, 0, offsetof(ai_body, result)},
};

static void ai_list(net_req *req, void *ctx)
{
    API_DOMAIN_BEGIN(true);
    projects_page pg;
    if (!api_page_query(req, &pg)) {
        sb_buf_free(&body);
        return;
    }
    sb_str type = SB_STR("");
    net_req_query(req, "type", &type);
    api_finish(req, projects_ai_list(&c, net_req_param(req, "id"), type, &pg, &w, &prob), &prob,
               200, &body);
}

static void ai_create(net_req *req, void *ctx)
{
    API_DOMAIN_BEGIN(true);
    ai_body b = {0};
    json_t *doc;
    api_idem idem;
    if (api_post_begin(req, ai_fields, SB_ARRAY_LEN(ai_fields), &b, &doc, pr.user_id, &idem)) {
        projects_ai_input in = {.type = b.type, .prompt = b.prompt, .result = b.result};
        char id[SB_UUID_STR_LEN] = "", loc[128];
        sb_str project = net_req_param(req, "id");
        projects_err e = projects_ai_create(&c, project, &in, &w, id, &prob);
        if (e == PROJECTS_OK)
            api_record_ai(app, project, b.type, b.prompt.len, b.result);
        json_decref(doc);
        snprintf(loc, sizeof(loc), "/api/projects/%.*s/ai-content/%s", SB_STR_FMT(project), id);
        api_idem_finish(req, &idem, e, &prob, 201, &body, loc);
    }
    sb_buf_free(&body);
}

static void ai_get(net_req *req, void *ctx)
{
    API_DOMAIN_BEGIN(true);
    projects_ver ver = 0;
    projects_err e =
        projects_ai_get(&c, net_req_param(req, "id"), net_req_param(req, "content_id"), &w, &ver);
    api_finish_versioned(req, e, &prob, ver, &body);
}

static void ai_delete(net_req *req, void *ctx)
{
    api_delete_child(req, ctx, "content_id", projects_ai_delete);
}

void api_ai_content_register(net_router *r, api_app *app)
{
    /* A result as large as a code file (file_max) is up to six bytes a
     * byte as a JSON string; the prompt adds at most 32 KiB of the same. */
    size_t file_max = app->limits.file_max ? app->limits.file_max : (1u << 20);
    size_t body_max = 6 * (file_max + 32 * 1024) + 4096;
    net_router_add(r, NET_GET, "/api/projects/:id/ai-content", ai_list, app, 0);
    net_router_add(r, NET_POST, "/api/projects/:id/ai-content", ai_create, app, body_max);
    net_router_add(r, NET_GET, "/api/projects/:id/ai-content/:content_id", ai_get, app, 0);
    net_router_add(r, NET_DELETE, "/api/projects/:id/ai-content/:content_id", ai_delete, app, 0);
}
