/*
 * ai_content.c: records of what an AI generated for a project: its type,
 * the prompt and the result, who stored it and when. A builder keeps them
 * to show the history of a site's generation and to reuse results.
 *
 * Records are immutable (created, read, deleted; never changed), so each
 * has version 1 for ever and its ETag never moves.
 *
 * Who: they are project items that are never shared or published, so the
 * project's members read them (viewers and above: not guests, not the
 * public of a public project), editors and above create and delete them.
 * Creating and deleting are audited in the same transaction.
 *
 * The result is kept as the JSON text of the value the client sent (a
 * string, an object or an array), so it comes back exactly as given.
 */
#include <stdlib.h>
#include <string.h>

#include "base/clock.h"
#include "projects/projects_int.h"

#define PROMPT_MAX_BYTES (32 * 1024)

#define AI_COLS "id, project_id, type, prompt, created_by, created_at, result"

static const char *const types[] = {"page", "component", "copy", "image",
                                    "code", "style",     "seo",  "other"};

static bool type_ok(sb_str s)
{
    for (size_t i = 0; i < SB_ARRAY_LEN(types); i++)
        if (sb_str_eq(s, sb_str_c(types[i])))
            return true;
    return false;
}

static projects_err type_invalid(projects_problem *p, const char *field)
{
    return projects__invalid(p, field,
                             "must be page, component, copy, image, code, style, seo or other");
}

/* Text of 1..PROMPT_MAX_BYTES: line breaks and tabs are fine in a prompt,
 * other control characters are not (jansson has checked the UTF-8). */
static projects_err prompt_check(sb_str s, projects_problem *p)
{
    if (s.len > PROMPT_MAX_BYTES) {
        p->field = "prompt";
        snprintf(p->message, sizeof(p->message), "must be at most %d bytes", PROMPT_MAX_BYTES);
        return PROJECTS_TOO_LARGE;
    }
    for (size_t i = 0; i < s.len; i++) {
        unsigned char b = (unsigned char)s.ptr[i];
        if ((b < 0x20 && b != '\n' && b != '\r' && b != '\t') || b == 0x7f)
            return projects__invalid(p, "prompt", "must not hold control characters");
    }
    return s.len ? PROJECTS_OK : projects__invalid(p, "prompt", "must not be empty");
}

/* The result as JSON text (heap, the caller's). */
static projects_err result_text(projects_ctx *c, const json_t *v, char **text, projects_problem *p)
{
    if (!json_is_string(v) && !json_is_object(v) && !json_is_array(v))
        return projects__invalid(p, "result", "must be a string, an object or an array");
    char *t = json_dumps(v, JSON_COMPACT | JSON_PRESERVE_ORDER | JSON_ENCODE_ANY);
    if (!t)
        sb_die("out of memory writing an AI result");
    if (strlen(t) > c->limits->file_max) {
        free(t);
        p->field = "result";
        snprintf(p->message, sizeof(p->message), "must be at most %zu bytes as JSON",
                 c->limits->file_max);
        return PROJECTS_TOO_LARGE;
    }
    *text = t;
    return PROJECTS_OK;
}

static void write_record(sb_jw *w, store_stmt *st, bool with_result)
{
    char t[SB_RFC3339_LEN];
    sb_jw_obj_begin(w);
    sb_jw_kv_str(w, "id", store_col_text(st, 0, NULL));
    sb_jw_kv_str(w, "project_id", store_col_text(st, 1, NULL));
    sb_jw_kv_str(w, "type", store_col_text(st, 2, NULL));
    size_t n;
    const char *prompt = store_col_text(st, 3, &n);
    sb_jw_key(w, "prompt");
    sb_jw_strn(w, prompt, n);
    if (with_result) {
        const char *result = store_col_text(st, 6, &n);
        sb_jw_key(w, "result");
        sb_jw_raw(w, result, n);
    }
    sb_jw_kv_str(w, "created_by", store_col_text(st, 4, NULL));
    sb_jw_kv_str(w, "created_at", sb_rfc3339(store_col_int(st, 5), t));
    sb_jw_obj_end(w);
}

/* A list's row: the record without its result, which may be large. */
static void write_summary(sb_jw *w, store_stmt *st)
{
    write_record(w, st, false);
}

/* The project, and whether the caller may do a to its AI records. */
static projects_err ai_project(projects_ctx *c, sb_str project_id, authz_action a,
                               projects__proj *pr)
{
    projects_err r = projects__project(c, project_id, AUTHZ_READ, pr);
    if (r != PROJECTS_OK)
        return r;
    pr->r.item = true; /* never shared, never published */
    return projects__decide(c, a, &pr->r);
}

static void record_row(store_stmt *st, void *out)
{
    if (out)
        write_record(out, st, true);
}

/* Reads record id of the project into out (when not NULL). */
static projects_err read_record(projects_ctx *c, const char *project_id, sb_str id, sb_jw *out)
{
    if (!projects__id_ok(id))
        return PROJECTS_NOT_FOUND;
    char rid[SB_UUID_STR_LEN];
    projects__copy(rid, sizeof(rid), id);
    return projects__one_row(c, "reading AI content",
                             "SELECT " AI_COLS " FROM ai_content WHERE id = $1 AND project_id = $2",
                             (const char *const[]){rid, project_id}, 2, record_row, out);
}

