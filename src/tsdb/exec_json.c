/*
 * exec_json.c: the output values of /query, byte for byte as InfluxDB 1.x
 * writes them with Go's encoding/json: strings escaped as Go escapes them
 * (<, > and & as \u003c.., control bytes as \u00XX, invalid UTF-8 as
 * \ufffd, U+2028/9 escaped), float64 in the shortest form that reads back
 * exactly ('f' style, 'e' style below 1e-6 and from 1e21 with "e-07"
 * shortened to "e-7"), times as RFC3339Nano (trailing zeros of the
 * fraction trimmed) or epoch integers.
 */
#include <float.h>
#include <math.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "base/utf8.h"
#include "tsdb/exec_int.h"

void ex__json_str(sb_buf *out, sb_str s)
{
    static const char hex[] = "0123456789abcdef";
    const unsigned char *p = (const unsigned char *)s.ptr;
    sb_buf_reserve(out, s.len + 2);
    sb_buf_putc(out, '"');
    size_t i = 0;
    while (i < s.len) {
        unsigned char c = p[i];
        if (c >= 0x80) {
            size_t n = c >= 0xF0 ? 4 : c >= 0xE0 ? 3 : 2;
            if (n <= s.len - i && sb_utf8_valid(s.ptr + i, n, NULL)) {
                if (n == 3 && c == 0xE2 && p[i + 1] == 0x80 && (p[i + 2] & 0xFE) == 0xA8)
                    sb_buf_puts(out, p[i + 2] == 0xA8 ? "\\u2028" : "\\u2029");
                else
                    sb_buf_append(out, s.ptr + i, n);
                i += n;
            } else {
                sb_buf_puts(out, "\\ufffd");
                i++;
            }
            continue;
        }
        if (c == '"' || c == '\\') {
            sb_buf_putc(out, '\\');
            sb_buf_putc(out, (char)c);
        } else if (c == '\n') {
            sb_buf_puts(out, "\\n");
        } else if (c == '\r') {
            sb_buf_puts(out, "\\r");
        } else if (c == '\t') {
            sb_buf_puts(out, "\\t");
        } else if (c < 0x20 || c == '<' || c == '>' || c == '&') {
            char e[6] = {'\\', 'u', '0', '0', hex[c >> 4], hex[c & 15]};
            sb_buf_append(out, e, 6);
        } else {
            sb_buf_putc(out, (char)c);
        }
        i++;
    }
    sb_buf_putc(out, '"');
}

/* The shortest decimal digits d (no dot, no sign) and exponent e with
 * |v| = 0.d... * 10^(e+1), i.e. d[0].d[1..] * 10^e, that read back as v. */
/*
 * The search tries p = 1, 2, ... 17 significant digits (printf rounds
 * correctly) and keeps the first that reads back. Most tries can be ruled
 * out without printf and strtod: 17 digits of v (S17, within 0.5 x
 * 10^(e-16) of v) tell how far v lies from the nearest p-digit decimal
 * (a multiple of u = 10^(e-p+1)), as the fraction t of u its tail
 * digits make. A p-digit decimal reads back as v only within half an ulp,
 * less than 1.12 x 10^(e-15); so when min(t, 1 - t) exceeds
 * 1.12 x 10^(p-16) plus the 0.5 x 10^(p-17) that S17 may be off (2.5 x
 * 10^(p-16) is used, with margin), p cannot work and is skipped. The
 * answer is the same as trying every p; a mean of 16 or 17 digits costs
 * 2 or 3 conversions instead of 17.
 */
static bool cannot_read_back(const double *tail, int p)
{
    if (p >= 16)
        return false;
    double need = 2.5;
    for (int k = p; k < 16; k++)
        need /= 10;
    return tail[p] > need && 1 - tail[p] > need;
}

typedef unsigned __int128 u128;

static u128 pow10_u128(int k)
{
    u128 r = 1;
    while (k-- > 0)
        r *= 10;
    return r;
}

/* The p-digit decimal nearest m / 2^sh (10^ex <= it < 10^(ex+1)), ties to
 * even as printf rounds, in *out (its digits as an integer), and whether it
 * lies inside the value's rounding interval, inclusive when m is even
 * (strtod rounds ties to even) and half as wide below a power of two. */
