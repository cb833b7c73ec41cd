/*
 * blob_test.c: the content-addressed blob store, run once per store driver
 * (SITEBASE_TEST_DB), and within each run once per byte driver (fs and
 * store), so all four combinations are covered.
 *
 * Each test gets a fresh temporary folder (the data folder: SQLite's file
 * and the fs driver's blobs/), and with PostgreSQL a fresh schema (the
 * search_path is set in the URL, so other connections see the same one),
 * dropped afterwards. Migrations are applied with store_migrate.
 */
/* drivers: sqlite postgres */
#include "cmocka_prelude.h"

#include <dirent.h>
#include <errno.h>
#include <fcntl.h>
#include <pthread.h>
#include <signal.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/file.h>
#include <sys/stat.h>
#include <sys/wait.h>
#include <time.h>
#include <unistd.h>

#include "base/clock.h"
#include "base/str.h"
#include "blob/blob.h"
#include "store/migrate.h"
#include "store/store.h"

#include "store_fixture.h"

static int test_no;

#define HOUR_US (3600LL * 1000000)

typedef struct fx {
    const char *bytes; /* byte driver: "fs" or "store" */
    store *s;
    blob_store *b;
    char dir[256];   /* the temporary folder */
    char data[300];  /* the data folder inside it */
    char root[320];  /* the fs driver's folder: <data>/blobs */
    char schema[64]; /* PostgreSQL: this test's schema */
    char url[700];   /* how to open another connection to the same db */
} fx;

