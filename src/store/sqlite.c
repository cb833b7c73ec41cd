/*
 * sqlite.c: the SQLite 3 driver. One sqlite3 handle per store, opened
 * SQLITE_OPEN_NOMUTEX because a store belongs to one thread (SQLite's own
 * locking across connections still applies, through the file).
 *
 * Settings and why:
 *   journal_mode=WAL   readers never block the writer or each other.
 *   synchronous=NORMAL in WAL mode a commit is durable once it is in the
 *                      WAL; the WAL is fsynced at checkpoints only. That
 *                      survives the process being killed (kill -9, OOM),
 *                      which is our requirement; an OS crash or power loss
 *                      may lose the last transactions but never corrupts.
 *   busy_timeout=5000  another connection's write waits, up to 5 s
 *                      (another process's: this process's writers queue
 *                      on a writer_gate first).
 *   foreign_keys=ON    SQLite's default is off, PostgreSQL's is on.
 *   mmap_size=256 MiB  pages are read from a mapping of the file instead
 *                      of a pread each (SQLite still writes through the
 *                      WAL): collab's many small transactions re-read the
 *                      pages another connection changed.
 *   WAL hook           checkpoints run on a thread per file, not inside
 *                      the commit that fills the WAL (sqlite_ckpt.c).
 * Transactions start with BEGIN IMMEDIATE: a deferred transaction that
 * reads then writes can fail to upgrade its lock with SQLITE_BUSY and no
 * busy handler can help; taking the write lock up front waits instead.
 *
 * Parameters are written $1..$N, which SQLite treats as named parameters
 * ("$1" is a name, and a name used twice is one parameter); they are bound
 * through sqlite3_bind_parameter_index. Other forms (?, ?NNN, :name,
 * $1::type, which SQLite's TCL-style names swallow) are refused at prepare.
 *
 * Never: keep a statement un-reset between uses (it would hold a read
 * snapshot and stop WAL checkpoints); bind values into error messages.
 */
#include <pthread.h>
#include <time.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include <sqlite3.h>

#include "base/log.h"
#include "store/sqlite_ckpt.h"
#include "store/sqlite_vfs.h"
#include "store/store_int.h"

/* The writers of one database file in this process queue here for their
 * transactions. SQLite's own lock is a file lock that a waiting writer can
 * only poll (the busy handler sleeps 1 to 100 ms between tries): under many
 * small write transactions from several threads (collaboration rooms
 * logging updates) those sleeps, not the writes, set the latency. A mutex
 * hands the lock over at once. Other processes still meet the file lock
 * and the busy timeout. The file's checkpoint thread lives here too. */
typedef struct writer_gate {
    struct writer_gate *next;
    pthread_mutex_t mu;
    int refs;
    sqlite_ckpt *ckpt;
    char path[];
} writer_gate;

static pthread_mutex_t gates_mu = PTHREAD_MUTEX_INITIALIZER;
static writer_gate *gates;

#define GATE_WAIT_S 5 /* as busy_timeout */

typedef struct sqlite_store {
    store base;
    sqlite3 *db;
    writer_gate *gate; /* NULL: an in-memory database, its own */
    bool gated;        /* this connection holds gate->mu */
} sqlite_store;

/* The gate of the file db is on (canonical path), shared, or NULL. */
static writer_gate *gate_get(sqlite3 *db)
{
    const char *file = sqlite3_db_filename(db, "main");
    if (!file || !file[0])
        return NULL;
    char *real = realpath(file, NULL);
    if (!real)
        return NULL;
    pthread_mutex_lock(&gates_mu);
    writer_gate *g = gates;
    while (g && strcmp(g->path, real) != 0)
        g = g->next;
    if (!g) {
        size_t n = strlen(real) + 1;
        g = sb_calloc(1, sizeof(*g) + n);
        memcpy(g->path, real, n);
        pthread_mutex_init(&g->mu, NULL);
        g->ckpt = sqlite_ckpt_start(real);
        g->next = gates;
        gates = g;
    }
    g->refs++;
    pthread_mutex_unlock(&gates_mu);
    free(real);
    return g;
}

