/*
 * history_log_test.c: the event log on a real store, on both drivers.
 * Changes are made to the tables as the services make them, each followed
 * by history_append in its transaction; after each, the live state is
 * recorded. Then: the state at every number equals the record (through
 * snapshots every 4, and again with only the first snapshot left, where
 * replay skips overwritten payloads); numbers start at 1 and a rolled-back
 * append gives its number back; a missing event, a damaged snapshot or
 * payload is CORRUPT rather than a wrong state; times map to numbers; the
 * event list pages by number.
 */
/* drivers: sqlite postgres */
#include "cmocka_prelude.h"

#include "store_fixture.h"
#include "history_fixture.h"

#include "history/history.h"
#include "store/migrate.h"

#define PROJECT "01900000-0000-7000-8000-0000000000bb"
#define USER    "01900000-0000-7000-8000-0000000000aa"
#define EVERY   4

typedef fixture_db fx;

static int test_no;

static void sql(store *s, const char *text, const char *const *args, size_t n)
{
    store_stmt *st;
    if (store_prepare(s, text, &st, &E) != STORE_OK)
        fail_msg("prepare %s: %s", text, E.msg);
    for (size_t i = 0; i < n; i++)
        store_bind_cstr(st, (int)i + 1, args[i]);
    store_err e = store_step(st, &E);
    store_reset(st);
    if (e != STORE_DONE)
        fail_msg("%s: %s", text, E.msg);
}

static int setup(void **state)
{
    fx *f = calloc(1, sizeof *f);
    test_no++;
    if (fixture_db_open(f, "h", test_no) != 0)
        return -1;
    sql(f->s,
        "INSERT INTO users (id, email, created_at, updated_at) VALUES ($1, 'a@example.com', 1, 1)",
        (const char *const[]){USER}, 1);
    *state = f;
    return 0;
}

/* One change: sql with args, then the event, in one transaction. */
typedef struct change {
    const char *sql;
    const char *args[4];
    const char *type, *target, *details;
} change;

#define P   PROJECT
#define PG1 "01900000-0000-7000-8000-000000000001"
#define PG2 "01900000-0000-7000-8000-000000000002"
#define C1  "01900000-0000-7000-8000-0000000000c1"
#define C2  "01900000-0000-7000-8000-0000000000c2"
#define C3  "01900000-0000-7000-8000-0000000000c3"

#define PAGE_PUT                                                                                   \
    "INSERT INTO pages (id, project_id, name, path, components, created_at, updated_at) "          \
    "VALUES ($1, $2, $3, $4, '[]', 5, 5) ON CONFLICT (id) DO UPDATE SET name = excluded.name, "    \
    "version = pages.version + 1"
#define FILE_PUT                                                                                   \
    "INSERT INTO files (project_id, path, content, language, size, created_at, updated_at) "       \
    "VALUES ($1, $2, '', $3, 0, 5, 5) ON CONFLICT (project_id, path) DO UPDATE SET "               \
    "language = excluded.language, version = files.version + 1"
#define COMMENT_ADD                                                                                \
    "INSERT INTO comments (id, project_id, page_id, element_id, parent_id, author_id, body, "      \
    "created_at, updated_at) VALUES ($1, $2, $3, 'e', $4, '" USER "', 'hi', 5, 5)"
#define TOUCH "UPDATE comments SET version = version + 1 WHERE id = $1"

