/*
 * influxql.c: the InfluxQL parser: statements and expressions, by
 * precedence climbing over the tokens of influxql_lex.c. The lexer is
 * told, token by token, whether an operand may come next, since '/' is a
 * regex there and the division operator elsewhere.
 *
 * Precedence, lowest first (as InfluxDB): OR; AND; = != <> =~ !~ < <= >
 * >=; + - | ^; * / % &. All binary operators associate to the left.
 */
#include <stdio.h>
#include <string.h>

#include "base/utf8.h"
#include "tsdb/influxql_int.h"

typedef struct parser {
    iql_lexer lx;
    iql_token tok; /* the current token */
    iql_error *err;
    bool failed;
    int depth;
} parser;

/* ---- errors ---- */

static void position(const parser *p, size_t pos, int *line, int *col)
{
    *line = 1;
    *col = 1;
    for (size_t i = 0; i < pos && i < p->lx.src.len; i++) {
        if (p->lx.src.ptr[i] == '\n') {
            (*line)++;
            *col = 1;
        } else if (((unsigned char)p->lx.src.ptr[i] & 0xc0) != 0x80) {
            (*col)++;
        }
    }
}

static const char *found_text(const iql_token *t, char *buf, size_t cap)
{
    if (t->tok == IQL_T_EOF)
        return "EOF";
    snprintf(buf, cap, "%.*s", (int)SB_MIN(t->text.len, 40), t->text.ptr);
    return buf;
}

/* "found X, expected Y at line L, char C", as InfluxDB words it. */
static bool expected(parser *p, const char *what)
{
    if (p->failed)
        return false;
    p->failed = true;
    int line, col;
    position(p, p->tok.pos, &line, &col);
    char buf[48];
    if (p->tok.tok == IQL_T_ILLEGAL)
        snprintf(p->err->message, sizeof(p->err->message), "%s at line %d, char %d", p->tok.illegal,
                 line, col);
    else
        snprintf(p->err->message, sizeof(p->err->message),
                 "found %s, expected %s at line %d, char %d", found_text(&p->tok, buf, sizeof(buf)),
                 what, line, col);
    p->err->pos = p->tok.pos;
    return false;
}

static bool refuse(parser *p, const char *what)
{
    if (p->failed)
        return false;
    p->failed = true;
    int line, col;
    position(p, p->tok.pos, &line, &col);
    snprintf(p->err->message, sizeof(p->err->message), "%s is not supported at line %d, char %d",
             what, line, col);
    p->err->pos = p->tok.pos;
    return false;
}

/* ---- tokens ---- */

static void advance(parser *p, bool operand_next)
{
    p->tok = iql_lex(&p->lx, operand_next);
}

static bool is_kw(const parser *p, iql_kw kw)
{
    return p->tok.tok == IQL_T_KEYWORD && p->tok.kw == kw;
}

static bool accept_kw(parser *p, iql_kw kw, bool operand_next)
{
    if (!is_kw(p, kw))
        return false;
    advance(p, operand_next);
    return true;
}

static bool expect_kw(parser *p, iql_kw kw, const char *name, bool operand_next)
{
    return accept_kw(p, kw, operand_next) || expected(p, name);
}

static bool accept(parser *p, iql_tok tok, bool operand_next)
{
    if (p->tok.tok != tok)
        return false;
    advance(p, operand_next);
    return true;
}

static bool ident(parser *p, sb_str *out, bool operand_next)
{
    if (p->tok.tok != IQL_T_IDENT)
        return expected(p, "identifier");
    *out = p->tok.value;
    advance(p, operand_next);
    return true;
}

static bool count_ok(parser *p, size_t n)
{
    return n < IQL_MAX_ITEMS || refuse(p, "a list this long");
}

/* Appends to an arena vector (grown by doubling; the old copy stays in the
 * arena until it is reset, which bounds waste at the final size). */
