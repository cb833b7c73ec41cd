/*
 * merge.c: three-way merge of two branches and rollback.
 *
 * The merge compares the trees of the merge base, the target (ours) and
 * the source (theirs) path by path: a path one side left alone takes the
 * other's version; paths both changed merge by kind, pages structurally
 * (vcs_page_merge), other files through libgit2's line merge
 * (git_merge_file). Conflicts are returned, nothing is written, until the
 * caller resolves every one by id; the merge is stateless (any node can
 * finish it), and expect_target/expect_source pin the heads the
 * resolutions were made against.
 */
#include <string.h>

#include "vcs/vcs_int.h"

typedef struct merge_state {
    vcs__repo *r;
    const json_t *resolutions;
    json_t *conflicts;
    git_tree_update *u;
    size_t n, cap;
    git_oid *ids; /* the blobs of upserts, parallel to u */
    char **paths;
} merge_state;

static void update(merge_state *m, const char *path, const git_oid *oid)
{
    if (m->n == m->cap) {
        m->cap = m->cap ? 2 * m->cap : 32;
        m->u = realloc(m->u, m->cap * sizeof(*m->u));
        m->paths = realloc(m->paths, m->cap * sizeof(*m->paths));
        if (!m->u || !m->paths)
            sb_die("out of memory merging");
    }
    m->paths[m->n] = strdup(path);
    if (!m->paths[m->n])
        sb_die("out of memory merging");
    m->u[m->n] = (git_tree_update){.action = oid ? GIT_TREE_UPDATE_UPSERT : GIT_TREE_UPDATE_REMOVE,
                                   .filemode = GIT_FILEMODE_BLOB,
                                   .path = m->paths[m->n]};
    if (oid)
        m->u[m->n].id = *oid;
    m->n++;
}

static json_t *text_of(git_blob *b)
{
    return b ? json_stringn_nocheck(git_blob_rawcontent(b), (size_t)git_blob_rawsize(b)) : NULL;
}

static void file_conflict(merge_state *m, const char *path, const char *kind, git_blob *b,
                          git_blob *o, git_blob *t, const char *merged, size_t merged_len)
{
    json_t *c = json_object();
    json_object_set_new(c, "id", json_string(path));
    json_object_set_new(c, "path", json_string(path));
    json_object_set_new(c, "kind", json_string(kind));
    json_t *jb = text_of(b), *jo = text_of(o), *jt = text_of(t);
    json_object_set_new(c, "base", jb ? jb : json_null());
    json_object_set_new(c, "ours", jo ? jo : json_null());
    json_object_set_new(c, "theirs", jt ? jt : json_null());
    if (merged)
        json_object_set_new(c, "merged", json_stringn_nocheck(merged, merged_len));
    json_array_append_new(m->conflicts, c);
}

/* A whole-path resolution: *chosen is the hex (NULL: deleted) of the side
 * picked, or value a written blob. false: unresolved. */
static int resolve_path(merge_state *m, const char *path, const char *hb, const char *ho,
                        const char *ht, git_oid *oid, bool *deleted, bool *resolved)
{
    const json_t *res = m->resolutions ? json_object_get(m->resolutions, path) : NULL;
    const char *s = json_string_value(res);
    const char *pick = NULL;
    *resolved = true;
    *deleted = false;
    if (s && strcmp(s, "ours") == 0)
        pick = ho, *deleted = !ho;
    else if (s && strcmp(s, "theirs") == 0)
        pick = ht, *deleted = !ht;
    else if (s && strcmp(s, "base") == 0)
        pick = hb, *deleted = !hb;
    else if (json_is_object(res) && json_is_string(json_object_get(res, "value")) &&
             !vcs__is_page(path)) {
        /* a page takes a side by path, or values by component and prop */
        const json_t *v = json_object_get(res, "value");
        return git_blob_create_from_buffer(oid, m->r->git, json_string_value(v),
                                           json_string_length(v));
    } else {
        *resolved = false;
        return 0;
    }
    if (pick)
        git_oid_fromstr(oid, pick);
    return 0;
}

