/*
 * odb.c: a libgit2 object database backend over the store: the objects of
 * one project are rows of vcs_objects (project_id, oid, type, data), so
 * every node that shares the database reads and writes the same
 * repository, and an object already there is not written again (objects
 * are named by their content: identical content is one row).
 *
 * The backend runs the caller's statements on the caller's connection, in
 * the caller's transaction if one is open. It stores objects whole and
 * uncompressed (the store compresses pages as it likes); packs are not
 * supported: writes come one object at a time from libgit2.
 */
#include <git2/sys/odb_backend.h>
#include <string.h>

#include "vcs/vcs_int.h"

typedef struct store_backend {
    git_odb_backend parent;
    store *db;
    const char *project_id;
} store_backend;

static int fail(const char *what, store_err e, const sb_errbuf *err)
{
    sb_log(SB_LOG_ERROR, "vcs object store failed", SB_LOG_STR("what", what),
           SB_LOG_STR("error", err->msg));
    git_error_set_str(GIT_ERROR_ODB, store_strerror(e));
    return GIT_ERROR;
}

/* Reads the row of oid: STORE_ROW with st positioned on it (the caller
 * resets), STORE_DONE when absent, or an error. */
static store_err lookup(store_backend *b, const char *sql, const git_oid *oid, store_stmt **st,
                        sb_errbuf *err)
{
    char hex[GIT_OID_HEXSZ + 1];
    git_oid_tostr(hex, sizeof(hex), oid);
    store_err e = store_prepare(b->db, sql, st, err);
    if (e != STORE_OK)
        return e;
    store_bind_cstr(*st, 1, b->project_id);
    store_bind_text(*st, 2, hex, GIT_OID_HEXSZ);
    e = store_step(*st, err);
    if (e != STORE_ROW)
        store_reset(*st);
    return e;
}

static int be_read(void **data, size_t *len, git_object_t *type, git_odb_backend *be,
                   const git_oid *oid)
{
    store_backend *b = (store_backend *)be;
    store_stmt *st;
    sb_errbuf err = {{0}};
    store_err e = lookup(b, "SELECT type, data FROM vcs_objects WHERE project_id = $1 AND oid = $2",
                         oid, &st, &err);
    if (e == STORE_DONE)
        return GIT_ENOTFOUND;
    if (e != STORE_ROW)
        return fail("reading an object", e, &err);
    size_t n;
    const void *p = store_col_blob(st, 1, &n);
    *type = (git_object_t)store_col_int(st, 0);
    *len = n;
    *data = git_odb_backend_data_alloc(be, n ? n : 1);
    if (!*data)
        sb_die("out of memory reading a git object");
    if (n)
        memcpy(*data, p, n);
    store_reset(st);
    return 0;
}

static int be_read_header(size_t *len, git_object_t *type, git_odb_backend *be, const git_oid *oid)
{
    store_backend *b = (store_backend *)be;
    store_stmt *st;
    sb_errbuf err = {{0}};
    store_err e =
        lookup(b, "SELECT type, length(data) FROM vcs_objects WHERE project_id = $1 AND oid = $2",
               oid, &st, &err);
    if (e == STORE_DONE)
        return GIT_ENOTFOUND;
    if (e != STORE_ROW)
        return fail("reading an object's header", e, &err);
    *type = (git_object_t)store_col_int(st, 0);
    *len = (size_t)store_col_int(st, 1);
    store_reset(st);
    return 0;
}

static int be_exists(git_odb_backend *be, const git_oid *oid)
{
    store_backend *b = (store_backend *)be;
    store_stmt *st;
    sb_errbuf err = {{0}};
    store_err e =
        lookup(b, "SELECT 1 FROM vcs_objects WHERE project_id = $1 AND oid = $2", oid, &st, &err);
    if (e == STORE_ROW) {
        store_reset(st);
        return 1;
    }
    if (e != STORE_DONE)
        fail("looking an object up", e, &err);
    return 0; /* libgit2's exists() answers yes or no only */
}

static int be_write(git_odb_backend *be, const git_oid *oid, const void *data, size_t len,
                    git_object_t type)
{
    store_backend *b = (store_backend *)be;
    char hex[GIT_OID_HEXSZ + 1];
    git_oid_tostr(hex, sizeof(hex), oid);
    store_stmt *st;
    sb_errbuf err = {{0}};
    /* Content-addressed: a row already there holds these very bytes. */
    store_err e = store_prepare(b->db,
                                "INSERT INTO vcs_objects (project_id, oid, type, data) "
                                "VALUES ($1, $2, $3, $4) ON CONFLICT DO NOTHING",
                                &st, &err);
    if (e != STORE_OK)
        return fail("writing an object", e, &err);
    store_bind_cstr(st, 1, b->project_id);
    store_bind_text(st, 2, hex, GIT_OID_HEXSZ);
    store_bind_int(st, 3, type);
    store_bind_blob(st, 4, len ? data : "", len);
    e = store_step(st, &err);
    store_reset(st);
    return e == STORE_DONE ? 0 : fail("writing an object", e, &err);
}

static void be_free(git_odb_backend *be)
{
    free(be);
}

int vcs__odb_backend_new(git_odb_backend **out, store *db, const char *project_id)
{
    store_backend *b = calloc(1, sizeof(*b));
    if (!b)
        sb_die("out of memory making an object store");
    git_odb_init_backend(&b->parent, GIT_ODB_BACKEND_VERSION);
    b->db = db;
    b->project_id = project_id;
    b->parent.read = be_read;
    b->parent.read_header = be_read_header;
    b->parent.write = be_write;
    b->parent.exists = be_exists;
    b->parent.free = be_free;
    *out = &b->parent;
    return 0;
}
