/* crdt_snapshot_test.c: snapshots and the document at a snapshot (issue 5).
 *
 * - Transcripts recorded from the `yjs` npm package (13.6.33) by
 *   tests/crdt/snapshot_vectors.mjs are replayed through ycli's protocol
 *   engine: snapshots taken between remote updates and local edits must be
 *   Y.encodeSnapshot's bytes; json_at, delta_at and state_at at the
 *   engine's snapshots and at the peers' (some ahead of the doc: refused)
 *   must be createDocFromSnapshot's JSON and state and toDelta(snapshot);
 *   with gc on they are refused.
 * - The API directly: pinned bytes, Yjs's decoding rules (repeated
 *   clients), hostile encodings (every truncation, oversized counts,
 *   values past 2^53, trailing bytes, random bytes), isVisible, refusal
 *   with gc on and for a snapshot ahead of the doc, reads that leave the
 *   doc's state byte-identical, restoring a version from its update, and
 *   the changes between two versions (toDelta with a previous snapshot). */
#include "cmocka_prelude.h"

#include <stdio.h>
#include <stdlib.h>

#include "../crdt/yproto.h"
#include "crdt_transcript.h"
#include "crdt/crdt.h"
#include "crdt/lib0.h"

static void test_vectors_match_yjs(void **state)
{
    (void)state;
    vec_stats st = vec_replay("tests/crdt/vectors/snapshot_v1.txt", true, "json_at ");
    assert_int_equal(st.cases, 40);
    assert_true(st.counted > 300 && st.refused > 50);
    assert_int_equal(st.bad, 0);
}

/* --- the API --- */

static crdt_doc *doc_with(uint64_t client, bool gc)
{
    return crdt_doc_new(client, gc);
}

static void ins(crdt_doc *d, uint64_t index, const char *s)
{
    sb_buf u = SB_BUF_INIT;
    bool ch;
    assert_int_equal(
        crdt_text_insert(d, SB_STR("t"), index, sb_str_make(s, strlen(s)), SB_STR_NULL, &u, &ch),
        CRDT_OK);
    sb_buf_free(&u);
}

static void del(crdt_doc *d, uint64_t index, uint64_t len)
{
    sb_buf u = SB_BUF_INIT;
    bool ch;
    assert_int_equal(crdt_text_delete(d, SB_STR("t"), index, len, &u, &ch), CRDT_OK);
    sb_buf_free(&u);
}

/* Moves everything of from into to. */
static void sync_into(crdt_doc *to, crdt_doc *from)
{
    sb_buf u = SB_BUF_INIT;
    crdt_doc_encode_state(from, NULL, 0, &u);
    assert_int_equal(crdt_doc_apply_update(to, u.ptr, u.len, NULL), CRDT_OK);
    sb_buf_free(&u);
}

/* The text root at s is the string want. */
static void expect_json_at(crdt_doc *d, const crdt_snapshot *s, const char *want)
{
    sb_buf out = SB_BUF_INIT;
    char quoted[256];
    snprintf(quoted, sizeof(quoted), "\"%s\"", want);
    assert_int_equal(crdt_doc_json_at(d, s, SB_STR("t"), CRDT_TEXT, &out, NULL), CRDT_OK);
    assert_string_equal(out.ptr, quoted);
    sb_buf_free(&out);
}

