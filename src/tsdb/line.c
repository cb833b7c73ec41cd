/*
 * line.c: the line protocol parser (rules and memory contract in line.h).
 *
 * One pass over the line, left to right: measurement, tags, fields,
 * timestamp. A backslash always pairs with the byte after it while looking
 * for delimiters, so an escaped delimiter never ends an element; only the
 * element's own escapes are then removed (an unknown "\x" stays as is).
 * Error texts follow InfluxDB 1.x ("unable to parse '...': missing fields")
 * so clients that match on them keep working.
 *
 * Never: read past the line, allocate outside the caller's arena, accept a
 * number strtod would read differently from the grammar (hex, inf, nan).
 */
#include "tsdb/line.h"

#include <float.h>
#include <inttypes.h>
#include <math.h>
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>

/* InfluxDB's valid time range (models.MinNanoTime, MaxNanoTime). */
#define MIN_NANO (INT64_MIN + 2)
#define MAX_NANO (INT64_MAX - 1)

static const char MEAS_ESC[] = ", ";
static const char KEY_ESC[] = ",= ";
static const char STR_ESC[] = "\"";

typedef struct parser {
    sb_str line;
    size_t pos;
    const tsdb_line_opts *o;
    sb_arena *a;
    sb_errbuf *err;
} parser;

static tsdb_err fail(parser *p, tsdb_err code, const char *fmt, ...) SB_PRINTF(3, 4);
static tsdb_err fail(parser *p, tsdb_err code, const char *fmt, ...)
{
    char reason[160];
    va_list ap;
    va_start(ap, fmt);
    vsnprintf(reason, sizeof(reason), fmt, ap);
    va_end(ap);
    int show = (int)SB_MIN(p->line.len, 100);
    sb_errf(p->err, "unable to parse '%.*s%s': %s", show, p->line.ptr,
            p->line.len > 100 ? "..." : "", reason);
    return code;
}

/* Sets are two or three bytes: a loop beats strchr's call on this path. */
static bool in_set(char c, const char *set)
{
    for (; *set; set++)
        if (*set == c)
            return true;
    return false;
}

static bool at_end(const parser *p)
{
    return p->pos >= p->line.len;
}

static char cur(const parser *p)
{
    return p->line.ptr[p->pos];
}

/* What each byte is to scan: a delimiter of the measurement (",", " "), of
 * keys and tag values (",", "=", " "), or the escape. One table lookup a
 * byte instead of a walk over the delimiter set. */
enum { STOP_MEAS = 1, STOP_KEY = 2, BACKSLASH = 4 };
static const unsigned char byte_class[256] = {
    [','] = STOP_MEAS | STOP_KEY,
    [' '] = STOP_MEAS | STOP_KEY,
    ['='] = STOP_KEY,
    ['\\'] = BACKSLASH,
};

/* Advances to the first unescaped byte of class stops (or the end) and
 * returns what it passed; *esc says whether a backslash was seen. */
static sb_str scan(parser *p, unsigned stops, bool *esc)
{
    const unsigned char *s = (const unsigned char *)p->line.ptr;
    size_t i = p->pos, n = p->line.len, start = i;
    bool e = false;
    while (i < n) {
        unsigned k = byte_class[s[i]];
        if (!(k & (stops | BACKSLASH))) {
            i++;
            continue;
        }
        if (k & stops)
            break;
        e = true; /* a backslash pairs with the byte after it, if any */
        i += i + 1 < n ? 2 : 1;
    }
    p->pos = i;
    *esc = e;
    return sb_str_make(p->line.ptr + start, i - start);
}

/* Removes the escapes of specials (and doubled backslashes) from raw. */
static sb_str unescape(parser *p, sb_str raw, bool esc, const char *specials)
{
    if (!esc)
        return raw;
    char *out = sb_arena_alloc(p->a, raw.len);
    size_t n = 0;
    for (size_t i = 0; i < raw.len; i++) {
        char c = raw.ptr[i];
        if (c == '\\' && i + 1 < raw.len &&
            (raw.ptr[i + 1] == '\\' || in_set(raw.ptr[i + 1], specials)))
            c = raw.ptr[++i];
        out[n++] = c;
    }
    return sb_str_make(out, n);
}