static projects_err merge_page(merge_state *m, const char *path, git_blob *b, git_blob *o,
                               git_blob *t)
{
    json_t *jb =
        b ? json_loadb(git_blob_rawcontent(b), (size_t)git_blob_rawsize(b), 0, NULL) : NULL;
    json_t *jo = json_loadb(git_blob_rawcontent(o), (size_t)git_blob_rawsize(o), 0, NULL);
    json_t *jt = json_loadb(git_blob_rawcontent(t), (size_t)git_blob_rawsize(t), 0, NULL);
    json_t *merged =
        jo && jt ? vcs_page_merge(jb, jo, jt, path, m->resolutions, m->conflicts) : NULL;
    projects_err pe = PROJECTS_OK;
    if (!merged) {
        /* a side that is not a page tree: merge it as a whole */
        file_conflict(m, path, "content", b, o, t, NULL, 0);
    } else {
        char *s = json_dumps(merged, JSON_INDENT(2) | JSON_PRESERVE_ORDER);
        sb_buf buf = SB_BUF_INIT;
        sb_buf_puts(&buf, s);
        sb_buf_putc(&buf, '\n');
        free(s);
        git_oid oid;
        int rc = git_blob_create_from_buffer(&oid, m->r->git, buf.ptr, buf.len);
        sb_buf_free(&buf);
        if (rc < 0)
            pe = vcs__git_fail("writing a merged page", rc);
        else
            update(m, path, &oid);
    }
    json_decref(merged);
    json_decref(jb);
    json_decref(jo);
    json_decref(jt);
    return pe;
}

static projects_err merge_text(merge_state *m, const char *path, git_blob *b, git_blob *o,
                               git_blob *t)
{
    git_merge_file_input ib, io, it;
    git_merge_file_input_init(&ib, GIT_MERGE_FILE_INPUT_VERSION);
    git_merge_file_input_init(&io, GIT_MERGE_FILE_INPUT_VERSION);
    git_merge_file_input_init(&it, GIT_MERGE_FILE_INPUT_VERSION);
    if (b) {
        ib.ptr = git_blob_rawcontent(b);
        ib.size = (size_t)git_blob_rawsize(b);
    }
    ib.path = io.path = it.path = path;
    ib.mode = io.mode = it.mode = GIT_FILEMODE_BLOB;
    io.ptr = git_blob_rawcontent(o);
    io.size = (size_t)git_blob_rawsize(o);
    it.ptr = git_blob_rawcontent(t);
    it.size = (size_t)git_blob_rawsize(t);
    git_merge_file_options opts;
    git_merge_file_options_init(&opts, GIT_MERGE_FILE_OPTIONS_VERSION);
    opts.ancestor_label = "base";
    opts.our_label = "ours";
    opts.their_label = "theirs";
    git_merge_file_result res = {0};
    int rc = git_merge_file(&res, &ib, &io, &it, &opts);
    if (rc < 0)
        return vcs__git_fail("merging a file", rc);
    projects_err pe = PROJECTS_OK;
    if (res.automergeable) {
        git_oid oid;
        rc = git_blob_create_from_buffer(&oid, m->r->git, res.ptr, res.len);
        if (rc < 0)
            pe = vcs__git_fail("writing a merged file", rc);
        else
            update(m, path, &oid);
    } else {
        file_conflict(m, path, "content", b, o, t, res.ptr, res.len);
    }
    git_merge_file_result_free(&res);
    return pe;
}

