/*
 * tsdb_influxql_test.c: the InfluxQL parser: the queries Grafana, the
 * influx CLI and Telegraf send, printed back in canonical form; precedence;
 * every literal and its escapes; SHOW and CREATE statements; the errors
 * (InfluxDB's wording, line and char) and the refusals of what we do not
 * support; limits; time literals.
 */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <stdio.h>
#include <string.h>

#include <cmocka.h>

#include "tsdb/influxql.h"

static sb_arena arena;

static iql_query parse_ok(const char *q)
{
    iql_query out;
    iql_error err;
    if (!iql_parse(sb_str_c(q), &arena, &out, &err))
        fail_msg("%s: %s", q, err.message);
    return out;
}

static const char *parse_err(const char *q)
{
    static iql_error err;
    iql_query out;
    if (iql_parse(sb_str_c(q), &arena, &out, &err))
        fail_msg("%s: parsed, expected an error", q);
    return err.message;
}

static const char *text(const iql_expr *e)
{
    static sb_buf b = SB_BUF_INIT;
    sb_buf_reset(&b);
    iql_expr_write(e, &b);
    return b.ptr;
}

static void test_grafana_select(void **state)
{
    iql_query q = parse_ok("SELECT mean(\"duration_ms\") AS \"avg\", percentile(duration_ms, 95) "
                           "FROM \"page_views\" WHERE (\"project\" = 'p1' AND region =~ /^eu-/) "
                           "AND time >= now() - 6h and time <= 1700000000000ms "
                           "GROUP BY time(1m, 30s), \"page\" fill(null) ORDER BY time DESC "
                           "LIMIT 100 SLIMIT 10 tz('Europe/Paris')");
    assert_int_equal(q.nstmts, 1);
    const iql_select *s = &q.stmts[0].select;
    assert_int_equal(q.stmts[0].kind, IQL_SELECT);
    assert_int_equal(s->nfields, 2);
    assert_string_equal(text(s->fields[0].expr), "mean(duration_ms)");
    assert_true(sb_str_eq(s->fields[0].alias, SB_STR("avg")));
    assert_string_equal(text(s->fields[1].expr), "percentile(duration_ms, 95)");
    assert_null(s->fields[1].alias.ptr);
    assert_int_equal(s->nsources, 1);
    assert_true(sb_str_eq(s->sources[0].name, SB_STR("page_views")));
    assert_string_equal(text(s->where), "(project = 'p1' AND region =~ /^eu-/) AND time >= "
                                        "now() - 6h AND time <= 1700000000s");
    assert_int_equal(s->where->kind, IQL_BINARY);
    assert_int_equal(s->where->op, IQL_OP_AND);
    assert_int_equal(s->ndimensions, 2);
    assert_string_equal(text(s->dimensions[0]), "time(1m, 30s)");
    assert_int_equal(s->dimensions[0]->args[0]->i, 60000000000LL);
    assert_string_equal(text(s->dimensions[1]), "page");
    assert_int_equal(s->fill, IQL_FILL_NULL);
    assert_true(s->descending);
    assert_int_equal(s->limit, 100);
    assert_int_equal(s->slimit, 10);
    assert_true(sb_str_eq(s->tz, SB_STR("Europe/Paris")));
}

static void test_precedence(void **state)
{
    iql_query q = parse_ok("SELECT a + b * c - d / e FROM m WHERE x = 1 OR y = 2 AND z = 3");
    const iql_expr *f = q.stmts[0].select.fields[0].expr;
    /* ((a + (b * c)) - (d / e)) */
    assert_int_equal(f->op, IQL_OP_SUB);
    assert_int_equal(f->lhs->op, IQL_OP_ADD);
    assert_int_equal(f->lhs->rhs->op, IQL_OP_MUL);
    assert_int_equal(f->rhs->op, IQL_OP_DIV);
    const iql_expr *w = q.stmts[0].select.where;
    assert_int_equal(w->op, IQL_OP_OR); /* x = 1 OR (y = 2 AND z = 3) */
    assert_int_equal(w->rhs->op, IQL_OP_AND);
    /* Canonical text: 0s, not a unit InfluxQL cannot read. */
    q = parse_ok("SELECT v FROM m WHERE time > now() - 0h");
    assert_string_equal(text(q.stmts[0].select.where), "time > now() - 0s");
    /* Left associative. */
    q = parse_ok("SELECT a - b - c FROM m");
    assert_int_equal(q.stmts[0].select.fields[0].expr->lhs->op, IQL_OP_SUB);
}