static void *push(parser *p, void *items, size_t *n, size_t *cap, size_t size)
{
    if (*n == *cap) {
        size_t ncap = *cap ? *cap * 2 : 4;
        void *grown = sb_arena_alloc(p->lx.arena, ncap * size);
        if (*n)
            memcpy(grown, items, *n * size);
        items = grown;
        *cap = ncap;
    }
    (*n)++;
    return items;
}

/* ---- expressions ---- */

static iql_expr *new_expr(parser *p, iql_expr_kind kind)
{
    iql_expr *e = sb_arena_calloc(p->lx.arena, 1, sizeof(*e));
    e->kind = kind;
    e->pos = p->tok.pos;
    return e;
}

static int precedence(iql_op op)
{
    switch (op) {
    case IQL_OP_OR:
        return 1;
    case IQL_OP_AND:
        return 2;
    case IQL_OP_EQ:
    case IQL_OP_NEQ:
    case IQL_OP_EQ_REGEX:
    case IQL_OP_NEQ_REGEX:
    case IQL_OP_LT:
    case IQL_OP_LTE:
    case IQL_OP_GT:
    case IQL_OP_GTE:
        return 3;
    case IQL_OP_ADD:
    case IQL_OP_SUB:
    case IQL_OP_BITOR:
    case IQL_OP_BITXOR:
        return 4;
    case IQL_OP_MUL:
    case IQL_OP_DIV:
    case IQL_OP_MOD:
    case IQL_OP_BITAND:
        return 5;
    default:
        return 0;
    }
}

static iql_expr *expr(parser *p, int min_prec);

static const struct {
    const char *name;
    iql_cast cast;
} casts[] = {
    {"float", IQL_CAST_FLOAT},     {"integer", IQL_CAST_INTEGER}, {"string", IQL_CAST_STRING},
    {"boolean", IQL_CAST_BOOLEAN}, {"field", IQL_CAST_FIELD},     {"tag", IQL_CAST_TAG},
};

/* An optional ::type after a reference. */
static bool cast_of(parser *p, iql_cast *out)
{
    if (!accept(p, IQL_T_DOUBLECOLON, false))
        return true;
    sb_str name = p->tok.text;
    if (p->tok.tok == IQL_T_IDENT || p->tok.tok == IQL_T_KEYWORD)
        for (size_t i = 0; i < SB_ARRAY_LEN(casts); i++)
            if (sb_str_eq_nocase(name, sb_str_c(casts[i].name))) {
                *out = casts[i].cast;
                advance(p, false);
                return true;
            }
    return expected(p, "float, integer, string, boolean, field or tag");
}

/* name(args): InfluxQL function names are case-insensitive. */
static iql_expr *call(parser *p, iql_expr *e)
{
    e->kind = IQL_CALL;
    char *lower = sb_arena_strndup(p->lx.arena, e->name.ptr, e->name.len);
    for (size_t i = 0; i < e->name.len; i++)
        if (lower[i] >= 'A' && lower[i] <= 'Z')
            lower[i] = (char)(lower[i] + 32);
    e->name = sb_str_make(lower, e->name.len);
    size_t cap = 0;
    if (accept(p, IQL_T_RPAREN, false))
        return e;
    do {
        if (!count_ok(p, e->nargs))
            return NULL;
        iql_expr *a;
        if (p->tok.tok == IQL_T_OP && p->tok.op == IQL_OP_MUL) { /* count(*) */
            a = new_expr(p, IQL_WILDCARD);
            advance(p, false);
        } else if (!(a = expr(p, 1))) {
            return NULL;
        }
        e->args = push(p, e->args, &e->nargs, &cap, sizeof(*e->args));
        e->args[e->nargs - 1] = a;
    } while (accept(p, IQL_T_COMMA, true));
    return accept(p, IQL_T_RPAREN, false) || expected(p, ")") ? e : NULL;
}

