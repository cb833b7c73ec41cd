/* collab_proto_test.c: the y-websocket framing with exact bytes (from
 * y-protocols' sync.js/awareness.js/auth.js and y-websocket's message
 * types), the decoder's refusals, the awareness walker, and document
 * names. */
#include "cmocka_prelude.h"

#include "collab/collab.h"
#include "collab/proto.h"

#define BYTES(...) ((const uint8_t[]){__VA_ARGS__}), sizeof((const uint8_t[]){__VA_ARGS__})

static void expect_buf(sb_buf *b, const uint8_t *want, size_t n)
{
    assert_int_equal(b->len, n);
    assert_memory_equal(b->ptr, want, n);
    sb_buf_reset(b);
}

static void test_encode(void **state)
{
    sb_buf b = SB_BUF_INIT;
    collab_msg_sync(&b, COLLAB_SYNC_STEP1, "\x00", 1);
    expect_buf(&b, BYTES(0, 0, 1, 0));
    collab_msg_sync(&b, COLLAB_SYNC_UPDATE, "\x00\x00", 2);
    expect_buf(&b, BYTES(0, 2, 2, 0, 0));
    collab_msg_query_awareness(&b);
    expect_buf(&b, BYTES(3));
    collab_msg_permission_denied(&b, "no");
    expect_buf(&b, BYTES(2, 0, 2, 'n', 'o'));
    sb_buf body = SB_BUF_INIT;
    collab_aw_begin(&body, 1);
    collab_aw_put(&body, 300, 2, "null", 4);
    collab_msg_awareness(&b, body.ptr, body.len);
    expect_buf(&b, BYTES(1, 9, 1, 0xac, 0x02, 2, 4, 'n', 'u', 'l', 'l'));
    sb_buf_free(&body);
    sb_buf_free(&b);
}

static void test_decode(void **state)
{
    collab_msg m;
    assert_int_equal(collab_msg_decode(BYTES(0, 1, 3, 7, 8, 9), &m), COLLAB_PROTO_OK);
    assert_int_equal(m.type, COLLAB_MSG_SYNC);
    assert_int_equal(m.step, COLLAB_SYNC_STEP2);
    assert_int_equal(m.payload.len, 3);
    assert_memory_equal(m.payload.ptr, "\x07\x08\x09", 3);
    assert_int_equal(collab_msg_decode(BYTES(3), &m), COLLAB_PROTO_OK);
    assert_int_equal(m.type, COLLAB_MSG_QUERY_AWARENESS);
    assert_int_equal(collab_msg_decode(BYTES(2, 0, 2, 'n', 'o'), &m), COLLAB_PROTO_OK);
    assert_int_equal(m.type, COLLAB_MSG_AUTH);
    assert_int_equal(m.payload.len, 2);
    /* Refusals leave *out untouched. */
    m.type = 77;
    assert_int_equal(collab_msg_decode(NULL, 0, &m), COLLAB_PROTO_EMPTY);
    assert_int_equal(collab_msg_decode(BYTES(9), &m), COLLAB_PROTO_TYPE);
    assert_int_equal(collab_msg_decode(BYTES(0, 3, 0), &m), COLLAB_PROTO_STEP);
    assert_int_equal(collab_msg_decode(BYTES(0, 2, 5, 1), &m), COLLAB_PROTO_TRUNCATED);
    assert_int_equal(collab_msg_decode(BYTES(0), &m), COLLAB_PROTO_TRUNCATED);
    assert_int_equal(collab_msg_decode(BYTES(0x80), &m), COLLAB_PROTO_TRUNCATED);
    assert_int_equal(collab_msg_decode(BYTES(3, 0), &m), COLLAB_PROTO_TRAILING);
    assert_int_equal(collab_msg_decode(BYTES(0, 2, 0, 0), &m), COLLAB_PROTO_TRAILING);
    /* An auth reason must be UTF-8. */
    assert_int_equal(collab_msg_decode(BYTES(2, 0, 1, 0xff), &m), COLLAB_PROTO_TRUNCATED);
    assert_int_equal(m.type, 77);
}

