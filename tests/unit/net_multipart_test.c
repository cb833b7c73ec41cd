/*
 * net_multipart_test.c: multipart/form-data: the boundary parameter in its
 * spellings, a body as curl sends it, data that holds CR LF and "--" but
 * not the delimiter, empty parts and forms, bare LF, and every error
 * (missing end, too many parts, headers too long, malformed parts) with the
 * outputs it leaves alone.
 */
#include "cmocka_prelude.h"

#include <stdio.h>
#include <stdlib.h>

#include "base/str.h"
#include "net/multipart.h"

#define assert_view(view, lit)                                                                     \
    do {                                                                                           \
        sb_str v_ = (view);                                                                        \
        assert_non_null(v_.ptr);                                                                   \
        assert_int_equal(v_.len, sizeof(lit) - 1);                                                 \
        assert_memory_equal(v_.ptr, lit, sizeof(lit) - 1);                                         \
    } while (0)

/* ---- the boundary parameter ---- */

static void boundary_ok(const char *ct, const char *want)
{
    sb_str b = SB_STR_NULL;
    net_multipart_err e = net_multipart_boundary(sb_str_c(ct), &b);
    if (e != NET_MULTIPART_OK)
        fail_msg("%s: %s", ct, net_multipart_strerror(e));
    assert_int_equal(b.len, strlen(want));
    assert_memory_equal(b.ptr, want, b.len);
    /* A view into the header. */
    assert_true(b.ptr >= ct && b.ptr + b.len <= ct + strlen(ct));
}

static void boundary_bad(const char *ct, net_multipart_err want)
{
    sb_str b = SB_STR("untouched");
    net_multipart_err e = net_multipart_boundary(sb_str_c(ct), &b);
    if (e != want)
        fail_msg("%s: got %s, want %s", ct, net_multipart_strerror(e),
                 net_multipart_strerror(want));
    assert_view(b, "untouched");
}

static void test_boundary(void **state)
{
    boundary_ok("multipart/form-data; boundary=------------------------d74496d66958873e",
                "------------------------d74496d66958873e");
    boundary_ok("multipart/form-data; boundary=----WebKitFormBoundary7MA4YWxkTrZu0gW",
                "----WebKitFormBoundary7MA4YWxkTrZu0gW");
    boundary_ok("Multipart/Form-Data; BOUNDARY=abc", "abc");
    boundary_ok("multipart/form-data;boundary=abc", "abc");
    boundary_ok("  multipart/form-data \t; \tboundary=abc  ", "abc");
    boundary_ok("multipart/form-data; charset=utf-8; boundary=x; foo=\"b;a\\\"r\"", "x");
    boundary_ok("multipart/form-data; boundary=x;", "x");
    boundary_ok("multipart/form-data; ; boundary=x", "x");
    /* Quoted: every bchar, space inside. */
    boundary_ok("multipart/form-data; boundary=\"a b'()+_,-./:=?Z9\"", "a b'()+_,-./:=?Z9");
    boundary_ok("multipart/form-data; boundary=\"simple\"", "simple");
    /* 1 and 70 characters. */
    boundary_ok("multipart/form-data; boundary=q", "q");
    boundary_ok("multipart/form-data; boundary=0123456789012345678901234567890123456789012345678"
                "901234567890123456789",
                "0123456789012345678901234567890123456789012345678901234567890123456789");
}

