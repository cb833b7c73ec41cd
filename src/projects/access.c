/*
 * access.c: the facts the policy needs (the caller's team and project
 * roles, the project's visibility and settings, the team's rules), loaded
 * with one statement per resource, and the mapping of the policy's
 * outcomes to errors. Plus the small helpers every file of the module
 * uses (errors, ids, audit rows, problems and sizes of component trees).
 */
#include <stdlib.h>
#include <string.h>

#include "base/clock.h"
#include "base/log.h"
#include "base/utf8.h"
#include "crypto/crypto.h"
#include "history/history.h"
#include "projects/projects_int.h"

static const struct {
    int status;
    const char *code, *title;
} errs[] = {
#define PROJECTS__ROW(name, status, code, title) {status, code, title},
    PROJECTS_ERRNO_MAP(PROJECTS__ROW)
#undef PROJECTS__ROW
};

int projects_err_status(projects_err e)
{
    return (size_t)e < SB_ARRAY_LEN(errs) ? errs[e].status : 500;
}
const char *projects_err_code(projects_err e)
{
    return (size_t)e < SB_ARRAY_LEN(errs) ? errs[e].code : "internal";
}
const char *projects_err_title(projects_err e)
{
    return (size_t)e < SB_ARRAY_LEN(errs) ? errs[e].title : "Internal Server Error";
}

projects_limits projects_limits_default(void)
{
    return (projects_limits){
        .file_max = 1u << 20,
        .asset_max = 50u << 20,
        .page_max = 512u << 10,
        .invite_ttl_s = 7 * 24 * 3600,
        .snapshot_every = HISTORY_SNAPSHOT_EVERY_DEFAULT,
    };
}

projects_err projects__store(projects_ctx *c, const char *what, store_err e, const sb_errbuf *err)
{
    store_rollback(c->db, NULL);
    if (e == STORE_CONSTRAINT)
        return PROJECTS_CONFLICT;
    sb_log(SB_LOG_ERROR, "store failed", SB_LOG_STR("what", what),
           SB_LOG_STR("error", err ? err->msg : store_strerror(e)));
    return PROJECTS_STORE;
}

projects_err projects__write_versioned(projects_ctx *c, store_stmt *st, const char *what)
{
    sb_errbuf err;
    store_err e = store_step(st, &err);
    int64_t changed = store_changes(st);
    store_reset(st);
    if (e != STORE_DONE)
        return projects__store(c, what, e, &err);
    if (changed == 0) {
        store_rollback(c->db, NULL);
        return PROJECTS_STALE;
    }
    return PROJECTS_OK;
}

projects_err projects__finish(projects_ctx *c, projects_err r, const char *what)
{
    if (r != PROJECTS_OK) {
        store_rollback(c->db, NULL);
        return r;
    }
    sb_errbuf err;
    store_err e = store_commit(c->db, &err);
    return e == STORE_OK ? PROJECTS_OK : projects__store(c, what, e, &err);
}

void projects__new_id(char out[SB_UUID_STR_LEN])
{
    sb_uuid u;
    sb_uuid_v7(&u);
    sb_uuid_format(&u, out);
}

bool projects__id_ok(sb_str s)
{
    sb_uuid u;
    return s.len == SB_UUID_STR_LEN - 1 && sb_uuid_parse(s, &u);
}

void projects__copy(char *out, size_t cap, sb_str s)
{
    size_t n = SB_MIN(s.len, cap - 1);
    memcpy(out, s.ptr, n);
    out[n] = 0;
}

projects_err projects__invalid(projects_problem *p, const char *field, const char *message)
{
    if (p) {
        p->field = field;
        snprintf(p->message, sizeof(p->message), "%s", message);
    }
    return PROJECTS_INVALID;
}

bool projects__text_ok(sb_str s, size_t min, size_t max)
{
    if (!sb_utf8_valid(s.ptr, s.len, NULL))
        return false;
    size_t chars = 0;
    for (size_t i = 0; i < s.len; i++) {
        unsigned char b = (unsigned char)s.ptr[i];
        if (b < 0x20 || b == 0x7f)
            return false;
        chars += (b & 0xc0) != 0x80;
    }
    return chars >= min && chars <= max;
}

