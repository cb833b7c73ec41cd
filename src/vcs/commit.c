/*
 * commit.c: commits (from the live project or from a list of changes),
 * history, branches, tags and reading a file at a ref.
 *
 * A commit writes its objects, then moves the branch by compare-and-swap:
 * objects of a commit that lost the race stay unreferenced (harmless;
 * content-addressed rows that a later commit may reuse).
 */
#include <string.h>

#include "projects/tree.h"
#include "vcs/vcs_int.h"

static projects_err invalid(projects_problem *p, const char *field, const char *msg)
{
    p->field = field;
    snprintf(p->message, sizeof(p->message), "%s", msg);
    return PROJECTS_INVALID;
}

/* The role a write to branch needs: the default branch's history is the
 * live project's, whose merges and rollbacks are admin acts. */
static bool is_default(sb_str branch)
{
    return branch.len == 0 || sb_str_eq(branch, SB_STR(VCS_DEFAULT_BRANCH));
}

static bool path_ok(const char *path, size_t len)
{
    if (len == 0 || len > 1024 || path[0] == '/' || path[len - 1] == '/')
        return false;
    /* no empty, "." or ".." segments, no control bytes */
    const char *seg = path;
    for (size_t i = 0; i <= len; i++) {
        if (i < len && (unsigned char)path[i] < 0x20)
            return false;
        if (i == len || path[i] == '/') {
            size_t n = (size_t)(path + i - seg);
            if (n == 0 || (n == 1 && seg[0] == '.') || (n == 2 && seg[0] == '.' && seg[1] == '.'))
                return false;
            seg = path + i + 1;
        }
    }
    return (strncmp(path, "files/", 6) == 0) || vcs__is_page(path) ||
           (strncmp(path, "assets/", 7) == 0 && !strchr(path + 7, '/'));
}

/* A page a change list gives is one the projects service would accept
 * (the live project may become it): its id is the one its path names,
 * name and path are strings, its components a valid tree. */
static bool page_ok(const json_t *page, const char *path, char *why, size_t cap)
{
    const json_t *id = json_object_get(page, "id");
    size_t n = strlen(path) - strlen("pages/") - strlen(".json");
    if (!json_is_string(id) || json_string_length(id) != n ||
        memcmp(json_string_value(id), path + 6, n) != 0) {
        snprintf(why, cap, "a page's id must be the one its path names");
        return false;
    }
    if (!json_is_string(json_object_get(page, "name")) ||
        !json_is_string(json_object_get(page, "path"))) {
        snprintf(why, cap, "a page needs a name and a path (strings)");
        return false;
    }
    const json_t *meta = json_object_get(page, "metadata"),
                 *pub = json_object_get(page, "published");
    if ((meta && !json_is_object(meta)) || (pub && !json_is_boolean(pub))) {
        snprintf(why, cap, "a page's metadata is an object, published a boolean");
        return false;
    }
    projects_tree_limits lim = PROJECTS_TREE_LIMITS_DEFAULT;
    projects_tree_error te;
    const json_t *comps = json_object_get(page, "components");
    if (!comps || !projects_tree_validate(comps, &lim, &te)) {
        snprintf(why, cap, "%s: %.100s %.80s", path, comps ? te.where : "components",
                 comps ? te.message : "is required");
        return false;
    }
    return true;
}