static projects_err merge_path(merge_state *m, const char *path, const char *hb, const char *ho,
                               const char *ht)
{
#define SAME(x, y) ((!(x) && !(y)) || ((x) && (y) && strcmp((x), (y)) == 0))
    if (SAME(ho, hb) && !SAME(ht, hb)) {
        git_oid oid;
        if (ht)
            git_oid_fromstr(&oid, ht);
        update(m, path, ht ? &oid : NULL);
        return PROJECTS_OK;
    }
    if (SAME(ht, hb) || SAME(ho, ht))
        return PROJECTS_OK; /* ours stands */
#undef SAME
    git_oid oid;
    bool deleted, resolved;
    git_blob *b = vcs__blob(m->r, hb), *o = vcs__blob(m->r, ho), *t = vcs__blob(m->r, ht);
    projects_err pe = PROJECTS_OK;
    if (!o || !t) {
        /* deleted on one side, changed on the other */
        int rc = resolve_path(m, path, hb, ho, ht, &oid, &deleted, &resolved);
        if (rc < 0)
            pe = vcs__git_fail("writing a resolution", rc);
        else if (!resolved)
            file_conflict(m, path, "delete", b, o, t, NULL, 0);
        else
            update(m, path, deleted ? NULL : &oid);
    } else {
        /* a resolution by path takes a side (or a text) for the whole file
         * or page; otherwise the merge goes in by kind */
        int rc = resolve_path(m, path, hb, ho, ht, &oid, &deleted, &resolved);
        if (rc < 0)
            pe = vcs__git_fail("writing a resolution", rc);
        else if (resolved)
            update(m, path, deleted ? NULL : &oid);
        else if (vcs__is_page(path))
            pe = merge_page(m, path, b, o, t);
        else
            pe = merge_text(m, path, b, o, t);
    }
    git_blob_free(b);
    git_blob_free(o);
    git_blob_free(t);
    return pe;
}

static projects_err files_of(vcs__repo *r, const git_oid *commit, git_tree **tree, json_t **files)
{
    git_commit *cm = NULL;
    int rc = git_commit_lookup(&cm, r->git, commit);
    if (rc == 0)
        rc = git_commit_tree(tree, cm);
    git_commit_free(cm);
    if (rc < 0)
        return vcs__git_fail("reading a commit", rc);
    return vcs__tree_files(r, *tree, files);
}

static bool is_default(sb_str b)
{
    return sb_str_eq(b, SB_STR(VCS_DEFAULT_BRANCH));
}

static projects_err invalid(projects_problem *p, const char *field, const char *msg)
{
    p->field = field;
    snprintf(p->message, sizeof(p->message), "%s", msg);
    return PROJECTS_INVALID;
}

