/*
 * assets.c: a project's uploaded files (images, fonts, media). The bytes
 * live in the blob store under their SHA-256, so identical uploads, in any
 * project, are stored once; each asset row holds one reference to its
 * blob, taken in the transaction that inserts the row and given back in
 * the one that deletes it (or its project, or its team). Bytes nobody
 * references go at the next blob_gc.
 *
 * The type is what libmagic finds in the bytes (blob_sniff), never what
 * the client claims. Assets are never rewritten: a new version is a new
 * upload, so an asset's id names the same bytes for ever.
 *
 * Access: editors upload and delete. Anyone who can read the project's
 * pages reads its assets, because pages show them: guests of the project
 * (whatever was shared with them), and, on a public project, everyone.
 */
#include <string.h>

#include "base/clock.h"
#include "base/log.h"
#include "base/vec.h"
#include "projects/projects_int.h"

#define ASSET_COLS         "id, project_id, sha256, type, size, filename, created_by, created_at"
#define FILENAME_MAX_CHARS 255

static void write_asset(sb_jw *w, store_stmt *st)
{
    char t[SB_RFC3339_LEN], url[160];
    const char *id = store_col_text(st, 0, NULL);
    snprintf(url, sizeof(url), "/api/projects/%s/assets/%s/content", store_col_text(st, 1, NULL),
             id);
    sb_jw_obj_begin(w);
    sb_jw_kv_str(w, "id", id);
    sb_jw_kv_str(w, "sha256", store_col_text(st, 2, NULL));
    sb_jw_kv_str(w, "type", store_col_text(st, 3, NULL));
    sb_jw_kv_int(w, "size", store_col_int(st, 4));
    sb_jw_kv_str(w, "filename", store_col_is_null(st, 5) ? NULL : store_col_text(st, 5, NULL));
    sb_jw_kv_str(w, "url", url);
    sb_jw_kv_str(w, "created_by", store_col_text(st, 6, NULL));
    sb_jw_kv_str(w, "created_at", sb_rfc3339(store_col_int(st, 7), t));
    sb_jw_obj_end(w);
}

static void read_meta(store_stmt *st, projects_asset *a)
{
    snprintf(a->id, sizeof(a->id), "%s", store_col_text(st, 0, NULL));
    snprintf(a->sha256, sizeof(a->sha256), "%s", store_col_text(st, 2, NULL));
    snprintf(a->type, sizeof(a->type), "%s", store_col_text(st, 3, NULL));
    a->size = store_col_int(st, 4);
    snprintf(a->filename, sizeof(a->filename), "%s",
             store_col_is_null(st, 5) ? "" : store_col_text(st, 5, NULL));
}

/* The project for an asset action, with the item facts of assets. */
static projects_err authorize(projects_ctx *c, sb_str project_id, authz_action a,
                              projects__proj *pr)
{
    projects_err r = projects__project(c, project_id, AUTHZ_READ, pr);
    if (r != PROJECTS_OK)
        return r;
    pr->r.item = true;
    pr->r.published = true; /* what public pages show */
    pr->r.shared = true;    /* what shared pages show */
    return a == AUTHZ_READ ? PROJECTS_OK : projects__decide(c, a, &pr->r);
}

/* Reads one asset of the project into out and/or meta. */
static projects_err load(projects_ctx *c, const char *project_id, sb_str asset_id, sb_jw *out,
                         projects_asset *meta)
{
    if (!projects__id_ok(asset_id))
        return PROJECTS_NOT_FOUND;
    char aid[SB_UUID_STR_LEN];
    projects__copy(aid, sizeof(aid), asset_id);
    sb_errbuf err;
    store_stmt *st;
    store_err e = store_prepare(
        c->db, "SELECT " ASSET_COLS " FROM assets WHERE id = $1 AND project_id = $2", &st, &err);
    if (e != STORE_OK)
        return projects__store(c, "reading an asset", e, &err);
    store_bind_cstr(st, 1, aid);
    store_bind_cstr(st, 2, project_id);
    e = store_step(st, &err);
    if (e == STORE_ROW) {
        if (out)
            write_asset(out, st);
        if (meta)
            read_meta(st, meta);
    }
    store_reset(st);
    if (e == STORE_DONE)
        return PROJECTS_NOT_FOUND;
    return e == STORE_ROW ? PROJECTS_OK : projects__store(c, "reading an asset", e, &err);
}

