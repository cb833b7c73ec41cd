/* crdt_merge_test.c: the document-free update operations (update_ops.h)
 * against the real Yjs: every merge, diff, state vector and meta in
 * tests/crdt/merge_vectors.json (see tests/crdt/merge_vectors.mjs) must
 * come out byte for byte as Yjs's, in v1 and v2; merging or diffing a
 * merge again changes nothing; and damaged, oversized or hostile updates
 * are refused with the output untouched. */
#include "cmocka_prelude.h"

#include "crdt/update_ops.h"
#include "crdt_vectors.h"

#define STR(v, key) json_string_value(json_object_get((v), (key)))

static size_t counted[4]; /* merges, diffs, state vectors, metas checked */

static int merge_setup(void **state)
{
    const char *src = getenv("SITEBASE_SOURCE_DIR");
    char path[1024];
    snprintf(path, sizeof(path), "%s/tests/crdt/merge_vectors.json", src ? src : ".");
    json_error_t err;
    vec = json_load_file(path, 0, &err);
    if (!vec)
        fail_msg("cannot load %s: %s", path, err.text);
    return 0;
}

/* Each update of a JSON array of hex strings, as views into bufs. */
static size_t load_updates(const json_t *arr, sb_buf *bufs, sb_str *views)
{
    size_t i;
    const json_t *h;
    json_array_foreach(arr, i, h)
    {
        bufs[i] = SB_BUF_INIT;
        vectors_unhex(json_string_value(h), &bufs[i]);
        views[i] = sb_buf_str(&bufs[i]);
    }
    return json_array_size(arr);
}

static void expect(int err, const sb_buf *out, const char *want, const char *what)
{
    if (err)
        fail_msg("%s: %s", what, crdt_lib0_strerror(err));
    char got[out->len * 2 + 1];
    sb_hex_encode(out->ptr, out->len, got);
    if (strcmp(got, want) != 0)
        fail_msg("%s: got\n%s\nYjs wrote\n%s", what, got, want);
}

static void test_merge(void **state)
{
    EACH("cases", c)
    {
        size_t k;
        const json_t *m;
        json_array_foreach(json_object_get(c, "merges"), k, m)
        {
            for (int v2 = 0; v2 <= 1; v2++) {
                const json_t *in = json_object_get(m, v2 ? "in2" : "in");
                size_t n = json_array_size(in);
                sb_buf *bufs = calloc(n + 1, sizeof(sb_buf));
                sb_str *views = calloc(n + 1, sizeof(sb_str));
                load_updates(in, bufs, views);
                sb_buf out = SB_BUF_INIT;
                char what[200];
                snprintf(what, sizeof(what), "%s, merge %zu of %zu, %s", STR(c, "name"), k, n,
                         v2 ? "v2" : "v1");
                expect(crdt_update_merge(views, n, v2, NULL, &out), &out,
                       STR(m, v2 ? "out2" : "out"), what);
                counted[0]++;
                /* Stable: with an empty update, and diffed against nothing
                 * (not a lone update: Yjs returns it as it is, with 0x20
                 * flags that any re-encoding drops; nor the crafted ones,
                 * whose cut map items get such a flag). */
                sb_buf again = SB_BUF_INIT, empty = SB_BUF_INIT;
                assert_int_equal(crdt_update_merge(NULL, 0, v2, NULL, &empty), 0);
                sb_str two[2] = {sb_buf_str(&out), sb_buf_str(&empty)};
                if (n > 1 && strcmp(STR(c, "name"), "crafted") != 0) {
                    expect(crdt_update_merge(two, 2, v2, NULL, &again), &again,
                           STR(m, v2 ? "out2" : "out"), what);
                    sb_buf_reset(&again);
                    expect(crdt_update_diff(out.ptr, out.len, "\x00", 1, v2, NULL, &again), &again,
                           STR(m, v2 ? "out2" : "out"), what);
                }
                sb_buf_free(&again);
                sb_buf_free(&empty);
                sb_buf_free(&out);
                for (size_t i = 0; i < n; i++)
                    sb_buf_free(&bufs[i]);
                free(bufs);
                free(views);
            }
        }
    }
}