static void gate_put(writer_gate *g)
{
    if (!g)
        return;
    pthread_mutex_lock(&gates_mu);
    if (--g->refs == 0) {
        writer_gate **pp = &gates;
        while (*pp != g)
            pp = &(*pp)->next;
        *pp = g->next;
        sqlite_ckpt_stop(g->ckpt); /* closes the file's last connection */
        pthread_mutex_destroy(&g->mu);
        free(g);
    }
    pthread_mutex_unlock(&gates_mu);
}

typedef struct sqlite_stmt {
    store_stmt base;
    sqlite3_stmt *h;
    int *pos; /* pos[n]: SQLite's index of "$n", n in 1..nparams */
} sqlite_stmt;

static sqlite3 *db_of(store *s)
{
    return ((sqlite_store *)s)->db;
}

static store_err map_rc(int rc)
{
    switch (rc & 0xff) {
    case SQLITE_OK:
        return STORE_OK;
    case SQLITE_CONSTRAINT:
        return STORE_CONSTRAINT;
    case SQLITE_BUSY:
    case SQLITE_LOCKED:
        return STORE_BUSY;
    case SQLITE_MISUSE:
        return STORE_MISUSE;
    default:
        return STORE_SQL;
    }
}

static store_err fail(sqlite3 *db, int rc, sb_errbuf *err)
{
    sb_errf(err, "sqlite: %s", db ? sqlite3_errmsg(db) : sqlite3_errstr(rc));
    return map_rc(rc);
}

static void sq_close(store *s)
{
    sqlite_store *q = (sqlite_store *)s;
    sqlite3_close_v2(q->db);
    if (q->gated)
        pthread_mutex_unlock(&q->gate->mu);
    gate_put(q->gate);
    free(s);
}

static store_err sq_tx_gate(store *s, bool enter, sb_errbuf *err)
{
    sqlite_store *q = (sqlite_store *)s;
    if (!q->gate)
        return STORE_OK;
    if (!enter) {
        if (q->gated && sqlite3_get_autocommit(q->db)) {
            q->gated = false;
            pthread_mutex_unlock(&q->gate->mu);
        }
        return STORE_OK;
    }
    if (q->gated)
        return STORE_OK;
    struct timespec until;
    clock_gettime(CLOCK_REALTIME, &until);
    until.tv_sec += GATE_WAIT_S;
    int rc = pthread_mutex_timedlock(&q->gate->mu, &until);
    if (rc != 0) {
        sb_errf(err, "sqlite: database is locked (another writer of this process held it %d s)",
                GATE_WAIT_S);
        return STORE_BUSY;
    }
    q->gated = true;
    return STORE_OK;
}

static store_err sq_exec(store *s, const char *sql, sb_errbuf *err)
{
    char *msg = NULL;
    int rc = sqlite3_exec(db_of(s), sql, NULL, NULL, &msg);
    if (rc == SQLITE_OK)
        return STORE_OK;
    sb_errf(err, "sqlite: %s", msg ? msg : sqlite3_errstr(rc));
    sqlite3_free(msg);
    return map_rc(rc);
}

static store_err sq_ping(store *s, sb_errbuf *err)
{
    return sq_exec(s, "SELECT 1", err);
}

static store_err sq_ready(store *s, sb_errbuf *err)
{
    return STORE_OK;
}

/* Parses a parameter name "$N" (N without a leading zero); 0 if it is not
 * one. */
static int param_number(const char *name)
{
    if (!name || name[0] != '$' || name[1] < '1' || name[1] > '9')
        return 0;
    long n = 0;
    for (const char *p = name + 1; *p; p++) {
        if (*p < '0' || *p > '9' || n > 100000)
            return 0;
        n = n * 10 + (*p - '0');
    }
    return (int)n;
}