static void test_awareness(void **state)
{
    collab_aw_iter it;
    collab_aw_entry e;
    const uint8_t two[] = {2, 5, 1, 2, '{', '}', 0xac, 0x02, 7, 4, 'n', 'u', 'l', 'l'};
    collab_aw_init(&it, (sb_str){(const char *)two, sizeof(two)}, 16);
    assert_true(collab_aw_next(&it, &e));
    assert_int_equal(e.client, 5);
    assert_int_equal(e.clock, 1);
    assert_int_equal(e.state.len, 2);
    assert_true(collab_aw_next(&it, &e));
    assert_int_equal(e.client, 300);
    assert_int_equal(e.clock, 7);
    assert_memory_equal(e.state.ptr, "null", 4);
    assert_false(collab_aw_next(&it, &e));
    assert_true(collab_aw_ok(&it));
    /* Over the entry limit, a count larger than the bytes, trailing bytes,
     * an empty state. */
    collab_aw_init(&it, (sb_str){(const char *)two, sizeof(two)}, 1);
    assert_false(collab_aw_next(&it, &e));
    assert_false(collab_aw_ok(&it));
    const uint8_t lie[] = {100, 1, 1, 1, 'x'};
    collab_aw_init(&it, (sb_str){(const char *)lie, sizeof(lie)}, 1024);
    assert_false(collab_aw_ok(&it));
    const uint8_t trailing[] = {1, 1, 1, 2, '{', '}', 9};
    collab_aw_init(&it, (sb_str){(const char *)trailing, sizeof(trailing)}, 16);
    while (collab_aw_next(&it, &e))
        ;
    assert_false(collab_aw_ok(&it));
    const uint8_t empty[] = {1, 1, 1, 0};
    collab_aw_init(&it, (sb_str){(const char *)empty, sizeof(empty)}, 16);
    assert_false(collab_aw_next(&it, &e));
    assert_false(collab_aw_ok(&it));
}

static void test_doc_names(void **state)
{
    collab_kind k;
    sb_str item;
    assert_true(collab_doc_parse(SB_STR("page:0190-x"), &k, &item));
    assert_int_equal(k, COLLAB_PAGE);
    assert_true(sb_str_eq(item, SB_STR("0190-x")));
    assert_true(collab_doc_parse(SB_STR("code:src/a b.js"), &k, &item));
    assert_int_equal(k, COLLAB_CODE);
    assert_true(sb_str_eq(item, SB_STR("src/a b.js")));
    assert_true(collab_doc_parse(SB_STR("style:main"), &k, &item));
    assert_int_equal(k, COLLAB_STYLE);
    assert_true(collab_doc_parse(SB_STR("component:c1"), &k, &item));
    assert_int_equal(k, COLLAB_COMPONENT);
    assert_false(collab_doc_parse(SB_STR("page:"), &k, &item));
    assert_false(collab_doc_parse(SB_STR("pages:1"), &k, &item));
    assert_false(collab_doc_parse(SB_STR("code:a\nb"), &k, &item));
    assert_false(collab_doc_parse(SB_STR("code:\xff"), &k, &item));
    char big[COLLAB_DOC_MAX + 2];
    memset(big, 'a', sizeof(big));
    memcpy(big, "code:", 5);
    assert_false(collab_doc_parse((sb_str){big, sizeof(big)}, &k, &item));
    assert_true(collab_doc_parse((sb_str){big, COLLAB_DOC_MAX}, &k, &item));
    /* a branch's documents: branch/<name>/ and a name of the above */
    sb_str br, rest;
    assert_true(collab_doc_branch(SB_STR("branch/feature/page:p1"), &br, &rest));
    assert_true(sb_str_eq(br, SB_STR("feature")) && sb_str_eq(rest, SB_STR("page:p1")));
    assert_true(collab_doc_branch(SB_STR("branch/team/x.y/code:src/a/b.js"), &br, &rest));
    assert_true(sb_str_eq(br, SB_STR("team/x.y")) && sb_str_eq(rest, SB_STR("code:src/a/b.js")));
    assert_true(collab_doc_parse(SB_STR("branch/team/x.y/code:src/a/b.js"), &k, &item));
    assert_int_equal(k, COLLAB_CODE);
    assert_true(sb_str_eq(item, SB_STR("src/a/b.js")));
    assert_false(collab_doc_branch(SB_STR("code:branch/a/page:x"), &br, &rest));
    assert_false(collab_doc_branch(SB_STR("branch//page:x"), &br, &rest));
    assert_false(collab_doc_branch(SB_STR("branch/page:x"), &br, &rest));
    assert_false(collab_doc_branch(SB_STR("branch/a b/page:x"), &br, &rest));
    assert_false(collab_doc_branch(SB_STR("branch/a/"), &br, &rest));
    assert_false(collab_doc_parse(SB_STR("branch/a/pages:x"), &k, &item));
    assert_false(collab_doc_parse(SB_STR("branch/a/page:"), &k, &item));
    char canon[COLLAB_DOC_MAX + 1];
    assert_true(sb_str_eq(collab_doc_canonical(SB_STR("branch/f/style:main"), canon),
                          SB_STR("branch/f/code:styles/main.css")));
    assert_true(sb_str_eq(collab_doc_canonical(SB_STR("style:main"), canon),
                          SB_STR("code:styles/main.css")));
    int ck;
    assert_string_equal(collab_doc_root(COLLAB_PAGE, &ck), "page");
    assert_string_equal(collab_doc_root(COLLAB_CODE, &ck), "content");
}

int main(void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(test_encode),
        cmocka_unit_test(test_decode),
        cmocka_unit_test(test_awareness),
        cmocka_unit_test(test_doc_names),
    };
    return cmocka_run_group_tests(tests, NULL, NULL);
}