static iql_expr *operand(parser *p)
{
    iql_expr *e;
    bool negative = false;
    if (p->tok.tok == IQL_T_OP && p->tok.op == IQL_OP_SUB) {
        negative = true; /* a signed literal: -1, -1.5, -1h */
        advance(p, false);
        if (p->tok.tok != IQL_T_INTEGER && p->tok.tok != IQL_T_NUMBER &&
            p->tok.tok != IQL_T_DURATION)
            return expected(p, "number or duration"), NULL;
    }
    switch (p->tok.tok) {
    case IQL_T_LPAREN:
        if (++p->depth > IQL_MAX_DEPTH)
            return refuse(p, "nesting this deep"), NULL;
        e = new_expr(p, IQL_PAREN);
        advance(p, true);
        if (!(e->lhs = expr(p, 1)))
            return NULL;
        p->depth--;
        return accept(p, IQL_T_RPAREN, false) || expected(p, ")") ? e : NULL;
    case IQL_T_IDENT:
        e = new_expr(p, IQL_VAR);
        e->name = p->tok.value;
        advance(p, false);
        if (p->tok.tok == IQL_T_LPAREN && p->lx.src.ptr[e->pos] != '"') {
            if (++p->depth > IQL_MAX_DEPTH)
                return refuse(p, "nesting this deep"), NULL;
            advance(p, true);
            e = call(p, e);
            p->depth--;
            return e;
        }
        return cast_of(p, &e->cast) ? e : NULL;
    case IQL_T_KEYWORD:
        if (p->tok.kw != IQL_KW_DISTINCT)
            return expected(p, "identifier, string, number, bool"), NULL;
        /* DISTINCT is a keyword and a function: "distinct(f)" is a call,
         * and "DISTINCT f" means the same (InfluxQL's Distinct). */
        e = new_expr(p, IQL_VAR);
        e->name = SB_STR("distinct");
        advance(p, false);
        if (p->tok.tok == IQL_T_LPAREN) {
            if (++p->depth > IQL_MAX_DEPTH)
                return refuse(p, "nesting this deep"), NULL;
            advance(p, true);
            e = call(p, e);
            p->depth--;
            return e;
        }
        if (p->tok.tok != IQL_T_IDENT)
            return expected(p, "identifier"), NULL;
        e->kind = IQL_CALL;
        e->args = sb_arena_alloc(p->lx.arena, sizeof(*e->args));
        e->args[0] = new_expr(p, IQL_VAR);
        e->args[0]->name = p->tok.value;
        e->nargs = 1;
        advance(p, false);
        return e;
    case IQL_T_STRING:
        e = new_expr(p, IQL_STRING);
        e->s = p->tok.value;
        break;
    case IQL_T_INTEGER:
    case IQL_T_DURATION:
        e = new_expr(p, p->tok.tok == IQL_T_INTEGER ? IQL_INTEGER : IQL_DURATION);
        e->i = negative ? -p->tok.i : p->tok.i;
        break;
    case IQL_T_NUMBER:
        e = new_expr(p, IQL_NUMBER);
        e->f = negative ? -p->tok.f : p->tok.f;
        break;
    case IQL_T_TRUE:
    case IQL_T_FALSE:
        e = new_expr(p, IQL_BOOLEAN);
        e->b = p->tok.tok == IQL_T_TRUE;
        break;
    case IQL_T_REGEX:
        e = new_expr(p, IQL_REGEX);
        e->s = p->tok.value;
        break;
    default:
        return expected(p, "identifier, string, number, bool"), NULL;
    }
    advance(p, false);
    return e;
}

static iql_expr *expr(parser *p, int min_prec)
{
    iql_expr *lhs = operand(p);
    while (lhs && p->tok.op != IQL_OP_NONE && precedence(p->tok.op) >= min_prec &&
           (p->tok.tok == IQL_T_OP || p->tok.tok == IQL_T_KEYWORD)) {
        iql_op op = p->tok.op;
        iql_expr *b = new_expr(p, IQL_BINARY);
        advance(p, true);
        if (++p->depth > IQL_MAX_DEPTH)
            return refuse(p, "nesting this deep"), NULL;
        b->op = op;
        b->lhs = lhs;
        if (!(b->rhs = expr(p, precedence(op) + 1)))
            return NULL;
        p->depth--;
        lhs = b;
    }
    return lhs;
}

