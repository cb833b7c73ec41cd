/*
 * history_state_test.c: the state document and history_apply: each kind
 * of payload with the exact state it leaves, the cascades a deletion
 * implies (a page takes its comments, a thread root its replies, the
 * project everything), "also" entities, the canonical text (sorted keys),
 * the kind of each event type, and payloads that must be refused with the
 * state left untouched. Ends with a replay property: a random sequence of
 * changes applied one by one equals a state built directly.
 */
#include "cmocka_prelude.h"

#include "history_fixture.h"

#include <stdio.h>
#include <stdlib.h>

#include "history/history.h"
#include "history/history_int.h"

static void assert_state(const json_t *state, const char *want)
{
    char *got = fixture_state_text(state);
    assert_string_equal(got, want);
    free(got);
}

static history_err apply_text(json_t *state, const char *payload)
{
    json_t *p = fixture_json(payload);
    history_err r = history_apply(state, p);
    json_decref(p);
    return r;
}

#define EMPTY                                                                                      \
    "{\"assets\":{},\"comments\":{},\"files\":{},\"members\":{},\"pages\":{},\"project\":null}"

static void test_new_state(void **st)
{
    (void)st;
    json_t *s = history_state_new();
    assert_true(history_state_check(s));
    assert_state(s, EMPTY);
    json_decref(s);
}

static void test_check(void **st)
{
    (void)st;
    static const struct {
        const char *text;
        bool ok;
    } cases[] = {
        {EMPTY, true},
        {"{\"assets\":{},\"comments\":{},\"files\":{},\"members\":{},\"pages\":{},"
         "\"project\":{\"name\":\"x\"}}",
         true},
        {"{\"assets\":{},\"comments\":{},\"files\":{},\"members\":{},\"pages\":{\"p\":{}},"
         "\"project\":null}",
         true},
        /* a page that is not an object */
        {"{\"assets\":{},\"comments\":{},\"files\":{},\"members\":{},\"pages\":{\"p\":1},"
         "\"project\":null}",
         false},
        /* an empty key */
        {"{\"assets\":{},\"comments\":{},\"files\":{},\"members\":{},\"pages\":{\"\":{}},"
         "\"project\":null}",
         false},
        /* a collection missing, one extra key, a project that is a string */
        {"{\"comments\":{},\"files\":{},\"members\":{},\"pages\":{},\"project\":null}", false},
        {"{\"assets\":{},\"comments\":{},\"files\":{},\"members\":{},\"pages\":{},"
         "\"project\":null,\"x\":1}",
         false},
        {"{\"assets\":{},\"comments\":{},\"files\":{},\"members\":{},\"pages\":{},"
         "\"project\":\"p\"}",
         false},
        {"{\"assets\":[],\"comments\":{},\"files\":{},\"members\":{},\"pages\":{},"
         "\"project\":null}",
         false},
        {"[]", false},
        {"null", false},
    };
    for (size_t i = 0; i < SB_ARRAY_LEN(cases); i++) {
        json_t *v = fixture_json(cases[i].text);
        if (history_state_check(v) != cases[i].ok)
            fail_msg("case %zu: %s", i, cases[i].text);
        json_decref(v);
    }
}