static void test_encoding_pinned(void **state)
{
    (void)state;
    /* client 5 types "world!", client 3 (from 5's state) "hello ", 5
     * deletes "rl" and 3 deletes "he": the delete set then the state
     * vector, clients descending in both (bytes as Y.encodeSnapshot) */
    crdt_doc *a = doc_with(5, false), *b = doc_with(3, false);
    ins(a, 0, "world!");
    sync_into(b, a);
    ins(b, 0, "hello ");
    sync_into(a, b);
    del(a, 8, 2);
    del(a, 0, 2);
    crdt_snapshot *s = crdt_snapshot_take(a);
    sb_buf out = SB_BUF_INIT;
    crdt_snapshot_encode(s, &out);
    static const uint8_t want[] = {2, 5, 1, 2, 2, 3, 1, 0, 2, /* ds: 5 [2,+2), 3 [0,+2) */
                                   2, 5, 6, 3, 6};            /* sv: 5:6, 3:6 */
    assert_int_equal(out.len, sizeof(want));
    assert_memory_equal(out.ptr, want, sizeof(want));
    /* decode: the same snapshot, and the same bytes again */
    crdt_snapshot *s2;
    assert_int_equal(crdt_snapshot_decode(out.ptr, out.len, &s2, NULL), CRDT_OK);
    assert_true(crdt_snapshot_equal(s, s2));
    sb_buf out2 = SB_BUF_INIT;
    crdt_snapshot_encode(s2, &out2);
    assert_int_equal(out2.len, out.len);
    assert_memory_equal(out2.ptr, out.ptr, out.len);
    /* isVisible */
    assert_true(crdt_snapshot_contains(s, 5, 0));
    assert_false(crdt_snapshot_contains(s, 5, 2)); /* deleted */
    assert_false(crdt_snapshot_contains(s, 5, 3));
    assert_true(crdt_snapshot_contains(s, 5, 4));
    assert_false(crdt_snapshot_contains(s, 5, 6)); /* after the snapshot */
    assert_false(crdt_snapshot_contains(s, 3, 1));
    assert_true(crdt_snapshot_contains(s, 3, 2));
    assert_false(crdt_snapshot_contains(s, 4, 0)); /* unknown client */
    expect_json_at(a, s, "llo wod!");
    /* an empty doc's snapshot: no deletes, no clients */
    crdt_doc *e = doc_with(1, false);
    crdt_snapshot *se = crdt_snapshot_take(e);
    out.len = 0;
    crdt_snapshot_encode(se, &out);
    assert_int_equal(out.len, 2);
    assert_memory_equal(out.ptr, "\0\0", 2);
    assert_false(crdt_snapshot_equal(s, se));
    expect_json_at(a, se, "");
    crdt_snapshot_free(s);
    crdt_snapshot_free(s2);
    crdt_snapshot_free(se);
    crdt_doc_free(a);
    crdt_doc_free(b);
    crdt_doc_free(e);
    sb_buf_free(&out);
    sb_buf_free(&out2);
}

static crdt_snapshot *decode_ok(const uint8_t *p, size_t n)
{
    crdt_snapshot *s = NULL;
    sb_errbuf eb = {{0}};
    assert_int_equal(crdt_snapshot_decode(p, n, &s, &eb), CRDT_OK);
    assert_non_null(s);
    return s;
}

static void test_decoding_follows_yjs(void **state)
{
    (void)state;
    /* Yjs reads into Maps: a repeated state-vector client takes the last
     * clock; a repeated delete-set client adds to its list, in the order
     * read; a client with no ranges is no entry. */
    static const uint8_t rep[] = {3, 7, 1, 4, 1, 9, 0, 7, 1, 1, 2, /* ds */
                                  3, 7, 3, 9, 0, 7, 8};            /* sv */
    static const uint8_t canon[] = {1, 7, 2, 4, 1, 1, 2, 2, 9, 0, 7, 8};
    crdt_snapshot *a = decode_ok(rep, sizeof(rep)), *b = decode_ok(canon, sizeof(canon));
    assert_true(crdt_snapshot_equal(a, b));
    sb_buf out = SB_BUF_INIT;
    crdt_snapshot_encode(a, &out);
    assert_int_equal(out.len, sizeof(canon));
    assert_memory_equal(out.ptr, canon, sizeof(canon));
    assert_true(crdt_snapshot_contains(a, 7, 0));
    assert_true(crdt_snapshot_contains(a, 7, 3));
    assert_false(crdt_snapshot_contains(a, 7, 1)); /* [1,+2) */
    assert_false(crdt_snapshot_contains(a, 7, 4)); /* [4,+1) */
    assert_false(crdt_snapshot_contains(a, 7, 8));
    assert_false(crdt_snapshot_contains(a, 9, 0)); /* clock 0: nothing yet */
    /* ranges of a client in another order: Y.equalSnapshots says unequal */
    static const uint8_t swapped[] = {1, 7, 2, 1, 2, 4, 1, 2, 9, 0, 7, 8};
    crdt_snapshot *c = decode_ok(swapped, sizeof(swapped));
    assert_false(crdt_snapshot_equal(a, c));
    assert_false(crdt_snapshot_contains(c, 7, 4)); /* lookups do not mind */
    crdt_snapshot_free(a);
    crdt_snapshot_free(b);
    crdt_snapshot_free(c);
    sb_buf_free(&out);
}

