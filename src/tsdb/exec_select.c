/*
 * exec_select.c: SELECT. Plan once (fields, calls, dimensions, time range,
 * checks with InfluxDB's messages), then per measurement (sorted): its
 * schema (and fn(*) expanded over it), its series through the source's tag
 * index, the rest of WHERE judged per series on tags, grouping by the
 * GROUP BY tags, and per group either raw rows (fields merged by time
 * across fields and series) or aggregates per time bucket, filled,
 * limited and written.
 *
 * Hot path: an aggregate without a field condition reads chunks and feeds
 * each run of points that falls in one bucket to the accumulator in one
 * call (exec_agg.c); count only adds run lengths. With GROUP BY time,
 * count/sum/mean/min/max of float fields take the buckets wholly inside
 * the range from the source's rollups when it has them.
 *
 * Memory: the statement's arena holds names, series and raw rows; the
 * accumulators of one group at a time are malloc'd and freed with it, so
 * a query holds at most one group's buckets (bounded by the limits).
 */
#include <math.h>
#include <stdlib.h>

#include "base/map.h"
#include "base/vec.h"
#include "tsdb/exec_int.h"

#define EX_MAX_CALLS           64
#define EX_MAX_DIMS            256
#define EX_MAX_MUST            32
#define EX_DEFAULT_MAX_BUCKETS (1u << 19) /* buckets x calls without max_points */

typedef struct plan {
    const iql_select *s;
    bool agg;
    ex_call calls[EX_MAX_CALLS];
    size_t ncalls;
    bool top;           /* the one call is top() or bottom() */
    bool aux;           /* one selector with tags or fields beside it */
    bool wild_calls;    /* fn(*) or fn(/re/): expanded per measurement */
    bool selector_time; /* one selector, no interval: rows carry its time */
    int64_t interval, offset;
    sb_str dims[EX_MAX_DIMS]; /* GROUP BY tags as written */
    size_t ndims;
    bool dim_all; /* GROUP BY * */
    sb_str dim_regex[16];
    size_t ndim_regex;
    ex_timerange tr;
    sb_str db;
    size_t points, nseries_read; /* against the limits */
} plan;

typedef struct series {
    uint64_t id;
    tsdb_tag *tags;
    size_t ntags;
    uint32_t seq;
} series;

typedef struct group {
    sb_str key;
    sb_str *vals; /* per output dim */
    SB_VEC(uint32_t) members;
} group;

typedef struct meas {
    sb_str name;
    ex_schema schema;
    SB_VEC(series) series;
    SB_VEC(group *) groups;
    sb_str *tagkeys; /* every tag key of the selected series, sorted */
    size_t ntagkeys;
    sb_str *dims; /* output dims, sorted */
    size_t ndims;
} meas;

/* ---- names ---- */

static bool name_is(sb_str n, const char *lit)
{
    return sb_str_eq(n, sb_str_c(lit));
}

static const struct {
    const char *name;
    ex_fn fn;
} FNS[] = {
    {"count", EX_COUNT},       {"sum", EX_SUM},
    {"mean", EX_MEAN},         {"min", EX_MIN},
    {"max", EX_MAX},           {"first", EX_FIRST},
    {"last", EX_LAST},         {"spread", EX_SPREAD},
    {"stddev", EX_STDDEV},     {"percentile", EX_PERCENTILE},
    {"median", EX_MEDIAN},     {"top", EX_TOP},
    {"bottom", EX_BOTTOM},     {"mode", EX_MODE},
    {"distinct", EX_DISTINCT}, {"integral", EX_INTEGRAL},
};

/* Functions InfluxDB has that we do not run: named, not "undefined". */
static const char *const UNSUPPORTED[] = {
    "derivative",
    "non_negative_derivative",
    "difference",
    "non_negative_difference",
    "moving_average",
    "cumulative_sum",
    "elapsed",
    "holt_winters",
    "holt_winters_with_fit",
    "sample",
    "chande_momentum_oscillator",
    "exponential_moving_average",
    "double_exponential_moving_average",
    "kaufmans_efficiency_ratio",
    "kaufmans_adaptive_moving_average",
    "triple_exponential_moving_average",
    "triple_exponential_derivative",
    "relative_strength_index",
    "abs",
    "sin",
    "cos",
    "tan",
    "asin",
    "acos",
    "atan",
    "atan2",
    "exp",
    "log",
    "ln",
    "log2",
    "log10",
    "sqrt",
    "pow",
    "floor",
    "ceil",
    "round",
};

/* The column name of an expression, as influxql's Field.Name(). */
static void expr_name(const iql_expr *e, sb_buf *b)
{
    switch (e->kind) {
    case IQL_VAR:
        if (b->len)
            sb_buf_putc(b, '_');
        sb_buf_append_str(b, e->name);
        break;
    case IQL_CALL:
        if (b->len)
            sb_buf_putc(b, '_');
        sb_buf_append_str(b, e->name);
        break;
    case IQL_PAREN:
        expr_name(e->lhs, b);
        break;
    case IQL_BINARY:
        expr_name(e->lhs, b);
        expr_name(e->rhs, b);
        break;
    default:
        break;
    }
}

static sb_str str_of_buf(ex_ctx *c, sb_buf *b)
{
    sb_str s = ex__dup(c, sb_buf_str(b));
    sb_buf_reset(b);
    return s;
}

/* ---- planning ---- */

static bool is_time_ref(const iql_expr *e)
{
    return e->kind == IQL_VAR && name_is(e->name, "time");
}

static ex_call *find_call(plan *p, const iql_expr *e)
{
    for (size_t i = 0; i < p->ncalls; i++)
        if (p->calls[i].expr == e)
            return &p->calls[i];
    return NULL;
}

static bool plan_call(ex_ctx *c, plan *p, const iql_expr *e)
{
    ex_fn fn = EX_COUNT;
    bool known = false;
    for (size_t i = 0; i < sizeof(FNS) / sizeof(FNS[0]); i++)
        if (name_is(e->name, FNS[i].name)) {
            fn = FNS[i].fn;
            known = true;
        }
    if (!known) {
        for (size_t i = 0; i < sizeof(UNSUPPORTED) / sizeof(UNSUPPORTED[0]); i++)
            if (name_is(e->name, UNSUPPORTED[i]))
                return ex__fail(c, "function %.*s() is not supported", SB_STR_FMT(e->name));
        return ex__fail(c, "undefined function %.*s()", SB_STR_FMT(e->name));
    }
    ex_call k = {.expr = e, .fn = fn, .name = e->name, .fidx = -1, .unit = 1000000000};
    if (fn == EX_COUNT && e->nargs == 1 && e->args[0]->kind == IQL_CALL &&
        name_is(e->args[0]->name, "distinct")) {
        /* count(distinct(f)): the number of distinct values. */
        const iql_expr *d = e->args[0];
        if (d->nargs != 1)
            return ex__fail(c, "distinct function can only have one argument");
        if (d->args[0]->kind != IQL_VAR)
            return ex__fail(c, "expected field argument in distinct()");
        k.fn = EX_COUNT_DISTINCT;
        k.field = d->args[0]->name;
        if (p->ncalls == EX_MAX_CALLS)
            return ex__fail(c, "too many function calls (at most %d)", EX_MAX_CALLS);
        p->calls[p->ncalls++] = k;
        return true;
    }
    const char *nm = FNS[0].name;
    for (size_t i = 0; i < sizeof(FNS) / sizeof(FNS[0]); i++)
        if (FNS[i].fn == fn)
            nm = FNS[i].name;
    if (fn == EX_TOP || fn == EX_BOTTOM) {
        if (e->nargs < 2)
            return ex__fail(c, "invalid number of arguments for %s, expected at least 2, got %zu",
                            nm, e->nargs);
        const iql_expr *last = e->args[e->nargs - 1];
        if (last->kind != IQL_INTEGER) {
            sb_buf b = SB_BUF_INIT;
            if (last->kind == IQL_NUMBER)
                sb_buf_appendf(&b, "%.3f", last->f);
            else
                iql_expr_write(last, &b);
            ex__fail(c, "expected integer as last argument in %s(), found %s", nm,
                     b.ptr ? b.ptr : "");
            sb_buf_free(&b);
            return false;
        }
        if (e->args[0]->kind != IQL_VAR) {
            sb_buf b = SB_BUF_INIT;
            iql_expr_write(e->args[0], &b);
            ex__fail(c, "expected first argument to be a field in %s(), found %s", nm,
                     b.ptr ? b.ptr : "");
            sb_buf_free(&b);
            return false;
        }
        if (e->nargs > 2) {
            sb_str *tags = sb_arena_alloc(c->arena, (e->nargs - 2) * sizeof(sb_str));
            for (size_t i = 1; i + 1 < e->nargs; i++) {
                if (e->args[i]->kind != IQL_VAR) {
                    sb_buf b = SB_BUF_INIT;
                    iql_expr_write(e->args[i], &b);
                    ex__fail(c, "only fields or tags are allowed in %s(), found %s", nm,
                             b.ptr ? b.ptr : "");
                    sb_buf_free(&b);
                    return false;
                }
                tags[i - 1] = e->args[i]->name;
            }
            k.tagargs = tags;
            k.ntagargs = e->nargs - 2;
        }
        if (last->i < 1)
            return ex__fail(c, "limit (%lld) in %s function must be at least 1", (long long)last->i,
                            nm);
        if (c->o->max_points && (uint64_t)last->i > c->o->max_points)
            return ex__fail(c, "max-select-point limit exceeed: (%lld/%zu)", (long long)last->i,
                            c->o->max_points);
        k.n = last->i;
    } else if (fn == EX_PERCENTILE) {
        if (e->nargs != 2)
            return ex__fail(c, "invalid number of arguments for percentile, expected 2, got %zu",
                            e->nargs);
        if (e->args[1]->kind == IQL_INTEGER)
            k.pct = (double)e->args[1]->i;
        else if (e->args[1]->kind == IQL_NUMBER)
            k.pct = e->args[1]->f;
        else
            return ex__fail(c, "expected float argument in percentile()");
    } else if (fn == EX_INTEGRAL) {
        if (e->nargs < 1 || e->nargs > 2)
            return ex__fail(c,
                            "invalid number of arguments for integral, expected at least 1 but no "
                            "more than 2, got %zu",
                            e->nargs);
        if (e->nargs == 2) {
            if (e->args[1]->kind != IQL_DURATION)
                return ex__fail(c, "second argument must be a duration");
            if (e->args[1]->i <= 0) {
                sb_buf b = SB_BUF_INIT;
                iql_expr_write(e->args[1], &b);
                ex__fail(c, "duration argument must be positive, got %s", b.ptr ? b.ptr : "");
                sb_buf_free(&b);
                return false;
            }
            k.unit = e->args[1]->i;
        }
    } else if (fn == EX_DISTINCT) {
        if (e->nargs != 1)
            return ex__fail(c, "distinct function can only have one argument");
        if (e->args[0]->kind != IQL_VAR)
            return ex__fail(c, "expected field argument in distinct()");
    } else if (e->nargs != 1) {
        return ex__fail(c, "invalid number of arguments for %s, expected 1, got %zu", nm, e->nargs);
    }
    const iql_expr *arg = e->args[0];
    if (arg->kind == IQL_WILDCARD || arg->kind == IQL_REGEX) {
        /* Expanded per measurement (expand_calls); checked then. */
        if (arg->kind == IQL_REGEX && !ex__regex(c, arg->s))
            return false;
        p->wild_calls = true;
        return true;
    }
    if (arg->kind != IQL_VAR)
        return ex__fail(c, "expected field argument in %s()", nm);
    k.field = arg->name;
    if (p->ncalls == EX_MAX_CALLS)
        return ex__fail(c, "too many function calls (at most %d)", EX_MAX_CALLS);
    p->calls[p->ncalls++] = k;
    return true;
}