static int cmp_str(sb_str a, sb_str b)
{
    int c = memcmp(a.ptr, b.ptr, SB_MIN(a.len, b.len));
    if (c)
        return c;
    return a.len < b.len ? -1 : a.len > b.len;
}

static int cmp_tag(const void *x, const void *y)
{
    return cmp_str(((const tsdb_tag *)x)->key, ((const tsdb_tag *)y)->key);
}

/* A field with its position on the line, so sorting can keep the last of
 * duplicate keys (qsort is not stable). */
typedef struct ordered_field {
    tsdb_field f;
    size_t at;
} ordered_field;

static int cmp_field(const void *x, const void *y)
{
    const ordered_field *a = x, *b = y;
    int c = cmp_str(a->f.key, b->f.key);
    if (c)
        return c;
    return a->at < b->at ? -1 : a->at > b->at;
}

/*
 * Tags and fields are collected in a small array on the stack (lines have
 * a handful) and copied once into the arena at their final count: growing
 * them in the arena cost a zeroed 8-slot array a point (most of a 5000-line
 * batch's arena, every page of it faulted in fresh). Past the stack array,
 * they double in the arena (the old copy stays there).
 */
#define LINE_INLINE 16

static void *grow(sb_arena *a, void *items, size_t n, size_t *cap, size_t elem)
{
    if (n < *cap)
        return items;
    size_t nc = *cap * 2;
    void *p = sb_arena_alloc(a, nc * elem);
    memcpy(p, items, n * elem);
    *cap = nc;
    return p;
}

static void *arena_copy(sb_arena *a, const void *items, size_t n, size_t elem)
{
    if (!n)
        return NULL;
    void *p = sb_arena_alloc(a, n * elem);
    memcpy(p, items, n * elem);
    return p;
}

static bool is_digit(char c)
{
    return c >= '0' && c <= '9';
}

/* -?[0-9]+ into an int64, false on syntax or overflow (*range says which). */
static bool parse_i64(sb_str s, int64_t *out, bool *range)
{
    size_t i = 0;
    bool neg = s.len > 0 && s.ptr[0] == '-';
    *range = false;
    if (neg)
        i++;
    if (i == s.len)
        return false;
    /* Up to 18 digits cannot overflow: no check a digit (timestamps in
     * seconds and most values are far shorter). */
    if (s.len - i <= 18) {
        uint64_t v = 0;
        for (; i < s.len; i++) {
            unsigned d = (unsigned char)s.ptr[i] - '0';
            if (d > 9)
                return false;
            v = v * 10 + d;
        }
        *out = neg ? -(int64_t)v : (int64_t)v;
        return true;
    }
    int64_t v = 0;
    for (; i < s.len; i++) {
        if (!is_digit(s.ptr[i]))
            return false;
        int d = s.ptr[i] - '0';
        if (__builtin_mul_overflow(v, 10, &v) ||
            (neg ? __builtin_sub_overflow(v, d, &v) : __builtin_add_overflow(v, d, &v))) {
            *range = true;
            for (; i < s.len; i++)
                if (!is_digit(s.ptr[i]))
                    *range = false;
            return false;
        }
    }
    *out = v;
    return true;
}

static bool parse_u64(sb_str s, uint64_t *out, bool *range)
{
    uint64_t v = 0;
    *range = false;
    if (s.len == 0)
        return false;
    for (size_t i = 0; i < s.len; i++)
        if (!is_digit(s.ptr[i]))
            return false;
    for (size_t i = 0; i < s.len; i++) {
        if (__builtin_mul_overflow(v, 10, &v) ||
            __builtin_add_overflow(v, (uint64_t)(s.ptr[i] - '0'), &v)) {
            *range = true;
            return false;
        }
    }
    *out = v;
    return true;
}

/* Exact powers of ten: every one up to 1e22 is a double without rounding. */
static const double POW10[] = {1e0,  1e1,  1e2,  1e3,  1e4,  1e5,  1e6,  1e7,
                               1e8,  1e9,  1e10, 1e11, 1e12, 1e13, 1e14, 1e15,
                               1e16, 1e17, 1e18, 1e19, 1e20, 1e21, 1e22};

