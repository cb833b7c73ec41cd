/*
 * store.c: the driver-agnostic half of the storage interface. It picks a
 * driver from the URL, keeps the statement cache (SQL text -> prepared
 * statement, so a hot path pays one hash lookup), checks parameter indexes,
 * times every execution for the observer, and keeps transaction state.
 *
 * Invariants: every statement in the cache was prepared by this store's
 * driver and is freed only by store_close; the observer hears about each
 * execution exactly once (when it finishes, fails, or is reset early).
 * `in_tx` follows store_begin and the database's own view after
 * commit/rollback, so a COMMIT that fails but leaves the transaction open
 * (SQLite on SQLITE_BUSY) keeps it true.
 *
 * Never: put bound values into error messages; let a statement run after
 * its connection lost a transaction (the work would silently autocommit).
 */
#include <assert.h>
#include <errno.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>

#include "base/clock.h"
#include "base/str.h"
#include "store/store_int.h"

const char *store_strerror(store_err e)
{
    switch (e) {
#define STORE__MSG(name, msg)                                                                      \
    case STORE_##name:                                                                             \
        return msg;
        STORE_ERRNO_MAP(STORE__MSG)
#undef STORE__MSG
    }
    return "unknown store error";
}

const char *store_driver_name(store_driver d)
{
    return d == STORE_POSTGRES ? "postgres" : "sqlite";
}

/* Creates dir and its missing parents with mode 0700: the data folder holds
 * the database and key files, which nobody else should list. */
static store_err make_data_dir(const char *dir, sb_errbuf *err)
{
    sb_buf path = SB_BUF_INIT;
    sb_buf_puts(&path, dir);
    store_err rc = STORE_OK;
    for (size_t i = 1; i <= path.len; i++) {
        if (i < path.len && path.ptr[i] != '/')
            continue;
        char saved = path.ptr[i];
        path.ptr[i] = 0;
        if (mkdir(path.ptr, 0700) != 0 && errno != EEXIST) {
            sb_errf(err, "cannot create data folder %s: %s", path.ptr, strerror(errno));
            rc = STORE_CONNECT;
            break;
        }
        path.ptr[i] = saved;
    }
    sb_buf_free(&path);
    return rc;
}

store_err store_open(const char *url, const char *data_dir, store **out, sb_errbuf *err)
{
    sb_str u = sb_str_c(url);
    store_err rc;
    store *s = NULL;
    if (u.len == 0) {
        if (!data_dir || !*data_dir) {
            sb_errf(err, "no database URL and no data folder");
            return STORE_CONNECT;
        }
        if ((rc = make_data_dir(data_dir, err)) != STORE_OK)
            return rc;
        sb_buf path = SB_BUF_INIT;
        sb_buf_appendf(&path, "%s/sitebase.db", data_dir);
        rc = store__sqlite_open(path.ptr, &s, err);
        sb_buf_free(&path);
    } else if (sb_str_has_prefix(u, SB_STR("sqlite:"))) {
        rc = store__sqlite_open(url + 7, &s, err);
    } else if (sb_str_has_prefix(u, SB_STR("postgres://")) ||
               sb_str_has_prefix(u, SB_STR("postgresql://"))) {
        rc = store__postgres_open(url, &s, err);
    } else {
        /* Name the scheme only: the rest of a URL may hold a password. */
        ptrdiff_t colon = sb_str_index(u, ':', 0);
        int n = colon < 0 ? 0 : (int)SB_MIN(colon, 20);
        sb_errf(err, "unknown database URL scheme \"%.*s\" (want sqlite: or postgres://)", n, url);
        return STORE_CONNECT;
    }
    if (rc != STORE_OK)
        return rc;
    sb_map_init(&s->stmts);
    *out = s;
    return STORE_OK;
}

void store_close(store *s)
{
    if (!s)
        return;
    size_t it = 0;
    sb_map_entry *e;
    while ((e = sb_map_next(&s->stmts, &it))) {
        store_stmt *st = e->value;
        free(st->sql);
        s->ops->finalize(st);
    }
    sb_map_deinit(&s->stmts);
    s->ops->close(s);
}

store_driver store_driver_of(const store *s)
{
    return s->ops->driver;
}

void store_set_observer(store *s, store_observer fn, void *ctx)
{
    s->observer = fn;
    s->observer_ctx = ctx;
}

static void observe(store *s, uint64_t ns, bool ok)
{
    if (s->observer)
        s->observer(s->observer_ctx, s->ops->driver, ns, ok);
}

static store_err check_tx_lost(store *s, sb_errbuf *err)
{
    if (!s->tx_lost)
        return STORE_OK;
    sb_errf(err, "the connection was lost inside a transaction; roll it back");
    return STORE_BUSY;
}

