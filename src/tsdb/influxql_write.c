/*
 * influxql_write.c: InfluxQL trees back to text, in one canonical form
 * (result column names are written this way, as InfluxDB names them
 * after the expression), and time literals to nanoseconds.
 */
#include <assert.h>
#include <math.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "tsdb/influxql_int.h"

const char *iql_op_name(iql_op op)
{
    static const char *const names[] = {
        [IQL_OP_NONE] = "",        [IQL_OP_OR] = "OR",   [IQL_OP_AND] = "AND",
        [IQL_OP_EQ] = "=",         [IQL_OP_NEQ] = "!=",  [IQL_OP_EQ_REGEX] = "=~",
        [IQL_OP_NEQ_REGEX] = "!~", [IQL_OP_LT] = "<",    [IQL_OP_LTE] = "<=",
        [IQL_OP_GT] = ">",         [IQL_OP_GTE] = ">=",  [IQL_OP_ADD] = "+",
        [IQL_OP_SUB] = "-",        [IQL_OP_BITOR] = "|", [IQL_OP_BITXOR] = "^",
        [IQL_OP_MUL] = "*",        [IQL_OP_DIV] = "/",   [IQL_OP_MOD] = "%",
        [IQL_OP_BITAND] = "&",
    };
    return (size_t)op < SB_ARRAY_LEN(names) && names[op] ? names[op] : "?";
}

static void quoted(sb_buf *out, sb_str s, char q)
{
    sb_buf_putc(out, q);
    for (size_t i = 0; i < s.len; i++) {
        if (s.ptr[i] == q || s.ptr[i] == '\\')
            sb_buf_putc(out, '\\');
        sb_buf_putc(out, s.ptr[i]);
    }
    sb_buf_putc(out, q);
}

static void name(sb_buf *out, sb_str s)
{
    if (iql_needs_quotes(s))
        quoted(out, s, '"');
    else
        sb_buf_append(out, s.ptr, s.len);
}

static void duration(sb_buf *out, int64_t ns)
{
    static const struct {
        int64_t ns;
        const char *unit;
    } units[] = {
        {7 * 86400LL * 1000000000LL, "w"},
        {86400LL * 1000000000LL, "d"},
        {3600LL * 1000000000LL, "h"},
        {60LL * 1000000000LL, "m"},
        {1000000000LL, "s"},
        {1000000, "ms"},
        {1000, "u"},
    };
    if (ns == 0) {
        sb_buf_append(out, "0s", 2);
        return;
    }
    for (size_t i = 0; i < SB_ARRAY_LEN(units); i++)
        if (ns % units[i].ns == 0) {
            sb_buf_appendf(out, "%lld%s", (long long)(ns / units[i].ns), units[i].unit);
            return;
        }
    /* Parsed durations are whole microseconds; this is for computed ones,
     * and InfluxQL has no unit to read it back. */
    sb_buf_appendf(out, "%lldns", (long long)ns);
}

/* A float as InfluxQL reads one back: the shortest digits that
 * round-trip, written out positionally because the language has no
 * exponent. "%.*e" gives those digits and where the point goes; the
 * result is at most IQL_NUMBER_MAX bytes (4.9e-324 is "0." and 323
 * zeros before its digits), which the lexer accepts. */
static void number(sb_buf *out, double f)
{
    assert(isfinite(f)); /* the lexer refuses literals that overflow */
    char e[40];
    int prec = 0;
    for (; prec < 17; prec++) {
        snprintf(e, sizeof(e), "%.*e", prec, f);
        if (strtod(e, NULL) == f)
            break;
    }
    char *p = e, digits[20];
    size_t nd = 0;
    if (*p == '-')
        sb_buf_putc(out, *p++);
    for (; *p != 'e'; p++)
        if (*p != '.')
            digits[nd++] = *p;
    int exp = atoi(p + 1); /* the first digit's power of ten */
    while (nd > 1 && digits[nd - 1] == '0')
        nd--;
    if (exp < 0) {
        sb_buf_append(out, "0.", 2);
        for (int i = -1; i > exp; i--)
            sb_buf_putc(out, '0');
        sb_buf_append(out, digits, nd);
        return;
    }
    size_t whole = (size_t)exp + 1;
    for (size_t i = 0; i < whole; i++)
        sb_buf_putc(out, i < nd ? digits[i] : '0');
    sb_buf_putc(out, '.');
    if (nd > whole)
        sb_buf_append(out, digits + whole, nd - whole);
    else
        sb_buf_putc(out, '0'); /* stays a float, not an integer */
}

static const char *cast_name(iql_cast c)
{
    switch (c) {
    case IQL_CAST_FLOAT:
        return "float";
    case IQL_CAST_INTEGER:
        return "integer";
    case IQL_CAST_STRING:
        return "string";
    case IQL_CAST_BOOLEAN:
        return "boolean";
    case IQL_CAST_FIELD:
        return "field";
    case IQL_CAST_TAG:
        return "tag";
    default:
        return NULL;
    }
}