projects_err vcs_merge(projects_ctx *c, sb_str project_id, const vcs_merge_input *in, sb_jw *out,
                       projects_problem *p)
{
    sb_str target = in->target.len ? in->target : SB_STR(VCS_DEFAULT_BRANCH);
    if (!vcs__name_ok(in->source, "refs/heads/"))
        return invalid(p, "source", "must be a branch name");
    if (!vcs__name_ok(target, "refs/heads/"))
        return invalid(p, "target", "must be a branch name");
    if (sb_str_eq(target, in->source))
        return invalid(p, "source", "must differ from target");
    if (in->message.len > VCS_MESSAGE_MAX)
        return invalid(p, "message", "must be at most 65536 bytes");
    if (in->resolutions && !json_is_object(in->resolutions))
        return invalid(p, "resolutions", "must be an object of conflict id to resolution");
    git_oid want_t, want_s;
    if (in->expect_target.len && !vcs__oid_parse(in->expect_target, &want_t))
        return invalid(p, "expect_target", "must be a commit id");
    if (in->expect_source.len && !vcs__oid_parse(in->expect_source, &want_s))
        return invalid(p, "expect_source", "must be a commit id");
    vcs__repo r;
    projects_err pe = vcs__open(c, project_id, is_default(target) ? AUTHZ_MANAGE : AUTHZ_EDIT, &r);
    if (pe != PROJECTS_OK)
        return pe;
    char tref[VCS__REF_CAP], sref[VCS__REF_CAP];
    vcs__ref_full(tref, "refs/heads/", target);
    vcs__ref_full(sref, "refs/heads/", in->source);
    git_oid ours, theirs, base;
    pe = vcs__ref_get(&r, tref, &ours);
    if (pe == PROJECTS_NOT_FOUND)
        p->field = "target", snprintf(p->message, sizeof(p->message), "no such branch");
    if (pe == PROJECTS_OK && (pe = vcs__ref_get(&r, sref, &theirs)) == PROJECTS_NOT_FOUND)
        p->field = "source", snprintf(p->message, sizeof(p->message), "no such branch");
    if (pe == PROJECTS_OK && ((in->expect_target.len && !git_oid_equal(&want_t, &ours)) ||
                              (in->expect_source.len && !git_oid_equal(&want_s, &theirs))))
        pe = PROJECTS_STALE;
    int rc = 0;
    if (pe == PROJECTS_OK && (rc = git_merge_base(&base, r.git, &ours, &theirs)) < 0)
        pe = rc == GIT_ENOTFOUND ? invalid(p, "source", "shares no history with target")
                                 : vcs__git_fail("finding the merge base", rc);
    char hex[GIT_OID_HEXSZ + 1];
    if (pe == PROJECTS_OK && git_oid_equal(&base, &theirs)) {
        sb_jw_obj_begin(out); /* the source is in the target already */
        sb_jw_kv_str(out, "commit", git_oid_tostr(hex, sizeof(hex), &ours));
        sb_jw_kv_bool(out, "fast_forward", false);
        sb_jw_kv_bool(out, "up_to_date", true);
        sb_jw_obj_end(out);
        vcs__close(&r);
        return PROJECTS_OK;
    }
    bool resolved = in->resolutions && json_object_size(in->resolutions);
    vcs__move mv = {.type = resolved ? "vcs_merge_resolved" : "vcs_merge",
                    .ref = tref,
                    .old = &ours,
                    .source = sref + 11,
                    .source_head = &theirs,
                    .resolved = in->resolutions};
    if (pe == PROJECTS_OK && git_oid_equal(&base, &ours)) {
        mv.now = &theirs;
        mv.fast_forward = true;
        pe = vcs__ref_move(&r, &mv);
        if (pe == PROJECTS_OK && is_default(target))
            pe = vcs__apply_live(&r, &ours, &theirs);
        if (pe == PROJECTS_OK) {
            sb_jw_obj_begin(out);
            sb_jw_kv_str(out, "commit", git_oid_tostr(hex, sizeof(hex), &theirs));
            sb_jw_kv_bool(out, "fast_forward", true);
            sb_jw_kv_bool(out, "up_to_date", false);
            sb_jw_obj_end(out);
        }
        vcs__close(&r);
        return pe;
    }
    git_tree *tb = NULL, *to = NULL, *tt = NULL;
    json_t *fb = NULL, *fo = NULL, *ft = NULL;
    merge_state m = {.r = &r, .resolutions = in->resolutions, .conflicts = json_array()};
    if (pe == PROJECTS_OK)
        pe = files_of(&r, &base, &tb, &fb);
    if (pe == PROJECTS_OK)
        pe = files_of(&r, &ours, &to, &fo);
    if (pe == PROJECTS_OK)
        pe = files_of(&r, &theirs, &tt, &ft);
    if (pe == PROJECTS_OK) {
        json_t *keys = vcs__sorted_keys(fo, ft);
        /* a path only base has was deleted on both sides: not in keys */
        size_t i;
        json_t *k;
        json_array_foreach(keys, i, k)
        {
            const char *path = json_string_value(k);
            pe = merge_path(&m, path, json_string_value(json_object_get(fb, path)),
                            json_string_value(json_object_get(fo, path)),
                            json_string_value(json_object_get(ft, path)));
            if (pe != PROJECTS_OK)
                break;
        }
        json_decref(keys);
    }
    if (pe == PROJECTS_OK && json_array_size(m.conflicts)) {
        sb_jw_obj_begin(out);
        sb_jw_key(out, "conflicts");
        sb_jw_json(out, m.conflicts);
        sb_jw_kv_str(out, "target_head", git_oid_tostr(hex, sizeof(hex), &ours));
        sb_jw_kv_str(out, "source_head", git_oid_tostr(hex, sizeof(hex), &theirs));
        sb_jw_obj_end(out);
        pe = PROJECTS_CONFLICT;
    } else if (pe == PROJECTS_OK) {
        git_oid tree, cm;
        rc = git_tree_create_updated(&tree, r.git, to, m.n, m.u);
        if (rc < 0)
            pe = vcs__git_fail("writing the merged tree", rc);
        if (pe == PROJECTS_OK) {
            sb_buf msg = SB_BUF_INIT;
            if (in->message.len)
                sb_buf_append(&msg, in->message.ptr, in->message.len);
            else
                sb_buf_appendf(&msg, "Merge branch '%.*s' into %.*s\n", (int)in->source.len,
                               in->source.ptr, (int)target.len, target.ptr);
            const git_oid *parents[2] = {&ours, &theirs};
            pe = vcs__commit_tree(&r, &tree, parents, 2, msg.ptr, &cm);
            sb_buf_free(&msg);
        }
        if (pe == PROJECTS_OK) {
            mv.now = &cm;
            mv.with_commit = true;
            pe = vcs__ref_move(&r, &mv);
        }
        if (pe == PROJECTS_OK && is_default(target))
            pe = vcs__apply_live(&r, &ours, &cm);
        if (pe == PROJECTS_OK) {
            sb_jw_obj_begin(out);
            sb_jw_kv_str(out, "commit", git_oid_tostr(hex, sizeof(hex), &cm));
            sb_jw_kv_bool(out, "fast_forward", false);
            sb_jw_kv_bool(out, "up_to_date", false);
            sb_jw_obj_end(out);
        }
    }
    for (size_t i = 0; i < m.n; i++)
        free(m.paths[i]);
    free(m.paths);
    free(m.u);
    json_decref(m.conflicts);
    json_decref(fb);
    json_decref(fo);
    json_decref(ft);
    git_tree_free(tb);
    git_tree_free(to);
    git_tree_free(tt);
    vcs__close(&r);
    return pe;
}