/* want CRDT_OK: cut short (truncated, or a count the rest cannot hold) */
static void expect_decode_err(const uint8_t *p, size_t n, crdt_err want)
{
    crdt_snapshot *s = NULL;
    sb_errbuf eb = {{0}};
    crdt_err e = crdt_snapshot_decode(p, n, &s, &eb);
    if (want == CRDT_OK)
        assert_true(e == CRDT_E_TRUNCATED || e == CRDT_E_LIMIT);
    else
        assert_int_equal(e, want);
    assert_null(s);
    assert_true(strncmp(eb.msg, "snapshot: ", 10) == 0);
}

/* the same range one shorter ends at 2^53-1: fine */
static void far_ok_check(void)
{
    static const uint8_t ok[] = {1,    1,    1,    0x80, 0x80, 0x80, 0x80, 0x80, 0x80, 0x80,
                                 0x08, 0xff, 0xff, 0xff, 0xff, 0xff, 0xff, 0xff, 0x07, 0};
    crdt_snapshot *s = decode_ok(ok, sizeof(ok));
    assert_false(crdt_snapshot_contains(s, 1, 0));
    crdt_snapshot_free(s);
}

static void test_hostile_encodings(void **state)
{
    (void)state;
    static const uint8_t good[] = {2, 5, 1, 2, 2, 3, 1, 0, 2, 2, 5, 6, 3, 6};
    for (size_t k = 0; k < sizeof(good); k++)
        expect_decode_err(good, k, CRDT_OK);
    /* counts larger than the input could hold: refused before allocating */
    static const uint8_t many_clients[] = {0xff, 0xff, 0xff, 0x7f, 1, 1};
    expect_decode_err(many_clients, sizeof(many_clients), CRDT_E_LIMIT);
    static const uint8_t many_ranges[] = {1, 5, 0xff, 0xff, 0xff, 0xff, 0x0f, 0, 0};
    expect_decode_err(many_ranges, sizeof(many_ranges), CRDT_E_LIMIT);
    static const uint8_t many_sv[] = {0, 0xff, 0xff, 0x03, 1, 1};
    expect_decode_err(many_sv, sizeof(many_sv), CRDT_E_LIMIT);
    /* 2^53 as a clock: above JavaScript's exact integers */
    static const uint8_t big[] = {0, 1, 1, 0x80, 0x80, 0x80, 0x80, 0x80, 0x80, 0x80, 0x10};
    expect_decode_err(big, sizeof(big), CRDT_E_LIMIT);
    /* a delete range from 2^52 of length 2^52: it would end at 2^53 */
    static const uint8_t far[] = {1,    1,    1,    0x80, 0x80, 0x80, 0x80, 0x80, 0x80, 0x80,
                                  0x08, 0x80, 0x80, 0x80, 0x80, 0x80, 0x80, 0x80, 0x08, 0};
    expect_decode_err(far, sizeof(far), CRDT_E_LIMIT);
    far_ok_check();
    /* bytes after the state vector (Yjs ignores them; nothing writes them) */
    static const uint8_t trailing[] = {0, 0, 0};
    expect_decode_err(trailing, sizeof(trailing), CRDT_E_MALFORMED);
    /* random bytes: refused, or a snapshot that encodes to bytes that
     * decode to an equal one */
    uint32_t x = 12345;
    for (int round = 0; round < 20000; round++) {
        uint8_t buf[24];
        size_t n = (size_t)(round % 24);
        for (size_t i = 0; i < n; i++) {
            x ^= x << 13;
            x ^= x >> 17;
            x ^= x << 5;
            buf[i] = (uint8_t)(x & 7 ? x % 9 : x >> 8); /* mostly small counts */
        }
        crdt_snapshot *s = NULL, *s2 = NULL;
        if (crdt_snapshot_decode(buf, n, &s, NULL) != CRDT_OK)
            continue;
        sb_buf out = SB_BUF_INIT;
        crdt_snapshot_encode(s, &out);
        assert_int_equal(crdt_snapshot_decode(out.ptr, out.len, &s2, NULL), CRDT_OK);
        assert_true(crdt_snapshot_equal(s, s2));
        crdt_snapshot_free(s);
        crdt_snapshot_free(s2);
        sb_buf_free(&out);
    }
}

