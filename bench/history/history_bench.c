/*
 * history_bench.c: the time to rebuild a project's state from its event
 * log (bench/history/run.sh runs it). It writes a log of N events into a
 * store the
 * way the services do: each change to the tables followed by
 * history_append, so payloads and snapshots are the real ones (SQLite in
 * a temporary folder, removed after). The
 * project keeps about 40 pages (component trees of ~1 KB), 40 code files
 * and 150 comments, edited at random (seeded). Then it times:
 *   at_ms       history_state_at for random sequence numbers, with the
 *               snapshots written every `every` events: one snapshot
 *               decode plus at most every - 1 events (median, p99, max)
 *   append      the CPU time of history_append in the write path (mean
 *               per event, and the largest: an event with a snapshot)
 * Each time is given as wall time and as this thread's CPU time (_cpu_),
 * which stays put when other processes share the cores; us_per_event is
 * from CPU time.
 *   full_ms     history_state_at(head) with only the snapshot at 1 kept:
 *               every event of the log replayed (median of 3); the replay
 *               skips payloads that later events overwrite (replay.c)
 *   naive_ms    every payload of the log parsed and applied in order, in
 *               memory (the rows read beforehand, not timed): the cost
 *               without that skipping, and a differential check of it
 * and prints one JSON line with them, the state's size and its snapshot's.
 *
 *   history_bench EVENTS [EVERY]
 */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>
#include <unistd.h>

#include "base/rand.h"
#include "history/history.h"
#include "store/migrate.h"

static double now_ms(void)
{
    struct timespec ts;
    clock_gettime(CLOCK_MONOTONIC, &ts);
    return ts.tv_sec * 1e3 + ts.tv_nsec / 1e6;
}

/* CPU time of this thread: steady when other processes share the cores
 * (the process has one thread). */
static double cpu_ms(void)
{
    struct timespec ts;
    clock_gettime(CLOCK_THREAD_CPUTIME_ID, &ts);
    return ts.tv_sec * 1e3 + ts.tv_nsec / 1e6;
}

static void sort(double *v, int n)
{
    for (int i = 1; i < n; i++) /* insertion sort: small */
        for (int j = i; j > 0 && v[j] < v[j - 1]; j--) {
            double tmp = v[j];
            v[j] = v[j - 1];
            v[j - 1] = tmp;
        }
}

static void die_if(bool bad, const char *what, const sb_errbuf *err)
{
    if (bad) {
        fprintf(stderr, "history_bench: %s: %s\n", what, err ? err->msg : "");
        exit(1);
    }
}

static void exec_args(store *db, const char *sql, const char *const *args, size_t n,
                      const int64_t *ints, size_t ni)
{
    sb_errbuf err;
    store_stmt *st;
    die_if(store_prepare(db, sql, &st, &err) != STORE_OK, sql, &err);
    for (size_t i = 0; i < n; i++)
        store_bind_cstr(st, (int)i + 1, args[i]);
    for (size_t i = 0; i < ni; i++)
        store_bind_int(st, (int)(n + i) + 1, ints[i]);
    store_err e = store_step(st, &err);
    store_reset(st);
    die_if(e != STORE_DONE, sql, &err);
}

static uint64_t rng = 88172645463325252ull;
static uint64_t next(void)
{
    rng ^= rng << 13;
    rng ^= rng >> 7;
    rng ^= rng << 17;
    return rng;
}

/* A component tree of about 1 KB. */
static void tree(char *out, size_t cap, int v)
{
    size_t at = 0;
    at += (size_t)snprintf(out + at, cap - at, "[");
    for (int i = 0; i < 6; i++)
        at += (size_t)snprintf(out + at, cap - at,
                               "%s{\"id\":\"c%d\",\"type\":\"Section\",\"props\":{\"title\":"
                               "\"Fresh bread every morning, version %d\",\"n\":%d},"
                               "\"children\":[{\"id\":\"t%d\",\"type\":\"Text\",\"props\":{}}]}",
                               i ? "," : "", i, v, i * v, i);
    snprintf(out + at, cap - at, "]");
}