static void test_literals(void **state)
{
    iql_query q = parse_ok("SELECT \"we\\\"ird name\"::float, *::tag, 1.5, .5, 5., -2, -1.25, "
                           "'it\\'s', true, FALSE, 10u, 10µ, 3ms, 4s, 5m, 6h, 7d, 8w "
                           "FROM \"db\".\"rp\".\"m\", db..m2, rp.m3, /^cpu\\/x/");
    const iql_select *s = &q.stmts[0].select;
    assert_int_equal(s->fields[0].expr->cast, IQL_CAST_FLOAT);
    assert_true(sb_str_eq(s->fields[0].expr->name, SB_STR("we\"ird name")));
    assert_string_equal(text(s->fields[0].expr), "\"we\\\"ird name\"::float");
    assert_int_equal(s->fields[1].expr->kind, IQL_WILDCARD);
    assert_int_equal(s->fields[1].expr->cast, IQL_CAST_TAG);
    assert_true(s->fields[2].expr->f == 1.5);
    assert_string_equal(text(s->fields[4].expr), "5.0");
    assert_string_equal(text(s->fields[6].expr), "-1.25");
    assert_true(s->fields[3].expr->f == 0.5);
    assert_true(s->fields[4].expr->f == 5.0);
    assert_int_equal(s->fields[5].expr->i, -2);
    assert_true(s->fields[6].expr->f == -1.25);
    assert_true(sb_str_eq(s->fields[7].expr->s, SB_STR("it's")));
    assert_true(s->fields[8].expr->b);
    assert_false(s->fields[9].expr->b);
    const int64_t ns[] = {10000,
                          10000,
                          3000000,
                          4000000000LL,
                          300000000000LL,
                          21600000000000LL,
                          604800000000000LL,
                          4838400000000000LL};
    for (size_t i = 0; i < 8; i++) {
        assert_int_equal(s->fields[10 + i].expr->kind, IQL_DURATION);
        assert_int_equal(s->fields[10 + i].expr->i, ns[i]);
    }
    assert_int_equal(s->nsources, 4);
    assert_true(sb_str_eq(s->sources[0].db, SB_STR("db")));
    assert_true(sb_str_eq(s->sources[0].rp, SB_STR("rp")));
    assert_true(sb_str_eq(s->sources[0].name, SB_STR("m")));
    assert_true(sb_str_eq(s->sources[1].db, SB_STR("db")));
    assert_null(s->sources[1].rp.ptr);
    assert_true(sb_str_eq(s->sources[1].name, SB_STR("m2")));
    assert_null(s->sources[2].db.ptr);
    assert_true(sb_str_eq(s->sources[2].rp, SB_STR("rp")));
    assert_true(sb_str_eq(s->sources[3].regex, SB_STR("^cpu/x")));
}

/* q as head, then mid n times, then tail; returns its text. */
static const char *query_of(sb_buf *q, const char *head, const char *mid, int n, const char *tail)
{
    sb_buf_reset(q);
    sb_buf_append_str(q, sb_str_c(head));
    for (int i = 0; i < n; i++)
        sb_buf_append_str(q, sb_str_c(mid));
    sb_buf_append_str(q, sb_str_c(tail));
    return q->ptr;
}

/* Floats print as the shortest digits that read back to the same double,
 * with no exponent (InfluxQL has none), and every printed float parses. */