store_err projects__prepare(store *db, const char *sql, const char *const *args, size_t n,
                            store_stmt **st, sb_errbuf *err)
{
    store_err e = store_prepare(db, sql, st, err);
    for (size_t i = 0; e == STORE_OK && i < n; i++)
        store_bind_cstr(*st, (int)i + 1, args[i]);
    return e;
}

store_err projects__exec(store *db, const char *sql, const char *const *args, size_t n,
                         int64_t *changes, sb_errbuf *err)
{
    store_stmt *st;
    store_err e = projects__prepare(db, sql, args, n, &st, err);
    if (e != STORE_OK)
        return e;
    e = store_step(st, err);
    if (changes)
        *changes = store_changes(st);
    store_reset(st);
    return e == STORE_DONE || e == STORE_ROW ? STORE_OK : e;
}

void projects__cursor_make(const char *sort, const char *key, const char *id, sb_buf *out)
{
    sb_buf raw = SB_BUF_INIT;
    sb_buf_appendf(&raw, "%s\n%s\n%s", sort, key, id);
    crypto_b64url_encode(raw.ptr, raw.len, out);
    sb_buf_free(&raw);
}

bool projects__cursor_parse(sb_str cursor, const char *sort, sb_buf *key, char id[SB_UUID_STR_LEN])
{
    sb_buf raw = SB_BUF_INIT;
    bool ok = cursor.len <= 1024 && crypto_b64url_decode(cursor.ptr, cursor.len, &raw);
    sb_str r = sb_buf_str(&raw);
    ptrdiff_t a = ok ? sb_str_index(r, '\n', 0) : -1;
    ptrdiff_t b = a >= 0 ? sb_str_index(r, '\n', (size_t)a + 1) : -1;
    ok = b > a && a >= 0 && sb_str_eq(sb_str_slice(r, 0, (size_t)a), sb_str_c(sort)) &&
         projects__id_ok(sb_str_slice(r, (size_t)b + 1, r.len));
    if (ok) {
        sb_buf_append(key, r.ptr + a + 1, (size_t)(b - a - 1));
        projects__copy(id, SB_UUID_STR_LEN, sb_str_slice(r, (size_t)b + 1, r.len));
    }
    sb_buf_free(&raw);
    return ok;
}

projects_err projects__one_row(projects_ctx *c, const char *what, const char *sql,
                               const char *const *args, size_t n, projects__row_fn row, void *ctx)
{
    sb_errbuf err;
    store_stmt *st;
    store_err e = projects__prepare(c->db, sql, args, n, &st, &err);
    if (e != STORE_OK)
        return projects__store(c, what, e, &err);
    e = store_step(st, &err);
    if (e == STORE_ROW)
        row(st, ctx);
    store_reset(st);
    if (e == STORE_DONE)
        return PROJECTS_NOT_FOUND;
    return e == STORE_ROW ? PROJECTS_OK : projects__store(c, what, e, &err);
}

void projects__policy_parse(const char *settings, authz_team_policy *out)
{
    memset(out, 0, sizeof(*out));
    json_t *doc = settings ? json_loads(settings, 0, NULL) : NULL;
    if (!doc)
        return;
    out->mfa_for_admin = json_is_true(json_object_get(doc, "mfa_required_for_admin"));
    json_t *ips = json_object_get(doc, "ip_allowlist"), *v;
    size_t i;
    json_array_foreach(ips, i, v)
    {
        if (out->ncidrs < AUTHZ_MAX_CIDRS && json_is_string(v) &&
            authz_cidr_parse(sb_str_make(json_string_value(v), json_string_length(v)),
                             &out->cidrs[out->ncidrs]))
            out->ncidrs++;
    }
    json_decref(doc);
}