/* Turns the change list into tree updates, writing blobs. */
static projects_err apply_changes(vcs__repo *r, const json_t *changes, git_tree *base,
                                  git_oid *tree, projects_problem *p)
{
    size_t n = json_array_size(changes);
    if (!json_is_array(changes) || n == 0)
        return invalid(p, "changes", "must be a non-empty array");
    if (n > VCS_CHANGES_MAX)
        return invalid(p, "changes", "must hold at most 10000 entries");
    git_tree_update *u = calloc(n, sizeof(*u));
    if (!u)
        sb_die("out of memory committing");
    projects_err pe = PROJECTS_OK;
    for (size_t i = 0; i < n && pe == PROJECTS_OK; i++) {
        const json_t *ch = json_array_get(changes, i);
        const json_t *jp = json_object_get(ch, "path");
        const json_t *content = json_object_get(ch, "content"), *page = json_object_get(ch, "page");
        const json_t *del = json_object_get(ch, "delete");
        const char *path = json_string_value(jp);
        snprintf(p->message, sizeof(p->message), "changes[%zu]", i);
        if (!json_is_object(ch) || !path || !path_ok(path, json_string_length(jp)) ||
            json_object_size(ch) != 2) {
            pe = invalid(p, "changes",
                         "each needs a path (files/..., pages/<id>.json, "
                         "assets/<id>.json) and one of content, page, delete");
            break;
        }
        u[i].path = path;
        u[i].filemode = GIT_FILEMODE_BLOB;
        if (json_is_true(del)) {
            u[i].action = GIT_TREE_UPDATE_REMOVE;
            git_tree_entry *e = NULL;
            bool present = base && git_tree_entry_bypath(&e, base, path) == 0;
            git_tree_entry_free(e);
            if (!present) {
                pe = invalid(p, "changes", "deletes a path the branch does not have");
                break;
            }
            continue;
        }
        u[i].action = GIT_TREE_UPDATE_UPSERT;
        int rc;
        if (json_is_string(content) && !vcs__is_page(path)) {
            if (json_string_length(content) > r->c->limits->file_max) {
                p->field = "changes";
                snprintf(p->message, sizeof(p->message), "a file is over %zu bytes",
                         r->c->limits->file_max);
                pe = PROJECTS_TOO_LARGE;
                break;
            }
            rc = git_blob_create_from_buffer(&u[i].id, r->git, json_string_value(content),
                                             json_string_length(content));
        } else if (json_is_object(page) && vcs__is_page(path)) {
            char why[200];
            if (!page_ok(page, path, why, sizeof(why))) {
                pe = invalid(p, "changes", why);
                break;
            }
            char *s = json_dumps(page, JSON_INDENT(2) | JSON_PRESERVE_ORDER);
            if (!s)
                sb_die("out of memory writing a page");
            sb_buf b = SB_BUF_INIT;
            sb_buf_puts(&b, s);
            sb_buf_putc(&b, '\n');
            free(s);
            rc = git_blob_create_from_buffer(&u[i].id, r->git, b.ptr, b.len);
            sb_buf_free(&b);
        } else {
            pe = invalid(p, "changes",
                         "needs content (a string) for files and assets, "
                         "page (an object) for pages");
            break;
        }
        if (rc < 0)
            pe = vcs__git_fail("writing a blob", rc);
    }
    if (pe == PROJECTS_OK) {
        int rc = git_tree_create_updated(tree, r->git, base, n, u);
        if (rc < 0)
            pe = vcs__git_fail("writing a tree", rc);
    }
    free(u);
    return pe;
}

projects_err vcs_commit(projects_ctx *c, sb_str project_id, const vcs_commit_input *in, sb_jw *out,
                        projects_problem *p)
{
    sb_str branch = in->branch.len ? in->branch : SB_STR(VCS_DEFAULT_BRANCH);
    if (!vcs__name_ok(branch, "refs/heads/"))
        return invalid(p, "branch", "must be a valid branch name");
    if (in->message.len == 0 || in->message.len > VCS_MESSAGE_MAX)
        return invalid(p, "message", "must be 1 to 65536 bytes");
    if (in->from_live == (in->changes != NULL))
        return invalid(p, "changes", "give either changes or from_live: true");
    if (in->from_live && !is_default(branch))
        return invalid(p, "from_live", "the live project is the default branch's content");
    git_oid expect;
    bool expect_given = in->expect.len > 0;
    if (expect_given && !vcs__oid_parse(in->expect, &expect))
        return invalid(p, "expect", "must be a commit id (40 hex characters)");
    vcs__repo r;
    projects_err pe = vcs__open(c, project_id, AUTHZ_EDIT, &r);
    if (pe != PROJECTS_OK)
        return pe;
    char ref[VCS__REF_CAP];
    vcs__ref_full(ref, "refs/heads/", branch);
    git_oid head, tree;
    git_tree *base = NULL;
    git_commit *hc = NULL;
    bool has_head = false;
    sb_errbuf err = {{0}};
    if (store_begin(c->db, &err) != STORE_OK) {
        vcs__close(&r);
        return PROJECTS_STORE;
    }
    pe = vcs__ref_get(&r, ref, &head);
    if (pe == PROJECTS_OK) {
        has_head = true;
        int rc = git_commit_lookup(&hc, r.git, &head);
        if (rc == 0)
            rc = git_commit_tree(&base, hc);
        if (rc < 0)
            pe = vcs__git_fail("reading the branch head", rc);
    } else if (pe == PROJECTS_NOT_FOUND) {
        /* only the default branch comes into being by a commit */
        pe = is_default(branch) ? PROJECTS_OK : PROJECTS_NOT_FOUND;
        if (pe != PROJECTS_OK)
            p->field = "branch", snprintf(p->message, sizeof(p->message), "no such branch");
    }
    if (pe == PROJECTS_OK && expect_given && (!has_head || !git_oid_equal(&head, &expect)))
        pe = PROJECTS_STALE;
    if (pe == PROJECTS_OK)
        pe = in->from_live ? vcs__snapshot(&r, &tree)
                           : apply_changes(&r, in->changes, base, &tree, p);
    if (pe == PROJECTS_OK && base && git_oid_equal(&tree, git_tree_id(base)))
        pe = invalid(p, "changes", "change nothing: the tree is the branch head's");
    git_oid cm;
    if (pe == PROJECTS_OK) {
        char *msg = strndup(in->message.ptr, in->message.len);
        const git_oid *parents[1] = {&head};
        pe = vcs__commit_tree(&r, &tree, parents, has_head ? 1 : 0, msg, &cm);
        free(msg);
    }
    if (pe == PROJECTS_OK) {
        vcs__move m = {.type = "vcs_commit",
                       .ref = ref,
                       .old = has_head ? &head : NULL,
                       .now = &cm,
                       .with_commit = true};
        pe = vcs__ref_move(&r, &m);
    }
    if (pe == PROJECTS_CONFLICT) /* the first commit raced another */
        pe = PROJECTS_STALE;
    if (pe == PROJECTS_OK && store_commit(c->db, &err) != STORE_OK)
        pe = PROJECTS_STORE;
    if (pe != PROJECTS_OK)
        store_rollback(c->db, &err);
    else
        pe = vcs__commit_out(&r, &cm, out);
    git_tree_free(base);
    git_commit_free(hc);
    vcs__close(&r);
    return pe;
}

