/*
 * migrate.h: numbered schema migrations per driver, compiled into the binary
 * from src/store/migrations/<driver>/NNNN_name.sql (cmake/embed_migrations.cmake).
 * Each pending migration runs inside its own transaction together with its
 * row in schema_migrations(version, name, applied_at), so a failure leaves
 * the schema at the last good version. Applying is idempotent.
 */
#ifndef SB_STORE_MIGRATE_H
#define SB_STORE_MIGRATE_H

#include "store/store.h"

typedef struct store_migration {
    const char *driver; /* "sqlite" / "postgres"; NULL ends the table */
    int version;
    const char *name; /* file name without .sql */
    const char *sql;
} store_migration;

/* Generated table, sorted by driver then version, ended by a NULL driver. */
extern const store_migration store_migrations[];

/* Applies every pending migration of s's driver, in order. *applied (may be
 * NULL) receives how many ran. On failure, err names the migration. */
store_err store_migrate(store *s, int *applied, sb_errbuf *err);

typedef struct store_migration_status {
    int version;
    const char *name;
    int64_t applied_at_us; /* 0 when pending */
} store_migration_status;

/* Calls fn for each known migration of s's driver, in order, with whether
 * and when it was applied. */
store_err store_migrate_status(store *s, void (*fn)(void *ctx, const store_migration_status *m),
                               void *ctx, sb_errbuf *err);

#endif