static void test_boundary_errors(void **state)
{
    boundary_bad("text/plain; boundary=x", NET_MULTIPART_NOT_FORM_DATA);
    boundary_bad("multipart/mixed; boundary=x", NET_MULTIPART_NOT_FORM_DATA);
    boundary_bad("multipart/form-datax; boundary=x", NET_MULTIPART_NOT_FORM_DATA);
    boundary_bad("multipart/; boundary=x", NET_MULTIPART_NOT_FORM_DATA);
    boundary_bad("", NET_MULTIPART_NOT_FORM_DATA);
    boundary_bad("multipart/form-data", NET_MULTIPART_NO_BOUNDARY);
    boundary_bad("multipart/form-data; charset=utf-8", NET_MULTIPART_NO_BOUNDARY);
    boundary_bad("multipart/form-data; boundaryx=abc", NET_MULTIPART_NO_BOUNDARY);
    boundary_bad("multipart/form-data; boundary=", NET_MULTIPART_BAD_BOUNDARY);
    boundary_bad("multipart/form-data; boundary=\"\"", NET_MULTIPART_BAD_BOUNDARY);
    boundary_bad("multipart/form-data; boundary=012345678901234567890123456789012345678901234567"
                 "8901234567890123456789X",
                 NET_MULTIPART_BAD_BOUNDARY); /* 71 */
    boundary_bad("multipart/form-data; boundary=\"ab \"", NET_MULTIPART_BAD_BOUNDARY);
    boundary_bad("multipart/form-data; boundary=\"a\\\"b\"", NET_MULTIPART_BAD_BOUNDARY);
    boundary_bad("multipart/form-data; boundary=\"a@b\"", NET_MULTIPART_BAD_BOUNDARY);
    boundary_bad("multipart/form-data; boundary=a!b", NET_MULTIPART_BAD_BOUNDARY);
    boundary_bad("multipart/form-data; boundary=\"abc", NET_MULTIPART_BAD_BOUNDARY);
    boundary_bad("multipart/form-data; boundary = abc", NET_MULTIPART_BAD_BOUNDARY);
    boundary_bad("multipart/form-data; boundary=a; boundary=a", NET_MULTIPART_BAD_BOUNDARY);
    boundary_bad("multipart/form-data; boundary=a b", NET_MULTIPART_BAD_BOUNDARY);
    boundary_bad("multipart/form-data garbage", NET_MULTIPART_BAD_BOUNDARY);
    boundary_bad("multipart/form-data; =x; boundary=a", NET_MULTIPART_BAD_BOUNDARY);
    boundary_bad("multipart/form-data; charset=\"a\x01\"; boundary=a", NET_MULTIPART_BAD_BOUNDARY);
    /* Only the bytes given count. */
    sb_str b;
    const char *ct = "multipart/form-data; boundary=abc";
    assert_int_equal(net_multipart_boundary(sb_str_make(ct, 30), &b), NET_MULTIPART_BAD_BOUNDARY);
    assert_int_equal(net_multipart_boundary(sb_str_make(ct, 31), &b), NET_MULTIPART_OK);
    assert_view(b, "a");
}

/* ---- bodies ---- */

#define B "------------------------d74496d66958873e"

typedef struct parsed {
    net_multipart_err err;
    size_t n;
    net_part parts[8];
} parsed;

static parsed parse_n(const char *body, size_t len, const char *boundary, size_t max)
{
    parsed r;
    r.n = 999;
    memset(r.parts, 0x5a, sizeof(r.parts));
    assert_true(max <= 8);
    r.err = net_multipart_parse(sb_str_make(body, len), sb_str_c(boundary), r.parts, max, &r.n);
    if (r.err != NET_MULTIPART_OK) {
        assert_int_equal(r.n, 999); /* untouched */
        return r;
    }
    for (size_t i = 0; i < r.n; i++) {
        sb_str v[] = {r.parts[i].name, r.parts[i].filename, r.parts[i].content_type,
                      r.parts[i].data};
        for (size_t k = 0; k < 4; k++)
            if (v[k].ptr)
                assert_true(v[k].ptr >= body && v[k].ptr + v[k].len <= body + len);
    }
    return r;
}

static parsed parse(const char *body, const char *boundary)
{
    return parse_n(body, strlen(body), boundary, 8);
}