projects_err vcs_rollback(projects_ctx *c, sb_str project_id, sb_str branch, sb_str to,
                          sb_str message, sb_jw *out, projects_problem *p)
{
    if (branch.len == 0)
        branch = SB_STR(VCS_DEFAULT_BRANCH);
    if (!vcs__name_ok(branch, "refs/heads/"))
        return invalid(p, "branch", "must be a branch name");
    if (message.len > VCS_MESSAGE_MAX)
        return invalid(p, "message", "must be at most 65536 bytes");
    vcs__repo r;
    projects_err pe = vcs__open(c, project_id, is_default(branch) ? AUTHZ_MANAGE : AUTHZ_EDIT, &r);
    if (pe != PROJECTS_OK)
        return pe;
    char ref[VCS__REF_CAP];
    vcs__ref_full(ref, "refs/heads/", branch);
    git_oid head, target, cm;
    git_commit *tc = NULL;
    pe = vcs__ref_get(&r, ref, &head);
    if (pe == PROJECTS_NOT_FOUND)
        p->field = "branch", snprintf(p->message, sizeof(p->message), "no such branch");
    if (pe == PROJECTS_OK)
        pe = vcs__resolve(&r, to, "to", &target, p);
    int rc;
    if (pe == PROJECTS_OK && (rc = git_commit_lookup(&tc, r.git, &target)) < 0)
        pe = vcs__git_fail("reading a commit", rc);
    char hex[GIT_OID_HEXSZ + 1];
    if (pe == PROJECTS_OK) {
        /* the branch's content becomes to's; history keeps what is undone */
        sb_buf msg = SB_BUF_INIT;
        if (message.len)
            sb_buf_append(&msg, message.ptr, message.len);
        else
            sb_buf_appendf(&msg, "Roll back %.*s to %s\n", (int)branch.len, branch.ptr,
                           git_oid_tostr(hex, sizeof(hex), &target));
        const git_oid *parents[1] = {&head};
        pe = vcs__commit_tree(&r, git_commit_tree_id(tc), parents, 1, msg.ptr, &cm);
        sb_buf_free(&msg);
    }
    if (pe == PROJECTS_OK) {
        vcs__move m = {.type = "vcs_rollback",
                       .ref = ref,
                       .old = &head,
                       .now = &cm,
                       .with_commit = true,
                       .to = &target};
        pe = vcs__ref_move(&r, &m);
    }
    if (pe == PROJECTS_OK && is_default(branch))
        pe = vcs__apply_live(&r, &head, &cm);
    if (pe == PROJECTS_OK)
        pe = vcs__commit_out(&r, &cm, out);
    git_commit_free(tc);
    vcs__close(&r);
    return pe;
}