/*
 * A float of the grammar -?(d+(.d*)?|.d+)([eE][+-]?d+)? into *out; false on
 * a syntax error. One pass reads the digits as an integer m and a power of
 * ten; when m < 2^53 and the power is within 22, m and 10^|e| are exact
 * doubles and one IEEE multiplication or division rounds m x 10^e
 * correctly (Clinger's fast path), which is what strtod returns. Longer
 * mantissas and larger exponents go to strtod. The grammar rules out the
 * forms where strtod would read more than we do (hex, inf, nan, spaces).
 */
static bool parse_float(parser *p, sb_str s, double *out)
{
    size_t i = 0, digits = 0, sig = 0;
    bool neg = s.ptr[0] == '-';
    uint64_t m = 0;
    int64_t e10 = 0;
    if (neg)
        i++;
    for (; i < s.len && is_digit(s.ptr[i]); i++, digits++) {
        if (sig < 19) {
            m = m * 10 + (unsigned)(s.ptr[i] - '0');
            sig += m != 0;
        } else {
            sig++, e10++; /* beyond 19 digits: strtod decides */
        }
    }
    if (i < s.len && s.ptr[i] == '.') {
        for (i++; i < s.len && is_digit(s.ptr[i]); i++, digits++) {
            if (sig < 19) {
                m = m * 10 + (unsigned)(s.ptr[i] - '0');
                sig += m != 0;
                e10--;
            } else {
                sig++;
            }
        }
    }
    if (digits == 0)
        return false;
    if (i < s.len && (s.ptr[i] == 'e' || s.ptr[i] == 'E')) {
        i++;
        bool eneg = false;
        if (i < s.len && (s.ptr[i] == '+' || s.ptr[i] == '-'))
            eneg = s.ptr[i++] == '-';
        size_t ed = 0;
        int64_t x = 0;
        for (; i < s.len && is_digit(s.ptr[i]); i++, ed++)
            if (x < 100000) /* far past any double: strtod reads the rest */
                x = x * 10 + (s.ptr[i] - '0');
        if (ed == 0)
            return false;
        e10 += eneg ? -x : x;
    }
    if (i != s.len)
        return false;
#if FLT_EVAL_METHOD == 0 /* doubles round as doubles, not in wider registers */
    if (sig <= 19 && m <= (UINT64_C(1) << 53) && e10 >= -22 && e10 <= 22) {
        double v = (double)m;
        v = e10 < 0 ? v / POW10[-e10] : v * POW10[e10];
        *out = neg ? -v : v;
        return true;
    }
#endif
    /* strtod wants a terminated string. */
    char small[64];
    char *buf = s.len < sizeof(small) ? small : sb_arena_alloc(p->a, s.len + 1);
    memcpy(buf, s.ptr, s.len);
    buf[s.len] = '\0';
    *out = strtod(buf, NULL);
    return true;
}

static bool parse_bool(sb_str s, bool *out)
{
    static const char *const yes[] = {"t", "T", "true", "True", "TRUE"};
    static const char *const no[] = {"f", "F", "false", "False", "FALSE"};
    for (size_t i = 0; i < SB_ARRAY_LEN(yes); i++) {
        if (sb_str_eq(s, sb_str_c(yes[i])) || sb_str_eq(s, sb_str_c(no[i]))) {
            *out = sb_str_eq(s, sb_str_c(yes[i]));
            return true;
        }
    }
    return false;
}

/* A field value that is not a string. As in InfluxDB, what starts like a
 * number ('-', '.', a digit) is one, anything else must be a boolean. */
static tsdb_err parse_scalar(parser *p, sb_str s, tsdb_field *f)
{
    bool range;
    char c0 = s.ptr[0], last = s.ptr[s.len - 1];
    if (c0 != '-' && c0 != '.' && !is_digit(c0)) {
        f->type = TSDB_BOOL;
        if (!parse_bool(s, &f->v.b))
            return fail(p, TSDB_E_SYNTAX, "invalid boolean");
        return TSDB_E_OK;
    }
    if (last == 'i' || last == 'u') {
        sb_str digits = sb_str_make(s.ptr, s.len - 1);
        bool ok =
            last == 'i' ? parse_i64(digits, &f->v.i, &range) : parse_u64(digits, &f->v.u, &range);
        f->type = last == 'i' ? TSDB_INT : TSDB_UINT;
        if (ok)
            return TSDB_E_OK;
        if (range)
            return fail(p, TSDB_E_RANGE, "unable to parse %s %.*s: value out of range",
                        last == 'i' ? "integer" : "unsigned", (int)SB_MIN(digits.len, 40), s.ptr);
        return fail(p, TSDB_E_SYNTAX, "invalid number");
    }
    f->type = TSDB_FLOAT;
    if (!parse_float(p, s, &f->v.f))
        return fail(p, TSDB_E_SYNTAX, "invalid number");
    if (isinf(f->v.f))
        return fail(p, TSDB_E_RANGE, "invalid float");
    return TSDB_E_OK;
}

