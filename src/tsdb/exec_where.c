/*
 * exec_where.c: WHERE clauses. The time comparisons of the top-level AND
 * chain are the query's time range (InfluxDB's ConditionExpr); the rest is
 * a filter evaluated twice: once per series with its tags known and field
 * references unknown (three-valued: a series that cannot match is never
 * read), then, when fields are involved, per point.
 *
 * Semantics are InfluxQL 1.x's: a missing tag reads as ""; comparing values
 * of types that do not compare (a missing field, a string with a number)
 * is false for every comparison operator, != included; integer division
 * gives a float and dividing by zero gives 0.
 */
#include <math.h>

#include "tsdb/exec_int.h"

static bool is_time_var(const iql_expr *e)
{
    while (e && e->kind == IQL_PAREN)
        e = e->lhs;
    return e && e->kind == IQL_VAR && e->name.len == 4 && sb_str_eq_nocase(e->name, SB_STR("time"));
}

static bool is_cmp(iql_op op)
{
    return op == IQL_OP_EQ || op == IQL_OP_NEQ || op == IQL_OP_LT || op == IQL_OP_LTE ||
           op == IQL_OP_GT || op == IQL_OP_GTE;
}

bool ex__is_time_cmp(const iql_expr *e)
{
    return e->kind == IQL_BINARY && is_cmp(e->op) && (is_time_var(e->lhs) || is_time_var(e->rhs));
}

static bool has_time_cmp(const iql_expr *e)
{
    if (!e)
        return false;
    if (ex__is_time_cmp(e))
        return true;
    if (e->kind == IQL_BINARY)
        return has_time_cmp(e->lhs) || has_time_cmp(e->rhs);
    if (e->kind == IQL_PAREN)
        return has_time_cmp(e->lhs);
    return false;
}

static bool time_value(ex_ctx *c, const iql_expr *e, int64_t *out)
{
    switch (e->kind) {
    case IQL_PAREN:
        return time_value(c, e->lhs, out);
    case IQL_STRING:
        if (!iql_parse_time(e->s, out))
            return ex__fail(
                c, "invalid operation: time and *influxql.StringLiteral are not compatible");
        return true;
    case IQL_INTEGER:
    case IQL_DURATION:
        *out = e->i;
        return true;
    case IQL_NUMBER:
        if (!(e->f > -9.2e18 && e->f < 9.2e18))
            return ex__fail(c, "time %g overflows", e->f);
        *out = (int64_t)e->f;
        return true;
    case IQL_CALL:
        if (sb_str_eq(e->name, SB_STR("now")) && e->nargs == 0) {
            *out = c->o->now_ns;
            return true;
        }
        break;
    case IQL_BINARY:
        if (e->op == IQL_OP_ADD || e->op == IQL_OP_SUB) {
            int64_t a, b;
            if (!time_value(c, e->lhs, &a) || !time_value(c, e->rhs, &b))
                return false;
            if (e->op == IQL_OP_ADD ? __builtin_add_overflow(a, b, out)
                                    : __builtin_sub_overflow(a, b, out))
                return ex__fail(c, "time overflows");
            return true;
        }
        break;
    default:
        break;
    }
    sb_buf b = SB_BUF_INIT;
    iql_expr_write(e, &b);
    ex__fail(c, "invalid time condition: %.*s", (int)b.len, b.ptr ? b.ptr : "");
    sb_buf_free(&b);
    return false;
}