#define CHECK_STORE(x)                                                                             \
    do {                                                                                           \
        E.msg[0] = 0;                                                                              \
        store_err rc_ = (x);                                                                       \
        if (rc_ != STORE_OK)                                                                       \
            fail_msg("%s: %s (%s)", #x, store_strerror(rc_), E.msg);                               \
    } while (0)

#define CHECK(x)                                                                                   \
    do {                                                                                           \
        blob_err rc_ = (x);                                                                        \
        if (rc_ != BLOB_OK)                                                                        \
            fail_msg("%s: %s", #x, blob_strerror(rc_));                                            \
    } while (0)

#define assert_blob_err(x, want)                                                                   \
    do {                                                                                           \
        blob_err rc_ = (x);                                                                        \
        if (rc_ != (want))                                                                         \
            fail_msg("%s: got \"%s\", want \"%s\"", #x, blob_strerror(rc_), blob_strerror(want));  \
    } while (0)

static bool is_fs(const fx *f)
{
    return strcmp(f->bytes, "fs") == 0;
}

/* First column of the first row as an integer; -999 when there is no row. */
static int64_t query_int(store *s, const char *sql)
{
    store_stmt *st;
    CHECK_STORE(store_prepare(s, sql, &st, &E));
    store_err rc = store_step(st, &E);
    if (rc != STORE_ROW && rc != STORE_DONE)
        fail_msg("%s: %s (%s)", sql, store_strerror(rc), E.msg);
    int64_t v = rc == STORE_ROW ? store_col_int(st, 0) : -999;
    store_reset(st);
    return v;
}

/* Regular files under path (recursively) whose names start with prefix
 * ("" counts everything not starting with '.'). */
static int count_files(const char *path, const char *prefix)
{
    DIR *d = opendir(path);
    if (!d)
        return 0;
    int n = 0;
    struct dirent *e;
    while ((e = readdir(d))) {
        if (strcmp(e->d_name, ".") == 0 || strcmp(e->d_name, "..") == 0)
            continue;
        char sub[1024];
        snprintf(sub, sizeof sub, "%s/%s", path, e->d_name);
        struct stat sb;
        if (lstat(sub, &sb) != 0)
            continue;
        if (S_ISDIR(sb.st_mode))
            n += count_files(sub, prefix);
        else if (prefix[0] ? strncmp(e->d_name, prefix, strlen(prefix)) == 0 : e->d_name[0] != '.')
            n++;
    }
    closedir(d);
    return n;
}

/* <root>/ab/<prefix>cdef... */
static void blob_file(const fx *f, const char *hex, const char *prefix, char out[512])
{
    snprintf(out, 512, "%s/%.2s/%s%s", f->root, hex, prefix, hex + 2);
}

static void set_mtime(const char *path, int64_t us)
{
    struct timespec ts[2];
    ts[0].tv_sec = ts[1].tv_sec = (time_t)(us / 1000000);
    ts[0].tv_nsec = ts[1].tv_nsec = (long)(us % 1000000) * 1000;
    assert_int_equal(utimensat(AT_FDCWD, path, ts, 0), 0);
}

static void write_file(const char *path, const void *p, size_t n)
{
    int fd = open(path, O_WRONLY | O_CREAT | O_TRUNC, 0600);
    assert_true(fd >= 0);
    assert_int_equal(write(fd, p, n), (ssize_t)n);
    close(fd);
}

/* *state arrives holding the byte driver's name (the test's prestate). */
static int setup(void **state)
{
    fx *f = calloc(1, sizeof *f);
    f->bytes = *state ? *state : "fs";
    test_no++;
    snprintf(f->dir, sizeof f->dir, "/tmp/blob_test.XXXXXX");
    if (!mkdtemp(f->dir))
        return -1;
    snprintf(f->data, sizeof f->data, "%s/data", f->dir);
    snprintf(f->root, sizeof f->root, "%s/blobs", f->data);
    if (fixture_store_open("b", test_no, f->data, f->schema, sizeof f->schema, f->url,
                           sizeof f->url, &f->s) != 0)
        return -1;
    if (store_migrate(f->s, NULL, &E) != STORE_OK) {
        fprintf(stderr, "migrate: %s\n", E.msg);
        return -1;
    }
    /* The default spec ("") is the fs driver under <data>/blobs. */
    if (blob_open(is_fs(f) ? "" : "store", f->data, &f->b, &E) != BLOB_OK) {
        fprintf(stderr, "blob_open: %s\n", E.msg);
        return -1;
    }
    *state = f;
    return 0;
}

static int teardown(void **state)
{
    fx *f = *state;
    blob_close(f->b);
    store_close(f->s);
    rm_rf(f->dir);
    fixture_store_drop(f->schema);
    free(f);
    return 0;
}

static store *open_second(const fx *f)
{
    store *s2 = NULL;
    CHECK_STORE(store_open(f->url, NULL, &s2, &E));
    return s2;
}

static void assert_bytes(const sb_buf *b, const void *p, size_t n)
{
    assert_int_equal(b->len, n);
    if (n)
        assert_memory_equal(b->ptr, p, n);
}

/* ---- tests ---- */

static void test_round_trip(void **state)
{
    fx *f = *state;
    assert_string_equal(blob_driver_name(f->b), f->bytes);
    const char text[] = "hello world";
    blob_info info;
    memset(&info, 0x55, sizeof info);
    CHECK(blob_put(f->b, f->s, text, 11, &info));
    assert_string_equal(info.sha256,
                        "b94d27b9934d3e08a52e52d7da7dabfac484efe37a5380ee9088f7ace2efcde9");
    assert_int_equal(info.size, 11);
    assert_int_equal(info.refs, 1);
    assert_true(info.created);

    blob_info st;
    CHECK(blob_stat(f->s, info.sha256, &st));
    assert_string_equal(st.sha256, info.sha256);
    assert_int_equal(st.size, 11);
    assert_int_equal(st.refs, 1);
    assert_false(st.created);

    sb_buf out = SB_BUF_INIT;
    CHECK(blob_read(f->b, f->s, info.sha256, 0, -1, &out));
    assert_bytes(&out, text, 11);
    assert_int_equal(out.ptr[out.len], 0);

    /* Binary bytes with NULs, 3 blocks' worth. */
    unsigned char bin[3 * 4096 + 17];
    for (size_t i = 0; i < sizeof bin; i++)
        bin[i] = (unsigned char)(i * 131 + (i >> 8));
    CHECK(blob_put(f->b, f->s, bin, sizeof bin, &info));
    assert_true(info.created);
    sb_buf_reset(&out);
    CHECK(blob_read(f->b, f->s, info.sha256, 0, -1, &out));
    assert_bytes(&out, bin, sizeof bin);

    /* A larger one: 1 MiB + 3, whole and its last bytes. */
    size_t big_len = (1u << 20) + 3;
    unsigned char *big = malloc(big_len);
    for (size_t i = 0; i < big_len; i++)
        big[i] = (unsigned char)((i * 2654435761u) >> 13);
    blob_info bi;
    CHECK(blob_put(f->b, f->s, big, big_len, &bi));
    assert_int_equal(bi.size, (int64_t)big_len);
    sb_buf_reset(&out);
    CHECK(blob_read(f->b, f->s, bi.sha256, 0, -1, &out));
    assert_bytes(&out, big, big_len);
    sb_buf_reset(&out);
    CHECK(blob_read(f->b, f->s, bi.sha256, (int64_t)big_len - 5, -1, &out));
    assert_bytes(&out, big + big_len - 5, 5);
    free(big);
    sb_buf_free(&out);

    if (is_fs(f)) {
        char path[512];
        struct stat sb;
        blob_file(f, info.sha256, "", path);
        assert_int_equal(stat(path, &sb), 0);
        assert_int_equal(sb.st_size, (off_t)sizeof bin);
        assert_int_equal(sb.st_mode & 0777, 0600);
        assert_int_equal(stat(f->root, &sb), 0);
        assert_int_equal(sb.st_mode & 0777, 0700);
        assert_int_equal(count_files(f->root, ".tmp-"), 0);
        assert_int_equal(query_int(f->s, "SELECT count(*) FROM blob_data"), 0);
    } else {
        assert_int_equal(query_int(f->s, "SELECT count(*) FROM blob_data"), 3);
        assert_int_equal(count_files(f->root, ""), 0);
    }
}

static void test_identical_bytes_stored_once(void **state)
{
    fx *f = *state;
    const char a[] = "the same bytes, uploaded by two projects";
    blob_info i1, i2, i3;
    CHECK(blob_put(f->b, f->s, a, sizeof a - 1, &i1));
    CHECK(blob_put(f->b, f->s, a, sizeof a - 1, &i2));
    assert_true(i1.created);
    assert_false(i2.created);
    assert_string_equal(i1.sha256, i2.sha256);
    assert_int_equal(i2.refs, 2);
    assert_int_equal(i2.size, (int64_t)sizeof a - 1);
    assert_int_equal(query_int(f->s, "SELECT count(*) FROM blobs"), 1);
    assert_int_equal(query_int(f->s, "SELECT refs FROM blobs"), 2);
    if (is_fs(f))
        assert_int_equal(count_files(f->root, ""), 1);
    else
        assert_int_equal(query_int(f->s, "SELECT count(*) FROM blob_data"), 1);

    /* A third reference by blob_ref, and other bytes beside. */
    CHECK(blob_ref(f->s, i1.sha256));
    CHECK(blob_stat(f->s, i1.sha256, &i3));
    assert_int_equal(i3.refs, 3);
    CHECK(blob_put(f->b, f->s, "other", 5, &i3));
    assert_true(i3.created);
    assert_int_equal(query_int(f->s, "SELECT count(*) FROM blobs"), 2);
    if (is_fs(f))
        assert_int_equal(count_files(f->root, ""), 2);
    else
        assert_int_equal(query_int(f->s, "SELECT count(*) FROM blob_data"), 2);
}

static void test_ranges(void **state)
{
    fx *f = *state;
    unsigned char data[1000];
    for (size_t i = 0; i < sizeof data; i++)
        data[i] = (unsigned char)(i * 7 + 3);
    blob_info info;
    CHECK(blob_put(f->b, f->s, data, sizeof data, &info));
    const char *h = info.sha256;
    sb_buf out = SB_BUF_INIT;

    CHECK(blob_read(f->b, f->s, h, 0, 10, &out)); /* start */
    assert_bytes(&out, data, 10);
    sb_buf_reset(&out);
    CHECK(blob_read(f->b, f->s, h, 500, 100, &out)); /* middle */
    assert_bytes(&out, data + 500, 100);
    sb_buf_reset(&out);
    CHECK(blob_read(f->b, f->s, h, 990, -1, &out)); /* end */
    assert_bytes(&out, data + 990, 10);
    sb_buf_reset(&out);
    CHECK(blob_read(f->b, f->s, h, 995, 100, &out)); /* past the end stops there */
    assert_bytes(&out, data + 995, 5);
    sb_buf_reset(&out);
    CHECK(blob_read(f->b, f->s, h, 999, 1, &out)); /* last byte */
    assert_bytes(&out, data + 999, 1);
    sb_buf_reset(&out);
    CHECK(blob_read(f->b, f->s, h, 0, 1000, &out)); /* whole, explicit */
    assert_bytes(&out, data, 1000);
    sb_buf_reset(&out);
    CHECK(blob_read(f->b, f->s, h, 1000, -1, &out)); /* offset == size: empty */
    assert_int_equal(out.len, 0);
    CHECK(blob_read(f->b, f->s, h, 1000, 5, &out));
    assert_int_equal(out.len, 0);
    CHECK(blob_read(f->b, f->s, h, 10, 0, &out));
    assert_int_equal(out.len, 0);

    /* Reads append to what the buffer holds; failures leave it as it was. */
    sb_buf_puts(&out, "head:");
    CHECK(blob_read(f->b, f->s, h, 3, 2, &out));
    assert_int_equal(out.len, 7);
    assert_memory_equal(out.ptr, "head:", 5);
    assert_memory_equal(out.ptr + 5, data + 3, 2);
    assert_blob_err(blob_read(f->b, f->s, h, 1001, -1, &out), BLOB_RANGE);
    assert_blob_err(blob_read(f->b, f->s, h, 1001, 0, &out), BLOB_RANGE);
    assert_blob_err(blob_read(f->b, f->s, h, -1, 1, &out), BLOB_RANGE);
    assert_blob_err(blob_read(f->b, f->s, h, 0, -2, &out), BLOB_RANGE);
    assert_blob_err(blob_read(f->b, f->s, h, INT64_MAX, -1, &out), BLOB_RANGE);
    assert_int_equal(out.len, 7);
    assert_memory_equal(out.ptr, "head:", 5);
    sb_buf_free(&out);
}

static void test_empty_blob(void **state)
{
    fx *f = *state;
    blob_info info;
    CHECK(blob_put(f->b, f->s, NULL, 0, &info));
    assert_string_equal(info.sha256,
                        "e3b0c44298fc1c149afbf4c8996fb92427ae41e4649b934ca495991b7852b855");
    assert_int_equal(info.size, 0);
    assert_int_equal(info.refs, 1);
    assert_true(info.created);
    sb_buf out = SB_BUF_INIT;
    CHECK(blob_read(f->b, f->s, info.sha256, 0, -1, &out));
    assert_int_equal(out.len, 0);
    CHECK(blob_read(f->b, f->s, info.sha256, 0, 10, &out));
    assert_int_equal(out.len, 0);
    assert_blob_err(blob_read(f->b, f->s, info.sha256, 1, -1, &out), BLOB_RANGE);
    CHECK(blob_put(f->b, f->s, "", 0, &info));
    assert_false(info.created);
    assert_int_equal(info.refs, 2);
    if (is_fs(f)) {
        char path[512];
        struct stat sb;
        blob_file(f, info.sha256, "", path);
        assert_int_equal(stat(path, &sb), 0);
        assert_int_equal(sb.st_size, 0);
    } else {
        assert_int_equal(query_int(f->s, "SELECT count(*) FROM blob_data"), 1);
    }
    sb_buf_free(&out);
}

static void test_unref_then_gc(void **state)
{
    fx *f = *state;
    blob_info info, st;
    CHECK(blob_put(f->b, f->s, "garbage soon", 12, &info));
    CHECK(blob_put(f->b, f->s, "kept", 4, NULL));
    const char *h = info.sha256;
    CHECK(blob_unref(f->s, h));
    CHECK(blob_stat(f->s, h, &st));
    assert_int_equal(st.refs, 0);
    CHECK(blob_unref(f->s, h)); /* never below 0 */
    CHECK(blob_stat(f->s, h, &st));
    assert_int_equal(st.refs, 0);

    /* Within the grace: nothing goes. */
    size_t removed = 99;
    int64_t now = sb_wall_us();
    CHECK(blob_gc(f->b, f->s, now, HOUR_US, &removed));
    assert_int_equal(removed, 0);
    CHECK(blob_stat(f->s, h, &st));
    sb_buf out = SB_BUF_INIT;
    CHECK(blob_read(f->b, f->s, h, 0, -1, &out));
    assert_bytes(&out, "garbage soon", 12);

    /* Two hours later, with one hour of grace: it goes, row and bytes. */
    CHECK(blob_gc(f->b, f->s, now + 2 * HOUR_US, HOUR_US, &removed));
    assert_int_equal(removed, 1);
    assert_blob_err(blob_stat(f->s, h, &st), BLOB_NOT_FOUND);
    sb_buf_reset(&out);
    assert_blob_err(blob_read(f->b, f->s, h, 0, -1, &out), BLOB_NOT_FOUND);
    assert_blob_err(blob_ref(f->s, h), BLOB_NOT_FOUND);
    assert_blob_err(blob_unref(f->s, h), BLOB_NOT_FOUND);
    assert_int_equal(query_int(f->s, "SELECT count(*) FROM blobs"), 1);
    if (is_fs(f)) {
        char path[512];
        blob_file(f, h, "", path);
        assert_int_equal(access(path, F_OK), -1);
        assert_int_equal(count_files(f->root, ""), 1);
        assert_int_equal(count_files(f->root, ".gc-"), 0);
    } else {
        assert_int_equal(query_int(f->s, "SELECT count(*) FROM blob_data"), 1);
    }
    /* The referenced one is untouched, and a second gc finds nothing. */
    CHECK(blob_gc(f->b, f->s, now + 2 * HOUR_US, HOUR_US, &removed));
    assert_int_equal(removed, 0);
    CHECK(blob_read(f->b, f->s, "79f076abdd19a752db7267bfff2f9022161d120dea919fdaca2ffdfc24ca8c96",
                    0, -1, &out));
    assert_bytes(&out, "kept", 4);

    /* The same bytes put again are a new blob. */
    CHECK(blob_put(f->b, f->s, "garbage soon", 12, &info));
    assert_true(info.created);
    assert_int_equal(info.refs, 1);
    sb_buf_reset(&out);
    CHECK(blob_read(f->b, f->s, h, 0, -1, &out));
    assert_bytes(&out, "garbage soon", 12);
    sb_buf_free(&out);
}

static void test_gc_spares_rereferenced(void **state)
{
    fx *f = *state;
    blob_info a, b2, st;
    CHECK(blob_put(f->b, f->s, "aaaa", 4, &a));
    CHECK(blob_unref(f->s, a.sha256));
    CHECK(blob_ref(f->s, a.sha256));
    CHECK(blob_put(f->b, f->s, "bbbb", 4, &b2));
    CHECK(blob_unref(f->s, b2.sha256));
    CHECK(blob_put(f->b, f->s, "bbbb", 4, &b2)); /* re-upload at refs 0 */
    assert_false(b2.created);
    assert_int_equal(b2.refs, 1);

    size_t removed = 99;
    CHECK(blob_gc(f->b, f->s, sb_wall_us() + 2 * HOUR_US, HOUR_US, &removed));
    assert_int_equal(removed, 0);
    CHECK(blob_stat(f->s, a.sha256, &st));
    assert_int_equal(st.refs, 1);
    sb_buf out = SB_BUF_INIT;
    CHECK(blob_read(f->b, f->s, a.sha256, 0, -1, &out));
    CHECK(blob_read(f->b, f->s, b2.sha256, 0, -1, &out));
    assert_bytes(&out, "aaaabbbb", 8);
    sb_buf_free(&out);
}

typedef struct gc_job {
    fx *f;
    store *db;
    int64_t now;
    size_t removed;
    blob_err rc;
} gc_job;

static void *run_gc(void *arg)
{
    gc_job *j = arg;
    j->rc = blob_gc(j->f->b, j->db, j->now, HOUR_US, &j->removed);
    return NULL;
}

/* A reference taken while gc runs wins: gc's delete waits for the other
 * transaction (PostgreSQL's row lock, SQLite's write lock) and then sees
 * refs = 1. */
static void test_gc_races_ref(void **state)
{
    fx *f = *state;
    blob_info info, st;
    CHECK(blob_put(f->b, f->s, "contested", 9, &info));
    CHECK(blob_unref(f->s, info.sha256));

    store *other = open_second(f);
    CHECK_STORE(store_begin(f->s, &E));
    CHECK(blob_ref(f->s, info.sha256)); /* uncommitted, holds the lock */

    gc_job job = {f, other, sb_wall_us() + 2 * HOUR_US, 99, BLOB_IO};
    pthread_t t;
    assert_int_equal(pthread_create(&t, NULL, run_gc, &job), 0);
    struct timespec pause = {0, 300 * 1000 * 1000};
    nanosleep(&pause, NULL);
    CHECK_STORE(store_commit(f->s, &E));
    pthread_join(t, NULL);
    CHECK(job.rc);
    assert_int_equal(job.removed, 0);
    CHECK(blob_stat(f->s, info.sha256, &st));
    assert_int_equal(st.refs, 1);
    sb_buf out = SB_BUF_INIT;
    CHECK(blob_read(f->b, f->s, info.sha256, 0, -1, &out));
    assert_bytes(&out, "contested", 9);
    sb_buf_free(&out);
    store_close(other);
}

static void test_corruption_detected(void **state)
{
    fx *f = *state;
    unsigned char data[300];
    for (size_t i = 0; i < sizeof data; i++)
        data[i] = (unsigned char)i;
    blob_info info;
    CHECK(blob_put(f->b, f->s, data, sizeof data, &info));
    const char *h = info.sha256;
    unsigned char bad[sizeof data];
    memcpy(bad, data, sizeof data);
    bad[150] ^= 0x01;

    char path[512];
    store_stmt *st;
    if (is_fs(f)) {
        blob_file(f, h, "", path);
        write_file(path, bad, sizeof bad);
    } else {
        CHECK_STORE(
            store_prepare(f->s, "UPDATE blob_data SET data = $2 WHERE sha256 = $1", &st, &E));
        store_bind_cstr(st, 1, h);
        store_bind_blob(st, 2, bad, sizeof bad);
        assert_int_equal(store_step(st, &E), STORE_DONE);
        store_reset(st);
    }
    sb_buf out = SB_BUF_INIT;
    sb_buf_puts(&out, "x");
    assert_blob_err(blob_read(f->b, f->s, h, 0, -1, &out), BLOB_CORRUPT);
    assert_int_equal(out.len, 1);
    assert_string_equal(out.ptr, "x");
    /* A partial read cannot check the hash; it gets the bytes as stored. */
    sb_buf_reset(&out);
    CHECK(blob_read(f->b, f->s, h, 140, 20, &out));
    assert_bytes(&out, bad + 140, 20);

    /* Truncated bytes are caught by their size, whole or partial. */
    if (is_fs(f)) {
        write_file(path, data, 100);
    } else {
        CHECK_STORE(
            store_prepare(f->s, "UPDATE blob_data SET data = $2 WHERE sha256 = $1", &st, &E));
        store_bind_cstr(st, 1, h);
        store_bind_blob(st, 2, data, 100);
        assert_int_equal(store_step(st, &E), STORE_DONE);
        store_reset(st);
    }
    sb_buf_reset(&out);
    assert_blob_err(blob_read(f->b, f->s, h, 0, 10, &out), BLOB_CORRUPT);
    assert_blob_err(blob_read(f->b, f->s, h, 0, -1, &out), BLOB_CORRUPT);

    /* Missing bytes too; putting the bytes again repairs them. */
    if (is_fs(f))
        assert_int_equal(unlink(path), 0);
    else
        CHECK_STORE(store_exec(f->s, "DELETE FROM blob_data", &E));
    assert_blob_err(blob_read(f->b, f->s, h, 0, -1, &out), BLOB_CORRUPT);
    CHECK(blob_put(f->b, f->s, data, sizeof data, &info));
    assert_false(info.created);
    assert_int_equal(info.refs, 2);
    CHECK(blob_read(f->b, f->s, h, 0, -1, &out));
    assert_bytes(&out, data, sizeof data);
    sb_buf_free(&out);
}

/* Inside the caller's transaction the put commits or rolls back with it. */
static void test_put_in_transaction(void **state)
{
    fx *f = *state;
    blob_info info, st;
    CHECK_STORE(store_begin(f->s, &E));
    CHECK(blob_put(f->b, f->s, "rolled back", 11, &info));
    assert_true(info.created);
    assert_true(store_in_transaction(f->s));
    CHECK(blob_stat(f->s, info.sha256, &st));
    assert_blob_err(blob_gc(f->b, f->s, sb_wall_us(), 0, NULL), BLOB_STORE);
    CHECK_STORE(store_rollback(f->s, &E));
    assert_blob_err(blob_stat(f->s, info.sha256, &st), BLOB_NOT_FOUND);

    if (is_fs(f)) {
        /* The bytes stay on disk without a row until the grace passes. */
        assert_int_equal(count_files(f->root, ""), 1);
        size_t removed = 99;
        CHECK(blob_gc(f->b, f->s, sb_wall_us(), HOUR_US, &removed));
        assert_int_equal(removed, 0);
        assert_int_equal(count_files(f->root, ""), 1);
        CHECK(blob_gc(f->b, f->s, sb_wall_us() + 2 * HOUR_US, HOUR_US, &removed));
        assert_int_equal(removed, 1);
        assert_int_equal(count_files(f->root, ""), 0);
    } else {
        assert_int_equal(query_int(f->s, "SELECT count(*) FROM blob_data"), 0);
    }

    CHECK_STORE(store_begin(f->s, &E));
    CHECK(blob_put(f->b, f->s, "committed", 9, &info));
    CHECK(blob_put(f->b, f->s, "committed", 9, &info));
    assert_int_equal(info.refs, 2);
    CHECK_STORE(store_commit(f->s, &E));
    CHECK(blob_stat(f->s, info.sha256, &st));
    assert_int_equal(st.refs, 2);
    sb_buf out = SB_BUF_INIT;
    CHECK(blob_read(f->b, f->s, info.sha256, 0, -1, &out));
    assert_bytes(&out, "committed", 9);
    sb_buf_free(&out);
}

/* A put acknowledged to a process that is then killed is there. */
static void test_put_survives_kill(void **state)
{
    fx *f = *state;
    static const char payload[] = "acknowledged before kill -9";
    fflush(NULL);
    pid_t pid = fork();
    assert_true(pid >= 0);
    if (pid == 0) {
        store *s = NULL;
        blob_store *b = NULL;
        sb_errbuf err;
        if (store_open(f->url, NULL, &s, &err) != STORE_OK ||
            blob_open(is_fs(f) ? "" : "store", f->data, &b, &err) != BLOB_OK ||
            blob_put(b, s, payload, sizeof payload - 1, NULL) != BLOB_OK)
            _exit(3);
        kill(getpid(), SIGKILL);
        _exit(4);
    }
    int status = 0;
    assert_int_equal(waitpid(pid, &status, 0), pid);
    assert_true(WIFSIGNALED(status));
    assert_int_equal(WTERMSIG(status), SIGKILL);
    char hex[65];
    blob_info st;
    sb_buf out = SB_BUF_INIT;
    /* The child's blob is the only one. */
    store_stmt *q;
    CHECK_STORE(store_prepare(f->s, "SELECT sha256 FROM blobs", &q, &E));
    assert_int_equal(store_step(q, &E), STORE_ROW);
    snprintf(hex, sizeof hex, "%s", store_col_text(q, 0, NULL));
    store_reset(q);
    CHECK(blob_stat(f->s, hex, &st));
    assert_int_equal(st.refs, 1);
    CHECK(blob_read(f->b, f->s, hex, 0, -1, &out));
    assert_bytes(&out, payload, sizeof payload - 1);
    if (is_fs(f))
        assert_int_equal(count_files(f->root, ".tmp-"), 0);
    sb_buf_free(&out);
}

/* fs: the sweep removes stale temporary files, finishes interrupted
 * burials, and leaves files it does not know alone. */
static void test_fs_sweep(void **state)
{
    fx *f = *state;
    if (!is_fs(f))
        skip();
    int64_t now = sb_wall_us();
    blob_info info;
    CHECK(blob_put(f->b, f->s, "buried alive", 12, &info));
    char final[512], tomb[512], path[512];
    blob_file(f, info.sha256, "", final);
    blob_file(f, info.sha256, ".gc-", tomb);

    /* Temporary files: one from a crash two hours ago, one in progress. */
    snprintf(path, sizeof path, "%s/%.2s/.tmp-oldone", f->root, info.sha256);
    write_file(path, "partial", 7);
    set_mtime(path, now - 2 * HOUR_US);
    snprintf(path, sizeof path, "%s/%.2s/.tmp-fresh1", f->root, info.sha256);
    write_file(path, "partial", 7);
    /* A file that is not ours, old. */
    snprintf(path, sizeof path, "%s/%.2s/README", f->root, info.sha256);
    write_file(path, "hands off", 9);
    set_mtime(path, now - 2 * HOUR_US);
    /* A gc that crashed after moving a live blob aside. */
    assert_int_equal(rename(final, tomb), 0);
    /* And one that crashed after its row delete committed. */
    const char *gone = "0000000000000000000000000000000000000000000000000000000000000000";
    char gone_tomb[512];
    blob_file(f, gone, ".gc-", gone_tomb);
    snprintf(path, sizeof path, "%s/00", f->root);
    assert_int_equal(mkdir(path, 0700), 0);
    write_file(gone_tomb, "dead", 4);

    size_t removed = 99;
    CHECK(blob_gc(f->b, f->s, now, HOUR_US, &removed));
    assert_int_equal(removed, 0);
    assert_int_equal(count_files(f->root, ".tmp-"), 1);
    assert_int_equal(count_files(f->root, ".gc-"), 0);
    assert_int_equal(access(final, F_OK), 0);
    snprintf(path, sizeof path, "%s/%.2s/README", f->root, info.sha256);
    assert_int_equal(access(path, F_OK), 0);
    sb_buf out = SB_BUF_INIT;
    CHECK(blob_read(f->b, f->s, info.sha256, 0, -1, &out));
    assert_bytes(&out, "buried alive", 12);
    sb_buf_free(&out);

    /* An old file no row names goes, unless it was put again since. */
    char orphan[512];
    const char *orphan_hex = "1111111111111111111111111111111111111111111111111111111111111111";
    blob_file(f, orphan_hex, "", orphan);
    snprintf(path, sizeof path, "%s/11", f->root);
    assert_int_equal(mkdir(path, 0700), 0);
    write_file(orphan, "orphan", 6);
    set_mtime(orphan, now - 2 * HOUR_US);
    set_mtime(final, now - 2 * HOUR_US); /* old, but its row holds it */
    CHECK(blob_gc(f->b, f->s, now, HOUR_US, &removed));
    assert_int_equal(removed, 1);
    assert_int_equal(access(orphan, F_OK), -1);
    assert_int_equal(access(final, F_OK), 0);
}

/* fs: a second gc on the same folder stands aside while one runs. */
static void test_fs_gc_one_at_a_time(void **state)
{
    fx *f = *state;
    blob_info info;
    CHECK(blob_put(f->b, f->s, "collectable", 11, &info));
    CHECK(blob_unref(f->s, info.sha256));
    int fd = open(f->root, O_RDONLY | O_DIRECTORY);
    assert_true(fd >= 0);
    assert_int_equal(flock(fd, LOCK_EX), 0); /* as a running gc holds it */
    size_t removed = 99;
    int64_t later = sb_wall_us() + 2 * HOUR_US;
    CHECK(blob_gc(f->b, f->s, later, HOUR_US, &removed));
    assert_int_equal(removed, 0);
    blob_info st;
    CHECK(blob_stat(f->s, info.sha256, &st));
    close(fd);
    CHECK(blob_gc(f->b, f->s, later, HOUR_US, &removed));
    assert_int_equal(removed, 1);
    assert_blob_err(blob_stat(f->s, info.sha256, &st), BLOB_NOT_FOUND);
}

static void test_bad_names(void **state)
{
    fx *f = *state;
    blob_info info;
    CHECK(blob_put(f->b, f->s, "x", 1, &info));
    char upper[65];
    for (int i = 0; i < 65; i++)
        upper[i] = (char)(info.sha256[i] >= 'a' && info.sha256[i] <= 'f' ? info.sha256[i] - 32
                                                                         : info.sha256[i]);
    const char *bad[] = {
        "../../../../etc/passwd",
        upper,
        "2d711642b726b04401627ca9fbac32f5c8530fb1903cc4db02258717921a486",   /* 63 */
        "2d711642b726b04401627ca9fbac32f5c8530fb1903cc4db02258717921a4881a", /* 65 */
        "2d711642b726b04401627ca9fbac32f5c8530fb1903cc4db02258717921a48g1",
        "",
        NULL,
    };
    sb_buf out = SB_BUF_INIT;
    for (size_t i = 0; i < SB_ARRAY_LEN(bad); i++) {
        blob_info st;
        assert_blob_err(blob_stat(f->s, bad[i], &st), BLOB_NOT_FOUND);
        assert_blob_err(blob_read(f->b, f->s, bad[i], 0, -1, &out), BLOB_NOT_FOUND);
        assert_blob_err(blob_ref(f->s, bad[i]), BLOB_NOT_FOUND);
        assert_blob_err(blob_unref(f->s, bad[i]), BLOB_NOT_FOUND);
    }
    assert_int_equal(out.len, 0);
    sb_buf_free(&out);
    static const char tiny[1];
    assert_blob_err(blob_put(f->b, f->s, tiny, BLOB_MAX_SIZE + 1, &info), BLOB_TOO_LARGE);
}

static void test_open_specs(void **state)
{
    fx *f = *state;
    blob_store *b = (blob_store *)&E; /* untouched on failure */
    sb_errbuf err = {{0}};
    assert_blob_err(blob_open("s3://bucket", f->data, &b, &err), BLOB_BAD_SPEC);
    assert_non_null(strstr(err.msg, "s3://bucket"));
    assert_ptr_equal(b, (blob_store *)&E);
    assert_blob_err(blob_open("fs", NULL, &b, &err), BLOB_BAD_SPEC);
    assert_blob_err(blob_open(NULL, "", &b, &err), BLOB_BAD_SPEC);
    assert_blob_err(blob_open("fs:", f->data, &b, &err), BLOB_BAD_SPEC);

    char file[400];
    snprintf(file, sizeof file, "%s/plain-file", f->dir);
    write_file(file, "x", 1);
    char spec[450];
    snprintf(spec, sizeof spec, "fs:%s/sub", file);
    assert_blob_err(blob_open(spec, NULL, &b, &err), BLOB_IO);

    snprintf(spec, sizeof spec, "fs:%s/elsewhere/deeper", f->dir);
    CHECK(blob_open(spec, NULL, &b, &err));
    assert_string_equal(blob_driver_name(b), "fs");
    struct stat sb;
    char path[450];
    snprintf(path, sizeof path, "%s/elsewhere/deeper", f->dir);
    assert_int_equal(stat(path, &sb), 0);
    assert_int_equal(sb.st_mode & 0777, 0700);
    snprintf(path, sizeof path, "%s/elsewhere", f->dir);
    assert_int_equal(stat(path, &sb), 0);
    assert_int_equal(sb.st_mode & 0777, 0700);
    blob_info info;
    CHECK(blob_put(b, f->s, "elsewhere", 9, &info));
    snprintf(path, sizeof path, "%s/elsewhere/deeper/%.2s/%s", f->dir, info.sha256,
             info.sha256 + 2);
    assert_int_equal(access(path, F_OK), 0);
    blob_close(b);

    CHECK(blob_open("fs", f->data, &b, &err));
    assert_string_equal(blob_driver_name(b), "fs");
    blob_close(b);
    CHECK(blob_open("store", NULL, &b, &err));
    assert_string_equal(blob_driver_name(b), "store");
    blob_close(b);
    blob_close(NULL);

    assert_string_equal(blob_strerror(BLOB_OK), "ok");
    assert_string_equal(blob_strerror(BLOB_NOT_FOUND), "no such blob");
    assert_string_equal(blob_strerror(BLOB_CORRUPT), "the blob's bytes no longer match its hash");
    assert_string_equal(blob_strerror(BLOB_BAD_SPEC), "invalid blob storage specification");
    assert_string_equal(blob_strerror((blob_err)99), "unknown error");
}

/* ---- sniffing ---- */

static const unsigned char png[] = {0x89, 'P', 'N', 'G', '\r', '\n', 0x1a, '\n', 0,    0, 0, 13,
                                    'I',  'H', 'D', 'R', 0,    0,    0,    1,    0,    0, 0, 1,
                                    8,    6,   0,   0,   0,    0x1f, 0x15, 0xc4, 0x89, 0, 0, 0,
                                    0,    'I', 'E', 'N', 'D',  0xae, 0x42, 0x60, 0x82};
static const unsigned char jpeg[] = {0xff, 0xd8, 0xff, 0xe0, 0, 16, 'J', 'F', 'I', 'F',  0,
                                     1,    1,    0,    0,    1, 0,  1,   0,   0,   0xff, 0xd9};
static const unsigned char gif[] = {'G', 'I', 'F', '8', '9', 'a',  1, 0, 1, 0,   0x80, 0, 0,   0, 0,
                                    0,   255, 255, 255, '!', 0xf9, 4, 1, 0, 0,   0,    0, ',', 0, 0,
                                    0,   0,   1,   0,   1,   0,    0, 2, 2, 'D', 1,    0, ';'};
static const char pdf[] = "%PDF-1.4\n1 0 obj\n<< /Type /Catalog >>\nendobj\ntrailer\n"
                          "<< /Root 1 0 R >>\n%%EOF\n";
static const char text[] = "Hello, this is a plain text file.\nIt has two lines.\n";
static const char json[] = "{\"name\": \"sitebase\", \"tags\": [1, 2, 3]}\n";
static const char svg[] =
    "<svg xmlns=\"http://www.w3.org/2000/svg\" width=\"1\" height=\"1\"></svg>\n";
static const char html[] = "<!DOCTYPE html><html><body><script>alert(1)</script></body></html>\n";
static const unsigned char woff2[] = {'w', 'O', 'F', '2', 0, 1, 0, 0, 0, 0, 0, 0};
static const unsigned char otf[] = {'O', 'T', 'T', 'O', 0, 10, 0, 0x80, 0, 3, 0, 0x20};
static const unsigned char elf[] = {0x7f, 'E', 'L', 'F', 2, 1, 1, 0, 0, 0, 0, 0, 0, 0, 0, 0};

static void check_sniffs(void)
{
    assert_string_equal(blob_sniff(png, sizeof png), "image/png");
    assert_string_equal(blob_sniff(jpeg, sizeof jpeg), "image/jpeg");
    assert_string_equal(blob_sniff(gif, sizeof gif), "image/gif");
    assert_string_equal(blob_sniff(pdf, sizeof pdf - 1), "application/pdf");
    assert_string_equal(blob_sniff(text, sizeof text - 1), "text/plain");
    assert_string_equal(blob_sniff(json, sizeof json - 1), "application/json");
    assert_string_equal(blob_sniff(svg, sizeof svg - 1), "image/svg+xml");
    assert_string_equal(blob_sniff(woff2, sizeof woff2), "font/woff2");
    assert_string_equal(blob_sniff(otf, sizeof otf), "font/otf");
    /* Not on the list: served as bytes, never as something a browser runs. */
    assert_string_equal(blob_sniff(html, sizeof html - 1), "application/octet-stream");
    assert_string_equal(blob_sniff(elf, sizeof elf), "application/octet-stream");
    assert_string_equal(blob_sniff("", 0), "application/octet-stream");
    assert_string_equal(blob_sniff(NULL, 0), "application/octet-stream");
}

static void test_sniff(void **state)
{
    check_sniffs();
    unsigned char noise[512];
    unsigned x = 12345;
    for (size_t i = 0; i < sizeof noise; i++) {
        x = x * 1103515245 + 12345;
        noise[i] = (unsigned char)(x >> 16);
    }
    noise[0] = 0;
    assert_string_equal(blob_sniff(noise, sizeof noise), "application/octet-stream");
    /* The answer is ours, not a pointer into libmagic's buffer. */
    const char *a = blob_sniff(png, sizeof png);
    blob_sniff(pdf, sizeof pdf - 1);
    assert_string_equal(a, "image/png");
}

static void *sniff_thread(void *arg)
{
    for (int i = 0; i < 20; i++)
        check_sniffs();
    return NULL;
}

/* One cookie per thread: concurrent sniffing gives the same answers (and
 * ASan/TSan-clean), and each thread's cookie is freed when it exits. */
static void test_sniff_threads(void **state)
{
    pthread_t t[4];
    for (int i = 0; i < 4; i++)
        assert_int_equal(pthread_create(&t[i], NULL, sniff_thread, NULL), 0);
    for (int i = 0; i < 4; i++)
        pthread_join(t[i], NULL);
}

static void *sniff_png_thread(void *arg)
{
    *(const char **)arg = blob_sniff(png, sizeof png);
    return NULL;
}

/* Without a magic database every upload is bytes, never an error. A fresh
 * thread loads its own cookie, from $MAGIC when set. */
static void test_sniff_without_database(void **state)
{
    const char *got = NULL;
    pthread_t t;
    assert_int_equal(setenv("MAGIC", "/nonexistent/magic.mgc", 1), 0);
    assert_int_equal(pthread_create(&t, NULL, sniff_png_thread, &got), 0);
    pthread_join(t, NULL);
    unsetenv("MAGIC");
    assert_string_equal(got, "application/octet-stream");
    /* This thread's cookie was loaded before and still works. */
    assert_string_equal(blob_sniff(png, sizeof png), "image/png");
}

int main(void)
{
#define ON(fn, bytes)                                                                              \
    ((struct CMUnitTest){#fn " [" bytes "]", fn, setup, teardown, (void *)(bytes)})
#define BOTH(fn) ON(fn, "fs"), ON(fn, "store")
    const struct CMUnitTest tests[] = {
        BOTH(test_round_trip),
        BOTH(test_identical_bytes_stored_once),
        BOTH(test_ranges),
        BOTH(test_empty_blob),
        BOTH(test_unref_then_gc),
        BOTH(test_gc_spares_rereferenced),
        BOTH(test_gc_races_ref),
        BOTH(test_corruption_detected),
        BOTH(test_put_in_transaction),
        BOTH(test_put_survives_kill),
        BOTH(test_bad_names),
        ON(test_fs_sweep, "fs"),
        ON(test_fs_gc_one_at_a_time, "fs"),
        ON(test_open_specs, "fs"),
        cmocka_unit_test(test_sniff),
        cmocka_unit_test(test_sniff_threads),
        cmocka_unit_test(test_sniff_without_database),
    };
    return cmocka_run_group_tests(tests, group_setup, group_teardown);
}