static void test_float_text(void **state)
{
    static const struct {
        const char *in, *out;
    } cases[] = {
        {"0.1", "0.1"},
        {"000000000.0000000000000000000001024", "0.0000000000000000000001024"},
        {"0.00001", "0.00001"},
        {"100000000000000000000.", "100000000000000000000.0"},
        {"123456789012345678901234.5", "123456789012345690000000.0"},
        {"2.50", "2.5"},
    };
    for (size_t i = 0; i < sizeof(cases) / sizeof(cases[0]); i++) {
        char q[128];
        snprintf(q, sizeof(q), "SELECT %s FROM m", cases[i].in);
        assert_string_equal(text(parse_ok(q).stmts[0].select.fields[0].expr), cases[i].out);
    }
    /* The extremes: the largest double and the smallest denormal. */
    const double ends[] = {1.7976931348623157e308, 4.9e-324, 2.2250738585072009e-308};
    sb_buf q = SB_BUF_INIT;
    for (size_t i = 0; i < 3; i++) {
        iql_expr e = {.kind = IQL_NUMBER, .f = ends[i]};
        query_of(&q, "SELECT ", text(&e), 1, " FROM m");
        assert_true(parse_ok(q.ptr).stmts[0].select.fields[0].expr->f == ends[i]);
    }
    assert_string_equal(parse_err(query_of(&q, "SELECT ", "9", 310, ".0 FROM m")),
                        "number out of range at line 1, char 8");
    assert_string_equal(parse_err(query_of(&q, "SELECT 0.", "0", 400, "1 FROM m")),
                        "number too long at line 1, char 8");
    sb_buf_free(&q);
}

static void test_functions_and_keywords(void **state)
{
    iql_query q = parse_ok("select COUNT(*), top(v, 3), Spread(v) from m group by * fill(-1.5)"
                           ";  ; SHOW DATABASES;");
    assert_int_equal(q.nstmts, 2);
    const iql_select *s = &q.stmts[0].select;
    assert_string_equal(text(s->fields[0].expr), "count(*)");
    assert_string_equal(text(s->fields[1].expr), "top(v, 3)");
    assert_string_equal(text(s->fields[2].expr), "spread(v)");
    assert_int_equal(s->dimensions[0]->kind, IQL_WILDCARD);
    assert_int_equal(s->fill, IQL_FILL_NUMBER);
    assert_true(s->fill_value == -1.5);
    assert_int_equal(q.stmts[1].kind, IQL_SHOW_DATABASES);
    /* DISTINCT is a keyword and a function: distinct(f), DISTINCT f and
     * count(distinct(f)) are calls; fill() without GROUP BY is taken. */
    q = parse_ok("SELECT distinct(v), DISTINCT w, count(DISTINCT(x)) FROM m fill(0) LIMIT 2");
    s = &q.stmts[0].select;
    assert_string_equal(text(s->fields[0].expr), "distinct(v)");
    assert_string_equal(text(s->fields[1].expr), "distinct(w)");
    assert_string_equal(text(s->fields[2].expr), "count(distinct(x))");
    assert_int_equal(s->fill, IQL_FILL_NUMBER);
    assert_int_equal(s->limit, 2);
    /* Keywords name things when quoted; a quoted name before ( is no call. */
    q = parse_ok("SELECT \"select\" FROM \"from\"");
    assert_string_equal(text(q.stmts[0].select.fields[0].expr), "\"select\"");
    assert_string_equal(parse_err("SELECT \"mean\"(v) FROM m"),
                        "found (, expected FROM at line 1, char 14");
    /* Comments are space. */
    q = parse_ok("-- a comment\nSELECT /* inline */ v FROM m -- trailing");
    assert_int_equal(q.stmts[0].select.nfields, 1);
    /* Division is not a regex after an operand; a regex is one after =~. */
    q = parse_ok("SELECT a / b / c FROM m WHERE host =~ /a\\/b/ AND x / 2 > 1");
    assert_int_equal(q.stmts[0].select.fields[0].expr->op, IQL_OP_DIV);
    assert_string_equal(text(q.stmts[0].select.where), "host =~ /a\\/b/ AND x / 2 > 1");
}