/* Walks a field expression: calls become plan calls; a variable outside a
 * call makes the field raw. */
static bool plan_expr(ex_ctx *c, plan *p, const iql_expr *e, bool *raw, bool *aggr)
{
    switch (e->kind) {
    case IQL_CALL:
        *aggr = true;
        return plan_call(c, p, e);
    case IQL_VAR:
    case IQL_WILDCARD:
    case IQL_REGEX:
        *raw = true;
        return true;
    case IQL_PAREN:
        return plan_expr(c, p, e->lhs, raw, aggr);
    case IQL_BINARY:
        return plan_expr(c, p, e->lhs, raw, aggr) && plan_expr(c, p, e->rhs, raw, aggr);
    default:
        return true;
    }
}

static bool plan_dims(ex_ctx *c, plan *p)
{
    const iql_select *s = p->s;
    bool have_time = false;
    for (size_t i = 0; i < s->ndimensions; i++) {
        const iql_expr *d = s->dimensions[i];
        if (d->kind == IQL_CALL) {
            if (!name_is(d->name, "time"))
                return ex__fail(c, "only time() calls allowed in dimensions");
            if (d->nargs < 1 || d->nargs > 2)
                return ex__fail(c, "time dimension expected 1 or 2 arguments");
            if (d->args[0]->kind != IQL_DURATION)
                return ex__fail(c, "time dimension must have duration argument");
            if (have_time)
                return ex__fail(c, "multiple time dimensions not allowed");
            have_time = true;
            p->interval = d->args[0]->i;
            if (p->interval <= 0)
                return ex__fail(c, "time dimension must have a positive duration");
            if (d->nargs == 2) {
                const iql_expr *o = d->args[1];
                int64_t off;
                if (o->kind == IQL_DURATION)
                    off = o->i;
                else if (o->kind == IQL_CALL && name_is(o->name, "now") && o->nargs == 0)
                    off = c->o->now_ns;
                else if (o->kind == IQL_CALL && name_is(o->name, "now"))
                    return ex__fail(c,
                                    "time dimension offset now() function requires no arguments");
                else if (o->kind == IQL_CALL)
                    return ex__fail(c, "time dimension offset function must be now()");
                else
                    return ex__fail(c, "time dimension offset must be duration or now()");
                off %= p->interval;
                if (off < 0)
                    off += p->interval;
                p->offset = off;
            }
        } else if (d->kind == IQL_VAR) {
            if (is_time_ref(d))
                return ex__fail(c, "time() is a function and expects at least one argument");
            if (p->ndims == EX_MAX_DIMS)
                return ex__fail(c, "too many GROUP BY tags");
            p->dims[p->ndims++] = d->name;
        } else if (d->kind == IQL_WILDCARD) {
            p->dim_all = true;
        } else if (d->kind == IQL_REGEX) {
            if (p->ndim_regex == 16)
                return ex__fail(c, "too many GROUP BY regexes");
            p->dim_regex[p->ndim_regex++] = d->s;
            if (!ex__regex(c, d->s))
                return false;
        } else {
            return ex__fail(c, "only time and tag dimensions allowed");
        }
    }
    return true;
}

static bool is_selector(ex_fn fn)
{
    return fn == EX_MIN || fn == EX_MAX || fn == EX_FIRST || fn == EX_LAST || fn == EX_PERCENTILE ||
           fn == EX_TOP || fn == EX_BOTTOM;
}

static bool plan_select(ex_ctx *c, plan *p)
{
    const iql_select *s = p->s;
    if (s->tz.ptr && !sb_str_eq_nocase(s->tz, SB_STR("UTC")))
        return ex__fail(c, "tz('%.*s') is not supported: only UTC", SB_STR_FMT(s->tz));
    bool raw = false, aggr = false, nontime = false;
    for (size_t i = 0; i < s->nfields; i++) {
        const iql_expr *e = s->fields[i].expr;
        if (is_time_ref(e))
            continue;
        nontime = true;
        bool r = false, a = false;
        if (!plan_expr(c, p, e, &r, &a))
            return false;
        raw |= r;
        aggr |= a;
    }
    if (!nontime)
        return ex__fail(c, "at least 1 non-time field must be queried");
    if (!plan_dims(c, p))
        return false;
    for (size_t i = 0; i < p->ncalls; i++) {
        if (p->calls[i].fn == EX_DISTINCT && (p->ncalls > 1 || raw))
            return ex__fail(
                c,
                "aggregate function distinct() cannot be combined with other functions or fields");
        if (p->calls[i].fn != EX_TOP && p->calls[i].fn != EX_BOTTOM)
            continue;
        bool alone = p->ncalls == 1;
        for (size_t f = 0; f < s->nfields && alone; f++) {
            const iql_expr *e = s->fields[f].expr;
            if (e->kind != IQL_CALL && e->kind != IQL_VAR)
                alone = false; /* top() inside arithmetic */
        }
        if (!alone)
            return ex__fail(c, "selector function %.*s() cannot be combined with other functions",
                            SB_STR_FMT(p->calls[i].name));
    }
    if (raw && aggr) {
        bool only_selectors = true;
        for (size_t i = 0; i < p->ncalls; i++)
            only_selectors &= is_selector(p->calls[i].fn);
        if (only_selectors && p->ncalls > 1)
            return ex__fail(
                c, "mixing multiple selector functions with tags or fields is not supported");
        if (!only_selectors)
            return ex__fail(c, "mixing aggregate and non-aggregate queries is not supported");
        /* One selector: the other columns read the selected point's series
         * (tags) and its other fields at that time. */
        for (size_t f = 0; f < s->nfields; f++) {
            iql_expr_kind k = s->fields[f].expr->kind;
            if (k == IQL_WILDCARD || k == IQL_REGEX)
                return ex__fail(c, "wildcards beside a selector are not supported");
        }
        p->aux = true;
    }
    p->agg = aggr;
    if (!aggr) {
        if (p->interval)
            return ex__fail(c, "GROUP BY requires at least one aggregate function");
        if (s->fill == IQL_FILL_NONE)
            return ex__fail(c, "fill(none) must be used with a function");
        if (s->fill == IQL_FILL_LINEAR)
            return ex__fail(c, "fill(linear) must be used with a function");
        /* fill(previous) and fill(N) of a raw query are ignored, as
         * InfluxDB does. */
    }
    /* Calls that answer several rows a bucket. */
    p->top = p->ncalls == 1 && (p->calls[0].fn == EX_TOP || p->calls[0].fn == EX_BOTTOM ||
                                p->calls[0].fn == EX_DISTINCT);
    p->selector_time = p->ncalls == 1 && is_selector(p->calls[0].fn) && !p->interval;
    if (!ex__time_range(c, s->where, &p->tr))
        return false;
    if (!p->tr.has_max && p->interval)
        p->tr.max = c->o->now_ns;
    return true;
}