static void test_apply_entities(void **st)
{
    (void)st;
    json_t *s = history_state_new();
    assert_int_equal(
        apply_text(s, "{\"kind\":\"project\",\"key\":\"\",\"value\":{\"name\":\"B\"}}"),
        HISTORY_OK);
    assert_int_equal(
        apply_text(s, "{\"kind\":\"page\",\"key\":\"p1\",\"value\":{\"path\":\"/\",\"v\":1}}"),
        HISTORY_OK);
    assert_int_equal(
        apply_text(s, "{\"kind\":\"file\",\"key\":\"a.js\",\"value\":{\"content\":\"x\"}}"),
        HISTORY_OK);
    assert_int_equal(
        apply_text(s, "{\"kind\":\"member\",\"key\":\"u1\",\"value\":{\"role\":\"viewer\"}}"),
        HISTORY_OK);
    assert_int_equal(apply_text(s, "{\"kind\":\"asset\",\"key\":\"a1\",\"value\":{\"size\":3}}"),
                     HISTORY_OK);
    /* A new value replaces the whole entity. */
    assert_int_equal(
        apply_text(s, "{\"kind\":\"page\",\"key\":\"p1\",\"value\":{\"path\":\"/home\"}}"),
        HISTORY_OK);
    assert_int_equal(apply_text(s, "{\"kind\":\"none\",\"key\":\"x\",\"value\":null}"), HISTORY_OK);
    assert_state(s, "{\"assets\":{\"a1\":{\"size\":3}},\"comments\":{},"
                    "\"files\":{\"a.js\":{\"content\":\"x\"}},"
                    "\"members\":{\"u1\":{\"role\":\"viewer\"}},"
                    "\"pages\":{\"p1\":{\"path\":\"/home\"}},\"project\":{\"name\":\"B\"}}");
    /* null deletes; deleting what is not there is no error (idempotent). */
    assert_int_equal(apply_text(s, "{\"kind\":\"file\",\"key\":\"a.js\",\"value\":null}"),
                     HISTORY_OK);
    assert_int_equal(apply_text(s, "{\"kind\":\"file\",\"key\":\"nope\",\"value\":null}"),
                     HISTORY_OK);
    assert_int_equal(apply_text(s, "{\"kind\":\"member\",\"key\":\"u1\",\"value\":null}"),
                     HISTORY_OK);
    assert_state(s, "{\"assets\":{\"a1\":{\"size\":3}},\"comments\":{},\"files\":{},"
                    "\"members\":{},\"pages\":{\"p1\":{\"path\":\"/home\"}},"
                    "\"project\":{\"name\":\"B\"}}");
    json_decref(s);
}

