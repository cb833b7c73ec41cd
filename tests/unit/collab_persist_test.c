/* collab_persist_test.c: a collaborative document's storage on both
 * drivers: appended updates load back in order; compaction folds the log
 * into one state with nothing lost and later appends still apply on top; a
 * row the engine refuses is skipped, not fatal; a document with pending
 * structs keeps its log; documents do not see each other's rows; a log
 * shared by several nodes (next free seqs, reading what was missed, a
 * state that never moves back); a group append over several documents,
 * all or nothing; documents written before the layout of migration 11
 * load the same after it.
 * drivers: sqlite postgres */
#include "cmocka_prelude.h"

#include <stdlib.h>

#include "collab/persist.h"
#include "crdt/crdt.h"
#include "store/migrate.h"
#include "store/store_int.h"
#include "store_fixture.h"

#define PROJECT "01a21734-9339-76e8-b612-a4b7b255d806"

typedef fixture_db fx;

static int test_no;

static int setup(void **state)
{
    fx *f = calloc(1, sizeof *f);
    test_no++;
    if (fixture_db_open(f, "cp", test_no) != 0 || fixture_db_project(f, PROJECT) != 0)
        return -1;
    *state = f;
    return 0;
}

/* A store whose schema stops at migration `upto`: what an older binary
 * left behind. */
static int setup_at(void **state, int upto)
{
    fx *f = calloc(1, sizeof *f);
    test_no++;
    if (fixture_db_open_empty(f, "cp", test_no) != 0)
        return -1;
    store_migration old[64];
    size_t n = 0;
    for (const store_migration *m = store_migrations; m->driver; m++)
        if (strcmp(m->driver, store_driver_name(driver)) == 0 && m->version <= upto && n < 63)
            old[n++] = *m;
    old[n] = (store_migration){0};
    if (store__migrate_from(f->s, old, NULL, &E) != STORE_OK) {
        fprintf(stderr, "migrate to %d: %s\n", upto, E.msg);
        return -1;
    }
    *state = f;
    return fixture_db_project(f, PROJECT);
}

static int setup_at_10(void **state)
{
    return setup_at(state, 10);
}

/* An update inserting text at index of root "t", made by writer. */
static void insert(crdt_doc *writer, uint64_t index, const char *text, sb_buf *out)
{
    bool changed;
    sb_buf_reset(out);
    assert_int_equal(
        crdt_text_insert(writer, SB_STR("t"), index, sb_str_c(text), SB_STR_NULL, out, &changed),
        CRDT_OK);
}

static void append(fx *f, const char *doc, int64_t seq, const sb_buf *u)
{
    sb_str part = sb_buf_str(u);
    assert_true(collab_persist_append(f->s, PROJECT, doc, seq, &part, 1, 5, &E));
}

/* Loads doc and returns its text "t" (caller frees), with seq and log rows. */
static char *load_text(fx *f, const char *doc, int64_t *last_seq, int64_t *nlog)
{
    crdt_doc *d = NULL;
    assert_true(collab_persist_load(f->s, PROJECT, doc, &d, last_seq, nlog, &E));
    sb_buf json = SB_BUF_INIT;
    assert_int_equal(crdt_doc_json(d, SB_STR("t"), CRDT_TEXT, &json), CRDT_OK);
    crdt_doc_free(d);
    return sb_buf_detach(&json, NULL);
}

static int64_t log_rows(fx *f, const char *doc)
{
    store_stmt *st;
    assert_int_equal(store_prepare(f->s,
                                   "SELECT count(*) FROM collab_updates WHERE project_id = $1 "
                                   "AND doc = $2",
                                   &st, &E),
                     STORE_OK);
    store_bind_cstr(st, 1, PROJECT);
    store_bind_cstr(st, 2, doc);
    assert_int_equal(store_step(st, &E), STORE_ROW);
    int64_t n = store_col_int(st, 0);
    store_reset(st);
    return n;
}

