/*
 * repo.c: a project's repository, opened per call over the caller's store
 * connection (libgit2 keeps no state between calls: any node serves any
 * project), its refs in vcs_refs, and the helpers the services share.
 *
 * Refs move by compare-and-swap in one statement (UPDATE ... WHERE oid =
 * the expected one), so of two writers that saw the same head exactly one
 * moves it; the other is STALE.
 */
#include <pthread.h>
#include <string.h>

#include <git2/sys/odb_backend.h>
#include <git2/sys/repository.h>

#include "base/clock.h"
#include "vcs/vcs_int.h"

static pthread_once_t git_once = PTHREAD_ONCE_INIT;

static void git_start(void)
{
    if (git_libgit2_init() < 0)
        sb_die("libgit2 does not start");
}

/* Starts libgit2 once, before any call into it: a call that fails records
 * its error in thread state that only git_libgit2_init sets up, and
 * crashes without it. vcs__open and the checks of client input that run
 * before it (names, ids) start it. */
static void git_ensure(void)
{
    pthread_once(&git_once, git_start);
}

projects_err vcs__git_fail(const char *what, int rc)
{
    const git_error *e = git_error_last();
    sb_log(SB_LOG_ERROR, "libgit2 failed", SB_LOG_STR("what", what), SB_LOG_INT("rc", rc),
           SB_LOG_STR("error", e && e->message ? e->message : ""));
    return PROJECTS_INTERNAL;
}

static projects_err store_fail(const char *what, store_err e, const sb_errbuf *err)
{
    sb_log(SB_LOG_ERROR, "vcs store failed", SB_LOG_STR("what", what),
           SB_LOG_STR("error", err->msg));
    return e == STORE_CONSTRAINT ? PROJECTS_CONFLICT : PROJECTS_STORE;
}

projects_err vcs__open(projects_ctx *c, sb_str project_id, authz_action a, vcs__repo *r)
{
    memset(r, 0, sizeof(*r));
    projects_err pe = projects_project_authorize(c, project_id, a, true);
    if (pe != PROJECTS_OK)
        return pe;
    git_ensure();
    r->c = c;
    memcpy(r->project_id, project_id.ptr, project_id.len); /* an id: 36 bytes, checked */
    r->project_id[project_id.len] = '\0';
    git_odb *odb = NULL;
    git_odb_backend *be = NULL;
    int rc;
    if ((rc = git_repository_new(&r->git)) < 0 || (rc = git_odb_new(&odb)) < 0 ||
        (rc = vcs__odb_backend_new(&be, c->db, r->project_id)) < 0 ||
        (rc = git_odb_add_backend(odb, be, 1)) < 0) {
        if (be && rc < 0 && odb) /* not added: still ours */
            be->free(be);
        git_odb_free(odb);
        git_repository_free(r->git);
        r->git = NULL;
        return vcs__git_fail("opening a repository", rc);
    }
    git_repository_set_odb(r->git, odb);
    git_odb_free(odb); /* the repository holds it */
    return PROJECTS_OK;
}

void vcs__close(vcs__repo *r)
{
    git_repository_free(r->git);
    r->git = NULL;
}

projects_err vcs__ref_get(vcs__repo *r, const char *name, git_oid *out)
{
    store_stmt *st;
    sb_errbuf err = {{0}};
    store_err e = store_prepare(
        r->c->db, "SELECT oid FROM vcs_refs WHERE project_id = $1 AND name = $2", &st, &err);
    if (e != STORE_OK)
        return store_fail("reading a ref", e, &err);
    store_bind_cstr(st, 1, r->project_id);
    store_bind_cstr(st, 2, name);
    e = store_step(st, &err);
    if (e != STORE_ROW) {
        store_reset(st);
        return e == STORE_DONE ? PROJECTS_NOT_FOUND : store_fail("reading a ref", e, &err);
    }
    int rc = git_oid_fromstr(out, store_col_text(st, 0, NULL));
    store_reset(st);
    return rc < 0 ? vcs__git_fail("parsing a ref", rc) : PROJECTS_OK;
}