static const change changes[] = {
    {"INSERT INTO projects (id, name, owner_id, created_at, updated_at) VALUES ($1, 'B', '" USER
     "', 5, 5)",
     {P},
     "project_created",
     "",
     NULL},
    {PAGE_PUT, {PG1, P, "Home", "/"}, "page_created", PG1, NULL},
    {FILE_PUT, {P, "a.js", "javascript"}, "file_created", "a.js", NULL},
    {FILE_PUT, {P, "a.js", "typescript"}, "file_updated", "a.js", NULL},
    {PAGE_PUT, {PG2, P, "About", "/about"}, "page_created", PG2, NULL},
    {COMMENT_ADD, {C1, P, PG1, NULL}, "comment_created", C1, NULL},
    {COMMENT_ADD, {C2, P, PG1, C1}, "comment_created", C2, NULL},
    {TOUCH, {C1}, "comment_thread_touched_by_test", C1, NULL}, /* an unknown type: whole state */
    {COMMENT_ADD, {C3, P, PG2, NULL}, "comment_created", C3, NULL},
    {PAGE_PUT, {PG1, P, "Home 2", "/"}, "page_updated", PG1, NULL},
    {"DELETE FROM files WHERE project_id = $1 AND path = $2",
     {P, "a.js"},
     "file_deleted",
     "a.js",
     NULL},
    /* The same path again: a deletion that a later write supersedes. */
    {FILE_PUT, {P, "a.js", "css"}, "file_created", "a.js", NULL},
    {"DELETE FROM comments WHERE id = $1", {C2}, "comment_deleted", C2, "{\"thread\":\"" C1 "\"}"},
    {"INSERT INTO project_members (project_id, user_id, role, created_at) VALUES ($1, $2, "
     "'viewer', 5)",
     {P, USER},
     "member_role_changed",
     USER,
     NULL},
    {"DELETE FROM pages WHERE id = $1", {PG1}, "page_deleted", PG1, NULL}, /* takes C1 along */
    {PAGE_PUT, {PG2, P, "About 2", "/about"}, "page_updated", PG2, NULL},
    {"UPDATE projects SET name = 'Bakery', version = version + 1 WHERE id = $1",
     {P},
     "project_updated",
     "",
     NULL},
    {"DELETE FROM project_members WHERE project_id = $1 AND user_id = $2",
     {P, USER},
     "member_role_changed",
     USER,
     NULL},
    {FILE_PUT, {P, "b.css", "css"}, "file_created", "b.css", NULL},
    /* A change outside the state: an event, the state as it was. */
    {"UPDATE projects SET version = version WHERE id = $1", {P}, "item_shared", USER, NULL},
};
#define NCHANGES ((int)SB_ARRAY_LEN(changes))

static int64_t append(store *s, const change *c, int64_t t)
{
    assert_int_equal(store_begin(s, &E), STORE_OK);
    size_t n = 0;
    while (n < 4 && c->args[n])
        n++;
    /* C2's parent is the 4th argument, NULL for a root. */
    if (strncmp(c->sql, "INSERT INTO comments", 20) == 0)
        n = 4;
    sql(s, c->sql, c->args, n);
    if (c->args[3] && strncmp(c->sql, "INSERT INTO comments", 20) == 0)
        sql(s, TOUCH, (const char *const[]){c->args[3]}, 1);
    history_event_in ev = {P, c->type, c->target, USER, NULL, c->details, t};
    int64_t seq = 0;
    if (history_append(s, &ev, EVERY, &seq, &E) != HISTORY_OK)
        fail_msg("append %s: %s", c->type, E.msg);
    assert_int_equal(store_commit(s, &E), STORE_OK);
    return seq;
}

static char *live_text(store *s, int64_t *seq)
{
    json_t *st;
    if (history_state_live(s, P, &st, seq, &E) != HISTORY_OK)
        fail_msg("live: %s", E.msg);
    char *t = fixture_state_text(st);
    json_decref(st);
    return t;
}

static void assert_at(store *s, int64_t seq, const char *want)
{
    json_t *st = NULL;
    history_err r = history_state_at(s, P, seq, &st, &E);
    if (r != HISTORY_OK)
        fail_msg("state_at %lld: %s: %s", (long long)seq, history_strerror(r), E.msg);
    char *got = fixture_state_text(st);
    if (strcmp(got, want) != 0)
        fail_msg("state at %lld:\n got %s\nwant %s", (long long)seq, got, want);
    free(got);
    json_decref(st);
}

static int64_t count(store *s, const char *q)
{
    store_stmt *st;
    assert_int_equal(store_prepare(s, q, &st, &E), STORE_OK);
    assert_int_equal(store_step(st, &E), STORE_ROW);
    int64_t v = store_col_int(st, 0);
    store_reset(st);
    return v;
}

/* Records every change's live state into rec[1..NCHANGES]. */
static void run_all(store *s, char **rec)
{
    for (int i = 0; i < NCHANGES; i++) {
        int64_t seq = append(s, &changes[i], 1000 * (i + 1));
        assert_int_equal(seq, i + 1);
        int64_t live_seq;
        rec[i + 1] = live_text(s, &live_seq);
        assert_int_equal(live_seq, seq);
    }
}

