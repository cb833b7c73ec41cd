/* collab_nodemsg_test.c: the messages between nodes (collab/nodemsg.h):
 * exact bytes of one message, round trips of every type, and refusals of
 * truncated, overlong and trailing input (every prefix of a valid message
 * is refused). */
#include "cmocka_prelude.h"

#include "collab/nodemsg.h"

static const sb_str KEY = {"p1/code:a.js", 12};

static void test_exact_bytes(void **state)
{
    sb_buf b = SB_BUF_INIT;
    nodemsg_put_update(&b, sb_str_make("k", 1), 258, 3, sb_str_make("\x00\x00", 2));
    const uint8_t want[] = {1, 1, 0, 1, 'k', 0, 0, 0, 0, 0, 0, 1, 2, 0, 0, 0, 0, 0, 0, 0, 3, 0, 0};
    assert_int_equal(b.len, sizeof(want));
    assert_memory_equal(b.ptr, want, sizeof(want));
    sb_buf_free(&b);
}

static void test_round_trips(void **state)
{
    sb_buf b = SB_BUF_INIT;
    nodemsg m;
    nodemsg_put_update(&b, KEY, 42, 7, sb_str_make("upd", 3));
    assert_true(nodemsg_decode((const uint8_t *)b.ptr, b.len, &m));
    assert_int_equal(m.type, NODEMSG_UPDATE);
    assert_true(sb_str_eq(m.key, KEY));
    assert_int_equal(m.seq, 42);
    assert_int_equal(m.rest_ver, 7);
    assert_true(sb_str_eq(m.payload, sb_str_make("upd", 3)));

    sb_buf_reset(&b);
    nodemsg_conn c = {.id = 0x0102030405060708ull,
                      .user_id = sb_str_c("u-1"),
                      .name = sb_str_c("eddie"),
                      .doc = sb_str_c("style:main")};
    nodemsg_put_awareness(&b, KEY, &c, sb_str_make("\x01\x02", 2));
    assert_true(nodemsg_decode((const uint8_t *)b.ptr, b.len, &m));
    assert_int_equal(m.type, NODEMSG_AWARENESS);
    assert_true(m.conn.id == c.id);
    assert_true(sb_str_eq(m.conn.user_id, c.user_id));
    assert_true(sb_str_eq(m.conn.name, c.name));
    assert_true(sb_str_eq(m.conn.doc, c.doc));
    assert_true(sb_str_eq(m.payload, sb_str_make("\x01\x02", 2)));

    /* A removal of several connections' states: no connection. */
    sb_buf_reset(&b);
    nodemsg_conn none = {0};
    nodemsg_put_awareness(&b, KEY, &none, sb_str_make("\x00", 1));
    assert_true(nodemsg_decode((const uint8_t *)b.ptr, b.len, &m));
    assert_true(m.conn.id == 0 && m.conn.user_id.len == 0);

    sb_buf_reset(&b);
    nodemsg_put_hello(&b, KEY);
    assert_true(nodemsg_decode((const uint8_t *)b.ptr, b.len, &m));
    assert_int_equal(m.type, NODEMSG_HELLO);

    sb_buf_reset(&b);
    nodemsg_put_beat(&b, KEY, 9, 4, 2);
    nodemsg_put_conn(&b, &c);
    c.id = 2;
    c.name = sb_str_c("erin");
    nodemsg_put_conn(&b, &c);
    assert_true(nodemsg_decode((const uint8_t *)b.ptr, b.len, &m));
    assert_int_equal(m.type, NODEMSG_BEAT);
    assert_int_equal(m.head, 9);
    assert_int_equal(m.rest_ver, 4);
    assert_int_equal(m.nconns, 2);
    sb_str rest = m.conns;
    nodemsg_conn got;
    assert_true(nodemsg_conns_next(&rest, &got));
    assert_true(got.id == 0x0102030405060708ull && sb_str_eq(got.name, sb_str_c("eddie")));
    assert_true(nodemsg_conns_next(&rest, &got));
    assert_true(got.id == 2 && sb_str_eq(got.name, sb_str_c("erin")));
    assert_false(nodemsg_conns_next(&rest, &got));

    /* Every strict prefix of a beat is refused, and so are trailing bytes. */
    for (size_t n = 0; n < b.len; n++)
        assert_false(nodemsg_decode((const uint8_t *)b.ptr, n, &m));
    sb_buf_putc(&b, 0);
    assert_false(nodemsg_decode((const uint8_t *)b.ptr, b.len, &m));
    sb_buf_free(&b);
}

static void test_refusals(void **state)
{
    nodemsg m;
    /* wrong version, unknown type, empty key */
    assert_false(nodemsg_decode((const uint8_t[]){2, 3, 0, 1, 'k'}, 5, &m));
    assert_false(nodemsg_decode((const uint8_t[]){1, 9, 0, 1, 'k'}, 5, &m));
    assert_false(nodemsg_decode((const uint8_t[]){1, 3, 0, 0}, 4, &m));
    /* a hello with bytes after it */
    assert_false(nodemsg_decode((const uint8_t[]){1, 3, 0, 1, 'k', 0}, 6, &m));
    /* a string longer than what is left */
    assert_false(nodemsg_decode((const uint8_t[]){1, 3, 0, 9, 'k'}, 5, &m));
    /* an update with seq 0 */
    uint8_t u[] = {1, 1, 0, 1, 'k', 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0};
    assert_false(nodemsg_decode(u, sizeof(u), &m));
    /* a beat claiming more connections than allowed */
    sb_buf b = SB_BUF_INIT;
    nodemsg_put_beat(&b, KEY, 1, 0, NODEMSG_CONNS_MAX + 1);
    assert_false(nodemsg_decode((const uint8_t *)b.ptr, b.len, &m));
    /* a beat claiming more connections than it carries */
    sb_buf_reset(&b);
    nodemsg_put_beat(&b, KEY, 1, 0, 3);
    assert_false(nodemsg_decode((const uint8_t *)b.ptr, b.len, &m));
    sb_buf_free(&b);
}

int main(void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(test_exact_bytes),
        cmocka_unit_test(test_round_trips),
        cmocka_unit_test(test_refusals),
    };
    return cmocka_run_group_tests(tests, NULL, NULL);
}
