/*
 * multipart_fuzz.c: libFuzzer target for multipart/form-data. The first
 * byte is the boundary's length n, the next n bytes the boundary, the rest
 * the body (the whole input is also tried as a Content-Type value). Beyond
 * "no crash, no UB, no read outside the input" it checks the parser's
 * promises:
 *   - an accepted boundary is a view into the Content-Type of 1 to 70
 *     bchars that does not end in a space;
 *   - a boundary the parser refuses is one net_multipart_boundary would
 *     refuse too (and the other way round);
 *   - every view of every part lies inside the body; a part's name,
 *     filename and content type come before its data; parts' data do not
 *     overlap and are in body order, each after the previous part's data;
 *   - no part's data holds "\n--boundary" (that would be a delimiter),
 *     and the bytes after it are the delimiter's: [CR] LF "--" boundary
 *     (or, for empty data, the header block's LF);
 *   - the part limit is exact: max_parts = nparts passes, one less gives
 *     TOO_MANY_PARTS; on failure *nparts is untouched.
 */
#include <assert.h>
#include <stdio.h>
#include <string.h>

#include "net/multipart.h"

#define MAX_PARTS 32

static bool inside(sb_str v, sb_str body)
{
    return v.ptr >= body.ptr && v.len <= body.len && v.ptr + v.len <= body.ptr + body.len;
}

static void check_boundary_param(sb_str ct)
{
    sb_str b = SB_STR_NULL;
    if (net_multipart_boundary(ct, &b) != NET_MULTIPART_OK) {
        assert(b.ptr == NULL);
        return;
    }
    assert(b.len >= 1 && b.len <= NET_MULTIPART_BOUNDARY_MAX);
    assert(inside(b, ct));
    assert(b.ptr[b.len - 1] != ' ');
    for (size_t i = 0; i < b.len; i++) {
        unsigned char c = (unsigned char)b.ptr[i];
        assert((c >= 'a' && c <= 'z') || (c >= 'A' && c <= 'Z') || (c >= '0' && c <= '9') ||
               (c != 0 && strchr("'()+_,-./:=? ", c)));
    }
}

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
    check_boundary_param(sb_str_make((const char *)data, size));
    if (size < 1)
        return 0;
    size_t blen = data[0];
    if (size - 1 < blen)
        return 0;
    sb_str boundary = sb_str_make((const char *)data + 1, blen);
    sb_str body = sb_str_make((const char *)data + 1 + blen, size - 1 - blen);

    /* The parser and the Content-Type parser agree on what a boundary is
     * (when it can be written quoted: no '"', '\\' or control bytes). */
    bool quotable = true;
    for (size_t i = 0; i < blen; i++) {
        unsigned char c = (unsigned char)boundary.ptr[i];
        quotable = quotable && c != '"' && c != '\\' && c >= 0x20 && c != 0x7f;
    }
    net_part parts[MAX_PARTS];
    size_t n = 12345;
    net_multipart_err e = net_multipart_parse(body, boundary, parts, MAX_PARTS, &n);
    if (quotable) {
        char ct[128];
        int ctn = snprintf(ct, sizeof(ct), "multipart/form-data; boundary=\"%.*s\"", (int)blen,
                           boundary.ptr);
        sb_str b;
        net_multipart_err be = net_multipart_boundary(sb_str_make(ct, (size_t)ctn), &b);
        assert((be == NET_MULTIPART_OK) == (e != NET_MULTIPART_BAD_BOUNDARY));
        if (be == NET_MULTIPART_OK)
            assert(sb_str_eq(b, boundary));
    }
    assert(strlen(net_multipart_strerror(e)) > 0);
    if (e != NET_MULTIPART_OK) {
        assert(n == 12345);
        return 0;
    }
    assert(n <= MAX_PARTS);

    char needle[3 + NET_MULTIPART_BOUNDARY_MAX];
    memcpy(needle, "\n--", 3);
    memcpy(needle + 3, boundary.ptr, blen);
    const char *prev_end = body.ptr;
    for (size_t i = 0; i < n; i++) {
        const net_part *p = &parts[i];
        assert(p->name.ptr != NULL);
        sb_str views[] = {p->name, p->filename, p->content_type};
        for (size_t k = 0; k < 3; k++) {
            if (!views[k].ptr)
                continue;
            assert(inside(views[k], body));
            assert(views[k].ptr >= prev_end);
            assert(views[k].ptr + views[k].len <= p->data.ptr);
        }
        assert(p->data.ptr != NULL && inside(p->data, body));
        assert(p->data.ptr >= prev_end);
        assert(memmem(p->data.ptr, p->data.len, needle, 3 + blen) == NULL);
        /* What follows is the delimiter: [CR] LF "--" boundary, or for
         * empty data the header block's own LF then "--" boundary. */
        const char *end = p->data.ptr + p->data.len;
        size_t rest = (size_t)(body.ptr + body.len - end), nl = 3 + blen;
        bool delim = (rest >= nl && memcmp(end, needle, nl) == 0) ||
                     (rest >= nl + 1 && end[0] == '\r' && memcmp(end + 1, needle, nl) == 0) ||
                     (p->data.len == 0 && rest + 1 >= nl && memcmp(end - 1, needle, nl) == 0);
        assert(delim);
        prev_end = p->data.ptr + p->data.len;
    }

    /* The limit is exact. */
    size_t n2 = 999;
    assert(net_multipart_parse(body, boundary, parts, n, &n2) == NET_MULTIPART_OK && n2 == n);
    if (n > 0) {
        n2 = 999;
        assert(net_multipart_parse(body, boundary, parts, n - 1, &n2) ==
               NET_MULTIPART_TOO_MANY_PARTS);
        assert(n2 == 999);
    }
    return 0;
}
