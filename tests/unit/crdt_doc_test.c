/* crdt_doc_test.c: the document model against real Yjs, and hostile input.
 *
 * - Transcripts recorded from the `yjs` npm package (tests/crdt/vectors,
 *   made by tests/crdt/gen_vectors.mjs; see its header to regenerate) are
 *   replayed through the protocol engine of ycli: remote updates in shuffled
 *   orders (pending structs and deletes), gc on and off, nested types, XML,
 *   local edits whose updates must equal Yjs's byte for byte, and the final
 *   encodeStateAsUpdate, state vector, diff, toJSON and toDelta.
 * - Hostile updates (truncations and byte flips of every recorded update,
 *   and hand-made ones: unknown content refs, absurd clocks and lengths,
 *   invalid UTF-8, self references) are rejected or applied; a rejected one
 *   leaves the document byte-identical; an applied one re-encodes to an
 *   update that gives a fresh document the same state. */
#include "cmocka_prelude.h"

#include <stdio.h>
#include <stdlib.h>

#include "../crdt/yproto.h"
#include "crdt_transcript.h"
#include "crdt/crdt.h"
#include "crdt/lib0.h"

static void test_random_sessions_match_yjs(void **state)
{
    vec_stats st = vec_replay("tests/crdt/vectors/random_v1.txt", false, NULL);
    assert_int_equal(st.cases, 150);
    assert_int_equal(st.bad, 0);
}

static void test_formatted_text_matches_yjs(void **state)
{
    /* remote formatting, concurrent formats that Yjs's formatting cleanup
     * after remote transactions must reduce exactly as Yjs does, and the
     * cases the random differential test found (gen_vectors.mjs FOUND) */
    vec_stats st = vec_replay("tests/crdt/vectors/format_v1.txt", false, NULL);
    assert_int_equal(st.cases, 141);
    assert_int_equal(st.bad, 0);
}

/* --- hostile input --- */

static void state_of(crdt_doc *d, sb_buf *out)
{
    out->len = 0;
    crdt_doc_encode_state(d, NULL, 0, out);
    sb_buf_append(out, crdt_doc_has_pending(d) ? "P" : "-", 1);
    crdt_doc_json(d, SB_STR("t"), CRDT_TEXT, out);
    crdt_doc_json(d, SB_STR("m"), CRDT_MAP, out);
    crdt_doc_json(d, SB_STR("a"), CRDT_ARRAY, out);
    crdt_doc_json(d, SB_STR("x"), CRDT_XML_FRAGMENT, out);
}

/* Applies bytes to d: on error d must be unchanged; on success its state
 * must re-encode into an update that a fresh doc takes to the same state. */
static void apply_checked(crdt_doc *d, const void *p, size_t n)
{
    sb_buf before = SB_BUF_INIT, after = SB_BUF_INIT;
    state_of(d, &before);
    sb_errbuf eb;
    crdt_err e = crdt_doc_apply_update(d, p, n, &eb);
    state_of(d, &after);
    if (e) {
        assert_true(eb.msg[0] != 0);
        assert_int_equal(before.len, after.len);
        assert_memory_equal(before.ptr, after.ptr, before.len);
    } else if (!crdt_doc_has_pending(d)) {
        sb_buf s = SB_BUF_INIT, s2 = SB_BUF_INIT;
        crdt_doc_encode_state(d, NULL, 0, &s);
        crdt_doc *f = crdt_doc_new(99, true);
        assert_int_equal(crdt_doc_apply_update(f, s.ptr, s.len, NULL), CRDT_OK);
        crdt_doc_encode_state(f, NULL, 0, &s2);
        sb_buf j1 = SB_BUF_INIT, j2 = SB_BUF_INIT;
        crdt_doc_json(d, SB_STR("t"), CRDT_TEXT, &j1);
        crdt_doc_json(f, SB_STR("t"), CRDT_TEXT, &j2);
        assert_int_equal(j1.len, j2.len);
        sb_buf_free(&s);
        sb_buf_free(&s2);
        sb_buf_free(&j1);
        sb_buf_free(&j2);
        crdt_doc_free(f);
    }
    sb_buf_free(&before);
    sb_buf_free(&after);
}

static bool b64_line(const char *line, sb_buf *out)
{
    out->len = 0;
    return b64_decode(sb_str_c(line), out);
}