static void test_append_load_compact(void **state)
{
    fx *f = *state;
    int64_t seq, nlog;
    char *t = load_text(f, "code:a.js", &seq, &nlog);
    assert_string_equal(t, "\"\"");
    assert_int_equal(seq, 0);
    assert_int_equal(nlog, 0);
    free(t);

    crdt_doc *w = crdt_doc_new(7, true);
    sb_buf u = SB_BUF_INIT;
    insert(w, 0, "world", &u);
    append(f, "code:a.js", 1, &u);
    insert(w, 0, "hello ", &u);
    append(f, "code:a.js", 2, &u);
    /* Another document's rows are its own (another writer: a client's
     * clocks in one document must be contiguous). */
    crdt_doc *w2 = crdt_doc_new(8, true);
    insert(w2, 0, "other ", &u);
    append(f, "code:b.js", 1, &u);
    crdt_doc_free(w2);

    t = load_text(f, "code:a.js", &seq, &nlog);
    assert_string_equal(t, "\"hello world\"");
    assert_int_equal(seq, 2);
    assert_int_equal(nlog, 2);
    free(t);

    assert_true(collab_persist_compact(f->s, PROJECT, "code:a.js", 9, &nlog, NULL, &E));
    assert_int_equal(nlog, 0);
    assert_int_equal(log_rows(f, "code:a.js"), 0);
    assert_int_equal(log_rows(f, "code:b.js"), 1);
    t = load_text(f, "code:a.js", &seq, &nlog);
    assert_string_equal(t, "\"hello world\"");
    assert_int_equal(seq, 2); /* through_seq carries the numbering on */
    assert_int_equal(nlog, 0);
    free(t);

    /* Appends after a compaction apply on top of the state. */
    insert(w, 11, "!", &u);
    append(f, "code:a.js", 3, &u);
    t = load_text(f, "code:a.js", &seq, &nlog);
    assert_string_equal(t, "\"hello world!\"");
    assert_int_equal(seq, 3);
    assert_int_equal(nlog, 1);
    free(t);
    sb_buf_free(&u);
    crdt_doc_free(w);
}

static void test_bad_row_and_pending(void **state)
{
    fx *f = *state;
    crdt_doc *w = crdt_doc_new(9, true);
    sb_buf first = SB_BUF_INIT, second = SB_BUF_INIT;
    insert(w, 0, "ab", &first);
    insert(w, 2, "cd", &second);
    /* Only the second: it depends on the first, so it waits as pending. */
    append(f, "code:p.js", 1, &second);
    int64_t seq, nlog;
    assert_true(collab_persist_compact(f->s, PROJECT, "code:p.js", 9, &nlog, NULL, &E));
    assert_int_equal(nlog, 1); /* kept: encoding would drop the pending structs */
    assert_int_equal(log_rows(f, "code:p.js"), 1);
    /* The missing one arrives: both apply, and now it compacts. */
    append(f, "code:p.js", 2, &first);
    char *t = load_text(f, "code:p.js", &seq, &nlog);
    assert_string_equal(t, "\"abcd\"");
    free(t);
    assert_true(collab_persist_compact(f->s, PROJECT, "code:p.js", 9, &nlog, NULL, &E));
    assert_int_equal(nlog, 0);
    t = load_text(f, "code:p.js", &seq, &nlog);
    assert_string_equal(t, "\"abcd\"");
    assert_int_equal(seq, 2);
    free(t);
    /* A row the engine refuses (not an update at all) is skipped. */
    sb_buf junk = SB_BUF_INIT;
    sb_buf_append(&junk, "\x05\xc8\x01\x02", 4);
    append(f, "code:p.js", 3, &junk);
    t = load_text(f, "code:p.js", &seq, &nlog);
    assert_string_equal(t, "\"abcd\"");
    assert_int_equal(seq, 3);
    free(t);
    sb_buf_free(&junk);
    sb_buf_free(&first);
    sb_buf_free(&second);
    crdt_doc_free(w);
}

static void test_duplicate_seq_refused(void **state)
{
    fx *f = *state;
    crdt_doc *w = crdt_doc_new(3, true);
    sb_buf u = SB_BUF_INIT;
    insert(w, 0, "x", &u);
    append(f, "code:d.js", 1, &u);
    sb_str part = sb_buf_str(&u);
    /* A batch that reuses a taken seq (another node, say) fails whole. */
    sb_str parts[2] = {part, part};
    assert_false(collab_persist_append(f->s, PROJECT, "code:d.js", 1, parts, 2, 5, &E));
    assert_int_equal(log_rows(f, "code:d.js"), 1);
    sb_buf_free(&u);
    crdt_doc_free(w);
}

typedef struct seen {
    int64_t seqs[16];
    size_t n;
} seen;

static void note_row(void *ctx, int64_t seq, const void *p, size_t n)
{
    seen *s = ctx;
    (void)p;
    assert_true(n > 0);
    if (s->n < 16)
        s->seqs[s->n++] = seq;
}

/* Several nodes share one log: appends take the next free seqs (also
 * after a compaction emptied the log), a node that missed rows reads them
 * (and the state, once it folded them), and a compaction never moves the
 * state back. */