projects_err vcs__ref_set(vcs__repo *r, const char *name, const git_oid *oid, const git_oid *expect)
{
    char hex[GIT_OID_HEXSZ + 1], old[GIT_OID_HEXSZ + 1];
    git_oid_tostr(hex, sizeof(hex), oid);
    store_stmt *st;
    sb_errbuf err = {{0}};
    store_err e;
    if (!expect) {
        e = store_prepare(r->c->db,
                          "INSERT INTO vcs_refs (project_id, name, oid, updated_at) "
                          "VALUES ($1, $2, $3, $4) ON CONFLICT DO NOTHING",
                          &st, &err);
        if (e != STORE_OK)
            return store_fail("creating a ref", e, &err);
        store_bind_cstr(st, 1, r->project_id);
        store_bind_cstr(st, 2, name);
        store_bind_cstr(st, 3, hex);
        store_bind_int(st, 4, r->c->now_us);
    } else {
        git_oid_tostr(old, sizeof(old), expect);
        e = store_prepare(r->c->db,
                          "UPDATE vcs_refs SET oid = $3, updated_at = $4 "
                          "WHERE project_id = $1 AND name = $2 AND oid = $5",
                          &st, &err);
        if (e != STORE_OK)
            return store_fail("moving a ref", e, &err);
        store_bind_cstr(st, 1, r->project_id);
        store_bind_cstr(st, 2, name);
        store_bind_cstr(st, 3, hex);
        store_bind_int(st, 4, r->c->now_us);
        store_bind_cstr(st, 5, old);
    }
    e = store_step(st, &err);
    int64_t changed = store_changes(st);
    store_reset(st);
    if (e != STORE_DONE)
        return store_fail("writing a ref", e, &err);
    if (changed == 0)
        return expect ? PROJECTS_STALE : PROJECTS_CONFLICT;
    return PROJECTS_OK;
}

projects_err vcs__ref_delete(vcs__repo *r, const char *name)
{
    store_stmt *st;
    sb_errbuf err = {{0}};
    store_err e = store_prepare(
        r->c->db, "DELETE FROM vcs_refs WHERE project_id = $1 AND name = $2", &st, &err);
    if (e != STORE_OK)
        return store_fail("deleting a ref", e, &err);
    store_bind_cstr(st, 1, r->project_id);
    store_bind_cstr(st, 2, name);
    e = store_step(st, &err);
    int64_t changed = store_changes(st);
    store_reset(st);
    if (e != STORE_DONE)
        return store_fail("deleting a ref", e, &err);
    return changed ? PROJECTS_OK : PROJECTS_NOT_FOUND;
}

projects_err vcs__ref_list(vcs__repo *r, const char *prefix, sb_jw *out, sb_buf *text)
{
    store_stmt *st;
    sb_errbuf err = {{0}};
    /* byte order of names, as git sorts refs; the prefix is ours, not a client's */
    store_err e = store_prepare(r->c->db,
                                "SELECT name, oid FROM vcs_refs WHERE project_id = $1 "
                                "AND substr(name, 1, length($2)) = $2 ORDER BY name",
                                &st, &err);
    if (e != STORE_OK)
        return store_fail("listing refs", e, &err);
    store_bind_cstr(st, 1, r->project_id);
    store_bind_cstr(st, 2, prefix);
    if (out) {
        sb_jw_obj_begin(out);
        sb_jw_key(out, "items");
        sb_jw_arr_begin(out);
    }
    size_t plen = strlen(prefix);
    while ((e = store_step(st, &err)) == STORE_ROW) {
        const char *name = store_col_text(st, 0, NULL), *oid = store_col_text(st, 1, NULL);
        if (out) {
            sb_jw_obj_begin(out);
            sb_jw_kv_str(out, "name", name + plen);
            sb_jw_kv_str(out, "commit", oid);
            sb_jw_obj_end(out);
        }
        if (text)
            sb_buf_appendf(text, "%s\t%s\n", oid, name);
    }
    store_reset(st);
    if (e != STORE_DONE)
        return store_fail("listing refs", e, &err);
    if (out) {
        sb_jw_arr_end(out);
        sb_jw_obj_end(out);
    }
    return PROJECTS_OK;
}

bool vcs__name_ok(sb_str name, const char *prefix)
{
    if (name.len == 0 || name.len > VCS_REF_NAME_MAX)
        return false;
    for (size_t i = 0; i < name.len; i++) {
        unsigned char ch = (unsigned char)name.ptr[i];
        /* a narrower set than git's: names travel in URLs and JSON */
        if (!((ch >= 'a' && ch <= 'z') || (ch >= 'A' && ch <= 'Z') || (ch >= '0' && ch <= '9') ||
              ch == '-' || ch == '_' || ch == '.' || ch == '/'))
            return false;
    }
    char full[VCS__REF_CAP];
    int valid = 0;
    git_ensure(); /* a refused name sets libgit2's error */
    return git_reference_name_is_valid(&valid, vcs__ref_full(full, prefix, name)) == 0 && valid;
}

const char *vcs__ref_full(char *out, const char *prefix, sb_str name)
{
    snprintf(out, VCS__REF_CAP, "%s%.*s", prefix, (int)name.len, name.ptr);
    return out;
}