/* The session's MFA state, read only when a team rule asks for it. */
static bool session_mfa(projects_ctx *c)
{
    if (!c->session_id)
        return false;
    sb_errbuf err;
    store_stmt *st;
    if (store_prepare(c->db, "SELECT mfa FROM user_sessions WHERE id = $1", &st, &err) != STORE_OK)
        return false;
    store_bind_cstr(st, 1, c->session_id);
    bool mfa = store_step(st, &err) == STORE_ROW && store_col_bool(st, 0);
    store_reset(st);
    return mfa;
}

projects_err projects__decide(projects_ctx *c, authz_action a, const authz_resource *r)
{
    if (c->system)
        return PROJECTS_OK;
    if (r->policy && r->policy->mfa_for_admin && !c->caller.mfa && c->caller.user_id)
        c->caller.mfa = session_mfa(c);
    switch (authz_check(&c->caller, a, r).outcome) {
    case AUTHZ_ALLOW:
        return PROJECTS_OK;
    case AUTHZ_HIDDEN:
        return PROJECTS_NOT_FOUND;
    case AUTHZ_NEED_MFA:
        return PROJECTS_MFA_REQUIRED;
    case AUTHZ_IP:
        return PROJECTS_IP_DENIED;
    case AUTHZ_DENY:
        break;
    }
    return PROJECTS_FORBIDDEN;
}

static authz_role role_of(store_stmt *st, int col)
{
    size_t n;
    const char *s = store_col_text(st, col, &n);
    authz_role r = AUTHZ_NONE;
    if (s)
        authz_role_parse(sb_str_make(s, n), &r);
    return r;
}

static void copy_col(store_stmt *st, int col, char *out, size_t cap)
{
    size_t n;
    const char *s = store_col_text(st, col, &n);
    projects__copy(out, cap, s ? sb_str_make(s, n) : SB_STR(""));
}

static void raw_or(sb_jw *w, const char *key, const char *json, const char *fallback)
{
    sb_jw_key(w, key);
    const char *v = json && json[0] ? json : fallback;
    sb_jw_raw(w, v, strlen(v));
}

void projects__write_project(sb_jw *w, store_stmt *st, int col)
{
    char t[SB_RFC3339_LEN];
    sb_jw_obj_begin(w);
    sb_jw_kv_str(w, "id", store_col_text(st, col, NULL));
    sb_jw_kv_str(w, "name", store_col_text(st, col + 1, NULL));
    sb_jw_kv_str(w, "description", store_col_text(st, col + 2, NULL));
    sb_jw_kv_str(w, "owner_id", store_col_text(st, col + 3, NULL));
    sb_jw_kv_str(w, "team_id", store_col_text(st, col + 4, NULL));
    sb_jw_kv_str(w, "visibility", store_col_text(st, col + 5, NULL));
    raw_or(w, "template", store_col_text(st, col + 6, NULL), "null");
    raw_or(w, "settings", store_col_text(st, col + 7, NULL), "{}");
    raw_or(w, "deployment", store_col_text(st, col + 8, NULL), "{}");
    sb_jw_kv_int(w, "version", store_col_int(st, col + 9));
    sb_jw_kv_str(w, "created_at", sb_rfc3339(store_col_int(st, col + 10), t));
    sb_jw_kv_str(w, "updated_at", sb_rfc3339(store_col_int(st, col + 11), t));
    sb_jw_obj_end(w);
}

projects_err projects__project(projects_ctx *c, sb_str id, authz_action a, projects__proj *p)
{
    return projects__project_load(c, id, a, p, NULL);
}

