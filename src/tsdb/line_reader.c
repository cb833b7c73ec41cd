/*
 * line_reader.c: walking a write body line by line for partial writes
 * (good lines give points, bad ones errors with their 1-based number, as
 * InfluxDB reports them), and the precisions a write may name.
 */
#include "tsdb/line.h"

#include <string.h>

void tsdb_line_reader_init(tsdb_line_reader *r, sb_str body, const tsdb_line_opts *opts)
{
    r->body = body;
    r->pos = 0;
    r->line_no = 0;
    r->next_no = 1;
    r->opts = *opts;
}

/* Where the line starting at s ends: the first '\n' outside a quoted
 * string field value, since InfluxDB lets those span lines. This follows
 * the parser's grammar (line.c): keys up to the first unescaped space,
 * then fields, where a '"' right after a key's '=' opens a string. A
 * backslash never hides a newline outside strings. */
static size_t line_len(const char *s, size_t len)
{
    /* Only a '"' can open a string: a line without one before its first
     * newline ends there (most lines; two memchr instead of a state
     * machine step a byte). */
    const char *nl = memchr(s, '\n', len);
    size_t first = nl ? (size_t)(nl - s) : len;
    if (!memchr(s, '"', first))
        return first;
    enum { KEYS, GAP, FIELD_KEY, VALUE_START, VALUE, STRING, REST } st = KEYS;
    size_t i = 0;
    while (i < len && (s[i] == ' ' || s[i] == '\t'))
        i++;
    if (i < len && s[i] == '#')
        st = REST; /* a comment ends at its newline */
    for (; i < len; i++) {
        char c = s[i];
        if (c == '\n' && st != STRING)
            return i;
        bool pair = c == '\\' && i + 1 < len && s[i + 1] != '\n';
        switch (st) {
        case KEYS:
            if (pair)
                i++;
            else if (c == ' ')
                st = GAP;
            break;
        case GAP:
            if (c == ' ')
                break;
            st = FIELD_KEY; /* c begins the first field key */
            __attribute__((fallthrough));
        case FIELD_KEY:
            if (pair)
                i++;
            else if (c == '=')
                st = VALUE_START;
            else if (c == ' ')
                st = REST;
            break;
        case VALUE_START:
            if (c == '"') {
                st = STRING;
                break;
            }
            st = VALUE; /* c begins an unquoted value */
            __attribute__((fallthrough));
        case VALUE:
            if (c == ',')
                st = FIELD_KEY;
            else if (c == ' ')
                st = REST;
            break;
        case STRING:
            if (c == '\\' && i + 1 < len)
                i++;
            else if (c == '"')
                st = VALUE;
            break;
        case REST:
            break;
        }
    }
    return len;
}

tsdb_line_status tsdb_line_next(tsdb_line_reader *r, sb_arena *a, tsdb_point *out, sb_errbuf *err)
{
    while (r->pos < r->body.len) {
        const char *start = r->body.ptr + r->pos;
        size_t left = r->body.len - r->pos, len = line_len(start, left);
        r->pos += len < left ? len + 1 : len;
        if (len == left && len && start[len - 1] == '\n')
            len--; /* an open quote ran to the end: InfluxDB drops the last newline */
        r->line_no = r->next_no;
        r->next_no++;
        if (memchr(start, '\n', len)) /* newlines inside strings */
            for (size_t k = 0; k < len; k++)
                r->next_no += start[k] == '\n';
        size_t i = 0;
        while (i < len && (start[i] == ' ' || start[i] == '\t'))
            i++;
        if (i == len || start[i] == '#')
            continue; /* blank line or comment */
        if (tsdb_line_parse(sb_str_make(start, len), &r->opts, a, out, err) != TSDB_E_OK)
            return TSDB_LINE_ERROR;
        return TSDB_LINE_POINT;
    }
    return TSDB_LINE_END;
}

bool tsdb_precision_parse(sb_str s, tsdb_precision *out)
{
    static const struct {
        const char *name;
        tsdb_precision p;
    } names[] = {{"n", TSDB_PREC_NS},  {"ns", TSDB_PREC_NS}, {"u", TSDB_PREC_US},
                 {"us", TSDB_PREC_US}, {"ms", TSDB_PREC_MS}, {"s", TSDB_PREC_S},
                 {"m", TSDB_PREC_M},   {"h", TSDB_PREC_H}};
    for (size_t i = 0; i < SB_ARRAY_LEN(names); i++) {
        if (sb_str_eq(s, sb_str_c(names[i].name))) {
            *out = names[i].p;
            return true;
        }
    }
    return false;
}

int64_t tsdb_precision_ns(tsdb_precision p)
{
    switch (p) {
    case TSDB_PREC_NS:
        return 1;
    case TSDB_PREC_US:
        return 1000;
    case TSDB_PREC_MS:
        return 1000000;
    case TSDB_PREC_S:
        return 1000000000;
    case TSDB_PREC_M:
        return INT64_C(60000000000);
    case TSDB_PREC_H:
        return INT64_C(3600000000000);
    }
    return 1;
}