projects_err vcs_log(projects_ctx *c, sb_str project_id, sb_str ref, int limit, sb_jw *out,
                     projects_problem *p)
{
    if (limit < 1 || limit > VCS_LOG_MAX)
        return invalid(p, "limit", "must be 1 to 200");
    vcs__repo r;
    projects_err pe = vcs__open(c, project_id, AUTHZ_READ, &r);
    if (pe != PROJECTS_OK)
        return pe;
    git_oid start;
    pe = vcs__resolve(&r, ref, "ref", &start, p);
    if (pe == PROJECTS_NOT_FOUND && ref.len == 0) {
        /* a project without commits has an empty history */
        sb_jw_obj_begin(out);
        sb_jw_key(out, "items");
        sb_jw_arr_begin(out);
        sb_jw_arr_end(out);
        sb_jw_obj_end(out);
        vcs__close(&r);
        return PROJECTS_OK;
    }
    git_revwalk *walk = NULL;
    int rc = 0;
    if (pe == PROJECTS_OK &&
        ((rc = git_revwalk_new(&walk, r.git)) < 0 ||
         (rc = git_revwalk_sorting(walk, GIT_SORT_TIME | GIT_SORT_TOPOLOGICAL)) < 0 ||
         (rc = git_revwalk_push(walk, &start)) < 0))
        pe = vcs__git_fail("walking history", rc);
    if (pe == PROJECTS_OK) {
        sb_jw_obj_begin(out);
        sb_jw_key(out, "items");
        sb_jw_arr_begin(out);
        git_oid oid;
        for (int i = 0; i < limit && (rc = git_revwalk_next(&oid, walk)) == 0; i++) {
            git_commit *cm;
            if ((rc = git_commit_lookup(&cm, r.git, &oid)) < 0)
                break;
            vcs__commit_json(out, cm);
            git_commit_free(cm);
        }
        sb_jw_arr_end(out);
        sb_jw_obj_end(out);
        if (rc < 0 && rc != GIT_ITEROVER)
            pe = vcs__git_fail("walking history", rc);
    }
    git_revwalk_free(walk);
    vcs__close(&r);
    return pe;
}

static projects_err list(projects_ctx *c, sb_str project_id, const char *prefix, sb_jw *out)
{
    vcs__repo r;
    projects_err pe = vcs__open(c, project_id, AUTHZ_READ, &r);
    if (pe != PROJECTS_OK)
        return pe;
    pe = vcs__ref_list(&r, prefix, out, NULL);
    vcs__close(&r);
    return pe;
}

projects_err vcs_branch_list(projects_ctx *c, sb_str project_id, sb_jw *out)
{
    return list(c, project_id, "refs/heads/", out);
}

projects_err vcs_tag_list(projects_ctx *c, sb_str project_id, sb_jw *out)
{
    return list(c, project_id, "refs/tags/", out);
}