static void test_diff(void **state)
{
    EACH("cases", c)
    {
        size_t k;
        const json_t *d;
        json_array_foreach(json_object_get(c, "diffs"), k, d)
        {
            sb_buf sv = SB_BUF_INIT, in = SB_BUF_INIT, out = SB_BUF_INIT;
            vectors_unhex(STR(d, "sv"), &sv);
            for (int v2 = 0; v2 <= 1; v2++) {
                vectors_unhex(STR(d, v2 ? "in2" : "in"), &in);
                sb_buf_reset(&out);
                char what[200];
                snprintf(what, sizeof(what), "%s, diff %zu, %s", STR(c, "name"), k,
                         v2 ? "v2" : "v1");
                expect(crdt_update_diff(in.ptr, in.len, sv.ptr, sv.len, v2, NULL, &out), &out,
                       STR(d, v2 ? "out2" : "out"), what);
                counted[1]++;
            }
            sb_buf_free(&sv);
            sb_buf_free(&in);
            sb_buf_free(&out);
        }
    }
}

static void expect_clocks(const crdt_update_clock *got, size_t n, const json_t *want,
                          const char *what)
{
    if (n != json_array_size(want))
        fail_msg("%s: %zu clients, Yjs %zu", what, n, json_array_size(want));
    for (size_t i = 0; i < n; i++) {
        const json_t *p = json_array_get(want, i);
        if (got[i].client != (uint64_t)json_integer_value(json_array_get(p, 0)) ||
            got[i].clock != (uint64_t)json_integer_value(json_array_get(p, 1)))
            fail_msg("%s: entry %zu differs", what, i);
    }
}

static void test_state_vector_and_meta(void **state)
{
    EACH("cases", c)
    {
        size_t k;
        const json_t *s;
        json_array_foreach(json_object_get(c, "svs"), k, s)
        {
            sb_buf in = SB_BUF_INIT, out = SB_BUF_INIT;
            for (int v2 = 0; v2 <= 1; v2++) {
                vectors_unhex(STR(s, v2 ? "in2" : "in"), &in);
                sb_buf_reset(&out);
                char what[200];
                snprintf(what, sizeof(what), "%s, sv %zu, %s", STR(c, "name"), k, v2 ? "v2" : "v1");
                expect(crdt_update_state_vector(in.ptr, in.len, v2, NULL, &out), &out,
                       STR(s, v2 ? "sv2" : "sv"), what);
                counted[2]++;
                crdt_update_meta meta;
                assert_int_equal(crdt_update_parse_meta(in.ptr, in.len, v2, NULL, &meta), 0);
                expect_clocks(meta.from, meta.n, json_object_get(s, "from"), what);
                expect_clocks(meta.to, meta.n, json_object_get(s, "to"), what);
                crdt_update_meta_free(&meta);
                counted[3]++;
            }
            sb_buf_free(&in);
            sb_buf_free(&out);
        }
    }
    print_message("checked against Yjs: %zu merges, %zu diffs, %zu state vectors, %zu metas\n",
                  counted[0], counted[1], counted[2], counted[3]);
}

/* The inputs of the biggest merge of the first case. */
static size_t big_merge(int v2, sb_buf *bufs, sb_str *views, size_t max)
{
    const json_t *merges =
        json_object_get(json_array_get(json_object_get(vec, "cases"), 0), "merges");
    const json_t *m = json_array_get(merges, json_array_size(merges) - 1);
    const json_t *in = json_object_get(m, v2 ? "in2" : "in");
    assert_true(json_array_size(in) <= max);
    return load_updates(in, bufs, views);
}