static void test_replay_equals_live(void **state)
{
    fx *f = *state;
    char *rec[NCHANGES + 1];
    run_all(f->s, rec);
    /* Snapshots at 1 and every EVERY. */
    assert_int_equal(count(f->s, "SELECT COUNT(*) FROM event_snapshots"), 1 + NCHANGES / EVERY);
    for (int i = 1; i <= NCHANGES; i++)
        assert_at(f->s, i, rec[i]);
    /* The deleted reply left its root, with the root's new version. */
    assert_non_null(strstr(rec[13], C1 "\":{\"author_id\""));
    assert_null(strstr(rec[13], C2));
    /* The page deletion took C1 along; C3 (on the other page) stays. */
    assert_null(strstr(rec[15], C1));
    assert_non_null(strstr(rec[15], C3));
    /* Only the first snapshot: every point replays from 1. */
    sql(f->s, "DELETE FROM event_snapshots WHERE seq > 1", NULL, 0);
    for (int i = 1; i <= NCHANGES; i++)
        assert_at(f->s, i, rec[i]);
    /* Out of range. */
    json_t *st = NULL;
    assert_int_equal(history_state_at(f->s, P, 0, &st, &E), HISTORY_NOT_FOUND);
    assert_int_equal(history_state_at(f->s, P, NCHANGES + 1, &st, &E), HISTORY_NOT_FOUND);
    assert_null(st);
    for (int i = 1; i <= NCHANGES; i++)
        free(rec[i]);
}

static void test_rollback_gives_the_number_back(void **state)
{
    fx *f = *state;
    assert_int_equal(append(f->s, &changes[0], 1), 1);
    assert_int_equal(store_begin(f->s, &E), STORE_OK);
    history_event_in ev = {P, "project_updated", "", USER, NULL, NULL, 2};
    int64_t seq = 0;
    assert_int_equal(history_append(f->s, &ev, EVERY, &seq, &E), HISTORY_OK);
    assert_int_equal(seq, 2);
    assert_int_equal(store_rollback(f->s, &E), STORE_OK);
    int64_t head = -1;
    assert_int_equal(history_head(f->s, P, &head, &E), HISTORY_OK);
    assert_int_equal(head, 1);
    assert_int_equal(append(f->s, &changes[1], 3), 2);
    assert_int_equal(count(f->s, "SELECT COUNT(*) FROM events"), 2);
    /* A project with no events. */
    assert_int_equal(history_head(f->s, "01900000-0000-7000-8000-0000000000ff", &head, &E),
                     HISTORY_OK);
    assert_int_equal(head, 0);
}

static void test_damage_is_corrupt(void **state)
{
    fx *f = *state;
    char *rec[NCHANGES + 1];
    run_all(f->s, rec);
    json_t *st = NULL;
    /* A missing event: states after it are refused, before it are fine. */
    sql(f->s, "DELETE FROM events WHERE seq = 6", NULL, 0);
    sql(f->s, "DELETE FROM event_snapshots WHERE seq > 1", NULL, 0);
    assert_int_equal(history_state_at(f->s, P, 7, &st, &E), HISTORY_CORRUPT);
    assert_int_equal(history_state_at(f->s, P, 5, &st, &E), HISTORY_OK);
    json_decref(st);
    st = NULL;
    /* A payload that is not one (event 4 is the last write of a.js up to
     * 4, so it is applied; an overwritten one would be skipped unread). */
    sql(f->s, "UPDATE events SET payload = '{\"kind\":\"file\"}' WHERE seq = 4", NULL, 0);
    assert_int_equal(history_state_at(f->s, P, 4, &st, &E), HISTORY_CORRUPT);
    sql(f->s, "UPDATE events SET payload = 'not json' WHERE seq = 4", NULL, 0);
    assert_int_equal(history_state_at(f->s, P, 4, &st, &E), HISTORY_CORRUPT);
    assert_null(st);
    /* A damaged snapshot (its checksum no longer matches). */
    store_stmt *s;
    assert_int_equal(
        store_prepare(f->s, "UPDATE event_snapshots SET state = $1 WHERE seq = 1", &s, &E),
        STORE_OK);
    store_bind_blob(s, 1, "\x04\x22\x4d\x18garbage", 11);
    assert_int_equal(store_step(s, &E), STORE_DONE);
    store_reset(s);
    assert_int_equal(history_state_at(f->s, P, 1, &st, &E), HISTORY_CORRUPT);
    assert_null(st);
    for (int i = 1; i <= NCHANGES; i++)
        free(rec[i]);
}