static void test_curl_body(void **state)
{
    /* curl -F file=@hello.txt -F path=src/hello.txt */
    const char *body = "--" B "\r\n"
                       "Content-Disposition: form-data; name=\"file\"; filename=\"hello.txt\"\r\n"
                       "Content-Type: text/plain\r\n"
                       "\r\n"
                       "Hello, world!\n"
                       "\r\n"
                       "--" B "\r\n"
                       "Content-Disposition: form-data; name=\"path\"\r\n"
                       "\r\n"
                       "src/hello.txt\r\n"
                       "--" B "--\r\n";
    parsed r = parse(body, B);
    assert_int_equal(r.err, NET_MULTIPART_OK);
    assert_int_equal(r.n, 2);
    assert_view(r.parts[0].name, "file");
    assert_view(r.parts[0].filename, "hello.txt");
    assert_view(r.parts[0].content_type, "text/plain");
    assert_view(r.parts[0].data, "Hello, world!\n");
    assert_view(r.parts[1].name, "path");
    assert_null(r.parts[1].filename.ptr);
    assert_int_equal(r.parts[1].filename.len, 0);
    assert_null(r.parts[1].content_type.ptr);
    assert_view(r.parts[1].data, "src/hello.txt");
    /* Zero-copy: the data is the body's own bytes. */
    assert_ptr_equal(r.parts[1].data.ptr, strstr(body, "src/hello.txt\r\n"));
}

static void test_binary_data(void **state)
{
    /* NUL, CR LF, "--" at line starts, a line of one dash fewer than the
     * delimiter, a line holding a prefix of it, the delimiter inside a
     * line, lone CR and LF, and a CR right before the delimiter's CR LF. */
    static const char data[] = "\x00\x01\r\n--\r\n-- \r\n-" B "\r\n"
                               "--------------------------d74496d6695887\r\n"
                               "x--" B "--\r\n"
                               "\r\r\n\n\xff\xfe--\r";
    size_t dlen = sizeof(data) - 1;
    sb_buf body = SB_BUF_INIT;
    sb_buf_puts(&body, "--" B "\r\nContent-Disposition: form-data; name=\"bin\"; "
                       "filename=\"a.bin\"\r\nContent-Type: application/octet-stream\r\n\r\n");
    sb_buf_append(&body, data, dlen);
    sb_buf_puts(&body, "\r\n--" B "--");
    parsed r = parse_n(body.ptr, body.len, B, 8);
    assert_int_equal(r.err, NET_MULTIPART_OK);
    assert_int_equal(r.n, 1);
    assert_view(r.parts[0].name, "bin");
    assert_view(r.parts[0].filename, "a.bin");
    assert_view(r.parts[0].content_type, "application/octet-stream");
    assert_int_equal(r.parts[0].data.len, dlen);
    assert_memory_equal(r.parts[0].data.ptr, data, dlen);
    sb_buf_free(&body);
}

static void test_bad_delimiter_line(void **state)
{
    /* A line that starts with the delimiter and goes on is refused, not
     * taken as data. */
    parsed r = parse("--" B "\r\nContent-Disposition: form-data; name=\"a\"\r\n\r\n"
                     "x\r\n--" B "X\r\ny\r\n--" B "--",
                     B);
    assert_int_equal(r.err, NET_MULTIPART_MALFORMED);
    r = parse("--" B "x\r\n", B);
    assert_int_equal(r.err, NET_MULTIPART_MALFORMED);
    r = parse("--" B "\rx", B);
    assert_int_equal(r.err, NET_MULTIPART_MALFORMED);
}

static void test_quoted_boundary_end_to_end(void **state)
{
    const char *ct = "multipart/form-data; boundary=\"my boundary:1\"";
    sb_str b;
    assert_int_equal(net_multipart_boundary(sb_str_c(ct), &b), NET_MULTIPART_OK);
    const char *body = "--my boundary:1\r\n"
                       "content-disposition: FORM-DATA; NAME=title\r\n"
                       "\r\n"
                       "Home\r\n"
                       "--my boundary:1--";
    net_part parts[2];
    size_t n;
    assert_int_equal(net_multipart_parse(sb_str_c(body), b, parts, 2, &n), NET_MULTIPART_OK);
    assert_int_equal(n, 1);
    assert_view(parts[0].name, "title");
    assert_view(parts[0].data, "Home");
}

