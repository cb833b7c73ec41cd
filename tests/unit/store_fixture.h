/*
 * store_fixture.h: what the unit tests that run on both storage drivers
 * (SITEBASE_TEST_DB) share: which driver this run is, the PostgreSQL
 * fixture's admin connection, a fresh store per test (SQLite in a data
 * folder, PostgreSQL in a schema of its own, so tests in parallel never
 * meet), and removing a test's folder. Included once per test program.
 */
#ifndef SB_TESTS_STORE_FIXTURE_H
#define SB_TESTS_STORE_FIXTURE_H

#include <dirent.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <unistd.h>

#include "store/migrate.h"
#include "store/store.h"

static store_driver driver;
static char pg_url[512]; /* the fixture's URL, no schema */
static store *pg_admin;  /* creates and drops the per-test schemas */
static sb_errbuf E;

/* The group setup: the driver from SITEBASE_TEST_DB and, for PostgreSQL,
 * the admin connection to the server tests/pg.sh started. */
static int group_setup(void **state)
{
    (void)state;
    const char *db = getenv("SITEBASE_TEST_DB");
    driver = db && strcmp(db, "postgres") == 0 ? STORE_POSTGRES : STORE_SQLITE;
    if (driver == STORE_SQLITE)
        return 0;
    const char *file = getenv("SITEBASE_TEST_PG_URL_FILE");
    FILE *fp = file ? fopen(file, "r") : NULL;
    if (!fp || !fgets(pg_url, sizeof pg_url, fp)) {
        fprintf(stderr, "cannot read the PostgreSQL URL from %s\n", file ? file : "(unset)");
        if (fp)
            fclose(fp);
        return -1;
    }
    fclose(fp);
    pg_url[strcspn(pg_url, "\r\n")] = 0;
    if (store_open(pg_url, NULL, &pg_admin, &E) != STORE_OK) {
        fprintf(stderr, "cannot connect to %s: %s\n", pg_url, E.msg);
        return -1;
    }
    return 0;
}

static int group_teardown(void **state)
{
    (void)state;
    store_close(pg_admin);
    return 0;
}

/* Opens a fresh store into *s: SQLite in the folder data, PostgreSQL in a
 * new schema named <prefix>_<pid>_<n> (into schema). url receives how to
 * open another connection to the same database. -1 (said on stderr) when
 * it cannot. */
static int fixture_store_open(const char *prefix, int n, const char *data, char *schema,
                              size_t schema_cap, char *url, size_t url_cap, store **s)
{
    if (driver == STORE_SQLITE) {
        snprintf(url, url_cap, "sqlite:%s/sitebase.db", data);
        if (store_open(NULL, data, s, &E) != STORE_OK) {
            fprintf(stderr, "open: %s\n", E.msg);
            return -1;
        }
        return 0;
    }
    snprintf(schema, schema_cap, "%s_%d_%d", prefix, (int)getpid(), n);
    char sql[256];
    snprintf(sql, sizeof sql, "DROP SCHEMA IF EXISTS %s CASCADE; CREATE SCHEMA %s", schema, schema);
    if (store_exec(pg_admin, sql, &E) != STORE_OK) {
        fprintf(stderr, "create schema: %s\n", E.msg);
        return -1;
    }
    snprintf(url, url_cap, "%s%soptions=-csearch_path%%3D%s", pg_url,
             strchr(pg_url, '?') ? "&" : "?", schema);
    if (store_open(url, NULL, s, &E) != STORE_OK) {
        fprintf(stderr, "open: %s\n", E.msg);
        return -1;
    }
    return 0;
}

/* Drops the schema fixture_store_open made (PostgreSQL; nothing else). */
static void fixture_store_drop(const char *schema)
{
    if (driver != STORE_POSTGRES)
        return;
    char sql[128];
    snprintf(sql, sizeof sql, "DROP SCHEMA IF EXISTS %s CASCADE", schema);
    store_exec(pg_admin, sql, &E);
}

static void rm_rf(const char *path);

/* A fresh, migrated store of its own for one test: a temp folder (the
 * SQLite file, blobs) and, on PostgreSQL, a schema. */
typedef struct fixture_db {
    char dir[64], data[96], schema[64], url[700];
    store *s;
} fixture_db;

/* Opens f with no schema yet (prefix names the folder and schema, n tells
 * tests apart); -1, said on stderr, when it cannot. */
static inline int fixture_db_open_empty(fixture_db *f, const char *prefix, int n)
{
    snprintf(f->dir, sizeof f->dir, "/tmp/%s.XXXXXX", prefix);
    if (!mkdtemp(f->dir))
        return -1;
    snprintf(f->data, sizeof f->data, "%s/data", f->dir);
    return fixture_store_open(prefix, n, f->data, f->schema, sizeof f->schema, f->url,
                              sizeof f->url, &f->s);
}

/* fixture_db_open_empty, then every migration. */
static inline int fixture_db_open(fixture_db *f, const char *prefix, int n)
{
    if (fixture_db_open_empty(f, prefix, n) != 0)
        return -1;
    if (store_migrate(f->s, NULL, &E) != STORE_OK) {
        fprintf(stderr, "migrate: %s\n", E.msg);
        return -1;
    }
    return 0;
}

static inline void fixture_db_close(fixture_db *f)
{
    store_close(f->s);
    rm_rf(f->dir);
    fixture_store_drop(f->schema);
}

/* The cmocka teardown of a test whose state is a calloc'd fixture_db. */
static inline int fixture_db_teardown(void **state)
{
    fixture_db *f = *state;
    fixture_db_close(f);
    free(f);
    return 0;
}

/* A project (id project_id) and its owner, the rows that project-scoped
 * tables refer to; -1, said on stderr, when they cannot be written. */
static inline int fixture_db_project(fixture_db *f, const char *project_id)
{
    char sql[512];
    snprintf(sql, sizeof sql,
             "INSERT INTO users (id, email, created_at, updated_at) VALUES "
             "('01a21734-0000-7000-8000-000000000001', 'o@example.com', 1, 1);"
             "INSERT INTO projects (id, name, owner_id, created_at, updated_at) VALUES "
             "('%s', 'P', '01a21734-0000-7000-8000-000000000001', 1, 1)",
             project_id);
    if (store_exec(f->s, sql, &E) != STORE_OK) {
        fprintf(stderr, "fixture rows: %s\n", E.msg);
        return -1;
    }
    return 0;
}

/* rm -rf path. */
static void rm_rf(const char *path)
{
    struct stat sb;
    if (lstat(path, &sb) != 0)
        return;
    if (S_ISDIR(sb.st_mode)) {
        DIR *d = opendir(path);
        struct dirent *e;
        while (d && (e = readdir(d))) {
            if (strcmp(e->d_name, ".") == 0 || strcmp(e->d_name, "..") == 0)
                continue;
            char sub[1024];
            snprintf(sub, sizeof sub, "%s/%s", path, e->d_name);
            rm_rf(sub);
        }
        if (d)
            closedir(d);
        rmdir(path);
    } else {
        unlink(path);
    }
}

#endif
