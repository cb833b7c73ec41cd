/*
 * store_int.h: what the store's files share and callers must not see: the
 * layout of a connection and of a statement, and the driver vtable that
 * store.c dispatches through (SQLite's sqlite3_vfs and btreeInt.h are the
 * models: one table of function pointers, one private header).
 *
 * A driver embeds `store` / `store_stmt` as the first member of its own
 * structs and casts back. store.c owns everything driver-agnostic: the
 * statement cache, parameter-index checks, observer timing and transaction
 * state; a driver only talks to its library.
 *
 * Invariants: a statement is in the cache of exactly one store and lives as
 * long as that store; `active` is true from the first bind or step until
 * store_reset; `tx_lost` implies `in_tx`.
 *
 * Never: include this header outside src/store and tests/unit/store_test.c.
 */
#ifndef SB_STORE_STORE_INT_H
#define SB_STORE_STORE_INT_H

#include "base/map.h"
#include "store/migrate.h"
#include "store/store.h"

typedef enum store__vtype {
    STORE__V_NULL,
    STORE__V_INT,
    STORE__V_DOUBLE,
    STORE__V_BOOL,
    STORE__V_TEXT,
    STORE__V_BLOB,
} store__vtype;

/* One bound value as store.c hands it to a driver; p/len borrowed. */
typedef struct store__value {
    store__vtype type;
    int64_t i;
    double d;
    const void *p;
    size_t len;
} store__value;

typedef struct store__ops {
    store_driver driver;
    const char *begin_sql;      /* "BEGIN IMMEDIATE" or "BEGIN" */
    const char *begin_read_sql; /* a transaction that only reads (store_begin_read) */
    /* Optional: taken before begin_sql (enter true) and given back once no
     * transaction is open (enter false; err NULL). SQLite: this process's
     * writers of one file queue on a mutex instead of polling its lock. */
    store_err (*tx_gate)(store *s, bool enter, sb_errbuf *err);
    void (*close)(store *s);
    store_err (*exec)(store *s, const char *sql, sb_errbuf *err);
    store_err (*ping)(store *s, sb_errbuf *err);
    /* Called before prepare and exec: re-establishes a lost connection
     * (PostgreSQL) or does nothing. */
    store_err (*ready)(store *s, sb_errbuf *err);
    /* Allocates and prepares a new statement and sets its nparams. */
    store_err (*prepare)(store *s, const char *sql, store_stmt **out, sb_errbuf *err);
    void (*finalize)(store_stmt *st);
    void (*bind)(store_stmt *st, int idx, const store__value *v);
    /* Returns STORE_ROW, STORE_DONE (setting st->changes) or an error. */
    store_err (*step)(store_stmt *st, sb_errbuf *err);
    void (*reset)(store_stmt *st);
    int (*col_count)(store_stmt *st);
    bool (*col_is_null)(store_stmt *st, int idx);
    int64_t (*col_int)(store_stmt *st, int idx);
    double (*col_double)(store_stmt *st, int idx);
    bool (*col_bool)(store_stmt *st, int idx);
    const char *(*col_text)(store_stmt *st, int idx, size_t *len);
    const void *(*col_blob)(store_stmt *st, int idx, size_t *len);
    /* Whether the database itself has a transaction open. */
    bool (*tx_active)(store *s);
} store__ops;

/* One connection. Owned by one thread (the one that opened it). */
struct store {
    const store__ops *ops;
    sb_map stmts; /* SQL text -> store_stmt*, owned */
    store_observer observer;
    void *observer_ctx;
    bool in_tx;   /* store_begin succeeded and no commit/rollback ended it */
    bool tx_lost; /* the connection dropped inside that transaction */
};

struct store_stmt {
    store *s;
    char *sql;     /* owned copy, for re-preparing after a reconnect */
    int nparams;   /* highest $N in the SQL; $1..$N all appear */
    bool active;   /* bound or stepped since the last reset */
    bool started;  /* the current execution has begun */
    bool finished; /* it reached DONE or failed */
    bool failed;
    bool observed; /* the observer heard about this execution */
    int bad_bind;  /* an out-of-range or late bind, reported by step */
    uint64_t exec_ns;
    int64_t changes; /* of the last finished execution */
};

/* Drivers (sqlite.c, postgres.c). target is the path or the libpq URL. */
store_err store__sqlite_open(const char *path, store **out, sb_errbuf *err);
store_err store__postgres_open(const char *url, store **out, sb_errbuf *err);

/* Applies the pending migrations of s's driver found in table (ended by a
 * NULL driver). store_migrate passes store_migrations; tests pass their own
 * to exercise failure. */
store_err store__migrate_from(store *s, const store_migration *table, int *applied, sb_errbuf *err);

#endif