static void test_refused(void **state)
{
    sb_buf bufs[256], out = SB_BUF_INIT;
    sb_str views[256];
    sb_buf_puts(&out, "kept");
    for (int v2 = 0; v2 <= 1; v2++) {
        size_t n = big_merge(v2, bufs, views, 256);
        assert_true(n >= 2);
        sb_str one = views[n - 1];
        /* Every truncation of an input fails, and leaves out as it was. */
        for (size_t cut = 0; cut < one.len; cut++) {
            views[n - 1].len = cut;
            assert_int_not_equal(crdt_update_merge(views, n, v2, NULL, &out), 0);
            assert_int_not_equal(crdt_update_merge(views + n - 1, 1, v2, NULL, &out), 0);
            assert_int_not_equal(crdt_update_diff(one.ptr, cut, "\x00", 1, v2, NULL, &out), 0);
            assert_int_not_equal(crdt_update_state_vector(one.ptr, cut, v2, NULL, &out), 0);
        }
        views[n - 1] = one;
        /* A byte too many. */
        sb_buf_putc(&bufs[0], 0);
        views[0] = sb_buf_str(&bufs[0]);
        assert_int_equal(crdt_update_merge(views, n, v2, NULL, &out), CRDT_LIB0_EFORMAT);
        bufs[0].len--;
        views[0] = sb_buf_str(&bufs[0]);
        /* The caps. */
        crdt_update_limits few = {.max_items = 3}, small = {.max_out = 8};
        assert_int_equal(crdt_update_merge(views, n, v2, &few, &out), CRDT_LIB0_ELIMIT);
        assert_int_equal(crdt_update_merge(views, n, v2, &small, &out), CRDT_LIB0_ELIMIT);
        sb_buf all = SB_BUF_INIT;
        assert_int_equal(crdt_update_merge(views, n, v2, NULL, &all), 0);
        assert_int_equal(crdt_update_diff(all.ptr, all.len, "\x00", 1, v2, &few, &out),
                         CRDT_LIB0_ELIMIT);
        assert_int_equal(crdt_update_diff(all.ptr, all.len, "\x00", 1, v2, &small, &out),
                         CRDT_LIB0_ELIMIT);
        assert_int_equal(crdt_update_state_vector(all.ptr, all.len, v2, &few, &out),
                         CRDT_LIB0_ELIMIT);
        sb_buf_free(&all);
        /* A damaged state vector. */
        assert_int_equal(
            crdt_update_diff(views[0].ptr, views[0].len, "\x05\x01", 2, v2, NULL, &out),
            CRDT_LIB0_ELIMIT);
        assert_int_equal(
            crdt_update_diff(views[0].ptr, views[0].len, "\x00\x00", 2, v2, NULL, &out),
            CRDT_LIB0_EFORMAT);
        for (size_t i = 0; i < n; i++)
            sb_buf_free(&bufs[i]);
    }
    assert_int_equal(out.len, 4);
    sb_buf_free(&out);
}