static bool walk_time(ex_ctx *c, const iql_expr *e, ex_timerange *tr)
{
    if (e->kind == IQL_PAREN)
        return walk_time(c, e->lhs, tr);
    if (e->kind != IQL_BINARY)
        return true;
    if (e->op == IQL_OP_AND)
        return walk_time(c, e->lhs, tr) && walk_time(c, e->rhs, tr);
    if (e->op == IQL_OP_OR) {
        if (has_time_cmp(e))
            return ex__fail(c, "cannot use OR with time conditions");
        return true;
    }
    if (!ex__is_time_cmp(e))
        return true;
    iql_op op = e->op;
    const iql_expr *val = e->rhs;
    if (!is_time_var(e->lhs)) { /* v op time: flip */
        val = e->lhs;
        op = op == IQL_OP_LT    ? IQL_OP_GT
             : op == IQL_OP_LTE ? IQL_OP_GTE
             : op == IQL_OP_GT  ? IQL_OP_LT
             : op == IQL_OP_GTE ? IQL_OP_LTE
                                : op;
    }
    int64_t v;
    if (!time_value(c, val, &v))
        return false;
    switch (op) {
    case IQL_OP_GT:
        v = v < EX_MAX_TIME ? v + 1 : v;
        /* fallthrough */
    case IQL_OP_GTE:
        if (!tr->has_min || v > tr->min)
            tr->min = v;
        tr->has_min = true;
        break;
    case IQL_OP_LT:
        v = v > EX_MIN_TIME ? v - 1 : v;
        /* fallthrough */
    case IQL_OP_LTE:
        if (!tr->has_max || v < tr->max)
            tr->max = v;
        tr->has_max = true;
        break;
    case IQL_OP_EQ:
        if (!tr->has_min || v > tr->min)
            tr->min = v;
        if (!tr->has_max || v < tr->max)
            tr->max = v;
        tr->has_min = tr->has_max = true;
        break;
    default:
        return ex__fail(c, "invalid time comparison operator: %s", iql_op_name(op));
    }
    return true;
}

bool ex__time_range(ex_ctx *c, const iql_expr *where, ex_timerange *tr)
{
    tr->min = EX_MIN_TIME;
    tr->max = EX_MAX_TIME;
    tr->has_min = tr->has_max = false;
    if (!where)
        return true;
    if (!walk_time(c, where, tr))
        return false;
    if (tr->min < EX_MIN_TIME)
        tr->min = EX_MIN_TIME;
    if (tr->max > EX_MAX_TIME)
        tr->max = EX_MAX_TIME;
    return true;
}

ptrdiff_t ex__field_index(const ex_schema *s, sb_str name)
{
    size_t lo = 0, hi = s->nfields;
    while (lo < hi) {
        size_t mid = (lo + hi) / 2;
        sb_str f = s->fields[mid];
        size_t n = f.len < name.len ? f.len : name.len;
        int r = n ? memcmp(f.ptr, name.ptr, n) : 0;
        if (r == 0)
            r = f.len < name.len ? -1 : f.len > name.len;
        if (r == 0)
            return (ptrdiff_t)mid;
        if (r < 0)
            lo = mid + 1;
        else
            hi = mid;
    }
    return -1;
}

sb_str ex__tag(const tsdb_tag *tags, size_t ntags, sb_str key)
{
    for (size_t i = 0; i < ntags; i++)
        if (sb_str_eq(tags[i].key, key))
            return tags[i].value;
    return SB_STR("");
}

static bool is_field_ref(const iql_expr *e, const ex_schema *s)
{
    return e->kind == IQL_VAR && e->cast != IQL_CAST_TAG && s && ex__field_index(s, e->name) >= 0;
}

bool ex__reads_field(const iql_expr *e, const ex_schema *s)
{
    if (!e)
        return false;
    if (e->kind == IQL_BINARY && ex__is_time_cmp(e))
        return false;
    if (is_field_ref(e, s))
        return true;
    if (e->kind == IQL_BINARY)
        return ex__reads_field(e->lhs, s) || ex__reads_field(e->rhs, s);
    if (e->kind == IQL_PAREN)
        return ex__reads_field(e->lhs, s);
    return false;
}

size_t ex__must_tags(const iql_expr *e, const ex_schema *s, tsdb_tag *out, size_t cap)
{
    if (!e)
        return 0;
    if (e->kind == IQL_PAREN)
        return ex__must_tags(e->lhs, s, out, cap);
    if (e->kind != IQL_BINARY)
        return 0;
    if (e->op == IQL_OP_AND) {
        size_t n = ex__must_tags(e->lhs, s, out, cap);
        return n + ex__must_tags(e->rhs, s, out + n, cap - n);
    }
    if (e->op != IQL_OP_EQ || cap == 0)
        return 0;
    const iql_expr *var = e->lhs, *lit = e->rhs;
    if (var->kind != IQL_VAR) {
        var = e->rhs;
        lit = e->lhs;
    }
    /* An empty value means "has no such tag": not an index lookup. */
    if (var->kind != IQL_VAR || lit->kind != IQL_STRING || lit->s.len == 0 || is_time_var(var) ||
        is_field_ref(var, s))
        return 0;
    out[0] = (tsdb_tag){var->name, lit->s};
    return 1;
}

