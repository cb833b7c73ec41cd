/* crdt_update_coder_test.c: the v1 and v2 field coders against Yjs's own
 * UpdateEncoderV1/V2 fed the same script of field writes
 * (tests/crdt/lib0_vectors.json, "update_fields"): same bytes out, same
 * fields back; and a v2 update whose header is cut short. */
#include "cmocka_prelude.h"

#include "crdt/update_coder.h"
#include "crdt_vectors.h"

#define ARG(op, k) json_array_get((op), (k))
#define U(op, k)   ((uint64_t)json_integer_value(ARG((op), (k))))

static bool is(const json_t *op, const char *name)
{
    return strcmp(json_string_value(ARG(op, 0)), name) == 0;
}

static void encode_script(const json_t *ops, bool v2, sb_buf *out)
{
    crdt_upd_enc e;
    crdt_upd_enc_init(&e, v2);
    size_t i;
    const json_t *op;
    json_array_foreach(ops, i, op)
    {
        const json_t *s = ARG(op, 1);
        if (is(op, "client"))
            crdt_upd_enc_client(&e, U(op, 1));
        else if (is(op, "left"))
            crdt_upd_enc_left_id(&e, U(op, 1), U(op, 2));
        else if (is(op, "right"))
            crdt_upd_enc_right_id(&e, U(op, 1), U(op, 2));
        else if (is(op, "info"))
            crdt_upd_enc_info(&e, (uint8_t)U(op, 1));
        else if (is(op, "string"))
            crdt_upd_enc_string(&e, json_string_value(s), json_string_length(s));
        else if (is(op, "parent"))
            crdt_upd_enc_parent_info(&e, json_is_true(s));
        else if (is(op, "typeRef"))
            crdt_upd_enc_type_ref(&e, U(op, 1));
        else if (is(op, "len"))
            crdt_upd_enc_len(&e, U(op, 1));
        else if (is(op, "key"))
            crdt_upd_enc_key(&e, json_string_value(s), json_string_length(s));
        else if (is(op, "rest"))
            crdt_enc_var_uint(crdt_upd_enc_rest(&e), U(op, 1));
        else if (is(op, "dsReset"))
            crdt_upd_enc_ds_reset(&e);
        else if (is(op, "dsClock"))
            crdt_upd_enc_ds_clock(&e, U(op, 1));
        else if (is(op, "dsLen"))
            crdt_upd_enc_ds_len(&e, U(op, 1));
        else if (is(op, "buf")) {
            sb_buf b = SB_BUF_INIT;
            vectors_unhex(json_string_value(s), &b);
            crdt_upd_enc_buf(&e, b.ptr, b.len);
            sb_buf_free(&b);
        } else {
            crdt_any v = vectors_any(s);
            if (is(op, "any"))
                crdt_upd_enc_any(&e, &v);
            else
                crdt_upd_enc_json(&e, &v);
            crdt_any_free(&v);
        }
    }
    crdt_upd_enc_finish(&e, out);
    crdt_upd_enc_deinit(&e);
}

static void expect_str(sb_str got, const json_t *want)
{
    assert_non_null(got.ptr);
    assert_true(sb_str_eq(got, sb_str_make(json_string_value(want), json_string_length(want))));
}

static void decode_script(const json_t *ops, bool v2, const sb_buf *in)
{
    crdt_upd_dec u;
    assert_int_equal(crdt_upd_dec_init(&u, in->ptr, in->len, v2), 0);
    size_t i;
    const json_t *op;
    json_array_foreach(ops, i, op)
    {
        uint64_t client, clock;
        const json_t *s = ARG(op, 1);
        if (is(op, "client")) {
            assert_true(crdt_upd_dec_client(&u) == U(op, 1));
        } else if (is(op, "left") || is(op, "right")) {
            if (is(op, "left"))
                crdt_upd_dec_left_id(&u, &client, &clock);
            else
                crdt_upd_dec_right_id(&u, &client, &clock);
            assert_true(client == U(op, 1) && clock == U(op, 2));
        } else if (is(op, "info")) {
            assert_int_equal(crdt_upd_dec_info(&u), U(op, 1));
        } else if (is(op, "string")) {
            expect_str(crdt_upd_dec_string(&u), s);
        } else if (is(op, "parent")) {
            assert_true(crdt_upd_dec_parent_info(&u) == json_is_true(s));
        } else if (is(op, "typeRef")) {
            assert_true(crdt_upd_dec_type_ref(&u) == U(op, 1));
        } else if (is(op, "len")) {
            assert_true(crdt_upd_dec_len(&u) == U(op, 1));
        } else if (is(op, "key")) {
            expect_str(crdt_upd_dec_key(&u), s);
        } else if (is(op, "rest")) {
            assert_true(crdt_dec_var_uint(crdt_upd_dec_rest(&u)) == U(op, 1));
        } else if (is(op, "dsReset")) {
            crdt_upd_dec_ds_reset(&u);
        } else if (is(op, "dsClock")) {
            assert_true(crdt_upd_dec_ds_clock(&u) == U(op, 1));
        } else if (is(op, "dsLen")) {
            assert_true(crdt_upd_dec_ds_len(&u) == U(op, 1));
        } else if (is(op, "buf")) {
            sb_buf b = SB_BUF_INIT;
            vectors_unhex(json_string_value(s), &b);
            assert_true(sb_str_eq(crdt_upd_dec_buf(&u), sb_buf_str(&b)));
            sb_buf_free(&b);
        } else {
            crdt_any want = vectors_any(s), got;
            if (is(op, "any"))
                assert_int_equal(crdt_upd_dec_any(&u, &got), 0);
            else
                assert_int_equal(crdt_upd_dec_json(&u, &got), 0);
            assert_true(crdt_any_equal(&got, &want));
            crdt_any_free(&got);
            crdt_any_free(&want);
        }
        if (crdt_upd_dec_err(&u))
            fail_msg("op %zu: %s", i, crdt_lib0_strerror(crdt_upd_dec_err(&u)));
    }
    assert_int_equal(crdt_dec_remaining(crdt_upd_dec_rest(&u)), 0);
    crdt_upd_dec_deinit(&u);
}

