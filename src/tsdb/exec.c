/*
 * exec.c: the statement loop of the InfluxQL executor: one result object a
 * statement, in order, each either its series or its error (a failed
 * statement does not stop the next, as in InfluxDB). A statement writes
 * its series into a buffer of its own, so that an error found half-way
 * replaces them instead of leaving half a result.
 *
 * Per statement: an arena for everything it allocates and a small cache
 * of compiled regexes, both dropped when it ends.
 */
#include <stdarg.h>
#include <stdio.h>

#include "tsdb/exec_int.h"

bool ex__fail(ex_ctx *c, const char *fmt, ...)
{
    if (!c->failed) {
        va_list ap;
        va_start(ap, fmt);
        vsnprintf(c->err.msg, sizeof(c->err.msg), fmt, ap);
        va_end(ap);
        c->failed = true;
    }
    return false;
}

bool ex__source_fail(ex_ctx *c, int rc, const sb_errbuf *err)
{
    if (rc == -(int)TSDB_E_BUSY)
        c->busy = true;
    return ex__fail(c, "%s", err->msg[0] ? err->msg : "storage error");
}

ex_regex *ex__regex(ex_ctx *c, sb_str pattern)
{
    for (size_t i = 0; i < c->nregexes; i++)
        if (c->regexes[i].len == pattern.len &&
            (pattern.len == 0 || memcmp(c->regexes[i].ptr, pattern.ptr, pattern.len) == 0))
            return c->regexes[i].re;
    sb_errbuf err;
    ex_regex *re = ex__regex_new(pattern, &err);
    if (!re) {
        ex__fail(c, "%s", err.msg);
        return NULL;
    }
    if (c->nregexes == sizeof(c->regexes) / sizeof(c->regexes[0])) {
        ex__regex_free(re);
        ex__fail(c, "too many regular expressions in one statement (at most 64)");
        return NULL;
    }
    c->regexes[c->nregexes].ptr = pattern.ptr;
    c->regexes[c->nregexes].len = pattern.len;
    c->regexes[c->nregexes++].re = re;
    return re;
}

bool ex__match(ex_ctx *c, sb_str pattern, sb_str subject, bool *out)
{
    ex_regex *re = ex__regex(c, pattern);
    if (!re)
        return false;
    int m = ex__regex_match(re, subject);
    if (m < 0)
        return ex__fail(c, "regular expression /%.*s/ exceeded its match limit",
                        SB_STR_FMT(pattern));
    *out = m == 1;
    return true;
}

sb_str ex__dup(ex_ctx *c, sb_str s)
{
    if (!s.len)
        return SB_STR("");
    return sb_str_make(sb_arena_strndup(c->arena, s.ptr, s.len), s.len);
}

typedef struct db_find {
    sb_str want;
    bool found;
} db_find;

static int db_find_cb(void *arg, sb_str name)
{
    db_find *f = arg;
    if (sb_str_eq(name, f->want)) {
        f->found = true;
        return 1;
    }
    return 0;
}

bool ex__resolve_db(ex_ctx *c, sb_str explicit_db, sb_str *db)
{
    sb_str d = explicit_db.ptr ? explicit_db : c->o->db;
    if (!d.ptr || d.len == 0)
        return ex__fail(c, "database name required");
    db_find f = {d, false};
    sb_errbuf err = {{0}};
    int rc = c->src->vt->databases(c->src, db_find_cb, &f, &err);
    if (rc < 0)
        return ex__source_fail(c, rc, &err);
    if (!f.found)
        return ex__fail(c, "database not found: %.*s", SB_STR_FMT(d));
    *db = d;
    return true;
}

static void run_ddl(ex_ctx *c, const iql_stmt *st)
{
    const char *what = st->kind == IQL_CREATE_DATABASE ? "CREATE DATABASE" : "DROP DATABASE";
    if (!c->o->ddl) {
        ex__fail(c, "%s is not supported here", what);
        return;
    }
    sb_errbuf err = {{0}};
    if (!c->o->ddl(c->o->ddl_arg, st->kind, st->database, &err))
        ex__fail(c, "%s", err.msg[0] ? err.msg : "failed");
}

/* Runs one statement and writes its result; false when it gave up busy. */
static bool run_stmt(tsdb_source *src, const iql_stmt *st, size_t id, const tsdb_exec_opts *o,
                     sb_buf *out)
{
    sb_arena arena;
    sb_arena_init(&arena, 1 << 16);
    sb_buf series = SB_BUF_INIT;
    ex_ctx c = {.src = src, .o = o, .arena = &arena, .series = &series};
    switch (st->kind) {
    case IQL_SELECT:
        ex__select(&c, &st->select);
        break;
    case IQL_CREATE_DATABASE:
    case IQL_DROP_DATABASE:
        run_ddl(&c, st);
        break;
    default:
        ex__show(&c, st);
        break;
    }
    sb_buf_appendf(out, "{\"statement_id\":%zu", id);
    if (c.failed) {
        sb_buf_puts(out, ",\"error\":");
        ex__json_str(out, sb_str_c(c.err.msg));
    } else if (c.nseries) {
        sb_buf_puts(out, ",\"series\":[");
        sb_buf_append(out, series.ptr, series.len);
        sb_buf_putc(out, ']');
    }
    sb_buf_putc(out, '}');
    for (size_t i = 0; i < c.nregexes; i++)
        ex__regex_free(c.regexes[i].re);
    sb_buf_free(&series);
    sb_arena_deinit(&arena);
    return !c.busy;
}

tsdb_err tsdb_exec_query(tsdb_source *src, const iql_query *q, const tsdb_exec_opts *o,
                         sb_buf *json_out)
{
    if (o->quick_buckets)
        for (size_t i = 0; i < q->nstmts; i++)
            if (q->stmts[i].kind == IQL_CREATE_DATABASE || q->stmts[i].kind == IQL_DROP_DATABASE)
                return TSDB_E_BUSY;
    sb_buf_puts(json_out, "{\"results\":[");
    for (size_t i = 0; i < q->nstmts; i++) {
        if (i)
            sb_buf_putc(json_out, ',');
        if (!run_stmt(src, &q->stmts[i], i, o, json_out))
            return TSDB_E_BUSY;
    }
    sb_buf_puts(json_out, "]}");
    return TSDB_E_OK;
}

void tsdb_exec_text(tsdb_source *src, sb_str text, const tsdb_exec_opts *o, sb_buf *json_out)
{
    sb_arena a;
    sb_arena_init(&a, 0);
    iql_query q;
    iql_error err;
    if (!iql_parse(text, &a, &q, &err)) {
        sb_buf msg = SB_BUF_INIT;
        sb_buf_appendf(&msg, "error parsing query: %s", err.message);
        sb_buf_puts(json_out, "{\"error\":");
        ex__json_str(json_out, sb_buf_str(&msg));
        sb_buf_putc(json_out, '}');
        sb_buf_free(&msg);
    } else {
        tsdb_exec_query(src, &q, o, json_out);
    }
    sb_arena_deinit(&a);
}