static bool nearest_reads_back(uint64_t m, int sh, int ex, int p, u128 *out)
{
    int k = p - 1 - ex; /* D ~ value x 10^k */
    u128 up = pow10_u128(k > 0 ? k : 0);
    u128 den = ((u128)1 << sh) * pow10_u128(k < 0 ? -k : 0);
    u128 num = (u128)m * up;
    u128 dd = num / den, rem = num - dd * den;
    if (2 * rem > den || (2 * rem == den && (dd & 1)))
        dd++;
    *out = dd;
    bool even = (m & 1) == 0, pow2 = m == (1ull << 52);
    u128 at = dd * den; /* D, scaled as num */
    u128 lo2 = pow2 ? (4 * (u128)m - 1) * up : (2 * (u128)m - 1) * up;
    u128 at2 = pow2 ? 4 * at : 2 * at;
    u128 hi2 = (2 * (u128)m + 1) * up;
    bool lo_ok = at2 > lo2 || (even && at2 == lo2);
    bool hi_ok = 2 * at < hi2 || (even && 2 * at == hi2);
    return lo_ok && hi_ok;
}

/* The same answer with integers only, for 1e-5 <= |v| < 1e15 (where every
 * product below fits in 128 bits): v = m x 2^q exactly, and for p = 1,
 * 2, ... the p-digit decimal nearest v (ties to even, as printf rounds) is
 * kept when it lies inside v's rounding interval, inclusive when m is even
 * (strtod rounds ties to even). printf's exact conversion, strtod and
 * their multi-precision arithmetic were a third of a small query's time. */
static bool shortest_fast(double v, char *d, size_t *nd, int *e)
{
    double a = fabs(v);
    if (!(a >= 1e-5 && a < 1e15))
        return false;
    uint64_t bits;
    memcpy(&bits, &a, 8);
    int be = (int)(bits >> 52);
    uint64_t m = (bits & ((1ull << 52) - 1)) | (1ull << 52);
    int sh = 1075 - be; /* a = m / 2^sh, sh > 0 in this range */
    /* e = floor(log10(a)), exactly: 10^e <= a < 10^(e+1) */
    int ex = (int)floor(log10(a));
    for (;;) {
        /* a >= 10^ex  <=>  m x 10^-ex >= 2^sh x 10^ex (one side's power is 1) */
        u128 l = (u128)m * pow10_u128(ex < 0 ? -ex : 0);
        u128 r = ((u128)1 << sh) * pow10_u128(ex > 0 ? ex : 0);
        if (l < r) {
            ex--;
            continue;
        }
        u128 l1 = (u128)m * pow10_u128(ex + 1 < 0 ? -(ex + 1) : 0);
        u128 r1 = ((u128)1 << sh) * pow10_u128(ex + 1 > 0 ? ex + 1 : 0);
        if (l1 >= r1) {
            ex++;
            continue;
        }
        break;
    }
    /* If p digits read back, so do p + 1 (the nearest is no farther):
     * the shortest is found by bisection, 17 always reading back. Below a
     * power of two the interval is lopsided and a nearer decimal can fall
     * outside it: there every p is tried in turn. */
    int lo = 1, hi = 17;
    u128 found = 0;
    if (m == (1ull << 52)) {
        while (lo <= 17 && !nearest_reads_back(m, sh, ex, lo, &found))
            lo++;
        hi = 0;
    }
    while (lo <= hi) {
        int mid = (lo + hi) / 2;
        u128 dd;
        if (nearest_reads_back(m, sh, ex, mid, &dd)) {
            found = dd;
            hi = mid - 1;
        } else {
            lo = mid + 1;
        }
    }
    if (lo > 17 || found == 0)
        return false;
    int p = lo;
    u128 dd = found;
    char t[40];
    size_t n = 0;
    do {
        t[n++] = (char)('0' + (int)(dd % 10));
        dd /= 10;
    } while (dd);
    *e = ex + (int)n - p; /* one more digit: D rounded up to 10^p */
    size_t k = 0;
    while (n > 0)
        d[k++] = t[--n];
    while (k > 1 && d[k - 1] == '0')
        k--;
    d[k] = 0;
    *nd = k;
    return true;
}