static void test_hostile(void **state)
{
    sb_buf out = SB_BUF_INIT;
    /* v1: one client (5) with 2^20 GC structs claimed, two bytes each:
     * the input runs out long before. */
    assert_int_equal(crdt_update_merge((sb_str[]){{"\x01\x80\x80\x40\x05\x00\x00\x01", 8}}, 1,
                                       false, NULL, &out),
                     CRDT_LIB0_EEOF);
    /* v2: a run of 2^40 GC structs costs a few bytes; the cap stops it. */
    crdt_upd_enc e;
    crdt_upd_enc_init(&e, true);
    crdt_enc_var_uint(crdt_upd_enc_rest(&e), 1);
    crdt_enc_var_uint(crdt_upd_enc_rest(&e), (uint64_t)1 << 40);
    crdt_upd_enc_client(&e, 5);
    crdt_enc_var_uint(crdt_upd_enc_rest(&e), 0);
    crdt_upd_enc_info(&e, 0);
    crdt_upd_enc_len(&e, 1);
    crdt_enc_var_uint(crdt_upd_enc_rest(&e), 0);
    sb_buf u = SB_BUF_INIT;
    crdt_upd_enc_finish(&e, &u);
    crdt_upd_enc_deinit(&e);
    assert_true(u.len < 40);
    crdt_update_limits lim = {.max_items = 1000};
    sb_str two[2] = {sb_buf_str(&u), sb_buf_str(&u)};
    assert_int_equal(crdt_update_merge(two, 2, true, &lim, &out), CRDT_LIB0_ELIMIT);
    assert_int_equal(crdt_update_diff(u.ptr, u.len, "\x00", 1, true, &lim, &out), CRDT_LIB0_ELIMIT);
    assert_int_equal(crdt_update_state_vector(u.ptr, u.len, true, &lim, &out), CRDT_LIB0_ELIMIT);
    /* Clocks past 2^53 in v1. */
    assert_int_not_equal(
        crdt_update_merge(
            (sb_str[]){{"\x01\x01\x05\xfe\xff\xff\xff\xff\xff\xff\x0f\x00\x05\x00", 14},
                       {"\x00\x00", 2}},
            2, false, NULL, &out),
        0);
    /* Empty structs (GC 0, empty string), which Yjs never writes, are
     * refused. Client 5: GC(0) at 0, GC 2; the other: "" at 0 in "t". */
    sb_str z[2] = {{"\x01\x02\x05\x00\x00\x00\x00\x02\x00", 9},
                   {"\x01\x01\x05\x00\x04\x01\x01t\x00\x00", 10}};
    assert_int_equal(crdt_update_merge(z, 2, false, NULL, &out), CRDT_LIB0_EFORMAT);
    assert_int_equal(crdt_update_merge(z + 1, 1, false, NULL, &out), CRDT_LIB0_EFORMAT);
    sb_str ok[1] = {{"\x01\x01\x05\x00\x00\x02\x00", 7}};
    /* Unknown content refs, a bad Skip and a type ref past 6 are refused. */
    assert_int_equal(crdt_update_merge((sb_str[]){{"\x01\x01\x05\x00\x0b\x01\x01t\x00", 9}}, 1,
                                       false, NULL, &out),
                     CRDT_LIB0_EFORMAT);
    assert_int_equal(crdt_update_merge((sb_str[]){{"\x01\x01\x05\x00\x07\x01\x01t\x09\x00", 10}}, 1,
                                       false, NULL, &out),
                     CRDT_LIB0_EFORMAT);
    /* A lone update comes back as it is. */
    sb_buf_reset(&out);
    assert_int_equal(crdt_update_merge(ok, 1, false, NULL, &out), 0);
    assert_int_equal(out.len, 7);
    sb_buf_free(&u);
    sb_buf_free(&out);
}

static void test_cut_surrogate(void **state)
{
    /* "x😀y" of client 1 at 0 in root text "t"; cut after "x😀"'s first
     * half: the rest starts with U+FFFD, as Yjs's str.slice + TextEncoder. */
    const char upd[] = "\x01\x01\x01\x00\x04\x01\x01t\x06x\xf0\x9f\x98\x80y\x00";
    sb_buf out = SB_BUF_INIT;
    assert_int_equal(crdt_update_diff(upd, sizeof(upd) - 1, "\x01\x01\x02", 3, false, NULL, &out),
                     0);
    sb_buf want = SB_BUF_INIT;
    vectors_unhex("01010102840101"
                  "04efbfbd79"
                  "00",
                  &want);
    assert_int_equal(out.len, want.len);
    assert_memory_equal(out.ptr, want.ptr, want.len);
    sb_buf_free(&want);
    sb_buf_free(&out);
}

int main(void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(test_merge),
        cmocka_unit_test(test_diff),
        cmocka_unit_test(test_state_vector_and_meta),
        cmocka_unit_test(test_refused),
        cmocka_unit_test(test_hostile),
        cmocka_unit_test(test_cut_surrogate),
    };
    return cmocka_run_group_tests(tests, merge_setup, vectors_teardown);
}