static void test_preamble_epilogue_padding_lf(void **state)
{
    parsed r = parse("This is the preamble.\r\n--" B " \t\r\n"
                     "Content-Disposition: form-data; name=\"a\"\r\n\r\n"
                     "1\r\n--" B "\t\r\n"
                     "Content-Disposition: form-data; name=\"b\"\r\n\r\n"
                     "2\r\n--" B "--  trailing\r\nepilogue --" B "\r\n garbage",
                     B);
    assert_int_equal(r.err, NET_MULTIPART_OK);
    assert_int_equal(r.n, 2);
    assert_view(r.parts[0].data, "1");
    assert_view(r.parts[1].data, "2");

    /* Bare LF everywhere. */
    r = parse("--" B "\nContent-Disposition: form-data; name=\"a\"\nContent-Type: text/x\n\n"
              "line1\nline2\n--" B "\nContent-Disposition: form-data; name=\"b\"\n\n\n--" B "--",
              B);
    assert_int_equal(r.err, NET_MULTIPART_OK);
    assert_int_equal(r.n, 2);
    assert_view(r.parts[0].content_type, "text/x");
    assert_view(r.parts[0].data, "line1\nline2");
    assert_view(r.parts[1].data, "");

    /* A preamble line ending in LF only. */
    r = parse("pre\n--" B "\r\nContent-Disposition: form-data; name=\"a\"\r\n\r\nx\r\n--" B "--",
              B);
    assert_int_equal(r.err, NET_MULTIPART_OK);
    assert_view(r.parts[0].data, "x");
}

static void test_empty_parts_and_forms(void **state)
{
    /* No fields at all. */
    parsed r = parse("--" B "--\r\n", B);
    assert_int_equal(r.err, NET_MULTIPART_OK);
    assert_int_equal(r.n, 0);
    r = parse_n("--" B "--", strlen("--" B "--"), B, 0);
    assert_int_equal(r.err, NET_MULTIPART_OK);
    assert_int_equal(r.n, 0);

    /* An empty value, with and without its blank data line. */
    r = parse("--" B "\r\nContent-Disposition: form-data; name=\"a\"\r\n\r\n\r\n--" B "\r\n"
              "Content-Disposition: form-data; name=\"b\"\r\n\r\n--" B "--",
              B);
    assert_int_equal(r.err, NET_MULTIPART_OK);
    assert_int_equal(r.n, 2);
    assert_view(r.parts[0].data, "");
    assert_view(r.parts[1].data, "");
    /* Data that is just CR LF. */
    r = parse("--" B "\r\nContent-Disposition: form-data; name=\"a\"\r\n\r\n\r\n\r\n--" B "--", B);
    assert_int_equal(r.err, NET_MULTIPART_OK);
    assert_view(r.parts[0].data, "\r\n");
}

static void test_disposition_parameters(void **state)
{
    parsed r = parse("--" B "\r\n"
                     "Content-Disposition: form-data; name=\"up\"; filename=\"\"\r\n"
                     "Content-Type: application/octet-stream\r\n\r\n\r\n--" B "\r\n"
                     "Content-Disposition: form-data; name=\"a\\\"b\\\\c\"; "
                     "filename=\"caf\xc3\xa9 \\\"x\\\".txt\"; filename*=UTF-8''x\r\n"
                     "X-Other: ignored\r\n\r\nv\r\n--" B "\r\n"
                     "Content-Disposition:form-data;name=plain;filename=f.js \r\n"
                     "Content-Type:  text/javascript ; charset=utf-8 \r\n\r\nv\r\n--" B "--",
                     B);
    assert_int_equal(r.err, NET_MULTIPART_OK);
    assert_int_equal(r.n, 3);
    assert_view(r.parts[0].name, "up");
    /* filename="" is there but empty. */
    assert_non_null(r.parts[0].filename.ptr);
    assert_int_equal(r.parts[0].filename.len, 0);
    /* Raw between the quotes; unquote removes the escapes. */
    assert_view(r.parts[1].name, "a\\\"b\\\\c");
    assert_view(r.parts[1].filename, "caf\xc3\xa9 \\\"x\\\".txt");
    char buf[64];
    size_t n = net_multipart_unquote(r.parts[1].name, buf);
    assert_int_equal(n, 5);
    assert_memory_equal(buf, "a\"b\\c", 5);
    n = net_multipart_unquote(r.parts[1].filename, buf);
    assert_int_equal(n, 13);
    assert_memory_equal(buf, "caf\xc3\xa9 \"x\".txt", 13);
    assert_null(r.parts[1].content_type.ptr);
    assert_view(r.parts[2].name, "plain");
    assert_view(r.parts[2].filename, "f.js");
    assert_view(r.parts[2].content_type, "text/javascript ; charset=utf-8");

    n = net_multipart_unquote(SB_STR("x\\"), buf);
    assert_int_equal(n, 2);
    assert_memory_equal(buf, "x\\", 2);
    assert_int_equal(net_multipart_unquote(SB_STR_NULL, buf), 0);
}