projects_err projects__project_load(projects_ctx *c, sb_str id, authz_action a, projects__proj *p,
                                    sb_jw *out)
{
    memset(p, 0, sizeof(*p));
    if (!projects__id_ok(id))
        return PROJECTS_NOT_FOUND;
    sb_errbuf err;
    store_stmt *st;
    store_err e = store_prepare(
        c->db,
        "SELECT " PROJECTS__PROJECT_COLS ", "
        "(SELECT role FROM team_members WHERE team_id = p.team_id AND user_id = $2), "
        "(SELECT role FROM project_members WHERE project_id = p.id AND user_id = $2), "
        "t.settings FROM projects p LEFT JOIN teams t ON t.id = p.team_id WHERE p.id = $1",
        &st, &err);
    if (e != STORE_OK)
        return projects__store(c, "loading a project", e, &err);
    store_bind_text(st, 1, id.ptr, id.len);
    store_bind_cstr(st, 2, c->caller.user_id ? c->caller.user_id : "");
    e = store_step(st, &err);
    if (e != STORE_ROW) {
        store_reset(st);
        return e == STORE_DONE ? PROJECTS_NOT_FOUND
                               : projects__store(c, "loading a project", e, &err);
    }
    projects__copy(p->id, sizeof(p->id), id);
    copy_col(st, 4, p->team_id, sizeof(p->team_id));
    copy_col(st, 3, p->owner_id, sizeof(p->owner_id));
    size_t n;
    const char *vis = store_col_text(st, 5, &n);
    authz_visibility_parse(sb_str_make(vis, n), &p->r.visibility);
    json_t *settings = json_loads(store_col_text(st, 7, NULL), 0, NULL);
    p->r.guest_comments =
        json_is_true(json_object_get(json_object_get(settings, "security"), "guest_comments"));
    json_decref(settings);
    p->version = store_col_int(st, 9);
    p->r.kind = AUTHZ_KIND_PROJECT;
    p->r.team_role = role_of(st, 12);
    p->r.project_role = role_of(st, 13);
    p->r.is_owner = c->caller.user_id && strcmp(p->owner_id, c->caller.user_id) == 0;
    if (p->team_id[0]) {
        projects__policy_parse(store_col_text(st, 14, NULL), &p->policy);
        p->r.policy = &p->policy;
    }
    projects_err r = projects__decide(c, a, &p->r);
    if (r == PROJECTS_OK && out)
        projects__write_project(out, st, 0);
    store_reset(st);
    return r;
}

projects_err projects__team_load(projects_ctx *c, sb_str id, authz_action a, projects__team *t)
{
    memset(t, 0, sizeof(*t));
    if (!projects__id_ok(id) || !c->caller.user_id)
        return PROJECTS_NOT_FOUND;
    sb_errbuf err;
    store_stmt *st;
    store_err e = store_prepare(c->db,
                                "SELECT t.name, t.settings, t.version, m.role FROM teams t "
                                "LEFT JOIN team_members m ON m.team_id = t.id AND m.user_id = $2 "
                                "WHERE t.id = $1",
                                &st, &err);
    if (e != STORE_OK)
        return projects__store(c, "loading a team", e, &err);
    store_bind_text(st, 1, id.ptr, id.len);
    store_bind_cstr(st, 2, c->caller.user_id);
    e = store_step(st, &err);
    if (e != STORE_ROW) {
        store_reset(st);
        return e == STORE_DONE ? PROJECTS_NOT_FOUND : projects__store(c, "loading a team", e, &err);
    }
    projects__copy(t->id, sizeof(t->id), id);
    copy_col(st, 0, t->name, sizeof(t->name));
    projects__policy_parse(store_col_text(st, 1, NULL), &t->policy);
    t->version = store_col_int(st, 2);
    t->r.kind = AUTHZ_KIND_TEAM;
    t->r.team_role = role_of(st, 3);
    t->r.policy = &t->policy;
    store_reset(st);
    return projects__decide(c, a, &t->r);
}

projects_err projects__shared(projects_ctx *c, const char *project_id, const char *kind,
                              sb_str item, bool *shared)
{
    *shared = false;
    if (!c->caller.user_id)
        return PROJECTS_OK;
    sb_errbuf err;
    store_stmt *st;
    store_err e = store_prepare(c->db,
                                "SELECT 1 FROM project_shares WHERE project_id = $1 AND "
                                "user_id = $2 AND kind = $3 AND item = $4",
                                &st, &err);
    if (e != STORE_OK)
        return projects__store(c, "reading shares", e, &err);
    store_bind_cstr(st, 1, project_id);
    store_bind_cstr(st, 2, c->caller.user_id);
    store_bind_cstr(st, 3, kind);
    store_bind_text(st, 4, item.ptr, item.len);
    e = store_step(st, &err);
    store_reset(st);
    if (e != STORE_ROW && e != STORE_DONE)
        return projects__store(c, "reading shares", e, &err);
    *shared = e == STORE_ROW;
    return PROJECTS_OK;
}

