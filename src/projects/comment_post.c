/*
 * comment_post.c: a comment's words: a new thread or reply, and its
 * author's edits (see comments.c for the invariants they keep).
 *
 * The anchor is checked here. A thread's page must be one of the project
 * the caller may comment on; its element must be a component of that page
 * whenever the page has any, so that a comment never points at nothing
 * (a page without components takes any element id: the client's name for
 * the spot). A reply takes its thread's anchor, inside the INSERT itself,
 * so it cannot disagree with it.
 *
 * A caller who may not comment in the project at all is told so before
 * anything about its pages or comments is looked at, and a page or thread
 * they may not see is answered exactly like one that does not exist.
 * Mentions are resolved afresh on each write; the people newly mentioned
 * are handed to the caller to mail, after the commit.
 */
#include <stdlib.h>
#include <string.h>

#include "base/utf8.h"
#include "projects/projects_int.h"
#include "projects/tree.h"

/* UTF-8 text of 1..PROJECTS_COMMENT_MAX characters that is not all white
 * space; tabs and line breaks are the only control characters. */
static projects_err check_body(sb_str s, projects_problem *p)
{
    if (!s.ptr)
        return projects__invalid(p, "body", "is required");
    if (!sb_utf8_valid(s.ptr, s.len, NULL))
        return projects__invalid(p, "body", "must be UTF-8 text");
    size_t chars = 0;
    bool visible = false;
    for (size_t i = 0; i < s.len; i++) {
        unsigned char b = (unsigned char)s.ptr[i];
        bool space = b == ' ' || b == '\t' || b == '\n' || b == '\r';
        if ((b < 0x20 && !space) || b == 0x7f)
            return projects__invalid(p, "body",
                                     "may hold no control characters but tabs and line breaks");
        chars += (b & 0xc0) != 0x80;
        visible = visible || !space;
    }
    if (chars > PROJECTS_COMMENT_MAX)
        return projects__invalid(p, "body", "must have 1 to 10000 characters");
    if (!visible)
        return projects__invalid(p, "body", "must not be blank");
    return PROJECTS_OK;
}

/* A thread's position: any small object; x and y, when given, numbers.
 * *out gets its compact JSON (heap). */
static projects_err check_position(const json_t *pos, char **out, projects_problem *p)
{
    if (!pos) {
        *out = sb_strdup("{}");
        return PROJECTS_OK;
    }
    const json_t *x = json_object_get(pos, "x"), *y = json_object_get(pos, "y");
    if (!json_is_object(pos) || (x && !json_is_number(x)) || (y && !json_is_number(y)))
        return projects__invalid(p, "position", "must be an object, with numbers for x and y");
    *out = json_dumps(pos, JSON_COMPACT | JSON_PRESERVE_ORDER | JSON_REAL_PRECISION(15));
    if (!*out)
        sb_die("out of memory writing a comment's position");
    if (strlen(*out) > PROJECTS_POSITION_MAX) {
        free(*out);
        *out = NULL;
        return projects__invalid(p, "position", "must be at most 1024 bytes as JSON");
    }
    return PROJECTS_OK;
}

/* Where a new comment goes. */
typedef struct anchor {
    char page_id[SB_UUID_STR_LEN];
    char root_id[SB_UUID_STR_LEN]; /* "" for a new thread */
    sb_str element_id;             /* a new thread's */
} anchor;

/* page_id's component tree, if it is a page of pr's project. */
static projects_err page_tree(projects_ctx *c, const projects__proj *pr, const char *page_id,
                              json_t **tree)
{
    sb_errbuf err;
    store_stmt *st;
    store_err e = store_prepare(
        c->db, "SELECT components FROM pages WHERE id = $1 AND project_id = $2", &st, &err);
    if (e != STORE_OK)
        return projects__store(c, "reading a page", e, &err);
    store_bind_cstr(st, 1, page_id);
    store_bind_cstr(st, 2, pr->id);
    e = store_step(st, &err);
    if (e == STORE_ROW) {
        size_t n;
        const char *json = store_col_text(st, 0, &n);
        *tree = json_loadb(json, n, 0, NULL);
    }
    store_reset(st);
    if (e == STORE_ROW || e == STORE_DONE)
        return e == STORE_ROW ? PROJECTS_OK : PROJECTS_NOT_FOUND;
    return projects__store(c, "reading a page", e, &err);
}