/* One field value at p->pos, up to the ',' or ' ' after it. */
static tsdb_err parse_value(parser *p, tsdb_field *f)
{
    if (at_end(p) || cur(p) == ',' || cur(p) == ' ')
        return fail(p, TSDB_E_SYNTAX, "missing field value");
    if (cur(p) != '"') {
        size_t start = p->pos;
        while (!at_end(p) && cur(p) != ',' && cur(p) != ' ')
            p->pos++;
        return parse_scalar(p, sb_str_make(p->line.ptr + start, p->pos - start), f);
    }
    size_t start = ++p->pos;
    bool esc = false;
    for (;;) {
        if (at_end(p))
            return fail(p, TSDB_E_SYNTAX, "unbalanced quotes");
        if (cur(p) == '\\' && p->pos + 1 < p->line.len) {
            esc = true;
            p->pos += 2;
            continue;
        }
        if (cur(p) == '"')
            break;
        p->pos++;
    }
    sb_str raw = sb_str_make(p->line.ptr + start, p->pos - start);
    p->pos++; /* the closing quote */
    if (!at_end(p) && cur(p) != ',' && cur(p) != ' ')
        return fail(p, TSDB_E_SYNTAX, "invalid field format");
    f->type = TSDB_STRING;
    f->v.s = unescape(p, raw, esc, STR_ESC);
    if (f->v.s.len > p->o->limits.max_string)
        return fail(p, TSDB_E_LIMIT, "string field too long: %zu > %zu", f->v.s.len,
                    p->o->limits.max_string);
    return TSDB_E_OK;
}

static size_t escaped_len(sb_str s, const char *specials)
{
    size_t n = s.len;
    for (size_t i = 0; i < s.len; i++)
        if (s.ptr[i] == '\\' || in_set(s.ptr[i], specials))
            n++;
    return n;
}

static size_t escape_into(char *dst, sb_str s, const char *specials)
{
    size_t n = 0;
    for (size_t i = 0; i < s.len; i++) {
        if (s.ptr[i] == '\\' || in_set(s.ptr[i], specials))
            dst[n++] = '\\';
        dst[n++] = s.ptr[i];
    }
    return n;
}

/* The canonical series key of a point whose tags are sorted. Without a
 * backslash on the line (any_esc false) no name holds a byte its element
 * escapes (those bytes would have ended it), so the pieces are copied as
 * they are: the wide workload's lines have their tags out of order, and
 * escaping byte by byte was ~7% of its ingest. */
static sb_str series_key(parser *p, const tsdb_point *pt, bool any_esc)
{
    if (!any_esc) {
        size_t n = pt->measurement.len;
        for (size_t i = 0; i < pt->ntags; i++)
            n += 2 + pt->tags[i].key.len + pt->tags[i].value.len;
        char *k = sb_arena_alloc(p->a, n);
        memcpy(k, pt->measurement.ptr, pt->measurement.len);
        size_t at = pt->measurement.len;
        for (size_t i = 0; i < pt->ntags; i++) {
            k[at++] = ',';
            memcpy(k + at, pt->tags[i].key.ptr, pt->tags[i].key.len);
            at += pt->tags[i].key.len;
            k[at++] = '=';
            memcpy(k + at, pt->tags[i].value.ptr, pt->tags[i].value.len);
            at += pt->tags[i].value.len;
        }
        return sb_str_make(k, at);
    }
    size_t n = escaped_len(pt->measurement, MEAS_ESC);
    for (size_t i = 0; i < pt->ntags; i++)
        n += 2 + escaped_len(pt->tags[i].key, KEY_ESC) + escaped_len(pt->tags[i].value, KEY_ESC);
    char *k = sb_arena_alloc(p->a, n);
    size_t at = escape_into(k, pt->measurement, MEAS_ESC);
    for (size_t i = 0; i < pt->ntags; i++) {
        k[at++] = ',';
        at += escape_into(k + at, pt->tags[i].key, KEY_ESC);
        k[at++] = '=';
        at += escape_into(k + at, pt->tags[i].value, KEY_ESC);
    }
    return sb_str_make(k, at);
}

