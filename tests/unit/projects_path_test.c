/*
 * projects_path_test.c: project file paths: what normalisation keeps, drops
 * and refuses (every error, traversal attempts, the length limits at their
 * edges, which error wins), that it is idempotent and leaves its outputs
 * alone on failure, and the extension tables.
 */
#include "cmocka_prelude.h"

#include <stdio.h>

#include "projects/path.h"

/* Normalises in[0..n) and checks the result. */
static void check_n(const char *in, size_t n, projects_path_err want_err, const char *want)
{
    char out[PROJECTS_PATH_OUT_CAP];
    size_t len = 12345;
    memset(out, 'Z', sizeof(out));
    projects_path_err e = projects_path_normalize(sb_str_make(in, n), out, sizeof(out), &len);
    if (e != want_err)
        fail_msg("\"%.*s\": got %s, want %s", (int)n, in, projects_path_strerror(e),
                 projects_path_strerror(want_err));
    if (e != PROJECTS_PATH_OK) {
        /* Outputs untouched. */
        assert_int_equal(len, 12345);
        for (size_t i = 0; i < sizeof(out); i++)
            assert_int_equal(out[i], 'Z');
        return;
    }
    assert_string_equal(out, want);
    assert_int_equal(len, strlen(want));
    /* Idempotent. */
    char again[PROJECTS_PATH_OUT_CAP];
    size_t len2;
    assert_int_equal(projects_path_normalize(sb_str_make(out, len), again, sizeof(again), &len2),
                     PROJECTS_PATH_OK);
    assert_int_equal(len2, len);
    assert_string_equal(again, out);
}

static void check(const char *in, projects_path_err want_err, const char *want)
{
    check_n(in, strlen(in), want_err, want);
}

static void ok(const char *in, const char *want)
{
    check(in, PROJECTS_PATH_OK, want);
}

static void bad(const char *in, projects_path_err e)
{
    check(in, e, NULL);
}

static void test_normal_paths(void **state)
{
    ok("src/app.js", "src/app.js");
    ok("styles/main.css", "styles/main.css");
    ok("index.html", "index.html");
    ok("a/b/c/d/e.txt", "a/b/c/d/e.txt");
    /* Case is kept: paths are case-sensitive. */
    ok("Src/App.JS", "Src/App.JS");
    ok("my file (1).txt", "my file (1).txt");
    ok("caf\xc3\xa9/\xe6\x97\xa5\xe6\x9c\xac.md", "caf\xc3\xa9/\xe6\x97\xa5\xe6\x9c\xac.md");
    ok("emoji/\xf0\x9f\x98\x80.svg", "emoji/\xf0\x9f\x98\x80.svg");
}

static void test_collapses_and_drops(void **state)
{
    ok("src//./a.js", "src/a.js");
    ok("./a", "a");
    ok("././a", "a");
    ok("a/./b", "a/b");
    ok("a///b", "a/b");
    ok("a/.//./b/c", "a/b/c");
    ok(".//a", "a");
}

static void test_dotfiles_and_dot_names(void **state)
{
    ok(".env", ".env");
    ok("a/.gitignore", "a/.gitignore");
    ok(".config/x.json", ".config/x.json");
    ok("...", "...");
    ok("a/.../b", "a/.../b");
    ok("..a", "..a");
    ok("a..", "a..");
    ok("a/..b/c", "a/..b/c");
    ok(". /x", ". /x");
    /* No URL decoding here: the router decodes before. */
    ok("%2e%2e/x", "%2e%2e/x");
    ok("a/%2E%2E", "a/%2E%2E");
}