static projects_err anchor_thread(projects_ctx *c, projects__proj *pr,
                                  const projects_comment_input *in, anchor *a, projects_problem *p)
{
    if (!in->page_id.ptr)
        return projects__invalid(p, "page_id", "is required");
    if (!in->element_id.ptr)
        return projects__invalid(p, "element_id", "is required");
    if (!projects__text_ok(in->element_id, 1, PROJECTS_ELEMENT_ID_MAX))
        return projects__invalid(p, "element_id", "must be 1 to 128 characters of text");
    json_t *tree = NULL;
    projects_err r = PROJECTS_NOT_FOUND;
    if (projects__id_ok(in->page_id)) {
        projects__copy(a->page_id, sizeof(a->page_id), in->page_id);
        r = page_tree(c, pr, a->page_id, &tree);
    }
    if (r == PROJECTS_OK)
        r = projects__comment_decide(c, pr, a->page_id, AUTHZ_COMMENT, false);
    if (r == PROJECTS_OK && projects_tree_count(tree) > 0 &&
        !projects_tree_has_id(tree, in->element_id))
        r = projects__invalid(p, "element_id", "is not the id of a component of this page");
    json_decref(tree);
    if (r == PROJECTS_NOT_FOUND)
        return projects__invalid(p, "page_id", "is not a page of this project");
    a->root_id[0] = 0;
    a->element_id = in->element_id;
    return r;
}

static projects_err anchor_reply(projects_ctx *c, projects__proj *pr,
                                 const projects_comment_input *in, anchor *a, projects_problem *p)
{
    projects__comment parent;
    projects_err r = projects__comment_load(c, pr, in->parent_id, AUTHZ_COMMENT, &parent);
    if (r == PROJECTS_NOT_FOUND)
        return projects__invalid(p, "parent_id", "is not a comment of this project");
    if (r != PROJECTS_OK)
        return r;
    if (in->page_id.ptr && !sb_str_eq(in->page_id, sb_str_c(parent.page_id)))
        r = projects__invalid(p, "page_id", "must be the thread's page, or left out");
    else if (in->element_id.ptr && !sb_str_eq(in->element_id, sb_str_c(parent.element_id)))
        r = projects__invalid(p, "element_id", "must be the thread's element, or left out");
    else if (in->position)
        r = projects__invalid(p, "position", "is the thread's: a reply has none of its own");
    memcpy(a->page_id, parent.page_id, sizeof(a->page_id));
    memcpy(a->root_id, parent.root_id, sizeof(a->root_id));
    return r;
}

/* Refuses a reply to a thread that holds PROJECTS_THREAD_MAX already, so
 * that a thread stays one answer's worth (GET returns it whole). */
static projects_err thread_room(projects_ctx *c, const char *root_id, projects_problem *p)
{
    int64_t n;
    projects_err r = projects__reply_count(c, root_id, &n);
    if (r != PROJECTS_OK)
        return r;
    if (n < PROJECTS_THREAD_MAX)
        return PROJECTS_OK;
    store_rollback(c->db, NULL);
    p->field = "parent_id";
    snprintf(p->message, sizeof(p->message),
             "is a thread with %d replies, the most one holds: start a new thread",
             PROJECTS_THREAD_MAX);
    return PROJECTS_CONFLICT;
}

/* The audit row's details: {"page_id": ..., "thread": root (replies)}. */
static void details(const char *page_id, const char *root_id, sb_buf *out)
{
    sb_jw w;
    sb_jw_init(&w, out);
    sb_jw_obj_begin(&w);
    sb_jw_kv_str(&w, "page_id", page_id);
    if (root_id[0])
        sb_jw_kv_str(&w, "thread", root_id);
    sb_jw_obj_end(&w);
}