static void test_cascades(void **st)
{
    (void)st;
    json_t *s = history_state_new();
    const char *setup[] = {
        "{\"kind\":\"page\",\"key\":\"p1\",\"value\":{}}",
        "{\"kind\":\"page\",\"key\":\"p2\",\"value\":{}}",
        "{\"kind\":\"comment\",\"key\":\"c1\",\"value\":{\"page_id\":\"p1\",\"parent_id\":null}}",
        "{\"kind\":\"comment\",\"key\":\"c2\",\"value\":{\"page_id\":\"p1\",\"parent_id\":\"c1\"}}",
        "{\"kind\":\"comment\",\"key\":\"c3\",\"value\":{\"page_id\":\"p2\",\"parent_id\":null}}",
        "{\"kind\":\"comment\",\"key\":\"c4\",\"value\":{\"page_id\":\"p2\",\"parent_id\":\"c3\"}}",
        "{\"kind\":\"comment\",\"key\":\"c5\",\"value\":{\"page_id\":\"p2\",\"parent_id\":null}}",
    };
    for (size_t i = 0; i < SB_ARRAY_LEN(setup); i++)
        assert_int_equal(apply_text(s, setup[i]), HISTORY_OK);
    /* Deleting a page removes its comments, replies included. */
    assert_int_equal(apply_text(s, "{\"kind\":\"page\",\"key\":\"p1\",\"value\":null}"),
                     HISTORY_OK);
    char *t = fixture_state_text(json_object_get(s, "comments"));
    assert_string_equal(t, "{\"c3\":{\"page_id\":\"p2\",\"parent_id\":null},"
                           "\"c4\":{\"page_id\":\"p2\",\"parent_id\":\"c3\"},"
                           "\"c5\":{\"page_id\":\"p2\",\"parent_id\":null}}");
    free(t);
    /* Deleting a thread root removes its replies, not other threads. */
    assert_int_equal(apply_text(s, "{\"kind\":\"comment\",\"key\":\"c3\",\"value\":null}"),
                     HISTORY_OK);
    t = fixture_state_text(json_object_get(s, "comments"));
    assert_string_equal(t, "{\"c5\":{\"page_id\":\"p2\",\"parent_id\":null}}");
    free(t);
    /* A chain of replies to replies (not what the services write, but a
     * state may hold it): all of it goes, without recursion. */
    enum { CHAIN = 20000 };
    char key[32], parent[32], payload[200];
    for (int i = 0; i < CHAIN; i++) {
        snprintf(key, sizeof(key), "x%d", i);
        snprintf(parent, sizeof(parent), "x%d", i - 1);
        snprintf(payload, sizeof(payload),
                 "{\"kind\":\"comment\",\"key\":\"%s\",\"value\":{\"page_id\":\"p2\","
                 "\"parent_id\":%s%s%s}}",
                 key, i ? "\"" : "", i ? parent : "null", i ? "\"" : "");
        assert_int_equal(apply_text(s, payload), HISTORY_OK);
    }
    assert_int_equal(json_object_size(json_object_get(s, "comments")), CHAIN + 1);
    assert_int_equal(apply_text(s, "{\"kind\":\"comment\",\"key\":\"x0\",\"value\":null}"),
                     HISTORY_OK);
    t = fixture_state_text(json_object_get(s, "comments"));
    assert_string_equal(t, "{\"c5\":{\"page_id\":\"p2\",\"parent_id\":null}}");
    free(t);
    /* A cycle (no service writes one): removed once, no loop. */
    assert_int_equal(apply_text(s, "{\"kind\":\"page\",\"key\":\"p3\",\"value\":{}}"), HISTORY_OK);
    assert_int_equal(apply_text(s, "{\"kind\":\"comment\",\"key\":\"y1\",\"value\":{"
                                   "\"page_id\":\"p3\",\"parent_id\":\"y2\"}}"),
                     HISTORY_OK);
    assert_int_equal(apply_text(s, "{\"kind\":\"comment\",\"key\":\"y2\",\"value\":{"
                                   "\"page_id\":\"p3\",\"parent_id\":\"y1\"}}"),
                     HISTORY_OK);
    assert_int_equal(apply_text(s, "{\"kind\":\"page\",\"key\":\"p3\",\"value\":null}"),
                     HISTORY_OK);
    t = fixture_state_text(json_object_get(s, "comments"));
    assert_string_equal(t, "{\"c5\":{\"page_id\":\"p2\",\"parent_id\":null}}");
    free(t);
    /* Deleting the project empties everything. */
    assert_int_equal(apply_text(s, "{\"kind\":\"project\",\"key\":\"\",\"value\":null}"),
                     HISTORY_OK);
    assert_state(s, EMPTY);
    json_decref(s);
}

static void test_also(void **st)
{
    (void)st;
    json_t *s = history_state_new();
    assert_int_equal(apply_text(s, "{\"kind\":\"comment\",\"key\":\"r\",\"value\":null}"),
                     HISTORY_OK);
    assert_int_equal(
        apply_text(s, "{\"kind\":\"comment\",\"key\":\"c1\",\"value\":{\"version\":1}}"),
        HISTORY_OK);
    /* A reply bumps its root: both in one event. */
    assert_int_equal(apply_text(s, "{\"kind\":\"comment\",\"key\":\"r1\",\"value\":{\"parent_id\":"
                                   "\"c1\"},\"also\":{\"c1\":{\"version\":2}}}"),
                     HISTORY_OK);
    char *t = fixture_state_text(json_object_get(s, "comments"));
    assert_string_equal(t, "{\"c1\":{\"version\":2},\"r1\":{\"parent_id\":\"c1\"}}");
    free(t);
    /* also with null deletes. */
    assert_int_equal(apply_text(s, "{\"kind\":\"comment\",\"key\":\"r1\",\"value\":null,"
                                   "\"also\":{\"c1\":null}}"),
                     HISTORY_OK);
    assert_state(s, EMPTY);
    json_decref(s);
}