static ex_val mk_bool(bool b)
{
    ex_val v = {.type = TSDB_BOOL};
    v.b = b;
    return v;
}

static bool numeric(const ex_val *v)
{
    return v->type == TSDB_FLOAT || v->type == TSDB_INT || v->type == TSDB_UINT;
}

static double as_f(const ex_val *v)
{
    return v->type == TSDB_FLOAT ? v->f : v->type == TSDB_INT ? (double)v->i : (double)v->u;
}

ex_val ex__arith(iql_op op, ex_val a, ex_val b)
{
    ex_val r = {.type = EX_NULL};
    if (a.type == EX_UNKNOWN || b.type == EX_UNKNOWN) {
        r.type = EX_UNKNOWN;
        return r;
    }
    if (a.type == TSDB_INT && b.type == TSDB_INT) {
        uint64_t x = (uint64_t)a.i, y = (uint64_t)b.i;
        r.type = TSDB_INT;
        switch (op) {
        case IQL_OP_ADD:
            r.i = (int64_t)(x + y);
            return r;
        case IQL_OP_SUB:
            r.i = (int64_t)(x - y);
            return r;
        case IQL_OP_MUL:
            r.i = (int64_t)(x * y);
            return r;
        case IQL_OP_DIV:
            r.type = TSDB_FLOAT;
            r.f = b.i == 0 ? 0 : (double)a.i / (double)b.i;
            return r;
        case IQL_OP_MOD:
            r.i = b.i == 0 || (b.i == -1) ? 0 : a.i % b.i;
            return r;
        case IQL_OP_BITAND:
            r.i = a.i & b.i;
            return r;
        case IQL_OP_BITOR:
            r.i = a.i | b.i;
            return r;
        case IQL_OP_BITXOR:
            r.i = a.i ^ b.i;
            return r;
        default:
            r.type = EX_NULL;
            return r;
        }
    }
    if (a.type == TSDB_BOOL && b.type == TSDB_BOOL) {
        r.type = TSDB_BOOL;
        if (op == IQL_OP_BITAND)
            r.b = a.b && b.b;
        else if (op == IQL_OP_BITOR)
            r.b = a.b || b.b;
        else if (op == IQL_OP_BITXOR)
            r.b = a.b != b.b;
        else
            r.type = EX_NULL;
        return r;
    }
    if (!numeric(&a) || !numeric(&b))
        return r;
    double x = as_f(&a), y = as_f(&b);
    r.type = TSDB_FLOAT;
    switch (op) {
    case IQL_OP_ADD:
        r.f = x + y;
        break;
    case IQL_OP_SUB:
        r.f = x - y;
        break;
    case IQL_OP_MUL:
        r.f = x * y;
        break;
    case IQL_OP_DIV:
        r.f = y == 0 ? 0 : x / y;
        break;
    case IQL_OP_MOD:
        r.f = fmod(x, y);
        break;
    default:
        r.type = EX_NULL;
    }
    return r;
}

static int cmp_vals(const ex_val *a, const ex_val *b, bool *ok)
{
    *ok = true;
    if (a->type == TSDB_STRING && b->type == TSDB_STRING) {
        size_t n = a->s.len < b->s.len ? a->s.len : b->s.len;
        int r = n ? memcmp(a->s.ptr, b->s.ptr, n) : 0;
        return r ? r : (a->s.len > b->s.len) - (a->s.len < b->s.len);
    }
    if (a->type == TSDB_BOOL && b->type == TSDB_BOOL)
        return (int)a->b - (int)b->b;
    if (a->type == TSDB_INT && b->type == TSDB_INT)
        return (a->i > b->i) - (a->i < b->i);
    if (numeric(a) && numeric(b)) {
        double x = as_f(a), y = as_f(b);
        if (x != x || y != y) {
            *ok = false;
            return 0;
        }
        return (x > y) - (x < y);
    }
    *ok = false;
    return 0;
}

int ex__truth(const ex_val *v)
{
    if (v->type == EX_UNKNOWN)
        return -1;
    return v->type == TSDB_BOOL && v->b;
}