/* store_exec without the lost-transaction guard, for ROLLBACK. */
static store_err exec_timed(store *s, const char *sql, sb_errbuf *err)
{
    store_err rc = s->ops->ready(s, err);
    if (rc != STORE_OK)
        return rc;
    uint64_t t0 = sb_mono_ns();
    rc = s->ops->exec(s, sql, err);
    observe(s, sb_mono_ns() - t0, rc == STORE_OK);
    return rc;
}

store_err store_exec(store *s, const char *sql, sb_errbuf *err)
{
    store_err rc = check_tx_lost(s, err);
    return rc != STORE_OK ? rc : exec_timed(s, sql, err);
}

store_err store_ping(store *s, sb_errbuf *err)
{
    uint64_t t0 = sb_mono_ns();
    store_err rc = s->ops->ping(s, err);
    observe(s, sb_mono_ns() - t0, rc == STORE_OK);
    return rc;
}

store_err store_prepare(store *s, const char *sql, store_stmt **out, sb_errbuf *err)
{
    store_err rc = check_tx_lost(s, err);
    if (rc == STORE_OK)
        rc = s->ops->ready(s, err);
    if (rc != STORE_OK)
        return rc;
    sb_str key = sb_str_c(sql);
    store_stmt *st = sb_map_get(&s->stmts, key);
    if (st) {
        /* Two live uses of one cached statement would overwrite each
         * other's binds and rows: a caller forgot store_reset. */
        assert(!st->active && "statement in use: store_reset it first");
        *out = st;
        return STORE_OK;
    }
    if ((rc = s->ops->prepare(s, sql, &st, err)) != STORE_OK)
        return rc;
    st->s = s;
    st->sql = sb_strdup(sql);
    sb_map_put(&s->stmts, key, st);
    *out = st;
    return STORE_OK;
}

/* Binds are void (as in the header) so that call sites stay short; a bad
 * index is remembered and reported as STORE_MISUSE by the next step. */
static void bind(store_stmt *st, int idx, const store__value *v)
{
    if (st->started) {
        st->bad_bind = -1;
        return;
    }
    st->active = true;
    if (idx < 1 || idx > st->nparams) {
        st->bad_bind = idx;
        return;
    }
    st->s->ops->bind(st, idx, v);
}

void store_bind_null(store_stmt *st, int idx)
{
    bind(st, idx, &(store__value){.type = STORE__V_NULL});
}

void store_bind_int(store_stmt *st, int idx, int64_t v)
{
    bind(st, idx, &(store__value){.type = STORE__V_INT, .i = v});
}

void store_bind_double(store_stmt *st, int idx, double v)
{
    bind(st, idx, &(store__value){.type = STORE__V_DOUBLE, .d = v});
}

void store_bind_bool(store_stmt *st, int idx, bool v)
{
    bind(st, idx, &(store__value){.type = STORE__V_BOOL, .i = v});
}

void store_bind_text(store_stmt *st, int idx, const char *p, size_t len)
{
    bind(st, idx, &(store__value){.type = STORE__V_TEXT, .p = len ? p : "", .len = len});
}

void store_bind_blob(store_stmt *st, int idx, const void *p, size_t len)
{
    bind(st, idx, &(store__value){.type = STORE__V_BLOB, .p = len ? p : "", .len = len});
}

void store_bind_cstr(store_stmt *st, int idx, const char *s)
{
    if (s)
        store_bind_text(st, idx, s, strlen(s));
    else
        store_bind_null(st, idx);
}

store_err store_step(store_stmt *st, sb_errbuf *err)
{
    store *s = st->s;
    st->active = true;
    if (st->bad_bind) {
        if (st->bad_bind < 0)
            sb_errf(err, "bind after step without store_reset");
        else
            sb_errf(err, "bind index %d out of range: the statement has %d parameter(s)",
                    st->bad_bind, st->nparams);
        return STORE_MISUSE;
    }
    if (st->finished) {
        if (!st->failed)
            return STORE_DONE;
        sb_errf(err, "step after a failed step without store_reset");
        return STORE_MISUSE;
    }
    store_err rc = check_tx_lost(s, err);
    if (rc != STORE_OK)
        return rc;
    if (!st->started)
        st->changes = 0;
    st->started = true;
    uint64_t t0 = sb_mono_ns();
    rc = s->ops->step(st, err);
    st->exec_ns += sb_mono_ns() - t0;
    if (rc != STORE_ROW) {
        st->finished = true;
        st->failed = rc != STORE_DONE;
        st->observed = true;
        observe(s, st->exec_ns, !st->failed);
    }
    return rc;
}

int store_col_count(store_stmt *st)
{
    return st->s->ops->col_count(st);
}

bool store_col_is_null(store_stmt *st, int idx)
{
    return st->s->ops->col_is_null(st, idx);
}

int64_t store_col_int(store_stmt *st, int idx)
{
    return st->s->ops->col_int(st, idx);
}

double store_col_double(store_stmt *st, int idx)
{
    return st->s->ops->col_double(st, idx);
}

