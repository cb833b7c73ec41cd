/*
 * influxql_lex.c: InfluxQL's tokens (the lexical rules of the InfluxQL
 * reference). Keywords are case-insensitive and only unquoted; a quoted
 * identifier is always an identifier, whatever it spells. Numbers have no
 * sign here (the parser applies unary minus) and no exponent, as the
 * reference says. Every literal's escapes are undone into the arena only
 * when there are any, so most tokens stay views into the query.
 */
#include <math.h>
#include <stdlib.h>
#include <string.h>

#include "tsdb/influxql_int.h"

static const struct {
    const char *name;
    iql_kw kw;
} keywords[] = {
    {"AND", IQL_KW_AND},
    {"AS", IQL_KW_AS},
    {"ASC", IQL_KW_ASC},
    {"BY", IQL_KW_BY},
    {"CREATE", IQL_KW_CREATE},
    {"DATABASE", IQL_KW_DATABASE},
    {"DATABASES", IQL_KW_DATABASES},
    {"DESC", IQL_KW_DESC},
    {"DISTINCT", IQL_KW_DISTINCT},
    {"DROP", IQL_KW_DROP},
    {"FIELD", IQL_KW_FIELD},
    {"FROM", IQL_KW_FROM},
    {"GROUP", IQL_KW_GROUP},
    {"IN", IQL_KW_IN},
    {"INTO", IQL_KW_INTO},
    {"KEY", IQL_KW_KEY},
    {"KEYS", IQL_KW_KEYS},
    {"LIMIT", IQL_KW_LIMIT},
    {"MEASUREMENT", IQL_KW_MEASUREMENT},
    {"MEASUREMENTS", IQL_KW_MEASUREMENTS},
    {"OFFSET", IQL_KW_OFFSET},
    {"ON", IQL_KW_ON},
    {"OR", IQL_KW_OR},
    {"ORDER", IQL_KW_ORDER},
    {"POLICIES", IQL_KW_POLICIES},
    {"RETENTION", IQL_KW_RETENTION},
    {"SELECT", IQL_KW_SELECT},
    {"SERIES", IQL_KW_SERIES},
    {"SHOW", IQL_KW_SHOW},
    {"SLIMIT", IQL_KW_SLIMIT},
    {"SOFFSET", IQL_KW_SOFFSET},
    {"TAG", IQL_KW_TAG},
    {"VALUES", IQL_KW_VALUES},
    {"WHERE", IQL_KW_WHERE},
    {"WITH", IQL_KW_WITH},
    /* Keywords of InfluxQL that no statement here uses: still keywords, so
     * they must be quoted to name things, as in InfluxDB. */
    {"ALL", IQL_KW_OTHER},
    {"ALTER", IQL_KW_OTHER},
    {"ANALYZE", IQL_KW_OTHER},
    {"ANY", IQL_KW_OTHER},
    {"BEGIN", IQL_KW_OTHER},
    {"CONTINUOUS", IQL_KW_OTHER},
    {"DEFAULT", IQL_KW_OTHER},
    {"DELETE", IQL_KW_OTHER},
    {"DESTINATIONS", IQL_KW_OTHER},
    {"DIAGNOSTICS", IQL_KW_OTHER},
    {"DURATION", IQL_KW_OTHER},
    {"END", IQL_KW_OTHER},
    {"EVERY", IQL_KW_OTHER},
    {"EXPLAIN", IQL_KW_OTHER},
    {"FOR", IQL_KW_OTHER},
    {"GRANT", IQL_KW_OTHER},
    {"GRANTS", IQL_KW_OTHER},
    {"GROUPS", IQL_KW_OTHER},
    {"INF", IQL_KW_OTHER},
    {"INSERT", IQL_KW_OTHER},
    {"KILL", IQL_KW_OTHER},
    {"NAME", IQL_KW_OTHER},
    {"PASSWORD", IQL_KW_OTHER},
    {"POLICY", IQL_KW_OTHER},
    {"PRIVILEGES", IQL_KW_OTHER},
    {"QUERIES", IQL_KW_OTHER},
    {"QUERY", IQL_KW_OTHER},
    {"READ", IQL_KW_OTHER},
    {"REPLICATION", IQL_KW_OTHER},
    {"RESAMPLE", IQL_KW_OTHER},
    {"REVOKE", IQL_KW_OTHER},
    {"SET", IQL_KW_OTHER},
    {"SHARD", IQL_KW_OTHER},
    {"SHARDS", IQL_KW_OTHER},
    {"STATS", IQL_KW_OTHER},
    {"SUBSCRIPTION", IQL_KW_OTHER},
    {"SUBSCRIPTIONS", IQL_KW_OTHER},
    {"TO", IQL_KW_OTHER},
    {"USER", IQL_KW_OTHER},
    {"USERS", IQL_KW_OTHER},
    {"WRITE", IQL_KW_OTHER},
};

