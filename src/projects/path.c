/*
 * path.c: normalisation of project file paths and the extension table. See
 * path.h for the rules and their order.
 *
 * Normalisation makes two passes over the input: the first checks every
 * rule and measures the result, the second writes it, so a failing call
 * never touches out. Every function is total over arbitrary bytes.
 */
#include "projects/path.h"

#include <assert.h>
#include <string.h>

#include "base/utf8.h"

static const char *const path_errors[] = {
#define PROJECTS_PATH__MSG(name, message) [PROJECTS_PATH_##name] = message,
    PROJECTS_PATH_ERRNO_MAP(PROJECTS_PATH__MSG)
#undef PROJECTS_PATH__MSG
};

const char *projects_path_strerror(projects_path_err e)
{
    return (size_t)e < SB_ARRAY_LEN(path_errors) ? path_errors[e] : "unknown error";
}

static bool is_dot(sb_str seg)
{
    return seg.len == 1 && seg.ptr[0] == '.';
}

static bool is_dot_dot(sb_str seg)
{
    return seg.len == 2 && seg.ptr[0] == '.' && seg.ptr[1] == '.';
}

/* The segment of in that starts at *pos (up to the next '/' or the end);
 * moves *pos past it and its '/'. */
static sb_str next_segment(sb_str in, size_t *pos)
{
    size_t start = *pos, end = start;
    while (end < in.len && in.ptr[end] != '/')
        end++;
    *pos = end + 1;
    return sb_str_make(in.ptr + start, end - start);
}

projects_path_err projects_path_normalize(sb_str in, char *out, size_t cap, size_t *out_len)
{
    assert(cap >= PROJECTS_PATH_OUT_CAP);
    if (in.len == 0)
        return PROJECTS_PATH_EMPTY;
    for (size_t i = 0; i < in.len; i++) {
        unsigned char c = (unsigned char)in.ptr[i];
        if (c == 0)
            return PROJECTS_PATH_NUL;
        if (c < 0x20 || c == 0x7f)
            return PROJECTS_PATH_CONTROL;
        if (c == '\\')
            return PROJECTS_PATH_BACKSLASH;
    }
    if (!sb_utf8_valid(in.ptr, in.len, NULL))
        return PROJECTS_PATH_BAD_UTF8;
    if (in.ptr[0] == '/')
        return PROJECTS_PATH_ABSOLUTE;

    /* Pass 1: the rules on each segment, and the length of the result. */
    size_t len = 0;
    bool long_segment = false;
    sb_str last = SB_STR_NULL;
    for (size_t pos = 0; pos <= in.len;) {
        sb_str seg = next_segment(in, &pos);
        last = seg;
        if (is_dot_dot(seg))
            return PROJECTS_PATH_DOT_DOT; /* wherever it is, before the lengths */
        if (seg.len > PROJECTS_SEGMENT_MAX)
            long_segment = true;
        if (seg.len == 0 || is_dot(seg))
            continue;
        /* Sizes are bounded by in.len, so these sums cannot wrap. */
        len += (len > 0) + seg.len;
    }
    if (long_segment)
        return PROJECTS_PATH_SEGMENT_TOO_LONG;
    if (last.len == 0 || is_dot(last))
        return PROJECTS_PATH_TRAILING_SLASH;
    if (len > PROJECTS_PATH_MAX)
        return PROJECTS_PATH_TOO_LONG;

    /* Pass 2: write. */
    size_t o = 0;
    for (size_t pos = 0; pos <= in.len;) {
        sb_str seg = next_segment(in, &pos);
        if (seg.len == 0 || is_dot(seg))
            continue;
        if (o > 0)
            out[o++] = '/';
        memcpy(out + o, seg.ptr, seg.len);
        o += seg.len;
    }
    assert(o == len);
    out[o] = '\0';
    *out_len = o;
    return PROJECTS_PATH_OK;
}

/* ---- extensions ---- */

#define TEXT_PLAIN "text/plain; charset=utf-8"

typedef struct ext_info {
    const char *ext; /* lower case */
    const char *language;
    const char *content_type;
} ext_info;

static const ext_info extensions[] = {
    {"js", "javascript", "text/javascript; charset=utf-8"},
    {"mjs", "javascript", "text/javascript; charset=utf-8"},
    {"cjs", "javascript", "text/javascript; charset=utf-8"},
    /* JSX and TypeScript need compiling first: served as text. */
    {"jsx", "javascript", TEXT_PLAIN},
    {"ts", "typescript", TEXT_PLAIN},
    {"tsx", "typescript", TEXT_PLAIN},
    {"css", "css", "text/css; charset=utf-8"},
    {"scss", "scss", TEXT_PLAIN},
    {"html", "html", "text/html; charset=utf-8"},
    {"htm", "html", "text/html; charset=utf-8"},
    {"json", "json", "application/json; charset=utf-8"},
    {"md", "markdown", "text/markdown; charset=utf-8"},
    {"markdown", "markdown", "text/markdown; charset=utf-8"},
    {"svg", "svg", "image/svg+xml"},
    {"xml", "xml", "application/xml; charset=utf-8"},
    {"txt", "text", TEXT_PLAIN},
    {"yaml", "yaml", TEXT_PLAIN},
    {"yml", "yaml", TEXT_PLAIN},
    {"py", "python", TEXT_PLAIN},
    {"vue", "vue", TEXT_PLAIN},
    {"svelte", "svelte", TEXT_PLAIN},
};

static const ext_info unknown_ext = {"", "text", TEXT_PLAIN};

/* The entry for path's extension, or unknown_ext. */
static const ext_info *lookup(sb_str path)
{
    size_t i = path.len;
    while (i > 0 && path.ptr[i - 1] != '.' && path.ptr[i - 1] != '/')
        i--;
    if (i == 0 || path.ptr[i - 1] != '.')
        return &unknown_ext; /* no '.' in the last segment */
    sb_str ext = sb_str_make(path.ptr + i, path.len - i);
    for (size_t k = 0; k < SB_ARRAY_LEN(extensions); k++)
        if (sb_str_eq_nocase(ext, sb_str_c(extensions[k].ext)))
            return &extensions[k];
    return &unknown_ext;
}

const char *projects_path_language(sb_str path)
{
    return lookup(path)->language;
}

const char *projects_path_content_type(sb_str path)
{
    return lookup(path)->content_type;
}
