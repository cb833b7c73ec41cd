/*
 * multipart.c: the boundary parameter and the multipart/form-data body. See
 * multipart.h for what is accepted.
 *
 * The body is walked once, left to right: a delimiter is found with memmem
 * for "\n--boundary" (or "--boundary" at offset 0), header lines with
 * memchr inside a window that the header limit bounds, so time stays
 * linear in the body and no search reads past it. Every view handed out is
 * a slice of the input.
 */
#include "net/multipart.h"

#include <string.h>

static const char *const multipart_errors[] = {
#define NET_MULTIPART__MSG(name, message) [NET_MULTIPART_##name] = message,
    NET_MULTIPART_ERRNO_MAP(NET_MULTIPART__MSG)
#undef NET_MULTIPART__MSG
};

const char *net_multipart_strerror(net_multipart_err e)
{
    return (size_t)e < SB_ARRAY_LEN(multipart_errors) ? multipart_errors[e] : "unknown error";
}

/* ---- RFC 9110 §5.6 syntax ---- */

static bool is_alnum(unsigned char c)
{
    return (c >= 'a' && c <= 'z') || (c >= 'A' && c <= 'Z') || (c >= '0' && c <= '9');
}

/* tchar (RFC 9110 §5.6.2) */
static bool is_tchar(unsigned char c)
{
    return is_alnum(c) || (c != 0 && strchr("!#$%&'*+-.^_`|~", c) != NULL);
}

/* bchars (RFC 2046 §5.1.1): bcharsnospace and space */
static bool is_bchar(unsigned char c)
{
    return is_alnum(c) || (c != 0 && strchr("'()+_,-./:=? ", c) != NULL);
}

/* The bytes of a field value (RFC 9110 §5.5): HTAB, visible ASCII, space
 * and obs-text; also qdtext (but '"' and '\\', which the caller handles) and
 * the second byte of a quoted-pair (§5.6.4). */
static bool is_qchar(unsigned char c)
{
    return c == '\t' || (c >= 0x20 && c != 0x7f);
}

static bool boundary_ok(sb_str b)
{
    if (b.len < 1 || b.len > NET_MULTIPART_BOUNDARY_MAX || b.ptr[b.len - 1] == ' ')
        return false;
    for (size_t i = 0; i < b.len; i++)
        if (!is_bchar((unsigned char)b.ptr[i]))
            return false;
    return true;
}

static void skip_ows(sb_str s, size_t *i)
{
    while (*i < s.len && (s.ptr[*i] == ' ' || s.ptr[*i] == '\t'))
        (*i)++;
}

static sb_str take_token(sb_str s, size_t *i)
{
    size_t start = *i;
    while (*i < s.len && is_tchar((unsigned char)s.ptr[*i]))
        (*i)++;
    return sb_str_make(s.ptr + start, *i - start);
}

typedef struct param {
    sb_str name;
    sb_str value; /* raw: between the quotes, escapes kept */
} param;

/* Reads the next `OWS ";" OWS [ name "=" value ]` (RFC 9110 §5.6.6) from
 * s at *i. Returns 1 with a parameter in *p, 0 at the end of s, -1 on a
 * syntax error. Empty parameters ("a; ; b=1", a trailing ';') are skipped. */
static int next_param(sb_str s, size_t *i, param *p)
{
    for (;;) {
        skip_ows(s, i);
        if (*i == s.len)
            return 0;
        if (s.ptr[*i] != ';')
            return -1;
        (*i)++;
        skip_ows(s, i);
        if (*i == s.len)
            return 0;
        if (s.ptr[*i] != ';')
            break;
    }
    p->name = take_token(s, i);
    if (p->name.len == 0 || *i == s.len || s.ptr[*i] != '=')
        return -1;
    (*i)++;
    if (*i < s.len && s.ptr[*i] == '"') {
        size_t start = ++*i;
        for (;;) {
            if (*i == s.len)
                return -1; /* unterminated */
            unsigned char c = (unsigned char)s.ptr[*i];
            if (c == '"')
                break;
            if (c == '\\') {
                if (*i + 1 == s.len)
                    return -1;
                (*i)++;
                if (!is_qchar((unsigned char)s.ptr[*i]))
                    return -1;
            } else if (!is_qchar(c)) {
                return -1;
            }
            (*i)++;
        }
        p->value = sb_str_make(s.ptr + start, *i - start);
        (*i)++; /* the closing quote */
    } else {
        p->value = take_token(s, i);
        if (p->value.len == 0)
            return -1;
    }
    return 1;
}