static void state_of(crdt_doc *d, sb_buf *out)
{
    out->len = 0;
    crdt_doc_encode_state(d, NULL, 0, out);
}

static void test_gc_on_refused(void **state)
{
    (void)state;
    crdt_doc *d = doc_with(1, true);
    ins(d, 0, "abc");
    del(d, 1, 1);
    crdt_snapshot *s = crdt_snapshot_take(d); /* taking one is fine */
    sb_buf out = SB_BUF_INIT;
    sb_errbuf eb = {{0}};
    crdt_doc *at = NULL;
    assert_int_equal(crdt_doc_from_snapshot(d, s, 2, true, &at, &eb), CRDT_E_GC);
    assert_null(at);
    assert_non_null(strstr(eb.msg, "garbage"));
    assert_int_equal(crdt_doc_json_at(d, s, SB_STR("t"), CRDT_TEXT, &out, NULL), CRDT_E_GC);
    assert_int_equal(crdt_doc_text_delta_at(d, s, NULL, SB_STR("t"), &out, NULL), CRDT_E_GC);
    assert_int_equal(crdt_doc_encode_state_at(d, s, &out, NULL), CRDT_E_GC);
    assert_int_equal(out.len, 0);
    crdt_snapshot_free(s);
    crdt_doc_free(d);
    sb_buf_free(&out);
}

static void test_snapshot_ahead_refused(void **state)
{
    (void)state;
    crdt_doc *a = doc_with(1, false), *b = doc_with(2, false);
    ins(a, 0, "abc");
    sync_into(b, a);
    ins(b, 1, "XY");
    crdt_snapshot *s = crdt_snapshot_take(b); /* knows client 2, a does not */
    sb_buf before = SB_BUF_INIT, after = SB_BUF_INIT, out = SB_BUF_INIT;
    state_of(a, &before);
    sb_errbuf eb = {{0}};
    assert_int_equal(crdt_doc_json_at(a, s, SB_STR("t"), CRDT_TEXT, &out, &eb),
                     CRDT_E_INCONSISTENT);
    assert_non_null(strstr(eb.msg, "client 2 at clock 2"));
    assert_int_equal(crdt_doc_encode_state_at(a, s, &out, NULL), CRDT_E_INCONSISTENT);
    assert_int_equal(out.len, 0);
    state_of(a, &after);
    assert_int_equal(before.len, after.len);
    assert_memory_equal(before.ptr, after.ptr, before.len);
    /* once a has it, the same snapshot reads */
    sync_into(a, b);
    ins(a, 0, "later ");
    expect_json_at(a, s, "aXYbc");
    crdt_snapshot_free(s);
    crdt_doc_free(a);
    crdt_doc_free(b);
    sb_buf_free(&before);
    sb_buf_free(&after);
    sb_buf_free(&out);
}

