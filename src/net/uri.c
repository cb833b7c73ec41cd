/*
 * uri.c: strict percent-decoding, path splitting and query parsing. See
 * uri.h for the rules; every function here is total over arbitrary bytes
 * and writes only within the bounds its caller gave.
 */
#include "net/uri.h"

#include <string.h>

static const char *const uri_errors[] = {
    [NET_URI_OK] = "ok",
    [NET_URI_BAD_ESCAPE] = "malformed percent-encoding",
    [NET_URI_CONTROL] = "control characters are not allowed",
    [NET_URI_DOT_SEGMENT] = "'.' and '..' path segments are not allowed",
    [NET_URI_NOT_ABSOLUTE] = "the path must start with '/'",
    [NET_URI_TOO_MANY] = "too many path segments or query parameters",
};

const char *net_uri_strerror(net_uri_err e)
{
    return (size_t)e < SB_ARRAY_LEN(uri_errors) ? uri_errors[e] : "unknown error";
}

net_uri_err net_uri_decode(const char *in, size_t n, bool plus_is_space, char *out, size_t *out_len)
{
    size_t o = 0;
    for (size_t i = 0; i < n; i++) {
        unsigned char c = (unsigned char)in[i];
        if (c == '%') {
            if (n - i < 3)
                return NET_URI_BAD_ESCAPE;
            int hi = sb_hex_digit((unsigned char)in[i + 1]),
                lo = sb_hex_digit((unsigned char)in[i + 2]);
            if (hi < 0 || lo < 0 || (hi | lo) == 0)
                return NET_URI_BAD_ESCAPE;
            out[o++] = (char)(hi << 4 | lo);
            i += 2;
        } else if (c < 0x20 || c == 0x7f) {
            return NET_URI_CONTROL;
        } else if (c == '+' && plus_is_space) {
            out[o++] = ' ';
        } else {
            out[o++] = (char)c;
        }
    }
    *out_len = o;
    return NET_URI_OK;
}

/* True when the raw segment decodes to "." or "..": "%2e", "%2E." and so on. */
static bool is_dot_segment(sb_str seg)
{
    size_t dots = 0, i = 0;
    while (i < seg.len) {
        if (seg.ptr[i] == '.') {
            i++;
        } else if (seg.len - i >= 3 && seg.ptr[i] == '%' && seg.ptr[i + 1] == '2' &&
                   (seg.ptr[i + 2] == 'e' || seg.ptr[i + 2] == 'E')) {
            i += 3;
        } else {
            return false;
        }
        if (++dots > 2)
            return false;
    }
    return dots > 0;
}

net_uri_err net_uri_split_path(sb_str path, sb_str *segs, size_t max_segs, size_t *n)
{
    if (path.len == 0 || path.ptr[0] != '/')
        return NET_URI_NOT_ABSOLUTE;
    size_t count = 0, start = 1;
    for (size_t i = 1; i <= path.len; i++) {
        if (i < path.len && path.ptr[i] != '/')
            continue;
        sb_str seg = sb_str_make(path.ptr + start, i - start);
        if (is_dot_segment(seg))
            return NET_URI_DOT_SEGMENT;
        if (count == max_segs)
            return NET_URI_TOO_MANY;
        segs[count++] = seg;
        start = i + 1;
    }
    *n = count;
    return NET_URI_OK;
}

static net_uri_err decode_into_arena(sb_str raw, sb_arena *arena, sb_str *out)
{
    char *buf = sb_arena_alloc(arena, raw.len + 1);
    size_t len;
    net_uri_err e = net_uri_decode(raw.ptr, raw.len, true, buf, &len);
    if (e != NET_URI_OK)
        return e;
    buf[len] = '\0';
    *out = sb_str_make(buf, len);
    return NET_URI_OK;
}

net_uri_err net_uri_parse_query(sb_str query, sb_arena *arena, net_query_pair *pairs,
                                size_t max_pairs, size_t *n)
{
    size_t count = 0, start = 0;
    for (size_t i = 0; i <= query.len; i++) {
        if (i < query.len && query.ptr[i] != '&')
            continue;
        sb_str piece = sb_str_make(query.ptr + start, i - start);
        start = i + 1;
        if (piece.len == 0)
            continue;
        if (count == max_pairs)
            return NET_URI_TOO_MANY;
        ptrdiff_t eq = sb_str_index(piece, '=', 0);
        sb_str rk = eq < 0 ? piece : sb_str_slice(piece, 0, (size_t)eq);
        sb_str rv = eq < 0 ? SB_STR("") : sb_str_slice(piece, (size_t)eq + 1, piece.len);
        net_uri_err e;
        if ((e = decode_into_arena(rk, arena, &pairs[count].key)) != NET_URI_OK ||
            (e = decode_into_arena(rv, arena, &pairs[count].value)) != NET_URI_OK)
            return e;
        count++;
    }
    *n = count;
    return NET_URI_OK;
}