static void test_missing_end(void **state)
{
    const char *head = "--" B "\r\nContent-Disposition: form-data; name=\"a\"\r\n\r\nvalue";
    assert_int_equal(parse(head, B).err, NET_MULTIPART_NO_END);
    /* Cut anywhere before the close delimiter is complete. */
    const char *full = "--" B "\r\nContent-Disposition: form-data; name=\"a\"\r\n\r\nvalue\r\n"
                       "--" B "--";
    size_t len = strlen(full);
    for (size_t cut = 2 + strlen(B); cut < len; cut++) {
        parsed r = parse_n(full, cut, B, 8);
        if (r.err != NET_MULTIPART_NO_END)
            fail_msg("cut at %zu: %s", cut, net_multipart_strerror(r.err));
    }
    assert_int_equal(parse_n(full, len, B, 8).err, NET_MULTIPART_OK);
    /* A delimiter line without its line break. */
    assert_int_equal(parse("--" B, B).err, NET_MULTIPART_NO_END);
    assert_int_equal(parse("--" B "  ", B).err, NET_MULTIPART_NO_END);
    assert_int_equal(parse("--" B "\r", B).err, NET_MULTIPART_NO_END);
    /* A boundary that differs is no end. */
    assert_int_equal(parse("--" B "\r\nContent-Disposition: form-data; name=\"a\"\r\n\r\nv\r\n"
                           "--other--",
                           B)
                         .err,
                     NET_MULTIPART_NO_END);
}

static void test_too_many_parts(void **state)
{
    const char *body = "--" B "\r\nContent-Disposition: form-data; name=\"a\"\r\n\r\n1\r\n"
                       "--" B "\r\nContent-Disposition: form-data; name=\"b\"\r\n\r\n2\r\n"
                       "--" B "\r\nContent-Disposition: form-data; name=\"c\"\r\n\r\n3\r\n"
                       "--" B "--";
    parsed r = parse_n(body, strlen(body), B, 2);
    assert_int_equal(r.err, NET_MULTIPART_TOO_MANY_PARTS);
    r = parse_n(body, strlen(body), B, 3);
    assert_int_equal(r.err, NET_MULTIPART_OK);
    assert_int_equal(r.n, 3);
    assert_view(r.parts[2].name, "c");
    r = parse_n(body, strlen(body), B, 0);
    assert_int_equal(r.err, NET_MULTIPART_TOO_MANY_PARTS);
}

/* A part whose header lines take exactly `size` bytes. */
static void body_with_headers(sb_buf *body, size_t size)
{
    const char *cd = "Content-Disposition: form-data; name=\"a\"\r\n";
    size_t pad = size - strlen(cd) - strlen("X-Pad: \r\n");
    sb_buf_reset(body);
    sb_buf_puts(body, "--" B "\r\n");
    sb_buf_puts(body, cd);
    sb_buf_puts(body, "X-Pad: ");
    for (size_t i = 0; i < pad; i++)
        sb_buf_putc(body, 'p');
    sb_buf_puts(body, "\r\n\r\ndata\r\n--" B "--");
}

