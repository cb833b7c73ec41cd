/*
 * collab.c: the collaboration routes (API.md, "Collaborative documents";
 * docs/collab.md):
 *   GET /collab/:project_id/ + *doc          y-websocket (WebSocket upgrade)
 *   GET /api/projects/:id/presence           who is online, in which document
 *   GET /api/projects/:id/docs/ + *doc       a document's content as JSON
 * (the wildcards are spelled apart only because C comments cannot hold
 * them).
 *
 * A connection is authorised once, on the upgrade request: the access
 * token comes as ?token= (browsers cannot set headers on a WebSocket) or
 * as the Authorization header or session cookie. Everything that refuses
 * answers problem+json before any document byte is sent: 401 without
 * valid credentials, 404 for a project or document the caller may not
 * see, 429 past the per-user connection limit, 503 when the document is
 * full.
 */
#include "api/domain.h"
#include "base/clock.h"
#include "base/log.h"
#include "collab/collab.h"
#include "collab/persist.h"
#include "crdt/crdt.h"

collab_limits api_collab_limits(const sb_config *cfg)
{
    collab_limits l = collab_limits_default();
    l.max_clients = (unsigned)cfg->collab_max_clients;
    l.max_conns_per_user = (unsigned)cfg->collab_max_conns_per_user;
    l.max_queue = cfg->collab_max_queue;
    l.evict_grace_ms = cfg->collab_evict_grace_ms;
    l.compact_after = (unsigned)cfg->collab_compact_after;
    l.awareness_timeout_ms = cfg->collab_awareness_timeout_ms;
    return l;
}

/* A reader of stored documents sees every edit a client was sent: with
 * the journal (one node) that means waiting for the fold in flight, a few
 * milliseconds. Past SETTLE_MS (a store that stopped taking the fold) it
 * reads what is stored. */
#define SETTLE_MS 2000

void api_collab_settle(api_app *app, net_req *req)
{
    if (app->collab && !collab_hub_settle(app->collab, req->loop, SETTLE_MS))
        sb_log(SB_LOG_WARN, "collab: a read of stored documents did not wait for the journal",
               SB_LOG_INT("waited_ms", SETTLE_MS));
}

/* The item a document is, for guests' sharing: a page, a code file, a
 * style sheet (the file styles/<name>.css) or nothing (components belong
 * to the project). *path is in the request's arena. */
static const char *doc_item(net_req *req, collab_kind kind, sb_str item, sb_str *path)
{
    switch (kind) {
    case COLLAB_PAGE:
        *path = item;
        return "page";
    case COLLAB_CODE:
        *path = item;
        return "file";
    case COLLAB_STYLE: {
        size_t n = item.len + sizeof("styles/.css");
        char *p = sb_arena_alloc(&req->arena, n);
        snprintf(p, n, "styles/%.*s.css", (int)item.len, item.ptr);
        *path = sb_str_c(p);
        return "file";
    }
    case COLLAB_COMPONENT:
        break;
    }
    *path = SB_STR_NULL;
    return NULL;
}

/* Who may open a document: a branch's (branch_rooms.c) by the history's
 * rules, the others by the item's. */
static projects_err doc_access(net_req *req, projects_ctx *c, sb_str project_id, sb_str doc,
                               collab_kind kind, sb_str item, bool *can_write)
{
    sb_str branch, rest, path;
    if (collab_doc_branch(doc, &branch, &rest))
        return api_branch_rooms_access(c, project_id, branch, can_write);
    const char *item_kind = doc_item(req, kind, item, &path);
    return projects_collab_access(c, project_id, item_kind, path, can_write);
}

/* Authenticates (?token= first), parses the document name and asks the
 * policy. On false it answered. */