static void test_versions_and_restore(void **state)
{
    (void)state;
    /* a formatted text through versions: at each, JSON, delta and a
     * restoring update; the doc itself stays byte-identical */
    crdt_doc *d = doc_with(9, false);
    sb_buf u = SB_BUF_INIT, before = SB_BUF_INIT, after = SB_BUF_INIT, out = SB_BUF_INIT;
    bool ch;
    ins(d, 0, "hello world");
    crdt_snapshot *v1 = crdt_snapshot_take(d);
    assert_int_equal(crdt_text_format(d, SB_STR("t"), 0, 5, SB_STR("{\"bold\":true}"), &u, &ch),
                     CRDT_OK);
    crdt_snapshot *v2 = crdt_snapshot_take(d);
    assert_int_equal(
        crdt_text_insert(d, SB_STR("t"), 5, SB_STR("!"), SB_STR("{\"bold\":true}"), &u, &ch),
        CRDT_OK);
    assert_int_equal(crdt_map_set(d, SB_STR("m"), SB_STR("k"), SB_STR("[1,2]"), &u, &ch), CRDT_OK);
    crdt_snapshot *v3 = crdt_snapshot_take(d);
    assert_int_equal(crdt_map_delete(d, SB_STR("m"), SB_STR("k"), &u, &ch), CRDT_OK);
    assert_int_equal(crdt_text_format(d, SB_STR("t"), 0, 12, SB_STR("{\"bold\":null}"), &u, &ch),
                     CRDT_OK);
    state_of(d, &before);

    static const struct {
        const char *text, *delta, *map;
    } want[] = {
        {"hello world", "[{\"insert\":\"hello world\"}]", "{}"},
        {"hello world",
         "[{\"insert\":\"hello\",\"attributes\":{\"bold\":true}},{\"insert\":\" world\"}]", "{}"},
        {"hello! world",
         "[{\"insert\":\"hello!\",\"attributes\":{\"bold\":true}},{\"insert\":\" world\"}]",
         "{\"k\":[1,2]}"},
    };
    crdt_snapshot *vs[] = {v1, v2, v3};
    for (size_t i = 0; i < 3; i++) {
        out.len = 0;
        assert_int_equal(crdt_doc_text_delta_at(d, vs[i], NULL, SB_STR("t"), &out, NULL), CRDT_OK);
        assert_string_equal(out.ptr, want[i].delta);
        expect_json_at(d, vs[i], want[i].text);
        out.len = 0;
        assert_int_equal(crdt_doc_json_at(d, vs[i], SB_STR("m"), CRDT_MAP, &out, NULL), CRDT_OK);
        assert_string_equal(out.ptr, want[i].map);
        /* restore: the update makes an empty doc that version */
        out.len = 0;
        assert_int_equal(crdt_doc_encode_state_at(d, vs[i], &out, NULL), CRDT_OK);
        crdt_doc *r = doc_with(77, true);
        assert_int_equal(crdt_doc_apply_update(r, out.ptr, out.len, NULL), CRDT_OK);
        assert_false(crdt_doc_has_pending(r));
        sb_buf j = SB_BUF_INIT;
        assert_int_equal(crdt_doc_text_delta(r, SB_STR("t"), &j), CRDT_OK);
        assert_string_equal(j.ptr, want[i].delta);
        j.len = 0;
        crdt_doc_json(r, SB_STR("m"), CRDT_MAP, &j);
        assert_string_equal(j.ptr, want[i].map);
        /* and the doc from the snapshot takes edits of its own */
        crdt_doc *at = NULL;
        assert_int_equal(crdt_doc_from_snapshot(d, vs[i], 42, false, &at, NULL), CRDT_OK);
        assert_int_equal(crdt_map_set(at, SB_STR("m"), SB_STR("z"), SB_STR("1"), &u, &ch), CRDT_OK);
        j.len = 0;
        crdt_doc_json(at, SB_STR("m"), CRDT_MAP, &j);
        assert_non_null(strstr(j.ptr, "\"z\":1"));
        crdt_doc_free(at);
        crdt_doc_free(r);
        sb_buf_free(&j);
    }
    /* the current state through a snapshot taken now */
    crdt_snapshot *now = crdt_snapshot_take(d);
    expect_json_at(d, now, "hello! world");
    out.len = 0;
    assert_int_equal(crdt_doc_text_delta_at(d, now, NULL, SB_STR("t"), &out, NULL), CRDT_OK);
    sb_buf cur = SB_BUF_INIT;
    crdt_doc_text_delta(d, SB_STR("t"), &cur);
    assert_string_equal(out.ptr, cur.ptr);
    /* an unknown root reads as empty */
    out.len = 0;
    assert_int_equal(crdt_doc_text_delta_at(d, now, NULL, SB_STR("nope"), &out, NULL), CRDT_OK);
    assert_string_equal(out.ptr, "[]");
    state_of(d, &after);
    assert_int_equal(before.len, after.len);
    assert_memory_equal(before.ptr, after.ptr, before.len);
    crdt_snapshot_free(v1);
    crdt_snapshot_free(v2);
    crdt_snapshot_free(v3);
    crdt_snapshot_free(now);
    crdt_doc_free(d);
    sb_buf_free(&u);
    sb_buf_free(&before);
    sb_buf_free(&after);
    sb_buf_free(&out);
    sb_buf_free(&cur);
}

