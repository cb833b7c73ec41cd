/*
 * store_test.c: the storage interface, run once per driver.
 *
 * SITEBASE_TEST_DB picks the driver. SQLite tests get a fresh data folder
 * each; PostgreSQL tests get a fresh schema each (search_path set in the URL,
 * so it survives reconnects), dropped afterwards, so reruns pass.
 */
/* drivers: sqlite postgres */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <cmocka.h>

#include <dirent.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <time.h>
#include <unistd.h>

#include "base/str.h"
#include "store/migrate.h"
#include "store/store.h"

#include "store_fixture.h"
#include "test_file.h"
#include "store/store_int.h"
#include "store/sqlite_ckpt.h"

static int test_no;

typedef struct fx {
    store *s;
    char dir[256];   /* SQLite: the temporary folder */
    char data[300];  /* SQLite: the data folder inside it */
    char schema[64]; /* PostgreSQL: this test's schema */
    char url[700];   /* how to open another connection to the same db */
} fx;

#define CHECK(x)                                                                                   \
    do {                                                                                           \
        E.msg[0] = 0;                                                                              \
        store_err rc_ = (x);                                                                       \
        if (rc_ != STORE_OK)                                                                       \
            fail_msg("%s: %s (%s)", #x, store_strerror(rc_), E.msg);                               \
    } while (0)

/* Picks the statement text for the driver under test (DDL differs). */
static const char *pick(const char *sqlite_sql, const char *pg_sql)
{
    return driver == STORE_SQLITE ? sqlite_sql : pg_sql;
}

static void exec_ok(store *s, const char *sql)
{
    CHECK(store_exec(s, sql, &E));
}

/* First column of the first row as an integer; -999 when there is no row. */
static int64_t query_int(store *s, const char *sql)
{
    store_stmt *st;
    CHECK(store_prepare(s, sql, &st, &E));
    store_err rc = store_step(st, &E);
    if (rc != STORE_ROW && rc != STORE_DONE)
        fail_msg("%s: %s (%s)", sql, store_strerror(rc), E.msg);
    int64_t v = rc == STORE_ROW ? store_col_int(st, 0) : -999;
    store_reset(st);
    return v;
}

static int setup(void **state)
{
    fx *f = calloc(1, sizeof *f);
    test_no++;
    if (driver == STORE_SQLITE) {
        snprintf(f->dir, sizeof f->dir, "/tmp/store_test.XXXXXX");
        if (!mkdtemp(f->dir))
            return -1;
        snprintf(f->data, sizeof f->data, "%s/data/nested", f->dir);
    }
    if (fixture_store_open("t", test_no, f->data, f->schema, sizeof f->schema, f->url,
                           sizeof f->url, &f->s) != 0)
        return -1;
    *state = f;
    return 0;
}

static int teardown(void **state)
{
    fx *f = *state;
    store_close(f->s);
    if (driver == STORE_SQLITE)
        rm_rf(f->dir);
    fixture_store_drop(f->schema);
    free(f);
    return 0;
}

/* Opens another connection to the test's database. */
static store *open_second(fx *f)
{
    store *s2 = NULL;
    CHECK(store_open(f->url, NULL, &s2, &E));
    return s2;
}

static void test_open_close(void **state)
{
    fx *f = *state;
    assert_int_equal(store_driver_of(f->s), driver);
    assert_string_equal(store_driver_name(STORE_SQLITE), "sqlite");
    assert_string_equal(store_driver_name(STORE_POSTGRES), "postgres");
    CHECK(store_ping(f->s, &E));
    assert_false(store_in_transaction(f->s));
    store_close(NULL);
    if (driver == STORE_SQLITE) {
        struct stat sb;
        char path[400];
        assert_int_equal(stat(f->data, &sb), 0);
        assert_int_equal(sb.st_mode & 0777, 0700);
        snprintf(path, sizeof path, "%s/data", f->dir);
        assert_int_equal(stat(path, &sb), 0);
        assert_int_equal(sb.st_mode & 0777, 0700);
        snprintf(path, sizeof path, "%s/sitebase.db", f->data);
        assert_int_equal(stat(path, &sb), 0);

        store_stmt *st;
        CHECK(store_prepare(f->s, "PRAGMA journal_mode", &st, &E));
        assert_int_equal(store_step(st, &E), STORE_ROW);
        assert_string_equal(store_col_text(st, 0, NULL), "wal");
        store_reset(st);
        assert_int_equal(query_int(f->s, "PRAGMA synchronous"), 1); /* NORMAL */
        assert_int_equal(query_int(f->s, "PRAGMA foreign_keys"), 1);
        assert_int_equal(query_int(f->s, "PRAGMA busy_timeout"), 5000);
    }
    store_stmt *st;
    CHECK(store_prepare(f->s, "SELECT 1 + 1", &st, &E));
    assert_int_equal(store_step(st, &E), STORE_ROW);
    assert_int_equal(store_col_count(st), 1);
    assert_int_equal(store_col_int(st, 0), 2);
    assert_int_equal(store_step(st, &E), STORE_DONE);
    store_reset(st);
}

static void test_bad_scheme(void **state)
{
    store *s = NULL;
    sb_errbuf err = {{0}};
    assert_int_equal(store_open("mysql://u:hunter2pw@h/db", NULL, &s, &err), STORE_CONNECT);
    assert_null(s);
    assert_non_null(strstr(err.msg, "mysql"));
    assert_null(strstr(err.msg, "hunter2pw"));
}

static const char blob_bytes[] = {0, 1, (char)0xff, 0, 'x'};
static const char utf8_text[] =
    "h\xc3\xa9llo \"quoted\" 'single' \xe2\x9c\x93 \xe6\x97\xa5\xe6\x9c\xac";

static void test_types(void **state)
{
    fx *f = *state;
    exec_ok(f->s, pick("CREATE TABLE t (id integer PRIMARY KEY, i bigint, d double precision, "
                       "b boolean, s text, bl blob)",
                       "CREATE TABLE t (id integer PRIMARY KEY, i bigint, d double precision, "
                       "b boolean, s text, bl bytea)"));
    const char *ins = "INSERT INTO t (id, i, d, b, s, bl) VALUES ($1, $2, $3, $4, $5, $6)";
    store_stmt *st;
    struct {
        int64_t i;
        double d;
        bool b;
    } rows[] = {{INT64_MIN, -0.5, false}, {INT64_MAX, 3.141592653589793, true}, {0, 1e300, true}};
    for (int r = 0; r < 3; r++) {
        CHECK(store_prepare(f->s, ins, &st, &E));
        store_bind_int(st, 1, r + 1);
        store_bind_int(st, 2, rows[r].i);
        store_bind_double(st, 3, rows[r].d);
        store_bind_bool(st, 4, rows[r].b);
        store_bind_text(st, 5, utf8_text, strlen(utf8_text));
        store_bind_blob(st, 6, blob_bytes, sizeof blob_bytes);
        assert_int_equal(store_step(st, &E), STORE_DONE);
        assert_int_equal(store_changes(st), 1);
        store_reset(st);
    }
    /* NULLs, then empty (not NULL) text and blob. */
    CHECK(store_prepare(f->s, ins, &st, &E));
    store_bind_int(st, 1, 4);
    store_bind_null(st, 2);
    store_bind_null(st, 3);
    store_bind_null(st, 4);
    store_bind_null(st, 5);
    /* $6 left unbound: NULL */
    assert_int_equal(store_step(st, &E), STORE_DONE);
    store_reset(st);
    CHECK(store_prepare(f->s, ins, &st, &E));
    store_bind_int(st, 1, 5);
    store_bind_text(st, 5, "", 0);
    store_bind_blob(st, 6, NULL, 0);
    assert_int_equal(store_step(st, &E), STORE_DONE);
    store_reset(st);

    CHECK(store_prepare(f->s, "SELECT id, i, d, b, s, bl FROM t ORDER BY id", &st, &E));
    for (int r = 0; r < 3; r++) {
        assert_int_equal(store_step(st, &E), STORE_ROW);
        assert_int_equal(store_col_count(st), 6);
        assert_int_equal(store_col_int(st, 0), r + 1);
        assert_true(store_col_int(st, 1) == rows[r].i);
        assert_true(store_col_double(st, 2) == rows[r].d);
        assert_int_equal(store_col_bool(st, 3), rows[r].b);
        size_t n = 0;
        const char *s = store_col_text(st, 4, &n);
        assert_int_equal(n, strlen(utf8_text));
        assert_string_equal(s, utf8_text);
        const void *bl = store_col_blob(st, 5, &n);
        assert_int_equal(n, sizeof blob_bytes);
        assert_memory_equal(bl, blob_bytes, sizeof blob_bytes);
        assert_false(store_col_is_null(st, 5));
    }
    assert_int_equal(store_step(st, &E), STORE_ROW);
    for (int c = 1; c < 6; c++)
        assert_true(store_col_is_null(st, c));
    assert_int_equal(store_col_int(st, 1), 0);
    assert_false(store_col_bool(st, 3));
    size_t n = 7;
    assert_null(store_col_text(st, 4, &n));
    assert_int_equal(n, 0);
    n = 7;
    assert_null(store_col_blob(st, 5, &n));
    assert_int_equal(n, 0);
    assert_int_equal(store_step(st, &E), STORE_ROW);
    assert_false(store_col_is_null(st, 4));
    assert_false(store_col_is_null(st, 5));
    assert_string_equal(store_col_text(st, 4, &n), "");
    assert_int_equal(n, 0);
    assert_non_null(store_col_blob(st, 5, &n));
    assert_int_equal(n, 0);
    assert_int_equal(store_step(st, &E), STORE_DONE);
    store_reset(st);
}

/* Values bound with one type into columns of another, as services do. */
static void test_type_combinations(void **state)
{
    fx *f = *state;
    exec_ok(f->s, "CREATE TABLE c (i bigint, s text, b boolean, d double precision)");
    store_stmt *st;
    CHECK(store_prepare(f->s, "INSERT INTO c (i, s, b, d) VALUES ($1, $2, $3, $4)", &st, &E));
    store_bind_text(st, 1, "123", 3); /* text into bigint */
    store_bind_int(st, 2, 42);        /* int into text */
    store_bind_int(st, 3, 1);         /* int into boolean */
    store_bind_int(st, 4, 7);         /* int into double */
    assert_int_equal(store_step(st, &E), STORE_DONE);
    store_reset(st);
    CHECK(store_prepare(f->s, "SELECT i, s, b, d FROM c", &st, &E));
    assert_int_equal(store_step(st, &E), STORE_ROW);
    assert_int_equal(store_col_int(st, 0), 123);
    assert_string_equal(store_col_text(st, 1, NULL), "42");
    assert_true(store_col_bool(st, 2));
    assert_int_equal(store_col_int(st, 2), 1);
    assert_true(store_col_double(st, 3) == 7.0);
    store_reset(st);

    CHECK(store_prepare(f->s, "SELECT CAST($1 AS bigint) + 1, $2", &st, &E));
    store_bind_int(st, 1, 41);
    store_bind_text(st, 2, "x'y", 3);
    assert_int_equal(store_step(st, &E), STORE_ROW);
    assert_int_equal(store_col_int(st, 0), 42);
    assert_string_equal(store_col_text(st, 1, NULL), "x'y");
    store_reset(st);

    CHECK(store_prepare(f->s, "SELECT count(*) FROM c WHERE i = $1 AND b = $2", &st, &E));
    store_bind_int(st, 1, 123);
    store_bind_bool(st, 2, true);
    assert_int_equal(store_step(st, &E), STORE_ROW);
    assert_int_equal(store_col_int(st, 0), 1);
    store_reset(st);
}

static void test_param_reuse(void **state)
{
    fx *f = *state;
    exec_ok(f->s, "CREATE TABLE p (a text, b text, n bigint)");
    store_stmt *st;
    CHECK(store_prepare(f->s, "INSERT INTO p (a, b, n) VALUES ($1, $1, $2)", &st, &E));
    store_bind_text(st, 1, "same", 4);
    store_bind_int(st, 2, 5);
    assert_int_equal(store_step(st, &E), STORE_DONE);
    store_reset(st);
    CHECK(store_prepare(f->s, "SELECT a, b, n FROM p WHERE a = $1 AND b = $1", &st, &E));
    store_bind_text(st, 1, "same", 4);
    assert_int_equal(store_step(st, &E), STORE_ROW);
    assert_string_equal(store_col_text(st, 0, NULL), "same");
    assert_string_equal(store_col_text(st, 1, NULL), "same");
    assert_int_equal(store_col_int(st, 2), 5);
    assert_int_equal(store_step(st, &E), STORE_DONE);
    store_reset(st);
    /* Parameters in any order. */
    CHECK(store_prepare(f->s, "SELECT n FROM p WHERE n = $2 AND a = $1", &st, &E));
    store_bind_text(st, 1, "same", 4);
    store_bind_int(st, 2, 5);
    assert_int_equal(store_step(st, &E), STORE_ROW);
    assert_int_equal(store_col_int(st, 0), 5);
    store_reset(st);
}

static void test_stmt_cache(void **state)
{
    fx *f = *state;
    store_stmt *a, *b, *c;
    CHECK(store_prepare(f->s, "SELECT 1", &a, &E));
    CHECK(store_prepare(f->s, "SELECT 1", &b, &E));
    CHECK(store_prepare(f->s, "SELECT 2", &c, &E));
    assert_ptr_equal(a, b);
    assert_ptr_not_equal(a, c);
    /* The key is the text, not the pointer. */
    char copy[16];
    snprintf(copy, sizeof copy, "SELECT %d", 1);
    CHECK(store_prepare(f->s, copy, &b, &E));
    assert_ptr_equal(a, b);
    /* Reused after a reset, with new binds. */
    CHECK(store_prepare(f->s, "SELECT CAST($1 AS bigint)", &a, &E));
    for (int i = 0; i < 3; i++) {
        CHECK(store_prepare(f->s, "SELECT CAST($1 AS bigint)", &b, &E));
        assert_ptr_equal(a, b);
        store_bind_int(b, 1, i * 10);
        assert_int_equal(store_step(b, &E), STORE_ROW);
        assert_int_equal(store_col_int(b, 0), i * 10);
        store_reset(b);
    }
}

static void test_constraint(void **state)
{
    fx *f = *state;
    exec_ok(f->s, "CREATE TABLE u (id integer PRIMARY KEY, email text NOT NULL UNIQUE)");
    exec_ok(f->s, "CREATE TABLE m (u_id integer NOT NULL REFERENCES u (id))");
    store_stmt *st;
    const char *ins = "INSERT INTO u (id, email) VALUES ($1, $2)";
    CHECK(store_prepare(f->s, ins, &st, &E));
    store_bind_int(st, 1, 1);
    store_bind_text(st, 2, "a@example.com", 13);
    assert_int_equal(store_step(st, &E), STORE_DONE);
    store_reset(st);

    sb_errbuf err = {{0}};
    CHECK(store_prepare(f->s, ins, &st, &E));
    store_bind_int(st, 1, 2);
    store_bind_text(st, 2, "a@example.com", 13);
    assert_int_equal(store_step(st, &err), STORE_CONSTRAINT);
    assert_true(strlen(err.msg) > 0);
    /* The duplicate value is not quoted back (it could be a secret). */
    assert_null(strstr(err.msg, "a@example.com"));
    /* Stepping a failed statement again is a misuse, until reset. */
    assert_int_equal(store_step(st, &err), STORE_MISUSE);
    store_reset(st);

    CHECK(store_prepare(f->s, ins, &st, &E));
    store_bind_int(st, 1, 3);
    store_bind_null(st, 2);
    assert_int_equal(store_step(st, &err), STORE_CONSTRAINT); /* NOT NULL */
    store_reset(st);

    CHECK(store_prepare(f->s, "INSERT INTO m (u_id) VALUES ($1)", &st, &E));
    store_bind_int(st, 1, 99);
    assert_int_equal(store_step(st, &err), STORE_CONSTRAINT); /* foreign key */
    store_reset(st);
    assert_int_equal(query_int(f->s, "SELECT count(*) FROM u"), 1);
}

static void test_transactions(void **state)
{
    fx *f = *state;
    exec_ok(f->s, "CREATE TABLE x (n integer)");
    store *other = open_second(f);
    sb_errbuf err;

    CHECK(store_begin(f->s, &E));
    assert_true(store_in_transaction(f->s));
    assert_int_equal(store_begin(f->s, &err), STORE_MISUSE);
    exec_ok(f->s, "INSERT INTO x (n) VALUES (1)");
    assert_int_equal(query_int(f->s, "SELECT count(*) FROM x"), 1);
    CHECK(store_rollback(f->s, &E));
    assert_false(store_in_transaction(f->s));
    assert_int_equal(query_int(f->s, "SELECT count(*) FROM x"), 0);

    CHECK(store_begin(f->s, &E));
    exec_ok(f->s, "INSERT INTO x (n) VALUES (2)");
    /* Not visible to another connection before the commit. */
    assert_int_equal(query_int(other, "SELECT count(*) FROM x"), 0);
    CHECK(store_commit(f->s, &E));
    assert_false(store_in_transaction(f->s));
    assert_int_equal(query_int(other, "SELECT count(*) FROM x"), 1);
    assert_int_equal(query_int(f->s, "SELECT n FROM x"), 2);

    assert_int_equal(store_commit(f->s, &err), STORE_MISUSE);
    CHECK(store_rollback(f->s, &E)); /* a no-op outside a transaction */

    /* A statement failing inside a transaction leaves it to roll back. */
    CHECK(store_begin(f->s, &E));
    assert_int_equal(store_exec(f->s, "INSERT INTO no_such_table VALUES (1)", &err), STORE_SQL);
    assert_true(store_in_transaction(f->s));
    CHECK(store_rollback(f->s, &E));
    assert_false(store_in_transaction(f->s));
    store_close(other);
}

/* A read transaction does not hold up a writer of the same database, and
 * (SQLite: from its first read; PostgreSQL READ COMMITTED: per statement)
 * sees committed rows. */
static void test_read_transactions(void **state)
{
    fx *f = *state;
    exec_ok(f->s, "CREATE TABLE x (n integer)");
    exec_ok(f->s, "INSERT INTO x (n) VALUES (1)");
    store *other = open_second(f);
    sb_errbuf err;

    CHECK(store_begin_read(f->s, &E));
    assert_true(store_in_transaction(f->s));
    assert_int_equal(store_begin_read(f->s, &err), STORE_MISUSE);
    assert_int_equal(store_begin(f->s, &err), STORE_MISUSE);
    assert_int_equal(query_int(f->s, "SELECT count(*) FROM x"), 1);
    /* The writer commits while the read transaction is open (with
     * store_begin's write lock held here it would wait, then time out). */
    CHECK(store_begin(other, &E));
    exec_ok(other, "INSERT INTO x (n) VALUES (2)");
    CHECK(store_commit(other, &E));
    if (driver == STORE_SQLITE)
        assert_int_equal(query_int(f->s, "SELECT count(*) FROM x"), 1); /* its snapshot */
    else
        assert_int_equal(query_int(f->s, "SELECT count(*) FROM x"), 2);
    if (driver == STORE_POSTGRES)
        assert_int_not_equal(store_exec(f->s, "INSERT INTO x (n) VALUES (3)", &err), STORE_OK);
    CHECK(store_rollback(f->s, &E));
    assert_false(store_in_transaction(f->s));
    assert_int_equal(query_int(f->s, "SELECT count(*) FROM x"), 2);
    store_close(other);
}

/* SQLite: checkpoints run on the file's checkpoint thread (sqlite_ckpt.c),
 * not in the commits: about 1500 pages of commits, below the size at which
 * a commit would checkpoint itself, still reach the database file. */
static void test_wal_checkpoints(void **state)
{
    fx *f = *state;
    if (driver != STORE_SQLITE)
        skip();
    exec_ok(f->s, "CREATE TABLE x (b blob)");
    for (int i = 0; i < 60; i++)
        exec_ok(f->s, "INSERT INTO x (b) VALUES (randomblob(100000))");
    char path[400];
    snprintf(path, sizeof path, "%s/sitebase.db", f->data);
    struct stat sb = {0};
    for (int i = 0; i < 500; i++) { /* up to 5 s */
        assert_int_equal(stat(path, &sb), 0);
        if (sb.st_size >= 4 * 1024 * 1024)
            break;
        struct timespec ts = {0, 10 * 1000000L};
        nanosleep(&ts, NULL);
    }
    assert_true(sb.st_size >= 4 * 1024 * 1024);
    assert_int_equal(query_int(f->s, "SELECT count(*) FROM x"), 60);
}

/* SQLite: a checkpoint is asked for per 1000 frames not yet copied, not
 * per commit while the WAL is long. A reader that always holds a snapshot
 * (as the collab writer's neighbours do) keeps a copied WAL from starting
 * over; when the hook counted the WAL's length, every commit past 1000
 * frames asked again and checkpoints ran back to back, each syncing both
 * files for the one commit it could copy. */
static void test_wal_checkpoint_backlog(void **state)
{
    fx *f = *state;
    if (driver != STORE_SQLITE)
        skip();
    char path[400];
    snprintf(path, sizeof path, "%s/ckpt.db", f->data);
    sqlite3 *w = NULL, *r = NULL;
    assert_int_equal(sqlite3_open(path, &w), SQLITE_OK);
    assert_int_equal(sqlite3_exec(w,
                                  "PRAGMA journal_mode=WAL; PRAGMA synchronous=NORMAL;"
                                  "CREATE TABLE x (n integer)",
                                  NULL, NULL, NULL),
                     SQLITE_OK);
    assert_int_equal(sqlite3_open(path, &r), SQLITE_OK);
    sqlite_ckpt *c = sqlite_ckpt_start(path);
    sqlite3_wal_hook(w, sqlite_ckpt_hook, c);
    sqlite3_stmt *ins, *sel;
    assert_int_equal(sqlite3_prepare_v2(w, "INSERT INTO x (n) VALUES (?)", -1, &ins, NULL),
                     SQLITE_OK);
    assert_int_equal(sqlite3_prepare_v2(r, "SELECT count(*) FROM x", -1, &sel, NULL), SQLITE_OK);
    for (int i = 0; i < 4000; i++) {
        /* the reader's snapshot spans each commit */
        assert_int_equal(sqlite3_exec(r, "BEGIN", NULL, NULL, NULL), SQLITE_OK);
        assert_int_equal(sqlite3_step(sel), SQLITE_ROW);
        sqlite3_reset(sel);
        sqlite3_bind_int(ins, 1, i);
        assert_int_equal(sqlite3_step(ins), SQLITE_DONE);
        sqlite3_reset(ins);
        assert_int_equal(sqlite3_exec(r, "COMMIT", NULL, NULL, NULL), SQLITE_OK);
    }
    sqlite3_finalize(ins);
    sqlite3_finalize(sel);
    sqlite3_close(r);
    sqlite3_wal_hook(w, NULL, NULL);
    unsigned runs = sqlite_ckpt_runs(c);
    sqlite_ckpt_stop(c);
    sqlite3_close(w);
    /* 4000 commits of a frame or two: a few asks, and a commit during a
     * run may ask once more; back to back it was one run per commit the
     * thread could keep up with. */
    assert_true(runs >= 1);
    assert_true(runs <= 20);
}

/* Write system calls made by this process so far (/proc/self/io). */
static long long write_calls(void)
{
    FILE *io = fopen("/proc/self/io", "r");
    assert_non_null(io);
    char line[128];
    long long n = -1;
    while (fgets(line, sizeof line, io))
        if (sscanf(line, "syscw: %lld", &n) == 1)
            break;
    fclose(io);
    assert_true(n >= 0);
    return n;
}

static int count_frames(void *ctx, sqlite3 *db, const char *name, int frames)
{
    *(int *)ctx = frames; /* the WAL's length: it never restarts here */
    return SQLITE_OK;
}

/* SQLite: a WAL frame (24-byte header, then its page) is one write, not
 * two (sqlite_vfs.c), and every committed frame is in the file when the
 * commit returns: a copy taken then, as a kill -9 would leave the files,
 * recovers every row. */
static void test_wal_frame_writes(void **state)
{
    fx *f = *state;
    if (driver != STORE_SQLITE)
        skip();
    char path[400], copy[400], from[420], to[420];
    snprintf(path, sizeof path, "%s/frames.db", f->data);
    snprintf(copy, sizeof copy, "%s/copy.db", f->data);
    sqlite3 *w = NULL;
    assert_int_equal(sqlite3_open(path, &w), SQLITE_OK);
    assert_string_equal(sqlite3_vfs_find(NULL)->zName, "sitebase");
    assert_int_equal(sqlite3_exec(w,
                                  "PRAGMA journal_mode=WAL; PRAGMA synchronous=NORMAL;"
                                  "PRAGMA wal_autocheckpoint=0; CREATE TABLE x (n integer, b blob)",
                                  NULL, NULL, NULL),
                     SQLITE_OK);
    int frames0 = 0, frames = 0;
    sqlite3_wal_hook(w, count_frames, &frames0);
    assert_int_equal(sqlite3_exec(w, "INSERT INTO x VALUES (0, randomblob(300))", NULL, NULL, NULL),
                     SQLITE_OK);
    sqlite3_wal_hook(w, count_frames, &frames);
    long long calls0 = write_calls();
    for (int i = 1; i <= 500; i++) {
        char sql[96];
        snprintf(sql, sizeof sql, "INSERT INTO x VALUES (%d, randomblob(300))", i);
        assert_int_equal(sqlite3_exec(w, sql, NULL, NULL, NULL), SQLITE_OK);
    }
    long long calls = write_calls() - calls0;
    int written = frames - frames0;
    assert_true(written >= 500);
    /* Two calls a frame before; one now (and a few to spare). */
    if (calls > written + 10)
        fail_msg("%lld write calls for %d frames", calls, written);
    /* The files as a crash leaves them: w is still open, nothing copied
     * back into the database. */
    test_copy_file(path, copy);
    snprintf(from, sizeof from, "%s-wal", path);
    snprintf(to, sizeof to, "%s-wal", copy);
    test_copy_file(from, to);
    sqlite3 *r = NULL;
    sqlite3_stmt *st;
    assert_int_equal(sqlite3_open(copy, &r), SQLITE_OK);
    assert_int_equal(
        sqlite3_prepare_v2(r, "SELECT count(*), sum(n), sum(length(b)) FROM x", -1, &st, NULL),
        SQLITE_OK);
    assert_int_equal(sqlite3_step(st), SQLITE_ROW);
    assert_int_equal(sqlite3_column_int64(st, 0), 501);
    assert_int_equal(sqlite3_column_int64(st, 1), 500 * 501 / 2);
    assert_int_equal(sqlite3_column_int64(st, 2), 501 * 300);
    sqlite3_finalize(st);
    assert_int_equal(sqlite3_prepare_v2(r, "PRAGMA integrity_check", -1, &st, NULL), SQLITE_OK);
    assert_int_equal(sqlite3_step(st), SQLITE_ROW);
    assert_string_equal((const char *)sqlite3_column_text(st, 0), "ok");
    sqlite3_finalize(st);
    sqlite3_close(r);
    sqlite3_close(w);
}

static void test_savepoints(void **state)
{
    fx *f = *state;
    exec_ok(f->s, "CREATE TABLE x (n integer)");
    sb_errbuf err;
    assert_int_equal(store_savepoint(f->s, "sp", &err), STORE_MISUSE); /* no transaction */
    CHECK(store_begin(f->s, &E));
    exec_ok(f->s, "INSERT INTO x (n) VALUES (1)");
    CHECK(store_savepoint(f->s, "sp_1", &E));
    exec_ok(f->s, "INSERT INTO x (n) VALUES (2)");
    CHECK(store_savepoint(f->s, "inner", &E));
    exec_ok(f->s, "INSERT INTO x (n) VALUES (3)");
    CHECK(store_release(f->s, "inner", &E));
    CHECK(store_rollback_to(f->s, "sp_1", &E));
    exec_ok(f->s, "INSERT INTO x (n) VALUES (4)");
    CHECK(store_release(f->s, "sp_1", &E));
    assert_true(store_in_transaction(f->s));
    CHECK(store_commit(f->s, &E));
    assert_int_equal(query_int(f->s, "SELECT count(*) FROM x"), 2);
    assert_int_equal(query_int(f->s, "SELECT sum(n) FROM x"), 5);

    CHECK(store_begin(f->s, &E));
    const char *bad[] = {"", "Sp", "a-b", "x; DROP TABLE x", "a b", "\"q\"", NULL};
    for (int i = 0; bad[i]; i++) {
        assert_int_equal(store_savepoint(f->s, bad[i], &err), STORE_MISUSE);
        assert_int_equal(store_release(f->s, bad[i], &err), STORE_MISUSE);
        assert_int_equal(store_rollback_to(f->s, bad[i], &err), STORE_MISUSE);
    }
    assert_int_equal(store_savepoint(f->s, NULL, &err), STORE_MISUSE);
    /* A keyword is fine: names are quoted. */
    CHECK(store_savepoint(f->s, "select", &E));
    CHECK(store_rollback(f->s, &E));
    assert_int_equal(query_int(f->s, "SELECT count(*) FROM x"), 2);
}

static int count_driver_migrations(void)
{
    int n = 0;
    for (const store_migration *m = store_migrations; m->driver; m++)
        n += strcmp(m->driver, store_driver_name(driver)) == 0;
    return n;
}

typedef struct status_log {
    int count;
    int applied;
    int last_version;
    bool first_named_init;
} status_log;

static void on_status(void *ctx, const store_migration_status *m)
{
    status_log *l = ctx;
    if (l->count == 0)
        l->first_named_init = m->version == 1 && strcmp(m->name, "0001_init") == 0;
    l->count++;
    l->applied += m->applied_at_us > 0;
    assert_true(m->version > l->last_version);
    l->last_version = m->version;
}

static void test_migrations(void **state)
{
    fx *f = *state;
    int n = count_driver_migrations();
    assert_true(n >= 1);

    status_log before = {0};
    CHECK(store_migrate_status(f->s, on_status, &before, &E));
    assert_int_equal(before.count, n);
    assert_int_equal(before.applied, 0);

    int applied = -1;
    int64_t t0 = 0;
    CHECK(store_migrate(f->s, &applied, &E));
    assert_int_equal(applied, n);
    CHECK(store_migrate(f->s, &applied, &E));
    assert_int_equal(applied, 0);
    CHECK(store_migrate(f->s, NULL, &E));

    status_log after = {0};
    CHECK(store_migrate_status(f->s, on_status, &after, &E));
    assert_int_equal(after.count, n);
    assert_int_equal(after.applied, n);
    assert_true(after.first_named_init);
    t0 = query_int(f->s, "SELECT min(applied_at) FROM schema_migrations");
    assert_true(t0 > 1700000000LL * 1000000); /* microseconds, after 2023 */
    assert_int_equal(query_int(f->s, "SELECT count(*) FROM schema_migrations"), n);

    /* 0001_init's table. */
    store_stmt *st;
    CHECK(store_prepare(f->s, "INSERT INTO sitebase_meta (key, value) VALUES ($1, $2)", &st, &E));
    store_bind_text(st, 1, "instance_id", 11);
    store_bind_text(st, 2, "abc", 3);
    assert_int_equal(store_step(st, &E), STORE_DONE);
    store_reset(st);
    CHECK(store_prepare(f->s, "INSERT INTO sitebase_meta (key, value) VALUES ($1, $2)", &st, &E));
    store_bind_text(st, 1, "instance_id", 11);
    store_bind_text(st, 2, "def", 3);
    assert_int_equal(store_step(st, &E), STORE_CONSTRAINT);
    store_reset(st);

    /* Not inside a caller's transaction. */
    sb_errbuf err;
    CHECK(store_begin(f->s, &E));
    assert_int_equal(store_migrate(f->s, &applied, &err), STORE_MISUSE);
    CHECK(store_rollback(f->s, &E));
}

static void test_migration_failure(void **state)
{
    fx *f = *state;
    const char *d = store_driver_name(driver);
    const store_migration table[] = {
        {d, 1, "0001_ok", "CREATE TABLE mig_a (x integer); INSERT INTO mig_a VALUES (1)"},
        {d, 2, "0002_bad", "CREATE TABLE mig_b (x integer); INSERT INTO no_such_table VALUES (1)"},
        {d, 3, "0003_later", "CREATE TABLE mig_c (x integer)"},
        {NULL, 0, NULL, NULL},
    };
    sb_errbuf err = {{0}};
    int applied = -1;
    assert_int_equal(store__migrate_from(f->s, table, &applied, &err), STORE_MIGRATION);
    assert_int_equal(applied, 1);
    assert_true(strncmp(err.msg, "migration 0002_bad: ", 20) == 0);
    assert_non_null(strstr(err.msg, "no_such_table"));
    assert_false(store_in_transaction(f->s));
    assert_int_equal(query_int(f->s, "SELECT count(*) FROM mig_a"), 1);
    assert_int_equal(query_int(f->s, "SELECT count(*) FROM schema_migrations"), 1);
    assert_int_equal(query_int(f->s, "SELECT max(version) FROM schema_migrations"), 1);
    /* 0002's first statement was rolled back with it; 0003 never ran. */
    assert_int_equal(store_exec(f->s, "SELECT * FROM mig_b", &err), STORE_SQL);
    assert_int_equal(store_exec(f->s, "SELECT * FROM mig_c", &err), STORE_SQL);

    /* Two files with one number: refused, not silently skipped. */
    const store_migration dup[] = {
        {d, 1, "0001_ok", "CREATE TABLE mig_a (x integer)"},
        {d, 1, "0001_again", "CREATE TABLE mig_d (x integer)"},
        {NULL, 0, NULL, NULL},
    };
    assert_int_equal(store__migrate_from(f->s, dup, &applied, &err), STORE_MIGRATION);
    assert_non_null(strstr(err.msg, "0001_again"));
}

static void test_sql_error(void **state)
{
    fx *f = *state;
    sb_errbuf err = {{0}};
    store_stmt *st = NULL;
    assert_int_equal(store_prepare(f->s, "SELECT * FROM no_such_table", &st, &err), STORE_SQL);
    assert_null(st);
    assert_non_null(strstr(err.msg, "no_such_table"));
    memset(&err, 0, sizeof err);
    assert_int_equal(store_exec(f->s, "SELEKT 1", &err), STORE_SQL);
    assert_true(strlen(err.msg) > 0);
    exec_ok(f->s, "CREATE TABLE e (n integer)");
    memset(&err, 0, sizeof err);
    assert_int_equal(store_exec(f->s, "CREATE TABLE e (n integer)", &err), STORE_SQL);
    assert_non_null(strstr(err.msg, "already exists"));
    /* The connection is fine afterwards. */
    CHECK(store_ping(f->s, &E));
    assert_int_equal(query_int(f->s, "SELECT count(*) FROM e"), 0);
}

static void test_misuse(void **state)
{
    fx *f = *state;
    sb_errbuf err = {{0}};
    store_stmt *st;
    CHECK(store_prepare(f->s, "SELECT CAST($1 AS bigint)", &st, &E));
    store_bind_int(st, 2, 1);
    assert_int_equal(store_step(st, &err), STORE_MISUSE);
    assert_non_null(strstr(err.msg, "out of range"));
    store_reset(st);
    CHECK(store_prepare(f->s, "SELECT CAST($1 AS bigint)", &st, &E));
    store_bind_int(st, 1, 8);
    assert_int_equal(store_step(st, &E), STORE_ROW);
    store_bind_int(st, 1, 9); /* too late: the statement runs */
    assert_int_equal(store_step(st, &err), STORE_MISUSE);
    store_reset(st);
    CHECK(store_prepare(f->s, "SELECT CAST($1 AS bigint)", &st, &E));
    store_bind_int(st, 1, 10);
    assert_int_equal(store_step(st, &E), STORE_ROW);
    assert_int_equal(store_col_int(st, 0), 10);
    assert_int_equal(store_step(st, &E), STORE_DONE);
    assert_int_equal(store_step(st, &E), STORE_DONE); /* stays done until reset */
    store_reset(st);
    if (driver == STORE_SQLITE) {
        /* Only $N parameters, without gaps, one statement per prepare. */
        assert_int_equal(store_prepare(f->s, "SELECT ?", &st, &err), STORE_MISUSE);
        assert_int_equal(store_prepare(f->s, "SELECT :name", &st, &err), STORE_MISUSE);
        assert_int_equal(store_prepare(f->s, "SELECT $1::bigint", &st, &err), STORE_MISUSE);
        assert_int_equal(store_prepare(f->s, "SELECT $1, $3", &st, &err), STORE_MISUSE);
        assert_non_null(strstr(err.msg, "$2"));
        assert_int_equal(store_prepare(f->s, "SELECT 1; SELECT 2", &st, &err), STORE_MISUSE);
        CHECK(store_prepare(f->s, "SELECT 1;", &st, &E));
    }
}

typedef struct obs_log {
    int calls, ok, failed;
    store_driver driver;
    uint64_t total_ns;
} obs_log;

static void observer(void *ctx, store_driver d, uint64_t ns, bool ok)
{
    obs_log *l = ctx;
    l->calls++;
    l->ok += ok;
    l->failed += !ok;
    l->driver = d;
    l->total_ns += ns;
}

static void test_observer(void **state)
{
    fx *f = *state;
    obs_log l = {0};
    l.driver = (store_driver)-1;
    store_set_observer(f->s, observer, &l);
    exec_ok(f->s, "CREATE TABLE o (n integer)");
    assert_int_equal(l.calls, 1);
    assert_int_equal(l.driver, driver);

    store_stmt *st;
    CHECK(store_prepare(f->s, "INSERT INTO o (n) VALUES ($1)", &st, &E));
    for (int i = 0; i < 3; i++) {
        store_bind_int(st, 1, i);
        assert_int_equal(store_step(st, &E), STORE_DONE);
        store_reset(st);
    }
    assert_int_equal(l.calls, 4);

    /* One call per execution, however many rows it returns... */
    CHECK(store_prepare(f->s, "SELECT n FROM o ORDER BY n", &st, &E));
    while (store_step(st, &E) == STORE_ROW) {
    }
    store_reset(st);
    assert_int_equal(l.calls, 5);
    /* ...also when the caller stops reading early. */
    assert_int_equal(store_step(st, &E), STORE_ROW);
    store_reset(st);
    assert_int_equal(l.calls, 6);
    /* A prepared statement that never ran is not an execution. */
    CHECK(store_prepare(f->s, "SELECT n FROM o", &st, &E));
    store_reset(st);
    assert_int_equal(l.calls, 6);
    assert_int_equal(l.failed, 0);

    sb_errbuf err;
    assert_int_equal(store_exec(f->s, "INSERT INTO nope VALUES (1)", &err), STORE_SQL);
    assert_int_equal(l.calls, 7);
    assert_int_equal(l.failed, 1);
    assert_true(l.total_ns > 0);

    store_set_observer(f->s, NULL, NULL);
    exec_ok(f->s, "SELECT 1");
    assert_int_equal(l.calls, 7);
}

static void test_changes(void **state)
{
    fx *f = *state;
    exec_ok(f->s, "CREATE TABLE ch (n integer)");
    exec_ok(f->s, "INSERT INTO ch (n) VALUES (1), (2), (3), (4)");
    store_stmt *st;
    CHECK(store_prepare(f->s, "UPDATE ch SET n = n + 10 WHERE n > $1", &st, &E));
    store_bind_int(st, 1, 2);
    assert_int_equal(store_step(st, &E), STORE_DONE);
    assert_int_equal(store_changes(st), 2);
    store_reset(st);
    assert_int_equal(store_changes(st), 2); /* kept after reset */

    CHECK(store_prepare(f->s, "DELETE FROM ch WHERE n < $1", &st, &E));
    store_bind_int(st, 1, 100);
    assert_int_equal(store_step(st, &E), STORE_DONE);
    assert_int_equal(store_changes(st), 4);
    store_reset(st);

    CHECK(store_prepare(f->s, "UPDATE ch SET n = 0", &st, &E));
    assert_int_equal(store_step(st, &E), STORE_DONE);
    assert_int_equal(store_changes(st), 0);
    store_reset(st);

    CHECK(store_prepare(f->s, "SELECT count(*) FROM ch", &st, &E));
    assert_int_equal(store_step(st, &E), STORE_ROW);
    assert_int_equal(store_step(st, &E), STORE_DONE);
    assert_int_equal(store_changes(st), 0);
    store_reset(st);
}

static void sleep_ms(int ms)
{
    struct timespec ts = {ms / 1000, (long)(ms % 1000) * 1000000};
    nanosleep(&ts, NULL);
}

/* Terminates s's server process from another connection. */
static void kill_backend(fx *f, store *s)
{
    int64_t pid = query_int(s, "SELECT pg_backend_pid()");
    store *killer = open_second(f);
    store_stmt *st;
    CHECK(store_prepare(killer, "SELECT pg_terminate_backend(CAST($1 AS integer), 5000)", &st, &E));
    store_bind_int(st, 1, pid);
    assert_int_equal(store_step(st, &E), STORE_ROW);
    assert_true(store_col_bool(st, 0));
    store_reset(st);
    store_close(killer);
}

static store_err ping_until_ok(store *s)
{
    store_err rc = STORE_BUSY;
    for (int i = 0; i < 40 && rc != STORE_OK; i++) {
        rc = store_ping(s, &E);
        if (rc != STORE_OK) {
            assert_int_equal(rc, STORE_BUSY);
            sleep_ms(150);
        }
    }
    return rc;
}

static void test_pg_reconnect(void **state)
{
    if (driver != STORE_POSTGRES)
        skip();
    fx *f = *state;
    exec_ok(f->s, "CREATE TABLE r (n integer)");
    int64_t pid = query_int(f->s, "SELECT pg_backend_pid()");
    kill_backend(f, f->s);

    assert_int_equal(ping_until_ok(f->s), STORE_OK);
    /* A statement cached before the reconnect works (prepared again), on a
     * new server process, with the schema from the URL. */
    int64_t pid2 = query_int(f->s, "SELECT pg_backend_pid()");
    assert_true(pid2 > 0 && pid2 != pid);
    exec_ok(f->s, "INSERT INTO r (n) VALUES (1)");
    assert_int_equal(query_int(f->s, "SELECT count(*) FROM r"), 1);

    /* Lost inside a transaction: nothing runs until the caller rolls back,
     * so later statements cannot autocommit. */
    CHECK(store_begin(f->s, &E));
    exec_ok(f->s, "INSERT INTO r (n) VALUES (2)");
    kill_backend(f, f->s);
    sb_errbuf err;
    assert_int_equal(store_exec(f->s, "INSERT INTO r (n) VALUES (3)", &err), STORE_BUSY);
    assert_true(store_in_transaction(f->s));
    store_stmt *st;
    assert_int_equal(store_prepare(f->s, "SELECT 1", &st, &err), STORE_BUSY);
    assert_int_equal(store_exec(f->s, "SELECT 1", &err), STORE_BUSY);
    CHECK(store_rollback(f->s, &E));
    assert_false(store_in_transaction(f->s));
    assert_int_equal(ping_until_ok(f->s), STORE_OK);
    assert_int_equal(query_int(f->s, "SELECT count(*) FROM r"), 1);

    /* A commit after the loss reports it. */
    CHECK(store_begin(f->s, &E));
    kill_backend(f, f->s);
    assert_int_equal(store_exec(f->s, "INSERT INTO r (n) VALUES (4)", &err), STORE_BUSY);
    assert_int_equal(store_commit(f->s, &err), STORE_BUSY);
    assert_false(store_in_transaction(f->s));
    CHECK(store_rollback(f->s, &E));
    assert_int_equal(ping_until_ok(f->s), STORE_OK);
    assert_int_equal(query_int(f->s, "SELECT count(*) FROM r"), 1);
}

/* While the server refuses us, reconnect attempts are spaced by the
 * backoff. A database of its own, so that refusing connections to it
 * disturbs no other test. */
static void test_pg_backoff(void **state)
{
    if (driver != STORE_POSTGRES)
        skip();
    fx *f = *state;
    char db[64], sql[128], url[600];
    snprintf(db, sizeof db, "backoff_%d", (int)getpid());
    snprintf(sql, sizeof sql, "DROP DATABASE IF EXISTS %s", db);
    exec_ok(pg_admin, sql);
    snprintf(sql, sizeof sql, "CREATE DATABASE %s", db);
    exec_ok(pg_admin, sql);
    const char *slash = strrchr(pg_url, '/');
    snprintf(url, sizeof url, "%.*s/%s", (int)(slash - pg_url), pg_url, db);
    store *s = NULL;
    CHECK(store_open(url, NULL, &s, &E));
    exec_ok(s, "SELECT 1");

    snprintf(sql, sizeof sql, "ALTER DATABASE %s WITH ALLOW_CONNECTIONS false", db);
    exec_ok(pg_admin, sql);
    fx other = *f;
    snprintf(other.url, sizeof other.url, "%s", pg_url);
    kill_backend(&other, s);
    sb_errbuf err;
    assert_int_equal(store_ping(s, &err), STORE_BUSY); /* attempt 1 fails */
    assert_int_equal(store_ping(s, &err), STORE_BUSY); /* within backoff: no attempt */
    assert_non_null(strstr(err.msg, "next reconnect attempt"));
    store_stmt *st;
    assert_int_equal(store_prepare(s, "SELECT 2", &st, &err), STORE_BUSY);

    snprintf(sql, sizeof sql, "ALTER DATABASE %s WITH ALLOW_CONNECTIONS true", db);
    exec_ok(pg_admin, sql);
    assert_int_equal(ping_until_ok(s), STORE_OK);
    assert_int_equal(query_int(s, "SELECT 2"), 2);
    store_close(s);
    snprintf(sql, sizeof sql, "DROP DATABASE %s", db);
    exec_ok(pg_admin, sql);
}

static void test_pg_password_not_in_errors(void **state)
{
    if (driver != STORE_POSTGRES)
        skip();
    const char *urls[] = {
        "postgres://sitebase:s3cr3t-pw@127.0.0.1:1/sitebase",         /* refused */
        "postgresql://sitebase:s3cr3t-pw@127.0.0.1:notaport/x",       /* bad port */
        "postgres://sitebase:s3cr3t-pw@[::1/sitebase",                /* bad URI */
        "postgres://sitebase:s3cr3t%2Dpw@127.0.0.1:1/sitebase",       /* encoded */
        "postgres://sitebase:s3cr3t-pw@127.0.0.1:1/sitebase?bogus=1", /* bad option */
        NULL,
    };
    for (int i = 0; urls[i]; i++) {
        store *s = NULL;
        sb_errbuf err = {{0}};
        assert_int_equal(store_open(urls[i], NULL, &s, &err), STORE_CONNECT);
        assert_null(s);
        assert_true(strlen(err.msg) > 10);
        if (strstr(err.msg, "s3cr3t") || strstr(err.msg, "%2Dpw"))
            fail_msg("password leaked for %s: %s", urls[i], err.msg);
    }
}

int main(void)
{
#define T(fn) cmocka_unit_test_setup_teardown(fn, setup, teardown)
    const struct CMUnitTest tests[] = {
        T(test_open_close),
        cmocka_unit_test(test_bad_scheme),
        T(test_types),
        T(test_type_combinations),
        T(test_param_reuse),
        T(test_stmt_cache),
        T(test_constraint),
        T(test_transactions),
        T(test_read_transactions),
        T(test_wal_checkpoints),
        T(test_wal_checkpoint_backlog),
        T(test_wal_frame_writes),
        T(test_savepoints),
        T(test_migrations),
        T(test_migration_failure),
        T(test_sql_error),
        T(test_misuse),
        T(test_observer),
        T(test_changes),
        T(test_pg_reconnect),
        T(test_pg_backoff),
        cmocka_unit_test(test_pg_password_not_in_errors),
    };
    return cmocka_run_group_tests(tests, group_setup, group_teardown);
}
