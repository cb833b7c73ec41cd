/*
 * id_page.c: lists that run in id order, either way (ids are UUIDv7, so id
 * order is creation order) and whose cursor is the last id shown: the
 * audit log, AI content and assets. The caller asks its store for limit + 1 rows;
 * the extra row only tells that there is a next page.
 */
#include "projects/projects_int.h"

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

void projects__id_page_begin(projects__id_page *l, sb_jw *out, int limit)
{
    *l = (projects__id_page){.out = out, .limit = limit};
    sb_jw_obj_begin(out);
    sb_jw_key(out, "items");
    sb_jw_arr_begin(out);
}

bool projects__id_page_take(projects__id_page *l, const char *id)
{
    if (l->n == l->limit) {
        l->more = true;
        return false;
    }
    l->n++;
    snprintf(l->last, sizeof(l->last), "%s", id);
    return true;
}

void projects__id_page_end(projects__id_page *l)
{
    sb_jw_arr_end(l->out);
    sb_jw_kv_str(l->out, "next_cursor", l->more ? l->last : NULL);
    sb_jw_obj_end(l->out);
}