static void test_traversal(void **state)
{
    bad("..", PROJECTS_PATH_DOT_DOT);
    bad("../x", PROJECTS_PATH_DOT_DOT);
    bad("a/..", PROJECTS_PATH_DOT_DOT);
    bad("a/../b", PROJECTS_PATH_DOT_DOT); /* even when it would stay inside */
    bad("a/../../x", PROJECTS_PATH_DOT_DOT);
    bad("./../x", PROJECTS_PATH_DOT_DOT);
    bad("a//../x", PROJECTS_PATH_DOT_DOT);
    bad("../", PROJECTS_PATH_DOT_DOT);
    bad("/etc/passwd", PROJECTS_PATH_ABSOLUTE);
    bad("/", PROJECTS_PATH_ABSOLUTE);
    bad("//a", PROJECTS_PATH_ABSOLUTE);
    bad("/../a", PROJECTS_PATH_ABSOLUTE);
    bad("..\\x", PROJECTS_PATH_BACKSLASH);
    bad("a\\b", PROJECTS_PATH_BACKSLASH);
    bad("C:\\x", PROJECTS_PATH_BACKSLASH);
}

static void test_bytes(void **state)
{
    check_n("", 0, PROJECTS_PATH_EMPTY, NULL);
    check_n(NULL, 0, PROJECTS_PATH_EMPTY, NULL);
    check_n("a\0b", 3, PROJECTS_PATH_NUL, NULL);
    check_n("\0", 1, PROJECTS_PATH_NUL, NULL);
    bad("a\tb", PROJECTS_PATH_CONTROL);
    bad("a\nb", PROJECTS_PATH_CONTROL);
    bad("a\rb", PROJECTS_PATH_CONTROL);
    bad("\x01", PROJECTS_PATH_CONTROL);
    bad("\x1f", PROJECTS_PATH_CONTROL);
    bad("a\x7f", PROJECTS_PATH_CONTROL);
    bad("\xff", PROJECTS_PATH_BAD_UTF8);
    bad("a\xc3", PROJECTS_PATH_BAD_UTF8);
    bad("\xc0\xaf", PROJECTS_PATH_BAD_UTF8);           /* overlong '/' */
    bad("\xc0\xae\xc0\xae/x", PROJECTS_PATH_BAD_UTF8); /* overlong ".." */
    bad("\xed\xa0\x80", PROJECTS_PATH_BAD_UTF8);       /* a surrogate */
    bad("\xf4\x90\x80\x80", PROJECTS_PATH_BAD_UTF8);   /* past U+10FFFF */
    /* U+0085 and U+2028 are not ASCII control bytes. */
    ok("a\xc2\x85z", "a\xc2\x85z");
    ok("a\xe2\x80\xa8z", "a\xe2\x80\xa8z");
}

static void test_directories(void **state)
{
    bad("a/", PROJECTS_PATH_TRAILING_SLASH);
    bad("a//", PROJECTS_PATH_TRAILING_SLASH);
    bad("src/", PROJECTS_PATH_TRAILING_SLASH);
    bad("a/.", PROJECTS_PATH_TRAILING_SLASH);
    bad("a/./", PROJECTS_PATH_TRAILING_SLASH);
    bad(".", PROJECTS_PATH_TRAILING_SLASH);
    bad("./", PROJECTS_PATH_TRAILING_SLASH);
    bad("./.", PROJECTS_PATH_TRAILING_SLASH);
}

static void test_lengths(void **state)
{
    char seg[300], in[2048];
    memset(seg, 'a', sizeof(seg));

    /* One segment of 255 bytes passes, 256 fails. */
    snprintf(in, sizeof(in), "d/%.*s", 255, seg);
    check(in, PROJECTS_PATH_OK, in);
    snprintf(in, sizeof(in), "d/%.*s/x", 256, seg);
    bad(in, PROJECTS_PATH_SEGMENT_TOO_LONG);

    /* 255 + 1 + 254 + 1 + 1 = 512 bytes pass; one more fails. */
    snprintf(in, sizeof(in), "%.*s/%.*s/x", 255, seg, 254, seg);
    assert_int_equal(strlen(in), 512);
    check(in, PROJECTS_PATH_OK, in);
    snprintf(in, sizeof(in), "%.*s/%.*s/x", 255, seg, 255, seg);
    bad(in, PROJECTS_PATH_TOO_LONG);

    /* The limit applies after normalisation. */
    char want[600];
    snprintf(want, sizeof(want), "%.*s/%.*s/x", 255, seg, 254, seg);
    snprintf(in, sizeof(in), "./%.*s//././%.*s///x", 255, seg, 254, seg);
    check(in, PROJECTS_PATH_OK, want);
    size_t n = 0;
    in[n++] = 'a';
    for (int i = 0; i < 1000; i++)
        in[n++] = '/';
    in[n++] = 'b';
    in[n] = '\0';
    check(in, PROJECTS_PATH_OK, "a/b");
    n = 0;
    for (int i = 0; i < 600; i++) {
        in[n++] = '.';
        in[n++] = '/';
    }
    in[n++] = 'z';
    in[n] = '\0';
    check(in, PROJECTS_PATH_OK, "z");
}