static void test_show_and_create(void **state)
{
    iql_query q = parse_ok(
        "SHOW MEASUREMENTS ON site WITH MEASUREMENT =~ /page.*/ WHERE project = 'p' LIMIT 5;"
        "SHOW TAG KEYS FROM page_views; SHOW TAG VALUES ON site FROM m WITH KEY = \"region\";"
        "SHOW TAG VALUES WITH KEY IN (a, b); SHOW TAG VALUES WITH KEY =~ /re/;"
        "SHOW FIELD KEYS FROM m; SHOW RETENTION POLICIES ON site; SHOW SERIES FROM m LIMIT 2;"
        "CREATE DATABASE telegraf; DROP DATABASE \"old one\"");
    assert_int_equal(q.nstmts, 10);
    const iql_show *s = &q.stmts[0].show;
    assert_int_equal(q.stmts[0].kind, IQL_SHOW_MEASUREMENTS);
    assert_true(sb_str_eq(s->on, SB_STR("site")));
    assert_true(s->has_measurement);
    assert_true(sb_str_eq(s->measurement.regex, SB_STR("page.*")));
    assert_non_null(s->where);
    assert_int_equal(s->limit, 5);
    assert_int_equal(q.stmts[1].kind, IQL_SHOW_TAG_KEYS);
    assert_int_equal(q.stmts[2].kind, IQL_SHOW_TAG_VALUES);
    assert_int_equal(q.stmts[2].show.key_op, IQL_OP_EQ);
    assert_true(sb_str_eq(q.stmts[2].show.keys[0], SB_STR("region")));
    assert_int_equal(q.stmts[3].show.nkeys, 2);
    assert_int_equal(q.stmts[3].show.key_op, IQL_OP_NONE);
    assert_true(sb_str_eq(q.stmts[4].show.key_regex, SB_STR("re")));
    assert_int_equal(q.stmts[5].kind, IQL_SHOW_FIELD_KEYS);
    assert_int_equal(q.stmts[6].kind, IQL_SHOW_RETENTION_POLICIES);
    assert_int_equal(q.stmts[7].kind, IQL_SHOW_SERIES);
    assert_int_equal(q.stmts[8].kind, IQL_CREATE_DATABASE);
    assert_true(sb_str_eq(q.stmts[8].database, SB_STR("telegraf")));
    assert_true(sb_str_eq(q.stmts[9].database, SB_STR("old one")));
}

static void test_errors(void **state)
{
    assert_string_equal(parse_err("SELECT FROM m"),
                        "found FROM, expected identifier, string, number, bool at line 1, char 8");
    assert_string_equal(parse_err("SELECT v\nFROM m WHERE"),
                        "found EOF, expected identifier, string, number, bool at line 2, char 13");
    assert_string_equal(parse_err("SELECT v FROM m LIMIT x"),
                        "found x, expected integer at line 1, char 23");
    assert_string_equal(parse_err("SELECT v FROM m WHERE s = 'open"),
                        "unterminated string at line 1, char 27");
    assert_string_equal(parse_err("SELECT \"v FROM m"),
                        "unterminated quoted identifier at line 1, char 8");
    assert_string_equal(parse_err("SELECT \"v\\\n\" FROM m"),
                        "unterminated quoted identifier at line 1, char 8");
    assert_string_equal(parse_err("SELECT v FROM m WHERE h =~ /x"),
                        "unterminated regex at line 1, char 28");
    assert_string_equal(parse_err("SELECT v FROM m /* never closed"),
                        "unterminated comment at line 1, char 17");
    assert_string_equal(parse_err("SELECT v FROM m GROUP time(1m)"),
                        "found time, expected BY at line 1, char 23");
    /* fill() follows GROUP BY or stands alone, never after ORDER BY. */
    assert_string_equal(parse_err("SELECT v FROM m ORDER BY time fill(0)"),
                        "found fill, expected ; at line 1, char 31");
    /* influxd 1.6 takes no LIMIT on SHOW DATABASES either. */
    assert_string_equal(parse_err("SHOW DATABASES LIMIT 1"),
                        "found LIMIT, expected ; at line 1, char 16");
    assert_string_equal(parse_err("SELECT DISTINCT FROM m"),
                        "found FROM, expected identifier at line 1, char 17");
    assert_string_equal(parse_err("SELECT DISTINCT 1 FROM m"),
                        "found 1, expected identifier at line 1, char 17");
    assert_string_equal(parse_err("SELECT v::color FROM m"),
                        "found color, expected float, integer, string, boolean, field or tag at "
                        "line 1, char 11");
    assert_string_equal(parse_err("SELECT v FROM m WHERE x = 9223372036854775808"),
                        "integer out of range at line 1, char 27");
    assert_string_equal(parse_err("SELECT v FROM m WHERE é = 1"),
                        "unexpected character at line 1, char 23");
    assert_string_equal(parse_err("SELECT \"v\xff\" FROM m"), "invalid UTF-8 at line 1, char 10");
    assert_string_equal(parse_err(""), "empty query");
    assert_string_equal(parse_err(" ; "), "empty query");
    /* Not supported: said so, never misread. */
    assert_string_equal(parse_err("SELECT v INTO m2 FROM m"),
                        "SELECT ... INTO is not supported at line 1, char 10");
    assert_string_equal(parse_err("SELECT v FROM (SELECT v FROM m)"),
                        "a subquery is not supported at line 1, char 15");
    assert_string_equal(parse_err("CREATE USER bob"),
                        "CREATE other than CREATE DATABASE is not supported at line 1, char 8");
    assert_string_equal(parse_err("GRANT ALL TO bob"),
                        "this statement is not supported at line 1, char 1");
    assert_string_equal(parse_err("SELECT v FROM m ORDER BY v"),
                        "ORDER BY other than time is not supported at line 1, char 26");
}

