/*
 * comments.c: what a comment is and who sees it: its representation,
 * loading one with the policy's answer, and GET of a thread or a reply.
 * Writing is comment_post.c (create, edit), comment_state.c (resolve,
 * reopen, delete); the list is comment_list.c; mentions mentions.c.
 *
 * Invariants, kept by every writer:
 *   - a reply's parent_id is its thread's root, never another reply (a
 *     reply to a reply joins the root), and it has the root's page and
 *     element; only the root carries resolved_at / resolved_by;
 *   - the root's version moves with every change to the thread (a reply
 *     added, edited or deleted, resolve, reopen), in the transaction of
 *     that change: the thread's ETag is the root's version, and a reply
 *     has its own for its own edits;
 *   - every change writes its audit row in its transaction.
 *
 * Who: reading a comment is READ on its page as an item that is never
 * published: comments are the collaborators' working notes, not the site,
 * so the visitors a public project lets read its published pages do not
 * see them. Guests see the comments on the pages shared with them.
 * Writing is COMMENT on the page; edit, resolve and delete are the
 * COMMENT_* actions, which the policy grants the comment's author while
 * they may comment there (authz.c).
 */
#include <string.h>

#include "base/clock.h"
#include "projects/projects_int.h"

static void raw_col(sb_jw *w, const char *key, store_stmt *st, int col)
{
    size_t n;
    const char *v = store_col_text(st, col, &n);
    sb_jw_key(w, key);
    sb_jw_raw(w, v, n);
}

static void time_col(sb_jw *w, const char *key, store_stmt *st, int col)
{
    char t[SB_RFC3339_LEN];
    sb_jw_kv_str(w, key, store_col_is_null(st, col) ? NULL : sb_rfc3339(store_col_int(st, col), t));
}

void projects__comment_write(sb_jw *w, store_stmt *st, int64_t reply_count, bool open)
{
    sb_jw_obj_begin(w);
    sb_jw_kv_str(w, "id", store_col_text(st, 0, NULL));
    sb_jw_kv_str(w, "project_id", store_col_text(st, 1, NULL));
    sb_jw_kv_str(w, "page_id", store_col_text(st, 2, NULL));
    sb_jw_kv_str(w, "element_id", store_col_text(st, 3, NULL));
    raw_col(w, "position", st, 4);
    sb_jw_kv_str(w, "parent_id", store_col_text(st, 5, NULL));
    sb_jw_kv_str(w, "author_id", store_col_text(st, 6, NULL));
    sb_jw_kv_str(w, "body", store_col_text(st, 7, NULL));
    raw_col(w, "mentions", st, 8);
    sb_jw_kv_bool(w, "resolved", !store_col_is_null(st, 9));
    time_col(w, "resolved_at", st, 9);
    sb_jw_kv_str(w, "resolved_by", store_col_text(st, 10, NULL));
    sb_jw_kv_int(w, "version", store_col_int(st, 11));
    time_col(w, "created_at", st, 12);
    time_col(w, "updated_at", st, 13);
    if (reply_count >= 0)
        sb_jw_kv_int(w, "reply_count", reply_count);
    if (!open)
        sb_jw_obj_end(w);
}

projects_err projects__comment_decide(projects_ctx *c, projects__proj *pr, const char *page_id,
                                      authz_action a, bool is_author)
{
    pr->r.item = true;
    pr->r.published = false; /* comments are never public content */
    pr->r.shared = false;
    pr->r.is_author = is_author;
    projects_err r = PROJECTS_OK;
    if (authz_effective_role(&pr->r) == AUTHZ_GUEST)
        r = projects__shared(c, pr->id, "page", sb_str_c(page_id), &pr->r.shared);
    return r == PROJECTS_OK ? projects__decide(c, a, &pr->r) : r;
}

static void copy_col(store_stmt *st, int col, char *out, size_t cap)
{
    size_t n;
    const char *s = store_col_text(st, col, &n);
    projects__copy(out, cap, s ? sb_str_make(s, n) : SB_STR(""));
}