void iql_expr_write(const iql_expr *e, sb_buf *out)
{
    const char *c;
    switch (e->kind) {
    case IQL_VAR:
    case IQL_WILDCARD:
        if (e->kind == IQL_VAR)
            name(out, e->name);
        else
            sb_buf_putc(out, '*');
        if ((c = cast_name(e->cast)))
            sb_buf_appendf(out, "::%s", c);
        break;
    case IQL_CALL:
        sb_buf_append(out, e->name.ptr, e->name.len);
        sb_buf_putc(out, '(');
        for (size_t i = 0; i < e->nargs; i++) {
            if (i)
                sb_buf_append(out, ", ", 2);
            iql_expr_write(e->args[i], out);
        }
        sb_buf_putc(out, ')');
        break;
    case IQL_BINARY:
        iql_expr_write(e->lhs, out);
        sb_buf_appendf(out, " %s ", iql_op_name(e->op));
        iql_expr_write(e->rhs, out);
        break;
    case IQL_PAREN:
        sb_buf_putc(out, '(');
        iql_expr_write(e->lhs, out);
        sb_buf_putc(out, ')');
        break;
    case IQL_INTEGER:
        sb_buf_appendf(out, "%lld", (long long)e->i);
        break;
    case IQL_NUMBER:
        number(out, e->f);
        break;
    case IQL_STRING:
        quoted(out, e->s, '\'');
        break;
    case IQL_BOOLEAN:
        sb_buf_append_str(out, e->b ? SB_STR("true") : SB_STR("false"));
        break;
    case IQL_DURATION:
        duration(out, e->i);
        break;
    case IQL_REGEX:
        sb_buf_putc(out, '/');
        for (size_t i = 0; i < e->s.len; i++) {
            if (e->s.ptr[i] == '/')
                sb_buf_putc(out, '\\');
            sb_buf_putc(out, e->s.ptr[i]);
        }
        sb_buf_putc(out, '/');
        break;
    }
}

/* ---- time literals ---- */

/* Reads exactly n digits at s[*i]. */
static bool digits(sb_str s, size_t *i, int n, int *out)
{
    *out = 0;
    for (int k = 0; k < n; k++, (*i)++) {
        if (*i >= s.len || s.ptr[*i] < '0' || s.ptr[*i] > '9')
            return false;
        *out = *out * 10 + (s.ptr[*i] - '0');
    }
    return true;
}

/* Days since 1970-01-01 of a proleptic Gregorian date. */
static int64_t days_from_civil(int64_t y, int m, int d)
{
    y -= m <= 2;
    int64_t era = (y >= 0 ? y : y - 399) / 400;
    int64_t yoe = y - era * 400;
    int64_t doy = (153 * (m + (m > 2 ? -3 : 9)) + 2) / 5 + d - 1;
    int64_t doe = yoe * 365 + yoe / 4 - yoe / 100 + doy;
    return era * 146097 + doe - 719468;
}

static bool at(sb_str s, size_t i, char c)
{
    return i < s.len && s.ptr[i] == c;
}

bool iql_parse_time(sb_str s, int64_t *ns)
{
    size_t i = 0;
    int y, mo, d, h = 0, mi = 0, sec = 0;
    if (!digits(s, &i, 4, &y) || !at(s, i++, '-') || !digits(s, &i, 2, &mo) || !at(s, i++, '-') ||
        !digits(s, &i, 2, &d) || mo < 1 || mo > 12 || d < 1 || d > 31)
        return false;
    static const int mdays[] = {31, 29, 31, 30, 31, 30, 31, 31, 30, 31, 30, 31};
    bool leap = (y % 4 == 0 && y % 100 != 0) || y % 400 == 0;
    if (d > mdays[mo - 1] || (mo == 2 && d == 29 && !leap))
        return false;
    int64_t frac = 0, offset_s = 0;
    if (i < s.len) {
        if (s.ptr[i] != 'T' && s.ptr[i] != ' ')
            return false;
        bool rfc = s.ptr[i++] == 'T';
        if (!digits(s, &i, 2, &h) || !at(s, i++, ':') || !digits(s, &i, 2, &mi) ||
            !at(s, i++, ':') || !digits(s, &i, 2, &sec) || h > 23 || mi > 59 || sec > 60)
            return false;
        if (at(s, i, '.')) {
            i++;
            int n = 0;
            while (i < s.len && s.ptr[i] >= '0' && s.ptr[i] <= '9') {
                if (n++ < 9)
                    frac = frac * 10 + (s.ptr[i] - '0');
                i++;
            }
            if (n == 0)
                return false;
            for (; n < 9; n++)
                frac *= 10;
        }
        if (rfc) { /* RFC 3339 needs a zone: Z or +hh:mm */
            if (at(s, i, 'Z')) {
                i++;
            } else if (at(s, i, '+') || at(s, i, '-')) {
                int sign = s.ptr[i++] == '-' ? -1 : 1, oh, om;
                if (!digits(s, &i, 2, &oh) || !at(s, i++, ':') || !digits(s, &i, 2, &om) ||
                    oh > 23 || om > 59)
                    return false;
                offset_s = sign * (oh * 3600 + om * 60);
            } else {
                return false;
            }
        }
        if (i != s.len)
            return false;
    }
    int64_t secs = days_from_civil(y, mo, d) * 86400 + h * 3600 + mi * 60 + sec - offset_s;
    /* int64 nanoseconds reach 2262; InfluxDB's range is the same. */
    if (secs > INT64_MAX / 1000000000LL - 1 || secs < INT64_MIN / 1000000000LL + 1)
        return false;
    *ns = secs * 1000000000LL + frac;
    return true;
}