static projects_err insert(projects_ctx *c, const projects__proj *pr, const anchor *a,
                           const char *id, const char *position, sb_str body, const char *mentions,
                           projects_problem *p)
{
    sb_errbuf err;
    store_stmt *st;
    store_err e = store_begin(c->db, &err);
    if (e != STORE_OK)
        return projects__store(c, "creating a comment", e, &err);
    projects_err r = a->root_id[0] ? thread_room(c, a->root_id, p) : PROJECTS_OK;
    if (r != PROJECTS_OK)
        return r;
    if (a->root_id[0]) {
        /* The reply takes its thread's anchor from the thread's row. */
        e = store_prepare(c->db,
                          "INSERT INTO comments (id, project_id, page_id, element_id, position, "
                          "parent_id, author_id, body, mentions, created_at, updated_at) "
                          "SELECT $1, project_id, page_id, element_id, position, id, $2, $3, $4, "
                          "CAST($5 AS bigint), CAST($5 AS bigint) FROM comments WHERE id = $6",
                          &st, &err);
    } else {
        e = store_prepare(c->db,
                          "INSERT INTO comments (id, project_id, page_id, element_id, position, "
                          "author_id, body, mentions, created_at, updated_at) "
                          "VALUES ($1, $2, $3, $4, $5, $6, $7, $8, $9, $9)",
                          &st, &err);
    }
    if (e != STORE_OK)
        return projects__store(c, "creating a comment", e, &err);
    store_bind_cstr(st, 1, id);
    if (a->root_id[0]) {
        store_bind_cstr(st, 2, c->caller.user_id);
        store_bind_text(st, 3, body.ptr, body.len);
        store_bind_cstr(st, 4, mentions);
        store_bind_int(st, 5, c->now_us);
        store_bind_cstr(st, 6, a->root_id);
    } else {
        store_bind_cstr(st, 2, pr->id);
        store_bind_cstr(st, 3, a->page_id);
        store_bind_text(st, 4, a->element_id.ptr, a->element_id.len);
        store_bind_cstr(st, 5, position);
        store_bind_cstr(st, 6, c->caller.user_id);
        store_bind_text(st, 7, body.ptr, body.len);
        store_bind_cstr(st, 8, mentions);
        store_bind_int(st, 9, c->now_us);
    }
    e = store_step(st, &err);
    int64_t changed = store_changes(st);
    store_reset(st);
    if (e != STORE_DONE)
        return projects__store(c, "creating a comment", e, &err);
    if (changed == 0) { /* the thread was deleted since we read it */
        store_rollback(c->db, NULL);
        return projects__invalid(p, "parent_id", "is not a comment of this project");
    }
    if (a->root_id[0] && (r = projects__thread_touch(c, a->root_id)) != PROJECTS_OK)
        return r;
    sb_buf d = SB_BUF_INIT;
    details(a->page_id, a->root_id, &d);
    r = projects__audit(c, pr->id, "comment_created", id, d.ptr);
    sb_buf_free(&d);
    if (r != PROJECTS_OK)
        return r;
    e = store_commit(c->db, &err);
    return e == STORE_OK ? PROJECTS_OK : projects__store(c, "creating a comment", e, &err);
}

/* Fills m with the people mn holds that before (the JSON array the
 * comment had, or NULL) did not, the author aside, and what their mail
 * says. Runs after the commit: a failure here costs the mail, never the
 * comment. */
static void mentioned(projects_ctx *c, const projects__proj *pr, const char *page_id,
                      const char *id, const projects__mentions *mn, const char *before,
                      projects_mentioned *m)
{
    m->n = 0;
    for (size_t i = 0; i < mn->n; i++) {
        const char *uid = mn->who[i].user_id;
        char quoted[SB_UUID_STR_LEN + 2];
        snprintf(quoted, sizeof(quoted), "\"%s\"", uid);
        if (strcmp(uid, c->caller.user_id) == 0 || (before && strstr(before, quoted)))
            continue;
        memcpy(m->email[m->n++], mn->who[i].email, sizeof(m->email[0]));
    }
    if (m->n == 0)
        return;
    snprintf(m->comment_id, sizeof(m->comment_id), "%s", id);
    snprintf(m->page_id, sizeof(m->page_id), "%s", page_id);
    sb_errbuf err;
    store_stmt *st;
    store_err e = store_prepare(c->db,
                                "SELECT p.name, g.path, (SELECT username FROM users WHERE id = $3) "
                                "FROM projects p JOIN pages g ON g.project_id = p.id "
                                "WHERE p.id = $1 AND g.id = $2",
                                &st, &err);
    if (e == STORE_OK) {
        store_bind_cstr(st, 1, pr->id);
        store_bind_cstr(st, 2, page_id);
        store_bind_cstr(st, 3, c->caller.user_id);
        e = store_step(st, &err);
        if (e == STORE_ROW) {
            const char *author = store_col_text(st, 2, NULL);
            snprintf(m->project_name, sizeof(m->project_name), "%s", store_col_text(st, 0, NULL));
            snprintf(m->page_path, sizeof(m->page_path), "%s", store_col_text(st, 1, NULL));
            snprintf(m->author, sizeof(m->author), "%s", author ? author : "");
        }
        store_reset(st);
    }
    if (e != STORE_ROW) {
        if (e != STORE_DONE)
            projects__store(c, "reading what a mention mail says", e, &err);
        m->n = 0;
    }
}

