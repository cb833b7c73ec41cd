/* collab_diff_test.c: collab_content_diff, the edits a REST write becomes:
 * the update turns a document that only knew the old content into the new
 * one; a concurrent insert inside the common prefix survives (the shared
 * text is kept, not deleted and retyped); UTF-8 sequences are never split
 * and indexes count UTF-16 units; page name/path; refusals. */
#include "cmocka_prelude.h"

#include "collab/collab.h"

static crdt_doc *text_doc(const char *text, uint64_t client)
{
    crdt_doc *d = crdt_doc_new(client, true);
    sb_buf u = SB_BUF_INIT;
    bool ch;
    if (*text)
        assert_int_equal(
            crdt_text_insert(d, SB_STR("content"), 0, sb_str_c(text), SB_STR_NULL, &u, &ch),
            CRDT_OK);
    sb_buf_free(&u);
    return d;
}

static crdt_doc *copy_of(crdt_doc *d, uint64_t client)
{
    crdt_doc *c = crdt_doc_new(client, true);
    sb_buf s = SB_BUF_INIT;
    assert_int_equal(crdt_doc_encode_state(d, NULL, 0, &s), CRDT_OK);
    assert_int_equal(crdt_doc_apply_update(c, s.ptr, s.len, NULL), CRDT_OK);
    sb_buf_free(&s);
    return c;
}

static void expect_text(crdt_doc *d, const char *json)
{
    sb_buf b = SB_BUF_INIT;
    assert_int_equal(crdt_doc_json(d, SB_STR("content"), CRDT_TEXT, &b), CRDT_OK);
    sb_buf_append(&b, "", 1);
    assert_string_equal(b.ptr, json);
    sb_buf_free(&b);
}

/* old -> new through the diff, checked on a document that only got the
 * update; returns whether anything changed. */
static bool roundtrip(const char *old, const char *new_text, const char *want_json)
{
    crdt_doc *base = text_doc(old, 11);
    crdt_doc *scratch = copy_of(base, 12);
    crdt_doc *peer = copy_of(base, 13);
    sb_buf u = SB_BUF_INIT;
    bool changed;
    assert_int_equal(collab_content_diff(scratch, COLLAB_CODE, sb_str_c(new_text), &u, &changed),
                     CRDT_OK);
    if (changed)
        assert_int_equal(crdt_doc_apply_update(peer, u.ptr, u.len, NULL), CRDT_OK);
    expect_text(peer, want_json);
    sb_buf_free(&u);
    crdt_doc_free(base);
    crdt_doc_free(scratch);
    crdt_doc_free(peer);
    return changed;
}

static void test_text(void **state)
{
    (void)state;
    assert_true(roundtrip("", "h\xc3\xa9llo", "\"h\xc3\xa9llo\""));
    assert_true(roundtrip("abc", "", "\"\""));
    assert_false(roundtrip("same", "same", "\"same\""));
    assert_true(roundtrip("abcdef", "abXYef", "\"abXYef\""));
    /* U+1F600 and U+1F601 share three of their four bytes: the diff must
     * back off to the character's start (else the insert is not UTF-8). */
    assert_true(roundtrip("a\xf0\x9f\x98\x80z", "a\xf0\x9f\x98\x81z", "\"a\xf0\x9f\x98\x81z\""));
    /* After a character past the BMP (two UTF-16 units) the index is right. */
    assert_true(roundtrip("\xf0\x9f\x98\x80xy", "\xf0\x9f\x98\x80x-y", "\"\xf0\x9f\x98\x80x-y\""));
    assert_true(
        roundtrip("\xc3\xa9\xc3\xa9", "\xc3\xa9\xc3\xa8\xc3\xa9", "\"\xc3\xa9\xc3\xa8\xc3\xa9\""));
}

/* What both versions share survives: a concurrent insert anchored inside
 * the common prefix, made by another client, stays in place. */
static void test_keeps_common(void **state)
{
    (void)state;
    crdt_doc *base = text_doc("hello world", 21);
    crdt_doc *scratch = copy_of(base, 22);
    crdt_doc *other = copy_of(base, 23);
    sb_buf u = SB_BUF_INIT, o = SB_BUF_INIT;
    bool changed;
    assert_int_equal(
        collab_content_diff(scratch, COLLAB_CODE, SB_STR("hello brave world"), &u, &changed),
        CRDT_OK);
    assert_true(changed);
    assert_int_equal(
        crdt_text_insert(other, SB_STR("content"), 2, SB_STR("L"), SB_STR_NULL, &o, &changed),
        CRDT_OK);
    assert_int_equal(crdt_doc_apply_update(other, u.ptr, u.len, NULL), CRDT_OK);
    expect_text(other, "\"heLllo brave world\"");
    sb_buf_free(&u);
    sb_buf_free(&o);
    crdt_doc_free(base);
    crdt_doc_free(scratch);
    crdt_doc_free(other);
}