/* A writer whose clock was read before it waited for its number gets the
 * previous event's time: times never go backwards as numbers go up. */
static void test_times_never_go_back(void **state)
{
    fx *f = *state;
    assert_int_equal(append(f->s, &changes[0], 5000), 1);
    assert_int_equal(append(f->s, &changes[1], 4000), 2); /* an older clock */
    assert_int_equal(append(f->s, &changes[2], 6000), 3);
    int64_t t = 0, seq = 0;
    assert_int_equal(history_event_time(f->s, P, 2, &t, &E), HISTORY_OK);
    assert_int_equal(t, 5000);
    assert_int_equal(history_event_time(f->s, P, 3, &t, &E), HISTORY_OK);
    assert_int_equal(t, 6000);
    assert_int_equal(history_seq_at_time(f->s, P, 4500, &seq, &E), HISTORY_NOT_FOUND);
    assert_int_equal(history_seq_at_time(f->s, P, 5000, &seq, &E), HISTORY_OK);
    assert_int_equal(seq, 2);
}

static void test_times_and_list(void **state)
{
    fx *f = *state;
    char *rec[NCHANGES + 1];
    run_all(f->s, rec); /* event i at time 1000 * i */
    int64_t seq = 0, t = 0;
    assert_int_equal(history_seq_at_time(f->s, P, 999, &seq, &E), HISTORY_NOT_FOUND);
    assert_int_equal(history_seq_at_time(f->s, P, 1000, &seq, &E), HISTORY_OK);
    assert_int_equal(seq, 1);
    assert_int_equal(history_seq_at_time(f->s, P, 7999, &seq, &E), HISTORY_OK);
    assert_int_equal(seq, 7);
    assert_int_equal(history_seq_at_time(f->s, P, INT64_MAX, &seq, &E), HISTORY_OK);
    assert_int_equal(seq, NCHANGES);
    assert_int_equal(history_event_time(f->s, P, 3, &t, &E), HISTORY_OK);
    assert_int_equal(t, 3000);
    assert_int_equal(history_event_time(f->s, P, 99, &t, &E), HISTORY_NOT_FOUND);

    /* Pages of 8: 1..8, 9..16, 17..20. */
    int64_t after = 0;
    int pages = 0, seen = 0;
    for (;;) {
        sb_buf b = SB_BUF_INIT;
        sb_jw w;
        sb_jw_init(&w, &b);
        assert_int_equal(history_events_list(f->s, P, after, 8, &w, &E), HISTORY_OK);
        json_error_t je;
        json_t *page = json_loadb(b.ptr, b.len, 0, &je);
        assert_non_null(page);
        json_t *items = json_object_get(page, "items");
        for (size_t i = 0; i < json_array_size(items); i++) {
            json_t *e = json_array_get(items, i);
            assert_int_equal(json_integer_value(json_object_get(e, "seq")), ++seen);
            assert_string_equal(json_string_value(json_object_get(e, "type")),
                                changes[seen - 1].type);
            assert_true(json_is_object(json_object_get(e, "payload")));
        }
        pages++;
        const char *next = json_string_value(json_object_get(page, "next_cursor"));
        if (!next) {
            json_decref(page);
            sb_buf_free(&b);
            break;
        }
        assert_int_equal(atoll(next), seen);
        after = seen;
        json_decref(page);
        sb_buf_free(&b);
    }
    assert_int_equal(seen, NCHANGES);
    assert_int_equal(pages, (NCHANGES + 7) / 8);
    for (int i = 1; i <= NCHANGES; i++)
        free(rec[i]);
}

int main(void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test_setup_teardown(test_replay_equals_live, setup, fixture_db_teardown),
        cmocka_unit_test_setup_teardown(test_rollback_gives_the_number_back, setup,
                                        fixture_db_teardown),
        cmocka_unit_test_setup_teardown(test_damage_is_corrupt, setup, fixture_db_teardown),
        cmocka_unit_test_setup_teardown(test_times_never_go_back, setup, fixture_db_teardown),
        cmocka_unit_test_setup_teardown(test_times_and_list, setup, fixture_db_teardown),
    };
    return cmocka_run_group_tests(tests, group_setup, group_teardown);
}
