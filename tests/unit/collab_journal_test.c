/* collab_journal_test.c: the collaboration journal (collab/journal.h) on
 * both drivers: records encode and scan back; a torn tail (cut short, or
 * zeros) is told from corruption (bad bytes with more after them); a
 * loop's file, appended to, folds at start-up from its mark on, with
 * nothing folded twice and nothing lost; a record of a deleted project is
 * skipped; files of a generation below the mark are folded whole; a
 * corrupt file stops the recovery and is kept.
 * drivers: sqlite postgres */
#include "cmocka_prelude.h"

#include <fcntl.h>
#include <stdlib.h>
#include <sys/stat.h>
#include <unistd.h>

#include "collab/journal.h"
#include "store/store_int.h"
#include "store_fixture.h"

#define PROJECT "01a21734-9339-76e8-b612-a4b7b255d806"
#define GONE    "01a21734-9339-76e8-b612-a4b7b255dead"

typedef fixture_db fx;

static int test_no;

static int setup(void **state)
{
    fx *f = calloc(1, sizeof *f);
    test_no++;
    if (fixture_db_open(f, "cj", test_no) != 0 || fixture_db_project(f, PROJECT) != 0)
        return -1;
    *state = f;
    return 0;
}

/* ---- the format ---- */

typedef struct seen {
    int n;
    int64_t seqs[8];
    char docs[8][64];
    size_t ends[8];
} seen;

static bool note(void *ctx, const collab_jrec *rec)
{
    seen *s = ctx;
    s->seqs[s->n] = rec->first_seq;
    snprintf(s->docs[s->n], sizeof(s->docs[0]), "%.*s|%.*s|%u|%.*s", (int)rec->project_id.len,
             rec->project_id.ptr, (int)rec->doc.len, rec->doc.ptr, rec->n,
             (int)rec->updates[rec->n - 1].len, rec->updates[rec->n - 1].ptr);
    s->ends[s->n] = rec->end;
    s->n++;
    return true;
}

static void three(sb_buf *b)
{
    sb_str u1[] = {SB_STR("one")}, u2[] = {SB_STR("two"), SB_STR("three")};
    collab_journal_encode(b, PROJECT "/code:a/b.js", 1, u1, 1);
    collab_journal_encode(b, PROJECT "/page:x", 5, u2, 2);
    collab_journal_encode(b, PROJECT "/code:a/b.js", 2, u1, 1);
}

static void test_format(void **state)
{
    (void)state;
    sb_buf b = SB_BUF_INIT;
    three(&b);
    seen s = {0};
    size_t good;
    assert_int_equal(collab_journal_scan((uint8_t *)b.ptr, b.len, 0, note, &s, &good),
                     COLLAB_JSCAN_OK);
    assert_int_equal(s.n, 3);
    assert_int_equal(good, b.len);
    assert_string_equal(s.docs[0], PROJECT "|code:a/b.js|1|one");
    assert_string_equal(s.docs[1], PROJECT "|page:x|2|three");
    assert_int_equal(s.seqs[1], 5);
    /* from a record boundary: the rest */
    seen t = {0};
    assert_int_equal(collab_journal_scan((uint8_t *)b.ptr, b.len, s.ends[0], note, &t, &good),
                     COLLAB_JSCAN_OK);
    assert_int_equal(t.n, 2);

    /* cut inside the last record: torn, the first two stand */
    for (size_t cut = 1; cut < b.len - s.ends[1]; cut++) {
        seen u = {0};
        assert_int_equal(collab_journal_scan((uint8_t *)b.ptr, b.len - cut, 0, note, &u, &good),
                         COLLAB_JSCAN_TORN);
        assert_int_equal(u.n, 2);
        assert_int_equal(good, s.ends[1]);
    }
    /* zeros after the records (a file extended but never written): torn */
    sb_buf z = SB_BUF_INIT;
    sb_buf_append(&z, b.ptr, b.len);
    char zeros[100] = {0};
    sb_buf_append(&z, zeros, sizeof(zeros));
    seen v = {0};
    assert_int_equal(collab_journal_scan((uint8_t *)z.ptr, z.len, 0, note, &v, &good),
                     COLLAB_JSCAN_TORN);
    assert_int_equal(v.n, 3);
    assert_int_equal(good, b.len);
    /* a flipped byte in the middle record, with one after it: corrupt */
    z.ptr[s.ends[0] + 12] ^= 0x20;
    seen w = {0};
    assert_int_equal(collab_journal_scan((uint8_t *)z.ptr, z.len, 0, note, &w, &good),
                     COLLAB_JSCAN_CORRUPT);
    assert_int_equal(w.n, 1);
    assert_int_equal(good, s.ends[0]);
    sb_buf_free(&z);
    sb_buf_free(&b);
}

/* ---- files and recovery ---- */

static int64_t count(store *db, const char *sql)
{
    store_stmt *st;
    assert_int_equal(store_prepare(db, sql, &st, &E), STORE_OK);
    assert_int_equal(store_step(st, &E), STORE_ROW);
    int64_t n = store_col_int(st, 0);
    store_reset(st);
    return n;
}

static int files_in(const char *dir)
{
    char cmd[256];
    snprintf(cmd, sizeof(cmd), "ls %s | wc -l", dir);
    FILE *p = popen(cmd, "r");
    int n = -1;
    assert_int_equal(fscanf(p, "%d", &n), 1);
    pclose(p);
    return n;
}

static void append(collab_journal *j, const char *key, int64_t seq, const char *text, int64_t *gen,
                   int64_t *end)
{
    sb_str u = sb_str_c(text);
    size_t rel = collab_journal_add(j, key, seq, &u, 1);
    int64_t start;
    assert_true(collab_journal_write(j, 1, gen, &start, &E));
    *end = start + (int64_t)rel;
}