/* ---- clauses ---- */

/* [db.[rp].]name | /regex/ */
static bool source(parser *p, iql_source *s)
{
    memset(s, 0, sizeof(*s));
    if (p->tok.tok == IQL_T_REGEX) {
        s->regex = p->tok.value;
        advance(p, false);
        return true;
    }
    sb_str parts[3];
    int n = 0;
    for (;;) {
        if (n == 3)
            return expected(p, "at most db.rp.measurement");
        if (n > 0 && p->tok.tok == IQL_T_DOT) { /* db..measurement: the default rp */
            parts[n++] = SB_STR_NULL;
            advance(p, true);
            continue;
        }
        if (n > 0 && p->tok.tok == IQL_T_REGEX) {
            s->regex = p->tok.value;
            advance(p, false);
            break;
        }
        if (!ident(p, &parts[n++], false))
            return false;
        if (!accept(p, IQL_T_DOT, true))
            break;
    }
    int names = s->regex.ptr ? n : n - 1;
    if (!s->regex.ptr)
        s->name = parts[n - 1];
    if (names == 2) {
        s->db = parts[0];
        s->rp = parts[1];
    } else if (names == 1) {
        s->rp = parts[0];
    }
    return true;
}

static bool sources(parser *p, iql_source **out, size_t *n)
{
    size_t cap = 0;
    do {
        if (!count_ok(p, *n))
            return false;
        *out = push(p, *out, n, &cap, sizeof(**out));
        if (!source(p, &(*out)[*n - 1]))
            return false;
    } while (accept(p, IQL_T_COMMA, true));
    return true;
}

static bool integer(parser *p, int64_t *out, const char *what)
{
    if (p->tok.tok != IQL_T_INTEGER)
        return expected(p, what);
    *out = p->tok.i;
    advance(p, false);
    return true;
}

static bool fill(parser *p, iql_select *s)
{
    /* fill( is lexed as an identifier and a parenthesis. */
    advance(p, true);
    if (!accept(p, IQL_T_LPAREN, true))
        return expected(p, "(");
    sb_str v = p->tok.text;
    bool neg = p->tok.tok == IQL_T_OP && p->tok.op == IQL_OP_SUB;
    if (neg)
        advance(p, false);
    if (!neg && p->tok.tok == IQL_T_IDENT && sb_str_eq_nocase(v, SB_STR("null")))
        s->fill = IQL_FILL_NULL;
    else if (!neg && p->tok.tok == IQL_T_IDENT && sb_str_eq_nocase(v, SB_STR("none")))
        s->fill = IQL_FILL_NONE;
    else if (!neg && p->tok.tok == IQL_T_IDENT && sb_str_eq_nocase(v, SB_STR("previous")))
        s->fill = IQL_FILL_PREVIOUS;
    else if (!neg && p->tok.tok == IQL_T_IDENT && sb_str_eq_nocase(v, SB_STR("linear")))
        s->fill = IQL_FILL_LINEAR;
    else if (p->tok.tok == IQL_T_INTEGER || p->tok.tok == IQL_T_NUMBER) {
        s->fill = IQL_FILL_NUMBER;
        s->fill_value = p->tok.tok == IQL_T_INTEGER ? (double)p->tok.i : p->tok.f;
        if (neg)
            s->fill_value = -s->fill_value;
    } else
        return expected(p, "null, none, previous, linear, or a number");
    advance(p, false);
    return accept(p, IQL_T_RPAREN, false) || expected(p, ")");
}

static bool is_word(const parser *p, const char *w)
{
    return p->tok.tok == IQL_T_IDENT && p->lx.src.ptr[p->tok.pos] != '"' &&
           sb_str_eq_nocase(p->tok.text, sb_str_c(w));
}