static void test_mutated_updates_leave_doc_unchanged(void **state)
{
    size_t n;
    char *text = vec_read_file("tests/crdt/vectors/random_v1.txt", &n);
    char *save = NULL;
    sb_buf u = SB_BUF_INIT, mut = SB_BUF_INIT;
    crdt_doc *d = crdt_doc_new(7, true);
    uint32_t rnd = 12345;
    int applied = 0;
    for (char *line = strtok_r(text, "\n", &save); line; line = strtok_r(NULL, "\n", &save)) {
        if (strncmp(line, "> reset", 7) == 0) {
            crdt_doc_free(d);
            d = crdt_doc_new(7, rnd & 1);
            continue;
        }
        if (strncmp(line, "> apply ", 8) != 0 || !b64_line(line + 8, &u))
            continue;
        /* truncations */
        for (size_t cut = 0; cut < u.len; cut += 1 + u.len / 16)
            apply_checked(d, u.ptr, cut);
        /* byte flips */
        for (int k = 0; k < 4; k++) {
            mut.len = 0;
            sb_buf_append(&mut, u.ptr, u.len);
            rnd = rnd * 1103515245 + 12345;
            size_t at = (rnd >> 8) % u.len;
            mut.ptr[at] ^= (char)(1u << ((rnd >> 4) & 7));
            apply_checked(d, mut.ptr, mut.len);
        }
        apply_checked(d, u.ptr, u.len);
        applied++;
    }
    assert_true(applied > 500);
    crdt_doc_free(d);
    sb_buf_free(&u);
    sb_buf_free(&mut);
    free(text);
}

#define BYTES(...) ((const uint8_t[]){__VA_ARGS__}), sizeof((const uint8_t[]){__VA_ARGS__})

static void expect_reject(const uint8_t *p, size_t n, crdt_err want)
{
    crdt_doc *d = crdt_doc_new(1, true);
    /* a known first state: "ab" in text t from client 5 */
    static const uint8_t base[] = {1, 1, 5, 0, 4, 1, 1, 't', 2, 'a', 'b', 0};
    assert_int_equal(crdt_doc_apply_update(d, base, sizeof(base), NULL), CRDT_OK);
    sb_buf before = SB_BUF_INIT, after = SB_BUF_INIT;
    state_of(d, &before);
    sb_errbuf eb = {{0}};
    assert_int_equal(crdt_doc_apply_update(d, p, n, &eb), want);
    assert_true(strlen(eb.msg) > 0);
    state_of(d, &after);
    assert_int_equal(before.len, after.len);
    assert_memory_equal(before.ptr, after.ptr, before.len);
    sb_buf_free(&before);
    sb_buf_free(&after);
    crdt_doc_free(d);
}

static void test_hostile_updates(void **state)
{
    /* unknown content ref 17 */
    expect_reject(BYTES(1, 1, 6, 0, 0x11, 1, 1, 't', 0), CRDT_E_CONTENT);
    /* unknown type ref 9 */
    expect_reject(BYTES(1, 1, 6, 0, 7, 1, 1, 't', 9, 0), CRDT_E_CONTENT);
    /* a string longer than the input */
    expect_reject(BYTES(1, 1, 6, 0, 4, 1, 1, 't', 0xff, 0xff, 0xff, 0x0f, 'a', 0),
                  CRDT_E_TRUNCATED);
    /* 2^40 any values announced */
    expect_reject(BYTES(1, 1, 6, 0, 8, 1, 1, 'a', 0x80, 0x80, 0x80, 0x80, 0x80, 0x20, 0),
                  CRDT_E_LIMIT);
    /* a clock past 2^53 */
    expect_reject(BYTES(1, 1, 6, 0xff, 0xff, 0xff, 0xff, 0xff, 0xff, 0xff, 0x0f, 4, 1, 1, 't', 2,
                        'a', 'b', 0),
                  CRDT_E_LIMIT);
    /* a GC of length 0 */
    expect_reject(BYTES(1, 1, 6, 0, 0, 0, 0), CRDT_E_MALFORMED);
    /* an origin in the item's own future */
    expect_reject(BYTES(1, 1, 6, 0, 0x84, 6, 3, 1, 'a', 0), CRDT_E_INCONSISTENT);
    /* invalid UTF-8 (an encoded surrogate) */
    expect_reject(BYTES(1, 1, 6, 0, 4, 1, 1, 't', 3, 0xed, 0xa0, 0x80, 0), CRDT_E_UTF8);
    /* JSON content that is not JSON */
    expect_reject(BYTES(1, 1, 6, 0, 2, 1, 1, 'a', 1, 2, '{', 'x', 0), CRDT_E_JSON);
    /* an any nested deeper than the limit */
    uint8_t deep[256];
    size_t k = 0;
    const uint8_t head[] = {1, 1, 6, 0, 8, 1, 1, 'a', 1};
    memcpy(deep, head, sizeof(head));
    k = sizeof(head);
    for (int i = 0; i < 100; i++) {
        deep[k++] = 117; /* array */
        deep[k++] = 1;
    }
    deep[k++] = 126;
    deep[k++] = 0;
    expect_reject(deep, k, CRDT_E_LIMIT);
    /* a delete set cut short, after valid structs */
    expect_reject(BYTES(1, 1, 6, 0, 4, 1, 1, 't', 1, 'c', 1, 5), CRDT_E_TRUNCATED);
    /* trailing garbage is ignored as Yjs does; an empty update is fine */
    crdt_doc *d = crdt_doc_new(1, true);
    assert_int_equal(crdt_doc_apply_update(d, BYTES(0, 0), NULL), CRDT_OK);
    assert_int_equal(crdt_doc_apply_update(d, BYTES(0, 0, 9, 9), NULL), CRDT_OK);
    crdt_doc_free(d);
}