bool vcs__oid_hex_ok(sb_str s)
{
    if (s.len != GIT_OID_HEXSZ)
        return false;
    for (size_t i = 0; i < s.len; i++)
        if (!((s.ptr[i] >= '0' && s.ptr[i] <= '9') || (s.ptr[i] >= 'a' && s.ptr[i] <= 'f')))
            return false;
    return true;
}

bool vcs__oid_parse(sb_str s, git_oid *oid)
{
    git_ensure();
    /* fromstrn takes a shorter prefix too (padded with zeros): only 40. */
    return s.len == GIT_OID_HEXSZ && git_oid_fromstrn(oid, s.ptr, s.len) == 0;
}

projects_err vcs__resolve(vcs__repo *r, sb_str ref, const char *field, git_oid *out,
                          projects_problem *p)
{
    if (ref.len == 0)
        ref = SB_STR(VCS_DEFAULT_BRANCH);
    char full[VCS__REF_CAP];
    if (vcs__oid_hex_ok(ref) && vcs__oid_parse(ref, out)) {
        git_commit *cm;
        if (git_commit_lookup(&cm, r->git, out) == 0) {
            git_commit_free(cm);
            return PROJECTS_OK;
        }
    } else if (vcs__name_ok(ref, "refs/heads/")) {
        static const char *const prefixes[] = {"refs/heads/", "refs/tags/"};
        for (size_t i = 0; i < SB_ARRAY_LEN(prefixes); i++) {
            projects_err e = vcs__ref_get(r, vcs__ref_full(full, prefixes[i], ref), out);
            if (e != PROJECTS_NOT_FOUND)
                return e;
        }
    }
    p->field = field;
    snprintf(p->message, sizeof(p->message), "names no branch, tag or commit of the project");
    return PROJECTS_NOT_FOUND;
}

typedef struct files_walk {
    json_t *map;
} files_walk;

static int walk_cb(const char *root, const git_tree_entry *e, void *payload)
{
    files_walk *fw = payload;
    if (git_tree_entry_type(e) != GIT_OBJECT_BLOB)
        return 0;
    char hex[GIT_OID_HEXSZ + 1];
    git_oid_tostr(hex, sizeof(hex), git_tree_entry_id(e));
    sb_buf path = SB_BUF_INIT;
    sb_buf_appendf(&path, "%s%s", root, git_tree_entry_name(e));
    json_object_set_new(fw->map, path.ptr, json_string(hex));
    sb_buf_free(&path);
    return 0;
}

projects_err vcs__tree_files(vcs__repo *r, const git_tree *tree, json_t **out)
{
    (void)r;
    files_walk fw = {.map = json_object()};
    if (tree) {
        int rc = git_tree_walk(tree, GIT_TREEWALK_PRE, walk_cb, &fw);
        if (rc < 0) {
            json_decref(fw.map);
            return vcs__git_fail("walking a tree", rc);
        }
    }
    *out = fw.map;
    return PROJECTS_OK;
}

projects_err vcs__commit_files(vcs__repo *r, const git_oid *commit, json_t **out)
{
    git_commit *cm = NULL;
    git_tree *tree = NULL;
    int rc = git_commit_lookup(&cm, r->git, commit);
    if (rc == 0)
        rc = git_commit_tree(&tree, cm);
    projects_err pe =
        rc < 0 ? vcs__git_fail("reading a commit", rc) : vcs__tree_files(r, tree, out);
    git_tree_free(tree);
    git_commit_free(cm);
    return pe;
}

projects_err vcs__each_change(vcs__repo *r, const git_oid *from, const git_oid *to,
                              vcs__change_fn fn, void *ctx)
{
    json_t *fa = NULL, *fb = NULL;
    projects_err pe = vcs__commit_files(r, from, &fa);
    if (pe == PROJECTS_OK)
        pe = vcs__commit_files(r, to, &fb);
    if (pe == PROJECTS_OK) {
        json_t *keys = vcs__sorted_keys(fa, fb);
        size_t i;
        json_t *k;
        json_array_foreach(keys, i, k)
        {
            const char *path = json_string_value(k);
            const char *a = json_string_value(json_object_get(fa, path));
            const char *b = json_string_value(json_object_get(fb, path));
            if (a && b && strcmp(a, b) == 0)
                continue;
            if ((pe = fn(ctx, path, a, b)) != PROJECTS_OK)
                break;
        }
        json_decref(keys);
    }
    json_decref(fa);
    json_decref(fb);
    return pe;
}

git_blob *vcs__blob(vcs__repo *r, const char *hex)
{
    git_oid oid;
    git_blob *b = NULL;
    if (!hex || git_oid_fromstr(&oid, hex) < 0 || git_blob_lookup(&b, r->git, &oid) < 0)
        return NULL;
    return b;
}