static bool collab_open(net_req *req, api_app *app, sb_str project_id, sb_str doc,
                        identity_principal *pr, projects_ctx *c, collab_kind *kind, bool *can_write)
{
    sb_str token;
    if (net_req_query(req, "token", &token)) {
        memset(pr, 0, sizeof(*pr));
        *c = (projects_ctx){
            .db = api_loop_of(req)->db,
            .blobs = app->blobs,
            .caller = {.ip = net_req_peer(req)},
            .now_us = sb_wall_us(),
            .limits = &app->limits,
        };
        identity_err e = identity_authenticate(app->identity, token, c->now_us, pr);
        if (e == IDENTITY_OK)
            e = identity_check_session(app->identity, c->db, pr, c->now_us);
        if (e != IDENTITY_OK) {
            api_respond_identity(req, e == IDENTITY_DISABLED ? e : IDENTITY_TOKEN_INVALID, NULL);
            return false;
        }
        c->caller.user_id = pr->user_id;
        c->session_id = pr->session_id;
    } else if (!api_caller(req, app, true, pr, c)) {
        return false;
    }
    sb_str item;
    if (!collab_doc_parse(doc, kind, &item)) {
        net_respond_problem(req, 404, "not_found", "Not Found",
                            "Documents are named page:<id>, code:<path>, style:<name> or "
                            "component:<id>, or branch/<name>/ and one of those.");
        return false;
    }
    projects_err e = doc_access(req, c, project_id, doc, *kind, item, can_write);
    if (e != PROJECTS_OK) {
        api_respond_projects(req, e, NULL);
        return false;
    }
    return true;
}

static void collab_ws(net_req *req, void *ctx)
{
    api_app *app = ctx;
    identity_principal pr;
    projects_ctx c;
    collab_kind kind;
    bool can_write = false;
    sb_str project_id = net_req_param(req, "project_id"), doc = net_req_param(req, "doc");
    if (!collab_open(req, app, project_id, doc, &pr, &c, &kind, &can_write))
        return;
    /* The name shown in presence: the username, else the email. */
    identity_user u;
    char name[128] = "";
    if (identity_user_get(app->identity, c.db, pr.user_id, &u) == IDENTITY_OK) {
        snprintf(name, sizeof(name), "%s", u.username ? u.username : u.email);
        identity_user_clear(&u);
    }
    char pid[SB_UUID_STR_LEN];
    snprintf(pid, sizeof(pid), "%.*s", (int)project_id.len, project_id.ptr);
    collab_who who = {.user_id = pr.user_id, .name = name, .can_write = can_write};
    collab_conn *conn;
    switch (collab_conn_new(app->collab, pid, doc, &who, &conn)) {
    case COLLAB_ADMIT_OK:
        break;
    case COLLAB_ADMIT_USER_LIMIT:
        net_header(req, "retry-after", "10");
        net_respond_problem(req, 429, "too_many_connections", "Too Many Requests",
                            "You have as many collaboration connections open as allowed.");
        return;
    case COLLAB_ADMIT_DOC_FULL:
        net_header(req, "retry-after", "10");
        net_respond_problem(req, 503, "document_full", "Service Unavailable",
                            "This document has as many clients as allowed.");
        return;
    }
    collab_conn_start(conn, net_ws_upgrade(req, collab_ws_handlers(), conn));
}

static void presence(net_req *req, void *ctx)
{
    API_DOMAIN_BEGIN(true);
    sb_str id = net_req_param(req, "id");
    bool can_write;
    /* Whoever may read the project (as a whole) sees who is in it. */
    projects_err e = projects_collab_access(&c, id, NULL, SB_STR_NULL, &can_write);
    if (e == PROJECTS_OK) {
        char pid[SB_UUID_STR_LEN];
        snprintf(pid, sizeof(pid), "%.*s", (int)id.len, id.ptr);
        collab_presence_write(app->collab, pid, &w);
    }
    api_finish(req, e, &prob, 200, &body);
}

/* GET .../docs/{doc}: the document as storage has it (which is everything
 * any client was sent: rooms broadcast only what is stored or journaled,
 * and the journal is folded first). ?root= and
 * ?type=text|map|array|xml pick another root type than API.md's. */