static iql_kw keyword(sb_str s)
{
    for (size_t i = 0; i < SB_ARRAY_LEN(keywords); i++)
        if (sb_str_eq_nocase(s, sb_str_c(keywords[i].name)))
            return keywords[i].kw;
    return IQL_KW_NONE;
}

static bool is_letter(char c)
{
    return (c >= 'a' && c <= 'z') || (c >= 'A' && c <= 'Z') || c == '_';
}

static bool is_digit(char c)
{
    return c >= '0' && c <= '9';
}

bool iql_needs_quotes(sb_str name)
{
    if (name.len == 0 || !is_letter(name.ptr[0]))
        return true;
    for (size_t i = 1; i < name.len; i++)
        if (!is_letter(name.ptr[i]) && !is_digit(name.ptr[i]))
            return true;
    sb_str lower = name;
    return keyword(lower) != IQL_KW_NONE || sb_str_eq_nocase(name, SB_STR("true")) ||
           sb_str_eq_nocase(name, SB_STR("false"));
}

static char peek(const iql_lexer *l, size_t ahead)
{
    return l->pos + ahead < l->src.len ? l->src.ptr[l->pos + ahead] : '\0';
}

static iql_token make(const iql_lexer *l, iql_tok tok, size_t start)
{
    return (iql_token){
        .tok = tok, .pos = start, .text = sb_str_make(l->src.ptr + start, l->pos - start)};
}

static iql_token illegal(const iql_lexer *l, size_t start, const char *why)
{
    iql_token t = make(l, IQL_T_ILLEGAL, start);
    t.illegal = why;
    return t;
}

/* Reads up to the closing quote q, undoing backslash escapes of q (and of
 * the backslash itself, in strings); newlines end identifiers. */
static iql_token quoted(iql_lexer *l, char q, iql_tok tok)
{
    size_t start = l->pos++;
    size_t body = l->pos;
    bool escapes = false;
    for (;;) {
        char c = peek(l, 0);
        if (l->pos >= l->src.len || (c == '\n' && tok == IQL_T_IDENT))
            return illegal(l, start,
                           tok == IQL_T_STRING ? "unterminated string"
                                               : "unterminated quoted identifier");
        if (c == '\\' && l->pos + 1 < l->src.len) {
            /* No newline in an identifier, escaped or not: it could not be
             * written back. */
            if (tok == IQL_T_IDENT && l->src.ptr[l->pos + 1] == '\n')
                return illegal(l, start, "unterminated quoted identifier");
            escapes = true;
            l->pos += 2;
            continue;
        }
        if (c == q)
            break;
        l->pos++;
    }
    size_t end = l->pos++;
    iql_token t = make(l, tok, start);
    t.value = sb_str_make(l->src.ptr + body, end - body);
    if (escapes) {
        char *out = sb_arena_alloc(l->arena, end - body + 1);
        size_t n = 0;
        for (size_t i = body; i < end; i++) {
            char c = l->src.ptr[i];
            char next = i + 1 < end ? l->src.ptr[i + 1] : '\0';
            /* \q and \\ lose their backslash; other escapes are kept as
             * written (InfluxDB keeps "\n" as two characters too). */
            if (c == '\\' && (next == q || next == '\\')) {
                out[n++] = next;
                i++;
            } else {
                out[n++] = c;
            }
        }
        t.value = sb_str_make(out, n);
    }
    return t;
}