projects_err projects_comment_create(projects_ctx *c, sb_str project_id,
                                     const projects_comment_input *in, sb_jw *out,
                                     char id[SB_UUID_STR_LEN], projects_mentioned *m,
                                     projects_problem *p)
{
    m->n = 0;
    projects__proj pr;
    projects_err r = projects__project(c, project_id, AUTHZ_READ, &pr);
    if (r != PROJECTS_OK)
        return r;
    /* May the caller comment on any page here? Guests are asked page by
     * page below, so that an unshared page stays unknown to them (400 on
     * page_id) rather than refused (403). */
    authz_resource any = pr.r;
    any.item = true;
    if (authz_effective_role(&pr.r) != AUTHZ_GUEST &&
        (r = projects__decide(c, AUTHZ_COMMENT, &any)) != PROJECTS_OK)
        return r;
    if ((r = check_body(in->body, p)) != PROJECTS_OK)
        return r;
    anchor a;
    r = in->parent_id.ptr ? anchor_reply(c, &pr, in, &a, p) : anchor_thread(c, &pr, in, &a, p);
    if (r != PROJECTS_OK)
        return r;
    char *position = NULL;
    if (!a.root_id[0] && (r = check_position(in->position, &position, p)) != PROJECTS_OK)
        return r;
    projects__mentions mn;
    sb_buf mjson = SB_BUF_INIT;
    r = projects__mentions_resolve(c, &pr, a.page_id, in->body, in->mentions, &mn, p);
    if (r == PROJECTS_OK) {
        projects__mentions_json(&mn, &mjson);
        projects__new_id(id);
        r = insert(c, &pr, &a, id, position, in->body, mjson.ptr, p);
    }
    free(position);
    sb_buf_free(&mjson);
    if (r != PROJECTS_OK)
        return r;
    mentioned(c, &pr, a.page_id, id, &mn, NULL, m);
    return projects__comment_write_by_id(c, id, out, NULL);
}

static projects_err update(projects_ctx *c, const projects__proj *pr, const projects__comment *cm,
                           sb_str body, const char *mentions, projects_ver if_ver)
{
    sb_errbuf err;
    store_stmt *st;
    store_err e = store_begin(c->db, &err);
    if (e == STORE_OK)
        e = store_prepare(c->db,
                          "UPDATE comments SET body = $1, mentions = $2, version = version + 1, "
                          "updated_at = $3 WHERE id = $4 AND ($5 = 0 OR version = $5)",
                          &st, &err);
    if (e != STORE_OK)
        return projects__store(c, "updating a comment", e, &err);
    store_bind_text(st, 1, body.ptr, body.len);
    store_bind_cstr(st, 2, mentions);
    store_bind_int(st, 3, c->now_us);
    store_bind_cstr(st, 4, cm->id);
    store_bind_int(st, 5, if_ver);
    projects_err r = projects__write_versioned(c, st, "updating a comment");
    if (r == PROJECTS_OK && cm->is_reply)
        r = projects__thread_touch(c, cm->root_id);
    if (r == PROJECTS_OK)
        r = projects__audit(c, pr->id, "comment_updated", cm->id, NULL);
    if (r != PROJECTS_OK)
        return r;
    e = store_commit(c->db, &err);
    return e == STORE_OK ? PROJECTS_OK : projects__store(c, "updating a comment", e, &err);
}

projects_err projects_comment_edit(projects_ctx *c, sb_str project_id, sb_str comment_id,
                                   const projects_comment_input *in, projects_ver if_ver,
                                   sb_jw *out, projects_ver *ver, projects_mentioned *m,
                                   projects_problem *p)
{
    m->n = 0;
    projects__proj pr;
    projects__comment cm;
    projects_err r =
        projects__comment_open(c, project_id, comment_id, AUTHZ_COMMENT_EDIT, &pr, &cm);
    if (r != PROJECTS_OK)
        return r;
    projects__mentions mn;
    sb_buf mjson = SB_BUF_INIT;
    if ((r = check_body(in->body, p)) == PROJECTS_OK)
        r = projects__mentions_resolve(c, &pr, cm.page_id, in->body, in->mentions, &mn, p);
    if (r == PROJECTS_OK) {
        projects__mentions_json(&mn, &mjson);
        r = update(c, &pr, &cm, in->body, mjson.ptr, if_ver);
    }
    if (r == PROJECTS_OK)
        mentioned(c, &pr, cm.page_id, cm.id, &mn, cm.mentions, m);
    sb_buf_free(&mjson);
    return r == PROJECTS_OK ? projects__comment_write_by_id(c, cm.id, out, ver) : r;
}