/* ---- sources ---- */

typedef struct name_list {
    ex_ctx *c;
    SB_VEC(sb_str) names;
    sb_str regex;
} name_list;

static int name_cb(void *arg, sb_str name)
{
    name_list *l = arg;
    if (l->regex.ptr) {
        bool m;
        if (!ex__match(l->c, l->regex, name, &m))
            return 1;
        if (!m)
            return 0;
    }
    sb_vec_push(&l->names, ex__dup(l->c, name));
    return 0;
}

static int cmp_str(const void *x, const void *y)
{
    const sb_str *a = x, *b = y;
    size_t n = a->len < b->len ? a->len : b->len;
    int r = n ? memcmp(a->ptr, b->ptr, n) : 0;
    return r ? r : (a->len > b->len) - (a->len < b->len);
}

typedef struct field_list {
    ex_ctx *c;
    SB_VEC(sb_str) names;
    SB_VEC(tsdb_type) types;
} field_list;

static int field_cb(void *arg, sb_str name, tsdb_type type)
{
    field_list *l = arg;
    sb_vec_push(&l->names, ex__dup(l->c, name));
    sb_vec_push(&l->types, type);
    return 0;
}

static bool load_schema(ex_ctx *c, plan *p, meas *m)
{
    field_list fl = {.c = c};
    sb_errbuf err = {{0}};
    int rc = c->src->vt->fields(c->src, p->db, m->name, field_cb, &fl, &err);
    if (rc < 0) {
        sb_vec_free(&fl.names);
        sb_vec_free(&fl.types);
        return ex__source_fail(c, rc, &err);
    }
    size_t n = fl.names.len;
    m->schema.nfields = n;
    m->schema.fields = sb_arena_alloc(c->arena, (n ? n : 1) * sizeof(sb_str));
    m->schema.types = sb_arena_alloc(c->arena, (n ? n : 1) * sizeof(tsdb_type));
    if (n) {
        memcpy(m->schema.fields, fl.names.items, n * sizeof(sb_str));
        memcpy(m->schema.types, fl.types.items, n * sizeof(tsdb_type));
    }
    sb_vec_free(&fl.names);
    sb_vec_free(&fl.types);
    return true;
}

typedef struct series_walk {
    ex_ctx *c;
    plan *p;
    meas *m;
} series_walk;

static int series_cb(void *arg, const tsdb_series_info *si)
{
    series_walk *w = arg;
    ex_ctx *c = w->c;
    if (w->p->s->where) {
        ex_env env = {&w->m->schema, si->tags, si->ntags, NULL, c->o->now_ns};
        ex_val v = ex__eval(c, w->p->s->where, &env);
        if (c->failed)
            return 1;
        if (ex__truth(&v) == 0)
            return 0;
    }
    if (c->o->max_series && w->m->series.len + w->p->nseries_read >= c->o->max_series) {
        ex__fail(c, "max-select-series limit exceeded: (%zu/%zu)",
                 w->m->series.len + w->p->nseries_read + 1, c->o->max_series);
        return 1;
    }
    series s = {.id = si->id, .ntags = si->ntags, .seq = (uint32_t)w->m->series.len};
    s.tags = sb_arena_alloc(c->arena, (si->ntags ? si->ntags : 1) * sizeof(tsdb_tag));
    for (size_t i = 0; i < si->ntags; i++) {
        s.tags[i].key = ex__dup(c, si->tags[i].key);
        s.tags[i].value = ex__dup(c, si->tags[i].value);
    }
    sb_vec_push(&w->m->series, s);
    return 0;
}

static bool load_series(ex_ctx *c, plan *p, meas *m)
{
    tsdb_tag must[EX_MAX_MUST];
    size_t nmust = ex__must_tags(p->s->where, &m->schema, must, EX_MAX_MUST);
    series_walk w = {c, p, m};
    sb_errbuf err = {{0}};
    int rc = c->src->vt->series(c->src, p->db, m->name, must, nmust, series_cb, &w, &err);
    if (c->failed)
        return false;
    if (rc < 0)
        return ex__source_fail(c, rc, &err);
    p->nseries_read += m->series.len;
    /* Every tag key, for GROUP BY * and wildcards. */
    SB_VEC(sb_str) keys = {0};
    for (size_t i = 0; i < m->series.len; i++)
        for (size_t j = 0; j < m->series.items[i].ntags; j++)
            sb_vec_push(&keys, m->series.items[i].tags[j].key);
    if (keys.len)
        qsort(keys.items, keys.len, sizeof(sb_str), cmp_str);
    size_t u = 0;
    for (size_t i = 0; i < keys.len; i++)
        if (u == 0 || !sb_str_eq(keys.items[u - 1], keys.items[i]))
            keys.items[u++] = keys.items[i];
    m->ntagkeys = u;
    m->tagkeys = sb_arena_alloc(c->arena, (u ? u : 1) * sizeof(sb_str));
    if (u)
        memcpy(m->tagkeys, keys.items, u * sizeof(sb_str));
    sb_vec_free(&keys);
    return true;
}

/* ---- grouping ---- */

static bool dim_wanted(ex_ctx *c, plan *p, sb_str key)
{
    if (p->dim_all)
        return true;
    for (size_t i = 0; i < p->ndims; i++)
        if (sb_str_eq(p->dims[i], key))
            return true;
    for (size_t i = 0; i < p->ndim_regex; i++) {
        bool mt;
        if (ex__match(c, p->dim_regex[i], key, &mt) && mt)
            return true;
    }
    return false;
}

static int cmp_group(const void *x, const void *y)
{
    const group *a = *(group *const *)x, *b = *(group *const *)y;
    return cmp_str(&a->key, &b->key);
}

static bool make_groups(ex_ctx *c, plan *p, meas *m)
{
    /* Output dims: the named tags (even ones no series has), tags matching
     * a regex, or all with *; sorted and unique. */
    SB_VEC(sb_str) d = {0};
    for (size_t i = 0; i < p->ndims; i++)
        sb_vec_push(&d, p->dims[i]);
    for (size_t i = 0; i < m->ntagkeys; i++)
        if ((p->dim_all || p->ndim_regex) && dim_wanted(c, p, m->tagkeys[i]))
            sb_vec_push(&d, m->tagkeys[i]);
    if (d.len)
        qsort(d.items, d.len, sizeof(sb_str), cmp_str);
    size_t u = 0;
    for (size_t i = 0; i < d.len; i++)
        if (u == 0 || !sb_str_eq(d.items[u - 1], d.items[i]))
            d.items[u++] = d.items[i];
    m->ndims = u;
    m->dims = sb_arena_alloc(c->arena, (u ? u : 1) * sizeof(sb_str));
    if (u)
        memcpy(m->dims, d.items, u * sizeof(sb_str));
    sb_vec_free(&d);

    sb_map map;
    sb_map_init(&map);
    sb_buf key = SB_BUF_INIT;
    for (size_t i = 0; i < m->series.len; i++) {
        series *s = &m->series.items[i];
        sb_buf_reset(&key);
        for (size_t j = 0; j < m->ndims; j++) {
            sb_str v = ex__tag(s->tags, s->ntags, m->dims[j]);
            sb_buf_append_str(&key, v);
            sb_buf_putc(&key, 0);
        }
        sb_buf_putc(&key, '|'); /* never empty: sb_map wants a key pointer */
        group *g = sb_map_get(&map, sb_buf_str(&key));
        if (!g) {
            g = sb_arena_calloc(c->arena, 1, sizeof(group));
            g->key = ex__dup(c, sb_buf_str(&key));
            g->vals = sb_arena_alloc(c->arena, (m->ndims ? m->ndims : 1) * sizeof(sb_str));
            for (size_t j = 0; j < m->ndims; j++)
                g->vals[j] = ex__tag(s->tags, s->ntags, m->dims[j]);
            sb_map_put(&map, sb_buf_str(&key), g);
            sb_vec_push(&m->groups, g);
        }
        sb_vec_push(&g->members, (uint32_t)i);
    }
    sb_buf_free(&key);
    sb_map_deinit(&map);
    if (m->groups.len)
        qsort(m->groups.items, m->groups.len, sizeof(group *), cmp_group);
    return true;
}

/* ---- reading rows (raw selects and field conditions) ---- */

typedef struct col {
    SB_VEC(int64_t) t;
    SB_VEC(ex_val) v;
} col;

typedef struct col_read {
    ex_ctx *c;
    plan *p;
    col *col;
} col_read;

static bool count_points(ex_ctx *c, plan *p, size_t n)
{
    p->points += n;
    if (c->o->max_points && p->points > c->o->max_points)
        return ex__fail(c, "max-select-point limit exceeed: (%zu/%zu)", p->points,
                        c->o->max_points);
    return true;
}