static iql_token regex(iql_lexer *l)
{
    size_t start = l->pos++;
    size_t body = l->pos;
    bool escapes = false;
    while (l->pos < l->src.len && l->src.ptr[l->pos] != '/') {
        if (l->src.ptr[l->pos] == '\\' && l->pos + 1 < l->src.len) {
            escapes = escapes || l->src.ptr[l->pos + 1] == '/';
            l->pos++;
        }
        l->pos++;
    }
    if (l->pos >= l->src.len)
        return illegal(l, start, "unterminated regex");
    size_t end = l->pos++;
    iql_token t = make(l, IQL_T_REGEX, start);
    t.value = sb_str_make(l->src.ptr + body, end - body);
    if (escapes) { /* only \/ is InfluxQL's; \d and friends belong to the regex */
        char *out = sb_arena_alloc(l->arena, end - body + 1);
        size_t n = 0;
        for (size_t i = body; i < end; i++) {
            if (l->src.ptr[i] == '\\' && i + 1 < end && l->src.ptr[i + 1] == '/')
                i++;
            out[n++] = l->src.ptr[i];
        }
        t.value = sb_str_make(out, n);
    }
    return t;
}

/* A duration unit right after an integer: its length in bytes and its
 * nanoseconds, or 0 when none follows. "µ" is U+00B5 in UTF-8. */
static size_t duration_unit(const iql_lexer *l, int64_t *ns)
{
    char a = peek(l, 0), b = peek(l, 1);
    size_t n = 0;
    if (a == 'm' && b == 's') {
        n = 2, *ns = 1000000;
    } else if ((unsigned char)a == 0xc2 && (unsigned char)b == 0xb5) {
        n = 2, *ns = 1000;
    } else if (a == 'u') {
        n = 1, *ns = 1000;
    } else if (a == 's') {
        n = 1, *ns = 1000000000LL;
    } else if (a == 'm') {
        n = 1, *ns = 60LL * 1000000000LL;
    } else if (a == 'h') {
        n = 1, *ns = 3600LL * 1000000000LL;
    } else if (a == 'd') {
        n = 1, *ns = 86400LL * 1000000000LL;
    } else if (a == 'w') {
        n = 1, *ns = 7 * 86400LL * 1000000000LL;
    }
    /* "5min" is not a duration: the unit must end the word. */
    if (n && (is_letter(peek(l, n)) || is_digit(peek(l, n))))
        return 0;
    return n;
}

static iql_token number(iql_lexer *l)
{
    size_t start = l->pos;
    while (is_digit(peek(l, 0)))
        l->pos++;
    bool dot = peek(l, 0) == '.' && (is_digit(peek(l, 1)) || l->pos > start);
    if (dot) {
        l->pos++;
        while (is_digit(peek(l, 0)))
            l->pos++;
        iql_token t = make(l, IQL_T_NUMBER, start);
        char buf[IQL_NUMBER_MAX + 1];
        if (t.text.len > IQL_NUMBER_MAX)
            return illegal(l, start, "number too long");
        memcpy(buf, t.text.ptr, t.text.len);
        buf[t.text.len] = '\0';
        t.f = strtod(buf, NULL);
        if (!isfinite(t.f))
            return illegal(l, start, "number out of range");
        return t;
    }
    iql_token t = make(l, IQL_T_INTEGER, start);
    if (!sb_str_to_i64(t.text, 0, INT64_MAX, &t.i))
        return illegal(l, start, "integer out of range");
    int64_t unit;
    size_t ulen = duration_unit(l, &unit);
    if (ulen) {
        if (t.i > INT64_MAX / unit)
            return illegal(l, start, "duration out of range");
        l->pos += ulen;
        t = make(l, IQL_T_DURATION, start);
        sb_str_to_i64(sb_str_make(t.text.ptr, t.text.len - ulen), 0, INT64_MAX, &t.i);
        t.i *= unit;
    }
    return t;
}

/* Skips spaces and comments; false on an unterminated block comment,
 * which l->pos is then left at. */
static bool skip_space(iql_lexer *l)
{
    for (;;) {
        char c = peek(l, 0);
        if (c == ' ' || c == '\t' || c == '\n' || c == '\r') {
            l->pos++;
        } else if (c == '-' && peek(l, 1) == '-') {
            while (l->pos < l->src.len && l->src.ptr[l->pos] != '\n')
                l->pos++;
        } else if (c == '/' && peek(l, 1) == '*') {
            size_t close = l->pos + 2;
            while (close + 1 < l->src.len &&
                   !(l->src.ptr[close] == '*' && l->src.ptr[close + 1] == '/'))
                close++;
            if (close + 1 >= l->src.len)
                return false;
            l->pos = close + 2;
        } else {
            return true;
        }
    }
}