static tsdb_err parse_tags(parser *p, tsdb_point *pt, bool *any_esc)
{
    tsdb_tag stack[LINE_INLINE], *tags = stack;
    size_t n = 0, cap = LINE_INLINE;
    while (!at_end(p) && cur(p) == ',') {
        p->pos++;
        bool ek, ev;
        sb_str key = scan(p, STOP_KEY, &ek);
        if (key.len == 0)
            return fail(p, TSDB_E_SYNTAX, "missing tag key");
        if (at_end(p) || cur(p) != '=')
            return fail(p, TSDB_E_SYNTAX, "missing tag value");
        p->pos++;
        sb_str val = scan(p, STOP_KEY, &ev);
        if (!at_end(p) && cur(p) == '=')
            return fail(p, TSDB_E_SYNTAX, "invalid tag format");
        if (val.len == 0)
            return fail(p, TSDB_E_SYNTAX, "missing tag value");
        if (n == p->o->limits.max_tags)
            return fail(p, TSDB_E_LIMIT, "too many tags: more than %zu", p->o->limits.max_tags);
        *any_esc |= ek || ev;
        tags = grow(p->a, tags, n, &cap, sizeof(tsdb_tag));
        tags[n++] = (tsdb_tag){unescape(p, key, ek, KEY_ESC), unescape(p, val, ev, KEY_ESC)};
    }
    pt->tags = tags == stack ? arena_copy(p->a, stack, n, sizeof(tsdb_tag)) : tags;
    pt->ntags = n;
    return TSDB_E_OK;
}

/* Sorts tags, refuses duplicates and "time", and sets the series key: a
 * view of the line when it is already canonical, else built. */
static tsdb_err canonical_tags(parser *p, tsdb_point *pt, sb_str raw_key, bool any_esc)
{
    bool sorted = true;
    for (size_t i = 1; i < pt->ntags; i++)
        if (cmp_str(pt->tags[i - 1].key, pt->tags[i].key) >= 0)
            sorted = false;
    if (!sorted) {
        qsort(pt->tags, pt->ntags, sizeof(tsdb_tag), cmp_tag);
        for (size_t i = 1; i < pt->ntags; i++)
            if (sb_str_eq(pt->tags[i - 1].key, pt->tags[i].key))
                return fail(p, TSDB_E_SYNTAX, "duplicate tags");
    }
    for (size_t i = 0; i < pt->ntags; i++)
        if (sb_str_eq(pt->tags[i].key, SB_STR("time")))
            return fail(p, TSDB_E_SYNTAX,
                        "invalid tag key: input tag \"time\" on measurement \"%.*s\" is invalid",
                        (int)SB_MIN(pt->measurement.len, 60), pt->measurement.ptr);
    pt->series_key = sorted && !any_esc ? raw_key : series_key(p, pt, any_esc);
    if (pt->series_key.len > p->o->limits.max_key)
        return fail(p, TSDB_E_LIMIT, "max key length exceeded: %zu > %zu", pt->series_key.len,
                    p->o->limits.max_key);
    return TSDB_E_OK;
}