static void test_shared_log(void **state)
{
    fx *f = *state;
    crdt_doc *w = crdt_doc_new(4, true);
    sb_buf u = SB_BUF_INIT;
    int64_t first = 0;
    insert(w, 0, "a", &u);
    sb_str part = sb_buf_str(&u);
    assert_true(collab_persist_append_next(f->s, PROJECT, "code:n.js", &part, 1, 5, &first, &E));
    assert_int_equal(first, 1);
    /* Another node wrote seq 2 meanwhile: the next append takes 3 and 4. */
    insert(w, 1, "b", &u);
    append(f, "code:n.js", 2, &u);
    sb_buf u2 = SB_BUF_INIT, u3 = SB_BUF_INIT;
    insert(w, 2, "c", &u2);
    insert(w, 3, "d", &u3);
    sb_str parts[2] = {sb_buf_str(&u2), sb_buf_str(&u3)};
    assert_true(collab_persist_append_next(f->s, PROJECT, "code:n.js", parts, 2, 5, &first, &E));
    assert_int_equal(first, 3);

    seen s = {0};
    assert_true(collab_persist_since(f->s, PROJECT, "code:n.js", 2, note_row, &s, &E));
    assert_int_equal(s.n, 2);
    assert_int_equal(s.seqs[0], 3);
    assert_int_equal(s.seqs[1], 4);

    /* Folded through 4: the log is empty, and the next append is 5 (not 1). */
    int64_t nlog;
    assert_true(collab_persist_compact(f->s, PROJECT, "code:n.js", 9, &nlog, NULL, &E));
    assert_int_equal(nlog, 0);
    insert(w, 4, "e", &u);
    part = sb_buf_str(&u);
    assert_true(collab_persist_append_next(f->s, PROJECT, "code:n.js", &part, 1, 5, &first, &E));
    assert_int_equal(first, 5);
    /* A node that held only seq 1 gets the state (through 4) and row 5. */
    s = (seen){0};
    assert_true(collab_persist_since(f->s, PROJECT, "code:n.js", 1, note_row, &s, &E));
    assert_int_equal(s.n, 2);
    assert_true((s.seqs[0] == 5 && s.seqs[1] == 4) || (s.seqs[0] == 4 && s.seqs[1] == 5));
    /* One that held 4 gets row 5 only. */
    s = (seen){0};
    assert_true(collab_persist_since(f->s, PROJECT, "code:n.js", 4, note_row, &s, &E));
    assert_int_equal(s.n, 1);
    assert_int_equal(s.seqs[0], 5);

    /* A compaction that read less than the stored state leaves it alone:
     * pretend the stored state is through 9, then fold row 5. */
    assert_int_equal(
        store_exec(f->s, "UPDATE collab_docs SET through_seq = 9 WHERE doc = 'code:n.js'", &E),
        STORE_OK);
    assert_true(collab_persist_compact(f->s, PROJECT, "code:n.js", 9, &nlog, NULL, &E));
    int64_t seq;
    char *t = load_text(f, "code:n.js", &seq, &nlog);
    assert_int_equal(seq, 9);
    free(t);
    sb_buf_free(&u);
    sb_buf_free(&u2);
    sb_buf_free(&u3);
    crdt_doc_free(w);
}

/* A group append gives each document its next free seqs in one
 * transaction; when one document's rows cannot go in, none of the group's
 * do, and each can still be appended alone. */
static void test_group_append(void **state)
{
    fx *f = *state;
    crdt_doc *w = crdt_doc_new(5, true);
    sb_buf u = SB_BUF_INIT, u2 = SB_BUF_INIT;
    insert(w, 0, "a", &u);
    insert(w, 1, "b", &u2);
    append(f, "code:g2.js", 1, &u); /* g2 already has seq 1 */
    sb_str one[1] = {sb_buf_str(&u)};
    sb_str two[2] = {sb_buf_str(&u), sb_buf_str(&u2)};
    collab_append a[2] = {{.project_id = PROJECT, .doc = "code:g1.js", .updates = two, .n = 2},
                          {.project_id = PROJECT, .doc = "code:g2.js", .updates = one, .n = 1}};
    assert_true(collab_persist_append_group(f->s, a, 2, 5, &E));
    assert_int_equal(a[0].first_seq, 1);
    assert_int_equal(a[1].first_seq, 2);
    assert_int_equal(log_rows(f, "code:g1.js"), 2);
    assert_int_equal(log_rows(f, "code:g2.js"), 2);
    int64_t seq, nlog;
    char *t = load_text(f, "code:g1.js", &seq, &nlog);
    assert_string_equal(t, "\"ab\"");
    assert_int_equal(seq, 2);
    free(t);

    /* A document that is not a project's row breaks the foreign key: the
     * group stores nothing, and the store is usable afterwards. */
    collab_append bad[2] = {{.project_id = PROJECT, .doc = "code:g3.js", .updates = one, .n = 1},
                            {.project_id = "01a21734-ffff-7fff-bfff-ffffffffffff",
                             .doc = "code:x.js",
                             .updates = one,
                             .n = 1}};
    assert_false(collab_persist_append_group(f->s, bad, 2, 5, &E));
    assert_int_equal(log_rows(f, "code:g3.js"), 0);
    int64_t first;
    assert_true(collab_persist_append_next(f->s, PROJECT, "code:g3.js", one, 1, 5, &first, &E));
    assert_int_equal(first, 1);
    sb_buf_free(&u);
    sb_buf_free(&u2);
    crdt_doc_free(w);
}