static size_t shortest(double v, char *d, int *e)
{
    size_t fast;
    if (shortest_fast(v, d, &fast, e))
        return fast;
    char s17[40], buf[40];
    snprintf(s17, sizeof(s17), "%.16e", v);
    /* tail[p]: the digits after the p-th as a fraction, 0.d[p]d[p+1]... */
    int dig[17], nd = 0;
    for (const char *c = s17; *c && *c != 'e' && nd < 17; c++)
        if (*c >= '0' && *c <= '9')
            dig[nd++] = *c - '0';
    double tail[18] = {0};
    for (int p = nd - 1; p >= 0; p--)
        tail[p] = (dig[p] + tail[p + 1]) / 10;
    const char *pick = s17;
    for (int p = 1; p < 17; p++) {
        /* the bound assumes a normal number's ulp; a subnormal's is wider */
        if (fabs(v) >= DBL_MIN && cannot_read_back(tail, p))
            continue;
        snprintf(buf, sizeof(buf), "%.*e", p - 1, v);
        if (strtod(buf, NULL) == v) {
            pick = buf;
            break;
        }
    }
    const char *q0 = pick;
    size_t n = 0;
    const char *q = q0;
    if (*q == '-')
        q++;
    for (; *q && *q != 'e'; q++)
        if (*q >= '0' && *q <= '9')
            d[n++] = *q;
    *e = *q == 'e' ? atoi(q + 1) : 0;
    while (n > 1 && d[n - 1] == '0')
        n--;
    d[n] = 0;
    return n;
}

void ex__json_float(sb_buf *out, double v)
{
    if (!isfinite(v)) {
        sb_buf_puts(out, "null");
        return;
    }
    if (v == 0) {
        sb_buf_puts(out, signbit(v) ? "-0" : "0");
        return;
    }
    char d[32];
    int e;
    size_t n = shortest(v, d, &e);
    if (v < 0)
        sb_buf_putc(out, '-');
    double a = fabs(v);
    if (a < 1e-6 || a >= 1e21) {
        sb_buf_putc(out, d[0]);
        if (n > 1) {
            sb_buf_putc(out, '.');
            sb_buf_append(out, d + 1, n - 1);
        }
        /* Go writes at least two exponent digits; encoding/json then cuts
         * "e-07" to "e-7" (but leaves "e+21" alone). */
        if (e < 0)
            sb_buf_appendf(out, "e-%d", -e);
        else
            sb_buf_appendf(out, "e+%02d", e);
        return;
    }
    if (e < 0) {
        sb_buf_puts(out, "0.");
        for (int z = 0; z < -e - 1; z++)
            sb_buf_putc(out, '0');
        sb_buf_append(out, d, n);
        return;
    }
    size_t ip = (size_t)e + 1; /* digits before the point */
    if (n <= ip) {
        sb_buf_append(out, d, n);
        for (size_t z = n; z < ip; z++)
            sb_buf_putc(out, '0');
    } else {
        sb_buf_append(out, d, ip);
        sb_buf_putc(out, '.');
        sb_buf_append(out, d + ip, n - ip);
    }
}

/* Decimal digits of a 64-bit integer without printf: a query writes one
 * a row (its time) and often more; printf's format parsing was most of
 * the cost of a small answer. */
static void put_u64(sb_buf *out, uint64_t u)
{
    char d[20];
    size_t n = 0;
    do {
        d[sizeof(d) - ++n] = (char)('0' + u % 10);
        u /= 10;
    } while (u);
    sb_buf_append(out, d + sizeof(d) - n, n);
}

static void put_i64(sb_buf *out, int64_t v)
{
    if (v < 0) {
        sb_buf_putc(out, '-');
        put_u64(out, (uint64_t)0 - (uint64_t)v);
    } else {
        put_u64(out, (uint64_t)v);
    }
}

