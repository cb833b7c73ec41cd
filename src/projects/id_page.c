/*
 * id_page.c: lists that run in id order, either way (ids are UUIDv7, so id
 * order is creation order) and whose cursor is the last id shown: the
 * audit log, AI content and assets. The caller asks its store for limit + 1 rows;
 * the extra row only tells that there is a next page.
 */
#include "projects/projects_int.h"

/* A page being written: rows shown so far, and the last one's id. */
typedef struct id_page {
    sb_jw *out;
    int limit, n;
    bool more;
    char last[SB_UUID_STR_LEN];
} id_page;

projects_err projects__id_cursor(const projects_page *pg, char after[SB_UUID_STR_LEN],
                                 projects_problem *p)
{
    after[0] = 0;
    if (!pg->cursor.len)
        return PROJECTS_OK;
    if (!projects__id_ok(pg->cursor))
        return projects__invalid(p, "cursor", "is not a cursor this list gave");
    projects__copy(after, SB_UUID_STR_LEN, pg->cursor);
    return PROJECTS_OK;
}

static void page_begin(id_page *l, sb_jw *out, int limit)
{
    *l = (id_page){.out = out, .limit = limit};
    sb_jw_obj_begin(out);
    sb_jw_key(out, "items");
    sb_jw_arr_begin(out);
}

static bool page_take(id_page *l, const char *id)
{
    if (l->n == l->limit) {
        l->more = true;
        return false;
    }
    l->n++;
    snprintf(l->last, sizeof(l->last), "%s", id);
    return true;
}

static void page_end(id_page *l)
{
    sb_jw_arr_end(l->out);
    sb_jw_kv_str(l->out, "next_cursor", l->more ? l->last : NULL);
    sb_jw_obj_end(l->out);
}

projects_err projects__id_page_run(projects_ctx *c, const char *what, const char *sql,
                                   const char *const *args, size_t n, int limit,
                                   void (*write_row)(sb_jw *w, store_stmt *st), sb_jw *out)
{
    sb_errbuf err;
    store_stmt *st;
    store_err e = projects__prepare(c->db, sql, args, n, &st, &err);
    if (e != STORE_OK)
        return projects__store(c, what, e, &err);
    store_bind_int(st, (int)n + 1, limit + 1);
    id_page l;
    page_begin(&l, out, limit);
    while ((e = store_step(st, &err)) == STORE_ROW && page_take(&l, store_col_text(st, 0, NULL)))
        write_row(out, st);
    store_reset(st);
    page_end(&l);
    return e == STORE_ROW || e == STORE_DONE ? PROJECTS_OK : projects__store(c, what, e, &err);
}