static void test_page_and_refusals(void **state)
{
    (void)state;
    crdt_doc *d = crdt_doc_new(31, true);
    sb_buf u = SB_BUF_INIT, b = SB_BUF_INIT;
    bool changed;
    assert_int_equal(
        collab_content_diff(d, COLLAB_PAGE,
                            SB_STR("{\"name\":\"Home\",\"path\":\"/\",\"published\":true}"), &u,
                            &changed),
        CRDT_OK);
    assert_true(changed);
    assert_int_equal(crdt_doc_json(d, SB_STR("page"), CRDT_MAP, &b), CRDT_OK);
    sb_buf_append(&b, "", 1);
    assert_string_equal(b.ptr, "{\"name\":\"Home\",\"path\":\"/\"}");
    sb_buf_reset(&u);
    assert_int_equal(
        collab_content_diff(d, COLLAB_PAGE, SB_STR("{\"name\":\"Home\"}"), &u, &changed), CRDT_OK);
    assert_false(changed);
    assert_int_equal(u.len, 0);
    assert_int_equal(collab_content_diff(d, COLLAB_PAGE, SB_STR("[1]"), &u, &changed), CRDT_E_JSON);
    assert_int_equal(collab_content_diff(d, COLLAB_CODE, sb_str_make("\xff", 1), &u, &changed),
                     CRDT_E_UTF8);
    assert_int_equal(collab_content_diff(d, COLLAB_COMPONENT, SB_STR("{}"), &u, &changed),
                     CRDT_E_UNSUPPORTED);
    sb_buf_free(&u);
    sb_buf_free(&b);
    crdt_doc_free(d);
}

/* A page's components and metadata become shared types that render back
 * to the same JSON, on a peer too; unchanged trees are not rewritten. */
static void test_page_trees(void **state)
{
    (void)state;
    static const char page[] =
        "{\"components\":[{\"id\":\"a\",\"type\":\"box\",\"props\":{\"x\":[1,{\"y\":2}]},"
        "\"children\":[{\"id\":\"b\",\"type\":\"t\",\"props\":{},\"children\":[]}]}],"
        "\"metadata\":{\"k\":{\"v\":true}}}";
    crdt_doc *d = crdt_doc_new(41, true);
    crdt_doc *peer = crdt_doc_new(42, true);
    sb_buf u = SB_BUF_INIT, b = SB_BUF_INIT;
    bool changed;
    assert_int_equal(collab_content_diff(d, COLLAB_PAGE, SB_STR(page), &u, &changed), CRDT_OK);
    assert_true(changed);
    assert_int_equal(crdt_doc_apply_update(peer, u.ptr, u.len, NULL), CRDT_OK);
    assert_int_equal(crdt_doc_json(peer, SB_STR("page"), CRDT_MAP, &b), CRDT_OK);
    sb_buf_append(&b, "", 1);
    assert_string_equal(b.ptr, page);
    sb_buf_reset(&u);
    assert_int_equal(collab_content_diff(d, COLLAB_PAGE, SB_STR(page), &u, &changed), CRDT_OK);
    assert_false(changed);
    sb_buf_free(&u);
    sb_buf_free(&b);
    crdt_doc_free(d);
    crdt_doc_free(peer);
}

/* style:<name> is stored as code:styles/<name>.css; nothing else moves. */
static void test_canonical(void **state)
{
    (void)state;
    char buf[COLLAB_DOC_MAX + 1];
    sb_str c = collab_doc_canonical(SB_STR("style:main"), buf);
    assert_true(sb_str_eq(c, SB_STR("code:styles/main.css")));
    c = collab_doc_canonical(SB_STR("code:styles/main.css"), buf);
    assert_true(sb_str_eq(c, SB_STR("code:styles/main.css")));
    c = collab_doc_canonical(SB_STR("page:1"), buf);
    assert_true(sb_str_eq(c, SB_STR("page:1")));
    c = collab_doc_canonical(SB_STR("nope"), buf);
    assert_true(sb_str_eq(c, SB_STR("nope")));
    /* A style name that would not fit as a code name stays itself. */
    char big[COLLAB_DOC_MAX];
    memset(big, 'a', sizeof(big));
    memcpy(big, "style:", 6);
    c = collab_doc_canonical(sb_str_make(big, sizeof(big)), buf);
    assert_ptr_equal(c.ptr, big);
}

int main(void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(test_text),
        cmocka_unit_test(test_keeps_common),
        cmocka_unit_test(test_page_and_refusals),
        cmocka_unit_test(test_canonical),
        cmocka_unit_test(test_page_trees),
    };
    return cmocka_run_group_tests(tests, NULL, NULL);
}