/* A client's file name, as the last segment of whatever path it sent
 * (some clients send C:\dir\name.png). */
static projects_err check_filename(sb_str *name, projects_problem *p)
{
    if (!name->ptr)
        return PROJECTS_OK;
    for (size_t i = name->len; i > 0; i--) {
        if (name->ptr[i - 1] == '/' || name->ptr[i - 1] == '\\') {
            *name = sb_str_make(name->ptr + i, name->len - i);
            break;
        }
    }
    if (!projects__text_ok(*name, 1, FILENAME_MAX_CHARS))
        return projects__invalid(p, "filename",
                                 "must be 1 to 255 characters of UTF-8 without control characters");
    return PROJECTS_OK;
}

static projects_err blob_failed(projects_ctx *c, const char *what, blob_err b)
{
    store_rollback(c->db, NULL);
    sb_log(SB_LOG_ERROR, "blob store failed", SB_LOG_STR("while", what),
           SB_LOG_STR("error", blob_strerror(b)));
    return b == BLOB_NOT_FOUND ? PROJECTS_NOT_FOUND : PROJECTS_STORE;
}

projects_err projects_asset_create(projects_ctx *c, sb_str project_id, const void *data, size_t len,
                                   sb_str filename, sb_jw *out, char id[SB_UUID_STR_LEN],
                                   projects_problem *p)
{
    projects__proj pr;
    projects_err r = authorize(c, project_id, AUTHZ_EDIT, &pr);
    if (r == PROJECTS_OK)
        r = check_filename(&filename, p);
    if (r != PROJECTS_OK)
        return r;
    if (len > c->limits->asset_max) {
        p->field = "file";
        snprintf(p->message, sizeof(p->message), "must be at most %zu bytes", c->limits->asset_max);
        return PROJECTS_TOO_LARGE;
    }
    if (len == 0)
        return projects__invalid(p, "file", "must not be empty");
    const char *type = blob_sniff(data, len);
    char name[4 * FILENAME_MAX_CHARS + 1] = "";
    if (filename.ptr)
        projects__copy(name, sizeof(name), filename);
    projects__new_id(id);
    sb_errbuf err;
    blob_info bi;
    store_err e = store_begin(c->db, &err);
    if (e != STORE_OK)
        return projects__store(c, "storing an asset", e, &err);
    blob_err be = blob_put(c->blobs, c->db, data, len, &bi);
    if (be != BLOB_OK)
        return blob_failed(c, "storing an asset", be);
    store_stmt *st;
    e = store_prepare(c->db,
                      "INSERT INTO assets (id, project_id, sha256, type, size, filename, "
                      "created_by, created_at) VALUES ($1, $2, $3, $4, $5, $6, $7, $8)",
                      &st, &err);
    if (e == STORE_OK) {
        store_bind_cstr(st, 1, id);
        store_bind_cstr(st, 2, pr.id);
        store_bind_cstr(st, 3, bi.sha256);
        store_bind_cstr(st, 4, type);
        store_bind_int(st, 5, bi.size);
        if (name[0])
            store_bind_cstr(st, 6, name);
        else
            store_bind_null(st, 6);
        store_bind_cstr(st, 7, c->caller.user_id);
        store_bind_int(st, 8, c->now_us);
        e = store_step(st, &err);
        store_reset(st);
    }
    if (e != STORE_DONE)
        return projects__store(c, "storing an asset", e, &err);
    char details[160];
    snprintf(details, sizeof(details), "{\"sha256\":\"%s\",\"size\":%lld,\"type\":\"%s\"}",
             bi.sha256, (long long)bi.size, type);
    if ((r = projects__audit(c, pr.id, "asset_created", id, details)) != PROJECTS_OK)
        return r;
    return projects__finish(c, load(c, pr.id, sb_str_c(id), out, NULL), "storing an asset");
}

projects_err projects_asset_get(projects_ctx *c, sb_str project_id, sb_str asset_id, sb_jw *out,
                                projects_asset *meta)
{
    projects__proj pr;
    projects_err r = authorize(c, project_id, AUTHZ_READ, &pr);
    return r == PROJECTS_OK ? load(c, pr.id, asset_id, out, meta) : r;
}

