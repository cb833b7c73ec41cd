/* crdt_update_convert_test.c: v1 <-> v2 conversion of whole updates from
 * Yjs documents with every kind of content (tests/crdt/lib0_vectors.json,
 * "updates") must give Y.convertUpdateFormatV1ToV2/V2ToV1's bytes; and
 * damaged or oversized updates are refused with out untouched. */
#include "cmocka_prelude.h"

#include "crdt/update_convert.h"
#include "crdt_vectors.h"

#define STR(v, key) json_string_value(json_object_get((v), (key)))

static void expect_convert(const json_t *v, const char *from, bool from_v2, bool to_v2,
                           const char *want)
{
    sb_buf in = SB_BUF_INIT, out = SB_BUF_INIT;
    vectors_unhex(STR(v, from), &in);
    int err = crdt_update_convert(in.ptr, in.len, from_v2, to_v2, 0, &out);
    if (err)
        fail_msg("%s, %s: %s", STR(v, "name"), from, crdt_lib0_strerror(err));
    char what[160];
    snprintf(what, sizeof(what), "%s, %s to %s", STR(v, "name"), from, to_v2 ? "v2" : "v1");
    vectors_expect_hex(&out, STR(v, want), what);
    sb_buf_free(&in);
    sb_buf_free(&out);
}

static void test_against_yjs(void **state)
{
    EACH("updates", v)
    {
        expect_convert(v, "v1", false, true, "v1tov2");
        expect_convert(v, "v2", true, false, "v2tov1");
        /* Converting Yjs's conversion again changes nothing. */
        expect_convert(v, "v1tov2", true, true, "v1tov2");
        expect_convert(v, "v2tov1", false, false, "v2tov1");
    }
}

static void test_refused(void **state)
{
    const json_t *v = json_array_get(json_object_get(vec, "updates"), 0);
    sb_buf in = SB_BUF_INIT, out = SB_BUF_INIT;
    sb_buf_puts(&out, "kept");
    for (int v2 = 0; v2 <= 1; v2++) {
        vectors_unhex(STR(v, v2 ? "v2" : "v1"), &in);
        /* Every truncation fails, and leaves out as it was. */
        for (size_t cut = 0; cut < in.len; cut++)
            assert_int_not_equal(crdt_update_convert(in.ptr, cut, v2, !v2, 0, &out), 0);
        /* A byte too many. */
        sb_buf_putc(&in, 0);
        assert_int_equal(crdt_update_convert(in.ptr, in.len, v2, !v2, 0, &out), CRDT_LIB0_EFORMAT);
        /* The struct cap. */
        assert_int_equal(crdt_update_convert(in.ptr, in.len - 1, v2, !v2, 3, &out),
                         CRDT_LIB0_ELIMIT);
    }
    assert_int_equal(out.len, 4);
    /* An unknown content ref (11) in v1: one client, one struct at 0 in
     * root type "t". */
    assert_int_equal(crdt_update_convert("\x01\x01\x05\x00\x0b\x01\x01t", 8, false, true, 0, &out),
                     CRDT_LIB0_EFORMAT);
    /* v2 cannot code a delete range before the previous one. */
    assert_int_equal(
        crdt_update_convert("\x00\x01\x05\x02\x0a\x01\x02\x01", 8, false, true, 0, &out),
        CRDT_LIB0_EFORMAT);
    assert_int_equal(
        crdt_update_convert("\x00\x01\x05\x02\x0a\x01\x0c\x01", 8, false, true, 0, &out), 0);
    sb_buf_free(&in);
    sb_buf_free(&out);
}

/* A v2 update: one embed in root text "t" of client 5, embed value v. */
static void v2_embed(crdt_any v, sb_buf *out)
{
    crdt_upd_enc e;
    crdt_upd_enc_init(&e, true);
    crdt_enc_var_uint(crdt_upd_enc_rest(&e), 1); /* clients */
    crdt_enc_var_uint(crdt_upd_enc_rest(&e), 1); /* structs */
    crdt_upd_enc_client(&e, 5);
    crdt_enc_var_uint(crdt_upd_enc_rest(&e), 0); /* first clock */
    crdt_upd_enc_info(&e, 5);
    crdt_upd_enc_parent_info(&e, true);
    crdt_upd_enc_string(&e, "t", 1);
    crdt_upd_enc_json(&e, &v);
    crdt_enc_var_uint(crdt_upd_enc_rest(&e), 0); /* delete set */
    crdt_upd_enc_finish(&e, out);
    crdt_upd_enc_deinit(&e);
    crdt_any_free(&v);
}

static void test_not_v1_json(void **state)
{
    sb_buf in = SB_BUF_INIT, out = SB_BUF_INIT;
    crdt_any o = crdt_any_object();
    crdt_any_object_set(&o, "n", 1, crdt_any_bigint(7));
    v2_embed(o, &in);
    assert_int_equal(crdt_update_convert(in.ptr, in.len, true, true, 0, &out), 0);
    sb_buf_reset(&out);
    /* JSON.stringify throws on a bigint: no v1 for this. */
    assert_int_equal(crdt_update_convert(in.ptr, in.len, true, false, 0, &out), CRDT_LIB0_EFORMAT);
    assert_int_equal(out.len, 0);
    sb_buf_reset(&in);
    o = crdt_any_object();
    crdt_any_object_set(&o, "n", 1, crdt_any_number(7));
    v2_embed(o, &in);
    assert_int_equal(crdt_update_convert(in.ptr, in.len, true, false, 0, &out), 0);
    sb_buf_free(&in);
    sb_buf_free(&out);
}

int main(void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(test_against_yjs),
        cmocka_unit_test(test_refused),
        cmocka_unit_test(test_not_v1_json),
    };
    return cmocka_run_group_tests(tests, vectors_setup, vectors_teardown);
}