static void test_cut_items(void **state)
{
    (void)state;
    /* a snapshot that cuts runs of text in the middle (deletes inside one
     * insert, typing after the snapshot merged into the same item) */
    crdt_doc *d = doc_with(4, false);
    ins(d, 0, "abcdef");
    del(d, 2, 2); /* ab[cd]ef */
    crdt_snapshot *s = crdt_snapshot_take(d);
    ins(d, 4, "gh"); /* appends to the item of "ef": one run now */
    del(d, 0, 1);
    sb_buf before = SB_BUF_INIT, after = SB_BUF_INIT, out = SB_BUF_INIT;
    state_of(d, &before);
    expect_json_at(d, s, "abef");
    assert_int_equal(crdt_doc_text_delta_at(d, s, NULL, SB_STR("t"), &out, NULL), CRDT_OK);
    assert_string_equal(out.ptr, "[{\"insert\":\"abef\"}]");
    state_of(d, &after);
    assert_int_equal(before.len, after.len);
    assert_memory_equal(before.ptr, after.ptr, before.len);
    crdt_snapshot_free(s);
    crdt_doc_free(d);
    sb_buf_free(&before);
    sb_buf_free(&after);
    sb_buf_free(&out);
}

static void expect_delta(crdt_doc *d, const crdt_snapshot *s, const crdt_snapshot *prev,
                         const char *want)
{
    sb_buf out = SB_BUF_INIT;
    assert_int_equal(crdt_doc_text_delta_at(d, s, prev, SB_STR("t"), &out, NULL), CRDT_OK);
    assert_string_equal(out.ptr, want);
    sb_buf_free(&out);
}

static void test_changes_between_versions(void **state)
{
    (void)state;
    /* toDelta(snapshot, prevSnapshot) with Yjs's default ychange; the
     * expected deltas are Yjs 13.6.33's */
    crdt_doc *d = doc_with(4, false);
    ins(d, 0, "hello world");
    crdt_snapshot *a = crdt_snapshot_take(d);
    del(d, 6, 3);
    ins(d, 0, "X");
    crdt_snapshot *b = crdt_snapshot_take(d);
    ins(d, 1, "Y"); /* merges into the item of "X" */
    sb_buf before = SB_BUF_INIT, after = SB_BUF_INIT;
    state_of(d, &before);
    expect_delta(d, b, a,
                 "[{\"insert\":\"X\",\"attributes\":{\"ychange\":{\"type\":\"added\"}}},"
                 "{\"insert\":\"hello \"},"
                 "{\"insert\":\"wor\",\"attributes\":{\"ychange\":{\"type\":\"removed\"}}},"
                 "{\"insert\":\"ld\"}]");
    expect_delta(d, a, b,
                 "[{\"insert\":\"X\",\"attributes\":{\"ychange\":{\"type\":\"removed\"}}},"
                 "{\"insert\":\"hello \"},"
                 "{\"insert\":\"wor\",\"attributes\":{\"ychange\":{\"type\":\"added\"}}},"
                 "{\"insert\":\"ld\"}]");
    /* the doc now against a: deleted text unmarked, as in Yjs */
    expect_delta(d, NULL, a,
                 "[{\"insert\":\"XY\",\"attributes\":{\"ychange\":{\"type\":\"added\"}}},"
                 "{\"insert\":\"hello world\"}]");
    expect_delta(d, b, b, "[{\"insert\":\"Xhello ld\"}]");
    expect_delta(d, NULL, NULL, "[{\"insert\":\"XYhello ld\"}]");
    state_of(d, &after);
    assert_int_equal(before.len, after.len);
    assert_memory_equal(before.ptr, after.ptr, before.len);
    crdt_snapshot_free(a);
    crdt_snapshot_free(b);
    crdt_doc_free(d);
    sb_buf_free(&before);
    sb_buf_free(&after);
}

int main(void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(test_vectors_match_yjs),
        cmocka_unit_test(test_encoding_pinned),
        cmocka_unit_test(test_decoding_follows_yjs),
        cmocka_unit_test(test_hostile_encodings),
        cmocka_unit_test(test_gc_on_refused),
        cmocka_unit_test(test_snapshot_ahead_refused),
        cmocka_unit_test(test_versions_and_restore),
        cmocka_unit_test(test_cut_items),
        cmocka_unit_test(test_changes_between_versions),
    };
    int rc = cmocka_run_group_tests(tests, NULL, NULL);
    yproto_done();
    return rc;
}