iql_token iql_lex(iql_lexer *l, bool regex_ok)
{
    if (!skip_space(l)) {
        size_t start = l->pos;
        l->pos = l->src.len; /* nothing after it is read */
        return illegal(l, start, "unterminated comment");
    }
    size_t start = l->pos;
    if (l->pos >= l->src.len)
        return make(l, IQL_T_EOF, start);
    char c = peek(l, 0), n = peek(l, 1);
    if (is_letter(c)) {
        while (is_letter(peek(l, 0)) || is_digit(peek(l, 0)))
            l->pos++;
        iql_token t = make(l, IQL_T_IDENT, start);
        t.value = t.text;
        if (sb_str_eq_nocase(t.text, SB_STR("true")))
            t.tok = IQL_T_TRUE;
        else if (sb_str_eq_nocase(t.text, SB_STR("false")))
            t.tok = IQL_T_FALSE;
        else if ((t.kw = keyword(t.text)) != IQL_KW_NONE)
            t.tok = IQL_T_KEYWORD;
        if (t.kw == IQL_KW_AND || t.kw == IQL_KW_OR)
            t.op = t.kw == IQL_KW_AND ? IQL_OP_AND : IQL_OP_OR;
        return t;
    }
    if (is_digit(c) || (c == '.' && is_digit(n)))
        return number(l);
    if (c == '"')
        return quoted(l, '"', IQL_T_IDENT);
    if (c == '\'')
        return quoted(l, '\'', IQL_T_STRING);
    if (c == '/' && regex_ok)
        return regex(l);
    static const struct {
        const char *text;
        iql_tok tok;
        iql_op op;
    } punct[] = {
        /* Longest first. */
        {"::", IQL_T_DOUBLECOLON, IQL_OP_NONE},
        {"=~", IQL_T_OP, IQL_OP_EQ_REGEX},
        {"!~", IQL_T_OP, IQL_OP_NEQ_REGEX},
        {"!=", IQL_T_OP, IQL_OP_NEQ},
        {"<>", IQL_T_OP, IQL_OP_NEQ},
        {"<=", IQL_T_OP, IQL_OP_LTE},
        {">=", IQL_T_OP, IQL_OP_GTE},
        {"=", IQL_T_OP, IQL_OP_EQ},
        {"<", IQL_T_OP, IQL_OP_LT},
        {">", IQL_T_OP, IQL_OP_GT},
        {"+", IQL_T_OP, IQL_OP_ADD},
        {"-", IQL_T_OP, IQL_OP_SUB},
        {"*", IQL_T_OP, IQL_OP_MUL},
        {"/", IQL_T_OP, IQL_OP_DIV},
        {"%", IQL_T_OP, IQL_OP_MOD},
        {"&", IQL_T_OP, IQL_OP_BITAND},
        {"|", IQL_T_OP, IQL_OP_BITOR},
        {"^", IQL_T_OP, IQL_OP_BITXOR},
        {"(", IQL_T_LPAREN, IQL_OP_NONE},
        {")", IQL_T_RPAREN, IQL_OP_NONE},
        {",", IQL_T_COMMA, IQL_OP_NONE},
        {";", IQL_T_SEMICOLON, IQL_OP_NONE},
        {".", IQL_T_DOT, IQL_OP_NONE},
    };
    for (size_t i = 0; i < SB_ARRAY_LEN(punct); i++) {
        size_t len = strlen(punct[i].text);
        if (l->src.len - l->pos >= len && memcmp(l->src.ptr + l->pos, punct[i].text, len) == 0) {
            l->pos += len;
            iql_token t = make(l, punct[i].tok, start);
            t.op = punct[i].op;
            return t;
        }
    }
    /* One whole UTF-8 sequence (or byte), so the error names a character. */
    l->pos++;
    while (l->pos < l->src.len && ((unsigned char)l->src.ptr[l->pos] & 0xc0) == 0x80)
        l->pos++;
    return illegal(l, start, "unexpected character");
}