projects_err projects__audit(projects_ctx *c, const char *project_id, const char *action,
                             const char *target, const char *details)
{
    char id[SB_UUID_STR_LEN];
    projects__new_id(id);
    sb_errbuf err;
    store_stmt *st;
    /* The event and the audit row go with the change or not at all: a
     * caller outside a transaction gets one here. */
    bool own = !store_in_transaction(c->db);
    store_err e = own ? store_begin(c->db, &err) : STORE_OK;
    if (e == STORE_OK)
        e = store_prepare(c->db,
                          "INSERT INTO audit_log (id, project_id, actor_id, session_id, ip, "
                          "action, target, details, created_at) "
                          "VALUES ($1, $2, $3, $4, $5, $6, $7, $8, $9)",
                          &st, &err);
    if (e != STORE_OK)
        return projects__store(c, "writing the audit log", e, &err);
    store_bind_cstr(st, 1, id);
    store_bind_cstr(st, 2, project_id);
    store_bind_cstr(st, 3, c->caller.user_id);
    store_bind_cstr(st, 4, c->session_id);
    store_bind_cstr(st, 5, c->caller.ip);
    store_bind_cstr(st, 6, action);
    store_bind_cstr(st, 7, target ? target : "");
    store_bind_cstr(st, 8, details ? details : "{}");
    store_bind_int(st, 9, c->now_us);
    e = store_step(st, &err);
    store_reset(st);
    if (e != STORE_DONE)
        return projects__store(c, "writing the audit log", e, &err);
    history_event_in ev = {
        .project_id = project_id,
        .type = action,
        .target = target ? target : "",
        .actor_id = c->caller.user_id,
        .session_id = c->session_id,
        .details = details,
        .now_us = c->now_us,
    };
    int every = c->limits && c->limits->snapshot_every > 0 ? c->limits->snapshot_every
                                                           : HISTORY_SNAPSHOT_EVERY_DEFAULT;
    if (history_append(c->db, &ev, every, NULL, &err) != HISTORY_OK)
        return projects__store(c, "writing the event log", STORE_SQL, &err);
    if (own && (e = store_commit(c->db, &err)) != STORE_OK)
        return projects__store(c, "writing the audit log", e, &err);
    return PROJECTS_OK;
}

projects_err projects__tree_invalid(projects_problem *p, const char *field, const char *lead,
                                    const projects_tree_error *te)
{
    /* The rule broken matters more than the start of a deep path: when
     * both do not fit, the path keeps its tail after "...". */
    lead = lead ? lead : "";
    size_t fixed = strlen(lead) + 2 + strlen(te->message);
    size_t room = sizeof(p->message) - 1 > fixed + 3 ? sizeof(p->message) - 1 - fixed : 3;
    size_t n = strlen(te->where);
    const char *where = te->where, *dots = "";
    if (n > room) {
        where += n - (room - 3);
        dots = "...";
    }
    sb_buf m = SB_BUF_INIT;
    sb_buf_appendf(&m, "%s%s%s: %s", lead, dots, where, te->message);
    p->field = field;
    projects__copy(p->message, sizeof(p->message), sb_buf_str(&m));
    sb_buf_free(&m);
    return PROJECTS_INVALID;
}

projects_err projects__tree_text(projects_ctx *c, const json_t *tree, const char *field,
                                 char **text, projects_problem *p)
{
    char *t = json_dumps(tree, JSON_COMPACT | JSON_PRESERVE_ORDER);
    if (!t)
        sb_die("out of memory writing a component tree");
    if (strlen(t) > c->limits->page_max) {
        free(t);
        p->field = field;
        snprintf(p->message, sizeof(p->message), "must be at most %zu bytes as JSON",
                 c->limits->page_max);
        return PROJECTS_TOO_LARGE;
    }
    *text = t;
    return PROJECTS_OK;
}