static void test_which_error_wins(void **state)
{
    /* Byte errors first, in the order they appear. */
    check_n("a\\b\0", 4, PROJECTS_PATH_BACKSLASH, NULL);
    check_n("a\0\\b", 4, PROJECTS_PATH_NUL, NULL);
    bad("../\x01", PROJECTS_PATH_CONTROL);
    bad("/\xff", PROJECTS_PATH_BAD_UTF8);
    /* Then leading '/', '..', long segments, directories, total length. */
    bad("/a/../", PROJECTS_PATH_ABSOLUTE);
    char seg[300], in[1200];
    memset(seg, 'a', sizeof(seg));
    snprintf(in, sizeof(in), "%.*s/../", 256, seg);
    bad(in, PROJECTS_PATH_DOT_DOT);
    snprintf(in, sizeof(in), "%.*s/", 256, seg);
    bad(in, PROJECTS_PATH_SEGMENT_TOO_LONG);
    snprintf(in, sizeof(in), "%.*s/%.*s/%.*s/", 255, seg, 255, seg, 255, seg);
    bad(in, PROJECTS_PATH_TRAILING_SLASH);
}

static void test_strerror(void **state)
{
    assert_string_equal(projects_path_strerror(PROJECTS_PATH_OK), "ok");
    assert_string_equal(projects_path_strerror(PROJECTS_PATH_EMPTY), "the path is empty");
    assert_string_equal(projects_path_strerror(PROJECTS_PATH_TOO_LONG),
                        "the path is longer than 512 bytes");
    assert_string_equal(projects_path_strerror(PROJECTS_PATH_SEGMENT_TOO_LONG),
                        "a path segment is longer than 255 bytes");
    assert_string_equal(projects_path_strerror(PROJECTS_PATH_ABSOLUTE),
                        "the path must be relative (no leading '/')");
    assert_string_equal(projects_path_strerror(PROJECTS_PATH_DOT_DOT),
                        "'..' segments are not allowed");
    assert_string_equal(projects_path_strerror(PROJECTS_PATH_NUL), "NUL bytes are not allowed");
    assert_string_equal(projects_path_strerror(PROJECTS_PATH_CONTROL),
                        "control characters are not allowed");
    assert_string_equal(projects_path_strerror(PROJECTS_PATH_BACKSLASH),
                        "backslashes are not allowed; use '/'");
    assert_string_equal(projects_path_strerror(PROJECTS_PATH_BAD_UTF8),
                        "the path is not valid UTF-8");
    assert_string_equal(projects_path_strerror(PROJECTS_PATH_TRAILING_SLASH),
                        "the path names a directory, not a file");
    assert_string_equal(projects_path_strerror((projects_path_err)99), "unknown error");
    assert_string_equal(projects_path_strerror((projects_path_err)-1), "unknown error");
}