static bool group_by(parser *p, iql_select *s)
{
    size_t cap = 0;
    do {
        if (!count_ok(p, s->ndimensions))
            return false;
        iql_expr *d;
        if (p->tok.tok == IQL_T_OP && p->tok.op == IQL_OP_MUL) {
            d = new_expr(p, IQL_WILDCARD);
            advance(p, false);
        } else if (!(d = expr(p, 1))) {
            return false;
        }
        if (d->kind == IQL_BINARY || d->kind == IQL_PAREN)
            return refuse(p, "an expression in GROUP BY");
        s->dimensions = push(p, s->dimensions, &s->ndimensions, &cap, sizeof(*s->dimensions));
        s->dimensions[s->ndimensions - 1] = d;
    } while (accept(p, IQL_T_COMMA, true));
    return true;
}

static bool order_by(parser *p, iql_select *s)
{
    if (!(p->tok.tok == IQL_T_IDENT && sb_str_eq_nocase(p->tok.value, SB_STR("time"))))
        return refuse(p, "ORDER BY other than time");
    advance(p, false);
    if (accept_kw(p, IQL_KW_DESC, false))
        s->descending = true;
    else
        accept_kw(p, IQL_KW_ASC, false);
    return true;
}

static bool select_stmt(parser *p, iql_select *s)
{
    size_t cap = 0;
    do {
        if (!count_ok(p, s->nfields))
            return false;
        s->fields = push(p, s->fields, &s->nfields, &cap, sizeof(*s->fields));
        iql_field *f = &s->fields[s->nfields - 1];
        memset(f, 0, sizeof(*f));
        if (p->tok.tok == IQL_T_OP && p->tok.op == IQL_OP_MUL) {
            f->expr = new_expr(p, IQL_WILDCARD);
            advance(p, false);
            if (!cast_of(p, &f->expr->cast))
                return false;
        } else if (!(f->expr = expr(p, 1))) {
            return false;
        }
        if (accept_kw(p, IQL_KW_AS, false) && !ident(p, &f->alias, false))
            return false;
    } while (accept(p, IQL_T_COMMA, true));
    if (is_kw(p, IQL_KW_INTO))
        return refuse(p, "SELECT ... INTO");
    if (!expect_kw(p, IQL_KW_FROM, "FROM", true))
        return false;
    if (p->tok.tok == IQL_T_LPAREN)
        return refuse(p, "a subquery");
    if (!sources(p, &s->sources, &s->nsources))
        return false;
    if (accept_kw(p, IQL_KW_WHERE, true) && !(s->where = expr(p, 1)))
        return false;
    if (accept_kw(p, IQL_KW_GROUP, false) &&
        !(expect_kw(p, IQL_KW_BY, "BY", true) && group_by(p, s)))
        return false;
    /* fill() follows GROUP BY, or stands alone (InfluxDB parses it either
     * way: without GROUP BY time it only matters to fill(none)). */
    if (is_word(p, "fill") && !fill(p, s))
        return false;
    if (accept_kw(p, IQL_KW_ORDER, false) &&
        !(expect_kw(p, IQL_KW_BY, "BY", false) && order_by(p, s)))
        return false;
    if (accept_kw(p, IQL_KW_LIMIT, false) && !integer(p, &s->limit, "integer"))
        return false;
    if (accept_kw(p, IQL_KW_OFFSET, false) && !integer(p, &s->offset, "integer"))
        return false;
    if (accept_kw(p, IQL_KW_SLIMIT, false) && !integer(p, &s->slimit, "integer"))
        return false;
    if (accept_kw(p, IQL_KW_SOFFSET, false) && !integer(p, &s->soffset, "integer"))
        return false;
    if (is_word(p, "tz")) {
        advance(p, false);
        if (!accept(p, IQL_T_LPAREN, false))
            return expected(p, "(");
        if (p->tok.tok != IQL_T_STRING)
            return expected(p, "string");
        s->tz = p->tok.value;
        advance(p, false);
        if (!accept(p, IQL_T_RPAREN, false))
            return expected(p, ")");
    }
    return true;
}