static tsdb_err parse_fields(parser *p, tsdb_point *pt)
{
    ordered_field stack[LINE_INLINE], *fs = stack;
    size_t n = 0, cap = LINE_INLINE;
    for (;;) {
        bool ek;
        sb_str key = scan(p, STOP_KEY, &ek);
        if (key.len == 0) /* InfluxDB's words: "m =1" vs "m v=1,,w=2" */
            return fail(p, TSDB_E_SYNTAX, n ? "invalid field format" : "missing field key");
        if (at_end(p) || cur(p) != '=')
            return fail(p, TSDB_E_SYNTAX, "invalid field format");
        p->pos++;
        if (n == p->o->limits.max_fields)
            return fail(p, TSDB_E_LIMIT, "too many fields: more than %zu", p->o->limits.max_fields);
        fs = grow(p->a, fs, n, &cap, sizeof(*fs));
        fs[n].at = n;
        fs[n].f.key = unescape(p, key, ek, KEY_ESC);
        if (sb_str_eq(fs[n].f.key, SB_STR("time")))
            return fail(p, TSDB_E_SYNTAX,
                        "invalid field name: input field \"time\" on measurement \"%.*s\" is "
                        "invalid",
                        (int)SB_MIN(pt->measurement.len, 60), pt->measurement.ptr);
        tsdb_err e = parse_value(p, &fs[n].f);
        if (e != TSDB_E_OK)
            return e;
        n++;
        if (at_end(p) || cur(p) == ' ')
            break;
        p->pos++; /* the comma */
    }
    /* Fields written in key order (the usual case) need no sort. */
    bool sorted = true;
    for (size_t i = 1; i < n && sorted; i++)
        sorted = cmp_str(fs[i - 1].f.key, fs[i].f.key) < 0;
    if (!sorted)
        qsort(fs, n, sizeof(*fs), cmp_field);
    pt->fields = sb_arena_alloc(p->a, n * sizeof(tsdb_field));
    pt->nfields = 0;
    for (size_t i = 0; i < n; i++) {
        /* Of equal keys, the last written (sorted last) wins. */
        if (i + 1 < n && sb_str_eq(fs[i].f.key, fs[i + 1].f.key))
            continue;
        pt->fields[pt->nfields++] = fs[i].f;
    }
    return TSDB_E_OK;
}

static tsdb_err parse_time(parser *p, tsdb_point *pt)
{
    size_t start = p->pos;
    while (!at_end(p) && cur(p) != ' ')
        p->pos++;
    sb_str s = sb_str_make(p->line.ptr + start, p->pos - start);
    while (!at_end(p) && cur(p) == ' ')
        p->pos++;
    int64_t t;
    bool range;
    if (!parse_i64(s, &t, &range))
        return fail(p, TSDB_E_SYNTAX, "bad timestamp");
    if (!at_end(p))
        return fail(p, TSDB_E_SYNTAX, "point is invalid");
    if (__builtin_mul_overflow(t, tsdb_precision_ns(p->o->precision), &t) || t < MIN_NANO ||
        t > MAX_NANO)
        return fail(p, TSDB_E_RANGE, "time outside range %" PRId64 " - %" PRId64, (int64_t)MIN_NANO,
                    (int64_t)MAX_NANO);
    pt->time = t;
    pt->has_time = true;
    return TSDB_E_OK;
}

tsdb_err tsdb_line_parse(sb_str line, const tsdb_line_opts *opts, sb_arena *a, tsdb_point *out,
                         sb_errbuf *err)
{
    if (!line.ptr)
        line = SB_STR(""); /* no arithmetic on a NULL view */
    parser p = {line, 0, opts, a, err};
    while (!at_end(&p) && (cur(&p) == ' ' || cur(&p) == '\t'))
        p.pos++;
    if (line.len > opts->limits.max_line)
        return fail(&p, TSDB_E_LIMIT, "line too long: %zu > %zu", line.len, opts->limits.max_line);
    /* Filled in place: a point built on the stack and copied out cost a
     * store-forwarding stall a line (*out is unspecified on failure). */
    tsdb_point *pt = out;
    *pt = (tsdb_point){0};
    size_t key_start = p.pos;
    bool esc, any_esc;
    sb_str m = scan(&p, STOP_MEAS, &esc);
    if (m.len == 0)
        return fail(&p, TSDB_E_SYNTAX, "missing measurement");
    pt->measurement = unescape(&p, m, esc, MEAS_ESC);
    any_esc = esc;
    tsdb_err e = parse_tags(&p, pt, &any_esc);
    if (e != TSDB_E_OK)
        return e;
    sb_str raw_key = sb_str_make(line.ptr + key_start, p.pos - key_start);
    e = canonical_tags(&p, pt, raw_key, any_esc);
    if (e != TSDB_E_OK)
        return e;
    while (!at_end(&p) && cur(&p) == ' ')
        p.pos++;
    if (at_end(&p))
        return fail(&p, TSDB_E_SYNTAX, "missing fields");
    e = parse_fields(&p, pt);
    if (e != TSDB_E_OK)
        return e;
    while (!at_end(&p) && cur(&p) == ' ')
        p.pos++;
    pt->time = opts->now;
    if (!at_end(&p)) {
        e = parse_time(&p, pt);
        if (e != TSDB_E_OK)
            return e;
    }
    return TSDB_E_OK;
}