static void test_limits(void **state)
{
    /* Nesting: 64 parentheses are fine, 65 are not. */
    sb_buf q = SB_BUF_INIT;
    sb_buf_append_str(&q, SB_STR("SELECT v FROM m WHERE "));
    for (int i = 0; i < 65; i++)
        sb_buf_putc(&q, '(');
    sb_buf_putc(&q, 'x');
    for (int i = 0; i < 65; i++)
        sb_buf_putc(&q, ')');
    iql_query out;
    iql_error err;
    assert_false(iql_parse(sb_buf_str(&q), &arena, &out, &err));
    assert_non_null(strstr(err.message, "nesting this deep is not supported"));
    sb_buf_reset(&q);
    /* A long AND chain is not nesting of parentheses, but is bounded too. */
    sb_buf_append_str(&q, SB_STR("SELECT v FROM m WHERE x = 1"));
    for (int i = 0; i < 2000; i++)
        sb_buf_append_str(&q, SB_STR(" AND x = 1"));
    assert_true(iql_parse(sb_buf_str(&q), &arena, &out, &err));
    sb_buf_reset(&q);
    for (int i = 0; i < IQL_MAX_QUERY + 1; i++)
        sb_buf_putc(&q, ' ');
    assert_false(iql_parse(sb_buf_str(&q), &arena, &out, &err));
    sb_buf_free(&q);
}

static void test_time_literals(void **state)
{
    int64_t ns;
    assert_true(iql_parse_time(SB_STR("1970-01-01T00:00:00Z"), &ns));
    assert_int_equal(ns, 0);
    assert_true(iql_parse_time(SB_STR("2023-11-14T22:13:20Z"), &ns));
    assert_int_equal(ns, 1700000000LL * 1000000000LL);
    assert_true(iql_parse_time(SB_STR("2023-11-14T23:13:20.5+01:00"), &ns));
    assert_int_equal(ns, 1700000000LL * 1000000000LL + 500000000);
    assert_true(iql_parse_time(SB_STR("2023-11-14 22:13:20.000000001"), &ns));
    assert_int_equal(ns, 1700000000LL * 1000000000LL + 1);
    assert_true(iql_parse_time(SB_STR("2024-02-29"), &ns));
    assert_true(iql_parse_time(SB_STR("1969-12-31T23:59:59Z"), &ns));
    assert_int_equal(ns, -1000000000LL);
    const char *bad[] = {"2023-02-29",
                         "2023-13-01",
                         "2023-11-14T22:13:20",
                         "2023-11-14 25:00:00",
                         "2023-11-14T22:13:20.Z",
                         "23-11-14",
                         "2023-11-14x",
                         ""};
    for (size_t i = 0; i < sizeof(bad) / sizeof(bad[0]); i++)
        if (iql_parse_time(sb_str_c(bad[i]), &ns))
            fail_msg("%s parsed", bad[i]);
}

static int setup(void **state)
{
    sb_arena_init(&arena, 0);
    return 0;
}

static int teardown(void **state)
{
    sb_arena_deinit(&arena);
    return 0;
}

int main(void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(test_grafana_select),
        cmocka_unit_test(test_precedence),
        cmocka_unit_test(test_literals),
        cmocka_unit_test(test_float_text),
        cmocka_unit_test(test_functions_and_keywords),
        cmocka_unit_test(test_show_and_create),
        cmocka_unit_test(test_errors),
        cmocka_unit_test(test_limits),
        cmocka_unit_test(test_time_literals),
    };
    return cmocka_run_group_tests(tests, setup, teardown);
}
