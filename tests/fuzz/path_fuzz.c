/*
 * path_fuzz.c: libFuzzer target for project file paths. The input bytes
 * are the path. Beyond "no crash, no UB" it checks normalisation's
 * promises:
 *   - on success the output is NUL-terminated at *out_len, at most 512
 *     bytes, valid UTF-8, without NUL, control bytes or '\\', without a
 *     leading or trailing '/', "//", or a "." or ".." segment, and every
 *     segment has 1 to 255 bytes;
 *   - its segments are exactly the input's segments other than "" and
 *     ".", in order (nothing else changes);
 *   - normalising it again gives it back unchanged;
 *   - nothing is written past the NUL; on failure nothing at all;
 *   - the extension tables answer for any bytes, and only .html/.htm
 *     paths get text/html.
 */
#include <assert.h>
#include <string.h>

#include "base/utf8.h"
#include "projects/path.h"

/* The next segment of s at *pos, as path.c splits: up to '/' or the end. */
static sb_str segment(sb_str s, size_t *pos)
{
    size_t start = *pos, end = start;
    while (end < s.len && s.ptr[end] != '/')
        end++;
    *pos = end + 1;
    return sb_str_make(s.ptr + start, end - start);
}

static bool ends_with_nocase(sb_str s, const char *suffix)
{
    size_t n = strlen(suffix);
    return s.len >= n && sb_str_eq_nocase(sb_str_make(s.ptr + s.len - n, n), sb_str_c(suffix));
}

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
    sb_str in = sb_str_make((const char *)data, size);
    char out[PROJECTS_PATH_OUT_CAP + 1];
    size_t len = 7777;
    memset(out, 0x5a, sizeof(out));
    projects_path_err e = projects_path_normalize(in, out, PROJECTS_PATH_OUT_CAP, &len);
    assert(strlen(projects_path_strerror(e)) > 0);

    const char *ct = projects_path_content_type(in);
    const char *lang = projects_path_language(in);
    assert(ct && lang);
    if (strncmp(ct, "text/html", 9) == 0) {
        size_t slash = in.len;
        while (slash > 0 && in.ptr[slash - 1] != '/')
            slash--;
        sb_str last = sb_str_make(in.ptr + slash, in.len - slash);
        assert(ends_with_nocase(last, ".html") || ends_with_nocase(last, ".htm"));
    }

    if (e != PROJECTS_PATH_OK) {
        assert(len == 7777);
        for (size_t i = 0; i < sizeof(out); i++)
            assert(out[i] == 0x5a);
        return 0;
    }
    assert(len > 0 && len <= PROJECTS_PATH_MAX);
    assert(out[len] == '\0');
    for (size_t i = len + 1; i < sizeof(out); i++)
        assert(out[i] == 0x5a); /* nothing written past the NUL */
    assert(sb_utf8_valid(out, len, NULL));
    for (size_t i = 0; i < len; i++) {
        unsigned char c = (unsigned char)out[i];
        assert(c >= 0x20 && c != 0x7f && c != '\\');
    }
    assert(out[0] != '/' && out[len - 1] != '/');
    assert(memmem(out, len, "//", 2) == NULL);

    /* Segment by segment against the input's kept segments. */
    sb_str norm = sb_str_make(out, len);
    size_t ip = 0, op = 0;
    for (;;) {
        sb_str kept = SB_STR_NULL;
        while (ip <= in.len) {
            sb_str s = segment(in, &ip);
            if (s.len > 0 && !(s.len == 1 && s.ptr[0] == '.')) {
                kept = s;
                break;
            }
        }
        if (op > norm.len) {
            assert(kept.ptr == NULL);
            break;
        }
        sb_str o = segment(norm, &op);
        assert(o.len >= 1 && o.len <= PROJECTS_SEGMENT_MAX);
        assert(!(o.len == 1 && o.ptr[0] == '.'));
        assert(!(o.len == 2 && o.ptr[0] == '.' && o.ptr[1] == '.'));
        assert(kept.ptr != NULL && sb_str_eq(kept, o));
    }

    /* Idempotent. */
    char again[PROJECTS_PATH_OUT_CAP];
    size_t len2;
    assert(projects_path_normalize(norm, again, sizeof(again), &len2) == PROJECTS_PATH_OK);
    assert(len2 == len && memcmp(again, out, len + 1) == 0);
    /* The last segment is kept, so the tables answer the same. */
    assert(strcmp(projects_path_language(norm), lang) == 0);
    assert(strcmp(projects_path_content_type(norm), ct) == 0);
    return 0;
}
