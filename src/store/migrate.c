/*
 * migrate.c: brings a database's schema up to the version this binary was
 * built with. The migrations are numbered SQL scripts per driver, compiled
 * in (cmake/embed_migrations.cmake); schema_migrations records each one
 * applied, with when (unix microseconds).
 *
 * Invariants: a migration and its schema_migrations row commit together or
 * not at all (DDL is transactional in both SQLite and PostgreSQL), so the
 * recorded versions are exactly the applied ones. Versions of one driver are
 * strictly increasing in the table; a duplicate number is refused rather
 * than silently skipped. Two servers starting at once apply each migration
 * once: each re-checks its version inside a transaction that holds the
 * write lock (SQLite's BEGIN IMMEDIATE, PostgreSQL's LOCK TABLE).
 *
 * Never: edit or renumber a migration that has shipped (databases that
 * applied it would not run it again); run inside a caller's transaction.
 */
#include <stdlib.h>
#include <string.h>

#include "base/clock.h"
#include "base/vec.h"
#include "store/store_int.h"

typedef struct applied_row {
    int version;
    int64_t at_us;
} applied_row;

typedef SB_VEC(applied_row) applied_vec;

static const char create_sql[] = "CREATE TABLE IF NOT EXISTS schema_migrations ("
                                 "version integer PRIMARY KEY, "
                                 "name text NOT NULL, "
                                 "applied_at bigint NOT NULL)";

/* Reads the applied versions, in order; an absent table means none. */
static store_err load_applied(store *s, applied_vec *out, sb_errbuf *err)
{
    const char *exists_sql =
        store_driver_of(s) == STORE_SQLITE
            ? "SELECT 1 FROM sqlite_master WHERE type = 'table' AND name = 'schema_migrations'"
            : "SELECT 1 WHERE to_regclass('schema_migrations') IS NOT NULL";
    store_stmt *st;
    store_err rc = store_prepare(s, exists_sql, &st, err);
    if (rc != STORE_OK)
        return rc;
    rc = store_step(st, err);
    store_reset(st);
    if (rc != STORE_ROW)
        return rc == STORE_DONE ? STORE_OK : rc;

    rc = store_prepare(s, "SELECT version, applied_at FROM schema_migrations ORDER BY version", &st,
                       err);
    if (rc != STORE_OK)
        return rc;
    while ((rc = store_step(st, err)) == STORE_ROW) {
        applied_row r = {(int)store_col_int(st, 0), store_col_int(st, 1)};
        sb_vec_push(out, r);
    }
    store_reset(st);
    return rc == STORE_DONE ? STORE_OK : rc;
}

static const applied_row *find_applied(const applied_vec *v, int version)
{
    for (size_t i = 0; i < v->len; i++)
        if (v->items[i].version == version)
            return &v->items[i];
    return NULL;
}

/* Runs one migration in its own transaction. */
static store_err apply_one(store *s, const store_migration *m, bool *ran, sb_errbuf *err)
{
    store_stmt *st;
    store_err rc = store_begin(s, err);
    if (rc != STORE_OK)
        return rc;
    if (store_driver_of(s) == STORE_POSTGRES &&
        (rc = store_exec(s, "LOCK TABLE schema_migrations IN EXCLUSIVE MODE", err)) != STORE_OK)
        goto fail;

    /* Another server may have applied it since we looked. */
    if ((rc = store_prepare(s, "SELECT 1 FROM schema_migrations WHERE version = $1", &st, err)) !=
        STORE_OK)
        goto fail;
    store_bind_int(st, 1, m->version);
    rc = store_step(st, err);
    store_reset(st);
    if (rc == STORE_ROW) {
        *ran = false;
        return store_commit(s, err);
    }
    if (rc != STORE_DONE)
        goto fail;

    if ((rc = store_exec(s, m->sql, err)) != STORE_OK)
        goto fail;
    if ((rc = store_prepare(s,
                            "INSERT INTO schema_migrations (version, name, applied_at) "
                            "VALUES ($1, $2, $3)",
                            &st, err)) != STORE_OK)
        goto fail;
    store_bind_int(st, 1, m->version);
    store_bind_text(st, 2, m->name, strlen(m->name));
    store_bind_int(st, 3, sb_wall_us());
    rc = store_step(st, err);
    store_reset(st);
    if (rc != STORE_DONE)
        goto fail;
    if ((rc = store_commit(s, err)) != STORE_OK)
        goto fail;
    *ran = true;
    return STORE_OK;
fail:
    store_rollback(s, NULL);
    return rc;
}

store_err store__migrate_from(store *s, const store_migration *table, int *applied, sb_errbuf *err)
{
    int count = 0;
    applied_vec done = {0};
    const char *driver = store_driver_name(store_driver_of(s));
    store_err rc;
    if (store_in_transaction(s)) {
        sb_errf(err, "store_migrate inside a transaction");
        rc = STORE_MISUSE;
        goto out;
    }
    if ((rc = store_exec(s, create_sql, err)) != STORE_OK ||
        (rc = load_applied(s, &done, err)) != STORE_OK)
        goto out;

    int last = 0;
    const char *last_name = "";
    for (const store_migration *m = table; m->driver; m++) {
        if (strcmp(m->driver, driver) != 0)
            continue;
        if (m->version <= last) {
            sb_errf(err, "migration %s: number %d is not above %s's", m->name, m->version,
                    last_name);
            rc = STORE_MIGRATION;
            goto out;
        }
        last = m->version;
        last_name = m->name;
        if (find_applied(&done, m->version))
            continue;
        sb_errbuf inner = {{0}};
        bool ran = false;
        if (apply_one(s, m, &ran, &inner) != STORE_OK) {
            sb_errf(err, "migration %s: %s", m->name, inner.msg);
            rc = STORE_MIGRATION;
            goto out;
        }
        count += ran;
    }
out:
    if (applied)
        *applied = count;
    sb_vec_free(&done);
    return rc;
}

store_err store_migrate(store *s, int *applied, sb_errbuf *err)
{
    return store__migrate_from(s, store_migrations, applied, err);
}

store_err store_migrate_status(store *s, void (*fn)(void *ctx, const store_migration_status *m),
                               void *ctx, sb_errbuf *err)
{
    applied_vec done = {0};
    store_err rc = load_applied(s, &done, err);
    if (rc == STORE_OK) {
        const char *driver = store_driver_name(store_driver_of(s));
        for (const store_migration *m = store_migrations; m->driver; m++) {
            if (strcmp(m->driver, driver) != 0)
                continue;
            const applied_row *r = find_applied(&done, m->version);
            store_migration_status st = {m->version, m->name, r ? r->at_us : 0};
            fn(ctx, &st);
        }
    }
    sb_vec_free(&done);
    return rc;
}