static int col_cb(void *arg, const tsdb_chunk *ch)
{
    col_read *r = arg;
    if (!count_points(r->c, r->p, ch->n))
        return 1;
    sb_vec_reserve(&r->col->t, ch->n);
    sb_vec_reserve(&r->col->v, ch->n);
    for (size_t i = 0; i < ch->n; i++) {
        ex_val v = {.type = (int)ch->type};
        switch (ch->type) {
        case TSDB_FLOAT:
            v.f = ch->v.f[i];
            break;
        case TSDB_INT:
            v.i = ch->v.i[i];
            break;
        case TSDB_UINT:
            v.u = ch->v.u[i];
            break;
        case TSDB_BOOL:
            v.b = ch->v.b[i];
            break;
        case TSDB_STRING:
            v.s = ex__dup(r->c, ch->v.s[i]);
            break;
        }
        r->col->t.items[r->col->t.len++] = ch->times[i];
        r->col->v.items[r->col->v.len++] = v;
    }
    return 0;
}

/* Calls fn for each timestamp at which one of the wanted fields of series
 * s has a point, with those fields' values (null where absent) indexed
 * like the schema. */
typedef bool (*row_fn)(void *arg, int64_t t, const ex_val *fields);

static bool read_rows(ex_ctx *c, plan *p, meas *m, const series *s, const bool *want, row_fn fn,
                      void *arg)
{
    size_t nf = m->schema.nfields;
    col *cols = calloc(nf ? nf : 1, sizeof(col));
    size_t *pos = calloc(nf ? nf : 1, sizeof(size_t));
    ex_val *row = calloc(nf ? nf : 1, sizeof(ex_val));
    if (!cols || !pos || !row)
        abort();
    bool ok = true;
    for (size_t f = 0; f < nf && ok; f++) {
        if (!want[f])
            continue;
        col_read r = {c, p, &cols[f]};
        sb_errbuf err = {{0}};
        int rc = c->src->vt->scan(c->src, p->db, s->id, m->schema.fields[f], p->tr.min, p->tr.max,
                                  col_cb, &r, &err);
        if (c->failed)
            ok = false;
        else if (rc < 0)
            ok = ex__source_fail(c, rc, &err);
    }
    while (ok) {
        int64_t t = INT64_MAX;
        bool any = false;
        for (size_t f = 0; f < nf; f++)
            if (want[f] && pos[f] < cols[f].t.len && cols[f].t.items[pos[f]] <= t) {
                t = cols[f].t.items[pos[f]];
                any = true;
            }
        if (!any)
            break;
        for (size_t f = 0; f < nf; f++) {
            row[f].type = EX_NULL;
            if (want[f] && pos[f] < cols[f].t.len && cols[f].t.items[pos[f]] == t)
                row[f] = cols[f].v.items[pos[f]++];
        }
        ok = fn(arg, t, row) && !c->failed;
    }
    for (size_t f = 0; f < nf; f++) {
        sb_vec_free(&cols[f].t);
        sb_vec_free(&cols[f].v);
    }
    free(cols);
    free(pos);
    free(row);
    return ok && !c->failed;
}

static void want_fields(const iql_expr *e, const ex_schema *sc, bool *want)
{
    if (!e)
        return;
    if (e->kind == IQL_VAR && e->cast != IQL_CAST_TAG) {
        ptrdiff_t i = ex__field_index(sc, e->name);
        if (i >= 0)
            want[i] = true;
    }
    if (e->kind == IQL_BINARY && ex__is_time_cmp(e))
        return;
    if (e->lhs)
        want_fields(e->lhs, sc, want);
    if (e->rhs)
        want_fields(e->rhs, sc, want);
    for (size_t i = 0; i < e->nargs; i++)
        want_fields(e->args[i], sc, want);
}

/* ---- output columns ---- */

typedef struct outcol {
    sb_str name;
    const iql_expr *expr; /* NULL: a wildcard-expanded reference below */
    sb_str ref;
    bool ref_is_tag;
} outcol;

/* Resolves the column names of the fields as influxql's columnNames():
 * aliases first, then generated names with _N suffixes on conflicts. */
static void name_columns(ex_ctx *c, outcol *cols, size_t n, const bool *aliased)
{
    sb_map names;
    sb_map_init(&names);
    char one = 1; /* a non-NULL value: the map only marks names as taken */
    for (size_t i = 0; i < n; i++)
        if (aliased[i])
            sb_map_put(&names, cols[i].name, &one);
    sb_buf b = SB_BUF_INIT;
    for (size_t i = 0; i < n; i++) {
        if (aliased[i])
            continue;
        sb_str name = cols[i].name;
        if (sb_map_get(&names, name)) {
            for (size_t k = 1;; k++) {
                sb_buf_reset(&b);
                sb_buf_append_str(&b, name);
                sb_buf_appendf(&b, "_%zu", k);
                if (!sb_map_get(&names, sb_buf_str(&b))) {
                    name = str_of_buf(c, &b);
                    break;
                }
            }
        }
        sb_map_put(&names, name, &one);
        cols[i].name = name;
    }
    sb_buf_free(&b);
    sb_map_deinit(&names);
}

static size_t build_columns(ex_ctx *c, plan *p, meas *m, outcol **out)
{
    const iql_select *s = p->s;
    SB_VEC(outcol) v = {0};
    SB_VEC(bool) aliased = {0};
    sb_buf b = SB_BUF_INIT;
    for (size_t i = 0; i < s->nfields; i++) {
        const iql_expr *e = s->fields[i].expr;
        if (is_time_ref(e))
            continue;
        if (e->kind == IQL_WILDCARD || e->kind == IQL_REGEX) {
            /* Fields and tags, merged by name; not the tags grouped by. */
            size_t fi = 0, ti = 0;
            while (fi < m->schema.nfields || ti < m->ntagkeys) {
                bool take_field;
                if (fi == m->schema.nfields)
                    take_field = false;
                else if (ti == m->ntagkeys)
                    take_field = true;
                else
                    take_field = cmp_str(&m->schema.fields[fi], &m->tagkeys[ti]) <= 0;
                sb_str name = take_field ? m->schema.fields[fi++] : m->tagkeys[ti++];
                if (!take_field) {
                    bool grouped = false;
                    for (size_t d = 0; d < m->ndims; d++)
                        grouped |= sb_str_eq(m->dims[d], name);
                    if (grouped || e->cast == IQL_CAST_FIELD)
                        continue;
                } else if (e->cast == IQL_CAST_TAG) {
                    continue;
                }
                if (e->kind == IQL_REGEX) {
                    bool mt;
                    if (!ex__match(c, e->s, name, &mt))
                        break;
                    if (!mt)
                        continue;
                }
                outcol oc = {.name = name, .ref = name, .ref_is_tag = !take_field};
                sb_vec_push(&v, oc);
                sb_vec_push(&aliased, false);
            }
            continue;
        }
        outcol oc = {.expr = e};
        if (s->fields[i].alias.ptr) {
            oc.name = s->fields[i].alias;
        } else {
            expr_name(e, &b);
            oc.name = str_of_buf(c, &b);
        }
        sb_vec_push(&v, oc);
        sb_vec_push(&aliased, s->fields[i].alias.ptr != NULL);
        if (e->kind == IQL_CALL && e->nargs > 2 &&
            (name_is(e->name, "top") || name_is(e->name, "bottom"))) {
            /* top(f, tag, N) also shows the tags (InfluxDB's ColumnNames). */
            for (size_t t = 1; t + 1 < e->nargs; t++) {
                outcol tc = {.name = e->args[t]->name, .expr = e->args[t]};
                sb_vec_push(&v, tc);
                sb_vec_push(&aliased, false);
            }
        }
    }
    sb_buf_free(&b);
    name_columns(c, v.items, v.len, aliased.items);
    size_t n = v.len;
    *out = sb_arena_alloc(c->arena, (n ? n : 1) * sizeof(outcol));
    if (n)
        memcpy(*out, v.items, n * sizeof(outcol));
    sb_vec_free(&v);
    sb_vec_free(&aliased);
    return n;
}

static void write_series_head(ex_ctx *c, meas *m, group *g, const outcol *cols, size_t ncols)
{
    sb_str *names = sb_arena_alloc(c->arena, (ncols + 1) * sizeof(sb_str));
    names[0] = SB_STR("time");
    for (size_t i = 0; i < ncols; i++)
        names[i + 1] = cols[i].name;
    ex__series_begin(c, m->name, m->dims, g->vals, m->ndims, names, ncols + 1);
}

/* Counts the series a statement writes against SLIMIT/SOFFSET: true when
 * this one is written. */
typedef struct slimiter {
    int64_t seen;
} slimiter;

static bool series_wanted(const plan *p, slimiter *sl)
{
    int64_t i = sl->seen++;
    if (i < p->s->soffset)
        return false;
    return !p->s->slimit || i - p->s->soffset < p->s->slimit;
}

/* ---- raw selects ---- */

typedef struct raw_row {
    int64_t t;
    uint32_t seq;
    ex_val *vals;
} raw_row;

typedef struct raw_ctx {
    ex_ctx *c;
    plan *p;
    meas *m;
    const series *s;
    const outcol *cols;
    size_t ncols;
    bool cond_fields;
    SB_VEC(raw_row) rows;
} raw_ctx;