static projects_err create_ref(projects_ctx *c, sb_str project_id, const char *prefix,
                               const char *event, sb_str name, sb_str from, sb_jw *out,
                               projects_problem *p)
{
    if (!vcs__name_ok(name, prefix))
        return invalid(p, "name", "must be 1 to 200 of A-Z a-z 0-9 - _ . / that git accepts");
    vcs__repo r;
    projects_err pe = vcs__open(c, project_id, AUTHZ_EDIT, &r);
    if (pe != PROJECTS_OK)
        return pe;
    git_oid at;
    pe = vcs__resolve(&r, from, "from", &at, p);
    char ref[VCS__REF_CAP];
    vcs__ref_full(ref, prefix, name);
    if (pe == PROJECTS_OK) {
        vcs__move m = {.type = event, .ref = ref, .now = &at};
        pe = vcs__ref_move(&r, &m);
        if (pe == PROJECTS_CONFLICT)
            p->field = "name", snprintf(p->message, sizeof(p->message), "is taken");
    }
    if (pe == PROJECTS_OK) {
        char hex[GIT_OID_HEXSZ + 1];
        sb_jw_obj_begin(out);
        sb_jw_key(out, "name");
        sb_jw_strn(out, name.ptr, name.len);
        sb_jw_kv_str(out, "commit", git_oid_tostr(hex, sizeof(hex), &at));
        sb_jw_obj_end(out);
    }
    vcs__close(&r);
    return pe;
}

projects_err vcs_branch_create(projects_ctx *c, sb_str project_id, sb_str name, sb_str from,
                               sb_jw *out, projects_problem *p)
{
    return create_ref(c, project_id, "refs/heads/", "vcs_branch_created", name, from, out, p);
}

projects_err vcs_tag_create(projects_ctx *c, sb_str project_id, sb_str name, sb_str from,
                            sb_jw *out, projects_problem *p)
{
    return create_ref(c, project_id, "refs/tags/", "vcs_tag_created", name, from, out, p);
}

/* Deletes ref prefix+name (event names the move): NOT_FOUND for a name
 * that cannot be one. */
static projects_err delete_ref(projects_ctx *c, sb_str project_id, const char *prefix,
                               const char *event, sb_str name)
{
    if (!vcs__name_ok(name, prefix))
        return PROJECTS_NOT_FOUND;
    vcs__repo r;
    projects_err pe = vcs__open(c, project_id, AUTHZ_EDIT, &r);
    if (pe != PROJECTS_OK)
        return pe;
    char ref[VCS__REF_CAP];
    vcs__move m = {.type = event, .ref = vcs__ref_full(ref, prefix, name)};
    pe = vcs__ref_move(&r, &m);
    vcs__close(&r);
    return pe;
}

projects_err vcs_branch_delete(projects_ctx *c, sb_str project_id, sb_str name)
{
    if (is_default(name) && name.len)
        return PROJECTS_INVALID; /* the default branch stays */
    return delete_ref(c, project_id, "refs/heads/", "vcs_branch_deleted", name);
}

projects_err vcs_tag_delete(projects_ctx *c, sb_str project_id, sb_str name)
{
    return delete_ref(c, project_id, "refs/tags/", "vcs_tag_deleted", name);
}

projects_err vcs_read(projects_ctx *c, sb_str project_id, sb_str ref, sb_str path, sb_buf *out)
{
    projects_problem p = {0};
    vcs__repo r;
    projects_err pe = vcs__open(c, project_id, AUTHZ_READ, &r);
    if (pe != PROJECTS_OK)
        return pe;
    git_oid at;
    pe = vcs__resolve(&r, ref, "ref", &at, &p);
    git_commit *cm = NULL;
    git_tree *tree = NULL;
    git_tree_entry *e = NULL;
    git_blob *b = NULL;
    char *cpath = strndup(path.ptr, path.len);
    if (pe == PROJECTS_OK) {
        if (git_commit_lookup(&cm, r.git, &at) < 0 || git_commit_tree(&tree, cm) < 0 ||
            git_tree_entry_bypath(&e, tree, cpath) < 0 ||
            git_tree_entry_type(e) != GIT_OBJECT_BLOB ||
            git_blob_lookup(&b, r.git, git_tree_entry_id(e)) < 0)
            pe = PROJECTS_NOT_FOUND;
        else
            sb_buf_append(out, git_blob_rawcontent(b), (size_t)git_blob_rawsize(b));
    }
    free(cpath);
    git_blob_free(b);
    git_tree_entry_free(e);
    git_tree_free(tree);
    git_commit_free(cm);
    vcs__close(&r);
    return pe;
}