projects_err projects__comment_load(projects_ctx *c, projects__proj *pr, sb_str comment_id,
                                    authz_action a, projects__comment *out)
{
    memset(out, 0, sizeof(*out));
    if (!projects__id_ok(comment_id))
        return PROJECTS_NOT_FOUND;
    sb_errbuf err;
    store_stmt *st;
    store_err e = store_prepare(c->db,
                                "SELECT c.page_id, c.parent_id, c.author_id, c.element_id, "
                                "c.mentions, c.version, c.resolved_at FROM comments c "
                                "WHERE c.id = $1 AND c.project_id = $2",
                                &st, &err);
    if (e != STORE_OK)
        return projects__store(c, "reading a comment", e, &err);
    store_bind_text(st, 1, comment_id.ptr, comment_id.len);
    store_bind_cstr(st, 2, pr->id);
    e = store_step(st, &err);
    if (e != STORE_ROW) {
        store_reset(st);
        return e == STORE_DONE ? PROJECTS_NOT_FOUND
                               : projects__store(c, "reading a comment", e, &err);
    }
    projects__copy(out->id, sizeof(out->id), comment_id);
    copy_col(st, 0, out->page_id, sizeof(out->page_id));
    out->is_reply = !store_col_is_null(st, 1);
    if (out->is_reply)
        copy_col(st, 1, out->root_id, sizeof(out->root_id));
    else
        memcpy(out->root_id, out->id, sizeof(out->id));
    copy_col(st, 2, out->author_id, sizeof(out->author_id));
    copy_col(st, 3, out->element_id, sizeof(out->element_id));
    copy_col(st, 4, out->mentions, sizeof(out->mentions));
    out->version = store_col_int(st, 5);
    out->resolved = !store_col_is_null(st, 6);
    store_reset(st);
    /* Whoever may not read it learns nothing, whatever they asked to do. */
    projects_err r = projects__comment_decide(c, pr, out->page_id, AUTHZ_READ, false);
    if (r == PROJECTS_OK && a != AUTHZ_READ) {
        bool mine = c->caller.user_id && strcmp(out->author_id, c->caller.user_id) == 0;
        r = projects__comment_decide(c, pr, out->page_id, a, mine);
    }
    return r;
}

projects_err projects__comment_open(projects_ctx *c, sb_str project_id, sb_str comment_id,
                                    authz_action a, projects__proj *pr, projects__comment *out)
{
    projects_err r = projects__project(c, project_id, AUTHZ_READ, pr);
    return r == PROJECTS_OK ? projects__comment_load(c, pr, comment_id, a, out) : r;
}

/* The replies of thread root_id, oldest first, as the value of "replies". */
static projects_err write_replies(projects_ctx *c, const char *root_id, sb_jw *out)
{
    sb_errbuf err;
    store_stmt *st;
    store_err e = store_prepare(c->db,
                                "SELECT " PROJECTS__COMMENT_COLS
                                " FROM comments c WHERE c.parent_id = $1 ORDER BY c.id",
                                &st, &err);
    if (e != STORE_OK)
        return projects__store(c, "reading replies", e, &err);
    store_bind_cstr(st, 1, root_id);
    sb_jw_key(out, "replies");
    sb_jw_arr_begin(out);
    while ((e = store_step(st, &err)) == STORE_ROW)
        projects__comment_write(out, st, -1, false);
    store_reset(st);
    sb_jw_arr_end(out);
    return e == STORE_DONE ? PROJECTS_OK : projects__store(c, "reading replies", e, &err);
}

projects_err projects__comment_write_by_id(projects_ctx *c, const char *id, sb_jw *out,
                                           projects_ver *ver)
{
    sb_errbuf err;
    store_stmt *st;
    store_err e = store_prepare(c->db,
                                "SELECT " PROJECTS__COMMENT_COLS
                                ", (SELECT count(*) FROM comments r WHERE r.parent_id = c.id) "
                                "FROM comments c WHERE c.id = $1",
                                &st, &err);
    if (e != STORE_OK)
        return projects__store(c, "reading a comment", e, &err);
    store_bind_cstr(st, 1, id);
    e = store_step(st, &err);
    if (e != STORE_ROW) {
        store_reset(st);
        return e == STORE_DONE ? PROJECTS_NOT_FOUND
                               : projects__store(c, "reading a comment", e, &err);
    }
    bool thread = store_col_is_null(st, 5);
    if (ver)
        *ver = store_col_int(st, 11);
    projects__comment_write(out, st, thread ? store_col_int(st, 14) : -1, thread);
    store_reset(st);
    if (!thread)
        return PROJECTS_OK;
    projects_err r = write_replies(c, id, out);
    sb_jw_obj_end(out);
    return r;
}

projects_err projects__reply_count(projects_ctx *c, const char *root_id, int64_t *n)
{
    sb_errbuf err;
    store_stmt *st;
    store_err e =
        store_prepare(c->db, "SELECT count(*) FROM comments WHERE parent_id = $1", &st, &err);
    if (e != STORE_OK)
        return projects__store(c, "counting replies", e, &err);
    store_bind_cstr(st, 1, root_id);
    e = store_step(st, &err);
    *n = e == STORE_ROW ? store_col_int(st, 0) : 0;
    store_reset(st);
    return e == STORE_ROW ? PROJECTS_OK : projects__store(c, "counting replies", e, &err);
}

projects_err projects__thread_touch(projects_ctx *c, const char *root_id)
{
    sb_errbuf err;
    const char *args[] = {root_id};
    store_err e = projects__exec(c->db, "UPDATE comments SET version = version + 1 WHERE id = $1",
                                 args, 1, NULL, &err);
    return e == STORE_OK ? PROJECTS_OK : projects__store(c, "updating a thread", e, &err);
}

projects_err projects_comment_get(projects_ctx *c, sb_str project_id, sb_str comment_id, sb_jw *out,
                                  projects_ver *ver)
{
    projects__proj pr;
    projects__comment cm;
    projects_err r = projects__comment_open(c, project_id, comment_id, AUTHZ_READ, &pr, &cm);
    if (r != PROJECTS_OK)
        return r;
    return projects__comment_write_by_id(c, cm.id, out, ver);
}
