/*
 * json.c: limit-checked parsing through jansson, and the streaming writer.
 *
 * Before jansson sees a byte, the input is checked for size, strict UTF-8
 * and nesting depth (a scan that tracks strings and escapes), so a hostile
 * body cannot make the parser recurse deeply or store bad text.
 */
#include "base/json.h"

#include <assert.h>
#include <math.h>
#include <stdio.h>
#include <string.h>

#include "base/utf8.h"

static void locate(const char *buf, size_t offset, sb_json_error *err)
{
    int line = 1, col = 1;
    for (size_t i = 0; i < offset; i++) {
        if (buf[i] == '\n') {
            line++;
            col = 1;
        } else {
            col++;
        }
    }
    err->line = line;
    err->column = col;
}

static sb_json_errcode fail(sb_json_error *err, sb_json_errcode code, const char *buf,
                            size_t offset, const char *text)
{
    if (err) {
        err->code = code;
        err->offset = offset;
        locate(buf, offset, err);
        snprintf(err->text, sizeof(err->text), "%s", text);
    }
    return code;
}

sb_json_errcode sb_json_parse(const char *buf, size_t len, const sb_json_limits *limits,
                              json_t **out, sb_json_error *err)
{
    size_t max_bytes = limits ? limits->max_bytes : 0;
    unsigned max_depth = limits && limits->max_depth ? limits->max_depth : 64;
    if (max_bytes && len > max_bytes)
        return fail(err, SB_JSON_TOO_LARGE, buf, 0, "the document is larger than allowed");
    size_t bad;
    if (!sb_utf8_valid(buf, len, &bad))
        return fail(err, SB_JSON_BAD_UTF8, buf, bad, "invalid UTF-8");

    unsigned depth = 0;
    bool in_string = false;
    for (size_t i = 0; i < len; i++) {
        char c = buf[i];
        if (in_string) {
            if (c == '\\')
                i++;
            else if (c == '"')
                in_string = false;
        } else if (c == '"') {
            in_string = true;
        } else if (c == '[' || c == '{') {
            if (++depth > max_depth)
                return fail(err, SB_JSON_TOO_DEEP, buf, i, "nesting is deeper than allowed");
        } else if ((c == ']' || c == '}') && depth > 0) {
            depth--;
        }
    }

    json_error_t jerr;
    json_t *v = json_loadb(buf ? buf : "", len, JSON_REJECT_DUPLICATES | JSON_DECODE_ANY, &jerr);
    if (!v) {
        size_t pos = jerr.position > 0 ? (size_t)jerr.position : 0;
        if (pos > len)
            pos = len;
        return fail(err, SB_JSON_SYNTAX, buf, pos, jerr.text);
    }
    *out = v;
    return SB_JSON_OK;
}

/* ---- writer ---- */

void sb_json_escape(sb_buf *out, const char *s, size_t len)
{
    static const char hex[] = "0123456789abcdef";
    const unsigned char *p = (const unsigned char *)s;
    sb_buf_reserve(out, len + 2);
    sb_buf_putc(out, '"');
    size_t i = 0;
    while (i < len) {
        unsigned char c = p[i];
        if (c >= 0x80) {
            /* Copy a valid sequence as is; a bad byte becomes U+FFFD. */
            size_t n = c >= 0xF0 ? 4 : c >= 0xE0 ? 3 : 2;
            if (n <= len - i && sb_utf8_valid(s + i, n, NULL)) {
                if (n == 3 && c == 0xE2 && p[i + 1] == 0x80 &&
                    (p[i + 2] == 0xA8 || p[i + 2] == 0xA9)) {
                    /* U+2028/2029 end lines in JavaScript. */
                    sb_buf_puts(out, p[i + 2] == 0xA8 ? "\\u2028" : "\\u2029");
                } else {
                    sb_buf_append(out, s + i, n);
                }
                i += n;
            } else {
                sb_buf_puts(out, "\\ufffd");
                i++;
            }
            continue;
        }
        switch (c) {
        case '"':
            sb_buf_puts(out, "\\\"");
            break;
        case '\\':
            sb_buf_puts(out, "\\\\");
            break;
        case '\b':
            sb_buf_puts(out, "\\b");
            break;
        case '\f':
            sb_buf_puts(out, "\\f");
            break;
        case '\n':
            sb_buf_puts(out, "\\n");
            break;
        case '\r':
            sb_buf_puts(out, "\\r");
            break;
        case '\t':
            sb_buf_puts(out, "\\t");
            break;
        case '<':
        case '>':
        case '&':
        case 0x7f:
            goto escape;
        default:
            if (c < 0x20)
                goto escape;
            sb_buf_putc(out, (char)c);
        }
        i++;
        continue;
    escape : {
        char e[6] = {'\\', 'u', '0', '0', hex[c >> 4], hex[c & 15]};
        sb_buf_append(out, e, 6);
        i++;
    }
    }
    sb_buf_putc(out, '"');
}

void sb_jw_init(sb_jw *w, sb_buf *out)
{
    memset(w, 0, sizeof(*w));
    w->out = out;
}

