/*
 * live.c: a project's state as its tables hold it now. The one place
 * that knows how each entity of the state is read from its row, so that
 * an event's value (one entity, read right after the change) and a
 * snapshot (every entity) can never disagree on a field.
 *
 * Each entity kind is one row of a table: its columns, each with how it
 * is written, from which its SELECT is built, so the statement and the
 * writer cannot drift apart; one reader serves every kind. Members are
 * written in column order.
 *
 * JSON columns (components, metadata, settings, ...) are stored as the
 * services validated them and are written through verbatim; times become
 * RFC 3339 strings.
 */
#include <string.h>

#include "base/clock.h"
#include "history/history_int.h"

/* How a column becomes a member of the entity's value. */
typedef enum col_how {
    COL_KEY,  /* the entity's key: its name in the collection, not in the value */
    COL_TEXT, /* a string, or null */
    COL_JSON, /* a stored JSON document, or null (also when empty) */
    COL_INT,  /* an integer */
    COL_BOOL, /* a boolean */
    COL_TIME, /* Unix microseconds as RFC 3339, or null */
    COL_UTF8, /* a blob of UTF-8 text as a string ("" when null) */
} col_how;

typedef struct column {
    const char *name;
    col_how how;
} column;

/* Each entity's columns, in SELECT order: FIRST is column 0, the entity's
 * key (the project writes its id in the value; the others are keyed by
 * it), NEXT the rest. The SQL and the column table below are both made
 * from these lists. */
#define PROJECT_COLUMNS(FIRST, NEXT)                                                               \
    FIRST(id, TEXT)                                                                                \
    NEXT(name, TEXT)                                                                               \
    NEXT(description, TEXT)                                                                        \
    NEXT(owner_id, TEXT)                                                                           \
    NEXT(team_id, TEXT)                                                                            \
    NEXT(visibility, TEXT)                                                                         \
    NEXT(template, JSON)                                                                           \
    NEXT(settings, JSON)                                                                           \
    NEXT(deployment, JSON)                                                                         \
    NEXT(version, INT)                                                                             \
    NEXT(created_at, TIME)                                                                         \
    NEXT(updated_at, TIME)
#define PAGE_COLUMNS(FIRST, NEXT)                                                                  \
    FIRST(id, KEY)                                                                                 \
    NEXT(name, TEXT)                                                                               \
    NEXT(path, TEXT)                                                                               \
    NEXT(components, JSON)                                                                         \
    NEXT(metadata, JSON)                                                                           \
    NEXT(published, BOOL)                                                                          \
    NEXT(version, INT)                                                                             \
    NEXT(created_at, TIME)                                                                         \
    NEXT(updated_at, TIME)
/* Code files are UTF-8 text (files.c checks it on the way in). */
#define FILE_COLUMNS(FIRST, NEXT)                                                                  \
    FIRST(path, KEY)                                                                               \
    NEXT(content, UTF8)                                                                            \
    NEXT(language, TEXT)                                                                           \
    NEXT(size, INT)                                                                                \
    NEXT(version, INT)                                                                             \
    NEXT(created_at, TIME)                                                                         \
    NEXT(updated_at, TIME)
#define COMMENT_COLUMNS(FIRST, NEXT)                                                               \
    FIRST(id, KEY)                                                                                 \
    NEXT(page_id, TEXT)                                                                            \
    NEXT(parent_id, TEXT)                                                                          \
    NEXT(element_id, TEXT)                                                                         \
    NEXT(position, JSON)                                                                           \
    NEXT(author_id, TEXT)                                                                          \
    NEXT(body, TEXT)                                                                               \
    NEXT(mentions, JSON)                                                                           \
    NEXT(resolved_at, TIME)                                                                        \
    NEXT(resolved_by, TEXT)                                                                        \
    NEXT(version, INT)                                                                             \
    NEXT(created_at, TIME)                                                                         \
    NEXT(updated_at, TIME)
#define MEMBER_COLUMNS(FIRST, NEXT)                                                                \
    FIRST(user_id, KEY)                                                                            \
    NEXT(role, TEXT)                                                                               \
    NEXT(created_at, TIME)
#define ASSET_COLUMNS(FIRST, NEXT)                                                                 \
    FIRST(id, KEY)                                                                                 \
    NEXT(sha256, TEXT)                                                                             \
    NEXT(type, TEXT)                                                                               \
    NEXT(size, INT)                                                                                \
    NEXT(filename, TEXT)                                                                           \
    NEXT(created_by, TEXT)                                                                         \
    NEXT(created_at, TIME)

#define SQL_FIRST(c, how) #c
#define SQL_NEXT(c, how)  ", " #c
#define SQL_NONE(c, how)
/* "SELECT <columns> FROM <from>", and the key's column name: literals
 * (store caches statements by their text). */
#define SELECT(COLUMNS, from) "SELECT " COLUMNS(SQL_FIRST, SQL_NEXT) " FROM " from
#define KEY(COLUMNS)          COLUMNS(SQL_FIRST, SQL_NONE)
#define COLUMN(c, how)        {#c, COL_##how},

static const column project_columns[] = {PROJECT_COLUMNS(COLUMN, COLUMN)};
static const column page_columns[] = {PAGE_COLUMNS(COLUMN, COLUMN)};
static const column file_columns[] = {FILE_COLUMNS(COLUMN, COLUMN)};
static const column comment_columns[] = {COMMENT_COLUMNS(COLUMN, COLUMN)};
static const column member_columns[] = {MEMBER_COLUMNS(COLUMN, COLUMN)};
static const column asset_columns[] = {ASSET_COLUMNS(COLUMN, COLUMN)};