projects_err projects_asset_read(projects_ctx *c, const projects_asset *a, int64_t offset,
                                 int64_t len, sb_buf *out)
{
    blob_err be = blob_read(c->blobs, c->db, a->sha256, offset, len, out);
    switch (be) {
    case BLOB_OK:
        return PROJECTS_OK;
    case BLOB_RANGE:
        return PROJECTS_RANGE;
    default:
        /* An asset row whose blob is missing or damaged is our fault,
         * never the client's: say so loudly. */
        sb_log(SB_LOG_ERROR, "an asset's bytes cannot be read", SB_LOG_STR("asset", a->id),
               SB_LOG_STR("sha256", a->sha256), SB_LOG_STR("error", blob_strerror(be)));
        return be == BLOB_CORRUPT || be == BLOB_NOT_FOUND ? PROJECTS_INTERNAL : PROJECTS_STORE;
    }
}

projects_err projects_asset_delete(projects_ctx *c, sb_str project_id, sb_str asset_id)
{
    projects__proj pr;
    projects_asset a;
    projects_err r = authorize(c, project_id, AUTHZ_EDIT, &pr);
    if (r == PROJECTS_OK)
        r = load(c, pr.id, asset_id, NULL, &a);
    if (r != PROJECTS_OK)
        return r;
    sb_errbuf err;
    int64_t changed = 0;
    store_err e = store_begin(c->db, &err);
    if (e == STORE_OK)
        e = projects__exec(c->db, "DELETE FROM assets WHERE id = $1 AND project_id = $2",
                           (const char *const[]){a.id, pr.id}, 2, &changed, &err);
    if (e != STORE_OK)
        return projects__store(c, "deleting an asset", e, &err);
    if (changed == 0) { /* a concurrent delete won */
        store_rollback(c->db, NULL);
        return PROJECTS_NOT_FOUND;
    }
    blob_err be = blob_unref(c->db, a.sha256);
    if (be != BLOB_OK)
        return blob_failed(c, "deleting an asset", be);
    if ((r = projects__audit(c, pr.id, "asset_deleted", a.id, NULL)) != PROJECTS_OK)
        return r;
    e = store_commit(c->db, &err);
    return e == STORE_OK ? PROJECTS_OK : projects__store(c, "deleting an asset", e, &err);
}

projects_err projects_asset_list(projects_ctx *c, sb_str project_id, const projects_page *pg,
                                 sb_jw *out, projects_problem *p)
{
    projects__proj pr;
    projects_err r = authorize(c, project_id, AUTHZ_READ, &pr);
    if (r != PROJECTS_OK)
        return r;
    char after[SB_UUID_STR_LEN];
    if ((r = projects__id_cursor(pg, after, p)) != PROJECTS_OK)
        return r;
    /* Oldest first by id (UUIDv7): rows inserted while a client pages
     * land after its cursor, so no page repeats or skips one. */
    return projects__id_page_run(c, "listing assets",
                                 "SELECT " ASSET_COLS " FROM assets WHERE project_id = $1 AND "
                                 "($2 = '' OR id > $2) ORDER BY id LIMIT $3",
                                 (const char *const[]){pr.id, after}, 2, pg->limit, write_asset,
                                 out);
}

projects_err projects__assets_release(projects_ctx *c, const char *project_scope, const char *id)
{
    /* One reference per asset row, so a blob two assets share loses two.
     * The hashes are read first: a statement is not stepped while the
     * same connection writes. */
    char sql[256];
    snprintf(sql, sizeof(sql), "SELECT sha256 FROM assets WHERE project_id %s", project_scope);
    sb_errbuf err;
    store_stmt *st;
    store_err e = store_prepare(c->db, sql, &st, &err);
    if (e != STORE_OK)
        return projects__store(c, "releasing assets", e, &err);
    store_bind_cstr(st, 1, id);
    SB_VEC(char *) shas = {0};
    while ((e = store_step(st, &err)) == STORE_ROW)
        sb_vec_push(&shas, sb_strdup(store_col_text(st, 0, NULL)));
    store_reset(st);
    blob_err be = BLOB_OK;
    for (size_t i = 0; i < shas.len; i++) {
        if (e == STORE_DONE && be == BLOB_OK)
            be = blob_unref(c->db, shas.items[i]);
        free(shas.items[i]);
    }
    sb_vec_free(&shas);
    if (e != STORE_DONE)
        return projects__store(c, "releasing assets", e, &err);
    return be == BLOB_OK ? PROJECTS_OK : blob_failed(c, "releasing assets", be);
}
