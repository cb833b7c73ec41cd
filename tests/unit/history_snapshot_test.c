/*
 * history_snapshot_test.c: snapshots as LZ4 frames: a round trip gives the
 * same canonical state; the frame is a standard one (decoded here with
 * liblz4's plain frame API, without our decoder) that declares its size
 * and carries a checksum; and the decoder refuses hostile bytes: every
 * truncation, every single-bit flip, trailing bytes, a frame without a
 * declared size, a declared size over the limit (before allocating it), a
 * size that lies, two frames, a skippable frame, and frames whose text is
 * not a state.
 */
#include "cmocka_prelude.h"

#include "history_fixture.h"

#include <lz4frame.h>
#include <stdio.h>
#include <stdlib.h>

#include "history/history.h"

/* A state of some size: n pages with trees, files with text. */
static json_t *sample_state(int n)
{
    json_t *s = history_state_new();
    json_object_set_new(s, "project", fixture_json("{\"name\":\"Bakery\",\"version\":3}"));
    for (int i = 0; i < n; i++) {
        char key[32];
        snprintf(key, sizeof(key), "page-%04d", i);
        json_object_set_new(json_object_get(s, "pages"), key,
                            json_pack("{s:s, s:[{s:s, s:s, s:{s:s}}], s:i}", "path", key,
                                      "components", "id", "hero", "type", "Section", "props",
                                      "text", "héllo \"world\" ✓", "version", i));
        snprintf(key, sizeof(key), "src/f%d.js", i);
        json_object_set_new(json_object_get(s, "files"), key,
                            json_pack("{s:s}", "content", "console.log(1);\n"));
    }
    return s;
}

/* Compresses text as a frame with the given preferences. */
static sb_buf frame_of(const char *text, size_t n, const LZ4F_preferences_t *prefs)
{
    sb_buf b = SB_BUF_INIT;
    size_t bound = LZ4F_compressFrameBound(n, prefs);
    sb_buf_reserve(&b, bound);
    size_t got = LZ4F_compressFrame(b.ptr, bound, text, n, prefs);
    assert_false(LZ4F_isError(got));
    b.len = got;
    return b;
}

static void test_round_trip(void **st)
{
    (void)st;
    for (int n = 0; n <= 300; n += 150) {
        json_t *s = sample_state(n);
        sb_buf f = SB_BUF_INIT;
        history_snapshot_encode(s, &f);
        json_t *back = NULL;
        assert_int_equal(history_snapshot_decode(f.ptr, f.len, HISTORY_STATE_MAX, &back),
                         HISTORY_OK);
        char *a = fixture_state_text(s), *b = fixture_state_text(back);
        assert_string_equal(a, b);
        /* Compression pays on real content. */
        if (n == 300)
            assert_true(f.len * 4 < strlen(a));
        free(a);
        free(b);
        json_decref(back);
        json_decref(s);
        sb_buf_free(&f);
    }
}

static void test_standard_frame(void **st)
{
    (void)st;
    json_t *s = sample_state(20);
    sb_buf f = SB_BUF_INIT;
    history_snapshot_encode(s, &f);
    char *text = fixture_state_text(s);
    size_t n = strlen(text);
    /* The magic number, a declared content size and checksum, read by
     * liblz4 itself. */
    assert_true(f.len > 4 && (unsigned char)f.ptr[0] == 0x04 && (unsigned char)f.ptr[1] == 0x22 &&
                (unsigned char)f.ptr[2] == 0x4D && (unsigned char)f.ptr[3] == 0x18);
    LZ4F_dctx *d;
    assert_false(LZ4F_isError(LZ4F_createDecompressionContext(&d, LZ4F_VERSION)));
    LZ4F_frameInfo_t info;
    size_t used = f.len;
    assert_false(LZ4F_isError(LZ4F_getFrameInfo(d, &info, f.ptr, &used)));
    assert_int_equal(info.contentSize, n);
    assert_int_equal(info.contentChecksumFlag, LZ4F_contentChecksumEnabled);
    char *out = malloc(n);
    size_t dst = n, src = f.len - used;
    assert_int_equal(LZ4F_decompress(d, out, &dst, f.ptr + used, &src, NULL), 0);
    assert_int_equal(dst, n);
    assert_memory_equal(out, text, n);
    LZ4F_freeDecompressionContext(d);
    free(out);
    free(text);
    sb_buf_free(&f);
    json_decref(s);
}

static void expect(const void *p, size_t n, size_t max, history_err want, const char *what)
{
    json_t *out = NULL;
    history_err got = history_snapshot_decode(p, n, max, &out);
    if (got != want)
        fail_msg("%s: got %s, want %s", what, history_strerror(got), history_strerror(want));
    if (got == HISTORY_OK)
        json_decref(out);
    else
        assert_null(out); /* untouched on failure */
}

