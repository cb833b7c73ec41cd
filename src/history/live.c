/*
 * live.c: a project's state as its tables hold it now. The one place
 * that knows how each entity of the state is read from its row, so that
 * an event's value (one entity, read right after the change) and a
 * snapshot (every entity) can never disagree on a field.
 *
 * JSON columns (components, metadata, settings, ...) are stored as the
 * services validated them and are written through verbatim; times become
 * RFC 3339 strings.
 */
#include <string.h>

#include "base/clock.h"
#include "history/history_int.h"

typedef void (*write_fn)(sb_jw *w, store_stmt *st);

static void kv_time(sb_jw *w, const char *k, store_stmt *st, int col)
{
    char t[SB_RFC3339_LEN];
    sb_jw_key(w, k);
    if (store_col_is_null(st, col))
        sb_jw_null(w);
    else
        sb_jw_str(w, sb_rfc3339(store_col_int(st, col), t));
}

static void kv_text(sb_jw *w, const char *k, store_stmt *st, int col)
{
    size_t n;
    const char *s = store_col_text(st, col, &n);
    sb_jw_key(w, k);
    if (s)
        sb_jw_strn(w, s, n);
    else
        sb_jw_null(w);
}

/* A stored JSON document, or null. */
static void kv_json(sb_jw *w, const char *k, store_stmt *st, int col)
{
    size_t n;
    const char *s = store_col_text(st, col, &n);
    sb_jw_key(w, k);
    if (s && n)
        sb_jw_raw(w, s, n);
    else
        sb_jw_null(w);
}

/* Each SELECT has the entity's key in column 0. */

#define PROJECT_SQL                                                                                \
    "SELECT id, name, description, owner_id, team_id, visibility, template, settings, "            \
    "deployment, version, created_at, updated_at FROM projects WHERE id = $1"
static void write_project(sb_jw *w, store_stmt *st)
{
    sb_jw_obj_begin(w);
    kv_text(w, "id", st, 0);
    kv_text(w, "name", st, 1);
    kv_text(w, "description", st, 2);
    kv_text(w, "owner_id", st, 3);
    kv_text(w, "team_id", st, 4);
    kv_text(w, "visibility", st, 5);
    kv_json(w, "template", st, 6);
    kv_json(w, "settings", st, 7);
    kv_json(w, "deployment", st, 8);
    sb_jw_kv_int(w, "version", store_col_int(st, 9));
    kv_time(w, "created_at", st, 10);
    kv_time(w, "updated_at", st, 11);
    sb_jw_obj_end(w);
}

#define PAGE_SQL                                                                                   \
    "SELECT id, name, path, components, metadata, published, version, created_at, updated_at "     \
    "FROM pages WHERE project_id = $1"
static void write_page(sb_jw *w, store_stmt *st)
{
    sb_jw_obj_begin(w);
    kv_text(w, "name", st, 1);
    kv_text(w, "path", st, 2);
    kv_json(w, "components", st, 3);
    kv_json(w, "metadata", st, 4);
    sb_jw_kv_bool(w, "published", store_col_bool(st, 5));
    sb_jw_kv_int(w, "version", store_col_int(st, 6));
    kv_time(w, "created_at", st, 7);
    kv_time(w, "updated_at", st, 8);
    sb_jw_obj_end(w);
}

#define FILE_SQL                                                                                   \
    "SELECT path, content, language, size, version, created_at, updated_at FROM files "            \
    "WHERE project_id = $1"
static void write_file(sb_jw *w, store_stmt *st)
{
    size_t n;
    const char *b = store_col_blob(st, 1, &n);
    sb_jw_obj_begin(w);
    /* Code files are UTF-8 text (files.c checks it on the way in). */
    sb_jw_key(w, "content");
    sb_jw_strn(w, b ? b : "", n);
    kv_text(w, "language", st, 2);
    sb_jw_kv_int(w, "size", store_col_int(st, 3));
    sb_jw_kv_int(w, "version", store_col_int(st, 4));
    kv_time(w, "created_at", st, 5);
    kv_time(w, "updated_at", st, 6);
    sb_jw_obj_end(w);
}

#define COMMENT_SQL                                                                                \
    "SELECT id, page_id, parent_id, element_id, position, author_id, body, mentions, "             \
    "resolved_at, resolved_by, version, created_at, updated_at FROM comments "                     \
    "WHERE project_id = $1"
static void write_comment(sb_jw *w, store_stmt *st)
{
    sb_jw_obj_begin(w);
    kv_text(w, "page_id", st, 1);
    kv_text(w, "parent_id", st, 2);
    kv_text(w, "element_id", st, 3);
    kv_json(w, "position", st, 4);
    kv_text(w, "author_id", st, 5);
    kv_text(w, "body", st, 6);
    kv_json(w, "mentions", st, 7);
    kv_time(w, "resolved_at", st, 8);
    kv_text(w, "resolved_by", st, 9);
    sb_jw_kv_int(w, "version", store_col_int(st, 10));
    kv_time(w, "created_at", st, 11);
    kv_time(w, "updated_at", st, 12);
    sb_jw_obj_end(w);
}