static ex_val raw_value(raw_ctx *r, const outcol *oc, const ex_env *env)
{
    ex_val v = {.type = EX_NULL};
    if (!oc->expr) {
        if (oc->ref_is_tag) {
            for (size_t i = 0; i < r->s->ntags; i++)
                if (sb_str_eq(r->s->tags[i].key, oc->ref)) {
                    v.type = TSDB_STRING;
                    v.s = r->s->tags[i].value;
                }
            return v;
        }
        return env->fields[ex__field_index(&r->m->schema, oc->ref)];
    }
    const iql_expr *e = oc->expr;
    if (e->kind == IQL_VAR &&
        (e->cast == IQL_CAST_TAG || ex__field_index(&r->m->schema, e->name) < 0)) {
        /* A tag column: null when the series lacks the tag. */
        for (size_t i = 0; i < r->s->ntags; i++)
            if (sb_str_eq(r->s->tags[i].key, e->name)) {
                v.type = TSDB_STRING;
                v.s = r->s->tags[i].value;
            }
        return v;
    }
    v = ex__eval(r->c, e, env);
    if (e->kind == IQL_VAR && e->cast != IQL_CAST_NONE && e->cast != IQL_CAST_FIELD) {
        /* ::float / ::integer casts of numbers; other casts must match. */
        if (e->cast == IQL_CAST_FLOAT && v.type == TSDB_INT) {
            v.type = TSDB_FLOAT;
            v.f = (double)v.i;
        } else if (e->cast == IQL_CAST_INTEGER && v.type == TSDB_FLOAT && v.f > -9.2e18 &&
                   v.f < 9.2e18) {
            v.type = TSDB_INT;
            v.i = (int64_t)v.f;
        } else if ((e->cast == IQL_CAST_FLOAT && v.type != TSDB_FLOAT) ||
                   (e->cast == IQL_CAST_INTEGER && v.type != TSDB_INT) ||
                   (e->cast == IQL_CAST_STRING && v.type != TSDB_STRING) ||
                   (e->cast == IQL_CAST_BOOLEAN && v.type != TSDB_BOOL)) {
            v.type = EX_NULL;
        }
    }
    return v;
}

static bool col_reads_field(const outcol *oc, const ex_schema *sc)
{
    if (!oc->expr)
        return !oc->ref_is_tag;
    return ex__reads_field(oc->expr, sc);
}

static bool raw_row_fn(void *arg, int64_t t, const ex_val *fields)
{
    raw_ctx *r = arg;
    ex_ctx *c = r->c;
    ex_env env = {&r->m->schema, r->s->tags, r->s->ntags, fields, c->o->now_ns};
    if (r->p->s->where && r->cond_fields) {
        ex_val v = ex__eval(c, r->p->s->where, &env);
        if (ex__truth(&v) != 1)
            return !c->failed;
    }
    ex_val *vals = sb_arena_alloc(c->arena, (r->ncols ? r->ncols : 1) * sizeof(ex_val));
    bool any = false;
    for (size_t i = 0; i < r->ncols; i++) {
        vals[i] = raw_value(r, &r->cols[i], &env);
        if (vals[i].type != EX_NULL && col_reads_field(&r->cols[i], &r->m->schema))
            any = true;
    }
    if (!any)
        return true;
    raw_row row = {t, r->s->seq, vals};
    sb_vec_push(&r->rows, row);
    return true;
}

static int cmp_raw(const void *x, const void *y)
{
    const raw_row *a = x, *b = y;
    if (a->t != b->t)
        return a->t < b->t ? -1 : 1;
    return (a->seq > b->seq) - (a->seq < b->seq);
}

static void run_raw(ex_ctx *c, plan *p, meas *m, slimiter *sl)
{
    outcol *cols;
    size_t ncols = build_columns(c, p, m, &cols);
    if (c->failed || ncols == 0)
        return;
    bool *want = sb_arena_calloc(c->arena, m->schema.nfields + 1, sizeof(bool));
    bool any_field = false;
    for (size_t i = 0; i < ncols; i++) {
        if (!cols[i].expr) {
            if (!cols[i].ref_is_tag)
                want[ex__field_index(&m->schema, cols[i].ref)] = true;
        } else {
            want_fields(cols[i].expr, &m->schema, want);
        }
    }
    for (size_t f = 0; f < m->schema.nfields; f++)
        any_field |= want[f];
    if (!any_field)
        return; /* tags alone select nothing, as in InfluxDB */
    bool cond_fields = ex__reads_field(p->s->where, &m->schema);
    want_fields(p->s->where, &m->schema, want);
    for (size_t gi = 0; gi < m->groups.len && !c->failed; gi++) {
        group *g = m->groups.items[gi];
        raw_ctx r = {c, p, m, NULL, cols, ncols, cond_fields, {0}};
        for (size_t k = 0; k < g->members.len && !c->failed; k++) {
            r.s = &m->series.items[g->members.items[k]];
            read_rows(c, p, m, r.s, want, raw_row_fn, &r);
        }
        if (!c->failed && r.rows.len && series_wanted(p, sl)) {
            qsort(r.rows.items, r.rows.len, sizeof(raw_row), cmp_raw);
            write_series_head(c, m, g, cols, ncols);
            size_t written = 0;
            for (size_t k = 0; k < r.rows.len; k++) {
                size_t idx = p->s->descending ? r.rows.len - 1 - k : k;
                if ((int64_t)k < p->s->offset)
                    continue;
                if (p->s->limit && (int64_t)written >= p->s->limit)
                    break;
                const raw_row *row = &r.rows.items[idx];
                ex__row_begin(c, written++);
                ex__json_time(c->series, row->t, c->o);
                for (size_t i = 0; i < ncols; i++) {
                    sb_buf_putc(c->series, ',');
                    ex__json_val(c->series, &row->vals[i]);
                }
                sb_buf_putc(c->series, ']');
            }
            ex__series_end(c, written);
        }
        sb_vec_free(&r.rows);
    }
}

/* ---- aggregates ---- */

typedef struct agg_ctx {
    ex_ctx *c;
    plan *p;
    meas *m;
    ex_acc *accs; /* [bucket * ncalls + call] */
    size_t nbuckets;
    int64_t base; /* start of bucket 0 */
    size_t call;  /* the call being fed by chunks */
    bool cond_fields;
    const series *s;
    int64_t first; /* pre-pass: the earliest point */
} agg_ctx;

static size_t bucket_of(const agg_ctx *a, int64_t t)
{
    if (!a->p->interval)
        return 0;
    return (size_t)(((uint64_t)t - (uint64_t)a->base) / (uint64_t)a->p->interval);
}

/* The start of t's bucket: offset + a multiple of the interval (in 128
 * bits: near the ends of time the multiple may not fit; clamped). */
static int64_t window_start_of(int64_t width, int64_t offset, int64_t t)
{
    __int128 x = (__int128)t - offset;
    __int128 r = x % width;
    if (r < 0)
        r += width;
    __int128 w = x - r + offset;
    return w < INT64_MIN ? INT64_MIN : (int64_t)w;
}

static int64_t window_start(const plan *p, int64_t t)
{
    return window_start_of(p->interval, p->offset, t);
}

static int agg_chunk_cb(void *arg, const tsdb_chunk *ch)
{
    agg_ctx *a = arg;
    if (!count_points(a->c, a->p, ch->n))
        return 1;
    const ex_call *k = &a->p->calls[a->call];
    size_t nc = a->p->ncalls;
    if (!a->p->interval) {
        ex__acc_feed(&a->accs[a->call], k, ch, 0, ch->n);
        return 0;
    }
    size_t i = 0;
    while (i < ch->n) {
        size_t b = bucket_of(a, ch->times[i]);
        if (b >= a->nbuckets) {
            i++;
            continue;
        }
        __int128 end128 = (__int128)a->base + (__int128)(b + 1) * a->p->interval;
        int64_t end = end128 > INT64_MAX ? INT64_MAX : (int64_t)end128;
        size_t j = i + 1;
        while (j < ch->n && ch->times[j] < end)
            j++;
        ex__acc_feed(&a->accs[b * nc + a->call], k, ch, i, j);
        i = j;
    }
    return 0;
}

static int agg_rollup_cb(void *arg, const tsdb_rollup_row *rows, size_t n)
{
    agg_ctx *a = arg;
    const ex_call *k = &a->p->calls[a->call];
    size_t nc = a->p->ncalls;
    for (size_t i = 0; i < n; i++) {
        if (a->p->interval && rows[i].start < a->base)
            continue;
        size_t b = bucket_of(a, rows[i].start);
        if (b < a->nbuckets)
            ex__acc_feed_rollup(&a->accs[b * nc + a->call], k, &rows[i]);
    }
    return 0;
}

/* The series' values of a top()/bottom() call's tag arguments, joined. */
static sb_str tag_key(ex_ctx *c, const series *s, const ex_call *k)
{
    sb_buf b = SB_BUF_INIT;
    for (size_t i = 0; i < k->ntagargs; i++) {
        sb_buf_append_str(&b, ex__tag(s->tags, s->ntags, k->tagargs[i]));
        sb_buf_putc(&b, 0);
    }
    sb_str key = ex__dup(c, sb_buf_str(&b));
    sb_buf_free(&b);
    return key;
}