/* Days since 1970-01-01 to a civil date (H. Hinnant's algorithm). */
static void civil(int64_t z, int64_t *y, unsigned *m, unsigned *d)
{
    z += 719468;
    int64_t era = (z >= 0 ? z : z - 146096) / 146097;
    unsigned doe = (unsigned)(z - era * 146097);
    unsigned yoe = (doe - doe / 1460 + doe / 36524 - doe / 146096) / 365;
    int64_t yy = (int64_t)yoe + era * 400;
    unsigned doy = doe - (365 * yoe + yoe / 4 - yoe / 100);
    unsigned mp = (5 * doy + 2) / 153;
    *d = doy - (153 * mp + 2) / 5 + 1;
    *m = mp < 10 ? mp + 3 : mp - 9;
    *y = yy + (*m <= 2);
}

size_t ex__rfc3339(char *buf, int64_t ns)
{
    int64_t secs = ns / 1000000000, frac = ns % 1000000000;
    if (frac < 0) {
        frac += 1000000000;
        secs--;
    }
    int64_t days = secs / 86400, sod = secs % 86400;
    if (sod < 0) {
        sod += 86400;
        days--;
    }
    int64_t y;
    unsigned m, d;
    civil(days, &y, &m, &d);
    int n = snprintf(buf, 40, "%04lld-%02u-%02uT%02d:%02d:%02d", (long long)y, m, d,
                     (int)(sod / 3600), (int)(sod / 60 % 60), (int)(sod % 60));
    if (frac) {
        char f[16];
        snprintf(f, sizeof(f), "%09lld", (long long)frac);
        int fl = 9;
        while (fl > 0 && f[fl - 1] == '0')
            fl--;
        n += snprintf(buf + n, 40 - (size_t)n, ".%.*s", fl, f);
    }
    buf[n++] = 'Z';
    buf[n] = 0;
    return (size_t)n;
}

void ex__json_time(sb_buf *out, int64_t ns, const tsdb_exec_opts *o)
{
    if (o->has_epoch) {
        put_i64(out, ns / tsdb_precision_ns(o->epoch));
        return;
    }
    char buf[48];
    size_t n = ex__rfc3339(buf, ns);
    sb_buf_putc(out, '"');
    sb_buf_append(out, buf, n);
    sb_buf_putc(out, '"');
}

void ex__json_val(sb_buf *out, const ex_val *v)
{
    switch (v->type) {
    case TSDB_FLOAT:
        ex__json_float(out, v->f);
        break;
    case TSDB_INT:
        put_i64(out, v->i);
        break;
    case TSDB_UINT:
        put_u64(out, v->u);
        break;
    case TSDB_BOOL:
        sb_buf_puts(out, v->b ? "true" : "false");
        break;
    case TSDB_STRING:
        ex__json_str(out, v->s);
        break;
    default:
        sb_buf_puts(out, "null");
    }
}

void ex__series_begin(ex_ctx *c, sb_str name, const sb_str *tag_keys, const sb_str *tag_vals,
                      size_t ntags, const sb_str *columns, size_t ncolumns)
{
    sb_buf *b = c->series;
    if (c->nseries++)
        sb_buf_putc(b, ',');
    sb_buf_putc(b, '{');
    bool comma = false;
    if (name.ptr) {
        sb_buf_puts(b, "\"name\":");
        ex__json_str(b, name);
        comma = true;
    }
    if (ntags) {
        sb_buf_puts(b, comma ? ",\"tags\":{" : "\"tags\":{");
        for (size_t i = 0; i < ntags; i++) {
            if (i)
                sb_buf_putc(b, ',');
            ex__json_str(b, tag_keys[i]);
            sb_buf_putc(b, ':');
            ex__json_str(b, tag_vals[i]);
        }
        sb_buf_putc(b, '}');
        comma = true;
    }
    sb_buf_puts(b, comma ? ",\"columns\":[" : "\"columns\":[");
    for (size_t i = 0; i < ncolumns; i++) {
        if (i)
            sb_buf_putc(b, ',');
        ex__json_str(b, columns[i]);
    }
    sb_buf_putc(b, ']');
}

void ex__row_begin(ex_ctx *c, size_t row_index)
{
    sb_buf_puts(c->series, row_index ? ",[" : ",\"values\":[[");
}

void ex__series_end(ex_ctx *c, size_t nrows)
{
    /* Go omits "values" when there are none (omitempty). */
    sb_buf_puts(c->series, nrows ? "]}" : "}");
}