static void test_language(void **state)
{
    struct {
        const char *path, *language;
    } cases[] = {
        {"a.js", "javascript"},
        {"a.mjs", "javascript"},
        {"a.cjs", "javascript"},
        {"a.jsx", "javascript"},
        {"a.ts", "typescript"},
        {"a.tsx", "typescript"},
        {"a.css", "css"},
        {"a.scss", "scss"},
        {"a.html", "html"},
        {"a.htm", "html"},
        {"a.json", "json"},
        {"a.md", "markdown"},
        {"a.markdown", "markdown"},
        {"a.svg", "svg"},
        {"a.xml", "xml"},
        {"a.txt", "text"},
        {"a.yaml", "yaml"},
        {"a.yml", "yaml"},
        {"a.py", "python"},
        {"a.vue", "vue"},
        {"a.svelte", "svelte"},
        /* Any case. */
        {"src/App.JS", "javascript"},
        {"INDEX.HTML", "html"},
        {"x.TsX", "typescript"},
        /* The last extension of the last segment. */
        {"a.min.js", "javascript"},
        {"a.js.txt", "text"},
        {"archive.tar.gz", "text"},
        {"dir.js/readme", "text"},
        {"dir.css/x.py", "python"},
        {".js", "javascript"},
        {"a/.json", "json"},
        /* No extension, unknown, dotfiles. */
        {"Makefile", "text"},
        {"a.", "text"},
        {".env", "text"},
        {"a/.gitignore", "text"},
        {"a.rs", "text"},
        {"a.jss", "text"},
        {"a.j", "text"},
        {"", "text"},
        {"/", "text"},
    };
    for (size_t i = 0; i < SB_ARRAY_LEN(cases); i++)
        assert_string_equal(projects_path_language(sb_str_c(cases[i].path)), cases[i].language);
    assert_string_equal(projects_path_language(SB_STR_NULL), "text");
    /* Only the bytes given count. */
    assert_string_equal(projects_path_language(sb_str_make("a.json", 4)), "javascript");
    assert_string_equal(projects_path_language(sb_str_make("a.js\0.css", 9)), "css");
}

static void test_content_type(void **state)
{
    struct {
        const char *path, *type;
    } cases[] = {
        {"a.js", "text/javascript; charset=utf-8"},
        {"a.mjs", "text/javascript; charset=utf-8"},
        {"a.cjs", "text/javascript; charset=utf-8"},
        {"a.jsx", "text/plain; charset=utf-8"},
        {"a.ts", "text/plain; charset=utf-8"},
        {"a.tsx", "text/plain; charset=utf-8"},
        {"a.css", "text/css; charset=utf-8"},
        {"a.scss", "text/plain; charset=utf-8"},
        {"a.html", "text/html; charset=utf-8"},
        {"a.HTM", "text/html; charset=utf-8"},
        {"a.json", "application/json; charset=utf-8"},
        {"a.md", "text/markdown; charset=utf-8"},
        {"a.markdown", "text/markdown; charset=utf-8"},
        {"a.svg", "image/svg+xml"},
        {"a.xml", "application/xml; charset=utf-8"},
        {"a.txt", "text/plain; charset=utf-8"},
        {"a.yml", "text/plain; charset=utf-8"},
        {"a.py", "text/plain; charset=utf-8"},
        {"a.vue", "text/plain; charset=utf-8"},
        {"a.svelte", "text/plain; charset=utf-8"},
        {"Makefile", "text/plain; charset=utf-8"},
        {".env", "text/plain; charset=utf-8"},
        /* Nothing but .html/.htm is served as HTML. */
        {"a.html.txt", "text/plain; charset=utf-8"},
        {"a.xhtml", "text/plain; charset=utf-8"},
        {"a.shtml", "text/plain; charset=utf-8"},
        {"a.html/x", "text/plain; charset=utf-8"},
        {"a.php", "text/plain; charset=utf-8"},
        {"a.svg.html", "text/html; charset=utf-8"},
    };
    for (size_t i = 0; i < SB_ARRAY_LEN(cases); i++)
        assert_string_equal(projects_path_content_type(sb_str_c(cases[i].path)), cases[i].type);
}

int main(void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(test_normal_paths),
        cmocka_unit_test(test_collapses_and_drops),
        cmocka_unit_test(test_dotfiles_and_dot_names),
        cmocka_unit_test(test_traversal),
        cmocka_unit_test(test_bytes),
        cmocka_unit_test(test_directories),
        cmocka_unit_test(test_lengths),
        cmocka_unit_test(test_which_error_wins),
        cmocka_unit_test(test_strerror),
        cmocka_unit_test(test_language),
        cmocka_unit_test(test_content_type),
    };
    return cmocka_run_group_tests(tests, NULL, NULL);
}