static bool agg_row_fn(void *arg, int64_t t, const ex_val *fields)
{
    agg_ctx *a = arg;
    ex_ctx *c = a->c;
    ex_env env = {&a->m->schema, a->s->tags, a->s->ntags, fields, c->o->now_ns};
    ex_val v = ex__eval(c, a->p->s->where, &env);
    if (ex__truth(&v) != 1)
        return !c->failed;
    size_t b = bucket_of(a, t);
    if (b >= a->nbuckets)
        return true;
    for (size_t k = 0; k < a->p->ncalls; k++) {
        const ex_call *call = &a->p->calls[k];
        if (call->fidx >= 0 && fields[call->fidx].type != EX_NULL)
            ex__acc_feed_val(&a->accs[b * a->p->ncalls + k], call, t, &fields[call->fidx]);
    }
    return true;
}

static int first_cb(void *arg, const tsdb_chunk *ch)
{
    agg_ctx *a = arg;
    if (ch->n && ch->times[0] < a->first)
        a->first = ch->times[0];
    return 1;
}

/* Whether rollups of width w give this query's answer exactly. Without
 * GROUP BY time the one bucket is the whole range: rollups answer its
 * whole w-wide windows, min and max excepted (a lone selector's row
 * carries the time of its point, which a rollup row does not know). */
static bool rollup_fits(const plan *p, const meas *m, int64_t w)
{
    if (w <= 0)
        return false;
    if (p->interval && (p->interval % w || p->offset % w || !p->tr.has_min))
        return false;
    for (size_t k = 0; k < p->ncalls; k++) {
        const ex_call *call = &p->calls[k];
        bool minmax = call->fn == EX_MIN || call->fn == EX_MAX;
        if (call->fn != EX_COUNT && call->fn != EX_SUM && call->fn != EX_MEAN &&
            !(minmax && p->interval))
            return false;
        if (call->fidx >= 0 && m->schema.types[call->fidx] != TSDB_FLOAT)
            return false;
    }
    return true;
}

/* Rollup widths worth asking for: the interval, then common widths that
 * divide it and the offset, largest first; *wi skips those the source
 * turned out not to have. */
typedef struct rollup_plan {
    int64_t widths[8];
    size_t n, wi;
} rollup_plan;

static bool feed_series(agg_ctx *a, const series *s, rollup_plan *rp)
{
    ex_ctx *c = a->c;
    plan *p = a->p;
    meas *m = a->m;
    a->s = s;
    /* Selectors remember the series of the points they keep. */
    for (size_t k = 0; k < p->ncalls; k++) {
        p->calls[k].seq = s->seq;
        if (p->calls[k].ntagargs)
            p->calls[k].tagkey = tag_key(c, s, &p->calls[k]);
    }
    if (a->cond_fields) {
        bool *want = calloc(m->schema.nfields + 1, sizeof(bool));
        if (!want)
            abort();
        for (size_t k = 0; k < p->ncalls; k++)
            if (p->calls[k].fidx >= 0)
                want[p->calls[k].fidx] = true;
        want_fields(p->s->where, &m->schema, want);
        bool ok = read_rows(c, p, m, s, want, agg_row_fn, a);
        free(want);
        return ok;
    }
    for (size_t k = 0; k < p->ncalls && !c->failed; k++) {
        ex_call *call = &p->calls[k];
        if (call->fidx < 0)
            continue;
        a->call = k;
        sb_errbuf err = {{0}};
        int rc = 1;
        /* Rollups answer the buckets (without GROUP BY time: the rollup
         * windows) that lie wholly inside the range, the partial ones at
         * its ends are scanned. */
        while (rp->wi < rp->n) {
            int64_t g = p->interval ? p->interval : rp->widths[rp->wi];
            int64_t fb = window_start_of(g, p->offset, p->tr.min);
            int64_t le = window_start_of(g, p->offset, p->tr.max + 1) - 1;
            if (fb < p->tr.min)
                fb = fb > EX_MAX_TIME - g ? EX_MAX_TIME : fb + g;
            if (fb > le)
                break;
            rc = c->src->vt->rollup(c->src, p->db, s->id, call->field, rp->widths[rp->wi], fb, le,
                                    agg_rollup_cb, a, &err);
            if (rc == 1) {
                rp->wi++; /* none of that width: try the next, or scan */
                continue;
            }
            if (rc == 0 && p->tr.min < fb)
                rc = c->src->vt->scan(c->src, p->db, s->id, call->field, p->tr.min, fb - 1,
                                      agg_chunk_cb, a, &err);
            if (rc == 0 && le < p->tr.max)
                rc = c->src->vt->scan(c->src, p->db, s->id, call->field, le + 1, p->tr.max,
                                      agg_chunk_cb, a, &err);
            break;
        }
        if (rc == 1)
            rc = c->src->vt->scan(c->src, p->db, s->id, call->field, p->tr.min, p->tr.max,
                                  agg_chunk_cb, a, &err);
        if (c->failed)
            return false;
        if (rc < 0)
            return ex__source_fail(c, rc, &err);
    }
    return true;
}

/* What a column expression of an aggregate row reads: the calls' results
 * and, beside a lone selector, the selected point (series seq, time t). */
typedef struct row_env {
    ex_ctx *c;
    plan *p;
    meas *m;
    const ex_val *res;
    bool has_point;
    uint32_t seq;
    int64_t t;
} row_env;

/* The point's value, as aux_cb found it. A string is copied into the
 * query's arena inside the callback: the scan's buffers are freed when it
 * returns. */
typedef struct aux_found {
    ex_ctx *c;
    ex_val v;
} aux_found;

static int aux_cb(void *arg, const tsdb_chunk *ch)
{
    aux_found *a = arg;
    ex_val *v = &a->v;
    if (!ch->n)
        return 0;
    v->type = (int)ch->type;
    switch (ch->type) {
    case TSDB_FLOAT:
        v->f = ch->v.f[0];
        break;
    case TSDB_INT:
        v->i = ch->v.i[0];
        break;
    case TSDB_UINT:
        v->u = ch->v.u[0];
        break;
    case TSDB_BOOL:
        v->b = ch->v.b[0];
        break;
    case TSDB_STRING:
        v->s = ex__dup(a->c, ch->v.s[0]);
        break;
    }
    return 1;
}

/* A tag or field of the selected point. */
static ex_val aux_value(row_env *r, const iql_expr *e)
{
    ex_val v = {.type = EX_NULL};
    if (!r->has_point)
        return v;
    const series *se = &r->m->series.items[r->seq];
    ptrdiff_t fi = e->cast == IQL_CAST_TAG ? -1 : ex__field_index(&r->m->schema, e->name);
    if (fi < 0) {
        for (size_t i = 0; i < se->ntags; i++)
            if (sb_str_eq(se->tags[i].key, e->name)) {
                v.type = TSDB_STRING;
                v.s = se->tags[i].value;
            }
        return v;
    }
    sb_errbuf err = {{0}};
    aux_found a = {r->c, v};
    int rc = r->c->src->vt->scan(r->c->src, r->p->db, se->id, r->m->schema.fields[fi], r->t, r->t,
                                 aux_cb, &a, &err);
    if (rc < 0) {
        ex__source_fail(r->c, rc, &err);
        a.v.type = EX_NULL;
    }
    return a.v;
}

/* The value written for column expression e in a row of call results. */
static ex_val agg_eval(row_env *r, const iql_expr *e)
{
    ex_val v = {.type = EX_NULL};
    switch (e->kind) {
    case IQL_CALL: {
        ex_call *k = find_call(r->p, e);
        return k ? r->res[k - r->p->calls] : v;
    }
    case IQL_VAR:
        return aux_value(r, e);
    case IQL_PAREN:
        return agg_eval(r, e->lhs);
    case IQL_BINARY:
        return ex__arith(e->op, agg_eval(r, e->lhs), agg_eval(r, e->rhs));
    case IQL_INTEGER:
    case IQL_DURATION:
        v.type = TSDB_INT;
        v.i = e->i;
        return v;
    case IQL_NUMBER:
        v.type = TSDB_FLOAT;
        v.f = e->f;
        return v;
    default:
        return v;
    }
}