projects_err projects_ai_create(projects_ctx *c, sb_str project_id, const projects_ai_input *in,
                                sb_jw *out, char id[SB_UUID_STR_LEN], projects_problem *p)
{
    projects__proj pr;
    projects_err r = ai_project(c, project_id, AUTHZ_EDIT, &pr);
    if (r != PROJECTS_OK)
        return r;
    if (!type_ok(in->type))
        return type_invalid(p, "type");
    if ((r = prompt_check(in->prompt, p)) != PROJECTS_OK)
        return r;
    char *result = NULL;
    if ((r = result_text(c, in->result, &result, p)) != PROJECTS_OK)
        return r;
    projects__new_id(id);
    sb_errbuf err;
    store_stmt *st;
    store_err e = store_begin(c->db, &err);
    if (e == STORE_OK)
        e = store_prepare(c->db,
                          "INSERT INTO ai_content (id, project_id, type, prompt, result, "
                          "created_by, created_at) VALUES ($1, $2, $3, $4, $5, $6, $7)",
                          &st, &err);
    if (e == STORE_OK) {
        store_bind_cstr(st, 1, id);
        store_bind_cstr(st, 2, pr.id);
        store_bind_text(st, 3, in->type.ptr, in->type.len);
        store_bind_text(st, 4, in->prompt.ptr, in->prompt.len);
        store_bind_cstr(st, 5, result);
        store_bind_cstr(st, 6, c->caller.user_id);
        store_bind_int(st, 7, c->now_us);
        e = store_step(st, &err);
        store_reset(st);
    }
    free(result);
    if (e != STORE_DONE)
        return projects__store(c, "storing AI content", e, &err);
    char details[48];
    snprintf(details, sizeof(details), "{\"type\":\"%.*s\"}", SB_STR_FMT(in->type));
    if ((r = projects__audit(c, pr.id, "ai_content_created", id, details)) != PROJECTS_OK)
        return r;
    return projects__finish(c, read_record(c, pr.id, sb_str_c(id), out), "storing AI content");
}

projects_err projects_ai_get(projects_ctx *c, sb_str project_id, sb_str id, sb_jw *out,
                             projects_ver *ver)
{
    projects__proj pr;
    projects_err r = ai_project(c, project_id, AUTHZ_READ, &pr);
    if (r == PROJECTS_OK)
        r = read_record(c, pr.id, id, out);
    if (r == PROJECTS_OK && ver)
        *ver = 1;
    return r;
}

projects_err projects_ai_delete(projects_ctx *c, sb_str project_id, sb_str id, projects_ver if_ver)
{
    projects__proj pr;
    projects_err r = ai_project(c, project_id, AUTHZ_EDIT, &pr);
    if (r == PROJECTS_OK)
        r = read_record(c, pr.id, id, NULL);
    if (r != PROJECTS_OK)
        return r;
    if (if_ver > 1)
        return PROJECTS_STALE; /* a record is only ever at version 1 */
    char rid[SB_UUID_STR_LEN];
    projects__copy(rid, sizeof(rid), id);
    sb_errbuf err;
    int64_t changed = 0;
    store_err e = store_begin(c->db, &err);
    if (e == STORE_OK)
        e = projects__exec(c->db, "DELETE FROM ai_content WHERE id = $1 AND project_id = $2",
                           (const char *const[]){rid, pr.id}, 2, &changed, &err);
    if (e != STORE_OK)
        return projects__store(c, "deleting AI content", e, &err);
    if (changed == 0) {
        store_rollback(c->db, NULL);
        return PROJECTS_NOT_FOUND; /* deleted by someone else meanwhile */
    }
    if ((r = projects__audit(c, pr.id, "ai_content_deleted", rid, NULL)) != PROJECTS_OK)
        return r;
    e = store_commit(c->db, &err);
    return e == STORE_OK ? PROJECTS_OK : projects__store(c, "deleting AI content", e, &err);
}

projects_err projects_ai_list(projects_ctx *c, sb_str project_id, sb_str type,
                              const projects_page *pg, sb_jw *out, projects_problem *p)
{
    projects__proj pr;
    projects_err r = ai_project(c, project_id, AUTHZ_READ, &pr);
    if (r != PROJECTS_OK)
        return r;
    if (type.len && !type_ok(type))
        return type_invalid(p, "type");
    char after[SB_UUID_STR_LEN];
    if ((r = projects__id_cursor(pg, after, p)) != PROJECTS_OK)
        return r;
    char kind[16];
    projects__copy(kind, sizeof(kind), type.len ? type : SB_STR(""));
    return projects__id_page_run(c, "listing AI content",
                                 "SELECT " AI_COLS " FROM ai_content WHERE project_id = $1 AND "
                                 "($2 = '' OR type = $2) AND ($3 = '' OR id < $3) "
                                 "ORDER BY id DESC LIMIT $4",
                                 (const char *const[]){pr.id, kind, after}, 3, pg->limit,
                                 write_summary, out);
}