#define PAGES    40
#define FILES    40
#define COMMENTS 150

int main(int argc, char **argv)
{
    if (argc < 2) {
        fprintf(stderr, "usage: history_bench EVENTS [EVERY]\n");
        return 2;
    }
    long events = atol(argv[1]);
    int every = argc > 2 ? atoi(argv[2]) : HISTORY_SNAPSHOT_EVERY_DEFAULT;
    char dir[] = "/tmp/history_bench.XXXXXX";
    die_if(!mkdtemp(dir), "mkdtemp", NULL);
    char url[600];
    snprintf(url, sizeof(url), "sqlite:%s/bench.db", dir);
    sb_errbuf err;
    store *db;
    die_if(store_open(url, dir, &db, &err) != STORE_OK, "open", &err);
    die_if(store_migrate(db, NULL, &err) != STORE_OK, "migrate", &err);

    const char *user = "01900000-0000-7000-8000-0000000000aa";
    const char *project = "01900000-0000-7000-8000-0000000000bb";
    int64_t t = 1700000000000000;
    exec_args(db, "INSERT INTO users (id, email, created_at, updated_at) VALUES ($1, $2, $3, $3)",
              (const char *const[]){user, "bench@example.com"}, 2, &t, 1);
    die_if(store_begin(db, &err) != STORE_OK, "begin", &err);
    exec_args(db,
              "INSERT INTO projects (id, name, owner_id, created_at, updated_at) "
              "VALUES ($1, 'Bakery', $2, $3, $3)",
              (const char *const[]){project, user}, 2, &t, 1);
    history_event_in ev = {project, "project_created", "", user, NULL, NULL, t};
    die_if(history_append(db, &ev, every, NULL, &err) != HISTORY_OK, "append", &err);

    double w0 = now_ms(), append_ms = 0, append_max_ms = 0;
    char buf[4096], key[64], key2[64];
    for (long i = 1; i < events; i++) {
        t += 1000;
        uint64_t r = next();
        int which = (int)(r % 10), k = (int)((r >> 8) % PAGES);
        char pid[40];
        snprintf(pid, sizeof(pid), "01900000-0000-7000-8000-%012d", k);
        const char *type;
        if (which < 4) { /* a page written (created or replaced) */
            tree(buf, sizeof(buf), (int)i);
            snprintf(key, sizeof(key), "/p%d", k);
            exec_args(db,
                      "INSERT INTO pages (id, project_id, name, path, components, created_at, "
                      "updated_at) VALUES ($1, $2, 'Page', $3, $4, $5, $5) ON CONFLICT (id) DO "
                      "UPDATE SET components = excluded.components, version = pages.version + 1, "
                      "updated_at = excluded.updated_at",
                      (const char *const[]){pid, project, key, buf}, 4, &t, 1);
            type = "page_updated";
            snprintf(key, sizeof(key), "%s", pid);
        } else if (which < 8) { /* a code file written */
            snprintf(key, sizeof(key), "src/f%d.js", k % FILES);
            int n = snprintf(buf, sizeof(buf), "export const v = %ld; // %s\n", i,
                             "the oven is hot, the bread is fresh, the shop is open");
            int64_t ints[2] = {n, t};
            exec_args(db,
                      "INSERT INTO files (project_id, path, content, language, size, created_at, "
                      "updated_at) VALUES ($1, $2, CAST($3 AS BLOB), 'javascript', $4, $5, $5) "
                      "ON CONFLICT (project_id, path) DO UPDATE SET content = excluded.content, "
                      "size = excluded.size, version = files.version + 1, "
                      "updated_at = excluded.updated_at",
                      (const char *const[]){project, key, buf}, 3, ints, 2);
            type = "file_updated";
        } else { /* a comment on a page, replacing an old one */
            int c = (int)((r >> 20) % COMMENTS);
            snprintf(key, sizeof(key), "01900000-0000-7000-9000-%012d", c);
            snprintf(key2, sizeof(key2), "note %ld", i);
            exec_args(db, "DELETE FROM comments WHERE id = $1", (const char *const[]){key}, 1, NULL,
                      0);
            int64_t ok = 0;
            {
                store_stmt *st;
                die_if(store_prepare(db, "SELECT 1 FROM pages WHERE id = $1", &st, &err) !=
                           STORE_OK,
                       "select", &err);
                store_bind_cstr(st, 1, pid);
                ok = store_step(st, &err) == STORE_ROW;
                store_reset(st);
            }
            if (ok)
                exec_args(db,
                          "INSERT INTO comments (id, project_id, page_id, element_id, author_id, "
                          "body, created_at, updated_at) VALUES ($1, $2, $3, 'c1', $4, $5, $6, "
                          "$6)",
                          (const char *const[]){key, project, pid, user, key2}, 5, &t, 1);
            type = ok ? "comment_created" : "comment_deleted";
        }
        history_event_in e = {project, type, key, user, NULL, NULL, t};
        double ap0 = cpu_ms();
        die_if(history_append(db, &e, every, NULL, &err) != HISTORY_OK, "append", &err);
        double ap = cpu_ms() - ap0;
        append_ms += ap;
        if (ap > append_max_ms)
            append_max_ms = ap;
        /* Commit in batches: the bench times reads, not the write path. */
        if (i % 500 == 0) {
            die_if(store_commit(db, &err) != STORE_OK, "commit", &err);
            die_if(store_begin(db, &err) != STORE_OK, "begin", &err);
        }
    }
    die_if(store_commit(db, &err) != STORE_OK, "commit", &err);
    double write_ms = now_ms() - w0;

    int64_t head;
    die_if(history_head(db, project, &head, &err) != HISTORY_OK, "head", &err);
    die_if(head != events, "the head is not the number of events", NULL);

    /* The state and its snapshot's size. */
    json_t *s;
    die_if(history_state_at(db, project, head, &s, &err) != HISTORY_OK, "state_at", &err);
    sb_buf text = SB_BUF_INIT, frame = SB_BUF_INIT;
    history_state_text(s, &text);
    double e0 = now_ms();
    history_snapshot_encode(s, &frame);
    double encode_ms = now_ms() - e0;
    json_t *back;
    double d0 = now_ms();
    die_if(history_snapshot_decode(frame.ptr, frame.len, HISTORY_STATE_MAX, &back) != HISTORY_OK,
           "decode", NULL);
    double decode_ms = now_ms() - d0;
    json_decref(back);

    /* Random points, nearest snapshot plus replay. */
    enum { SAMPLES = 300 };
    double at[SAMPLES], at_cpu[SAMPLES];
    for (int i = 0; i < SAMPLES; i++) {
        int64_t q = 1 + (int64_t)(next() % (uint64_t)head);
        json_t *x;
        double a0 = now_ms(), c0 = cpu_ms();
        die_if(history_state_at(db, project, q, &x, &err) != HISTORY_OK, "state_at", &err);
        at[i] = now_ms() - a0;
        at_cpu[i] = cpu_ms() - c0;
        json_decref(x);
    }
    sort(at, SAMPLES);
    sort(at_cpu, SAMPLES);

    /* Every payload applied, in memory. */
    sb_buf all = SB_BUF_INIT; /* the payloads, NUL-separated */
    {
        store_stmt *st;
        die_if(store_prepare(db,
                             "SELECT payload FROM events WHERE project_id = $1 AND seq > 1 "
                             "ORDER BY seq",
                             &st, &err) != STORE_OK,
               "select", &err);
        store_bind_cstr(st, 1, project);
        while (store_step(st, &err) == STORE_ROW) {
            size_t n;
            const char *p = store_col_text(st, 0, &n);
            sb_buf_append(&all, p, n);
            sb_buf_putc(&all, 0);
        }
        store_reset(st);
    }
    json_t *naive;
    die_if(history_state_at(db, project, 1, &naive, &err) != HISTORY_OK, "state_at 1", &err);
    double n0 = now_ms(), nc0 = cpu_ms();
    for (size_t at_ = 0; at_ < all.len;) {
        size_t n = strlen(all.ptr + at_);
        json_error_t je;
        json_t *p = json_loadb(all.ptr + at_, n, 0, &je);
        die_if(!p || history_apply(naive, p) != HISTORY_OK, "naive apply", NULL);
        json_decref(p);
        at_ += n + 1;
    }
    double naive_ms = now_ms() - n0, naive_cpu_ms = cpu_ms() - nc0;
    {
        sb_buf t2 = SB_BUF_INIT;
        history_state_text(naive, &t2);
        die_if(t2.len != text.len || memcmp(t2.ptr, text.ptr, text.len) != 0,
               "applying every payload differs from the snapshot path", NULL);
        sb_buf_free(&t2);
    }
    json_decref(naive);
    sb_buf_free(&all);

    /* Every event replayed: keep only the first snapshot. */
    exec_args(db, "DELETE FROM event_snapshots WHERE project_id = $1 AND seq > 1",
              (const char *const[]){project}, 1, NULL, 0);
    double full[3], full_cpu[3];
    for (int i = 0; i < 3; i++) {
        json_t *x;
        double f0 = now_ms(), c0 = cpu_ms();
        die_if(history_state_at(db, project, head, &x, &err) != HISTORY_OK, "replay", &err);
        full[i] = now_ms() - f0;
        full_cpu[i] = cpu_ms() - c0;
        sb_buf t2 = SB_BUF_INIT;
        history_state_text(x, &t2);
        die_if(t2.len != text.len || memcmp(t2.ptr, text.ptr, text.len) != 0,
               "a full replay differs from the snapshot path", NULL);
        sb_buf_free(&t2);
        json_decref(x);
    }
    sort(full, 3);
    sort(full_cpu, 3);

    printf("{\"events\":%ld,\"every\":%d,\"driver\":\"%s\",\"state_bytes\":%zu,"
           "\"snapshot_bytes\":%zu,\"encode_ms\":%.3f,\"decode_ms\":%.3f,"
           "\"at_ms_median\":%.3f,\"at_ms_p99\":%.3f,\"at_ms_max\":%.3f,"
           "\"at_cpu_ms_median\":%.3f,\"at_cpu_ms_p99\":%.3f,"
           "\"full_ms_median\":%.1f,\"full_cpu_ms_median\":%.1f,\"full_us_per_event\":%.2f,"
           "\"naive_ms\":%.1f,\"naive_cpu_ms\":%.1f,\"write_ms\":%.0f,"
           "\"append_cpu_us_mean\":%.1f,\"append_cpu_ms_max\":%.2f}\n",
           events, every, store_driver_name(store_driver_of(db)), text.len, frame.len, encode_ms,
           decode_ms, at[SAMPLES / 2], at[SAMPLES * 99 / 100], at[SAMPLES - 1], at_cpu[SAMPLES / 2],
           at_cpu[SAMPLES * 99 / 100], full[1], full_cpu[1], full_cpu[1] * 1000.0 / (double)head,
           naive_ms, naive_cpu_ms, write_ms, append_ms * 1000.0 / (double)(events - 1),
           append_max_ms);
    sb_buf_free(&text);
    sb_buf_free(&frame);
    json_decref(s);
    store_close(db);
    char path[700];
    const char *files[] = {"bench.db", "bench.db-wal", "bench.db-shm"};
    for (size_t i = 0; i < SB_ARRAY_LEN(files); i++) {
        snprintf(path, sizeof(path), "%s/%s", dir, files[i]);
        unlink(path);
    }
    rmdir(dir);
    return 0;
}