static void test_state_payload(void **st)
{
    (void)st;
    json_t *s = history_state_new();
    assert_int_equal(apply_text(s, "{\"kind\":\"page\",\"key\":\"old\",\"value\":{}}"), HISTORY_OK);
    json_t *p =
        fixture_json("{\"kind\":\"state\",\"key\":\"\",\"value\":{\"assets\":{},\"comments\":{},"
                     "\"files\":{\"f\":{\"content\":\"c\"}},\"members\":{},\"pages\":{},"
                     "\"project\":{\"name\":\"N\"}}}");
    assert_int_equal(history_apply(s, p), HISTORY_OK);
    /* The state does not share its collections with the payload: a later
     * change to one leaves the other alone. */
    assert_int_equal(apply_text(s, "{\"kind\":\"file\",\"key\":\"g\",\"value\":{}}"), HISTORY_OK);
    assert_int_equal(json_object_size(json_object_get(json_object_get(p, "value"), "files")), 1);
    json_decref(p);
    assert_state(s, "{\"assets\":{},\"comments\":{},\"files\":{\"f\":{\"content\":\"c\"},"
                    "\"g\":{}},\"members\":{},\"pages\":{},\"project\":{\"name\":\"N\"}}");
    json_decref(s);
}

static void test_refused(void **st)
{
    (void)st;
    static const char *const bad[] = {
        "[]",
        "{}",
        "{\"kind\":1,\"key\":\"k\",\"value\":null}",
        "{\"kind\":\"widget\",\"key\":\"k\",\"value\":{}}",
        "{\"kind\":\"page\",\"value\":{}}",
        "{\"kind\":\"page\",\"key\":\"\",\"value\":{}}",
        "{\"kind\":\"page\",\"key\":7,\"value\":{}}",
        "{\"kind\":\"page\",\"key\":\"k\"}",
        "{\"kind\":\"page\",\"key\":\"k\",\"value\":[1]}",
        "{\"kind\":\"page\",\"key\":\"k\",\"value\":\"s\"}",
        "{\"kind\":\"project\",\"key\":\"\",\"value\":3}",
        "{\"kind\":\"comment\",\"key\":\"k\",\"value\":{},\"also\":[]}",
        "{\"kind\":\"comment\",\"key\":\"k\",\"value\":{},\"also\":{\"x\":1}}",
        "{\"kind\":\"comment\",\"key\":\"k\",\"value\":{},\"also\":{\"\":{}}}",
        "{\"kind\":\"state\",\"key\":\"\",\"value\":{\"pages\":{}}}",
        "{\"kind\":\"state\",\"key\":\"\",\"value\":null}",
    };
    json_t *s = history_state_new();
    assert_int_equal(apply_text(s, "{\"kind\":\"page\",\"key\":\"p\",\"value\":{\"a\":1}}"),
                     HISTORY_OK);
    char *before = fixture_state_text(s);
    for (size_t i = 0; i < SB_ARRAY_LEN(bad); i++) {
        if (apply_text(s, bad[i]) != HISTORY_CORRUPT)
            fail_msg("accepted: %s", bad[i]);
        char *now = fixture_state_text(s);
        if (strcmp(now, before) != 0)
            fail_msg("changed by: %s", bad[i]);
        free(now);
    }
    free(before);
    json_decref(s);
}