static store_err sq_prepare(store *s, const char *sql, store_stmt **out, sb_errbuf *err)
{
    sqlite3 *db = db_of(s);
    sqlite3_stmt *h = NULL;
    const char *tail = NULL;
    int rc = sqlite3_prepare_v3(db, sql, -1, SQLITE_PREPARE_PERSISTENT, &h, &tail);
    if (rc != SQLITE_OK)
        return fail(db, rc, err);
    if (!h) {
        sb_errf(err, "store_prepare: empty statement");
        return STORE_MISUSE;
    }
    if (tail && tail[strspn(tail, " \t\r\n;")] != 0) {
        sqlite3_finalize(h);
        sb_errf(err, "store_prepare takes one statement (use store_exec for scripts)");
        return STORE_MISUSE;
    }
    int count = sqlite3_bind_parameter_count(h), nparams = 0;
    for (int i = 1; i <= count; i++) {
        const char *name = sqlite3_bind_parameter_name(h, i);
        int n = param_number(name);
        if (n == 0) {
            sb_errf(err, "parameter %s: write parameters as $1..$N", name ? name : "?");
            sqlite3_finalize(h);
            return STORE_MISUSE;
        }
        nparams = n > nparams ? n : nparams;
    }
    int *pos = sb_calloc((size_t)nparams + 1, sizeof *pos);
    for (int n = 1; n <= nparams; n++) {
        char name[16];
        snprintf(name, sizeof name, "$%d", n);
        pos[n] = sqlite3_bind_parameter_index(h, name);
        if (pos[n] == 0) {
            /* PostgreSQL cannot infer the type of a parameter it never
             * sees, so a gap would work here and fail there. */
            sb_errf(err, "parameter $%d is missing (use $1..$%d without gaps)", n, nparams);
            free(pos);
            sqlite3_finalize(h);
            return STORE_MISUSE;
        }
    }
    sqlite_stmt *st = sb_calloc(1, sizeof *st);
    st->h = h;
    st->pos = pos;
    st->base.nparams = nparams;
    *out = &st->base;
    return STORE_OK;
}

static void sq_finalize(store_stmt *base)
{
    sqlite_stmt *st = (sqlite_stmt *)base;
    sqlite3_finalize(st->h);
    free(st->pos);
    free(st);
}

static void sq_bind(store_stmt *base, int idx, const store__value *v)
{
    sqlite_stmt *st = (sqlite_stmt *)base;
    int i = st->pos[idx];
    /* Binding to a valid index of a reset statement cannot fail but for
     * out-of-memory or a value over SQLITE_MAX_LENGTH; the latter shows up
     * as a constraint or a too-big error at step, which is where we look. */
    switch (v->type) {
    case STORE__V_NULL:
        sqlite3_bind_null(st->h, i);
        break;
    case STORE__V_INT:
    case STORE__V_BOOL:
        sqlite3_bind_int64(st->h, i, v->i);
        break;
    case STORE__V_DOUBLE:
        sqlite3_bind_double(st->h, i, v->d);
        break;
    case STORE__V_TEXT:
        sqlite3_bind_text64(st->h, i, v->p, v->len, SQLITE_TRANSIENT, SQLITE_UTF8);
        break;
    case STORE__V_BLOB:
        sqlite3_bind_blob64(st->h, i, v->p, v->len, SQLITE_TRANSIENT);
        break;
    }
}

static store_err sq_step(store_stmt *base, sb_errbuf *err)
{
    sqlite_stmt *st = (sqlite_stmt *)base;
    int rc = sqlite3_step(st->h);
    if (rc == SQLITE_ROW)
        return STORE_ROW;
    if (rc == SQLITE_DONE) {
        sqlite3 *db = sqlite3_db_handle(st->h);
        base->changes = sqlite3_stmt_readonly(st->h) ? 0 : sqlite3_changes64(db);
        return STORE_DONE;
    }
    return fail(sqlite3_db_handle(st->h), rc, err);
}

static void sq_reset(store_stmt *base)
{
    sqlite_stmt *st = (sqlite_stmt *)base;
    /* sqlite3_reset repeats the last step's error, which was reported. */
    sqlite3_reset(st->h);
    sqlite3_clear_bindings(st->h);
}

static int sq_col_count(store_stmt *base)
{
    return sqlite3_column_count(((sqlite_stmt *)base)->h);
}

static bool sq_col_is_null(store_stmt *base, int idx)
{
    return sqlite3_column_type(((sqlite_stmt *)base)->h, idx) == SQLITE_NULL;
}

static int64_t sq_col_int(store_stmt *base, int idx)
{
    return sqlite3_column_int64(((sqlite_stmt *)base)->h, idx);
}

static double sq_col_double(store_stmt *base, int idx)
{
    return sqlite3_column_double(((sqlite_stmt *)base)->h, idx);
}

static bool sq_col_bool(store_stmt *base, int idx)
{
    return sqlite3_column_int64(((sqlite_stmt *)base)->h, idx) != 0;
}