static void emit_group(agg_ctx *a, group *g, const outcol *cols, size_t ncols, slimiter *sl)
{
    ex_ctx *c = a->c;
    plan *p = a->p;
    const iql_select *s = p->s;
    size_t nc = p->ncalls, B = a->nbuckets;
    ex_val *res = calloc(nc * B + 1, sizeof(ex_val));
    int64_t *tsel = calloc(nc * B + 1, sizeof(int64_t));
    uint32_t *ssel = calloc(nc * B + 1, sizeof(uint32_t));
    bool *has = calloc(nc * B + 1, sizeof(bool));
    if (!res || !tsel || !ssel || !has)
        abort();
    /* For fill(linear): the nearest buckets with a value on each side. */
    ptrdiff_t *before = NULL, *after = NULL;
    bool any = false;
    for (size_t k = 0; k < nc; k++)
        if (p->calls[k].fn == EX_INTEGRAL)
            ex__acc_integral(&a->accs[k], B, nc, &p->calls[k],
                             p->interval     ? a->base
                             : p->tr.has_min ? p->tr.min
                                             : EX_MIN_TIME,
                             p->interval, p->tr.max + 1);
    for (size_t b = 0; b < B; b++)
        for (size_t k = 0; k < nc; k++) {
            ex_acc *acc = &a->accs[b * nc + k];
            tsel[b * nc + k] = INT64_MIN;
            if (acc->n) {
                res[b * nc + k] =
                    ex__acc_result(acc, &p->calls[k], &tsel[b * nc + k], &ssel[b * nc + k]);
                has[b * nc + k] =
                    res[b * nc + k].type != EX_NULL || p->calls[k].fn == EX_STDDEV || p->top;
                any |= has[b * nc + k];
            }
        }
    if (!any || !series_wanted(p, sl))
        goto out;
    if (s->fill == IQL_FILL_LINEAR) {
        before = malloc(nc * B * sizeof(ptrdiff_t));
        after = malloc(nc * B * sizeof(ptrdiff_t));
        if (!before || !after)
            abort();
        for (size_t k = 0; k < nc; k++) {
            ptrdiff_t last = -1;
            for (size_t b = 0; b < B; b++) {
                before[b * nc + k] = last;
                if (has[b * nc + k])
                    last = (ptrdiff_t)b;
            }
            last = -1;
            for (size_t b = B; b-- > 0;) {
                after[b * nc + k] = last;
                if (has[b * nc + k])
                    last = (ptrdiff_t)b;
            }
        }
    }
    write_series_head(c, a->m, g, cols, ncols);
    size_t written = 0, seen = 0;
    ex_val *row = calloc(nc + 1, sizeof(ex_val));
    ex_val *prev = calloc(nc + 1, sizeof(ex_val));
    if (!row || !prev)
        abort();
    int64_t notime = p->tr.has_min ? p->tr.min : 0;
    /* integral() is never filled by InfluxDB's fill iterator: alone it
     * answers only the windows it emitted; beside other calls, rows that
     * they fill carry its column filled as a row (null, the number, the
     * previous value; linear: null). */
    bool only_integral = true;
    for (size_t k = 0; k < nc; k++)
        only_integral &= p->calls[k].fn == EX_INTEGRAL;
    for (size_t i = 0; i < B; i++) {
        size_t b = s->descending ? B - 1 - i : i;
        bool bucket_any = false;
        for (size_t k = 0; k < nc; k++)
            bucket_any |= has[b * nc + k];
        if (!bucket_any && (s->fill == IQL_FILL_NONE || !p->interval || only_integral))
            continue;
        int64_t t = p->interval ? (int64_t)((uint64_t)a->base + (uint64_t)b * (uint64_t)p->interval)
                                : notime;
        if (p->top) {
            size_t n;
            const ex_pt *pts = ex__acc_top(&a->accs[b], &p->calls[0], &n);
            /* top()'s rows are points in time order, reversed by DESC;
             * distinct()'s share their bucket's time and keep their order
             * (InfluxDB reverses the buckets only). */
            bool rev = s->descending && p->calls[0].fn != EX_DISTINCT;
            for (size_t j = 0; j < n; j++) {
                const ex_pt *pt = &pts[rev ? n - 1 - j : j];
                if ((int64_t)seen++ < s->offset)
                    continue;
                if (s->limit && (int64_t)written >= s->limit)
                    break;
                /* distinct() rows carry the bucket's time, top()'s the
                 * point's. */
                bool dist = p->calls[0].fn == EX_DISTINCT;
                ex_val v = {.type = p->calls[0].type == TSDB_INT ? TSDB_INT : TSDB_FLOAT};
                if (dist)
                    v = ex__acc_pt_val(&a->accs[b], &p->calls[0], pt);
                else if (v.type == TSDB_INT)
                    v.i = pt->i;
                else
                    v.f = pt->f;
                row_env r = {c, p, a->m, &v, !dist, pt->seq, pt->t};
                ex__row_begin(c, written++);
                ex__json_time(c->series, dist ? t : pt->t, c->o);
                for (size_t i2 = 0; i2 < ncols; i2++) {
                    ex_val cv = agg_eval(&r, cols[i2].expr);
                    sb_buf_putc(c->series, ',');
                    ex__json_val(c->series, &cv);
                }
                sb_buf_putc(c->series, ']');
            }
            continue;
        }
        for (size_t k = 0; k < nc; k++) {
            const ex_call *call = &p->calls[k];
            tsdb_type ot = ex__call_type(call, call->type);
            if (has[b * nc + k]) {
                row[k] = res[b * nc + k];
                prev[k] = row[k];
                continue;
            }
            row[k].type = EX_NULL;
            switch (s->fill) {
            case IQL_FILL_DEFAULT:
            case IQL_FILL_NULL:
                if (call->fn == EX_COUNT) {
                    row[k].type = TSDB_INT;
                    row[k].i = 0;
                }
                break;
            case IQL_FILL_NUMBER:
                if (ot == TSDB_INT && s->fill_value > -9.2e18 && s->fill_value < 9.2e18) {
                    row[k].type = TSDB_INT;
                    row[k].i = (int64_t)s->fill_value;
                } else if (ot == TSDB_INT || ot == TSDB_FLOAT) {
                    row[k].type = TSDB_FLOAT;
                    row[k].f = s->fill_value;
                }
                break;
            case IQL_FILL_PREVIOUS:
                row[k] = prev[k];
                break;
            case IQL_FILL_LINEAR: {
                /* Between the neighbours with values, in bucket order. */
                ptrdiff_t lo = before[b * nc + k], hi = after[b * nc + k];
                if (lo < 0 || hi < 0 || call->fn == EX_INTEGRAL)
                    break;
                ex_val y0 = res[(size_t)lo * nc + k], y1 = res[(size_t)hi * nc + k];
                /* InfluxDB's linearFloat/linearInteger, in bucket units:
                 * slope first, then m * x + y0, in floating point. */
                double m, x = (double)((ptrdiff_t)b - lo);
                if (y0.type == TSDB_INT && y1.type == TSDB_INT) {
                    m = (double)(int64_t)((uint64_t)y1.i - (uint64_t)y0.i) / (double)(hi - lo);
                    double y = m * x + (double)y0.i;
                    if (y > -9.2e18 && y < 9.2e18) {
                        row[k].type = TSDB_INT;
                        row[k].i = (int64_t)y;
                    }
                } else if (y0.type == TSDB_FLOAT && y1.type == TSDB_FLOAT) {
                    m = (y1.f - y0.f) / (double)(hi - lo);
                    row[k].type = TSDB_FLOAT;
                    row[k].f = m * x + y0.f;
                }
                break;
            }
            default:
                break;
            }
        }
        if (p->selector_time && has[b * nc] && tsel[b * nc] != INT64_MIN)
            t = tsel[b * nc];
        row_env r = {c,
                     p,
                     a->m,
                     row,
                     p->aux && has[b * nc] && tsel[b * nc] != INT64_MIN,
                     ssel[b * nc],
                     tsel[b * nc]};
        if ((int64_t)seen++ < s->offset)
            continue;
        if (s->limit && (int64_t)written >= s->limit)
            break;
        if (c->o->max_points && written >= c->o->max_points) {
            ex__fail(c, "max-select-point limit exceeed: (%zu/%zu)", written + 1, c->o->max_points);
            break;
        }
        ex__row_begin(c, written++);
        ex__json_time(c->series, t, c->o);
        for (size_t i2 = 0; i2 < ncols; i2++) {
            ex_val v = agg_eval(&r, cols[i2].expr);
            sb_buf_putc(c->series, ',');
            ex__json_val(c->series, &v);
        }
        sb_buf_putc(c->series, ']');
    }
    ex__series_end(c, written);
    free(row);
    free(prev);
out:
    free(before);
    free(after);
    free(res);
    free(tsel);
    free(ssel);
    free(has);
}