/* ---- the boundary ---- */

net_multipart_err net_multipart_boundary(sb_str content_type, sb_str *boundary)
{
    sb_str ct = content_type;
    size_t i = 0;
    skip_ows(ct, &i);
    size_t start = i;
    take_token(ct, &i);
    if (i < ct.len && ct.ptr[i] == '/') {
        i++;
        take_token(ct, &i);
    }
    if (!sb_str_eq_nocase(sb_str_make(ct.ptr + start, i - start), SB_STR("multipart/form-data")))
        return NET_MULTIPART_NOT_FORM_DATA;

    sb_str found = SB_STR_NULL;
    param p;
    int r;
    while ((r = next_param(ct, &i, &p)) > 0) {
        if (!sb_str_eq_nocase(p.name, SB_STR("boundary")))
            continue;
        if (found.ptr)
            return NET_MULTIPART_BAD_BOUNDARY; /* given twice */
        found = p.value;
    }
    if (r < 0)
        return NET_MULTIPART_BAD_BOUNDARY;
    if (!found.ptr)
        return NET_MULTIPART_NO_BOUNDARY;
    /* A quoted boundary with escapes holds '\\', which is no bchar. */
    if (!boundary_ok(found))
        return NET_MULTIPART_BAD_BOUNDARY;
    *boundary = found;
    return NET_MULTIPART_OK;
}

/* ---- the body ---- */

/* Content-Disposition: form-data; name="..."[; filename="..."] (RFC 7578
 * §4.2). Other parameters (filename* among them, which §4.2 says senders
 * must not use) are ignored; name and filename may appear once. */
static bool parse_disposition(sb_str v, net_part *part)
{
    size_t i = 0;
    if (!sb_str_eq_nocase(take_token(v, &i), SB_STR("form-data")))
        return false;
    param p;
    int r;
    while ((r = next_param(v, &i, &p)) > 0) {
        sb_str *slot = NULL;
        if (sb_str_eq_nocase(p.name, SB_STR("name")))
            slot = &part->name;
        else if (sb_str_eq_nocase(p.name, SB_STR("filename")))
            slot = &part->filename;
        if (!slot)
            continue;
        if (slot->ptr)
            return false;
        *slot = p.value;
    }
    return r == 0 && part->name.ptr != NULL;
}

/* One header line (its line break removed) into part; false if malformed. */
static bool parse_header(sb_str line, net_part *part, bool *have_disposition)
{
    size_t i = 0;
    /* A leading space would be obsolete line folding (RFC 9110 §5.5). */
    sb_str name = take_token(line, &i);
    if (name.len == 0 || i == line.len || line.ptr[i] != ':')
        return false;
    i++;
    for (size_t k = i; k < line.len; k++)
        if (!is_qchar((unsigned char)line.ptr[k]))
            return false;
    skip_ows(line, &i);
    size_t end = line.len;
    while (end > i && (line.ptr[end - 1] == ' ' || line.ptr[end - 1] == '\t'))
        end--;
    sb_str value = sb_str_make(line.ptr + i, end - i);
    if (sb_str_eq_nocase(name, SB_STR("content-disposition"))) {
        if (*have_disposition)
            return false;
        *have_disposition = true;
        return parse_disposition(value, part);
    }
    if (sb_str_eq_nocase(name, SB_STR("content-type"))) {
        if (part->content_type.ptr)
            return false;
        part->content_type = value;
    }
    return true;
}

/* Reads the header block of a part starting at body offset *pos; leaves
 * *pos at the first byte of its data. */