static void doc_get(net_req *req, void *ctx)
{
    API_DOMAIN_BEGIN(true);
    sb_str id = net_req_param(req, "id"), doc = net_req_param(req, "doc");
    collab_kind kind;
    sb_str item;
    if (!collab_doc_parse(doc, &kind, &item)) {
        sb_buf_free(&body);
        net_respond_problem(req, 404, "not_found", "Not Found",
                            "Documents are named page:<id>, code:<path>, style:<name> or "
                            "component:<id>, or branch/<name>/ and one of those.");
        return;
    }
    int ck;
    const char *root = collab_doc_root(kind, &ck);
    sb_str v;
    char rootbuf[128];
    if (net_req_query(req, "root", &v)) {
        if (v.len == 0 || v.len >= sizeof(rootbuf)) {
            sb_buf_free(&body);
            net_respond_problem(req, 400, "invalid_query", "Bad Request",
                                "root must be 1..127 bytes.");
            return;
        }
        snprintf(rootbuf, sizeof(rootbuf), "%.*s", (int)v.len, v.ptr);
        root = rootbuf;
    }
    if (net_req_query(req, "type", &v)) {
        static const struct {
            const char *name;
            int kind;
        } types[] = {{"text", CRDT_TEXT},
                     {"map", CRDT_MAP},
                     {"array", CRDT_ARRAY},
                     {"xml", CRDT_XML_FRAGMENT}};
        size_t i = 0;
        while (i < SB_ARRAY_LEN(types) && !sb_str_eq(v, sb_str_c(types[i].name)))
            i++;
        if (i == SB_ARRAY_LEN(types)) {
            sb_buf_free(&body);
            net_respond_problem(req, 400, "invalid_query", "Bad Request",
                                "type must be text, map, array or xml.");
            return;
        }
        ck = types[i].kind;
    }
    bool can_write;
    projects_err e = doc_access(req, &c, id, doc, kind, item, &can_write);
    if (e != PROJECTS_OK) {
        api_finish(req, e, &prob, 200, &body);
        return;
    }
    char pid[SB_UUID_STR_LEN];
    snprintf(pid, sizeof(pid), "%.*s", (int)id.len, id.ptr);
    char canon[COLLAB_DOC_MAX + 1];
    sb_str stored = collab_doc_canonical(doc, canon);
    char *dname = sb_strndup(stored.ptr, stored.len);
    crdt_doc *d = NULL;
    int64_t last_seq = 0, nlog = 0;
    sb_errbuf err;
    api_collab_settle(app, req);
    if (!collab_persist_load(c.db, pid, dname, &d, &last_seq, &nlog, &err)) {
        sb_log(SB_LOG_ERROR, "collab: cannot read a document", SB_LOG_STR("error", err.msg));
        free(dname);
        api_finish(req, PROJECTS_STORE, &prob, 200, &body);
        return;
    }
    sb_buf content = SB_BUF_INIT;
    crdt_err ce = crdt_doc_json(d, sb_str_c(root), (crdt_kind)ck, &content);
    if (ce != CRDT_OK) {
        crdt_doc_free(d);
        free(dname);
        sb_buf_free(&content);
        sb_buf_free(&body);
        net_respond_problemf(req, 409, "conflict", "Conflict", "The root %s is of another type.",
                             root);
        return;
    }
    sb_jw_obj_begin(&w);
    sb_jw_kv_str(&w, "doc", dname);
    sb_jw_kv_str(&w, "root", root);
    sb_jw_key(&w, "seq");
    sb_jw_int(&w, last_seq);
    sb_jw_key(&w, "content");
    sb_jw_raw(&w, content.ptr, content.len);
    sb_jw_obj_end(&w);
    crdt_doc_free(d);
    free(dname);
    sb_buf_free(&content);
    api_finish(req, PROJECTS_OK, &prob, 200, &body);
}

void api_collab_register(net_router *r, api_app *app)
{
    net_router_add(r, NET_GET, "/collab/:project_id/*doc", collab_ws, app, 0);
    net_router_add(r, NET_GET, "/api/projects/:id/presence", presence, app, 0);
    net_router_add(r, NET_GET, "/api/projects/:id/docs/*doc", doc_get, app, 0);
    if (app->collab) {
        api_collab_bind(app);
        api_branch_rooms_bind(app); /* after: it splits the binding */
    }
}