bool vcs__is_page(const char *path)
{
    size_t n = strlen(path);
    return strncmp(path, "pages/", 6) == 0 && n > 11 && strcmp(path + n - 5, ".json") == 0 &&
           !strchr(path + 6, '/');
}

static void sig_json(sb_jw *w, const char *key, const git_signature *s)
{
    char t[SB_RFC3339_LEN];
    sb_jw_key(w, key);
    sb_jw_obj_begin(w);
    sb_jw_kv_str(w, "name", s->name);
    sb_jw_kv_str(w, "email", s->email);
    sb_jw_kv_str(w, "time", sb_rfc3339((int64_t)s->when.time * 1000000, t));
    sb_jw_obj_end(w);
}

void vcs__commit_json(sb_jw *w, const git_commit *cm)
{
    char hex[GIT_OID_HEXSZ + 1];
    sb_jw_obj_begin(w);
    sb_jw_kv_str(w, "id", git_oid_tostr(hex, sizeof(hex), git_commit_id(cm)));
    sb_jw_kv_str(w, "tree", git_oid_tostr(hex, sizeof(hex), git_commit_tree_id(cm)));
    sb_jw_key(w, "parents");
    sb_jw_arr_begin(w);
    for (unsigned i = 0; i < git_commit_parentcount(cm); i++)
        sb_jw_str(w, git_oid_tostr(hex, sizeof(hex), git_commit_parent_id(cm, i)));
    sb_jw_arr_end(w);
    sig_json(w, "author", git_commit_author(cm));
    sig_json(w, "committer", git_commit_committer(cm));
    sb_jw_kv_str(w, "message", git_commit_message(cm));
    sb_jw_obj_end(w);
}

/* The caller as a git signature: username (or the email's local part)
 * and email, now. */
static projects_err signature(vcs__repo *r, git_signature **out)
{
    char name[256] = "sitebase", email[256] = "sitebase@localhost";
    if (r->c->caller.user_id) {
        store_stmt *st;
        sb_errbuf err = {{0}};
        store_err e =
            store_prepare(r->c->db, "SELECT username, email FROM users WHERE id = $1", &st, &err);
        if (e != STORE_OK)
            return store_fail("reading the author", e, &err);
        store_bind_cstr(st, 1, r->c->caller.user_id);
        if ((e = store_step(st, &err)) == STORE_ROW) {
            const char *u = store_col_text(st, 0, NULL), *m = store_col_text(st, 1, NULL);
            snprintf(email, sizeof(email), "%s", m ? m : email);
            if (u && *u)
                snprintf(name, sizeof(name), "%s", u);
            else
                snprintf(name, sizeof(name), "%.*s", (int)strcspn(email, "@"), email);
        }
        store_reset(st);
        if (e != STORE_ROW && e != STORE_DONE)
            return store_fail("reading the author", e, &err);
    }
    int rc = git_signature_new(out, name, email, (git_time_t)(r->c->now_us / 1000000), 0);
    return rc < 0 ? vcs__git_fail("making a signature", rc) : PROJECTS_OK;
}

projects_err vcs__commit_tree(vcs__repo *r, const git_oid *tree_id, const git_oid *const *parents,
                              size_t nparents, const char *message, git_oid *out)
{
    git_signature *sig = NULL;
    projects_err pe = signature(r, &sig);
    if (pe != PROJECTS_OK)
        return pe;
    git_tree *tree = NULL;
    const git_commit *pc[2] = {NULL, NULL};
    int rc = git_tree_lookup(&tree, r->git, tree_id);
    for (size_t i = 0; rc == 0 && i < nparents && i < 2; i++)
        rc = git_commit_lookup((git_commit **)&pc[i], r->git, parents[i]);
    if (rc == 0)
        rc = git_commit_create(out, r->git, NULL, sig, sig, "UTF-8", message, tree, nparents, pc);
    for (size_t i = 0; i < 2; i++)
        git_commit_free((git_commit *)pc[i]);
    git_tree_free(tree);
    git_signature_free(sig);
    return rc < 0 ? vcs__git_fail("writing a commit", rc) : PROJECTS_OK;
}

projects_err vcs__commit_out(vcs__repo *r, const git_oid *oid, sb_jw *out)
{
    git_commit *cm;
    int rc = git_commit_lookup(&cm, r->git, oid);
    if (rc < 0)
        return vcs__git_fail("reading a commit", rc);
    vcs__commit_json(out, cm);
    git_commit_free(cm);
    return PROJECTS_OK;
}