static net_multipart_err parse_headers(sb_str body, size_t *pos, net_part *part)
{
    size_t start = *pos, h = start;
    bool have_disposition = false;
    for (;;) {
        /* Lines so far take h - start <= HEADER_MAX bytes; the window lets
         * the blank line's CRLF sit just past the limit. */
        size_t window = SB_MIN(body.len - h, start + NET_MULTIPART_HEADER_MAX + 2 - h);
        const char *lf = memchr(body.ptr + h, '\n', window);
        if (!lf)
            return window < body.len - h ? NET_MULTIPART_HEADER_TOO_LONG : NET_MULTIPART_NO_END;
        size_t e = (size_t)(lf - body.ptr);
        sb_str line = sb_str_make(body.ptr + h, e - h);
        if (line.len > 0 && line.ptr[line.len - 1] == '\r')
            line.len--;
        if (line.len == 0) {
            *pos = e + 1;
            return have_disposition ? NET_MULTIPART_OK : NET_MULTIPART_MALFORMED;
        }
        if (e + 1 - start > NET_MULTIPART_HEADER_MAX)
            return NET_MULTIPART_HEADER_TOO_LONG;
        if (!parse_header(line, part, &have_disposition))
            return NET_MULTIPART_MALFORMED;
        h = e + 1;
    }
}

net_multipart_err net_multipart_parse(sb_str body, sb_str boundary, net_part *parts,
                                      size_t max_parts, size_t *nparts)
{
    if (!boundary_ok(boundary))
        return NET_MULTIPART_BAD_BOUNDARY;
    /* "\n--boundary": a delimiter starts a line (RFC 2046 §5.1.1); the line
     * break before it belongs to the delimiter, not to the data. */
    char needle[3 + NET_MULTIPART_BOUNDARY_MAX];
    size_t nlen = 3 + boundary.len;
    memcpy(needle, "\n--", 3);
    memcpy(needle + 3, boundary.ptr, boundary.len);
    const char *b = body.ptr;
    size_t n = body.len;

    size_t p; /* offset of the "--" of the current delimiter */
    if (n >= nlen - 1 && memcmp(b, needle + 1, nlen - 1) == 0) {
        p = 0;
    } else {
        const char *f = n ? memmem(b, n, needle, nlen) : NULL;
        if (!f)
            return NET_MULTIPART_MALFORMED;
        p = (size_t)(f - b) + 1;
    }

    size_t count = 0;
    for (;;) {
        size_t q = p + nlen - 1;
        if (n - q >= 2 && b[q] == '-' && b[q + 1] == '-')
            break; /* the close delimiter; what follows is the epilogue */
        if (n - q == 1 && b[q] == '-')
            return NET_MULTIPART_NO_END;
        /* transport-padding, then CRLF (or LF) */
        while (q < n && (b[q] == ' ' || b[q] == '\t'))
            q++;
        if (q < n && b[q] == '\r')
            q++;
        if (q == n)
            return NET_MULTIPART_NO_END;
        if (b[q] != '\n')
            return NET_MULTIPART_MALFORMED;
        q++;

        if (count == max_parts)
            return NET_MULTIPART_TOO_MANY_PARTS;
        net_part part = {SB_STR_NULL, SB_STR_NULL, SB_STR_NULL, SB_STR_NULL};
        net_multipart_err e = parse_headers(body, &q, &part);
        if (e != NET_MULTIPART_OK)
            return e;
        /* b[q - 1] is the header block's last '\n': a delimiter right
         * after it leaves the part without data. */
        const char *f = memmem(b + q - 1, n - (q - 1), needle, nlen);
        if (!f)
            return NET_MULTIPART_NO_END;
        size_t end = (size_t)(f - b);
        if (end < q)
            end = q;
        else if (end > q && b[end - 1] == '\r')
            end--;
        part.data = sb_str_make(b + q, end - q);
        parts[count++] = part;
        p = (size_t)(f - b) + 1;
    }
    *nparts = count;
    return NET_MULTIPART_OK;
}

size_t net_multipart_unquote(sb_str raw, char *out)
{
    size_t o = 0;
    for (size_t i = 0; i < raw.len; i++) {
        if (raw.ptr[i] == '\\' && i + 1 < raw.len)
            i++;
        out[o++] = raw.ptr[i];
    }
    return o;
}