static void test_headers_too_long(void **state)
{
    sb_buf body = SB_BUF_INIT;
    body_with_headers(&body, 8192);
    parsed r = parse_n(body.ptr, body.len, B, 8);
    assert_int_equal(r.err, NET_MULTIPART_OK);
    assert_view(r.parts[0].data, "data");
    body_with_headers(&body, 8193);
    assert_int_equal(parse_n(body.ptr, body.len, B, 8).err, NET_MULTIPART_HEADER_TOO_LONG);

    /* A header line without end, longer than the limit, then the body
     * ends: too long, not just truncated. */
    sb_buf_reset(&body);
    sb_buf_puts(&body, "--" B "\r\nContent-Disposition: form-data; name=\"a\"\r\nX: ");
    for (int i = 0; i < 9000; i++)
        sb_buf_putc(&body, 'x');
    assert_int_equal(parse_n(body.ptr, body.len, B, 8).err, NET_MULTIPART_HEADER_TOO_LONG);
    /* Shorter than the limit: truncated. */
    sb_buf_reset(&body);
    sb_buf_puts(&body, "--" B "\r\nContent-Disposition: form-data; name=\"a\"\r\nX: xx");
    assert_int_equal(parse_n(body.ptr, body.len, B, 8).err, NET_MULTIPART_NO_END);
    sb_buf_free(&body);
}

static void test_malformed(void **state)
{
    const char *cases[] = {
        /* no delimiter at all */
        "",
        "just text",
        "-" B "\r\n",
        /* no Content-Disposition, or not form-data, or no name */
        "--" B "\r\n\r\nx\r\n--" B "--",
        "--" B "\r\nContent-Type: text/plain\r\n\r\nx\r\n--" B "--",
        "--" B "\r\nContent-Disposition: attachment; name=\"a\"\r\n\r\nx\r\n--" B "--",
        "--" B "\r\nContent-Disposition: form-data\r\n\r\nx\r\n--" B "--",
        "--" B "\r\nContent-Disposition: form-data; filename=\"a\"\r\n\r\nx\r\n--" B "--",
        "--" B "\r\nContent-Disposition: form-datax; name=a\r\n\r\nx\r\n--" B "--",
        /* repeated fields and parameters */
        "--" B "\r\nContent-Disposition: form-data; name=a\r\nContent-Disposition: form-data; "
        "name=b\r\n\r\nx\r\n--" B "--",
        "--" B "\r\nContent-Disposition: form-data; name=a; name=b\r\n\r\nx\r\n--" B "--",
        "--" B "\r\nContent-Disposition: form-data; name=a; filename=x; filename=y\r\n\r\n\r\n"
        "--" B "--",
        "--" B "\r\nContent-Disposition: form-data; name=a\r\nContent-Type: a\r\nContent-Type: "
        "b\r\n\r\n\r\n--" B "--",
        /* bad parameter syntax */
        "--" B "\r\nContent-Disposition: form-data; name=\"a\r\n\r\nx\r\n--" B "--",
        "--" B "\r\nContent-Disposition: form-data; name = \"a\"\r\n\r\nx\r\n--" B "--",
        "--" B "\r\nContent-Disposition: form-data; name=\"a\" x\r\n\r\nx\r\n--" B "--",
        "--" B "\r\nContent-Disposition: form-data; name=\r\n\r\nx\r\n--" B "--",
        /* bad header lines: no colon, space before it, folding, control bytes */
        "--" B "\r\nContent-Disposition: form-data; name=a\r\nNoColon\r\n\r\nx\r\n--" B "--",
        "--" B "\r\nContent-Disposition : form-data; name=a\r\n\r\nx\r\n--" B "--",
        "--" B "\r\nContent-Disposition: form-data;\r\n name=a\r\n\r\nx\r\n--" B "--",
        "--" B "\r\nContent-Disposition: form-data; name=a\r\nX: a\rb\r\n\r\nx\r\n--" B "--",
        "--" B "\r\nContent-Disposition: form-data; name=a\r\nX: \x01\r\n\r\nx\r\n--" B "--",
        "--" B "\r\n: x\r\nContent-Disposition: form-data; name=a\r\n\r\nx\r\n--" B "--",
    };
    for (size_t i = 0; i < SB_ARRAY_LEN(cases); i++) {
        parsed r = parse(cases[i], B);
        if (r.err != NET_MULTIPART_MALFORMED)
            fail_msg("case %zu: got %s", i, net_multipart_strerror(r.err));
    }
    /* A NUL in a header. */
    static const char nul[] = "--" B "\r\nContent-Disposition: form-data; name=a\r\nX: \0\r\n\r\n"
                              "x\r\n--" B "--";
    assert_int_equal(parse_n(nul, sizeof(nul) - 1, B, 8).err, NET_MULTIPART_MALFORMED);
}