static void test_against_yjs(void **state)
{
    const json_t *f = json_object_get(vec, "update_fields");
    const json_t *ops = json_object_get(f, "ops");
    assert_true(json_array_size(ops) > 100);
    for (int v2 = 0; v2 <= 1; v2++) {
        const char *want = json_string_value(json_object_get(f, v2 ? "v2" : "v1"));
        sb_buf b = SB_BUF_INIT;
        encode_script(ops, v2, &b);
        vectors_expect_hex(&b, want, v2 ? "v2" : "v1");
        decode_script(ops, v2, &b);
        sb_buf_free(&b);
    }
}

static void test_v2_errors(void **state)
{
    crdt_upd_dec u;
    /* The header promises nine columns; two are there. */
    assert_int_equal(crdt_upd_dec_init(&u, "\x00\x01\x00\x00", 4, true), CRDT_LIB0_EEOF);
    assert_int_equal(crdt_upd_dec_client(&u), 0);
    assert_int_equal(crdt_upd_dec_err(&u), CRDT_LIB0_EEOF);
    crdt_upd_dec_deinit(&u);
    /* An empty string column is not even an empty string: lib0 throws. */
    const char none[10] = {0};
    assert_int_equal(crdt_upd_dec_init(&u, none, sizeof(none), true), CRDT_LIB0_EEOF);
    crdt_upd_dec_deinit(&u);
    /* Empty columns (the string column holds ""): reading past a column's
     * end fails. */
    const char empty[11] = {0, 0, 0, 0, 0, 0, 1, 0, 0, 0, 0};
    assert_int_equal(crdt_upd_dec_init(&u, empty, sizeof(empty), true), 0);
    assert_null(crdt_upd_dec_key(&u).ptr);
    assert_int_equal(crdt_upd_dec_err(&u), CRDT_LIB0_EEOF);
    crdt_upd_dec_deinit(&u);
    /* The first error stops every stream: the client column holds 5, but
     * after the key clock column ran dry nothing more is read. */
    const char one[12] = {0, 0, 1, 5, 0, 0, 0, 1, 0, 0, 0, 0};
    assert_int_equal(crdt_upd_dec_init(&u, one, sizeof(one), true), 0);
    assert_null(crdt_upd_dec_key(&u).ptr);
    assert_int_equal(crdt_upd_dec_client(&u), 0);
    assert_int_equal(crdt_upd_dec_err(&u), CRDT_LIB0_EEOF);
    crdt_upd_dec_deinit(&u);
    assert_int_equal(crdt_upd_dec_init(&u, one, sizeof(one), true), 0);
    assert_int_equal(crdt_upd_dec_client(&u), 5);
    crdt_upd_dec_deinit(&u);
    /* v1 JSON numbers are doubles, as JSON.parse makes them, even past
     * int64. */
    assert_int_equal(crdt_upd_dec_init(&u, "\x18[1,18446744073709551616]", 25, false), 0);
    crdt_any n;
    assert_int_equal(crdt_upd_dec_json(&u, &n), 0);
    assert_int_equal(n.u.arr.len, 2);
    assert_true(n.u.arr.items[0].u.num == 1.0 && n.u.arr.items[1].u.num == 18446744073709551616.0);
    crdt_any_free(&n);
    crdt_upd_dec_deinit(&u);
    /* v1 JSON that JSON.parse would reject. */
    assert_int_equal(crdt_upd_dec_init(&u, "\x03{x}", 4, false), 0);
    crdt_any v;
    assert_int_equal(crdt_upd_dec_json(&u, &v), CRDT_LIB0_EFORMAT);
    assert_int_equal(v.kind, CRDT_ANY_UNDEFINED);
    crdt_upd_dec_deinit(&u);
}

int main(void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(test_against_yjs),
        cmocka_unit_test(test_v2_errors),
    };
    return cmocka_run_group_tests(tests, vectors_setup, vectors_teardown);
}