#define MEMBER_SQL "SELECT user_id, role, created_at FROM project_members WHERE project_id = $1"
static void write_member(sb_jw *w, store_stmt *st)
{
    sb_jw_obj_begin(w);
    kv_text(w, "role", st, 1);
    kv_time(w, "created_at", st, 2);
    sb_jw_obj_end(w);
}

#define ASSET_SQL                                                                                  \
    "SELECT id, sha256, type, size, filename, created_by, created_at FROM assets "                 \
    "WHERE project_id = $1"
static void write_asset(sb_jw *w, store_stmt *st)
{
    sb_jw_obj_begin(w);
    kv_text(w, "sha256", st, 1);
    kv_text(w, "type", st, 2);
    sb_jw_kv_int(w, "size", store_col_int(st, 3));
    kv_text(w, "filename", st, 4);
    kv_text(w, "created_by", st, 5);
    kv_time(w, "created_at", st, 6);
    sb_jw_obj_end(w);
}

/* The statements must be literals (store caches them by text). */
static const struct entity {
    const char *kind, *collection;
    const char *sql_all; /* the project's entities, by key */
    const char *sql_one; /* $2 the key */
    write_fn write;
} entities[] = {
    {"page", "pages", PAGE_SQL " ORDER BY id", PAGE_SQL " AND id = $2", write_page},
    {"file", "files", FILE_SQL " ORDER BY path", FILE_SQL " AND path = $2", write_file},
    {"comment", "comments", COMMENT_SQL " ORDER BY id", COMMENT_SQL " AND id = $2", write_comment},
    {"member", "members", MEMBER_SQL " ORDER BY user_id", MEMBER_SQL " AND user_id = $2",
     write_member},
    {"asset", "assets", ASSET_SQL " ORDER BY id", ASSET_SQL " AND id = $2", write_asset},
};

/* Runs st (bound) and writes each row: as "key": value when keyed, else
 * the first row's value alone, or null when there is none. */
static history_err run(store_stmt *st, write_fn write, bool keyed, sb_jw *w, sb_errbuf *err)
{
    bool any = false;
    store_err e;
    while ((e = store_step(st, err)) == STORE_ROW) {
        if (keyed) {
            size_t n;
            const char *k = store_col_text(st, 0, &n);
            sb_jw_keyn(w, k ? k : "", n);
        } else if (any) {
            continue; /* a key matches one row; defensive */
        }
        write(w, st);
        any = true;
    }
    store_reset(st);
    if (e != STORE_DONE)
        return HISTORY_STORE;
    if (!keyed && !any)
        sb_jw_null(w);
    return HISTORY_OK;
}

history_err history__live_entity(store *db, const char *project_id, const char *kind,
                                 const char *key, sb_jw *w, sb_errbuf *err)
{
    store_stmt *st;
    if (strcmp(kind, "project") == 0) {
        if (store_prepare(db, PROJECT_SQL, &st, err) != STORE_OK)
            return HISTORY_STORE;
        store_bind_cstr(st, 1, project_id);
        return run(st, write_project, false, w, err);
    }
    for (size_t i = 0; i < SB_ARRAY_LEN(entities); i++) {
        if (strcmp(kind, entities[i].kind) != 0)
            continue;
        if (store_prepare(db, entities[i].sql_one, &st, err) != STORE_OK)
            return HISTORY_STORE;
        store_bind_cstr(st, 1, project_id);
        store_bind_cstr(st, 2, key);
        return run(st, entities[i].write, false, w, err);
    }
    assert(!"a kind without an entity");
    return HISTORY_CORRUPT;
}

history_err history__live_state(store *db, const char *project_id, sb_jw *w, sb_errbuf *err)
{
    history_err r;
    sb_jw_obj_begin(w);
    sb_jw_key(w, "project");
    if ((r = history__live_entity(db, project_id, "project", "", w, err)) != HISTORY_OK)
        return r;
    for (size_t i = 0; i < SB_ARRAY_LEN(entities); i++) {
        store_stmt *st;
        if (store_prepare(db, entities[i].sql_all, &st, err) != STORE_OK)
            return HISTORY_STORE;
        store_bind_cstr(st, 1, project_id);
        sb_jw_key(w, entities[i].collection);
        sb_jw_obj_begin(w);
        if ((r = run(st, entities[i].write, true, w, err)) != HISTORY_OK)
            return r;
        sb_jw_obj_end(w);
    }
    sb_jw_obj_end(w);
    return HISTORY_OK;
}