ex_val ex__eval(ex_ctx *c, const iql_expr *e, const ex_env *env)
{
    ex_val r = {.type = EX_NULL};
    switch (e->kind) {
    case IQL_PAREN:
        return ex__eval(c, e->lhs, env);
    case IQL_INTEGER:
    case IQL_DURATION:
        r.type = TSDB_INT;
        r.i = e->i;
        return r;
    case IQL_NUMBER:
        r.type = TSDB_FLOAT;
        r.f = e->f;
        return r;
    case IQL_STRING:
        r.type = TSDB_STRING;
        r.s = e->s;
        return r;
    case IQL_BOOLEAN:
        return mk_bool(e->b);
    case IQL_VAR: {
        ptrdiff_t fi = e->cast == IQL_CAST_TAG ? -1 : ex__field_index(env->schema, e->name);
        if (fi >= 0) {
            if (!env->fields) {
                r.type = EX_UNKNOWN;
                return r;
            }
            return env->fields[fi];
        }
        if (e->cast != IQL_CAST_NONE && e->cast != IQL_CAST_TAG && e->cast != IQL_CAST_STRING)
            return r; /* a ::field that is no field */
        r.type = TSDB_STRING;
        r.s = ex__tag(env->tags, env->ntags, e->name);
        return r;
    }
    case IQL_CALL:
        if (sb_str_eq(e->name, SB_STR("now")) && e->nargs == 0) {
            r.type = TSDB_INT;
            r.i = env->now;
        }
        return r;
    case IQL_BINARY:
        break;
    default:
        return r;
    }
    if (ex__is_time_cmp(e))
        return mk_bool(true);
    if (e->op == IQL_OP_AND || e->op == IQL_OP_OR) {
        ex_val a = ex__eval(c, e->lhs, env);
        int ta = ex__truth(&a);
        if (e->op == IQL_OP_AND && ta == 0)
            return mk_bool(false);
        if (e->op == IQL_OP_OR && ta == 1)
            return mk_bool(true);
        ex_val b = ex__eval(c, e->rhs, env);
        int tb = ex__truth(&b);
        if (e->op == IQL_OP_AND) {
            if (tb == 0)
                return mk_bool(false);
            if (ta == 1 && tb == 1)
                return mk_bool(true);
        } else {
            if (tb == 1)
                return mk_bool(true);
            if (ta == 0 && tb == 0)
                return mk_bool(false);
        }
        r.type = EX_UNKNOWN;
        return r;
    }
    if (e->op == IQL_OP_EQ_REGEX || e->op == IQL_OP_NEQ_REGEX) {
        const iql_expr *re = e->rhs;
        while (re->kind == IQL_PAREN)
            re = re->lhs;
        ex_val a = ex__eval(c, e->lhs, env);
        if (a.type == EX_UNKNOWN)
            return a;
        if (re->kind != IQL_REGEX || a.type != TSDB_STRING)
            return mk_bool(false);
        bool m;
        if (!ex__match(c, re->s, a.s, &m))
            return r;
        return mk_bool(e->op == IQL_OP_EQ_REGEX ? m : !m);
    }
    ex_val a = ex__eval(c, e->lhs, env);
    ex_val b = ex__eval(c, e->rhs, env);
    if (is_cmp(e->op)) {
        if (a.type == EX_UNKNOWN || b.type == EX_UNKNOWN) {
            r.type = EX_UNKNOWN;
            return r;
        }
        bool ok;
        int d = cmp_vals(&a, &b, &ok);
        if (!ok)
            return mk_bool(false);
        if ((a.type == TSDB_BOOL) && e->op != IQL_OP_EQ && e->op != IQL_OP_NEQ)
            return mk_bool(false);
        switch (e->op) {
        case IQL_OP_EQ:
            return mk_bool(d == 0);
        case IQL_OP_NEQ:
            return mk_bool(d != 0);
        case IQL_OP_LT:
            return mk_bool(d < 0);
        case IQL_OP_LTE:
            return mk_bool(d <= 0);
        case IQL_OP_GT:
            return mk_bool(d > 0);
        default:
            return mk_bool(d >= 0);
        }
    }
    return ex__arith(e->op, a, b);
}