static void test_truncations_and_flips(void **st)
{
    (void)st;
    json_t *s = sample_state(5);
    sb_buf f = SB_BUF_INIT;
    history_snapshot_encode(s, &f);
    for (size_t n = 0; n < f.len; n++)
        expect(f.ptr, n, HISTORY_STATE_MAX, HISTORY_CORRUPT, "truncated");
    /* Every bit of every byte flipped: the header checksum, the block
     * sizes or the content checksum catch it, or the text is not a
     * state; a flip must never be decoded as some other state. */
    char *want = fixture_state_text(s);
    for (size_t i = 0; i < f.len; i++) {
        for (int bit = 0; bit < 8; bit++) {
            f.ptr[i] ^= (char)(1 << bit);
            json_t *out = NULL;
            history_err r = history_snapshot_decode(f.ptr, f.len, HISTORY_STATE_MAX, &out);
            if (r == HISTORY_OK) {
                char *got = fixture_state_text(out);
                if (strcmp(got, want) != 0)
                    fail_msg("flip at %zu bit %d decoded to another state", i, bit);
                free(got);
                json_decref(out);
            }
            f.ptr[i] ^= (char)(1 << bit);
        }
    }
    free(want);
    /* Trailing bytes, and a second frame after the first. */
    sb_buf two = SB_BUF_INIT;
    sb_buf_append(&two, f.ptr, f.len);
    sb_buf_putc(&two, 0);
    expect(two.ptr, two.len, HISTORY_STATE_MAX, HISTORY_CORRUPT, "a trailing byte");
    two.len = f.len;
    sb_buf_append(&two, f.ptr, f.len);
    expect(two.ptr, two.len, HISTORY_STATE_MAX, HISTORY_CORRUPT, "two frames");
    sb_buf_free(&two);
    expect("", 0, HISTORY_STATE_MAX, HISTORY_CORRUPT, "nothing");
    expect(NULL, 0, HISTORY_STATE_MAX, HISTORY_CORRUPT, "NULL");
    expect("{\"pages\":{}}", 12, HISTORY_STATE_MAX, HISTORY_CORRUPT, "plain JSON");
    sb_buf_free(&f);
    json_decref(s);
}

static void test_sizes(void **st)
{
    (void)st;
    json_t *s = sample_state(3);
    char *text = fixture_state_text(s);
    size_t n = strlen(text);
    LZ4F_preferences_t prefs;
    memset(&prefs, 0, sizeof(prefs));
    /* No declared size: refused (the decoder must size its buffer first). */
    sb_buf f = frame_of(text, n, &prefs);
    expect(f.ptr, f.len, HISTORY_STATE_MAX, HISTORY_CORRUPT, "no content size");
    sb_buf_free(&f);
    /* Declared, and one byte over the limit: TOO_LARGE; at the limit: OK. */
    prefs.frameInfo.contentSize = n;
    f = frame_of(text, n, &prefs);
    expect(f.ptr, f.len, n - 1, HISTORY_TOO_LARGE, "over the limit");
    expect(f.ptr, f.len, n, HISTORY_OK, "at the limit");
    sb_buf_free(&f);
    /* A header claiming 2^60 bytes, with a checksum that does not match
     * it: refused, never allocated. */
    static const unsigned char huge[] = {
        0x04, 0x22, 0x4D, 0x18, /* magic */
        0x68,                   /* version 01, independent blocks, content size present */
        0x40,                   /* 64 KB blocks */
        0,    0,    0,    0,    0, 0, 0, 0x10, /* content size 2^60 */
        0x00, /* header checksum (wrong: checked or not, refused) */
    };
    expect(huge, sizeof(huge), HISTORY_STATE_MAX, HISTORY_CORRUPT, "huge size, bad checksum");
    free(text);
    json_decref(s);
}

static void test_not_a_state(void **st)
{
    (void)st;
    static const char *const texts[] = {
        "[]",
        "{\"pages\":{}}",
        "{\"assets\":{},\"comments\":{},\"files\":{},\"members\":{},\"pages\":{},"
        "\"project\":null,\"project\":null}",
        "{\"assets\":{},\"comments\":{},\"files\":{},\"members\":{},\"pages\":{},\"project\":null",
        "not json",
    };
    LZ4F_preferences_t prefs;
    memset(&prefs, 0, sizeof(prefs));
    for (size_t i = 0; i < SB_ARRAY_LEN(texts); i++) {
        size_t n = strlen(texts[i]);
        prefs.frameInfo.contentSize = n;
        sb_buf f = frame_of(texts[i], n, &prefs);
        expect(f.ptr, f.len, HISTORY_STATE_MAX, HISTORY_CORRUPT, texts[i]);
        sb_buf_free(&f);
    }
    /* And the empty state, written by hand, is one. */
    const char *ok = "{\"assets\":{},\"comments\":{},\"files\":{},\"members\":{},\"pages\":{},"
                     "\"project\":null}";
    prefs.frameInfo.contentSize = strlen(ok);
    sb_buf f = frame_of(ok, strlen(ok), &prefs);
    expect(f.ptr, f.len, HISTORY_STATE_MAX, HISTORY_OK, "the empty state");
    sb_buf_free(&f);
}

int main(void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(test_round_trip),
        cmocka_unit_test(test_standard_frame),
        cmocka_unit_test(test_truncations_and_flips),
        cmocka_unit_test(test_sizes),
        cmocka_unit_test(test_not_a_state),
    };
    return cmocka_run_group_tests(tests, NULL, NULL);
}
