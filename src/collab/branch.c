/*
 * branch.c: the documents of a version-control branch (docs/vcs.md,
 * "Branch rooms"). A branch is a namespace of documents: the names of
 * API.md (page:<id>, code:<path>, style:<name>, component:<id>) are the
 * default branch's live documents, and "branch/<name>/" before any of
 * them names the same document on branch <name>. A client switches to a
 * branch by connecting to those names; each is a room of its own, stored
 * and durable like any other, and nothing here knows about git.
 *
 * Where a branch document's content comes from and goes to is not the
 * live project's: the hub's binding (seed, materialise) is split here,
 * branch documents to the branch binding (api/branch_rooms.c: seeded from
 * the branch head, never materialised into pages and files), the others
 * to the binding they had.
 */
#include <string.h>

#include "collab/collab_int.h"

#define PREFIX     "branch/"
#define PREFIX_LEN (sizeof(PREFIX) - 1)

static bool name_char(unsigned char ch)
{
    /* vcs__name_ok's set; git's further rules are the admission's
     * (a branch that does not exist is refused there) */
    return (ch >= 'a' && ch <= 'z') || (ch >= 'A' && ch <= 'Z') || (ch >= '0' && ch <= '9') ||
           ch == '-' || ch == '_' || ch == '.' || ch == '/';
}

bool collab_doc_branch(sb_str doc, sb_str *branch, sb_str *rest)
{
    if (doc.len <= PREFIX_LEN || memcmp(doc.ptr, PREFIX, PREFIX_LEN) != 0)
        return false;
    /* Branch names have no colon and kinds no slash: the document part
     * starts after the last slash before the first colon. */
    const char *colon = memchr(doc.ptr, ':', doc.len);
    if (!colon)
        return false;
    const char *slash = NULL;
    for (const char *q = doc.ptr + PREFIX_LEN; q < colon; q++)
        if (*q == '/')
            slash = q;
    if (!slash || slash == doc.ptr + PREFIX_LEN)
        return false;
    for (const char *q = doc.ptr + PREFIX_LEN; q < slash; q++)
        if (!name_char((unsigned char)*q))
            return false;
    *branch = sb_str_make(doc.ptr + PREFIX_LEN, (size_t)(slash - doc.ptr) - PREFIX_LEN);
    *rest = sb_str_make(slash + 1, doc.len - (size_t)(slash + 1 - doc.ptr));
    return rest->len > 0;
}

static bool is_branch(const char *doc)
{
    sb_str b, rest;
    return collab_doc_branch(sb_str_c(doc), &b, &rest);
}

static bool split_seed(void *ctx, store *db, const char *project_id, const char *doc, crdt_doc *d,
                       bool empty, sb_buf *update, int64_t *version, sb_errbuf *err)
{
    collab_hub *h = ctx;
    const collab_binding *b = is_branch(doc) ? &h->branch_bind : &h->inner_bind;
    *version = 0;
    return b->seed ? b->seed(b->ctx, db, project_id, doc, d, empty, update, version, err) : true;
}

static void split_materialise(void *ctx, store *db, const char *project_id, const char *doc,
                              const char *json, size_t n, int64_t if_ver, int64_t *version)
{
    collab_hub *h = ctx;
    const collab_binding *b = is_branch(doc) ? &h->branch_bind : &h->inner_bind;
    *version = 0;
    if (b->materialise)
        b->materialise(b->ctx, db, project_id, doc, json, n, if_ver, version);
}

static bool split_binds(void *ctx, const char *doc)
{
    collab_hub *h = ctx;
    const collab_binding *b = is_branch(doc) ? &h->branch_bind : &h->inner_bind;
    if (!b->materialise)
        return false;
    return b->binds ? b->binds(b->ctx, doc) : true;
}

static void split_user_left(void *ctx, net_loop *loop, const char *project_id, const char *user_id)
{
    collab_hub *h = ctx;
    /* a user is a project's member across branches: locks are the live ones */
    if (h->inner_bind.on_user_left)
        h->inner_bind.on_user_left(h->inner_bind.ctx, loop, project_id, user_id);
}

void collab_branch_bind(collab_hub *h, const collab_binding *b)
{
    h->inner_bind = h->bind;
    h->branch_bind = *b;
    h->bind = (collab_binding){.ctx = h,
                               .seed = split_seed,
                               .materialise = split_materialise,
                               .binds = split_binds,
                               .on_user_left = split_user_left};
}