/* ---- SHOW, CREATE, DROP ---- */

static bool show_tail(parser *p, iql_show *s, bool from, bool with_measurement, bool with_key,
                      bool where, bool limits)
{
    if (accept_kw(p, IQL_KW_ON, false) && !ident(p, &s->on, false))
        return false;
    if (from && accept_kw(p, IQL_KW_FROM, true) && !sources(p, &s->sources, &s->nsources))
        return false;
    if ((with_measurement || with_key) && accept_kw(p, IQL_KW_WITH, false)) {
        if (with_measurement && accept_kw(p, IQL_KW_MEASUREMENT, false)) {
            iql_op op = p->tok.op;
            if (!(p->tok.tok == IQL_T_OP && (op == IQL_OP_EQ || op == IQL_OP_EQ_REGEX)))
                return expected(p, "= or =~");
            advance(p, true);
            s->has_measurement = true;
            if (!source(p, &s->measurement))
                return false;
        } else if (with_key && accept_kw(p, IQL_KW_KEY, false)) {
            size_t cap = 0;
            if (accept_kw(p, IQL_KW_IN, false)) {
                if (!accept(p, IQL_T_LPAREN, false))
                    return expected(p, "(");
                do {
                    if (!count_ok(p, s->nkeys))
                        return false;
                    s->keys = push(p, s->keys, &s->nkeys, &cap, sizeof(*s->keys));
                    if (!ident(p, &s->keys[s->nkeys - 1], false))
                        return false;
                } while (accept(p, IQL_T_COMMA, false));
                if (!accept(p, IQL_T_RPAREN, false))
                    return expected(p, ")");
            } else {
                iql_op op = p->tok.op;
                if (p->tok.tok != IQL_T_OP || (op != IQL_OP_EQ && op != IQL_OP_NEQ &&
                                               op != IQL_OP_EQ_REGEX && op != IQL_OP_NEQ_REGEX))
                    return expected(p, "=, !=, =~, !~ or IN");
                s->key_op = op;
                advance(p, true);
                if (op == IQL_OP_EQ_REGEX || op == IQL_OP_NEQ_REGEX) {
                    if (p->tok.tok != IQL_T_REGEX)
                        return expected(p, "regex");
                    s->key_regex = p->tok.value;
                    advance(p, false);
                } else {
                    s->keys = push(p, s->keys, &s->nkeys, &cap, sizeof(*s->keys));
                    if (!ident(p, &s->keys[0], false))
                        return false;
                }
            }
        } else {
            return expected(p, with_key ? "KEY" : "MEASUREMENT");
        }
    } else if (with_key) {
        return expected(p, "WITH");
    }
    if (where && accept_kw(p, IQL_KW_WHERE, true) && !(s->where = expr(p, 1)))
        return false;
    if (limits && accept_kw(p, IQL_KW_LIMIT, false) && !integer(p, &s->limit, "integer"))
        return false;
    if (limits && accept_kw(p, IQL_KW_OFFSET, false) && !integer(p, &s->offset, "integer"))
        return false;
    return true;
}