static void test_kinds(void **st)
{
    (void)st;
    assert_string_equal(history__kind_of("project_created", NULL), "state");
    assert_string_equal(history__kind_of("project_transferred", NULL), "state");
    assert_string_equal(history__kind_of("project_updated", NULL), "project");
    assert_string_equal(history__kind_of("project_deleted", NULL), "project");
    assert_string_equal(history__kind_of("page_updated", NULL), "page");
    assert_string_equal(history__kind_of("library_component_inserted", NULL), "page");
    assert_string_equal(history__kind_of("file_updated", NULL), "file");
    assert_string_equal(history__kind_of("comment_resolved", NULL), "comment");
    assert_string_equal(history__kind_of("member_role_changed", NULL), "member");
    assert_string_equal(history__kind_of("asset_deleted", NULL), "asset");
    assert_string_equal(history__kind_of("item_shared", NULL), "none");
    /* Version control's ref moves change no state. */
    static const char *const refs[] = {
        "vcs_commit",      "vcs_branch_created", "vcs_branch_deleted", "vcs_tag_created",
        "vcs_tag_deleted", "vcs_merge",          "vcs_merge_resolved", "vcs_rollback"};
    for (size_t i = 0; i < sizeof(refs) / sizeof(refs[0]); i++)
        assert_string_equal(history__kind_of(refs[i], NULL), "ref");
    json_t *s = history_state_new();
    assert_int_equal(apply_text(s, "{\"kind\":\"ref\",\"key\":\"refs/heads/main\","
                                   "\"value\":{\"ref\":\"refs/heads/main\",\"old\":null}}"),
                     HISTORY_OK);
    assert_state(s, EMPTY);
    json_decref(s);
    /* An unknown change carries the whole state: never wrong. */
    assert_string_equal(history__kind_of("deployment_triggered", NULL), "state");
    bool removes = false;
    assert_string_equal(history__kind_of("page_deleted", &removes), "page");
    assert_true(removes);
    assert_string_equal(history__kind_of("page_updated", &removes), "page");
    assert_false(removes);
    assert_string_equal(history__kind_of("file_deleted", &removes), "file");
    assert_true(removes);
    assert_string_equal(history__collection_of("comment"), "comments");
    assert_null(history__collection_of("project"));
}

/* Replay property: random puts and deletes over a few keys, applied one by
 * one, give the state that holds the last value written to each key. */
static void test_replay_property(void **st)
{
    (void)st;
    static const char *const kinds[] = {"page", "file", "member", "asset"};
    static const char *const colls[] = {"pages", "files", "members", "assets"};
    unsigned seed = 12345;
    for (int round = 0; round < 50; round++) {
        json_t *s = history_state_new();
        json_t *want = history_state_new();
        json_object_set_new(want, "project", fixture_json("{\"name\":\"P\"}"));
        json_object_set_new(s, "project", fixture_json("{\"name\":\"P\"}"));
        for (int i = 0; i < 200; i++) {
            seed = seed * 1103515245u + 12345u;
            unsigned k = (seed >> 16) % 4, key = (seed >> 8) % 6;
            bool del = (seed >> 4) % 4 == 0;
            char payload[160], name[8];
            snprintf(name, sizeof(name), "k%u", key);
            if (del)
                snprintf(payload, sizeof(payload),
                         "{\"kind\":\"%s\",\"key\":\"%s\",\"value\":null}", kinds[k], name);
            else
                snprintf(payload, sizeof(payload),
                         "{\"kind\":\"%s\",\"key\":\"%s\",\"value\":{\"i\":%d}}", kinds[k], name,
                         i);
            assert_int_equal(apply_text(s, payload), HISTORY_OK);
            json_t *c = json_object_get(want, colls[k]);
            if (del)
                json_object_del(c, name);
            else
                json_object_set_new(c, name, json_pack("{s:i}", "i", i));
        }
        assert_true(history_state_check(s));
        char *a = fixture_state_text(s), *b = fixture_state_text(want);
        assert_string_equal(a, b);
        free(a);
        free(b);
        json_decref(s);
        json_decref(want);
    }
}

int main(void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(test_new_state),
        cmocka_unit_test(test_check),
        cmocka_unit_test(test_apply_entities),
        cmocka_unit_test(test_cascades),
        cmocka_unit_test(test_also),
        cmocka_unit_test(test_state_payload),
        cmocka_unit_test(test_refused),
        cmocka_unit_test(test_kinds),
        cmocka_unit_test(test_replay_property),
    };
    return cmocka_run_group_tests(tests, NULL, NULL);
}