static void test_bad_boundary_argument(void **state)
{
    net_part parts[1];
    size_t n = 7;
    sb_str body = SB_STR("--a--");
    assert_int_equal(net_multipart_parse(body, SB_STR(""), parts, 1, &n),
                     NET_MULTIPART_BAD_BOUNDARY);
    assert_int_equal(net_multipart_parse(body, SB_STR("a\r\n"), parts, 1, &n),
                     NET_MULTIPART_BAD_BOUNDARY);
    assert_int_equal(net_multipart_parse(body, SB_STR("a "), parts, 1, &n),
                     NET_MULTIPART_BAD_BOUNDARY);
    assert_int_equal(net_multipart_parse(body,
                                         SB_STR("012345678901234567890123456789012345678901"
                                                "23456789012345678901234567890"),
                                         parts, 1, &n),
                     NET_MULTIPART_BAD_BOUNDARY);
    assert_int_equal(n, 7);
    assert_int_equal(net_multipart_parse(body, SB_STR("a"), parts, 1, &n), NET_MULTIPART_OK);
    assert_int_equal(n, 0);
}

static void test_strerror(void **state)
{
    assert_string_equal(net_multipart_strerror(NET_MULTIPART_OK), "ok");
    assert_string_equal(net_multipart_strerror(NET_MULTIPART_NOT_FORM_DATA),
                        "the content type is not multipart/form-data");
    assert_string_equal(net_multipart_strerror(NET_MULTIPART_NO_BOUNDARY),
                        "the content type has no boundary parameter");
    assert_string_equal(net_multipart_strerror(NET_MULTIPART_BAD_BOUNDARY),
                        "the boundary parameter is malformed");
    assert_string_equal(net_multipart_strerror(NET_MULTIPART_MALFORMED),
                        "the multipart body is malformed");
    assert_string_equal(net_multipart_strerror(NET_MULTIPART_TOO_MANY_PARTS),
                        "the multipart body has too many parts");
    assert_string_equal(net_multipart_strerror(NET_MULTIPART_HEADER_TOO_LONG),
                        "the headers of a part are too long");
    assert_string_equal(net_multipart_strerror(NET_MULTIPART_NO_END),
                        "the multipart body ends before its closing boundary");
    assert_string_equal(net_multipart_strerror((net_multipart_err)42), "unknown error");
}

int main(void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(test_boundary),
        cmocka_unit_test(test_boundary_errors),
        cmocka_unit_test(test_curl_body),
        cmocka_unit_test(test_binary_data),
        cmocka_unit_test(test_bad_delimiter_line),
        cmocka_unit_test(test_quoted_boundary_end_to_end),
        cmocka_unit_test(test_preamble_epilogue_padding_lf),
        cmocka_unit_test(test_empty_parts_and_forms),
        cmocka_unit_test(test_disposition_parameters),
        cmocka_unit_test(test_missing_end),
        cmocka_unit_test(test_too_many_parts),
        cmocka_unit_test(test_headers_too_long),
        cmocka_unit_test(test_malformed),
        cmocka_unit_test(test_bad_boundary_argument),
        cmocka_unit_test(test_strerror),
    };
    return cmocka_run_group_tests(tests, NULL, NULL);
}