/* Before any value: a comma if this container already holds one. */
static void before_value(sb_jw *w)
{
    if (w->after_key) {
        w->after_key = false;
        return;
    }
    if (w->need_comma[w->depth])
        sb_buf_putc(w->out, ',');
    w->need_comma[w->depth] = true;
}

static void open(sb_jw *w, char c)
{
    before_value(w);
    assert(w->depth < SB_JW_MAX_DEPTH && "JSON written too deep");
    sb_buf_putc(w->out, c);
    w->need_comma[++w->depth] = false;
}

static void close_(sb_jw *w, char c)
{
    assert(w->depth > 0);
    w->depth--;
    sb_buf_putc(w->out, c);
}

void sb_jw_obj_begin(sb_jw *w)
{
    open(w, '{');
}
void sb_jw_obj_end(sb_jw *w)
{
    close_(w, '}');
}
void sb_jw_arr_begin(sb_jw *w)
{
    open(w, '[');
}
void sb_jw_arr_end(sb_jw *w)
{
    close_(w, ']');
}

void sb_jw_keyn(sb_jw *w, const char *key, size_t len)
{
    before_value(w);
    sb_json_escape(w->out, key, len);
    sb_buf_putc(w->out, ':');
    w->after_key = true;
}

void sb_jw_key(sb_jw *w, const char *key)
{
    sb_jw_keyn(w, key, strlen(key));
}

void sb_jw_strn(sb_jw *w, const char *s, size_t len)
{
    before_value(w);
    sb_json_escape(w->out, s, len);
}

void sb_jw_str(sb_jw *w, const char *s)
{
    if (!s) {
        sb_jw_null(w);
        return;
    }
    sb_jw_strn(w, s, strlen(s));
}

void sb_jw_int(sb_jw *w, int64_t v)
{
    before_value(w);
    sb_buf_appendf(w->out, "%lld", (long long)v);
}

void sb_jw_uint(sb_jw *w, uint64_t v)
{
    before_value(w);
    sb_buf_appendf(w->out, "%llu", (unsigned long long)v);
}

void sb_jw_double(sb_jw *w, double v)
{
    if (!isfinite(v)) {
        sb_jw_null(w);
        return;
    }
    before_value(w);
    char tmp[32];
    snprintf(tmp, sizeof(tmp), "%.17g", v);
    sb_buf_puts(w->out, tmp);
    /* Keep it a JSON number that reads back as a double: "1" -> "1.0". */
    if (!strpbrk(tmp, ".eE"))
        sb_buf_puts(w->out, ".0");
}

void sb_jw_bool(sb_jw *w, bool v)
{
    before_value(w);
    sb_buf_puts(w->out, v ? "true" : "false");
}

void sb_jw_null(sb_jw *w)
{
    before_value(w);
    sb_buf_puts(w->out, "null");
}

void sb_jw_raw(sb_jw *w, const char *json, size_t len)
{
    before_value(w);
    sb_buf_append(w->out, json, len);
}

void sb_jw_json(sb_jw *w, const json_t *v)
{
    switch (json_typeof(v)) {
    case JSON_OBJECT: {
        const char *key;
        json_t *val;
        sb_jw_obj_begin(w);
        /* jansson iterates in insertion order (2.8+), so output keeps the
         * client's key order. */
        json_object_foreach((json_t *)v, key, val)
        {
            sb_jw_key(w, key);
            sb_jw_json(w, val);
        }
        sb_jw_obj_end(w);
        break;
    }
    case JSON_ARRAY: {
        size_t i;
        json_t *val;
        sb_jw_arr_begin(w);
        json_array_foreach((json_t *)v, i, val) sb_jw_json(w, val);
        sb_jw_arr_end(w);
        break;
    }
    case JSON_STRING:
        sb_jw_strn(w, json_string_value(v), json_string_length(v));
        break;
    case JSON_INTEGER:
        sb_jw_int(w, (int64_t)json_integer_value(v));
        break;
    case JSON_REAL:
        sb_jw_double(w, json_real_value(v));
        break;
    case JSON_TRUE:
        sb_jw_bool(w, true);
        break;
    case JSON_FALSE:
        sb_jw_bool(w, false);
        break;
    case JSON_NULL:
        sb_jw_null(w);
        break;
    }
}

bool sb_json_same(const json_t *a, const json_t *b)
{
    if (json_is_number(a) && json_is_number(b)) {
        if (json_is_integer(a) && json_is_integer(b))
            return json_integer_value(a) == json_integer_value(b);
        return json_number_value(a) == json_number_value(b);
    }
    if (!a || !b || json_typeof(a) != json_typeof(b))
        return a == b;
    if (json_is_array(a)) {
        size_t n = json_array_size(a);
        if (n != json_array_size(b))
            return false;
        for (size_t i = 0; i < n; i++)
            if (!sb_json_same(json_array_get(a, i), json_array_get(b, i)))
                return false;
        return true;
    }
    if (json_is_object(a)) {
        if (json_object_size(a) != json_object_size(b))
            return false;
        const char *k;
        json_t *v;
        json_object_foreach((json_t *)a, k, v)
        {
            if (!sb_json_same(v, json_object_get(b, k)))
                return false;
        }
        return true;
    }
    return json_equal(a, b); /* strings, true, false, null */
}
