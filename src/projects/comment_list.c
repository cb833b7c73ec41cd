/*
 * comment_list.c: a project's threads, filtered by page, element and
 * state, with their reply counts, in keyset pages ordered by id (UUIDv7:
 * creation order). A cursor names the last thread examined, so threads
 * added or deleted between pages are neither repeated nor skipped.
 *
 * Every row goes through authz_check like any read of a comment. Guests
 * read the threads on pages shared with them: the SQL narrows to those so
 * that their pages fill up, and the policy still decides each row.
 */
#include <string.h>

#include "projects/projects_int.h"

#define SHARED_PAGE                                                                                \
    "EXISTS (SELECT 1 FROM project_shares s WHERE s.project_id = c.project_id AND "                \
    "s.user_id = $2 AND s.kind = 'page' AND s.item = c.page_id)"

#define LIST_SQL(cmp, dir)                                                                         \
    "SELECT " PROJECTS__COMMENT_COLS ", "                                                          \
    "(SELECT count(*) FROM comments r WHERE r.parent_id = c.id), " SHARED_PAGE " "                 \
    "FROM comments c WHERE c.project_id = $1 AND c.parent_id IS NULL "                             \
    "AND ($3 = '' OR c.page_id = $3) AND ($4 = '' OR c.element_id = $4) "                          \
    "AND ($5 < 0 OR (c.resolved_at IS NULL) = ($5 = 0)) AND ($6 = '' OR c.id " cmp " $6) "         \
    "AND ($7 = 0 OR " SHARED_PAGE ") ORDER BY c.id " dir " LIMIT $8"

static const char *const list_sql[2] = {LIST_SQL(">", "ASC"), LIST_SQL("<", "DESC")};

/* The query's parameters, checked: which sort, which state (-1 any). */
static projects_err check_query(const projects_comment_query *q, bool *desc, int *resolved,
                                projects_problem *p)
{
    if (q->page_id.len && !projects__id_ok(q->page_id))
        return projects__invalid(p, "page_id", "must be a page id");
    if (q->element_id.len && !projects__text_ok(q->element_id, 1, PROJECTS_ELEMENT_ID_MAX))
        return projects__invalid(p, "element_id", "must be 1 to 128 characters of text");
    *resolved = -1;
    if (sb_str_eq(q->resolved, SB_STR("true")))
        *resolved = 1;
    else if (sb_str_eq(q->resolved, SB_STR("false")))
        *resolved = 0;
    else if (q->resolved.len)
        return projects__invalid(p, "resolved", "must be true or false");
    *desc = sb_str_eq(q->sort, SB_STR("-created_at"));
    if (q->sort.len && !*desc && !sb_str_eq(q->sort, SB_STR("created_at")))
        return projects__invalid(p, "sort", "must be created_at or -created_at");
    return PROJECTS_OK;
}

static void empty_list(sb_jw *out)
{
    sb_jw_obj_begin(out);
    sb_jw_key(out, "items");
    sb_jw_arr_begin(out);
    sb_jw_arr_end(out);
    sb_jw_kv_str(out, "next_cursor", NULL);
    sb_jw_obj_end(out);
}

projects_err projects_comment_list(projects_ctx *c, sb_str project_id,
                                   const projects_comment_query *q, sb_jw *out, projects_problem *p)
{
    projects__proj pr;
    projects_err r = projects__project(c, project_id, AUTHZ_READ, &pr);
    bool desc = false;
    int resolved = -1;
    if (r != PROJECTS_OK || (r = check_query(q, &desc, &resolved, p)) != PROJECTS_OK)
        return r;
    const char *sort = desc ? "-created_at" : "created_at";
    char after[SB_UUID_STR_LEN] = "";
    sb_buf key = SB_BUF_INIT;
    bool bad_cursor =
        q->page.cursor.len && !projects__cursor_parse(q->page.cursor, sort, &key, after);
    sb_buf_free(&key);
    if (bad_cursor)
        return projects__invalid(p, "cursor", "is not a cursor this list gave for this sort");
    authz_resource item = pr.r;
    item.item = true;
    item.published = false; /* comments are never public content */
    item.shared = true;
    /* Whoever could not read a comment even on a shared page reads none:
     * no need to walk the rows (a public project's visitors). */
    if (authz_check(&c->caller, AUTHZ_READ, &item).outcome != AUTHZ_ALLOW) {
        empty_list(out);
        return PROJECTS_OK;
    }
    bool guest = authz_effective_role(&pr.r) == AUTHZ_GUEST;
    sb_errbuf err;
    store_stmt *st;
    store_err e = store_prepare(c->db, list_sql[desc], &st, &err);
    if (e != STORE_OK)
        return projects__store(c, "listing comments", e, &err);
    store_bind_cstr(st, 1, pr.id);
    store_bind_cstr(st, 2, c->caller.user_id ? c->caller.user_id : "");
    store_bind_text(st, 3, q->page_id.ptr ? q->page_id.ptr : "", q->page_id.len);
    store_bind_text(st, 4, q->element_id.ptr ? q->element_id.ptr : "", q->element_id.len);
    store_bind_int(st, 5, resolved);
    store_bind_cstr(st, 6, after);
    store_bind_int(st, 7, guest);
    store_bind_int(st, 8, q->page.limit + 1);
    sb_jw_obj_begin(out);
    sb_jw_key(out, "items");
    sb_jw_arr_begin(out);
    int rows = 0;
    bool more = false;
    while ((e = store_step(st, &err)) == STORE_ROW) {
        if (rows++ == q->page.limit) {
            more = true;
            break;
        }
        snprintf(after, sizeof(after), "%s", store_col_text(st, 0, NULL));
        item.shared = guest && store_col_bool(st, 15);
        if (authz_check(&c->caller, AUTHZ_READ, &item).outcome == AUTHZ_ALLOW)
            projects__comment_write(out, st, store_col_int(st, 14), false);
    }
    store_reset(st);
    sb_jw_arr_end(out);
    sb_jw_key(out, "next_cursor");
    if (more) {
        sb_buf next = SB_BUF_INIT;
        projects__cursor_make(sort, after, after, &next);
        sb_jw_strn(out, next.ptr, next.len);
        sb_buf_free(&next);
    } else {
        sb_jw_null(out);
    }
    sb_jw_obj_end(out);
    return e == STORE_ROW || e == STORE_DONE ? PROJECTS_OK
                                             : projects__store(c, "listing comments", e, &err);
}
