/*
 * store.h: the one storage interface, with two drivers behind it: SQLite 3
 * (the default, a file in the data folder, WAL) and PostgreSQL 15 (libpq).
 * Services write SQL once, in the dialect both accept, with PostgreSQL-style
 * numbered parameters ($1, $2, ...); the SQLite driver binds them by name.
 *
 * A `store` is one connection and is owned by one thread (each event-loop
 * thread opens its own). It caches prepared statements by SQL text, so
 * store_prepare on a hot path costs one hash lookup.
 *
 * Statement life: prepare (cached, borrowed) -> bind -> step until
 * STORE_DONE (STORE_ROW for each row; read columns in between) -> reset.
 * A statement is in use from its first bind/step until store_reset; using
 * the same SQL twice at once is a bug (asserted).
 *
 * Never: build SQL by pasting client input; log bound values (they may be
 * secrets); return a driver's raw message to a client (errors carry it for
 * logs only).
 */
#ifndef SB_STORE_STORE_H
#define SB_STORE_STORE_H

#include "base/common.h"

/* One table of error codes and messages, so they cannot drift. */
#define STORE_ERRNO_MAP(X)                                                                         \
    X(OK, "ok")                                                                                    \
    X(ROW, "a row is ready")                                                                       \
    X(DONE, "no more rows")                                                                        \
    X(CONNECT, "cannot connect to the database")                                                   \
    X(CONSTRAINT, "a uniqueness or foreign-key constraint was violated")                           \
    X(BUSY, "the database is busy or the connection was lost")                                     \
    X(SQL, "the statement failed")                                                                 \
    X(MIGRATION, "a schema migration failed")                                                      \
    X(MISUSE, "the storage interface was misused")

typedef enum store_err {
#define STORE__ENUM(name, msg) STORE_##name,
    STORE_ERRNO_MAP(STORE__ENUM)
#undef STORE__ENUM
} store_err;

/* The fixed message of a code ("cannot connect to the database"). */
const char *store_strerror(store_err e);

typedef enum store_driver {
    STORE_SQLITE,
    STORE_POSTGRES,
} store_driver;

typedef struct store store;
typedef struct store_stmt store_stmt;

/* Called after each statement execution with its duration, so the layer
 * above can keep metrics without the store knowing about them. */
typedef void (*store_observer)(void *ctx, store_driver driver, uint64_t duration_ns, bool ok);

/* Opens a connection. url is "" or NULL (SQLite at <data_dir>/sitebase.db,
 * creating data_dir with mode 0700 if needed), "sqlite:<path>", or a libpq
 * URL "postgres://..." / "postgresql://...". On failure returns
 * STORE_CONNECT with err saying why (no password in it). */
store_err store_open(const char *url, const char *data_dir, store **out, sb_errbuf *err);
/* Finalises cached statements and closes. NULL is fine. */
void store_close(store *s);

store_driver store_driver_of(const store *s);
const char *store_driver_name(store_driver d); /* "sqlite" / "postgres" */
void store_set_observer(store *s, store_observer fn, void *ctx);

/* Runs one or more statements without parameters or results (DDL,
 * migrations). */
store_err store_exec(store *s, const char *sql, sb_errbuf *err);

/* A cheap round trip ("SELECT 1"); for /readyz. With PostgreSQL a lost
 * connection is re-established here (and in store_prepare/store_exec), with
 * backoff (at most one attempt per backoff interval, 100 ms doubling to
 * 5 s); until then those return STORE_BUSY. */
store_err store_ping(store *s, sb_errbuf *err);

/* Returns the cached statement for sql (preparing it on first use). The
 * statement belongs to s; sql must stay valid while s lives (use literals). */
store_err store_prepare(store *s, const char *sql, store_stmt **out, sb_errbuf *err);

/* Typed binds; idx is 1-based ($1 is idx 1). Text and blobs are copied.
 * Unbound parameters are NULL. An index the statement does not have, or a
 * bind after the first step, makes the next store_step return
 * STORE_MISUSE. */
void store_bind_null(store_stmt *st, int idx);
void store_bind_int(store_stmt *st, int idx, int64_t v);
void store_bind_double(store_stmt *st, int idx, double v);
void store_bind_bool(store_stmt *st, int idx, bool v);
void store_bind_text(store_stmt *st, int idx, const char *p, size_t len);
void store_bind_blob(store_stmt *st, int idx, const void *p, size_t len);
/* Binds a NUL-terminated string, or NULL as SQL NULL. */
void store_bind_cstr(store_stmt *st, int idx, const char *s);

/* Executes (on the first call) and moves to the next row: STORE_ROW,
 * STORE_DONE, or an error with err filled. */
store_err store_step(store_stmt *st, sb_errbuf *err);

/* Column access for the current row; idx is 0-based. Pointers stay valid
 * until the next step or reset. Text is NUL-terminated. SQL NULL reads as
 * 0, false, or a NULL pointer with *len 0 (an empty value is a non-NULL
 * pointer); len may be NULL. Read bytea/blob columns with store_col_blob. */
int store_col_count(store_stmt *st);
bool store_col_is_null(store_stmt *st, int idx);
int64_t store_col_int(store_stmt *st, int idx);
double store_col_double(store_stmt *st, int idx);
bool store_col_bool(store_stmt *st, int idx);
const char *store_col_text(store_stmt *st, int idx, size_t *len);
const void *store_col_blob(store_stmt *st, int idx, size_t *len);

/* Rows changed by the statement's last finished execution if it was an
 * INSERT/UPDATE/DELETE, else 0. Still readable after store_reset. */
int64_t store_changes(store_stmt *st);

/* Ends the statement's use: clears binds and results. Always call it. */
void store_reset(store_stmt *st);

/* Transactions. begin/commit/rollback do not nest; savepoints do. Names are
 * identifiers chosen by code ([a-z_0-9]+), never by clients; others, or
 * savepoints outside a transaction, give STORE_MISUSE. store_rollback
 * outside a transaction is a no-op returning STORE_OK, so failure paths may
 * call it unconditionally. If a PostgreSQL connection is lost inside a
 * transaction, everything returns STORE_BUSY until store_rollback. */
store_err store_begin(store *s, sb_errbuf *err);
/* A transaction for reads only: it takes no write lock, so on SQLite it
 * neither waits for this process's writers nor holds them up (it reads one
 * snapshot, taken at its first read); on PostgreSQL it is READ ONLY at the
 * connection's isolation level, and a write in it fails. Never write in
 * one (on SQLite that would bypass the writer queue). End it with
 * store_rollback (or store_commit). */
store_err store_begin_read(store *s, sb_errbuf *err);
store_err store_commit(store *s, sb_errbuf *err);
store_err store_rollback(store *s, sb_errbuf *err);
store_err store_savepoint(store *s, const char *name, sb_errbuf *err);
store_err store_release(store *s, const char *name, sb_errbuf *err);
store_err store_rollback_to(store *s, const char *name, sb_errbuf *err);
bool store_in_transaction(const store *s);

#endif
