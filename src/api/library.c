/*
 * library.c: a team's library of components (/api/teams/:id/components)
 * and the insertion of a library component into a page
 * (POST /api/projects/:id/pages/:page_id/components).
 */
#include <string.h>

#include "api/domain.h"

typedef struct component_body {
    sb_str name, project_id, page_id, element_id;
    json_t *component;
} component_body;

/* A component is given whole, or (on create) copied from a page. */
static const api_field create_fields[] = {
    {"name", API_STRING, true, 1, 100, offsetof(component_body, name)},
    {"component", API_OBJECT, false, 0, 0, offsetof(component_body, component)},
    {"project_id", API_STRING, false, 1, 64, offsetof(component_body, project_id)},
    {"page_id", API_STRING, false, 1, 64, offsetof(component_body, page_id)},
    {"element_id", API_STRING, false, 1, 64, offsetof(component_body, element_id)},
};
static const api_field put_fields[] = {
    {"name", API_STRING, false, 1, 100, offsetof(component_body, name)},
    {"component", API_OBJECT, false, 0, 0, offsetof(component_body, component)},
};

static projects_library_input input_of(const component_body *b)
{
    return (projects_library_input){
        .name = b->name,
        .component = b->component,
        .project_id = b->project_id,
        .page_id = b->page_id,
        .element_id = b->element_id,
    };
}

static void component_list(net_req *req, void *ctx)
{
    API_DOMAIN_BEGIN(true);
    projects_page pg;
    if (!api_page_query(req, &pg)) {
        sb_buf_free(&body);
        return;
    }
    api_finish(req, projects_library_list(&c, net_req_param(req, "id"), &pg, &w, &prob), &prob, 200,
               &body);
}

static void component_create(net_req *req, void *ctx)
{
    API_DOMAIN_BEGIN(true);
    component_body b = {0};
    json_t *doc;
    api_idem idem;
    if (api_post_begin(req, create_fields, SB_ARRAY_LEN(create_fields), &b, &doc, pr.user_id,
                       &idem)) {
        projects_library_input in = input_of(&b);
        char id[SB_UUID_STR_LEN] = "", loc[128];
        sb_str team = net_req_param(req, "id");
        projects_err e = projects_library_create(&c, team, &in, &w, id, &prob);
        json_decref(doc);
        snprintf(loc, sizeof(loc), "/api/teams/%.*s/components/%s", SB_STR_FMT(team), id);
        api_idem_finish(req, &idem, e, &prob, 201, &body, loc);
    }
    sb_buf_free(&body);
}

static void component_get(net_req *req, void *ctx)
{
    API_DOMAIN_BEGIN(true);
    projects_ver ver = 0;
    projects_err e = projects_library_get(&c, net_req_param(req, "id"),
                                          net_req_param(req, "component_id"), &w, &ver);
    api_finish_versioned(req, e, &prob, ver, &body);
}

static void component_put(net_req *req, void *ctx)
{
    API_DOMAIN_BEGIN(true);
    component_body b = {0};
    json_t *doc;
    projects_ver if_ver, ver = 0;
    if (!api_write_begin(req, put_fields, SB_ARRAY_LEN(put_fields), &b, &doc, &if_ver)) {
        sb_buf_free(&body);
        return;
    }
    projects_library_input in = input_of(&b);
    projects_err e =
        projects_library_put(&c, net_req_param(req, "id"), net_req_param(req, "component_id"), &in,
                             if_ver, &w, &ver, &prob);
    json_decref(doc);
    api_write_finish(req, e, &prob, ver, &body);
}

static void component_delete(net_req *req, void *ctx)
{
    api_delete_child(req, ctx, "component_id", projects_library_delete);
}

/* ---- into a page ---- */

typedef struct insert_body {
    sb_str library_component_id, parent_id;
    api_int index;
} insert_body;

static const api_field insert_fields[] = {
    {"library_component_id", API_STRING, true, 1, 64, offsetof(insert_body, library_component_id)},
    {"parent_id", API_STRING, false, 1, 64, offsetof(insert_body, parent_id)},
    {"index", API_INT, false, 0, 10000, offsetof(insert_body, index)},
};

/* The page the insert wrote ({element_id, page} in out) becomes an update
 * of the page's document (docs/collab.md, "Documents and the REST API"). */
static void page_to_doc(net_req *req, api_app *app, sb_str project, sb_str page_id,
                        const sb_buf *out, projects_ver ver)
{
    json_t *o = json_loadb(out->ptr, out->len, 0, NULL);
    char *js = json_dumps(json_object_get(o, "page"), JSON_COMPACT);
    char pid[128], name[COLLAB_DOC_MAX + 1];
    if (js && project.len < sizeof(pid) && page_id.len < 100) {
        snprintf(pid, sizeof(pid), "%.*s", SB_STR_FMT(project));
        int n = snprintf(name, sizeof(name), "page:%.*s", SB_STR_FMT(page_id));
        api_collab_rest_write(req, app, pid, sb_str_make(name, (size_t)n), sb_str_c(js), ver);
    }
    free(js);
    json_decref(o);
}

static void page_insert(net_req *req, void *ctx)
{
    API_DOMAIN_BEGIN(true);
    insert_body b = {0};
    json_t *doc;
    api_idem idem;
    projects_ver if_ver, ver = 0;
    if (api_if_match(req, &if_ver) &&
        api_post_begin(req, insert_fields, SB_ARRAY_LEN(insert_fields), &b, &doc, pr.user_id,
                       &idem)) {
        projects_library_insert_input in = {
            .library_component_id = b.library_component_id,
            .parent_id = b.parent_id,
            .index = b.index.set ? b.index.value : -1,
        };
        sb_str project = net_req_param(req, "id"), page = net_req_param(req, "page_id");
        projects_err e = projects_library_insert(&c, project, page, &in, if_ver, &w, &ver, &prob);
        json_decref(doc);
        char loc[128];
        snprintf(loc, sizeof(loc), "/api/projects/%.*s/pages/%.*s", SB_STR_FMT(project),
                 SB_STR_FMT(page));
        if (e == PROJECTS_OK) {
            api_etag(req, ver);
            page_to_doc(req, app, project, page, &body, ver);
        }
        api_idem_finish(req, &idem, e, &prob, 201, &body, loc);
    }
    sb_buf_free(&body);
}

void api_library_register(net_router *r, api_app *app)
{
    net_router_add(r, NET_GET, "/api/teams/:id/components", component_list, app, 0);
    net_router_add(r, NET_POST, "/api/teams/:id/components", component_create, app, 0);
    net_router_add(r, NET_GET, "/api/teams/:id/components/:component_id", component_get, app, 0);
    net_router_add(r, NET_PUT, "/api/teams/:id/components/:component_id", component_put, app, 0);
    net_router_add(r, NET_DELETE, "/api/teams/:id/components/:component_id", component_delete, app,
                   0);
    net_router_add(r, NET_POST, "/api/projects/:id/pages/:page_id/components", page_insert, app, 0);
}