/* Text, seq and log rows of doc, as one string to compare. */
static void snapshot(fx *f, const char *doc, char *out, size_t cap)
{
    int64_t seq, nlog;
    char *t = load_text(f, doc, &seq, &nlog);
    snprintf(out, cap, "%s seq=%lld log=%lld", t, (long long)seq, (long long)nlog);
    free(t);
}

/* Migration 11 (SQLite) rebuilds both collab tables: states and logs
 * written before it load the same after it, and appends go on from the
 * same seqs. */
static void test_layout_upgrade(void **state)
{
    fx *f = *state;
    crdt_doc *w = crdt_doc_new(7, true), *w2 = crdt_doc_new(8, true);
    sb_buf u = SB_BUF_INIT;
    insert(w, 0, "world", &u);
    append(f, "code:a.js", 1, &u);
    insert(w, 0, "hello ", &u);
    append(f, "code:a.js", 2, &u);
    int64_t nlog;
    assert_true(collab_persist_compact(f->s, PROJECT, "code:a.js", 9, &nlog, NULL, &E));
    insert(w, 11, "!", &u);
    append(f, "code:a.js", 3, &u);
    insert(w2, 0, "other", &u);
    append(f, "code:b.js", 1, &u);
    char a0[128], b0[128], a1[128], b1[128];
    snapshot(f, "code:a.js", a0, sizeof a0);
    snapshot(f, "code:b.js", b0, sizeof b0);
    assert_string_equal(a0, "\"hello world!\" seq=3 log=1");
    assert_string_equal(b0, "\"other\" seq=1 log=1");

    assert_int_equal(store_migrate(f->s, NULL, &E), STORE_OK);
    snapshot(f, "code:a.js", a1, sizeof a1);
    snapshot(f, "code:b.js", b1, sizeof b1);
    assert_string_equal(a1, a0);
    assert_string_equal(b1, b0);
    if (driver == STORE_SQLITE) {
        store_stmt *st;
        assert_int_equal(store_prepare(f->s,
                                       "SELECT sql FROM sqlite_master WHERE type = 'table' AND "
                                       "name = $1",
                                       &st, &E),
                         STORE_OK);
        store_bind_cstr(st, 1, "collab_updates");
        assert_int_equal(store_step(st, &E), STORE_ROW);
        assert_non_null(strstr(store_col_text(st, 0, NULL), "WITHOUT ROWID"));
        store_reset(st);
        store_bind_cstr(st, 1, "collab_docs");
        assert_int_equal(store_step(st, &E), STORE_ROW);
        assert_null(strstr(store_col_text(st, 0, NULL), "WITHOUT ROWID"));
        store_reset(st);
    }

    /* The next free seq is the one after the log's last. */
    insert(w, 0, ">", &u);
    sb_str part = sb_buf_str(&u);
    int64_t first;
    assert_true(collab_persist_append_next(f->s, PROJECT, "code:a.js", &part, 1, 10, &first, &E));
    assert_int_equal(first, 4);
    assert_true(collab_persist_compact(f->s, PROJECT, "code:a.js", 11, &nlog, NULL, &E));
    snapshot(f, "code:a.js", a1, sizeof a1);
    assert_string_equal(a1, "\">hello world!\" seq=4 log=0");
    sb_buf_free(&u);
    crdt_doc_free(w);
    crdt_doc_free(w2);
}

int main(void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test_setup_teardown(test_append_load_compact, setup, fixture_db_teardown),
        cmocka_unit_test_setup_teardown(test_bad_row_and_pending, setup, fixture_db_teardown),
        cmocka_unit_test_setup_teardown(test_duplicate_seq_refused, setup, fixture_db_teardown),
        cmocka_unit_test_setup_teardown(test_shared_log, setup, fixture_db_teardown),
        cmocka_unit_test_setup_teardown(test_group_append, setup, fixture_db_teardown),
        cmocka_unit_test_setup_teardown(test_layout_upgrade, setup_at_10, fixture_db_teardown),
    };
    return cmocka_run_group_tests(tests, group_setup, group_teardown);
}