static void test_recover(void **state)
{
    fx *f = *state;
    char dir[160];
    snprintf(dir, sizeof(dir), "%s/journal", f->dir);
    int64_t next = 0;
    assert_true(collab_journal_recover(f->s, dir, &next, &E)); /* makes the folder */
    assert_int_equal(next, 1);
    atomic_int_fast64_t gens;
    atomic_init(&gens, next);
    collab_journal *j = collab_journal_new(dir, 3, &gens);
    int64_t gen, end1, end2, end3;
    append(j, PROJECT "/code:a.js", 1, "u1", &gen, &end1);
    append(j, GONE "/code:a.js", 1, "lost with its project", &gen, &end2);
    append(j, PROJECT "/code:a.js", 2, "u2", &gen, &end3);
    assert_int_equal(gen, 1);
    assert_int_equal(atomic_load(&j->written), 3);

    /* the writer folded the first record, and moved the mark with it */
    sb_str u1 = SB_STR("u1");
    collab_append a = {
        .project_id = PROJECT, .doc = "code:a.js", .updates = &u1, .n = 1, .first_seq = 1};
    collab_jpos mark = {.loop = 3, .gen = gen, .folded = end1};
    assert_true(collab_journal_fold(f->s, &a, 1, &mark, 1, &E));
    /* then the process died, leaving a torn record */
    collab_journal_free(j);
    char path[256];
    snprintf(path, sizeof(path), "%s/loop-3-1.log", dir);
    int fd = open(path, O_WRONLY | O_APPEND);
    assert_true(fd >= 0);
    assert_int_equal(write(fd, "\x40\x00\x00\x00\x01\x02", 6), 6);
    close(fd);

    assert_true(collab_journal_recover(f->s, dir, &next, &E));
    assert_int_equal(next, 2);
    assert_int_equal(files_in(dir), 0);
    assert_int_equal(count(f->s, "SELECT count(*) FROM collab_updates WHERE doc = 'code:a.js'"), 2);
    assert_int_equal(count(f->s, "SELECT max(seq) FROM collab_updates"), 2);
    assert_int_equal(count(f->s, "SELECT folded FROM collab_journal WHERE loop = 3"), end3);

    /* a new generation; an older file left beside it is folded whole */
    atomic_store(&gens, next);
    j = collab_journal_new(dir, 3, &gens);
    append(j, PROJECT "/code:a.js", 3, "u3", &gen, &end1);
    assert_int_equal(gen, 2);
    sb_str u3 = SB_STR("u3");
    a = (collab_append){
        .project_id = PROJECT, .doc = "code:a.js", .updates = &u3, .n = 1, .first_seq = 3};
    mark = (collab_jpos){.loop = 3, .gen = gen, .folded = end1};
    assert_true(collab_journal_fold(f->s, &a, 1, &mark, 1, &E));
    collab_journal_free(j);
    snprintf(path, sizeof(path), "%s/loop-3-1.log", dir);
    fd = open(path, O_WRONLY | O_CREAT, 0600); /* unreadable, but below the mark */
    assert_int_equal(write(fd, "old", 3), 3);
    close(fd);
    assert_true(collab_journal_recover(f->s, dir, &next, &E));
    assert_int_equal(next, 3);
    assert_int_equal(files_in(dir), 0);
    assert_int_equal(count(f->s, "SELECT max(seq) FROM collab_updates"), 3);

    /* a clean stop, everything folded: the file goes with the journal */
    atomic_store(&gens, next);
    j = collab_journal_new(dir, 0, &gens);
    append(j, PROJECT "/code:b.js", 1, "b1", &gen, &end1);
    atomic_store(&j->folded, 1);
    collab_journal_free(j);
    assert_int_equal(files_in(dir), 0);
}

static void test_corrupt_kept(void **state)
{
    fx *f = *state;
    char dir[160], path[256];
    snprintf(dir, sizeof(dir), "%s/journal", f->dir);
    mkdir(dir, 0700);
    atomic_int_fast64_t gens;
    atomic_init(&gens, 7);
    collab_journal *j = collab_journal_new(dir, 0, &gens);
    /* two records in one write */
    sb_str c1 = SB_STR("c1"), c2 = SB_STR("c2");
    size_t end1 = collab_journal_add(j, PROJECT "/code:c.js", 1, &c1, 1);
    size_t end2 = collab_journal_add(j, PROJECT "/code:c.js", 2, &c2, 1);
    assert_true(end1 > 0 && end2 > end1);
    int64_t gen, start;
    assert_true(collab_journal_write(j, 2, &gen, &start, &E));
    assert_int_equal(gen, 7);
    assert_int_equal(start, 0);
    assert_int_equal(atomic_load(&j->written), 2);
    collab_journal_free(j);
    snprintf(path, sizeof(path), "%s/loop-0-7.log", dir);
    int fd = open(path, O_RDWR);
    assert_int_equal(pwrite(fd, "X", 1, 10), 1); /* inside the first record */
    close(fd);
    int64_t next;
    assert_false(collab_journal_recover(f->s, dir, &next, &E));
    assert_non_null(strstr(E.msg, "corrupt at byte 0"));
    assert_int_equal(files_in(dir), 1);
    assert_int_equal(count(f->s, "SELECT count(*) FROM collab_updates"), 0);
}

int main(void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(test_format),
        cmocka_unit_test_setup_teardown(test_recover, setup, fixture_db_teardown),
        cmocka_unit_test_setup_teardown(test_corrupt_kept, setup, fixture_db_teardown),
    };
    return cmocka_run_group_tests(tests, group_setup, group_teardown);
}