static const char *sq_col_text(store_stmt *base, int idx, size_t *len)
{
    sqlite3_stmt *h = ((sqlite_stmt *)base)->h;
    const char *p = (const char *)sqlite3_column_text(h, idx);
    *len = p ? (size_t)sqlite3_column_bytes(h, idx) : 0;
    return p;
}

static const void *sq_col_blob(store_stmt *base, int idx, size_t *len)
{
    sqlite3_stmt *h = ((sqlite_stmt *)base)->h;
    if (sqlite3_column_type(h, idx) == SQLITE_NULL) {
        *len = 0;
        return NULL;
    }
    const void *p = sqlite3_column_blob(h, idx);
    *len = (size_t)sqlite3_column_bytes(h, idx);
    /* SQLite gives NULL for an empty blob; callers test NULL for SQL NULL. */
    return p ? p : "";
}

static bool sq_tx_active(store *s)
{
    return !sqlite3_get_autocommit(db_of(s));
}

static const store__ops sqlite_ops = {
    .driver = STORE_SQLITE,
    .begin_sql = "BEGIN IMMEDIATE",
    .begin_read_sql = "BEGIN DEFERRED", /* a snapshot at the first read; no write lock */
    .tx_gate = sq_tx_gate,
    .close = sq_close,
    .exec = sq_exec,
    .ping = sq_ping,
    .ready = sq_ready,
    .prepare = sq_prepare,
    .finalize = sq_finalize,
    .bind = sq_bind,
    .step = sq_step,
    .reset = sq_reset,
    .col_count = sq_col_count,
    .col_is_null = sq_col_is_null,
    .col_int = sq_col_int,
    .col_double = sq_col_double,
    .col_bool = sq_col_bool,
    .col_text = sq_col_text,
    .col_blob = sq_col_blob,
    .tx_active = sq_tx_active,
};

static pthread_once_t global_once = PTHREAD_ONCE_INIT;

/* Before SQLite initialises: memory statistics would take a global mutex
 * on every allocation of every connection; we never read them. Then the
 * VFS that writes a WAL frame in one call (sqlite_vfs.c); without it,
 * SQLite's own unix VFS serves, only slower. */
static void global_setup(void)
{
    sqlite3_config(SQLITE_CONFIG_MEMSTATUS, 0);
    if (sqlite_vfs_register() != SQLITE_OK)
        sb_log(SB_LOG_WARN, "sqlite: the WAL-frame VFS is not registered; using unix");
}

store_err store__sqlite_open(const char *path, store **out, sb_errbuf *err)
{
    pthread_once(&global_once, global_setup);
    sqlite3 *db = NULL;
    int flags = SQLITE_OPEN_READWRITE | SQLITE_OPEN_CREATE | SQLITE_OPEN_NOMUTEX;
    int rc = sqlite3_open_v2(path, &db, flags, NULL);
    if (rc != SQLITE_OK) {
        sb_errf(err, "sqlite: cannot open %s: %s", path,
                db ? sqlite3_errmsg(db) : sqlite3_errstr(rc));
        sqlite3_close_v2(db);
        return STORE_CONNECT;
    }
    sqlite3_extended_result_codes(db, 1);
    /* busy_timeout first, so that switching to WAL waits for a concurrent
     * opener instead of failing. */
    sqlite3_busy_timeout(db, 5000);
    char *msg = NULL;
    rc = sqlite3_exec(db,
                      "PRAGMA journal_mode=WAL;"
                      "PRAGMA synchronous=NORMAL;"
                      "PRAGMA mmap_size=268435456;"
                      "PRAGMA foreign_keys=ON;",
                      NULL, NULL, &msg);
    if (rc != SQLITE_OK) {
        sb_errf(err, "sqlite: cannot set up %s: %s", path, msg ? msg : sqlite3_errstr(rc));
        sqlite3_free(msg);
        sqlite3_close_v2(db);
        return STORE_CONNECT;
    }
    sqlite_store *s = sb_calloc(1, sizeof *s);
    s->base.ops = &sqlite_ops;
    s->db = db;
    s->gate = gate_get(db);
    if (s->gate) /* instead of checkpointing inside commits */
        sqlite3_wal_hook(db, sqlite_ckpt_hook, s->gate->ckpt);
    *out = &s->base;
    return STORE_OK;
}