/* The project first; the others are the state's collections
 * (history__collection_of their kind), in the order a state is written. */
static const struct entity {
    const char *kind;
    const char *sql_all; /* the project's entities, by key; NULL for the project */
    const char *sql_one; /* one entity: $2 its key (the project: $1 alone) */
    const column *columns;
    size_t ncolumns;
} entities[] = {
    {.kind = "project",
     .sql_one = SELECT(PROJECT_COLUMNS, "projects WHERE id = $1"),
     .columns = project_columns,
     .ncolumns = SB_ARRAY_LEN(project_columns)},
/* A collection's entity: kind, columns, and its table, which holds the
 * project's id in project_id. */
#define IN_PROJECT(COLUMNS, table) SELECT(COLUMNS, table " WHERE project_id = $1")
#define ENTITY(kind_, COLUMNS, table, columns_)                                                    \
    {                                                                                              \
        .kind = kind_, .sql_all = IN_PROJECT(COLUMNS, table) " ORDER BY " KEY(COLUMNS),            \
        .sql_one = IN_PROJECT(COLUMNS, table) " AND " KEY(COLUMNS) " = $2", .columns = columns_,   \
        .ncolumns = SB_ARRAY_LEN(columns_)                                                         \
    }
    ENTITY("page", PAGE_COLUMNS, "pages", page_columns),
    ENTITY("file", FILE_COLUMNS, "files", file_columns),
    ENTITY("comment", COMMENT_COLUMNS, "comments", comment_columns),
    ENTITY("member", MEMBER_COLUMNS, "project_members", member_columns),
    ENTITY("asset", ASSET_COLUMNS, "assets", asset_columns),
#undef ENTITY
#undef IN_PROJECT
};

/* Writes the current row of st as the value of entity en. */
static void write_value(const struct entity *en, store_stmt *st, sb_jw *w)
{
    sb_jw_obj_begin(w);
    for (size_t i = 0; i < en->ncolumns; i++) {
        const column *c = &en->columns[i];
        int col = (int)i;
        size_t n;
        const char *s;
        char t[SB_RFC3339_LEN];
        if (c->how == COL_KEY)
            continue;
        sb_jw_key(w, c->name);
        switch (c->how) {
        case COL_KEY:
            break;
        case COL_TEXT:
            s = store_col_text(st, col, &n);
            if (s)
                sb_jw_strn(w, s, n);
            else
                sb_jw_null(w);
            break;
        case COL_JSON:
            s = store_col_text(st, col, &n);
            if (s && n)
                sb_jw_raw(w, s, n);
            else
                sb_jw_null(w);
            break;
        case COL_INT:
            sb_jw_int(w, store_col_int(st, col));
            break;
        case COL_BOOL:
            sb_jw_bool(w, store_col_bool(st, col));
            break;
        case COL_TIME:
            if (store_col_is_null(st, col))
                sb_jw_null(w);
            else
                sb_jw_str(w, sb_rfc3339(store_col_int(st, col), t));
            break;
        case COL_UTF8:
            s = store_col_blob(st, col, &n);
            sb_jw_strn(w, s ? s : "", n);
            break;
        }
    }
    sb_jw_obj_end(w);
}

/* Runs st (bound) and writes each row as a value of en: as "key": value
 * when keyed, else the first row's value alone, or null when there is
 * none. */
static history_err run(const struct entity *en, store_stmt *st, bool keyed, sb_jw *w,
                       sb_errbuf *err)
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
        write_value(en, st, w);
        any = true;
    }
    store_reset(st);
    if (e != STORE_DONE)
        return HISTORY_STORE;
    if (!keyed && !any)
        sb_jw_null(w);
    return HISTORY_OK;
}

/* Writes the value of one entity of en (key ignored for the project). */
static history_err read_one(store *db, const struct entity *en, const char *project_id,
                            const char *key, sb_jw *w, sb_errbuf *err)
{
    store_stmt *st;
    if (store_prepare(db, en->sql_one, &st, err) != STORE_OK)
        return HISTORY_STORE;
    store_bind_cstr(st, 1, project_id);
    if (en->sql_all)
        store_bind_cstr(st, 2, key);
    return run(en, st, false, w, err);
}

history_err history__live_entity(store *db, const char *project_id, const char *kind,
                                 const char *key, sb_jw *w, sb_errbuf *err)
{
    for (size_t i = 0; i < SB_ARRAY_LEN(entities); i++)
        if (strcmp(kind, entities[i].kind) == 0)
            return read_one(db, &entities[i], project_id, key, w, err);
    assert(!"a kind without an entity");
    return HISTORY_CORRUPT;
}

history_err history__live_state(store *db, const char *project_id, sb_jw *w, sb_errbuf *err)
{
    history_err r;
    sb_jw_obj_begin(w);
    for (size_t i = 0; i < SB_ARRAY_LEN(entities); i++) {
        const struct entity *en = &entities[i];
        if (!en->sql_all) {
            sb_jw_key(w, "project");
            if ((r = read_one(db, en, project_id, "", w, err)) != HISTORY_OK)
                return r;
            continue;
        }
        store_stmt *st;
        if (store_prepare(db, en->sql_all, &st, err) != STORE_OK)
            return HISTORY_STORE;
        store_bind_cstr(st, 1, project_id);
        sb_jw_key(w, history__collection_of(en->kind));
        sb_jw_obj_begin(w);
        if ((r = run(en, st, true, w, err)) != HISTORY_OK)
            return r;
        sb_jw_obj_end(w);
    }
    sb_jw_obj_end(w);
    return HISTORY_OK;
}