static void test_surrogate_split(void **state)
{
    /* "a😀b" from client 5; a remote delete of clock 2 (the low half of the
     * emoji) splits the pair: both halves become U+FFFD, as in Yjs. */
    crdt_doc *d = crdt_doc_new(1, true);
    static const uint8_t ins[] = {1, 1, 5, 0, 4, 1, 1, 't', 6, 'a', 0xf0, 0x9f, 0x98, 0x80, 'b', 0};
    assert_int_equal(crdt_doc_apply_update(d, ins, sizeof(ins), NULL), CRDT_OK);
    sb_buf j = SB_BUF_INIT;
    crdt_doc_json(d, SB_STR("t"), CRDT_TEXT, &j);
    assert_string_equal(j.ptr, "\"a\xf0\x9f\x98\x80"
                               "b\"");
    static const uint8_t del[] = {0, 1, 5, 1, 2, 1};
    assert_int_equal(crdt_doc_apply_update(d, del, sizeof(del), NULL), CRDT_OK);
    j.len = 0;
    crdt_doc_json(d, SB_STR("t"), CRDT_TEXT, &j);
    assert_string_equal(j.ptr, "\"a\xef\xbf\xbd"
                               "b\"");
    sb_buf_free(&j);
    crdt_doc_free(d);
}

/* 200,000 nested arrays (each the child of the one before), then the
 * outermost deleted: deleting and collecting descend without recursion,
 * rendering stops at the depth limit. */
static void test_deep_nesting(void **state)
{
    for (int gc = 0; gc < 2; gc++) {
        const size_t n = 200000;
        sb_buf u = SB_BUF_INIT;
        crdt_enc_var_uint(&u, 1);
        crdt_enc_var_uint(&u, n);
        crdt_enc_var_uint(&u, 5);
        crdt_enc_var_uint(&u, 0);
        for (size_t i = 0; i < n; i++) {
            crdt_enc_u8(&u, 7); /* type content, parent info follows */
            if (i == 0) {
                crdt_enc_var_uint(&u, 1);
                crdt_enc_var_string(&u, "a", 1);
            } else {
                crdt_enc_var_uint(&u, 0);
                crdt_enc_var_uint(&u, 5);
                crdt_enc_var_uint(&u, i - 1);
            }
            crdt_enc_var_uint(&u, 0); /* Y.Array */
        }
        crdt_enc_var_uint(&u, 0);
        crdt_doc *d = crdt_doc_new(1, gc);
        assert_int_equal(crdt_doc_apply_update(d, u.ptr, u.len, NULL), CRDT_OK);
        sb_buf j = SB_BUF_INIT;
        assert_int_equal(crdt_doc_json(d, SB_STR("a"), CRDT_ARRAY, &j), CRDT_E_LIMIT);
        static const uint8_t del[] = {0, 1, 5, 1, 0, 1};
        assert_int_equal(crdt_doc_apply_update(d, del, sizeof(del), NULL), CRDT_OK);
        j.len = 0;
        assert_int_equal(crdt_doc_json(d, SB_STR("a"), CRDT_ARRAY, &j), CRDT_OK);
        assert_string_equal(j.ptr, "[]");
        sb_buf sv = SB_BUF_INIT;
        crdt_doc_encode_state_vector(d, &sv);
        assert_int_equal(sv.len, 5); /* 1 client: 5 -> 200000 */
        sb_buf_free(&sv);
        sb_buf_free(&j);
        sb_buf_free(&u);
        crdt_doc_free(d);
    }
}

int main(void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(test_random_sessions_match_yjs),
        cmocka_unit_test(test_formatted_text_matches_yjs),
        cmocka_unit_test(test_mutated_updates_leave_doc_unchanged),
        cmocka_unit_test(test_hostile_updates),
        cmocka_unit_test(test_surrogate_split),
        cmocka_unit_test(test_deep_nesting),
    };
    int rc = cmocka_run_group_tests(tests, NULL, NULL);
    yproto_done();
    return rc;
}