bool store_col_bool(store_stmt *st, int idx)
{
    return st->s->ops->col_bool(st, idx);
}

const char *store_col_text(store_stmt *st, int idx, size_t *len)
{
    size_t n = 0;
    const char *p = st->s->ops->col_text(st, idx, &n);
    if (len)
        *len = n;
    return p;
}

const void *store_col_blob(store_stmt *st, int idx, size_t *len)
{
    size_t n = 0;
    const void *p = st->s->ops->col_blob(st, idx, &n);
    if (len)
        *len = n;
    return p;
}

int64_t store_changes(store_stmt *st)
{
    return st->changes;
}

void store_reset(store_stmt *st)
{
    /* A caller that stops reading early still ran the statement. */
    if (st->started && !st->observed)
        observe(st->s, st->exec_ns, true);
    st->s->ops->reset(st);
    st->active = st->started = st->finished = st->failed = st->observed = false;
    st->bad_bind = 0;
    st->exec_ns = 0;
}

/* Transactions. */

static void tx_ungate(store *s)
{
    if (s->ops->tx_gate && !s->in_tx)
        (void)s->ops->tx_gate(s, false, NULL);
}

/* Opens a transaction with sql; gated: after the driver's writer gate. */
static store_err begin(store *s, const char *sql, bool gated, sb_errbuf *err)
{
    if (s->in_tx) {
        sb_errf(err, "a transaction is already open (use a savepoint)");
        return STORE_MISUSE;
    }
    store_err rc = gated && s->ops->tx_gate ? s->ops->tx_gate(s, true, err) : STORE_OK;
    if (rc != STORE_OK)
        return rc;
    rc = store_exec(s, sql, err);
    if (rc == STORE_OK)
        s->in_tx = true;
    else
        tx_ungate(s);
    return rc;
}

store_err store_begin(store *s, sb_errbuf *err)
{
    return begin(s, s->ops->begin_sql, true, err);
}

store_err store_begin_read(store *s, sb_errbuf *err)
{
    return begin(s, s->ops->begin_read_sql, false, err);
}

store_err store_commit(store *s, sb_errbuf *err)
{
    if (!s->in_tx) {
        sb_errf(err, "store_commit outside a transaction");
        return STORE_MISUSE;
    }
    if (s->tx_lost) {
        s->in_tx = s->tx_lost = false;
        sb_errf(err, "the connection was lost inside the transaction; nothing was committed");
        return STORE_BUSY;
    }
    store_err rc = store_exec(s, "COMMIT", err);
    /* The database decides: SQLite keeps the transaction after a busy
     * COMMIT, PostgreSQL ends it whatever happened. */
    s->in_tx = !s->tx_lost && s->ops->tx_active(s);
    s->tx_lost = false;
    tx_ungate(s);
    return rc;
}

/* Rolling back outside a transaction is a no-op, so failure paths can call
 * it unconditionally (a failed PostgreSQL COMMIT has already ended it). */
store_err store_rollback(store *s, sb_errbuf *err)
{
    if (!s->in_tx)
        return STORE_OK;
    if (s->tx_lost) {
        /* The server dropped the transaction with the connection. */
        s->in_tx = s->tx_lost = false;
        return STORE_OK;
    }
    store_err rc = exec_timed(s, "ROLLBACK", err);
    if (s->tx_lost)
        rc = STORE_OK;
    s->in_tx = !s->tx_lost && s->ops->tx_active(s);
    s->tx_lost = false;
    tx_ungate(s);
    return rc;
}

/* Savepoint names come from code, but they are pasted into SQL, so they are
 * checked anyway; quoting keeps names like "order" from being keywords. */
static store_err savepoint_cmd(store *s, const char *verb, const char *name, sb_errbuf *err)
{
    size_t n = name ? strlen(name) : 0;
    if (n == 0 || n > 63 || strspn(name, "abcdefghijklmnopqrstuvwxyz0123456789_") != n) {
        sb_errf(err, "invalid savepoint name (want [a-z_0-9]{1,63})");
        return STORE_MISUSE;
    }
    if (!s->in_tx) {
        sb_errf(err, "%s outside a transaction", verb);
        return STORE_MISUSE;
    }
    char sql[128];
    snprintf(sql, sizeof sql, "%s \"%s\"", verb, name);
    return store_exec(s, sql, err);
}

store_err store_savepoint(store *s, const char *name, sb_errbuf *err)
{
    return savepoint_cmd(s, "SAVEPOINT", name, err);
}

store_err store_release(store *s, const char *name, sb_errbuf *err)
{
    return savepoint_cmd(s, "RELEASE SAVEPOINT", name, err);
}

store_err store_rollback_to(store *s, const char *name, sb_errbuf *err)
{
    return savepoint_cmd(s, "ROLLBACK TO SAVEPOINT", name, err);
}

bool store_in_transaction(const store *s)
{
    return s->in_tx;
}