static bool show_stmt(parser *p, iql_stmt *st)
{
    iql_show *s = &st->show;
    if (accept_kw(p, IQL_KW_DATABASES, false)) {
        st->kind = IQL_SHOW_DATABASES;
        return true;
    }
    if (accept_kw(p, IQL_KW_MEASUREMENTS, false)) {
        st->kind = IQL_SHOW_MEASUREMENTS;
        return show_tail(p, s, false, true, false, true, true);
    }
    if (accept_kw(p, IQL_KW_TAG, false)) {
        if (accept_kw(p, IQL_KW_KEYS, false)) {
            st->kind = IQL_SHOW_TAG_KEYS;
            return show_tail(p, s, true, false, false, true, true);
        }
        if (accept_kw(p, IQL_KW_VALUES, false)) {
            st->kind = IQL_SHOW_TAG_VALUES;
            return show_tail(p, s, true, false, true, true, true);
        }
        return expected(p, "KEYS or VALUES");
    }
    if (accept_kw(p, IQL_KW_FIELD, false)) {
        st->kind = IQL_SHOW_FIELD_KEYS;
        return expect_kw(p, IQL_KW_KEYS, "KEYS", false) &&
               show_tail(p, s, true, false, false, false, true);
    }
    if (accept_kw(p, IQL_KW_RETENTION, false)) {
        st->kind = IQL_SHOW_RETENTION_POLICIES;
        return expect_kw(p, IQL_KW_POLICIES, "POLICIES", false) &&
               show_tail(p, s, false, false, false, false, false);
    }
    if (accept_kw(p, IQL_KW_SERIES, false)) {
        st->kind = IQL_SHOW_SERIES;
        return show_tail(p, s, true, false, false, true, true);
    }
    return expected(p, "DATABASES, MEASUREMENTS, TAG KEYS, TAG VALUES, FIELD KEYS, "
                       "RETENTION POLICIES or SERIES");
}

static bool statement(parser *p, iql_stmt *st)
{
    memset(st, 0, sizeof(*st));
    if (accept_kw(p, IQL_KW_SELECT, true)) {
        st->kind = IQL_SELECT;
        return select_stmt(p, &st->select);
    }
    if (accept_kw(p, IQL_KW_SHOW, false))
        return show_stmt(p, st);
    bool create = is_kw(p, IQL_KW_CREATE), drop = is_kw(p, IQL_KW_DROP);
    if (create || drop) {
        advance(p, false);
        if (!is_kw(p, IQL_KW_DATABASE))
            return refuse(p, create ? "CREATE other than CREATE DATABASE"
                                    : "DROP other than DROP DATABASE");
        advance(p, false);
        st->kind = create ? IQL_CREATE_DATABASE : IQL_DROP_DATABASE;
        if (!ident(p, &st->database, false))
            return false;
        /* CREATE DATABASE ... WITH DURATION ...: retention is ours to set. */
        if (create && is_kw(p, IQL_KW_WITH))
            return refuse(p, "CREATE DATABASE ... WITH");
        return true;
    }
    if (p->tok.tok == IQL_T_KEYWORD)
        return refuse(p, "this statement");
    return expected(p, "SELECT, SHOW, CREATE or DROP");
}

bool iql_parse(sb_str text, sb_arena *arena, iql_query *q, iql_error *err)
{
    memset(q, 0, sizeof(*q));
    memset(err, 0, sizeof(*err));
    parser p = {.lx = {.src = text, .arena = arena}, .err = err};
    if (text.len > IQL_MAX_QUERY) {
        snprintf(err->message, sizeof(err->message), "query longer than %d bytes", IQL_MAX_QUERY);
        return false;
    }
    size_t bad;
    if (!sb_utf8_valid(text.ptr, text.len, &bad)) {
        int line, col;
        position(&p, bad, &line, &col);
        snprintf(err->message, sizeof(err->message), "invalid UTF-8 at line %d, char %d", line,
                 col);
        err->pos = bad;
        return false;
    }
    advance(&p, false);
    size_t cap = 0;
    while (p.tok.tok != IQL_T_EOF) {
        if (accept(&p, IQL_T_SEMICOLON, false))
            continue; /* empty statements, as ";;" */
        if (q->nstmts == IQL_MAX_STATEMENTS)
            return refuse(&p, "more statements in one query");
        q->stmts = push(&p, q->stmts, &q->nstmts, &cap, sizeof(*q->stmts));
        if (!statement(&p, &q->stmts[q->nstmts - 1]))
            return false;
        if (p.tok.tok != IQL_T_EOF && !accept(&p, IQL_T_SEMICOLON, false))
            return expected(&p, ";");
    }
    if (q->nstmts == 0) {
        snprintf(err->message, sizeof(err->message), "empty query");
        return false;
    }
    return true;
}