static void run_agg(ex_ctx *c, plan *p, meas *m, slimiter *sl)
{
    /* Resolve the calls' fields in this measurement. */
    bool any = false;
    for (size_t k = 0; k < p->ncalls; k++) {
        ex_call *call = &p->calls[k];
        call->fidx = ex__field_index(&m->schema, call->field);
        call->type = call->fidx >= 0 ? m->schema.types[call->fidx] : TSDB_FLOAT;
        if (call->fidx < 0)
            continue;
        any = true;
        bool numeric_only = call->fn != EX_COUNT && call->fn != EX_FIRST && call->fn != EX_LAST;
        if (call->fn == EX_MODE || call->fn == EX_DISTINCT || call->fn == EX_COUNT_DISTINCT)
            numeric_only = false;
        if (numeric_only && (call->type == TSDB_STRING || call->type == TSDB_BOOL))
            return (void)ex__fail(c, "unsupported %.*s iterator type: *query.%sInterruptIterator",
                                  SB_STR_FMT(call->name),
                                  call->type == TSDB_STRING ? "string" : "boolean");
    }
    if (!any)
        return;
    outcol *cols;
    size_t ncols = build_columns(c, p, m, &cols);
    if (c->failed)
        return;
    bool cond_fields = ex__reads_field(p->s->where, &m->schema);
    size_t max_buckets = c->o->max_points ? c->o->max_points : EX_DEFAULT_MAX_BUCKETS;
    rollup_plan rp = {.n = 0};
    if (!cond_fields && !p->aux && c->src->vt->rollup) {
        static const int64_t STD[] = {3600000000000LL, 600000000000LL, 300000000000LL,
                                      60000000000LL,   10000000000LL,  1000000000LL};
        if (p->interval && rollup_fits(p, m, p->interval))
            rp.widths[rp.n++] = p->interval;
        for (size_t i = 0; i < sizeof(STD) / sizeof(STD[0]); i++)
            if ((!p->interval || STD[i] < p->interval) && rollup_fits(p, m, STD[i]))
                rp.widths[rp.n++] = STD[i];
    }
    for (size_t gi = 0; gi < m->groups.len && !c->failed; gi++) {
        group *g = m->groups.items[gi];
        agg_ctx a = {.c = c, .p = p, .m = m, .cond_fields = cond_fields, .nbuckets = 1};
        if (p->interval) {
            int64_t lo = p->tr.min;
            if (!p->tr.has_min) {
                /* No lower bound: buckets start at this group's first point. */
                a.first = INT64_MAX;
                for (size_t k = 0; k < g->members.len && !c->failed; k++)
                    for (size_t q = 0; q < p->ncalls; q++) {
                        if (p->calls[q].fidx < 0)
                            continue;
                        sb_errbuf err = {{0}};
                        int rc = c->src->vt->scan(
                            c->src, p->db, m->series.items[g->members.items[k]].id,
                            p->calls[q].field, p->tr.min, p->tr.max, first_cb, &a, &err);
                        if (rc < 0)
                            ex__source_fail(c, rc, &err);
                    }
                if (a.first == INT64_MAX)
                    continue;
                lo = a.first;
            }
            if (lo > p->tr.max)
                continue;
            a.base = window_start(p, lo);
            int64_t last = window_start(p, p->tr.max);
            uint64_t nb = ((uint64_t)last - (uint64_t)a.base) / (uint64_t)p->interval + 1;
            if (nb > max_buckets / p->ncalls) {
                ex__fail(c, "max-select-buckets limit exceeded: (%llu/%zu)", (unsigned long long)nb,
                         max_buckets);
                return;
            }
            if (c->o->quick_buckets && nb > c->o->quick_buckets / p->ncalls) {
                c->busy = true;
                ex__fail(c, "more buckets than a quick run allows");
                return;
            }
            a.nbuckets = (size_t)nb;
        }
        a.accs = calloc(a.nbuckets * p->ncalls, sizeof(ex_acc));
        if (!a.accs)
            abort();
        for (size_t k = 0; k < g->members.len && !c->failed; k++)
            feed_series(&a, &m->series.items[g->members.items[k]], &rp);
        if (!c->failed)
            emit_group(&a, g, cols, ncols, sl);
        for (size_t i = 0; i < a.nbuckets * p->ncalls; i++)
            ex__acc_deinit(&a.accs[i]);
        free(a.accs);
    }
}

/* ---- the statement ---- */

static bool collect_measurements(ex_ctx *c, plan *p, name_list *out)
{
    const iql_select *s = p->s;
    for (size_t i = 0; i < s->nsources; i++) {
        const iql_source *src = &s->sources[i];
        if (src->db.ptr && !sb_str_eq(src->db, p->db))
            return ex__fail(c, "queries over several databases are not supported");
        /* One retention policy a database: InfluxDB's default, autogen. */
        if (src->rp.len && !sb_str_eq(src->rp, SB_STR("autogen")))
            return ex__fail(c, "retention policy not found: %.*s", SB_STR_FMT(src->rp));
        if (src->regex.ptr) {
            out->regex = src->regex;
            sb_errbuf err = {{0}};
            int rc = c->src->vt->measurements(c->src, p->db, name_cb, out, &err);
            out->regex = SB_STR_NULL;
            if (c->failed)
                return false;
            if (rc < 0)
                return ex__source_fail(c, rc, &err);
        } else {
            sb_vec_push(&out->names, src->name);
        }
    }
    if (out->names.len)
        qsort(out->names.items, out->names.len, sizeof(sb_str), cmp_str);
    size_t u = 0;
    for (size_t i = 0; i < out->names.len; i++)
        if (u == 0 || !sb_str_eq(out->names.items[u - 1], out->names.items[i]))
            out->names.items[u++] = out->names.items[i];
    out->names.len = u;
    return true;
}

/* Whether fn(*) takes a field of type t: count, first, last and mode take
 * any, the rest numbers (InfluxQL's RewriteFields). */
static bool wild_type_ok(sb_str fn, tsdb_type t)
{
    if (name_is(fn, "count") || name_is(fn, "first") || name_is(fn, "last") || name_is(fn, "mode"))
        return true;
    return t == TSDB_FLOAT || t == TSDB_INT || t == TSDB_UINT;
}

/* s with each fn(*) / fn(/re/) replaced by fn(field) for the fields of the
 * schema (by name), aliased "<name>_<field>" as InfluxDB names them. */
static const iql_select *expand_calls(ex_ctx *c, const iql_select *s, const ex_schema *sc)
{
    SB_VEC(iql_field) out = {0};
    sb_buf b = SB_BUF_INIT;
    for (size_t i = 0; i < s->nfields; i++) {
        const iql_field *f = &s->fields[i];
        const iql_expr *e = f->expr;
        if (e->kind != IQL_CALL || e->nargs == 0 ||
            (e->args[0]->kind != IQL_WILDCARD && e->args[0]->kind != IQL_REGEX)) {
            sb_vec_push(&out, *f);
            continue;
        }
        for (size_t k = 0; k < sc->nfields; k++) {
            if (!wild_type_ok(e->name, sc->types[k]))
                continue;
            if (e->args[0]->kind == IQL_REGEX) {
                bool mt;
                if (!ex__match(c, e->args[0]->s, sc->fields[k], &mt))
                    break;
                if (!mt)
                    continue;
            }
            iql_expr *var = sb_arena_calloc(c->arena, 1, sizeof(iql_expr));
            var->kind = IQL_VAR;
            var->name = sc->fields[k];
            iql_expr *call = sb_arena_alloc(c->arena, sizeof(iql_expr));
            *call = *e;
            call->args = sb_arena_alloc(c->arena, e->nargs * sizeof(iql_expr *));
            memcpy(call->args, e->args, e->nargs * sizeof(iql_expr *));
            call->args[0] = var;
            sb_buf_reset(&b);
            sb_buf_append_str(&b, f->alias.ptr ? f->alias : e->name);
            sb_buf_putc(&b, '_');
            sb_buf_append_str(&b, sc->fields[k]);
            iql_field nf = {call, ex__dup(c, sb_buf_str(&b))};
            sb_vec_push(&out, nf);
        }
    }
    sb_buf_free(&b);
    iql_select *s2 = sb_arena_alloc(c->arena, sizeof(*s2));
    *s2 = *s;
    s2->nfields = out.len;
    s2->fields = sb_arena_alloc(c->arena, (out.len ? out.len : 1) * sizeof(iql_field));
    if (out.len)
        memcpy(s2->fields, out.items, out.len * sizeof(iql_field));
    sb_vec_free(&out);
    return s2;
}

void ex__select(ex_ctx *c, const iql_select *s)
{
    plan *p = sb_arena_calloc(c->arena, 1, sizeof(plan));
    p->s = s;
    if (!plan_select(c, p))
        return;
    sb_str first_db = s->nsources ? s->sources[0].db : SB_STR_NULL;
    if (!ex__resolve_db(c, first_db, &p->db))
        return;
    name_list ml = {.c = c};
    if (!collect_measurements(c, p, &ml)) {
        sb_vec_free(&ml.names);
        return;
    }
    slimiter sl = {0};
    for (size_t i = 0; i < ml.names.len && !c->failed; i++) {
        meas m = {.name = ml.names.items[i]};
        plan *pm = p;
        bool ok = p->tr.min <= p->tr.max && load_schema(c, p, &m);
        if (ok && p->wild_calls) {
            /* Plan again with this measurement's fields in the calls. */
            const iql_select *s2 = expand_calls(c, s, &m.schema);
            bool any = false;
            for (size_t f = 0; f < s2->nfields; f++)
                any |= s2->fields[f].expr->kind == IQL_CALL;
            pm = sb_arena_calloc(c->arena, 1, sizeof(plan));
            pm->s = s2;
            pm->db = p->db;
            pm->points = p->points;
            pm->nseries_read = p->nseries_read;
            ok = !c->failed && any && plan_select(c, pm);
        }
        if (ok && load_series(c, pm, &m) && make_groups(c, pm, &m)) {
            if (pm->agg)
                run_agg(c, pm, &m, &sl);
            else
                run_raw(c, pm, &m, &sl);
        }
        p->points = pm->points;
        p->nseries_read = pm->nseries_read;
        for (size_t g = 0; g < m.groups.len; g++)
            sb_vec_free(&m.groups.items[g]->members);
        sb_vec_free(&m.groups);
        sb_vec_free(&m.series);
    }
    sb_vec_free(&ml.names);
}
