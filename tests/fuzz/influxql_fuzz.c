/*
 * influxql_fuzz.c: libFuzzer target for the InfluxQL parser. The input is
 * the query text. Beyond "no crash, no UB, no leak": on success, every
 * SELECT field and WHERE clause prints back (iql_expr_write) as text that
 * parses again inside "SELECT <text> FROM m" and prints the same (the
 * canonical form is a fixed point); on failure the message is non-empty
 * and its position is inside the input.
 */
#include <assert.h>
#include <string.h>

#include "tsdb/influxql.h"

static void reprint(const iql_expr *e)
{
    sb_buf once = SB_BUF_INIT, again = SB_BUF_INIT, q = SB_BUF_INIT;
    iql_expr_write(e, &once);
    sb_buf_append_str(&q, SB_STR("SELECT "));
    sb_buf_append(&q, once.ptr, once.len); /* may hold NUL: not %s */
    sb_buf_append_str(&q, SB_STR(" FROM m"));
    sb_arena a;
    sb_arena_init(&a, 0);
    iql_query parsed;
    iql_error err;
    bool ok = iql_parse(sb_buf_str(&q), &a, &parsed, &err);
    assert(ok);
    iql_expr_write(parsed.stmts[0].select.fields[0].expr, &again);
    assert(once.len == again.len && memcmp(once.ptr, again.ptr, once.len) == 0);
    sb_arena_deinit(&a);
    sb_buf_free(&once);
    sb_buf_free(&again);
    sb_buf_free(&q);
}

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
    sb_arena a;
    sb_arena_init(&a, 0);
    iql_query q;
    iql_error err;
    if (iql_parse(sb_str_make((const char *)data, size), &a, &q, &err)) {
        assert(q.nstmts >= 1 && q.nstmts <= IQL_MAX_STATEMENTS);
        for (size_t i = 0; i < q.nstmts; i++) {
            if (q.stmts[i].kind != IQL_SELECT)
                continue;
            const iql_select *s = &q.stmts[i].select;
            for (size_t f = 0; f < s->nfields; f++)
                reprint(s->fields[f].expr);
            if (s->where)
                reprint(s->where);
        }
    } else {
        assert(err.message[0] != '\0');
        assert(err.pos <= size);
    }
    sb_arena_deinit(&a);
    return 0;
}
