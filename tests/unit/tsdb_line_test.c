/*
 * tsdb_line_test.c: the line protocol: each escaping rule of each element,
 * numbers, booleans, timestamps and precisions, canonical tags and series
 * keys, duplicate keys, every error with InfluxDB's message, limits, the
 * partial-write reader, and the writer's round trip.
 */
#include "cmocka_prelude.h"

#include <math.h>
#include <stdio.h>
#include <stdlib.h>

#include "tsdb/line.h"

static sb_arena arena;
static sb_errbuf err;

static tsdb_line_opts opts(void)
{
    return (tsdb_line_opts){TSDB_PREC_NS, 42, TSDB_LINE_LIMITS_DEFAULT};
}

static tsdb_point parse_ok(const char *line)
{
    tsdb_point p;
    tsdb_line_opts o = opts();
    tsdb_err e = tsdb_line_parse(sb_str_c(line), &o, &arena, &p, &err);
    if (e != TSDB_E_OK)
        fail_msg("%s: %s", line, err.msg);
    return p;
}

/* The error message of a bad line, after "unable to parse '<line>': ". */
static const char *reason(const char *line, tsdb_err want)
{
    tsdb_point p;
    tsdb_line_opts o = opts();
    assert_int_equal(tsdb_line_parse(sb_str_c(line), &o, &arena, &p, &err), want);
    const char *r = strstr(err.msg, "': ");
    assert_non_null(r);
    return r + 3;
}

#define assert_str(s, lit) assert_true(sb_str_eq((s), SB_STR(lit)))

static const tsdb_field *field(const tsdb_point *p, const char *key)
{
    for (size_t i = 0; i < p->nfields; i++)
        if (sb_str_eq(p->fields[i].key, sb_str_c(key)))
            return &p->fields[i];
    fail_msg("no field %s", key);
    return NULL;
}

static void test_basic(void **state)
{
    const char *line = "cpu,host=a,region=west value=1.5,count=3i,ok=t,msg=\"hi there\",n=7u "
                       "1465839830100400200";
    tsdb_point p = parse_ok(line);
    assert_str(p.measurement, "cpu");
    assert_int_equal(p.ntags, 2);
    assert_str(p.tags[0].key, "host");
    assert_str(p.tags[1].value, "west");
    assert_int_equal(p.nfields, 5);
    /* fields come out sorted by key */
    assert_str(p.fields[0].key, "count");
    assert_str(p.fields[4].key, "value");
    assert_true(field(&p, "value")->type == TSDB_FLOAT && field(&p, "value")->v.f == 1.5);
    assert_true(field(&p, "count")->type == TSDB_INT && field(&p, "count")->v.i == 3);
    assert_true(field(&p, "n")->type == TSDB_UINT && field(&p, "n")->v.u == 7);
    assert_true(field(&p, "ok")->type == TSDB_BOOL && field(&p, "ok")->v.b);
    assert_str(field(&p, "msg")->v.s, "hi there");
    assert_true(p.has_time);
    assert_true(p.time == INT64_C(1465839830100400200));
    /* Already canonical and unescaped: everything is a view of the line. */
    assert_str(p.series_key, "cpu,host=a,region=west");
    assert_ptr_equal(p.series_key.ptr, line);
    assert_ptr_equal(p.measurement.ptr, line);
    assert_ptr_equal(field(&p, "msg")->v.s.ptr, strstr(line, "hi there"));
    /* No timestamp: the server's time; spaces around sections. */
    p = parse_ok("  cpu  value=1   ");
    assert_false(p.has_time);
    assert_int_equal(p.time, 42);
    assert_int_equal(p.ntags, 0);
    assert_str(p.series_key, "cpu");
}

static void test_escapes(void **state)
{
    tsdb_point p = parse_ok("my\\ meas\\,ure=x,t=1 f=1");
    assert_str(p.measurement, "my meas,ure=x"); /* "=" needs no escape here */
    assert_str(p.series_key, "my\\ meas\\,ure=x,t=1");
    p = parse_ok("m,ta\\ g\\=k\\,=v\\ a\\=l\\,ue f\\ i\\=e\\,ld=1");
    assert_str(p.tags[0].key, "ta g=k,");
    assert_str(p.tags[0].value, "v a=l,ue");
    assert_str(p.fields[0].key, "f i=e,ld");
    p = parse_ok("m s=\"say \\\"hi\\\" \\\\ back\\slash, and = space\"");
    assert_str(p.fields[0].v.s, "say \"hi\" \\ back\\slash, and = space");
    /* A backslash before an ordinary byte stays; a doubled one is one. */
    p = parse_ok("m,path=C:\\dir f=1");
    assert_str(p.tags[0].value, "C:\\dir");
    assert_str(p.series_key, "m,path=C:\\\\dir");
    p = parse_ok("m\\\\,t=a\\\\ f=\"a\\\\\"");
    assert_str(p.measurement, "m\\");
    assert_str(p.tags[0].value, "a\\");
    assert_str(p.fields[0].v.s, "a\\");
    /* "\" at the very end of an element before a delimiter escapes it. */
    p = parse_ok("m,t=a\\ b f=1");
    assert_str(p.tags[0].value, "a b");
    /* Quotes inside tags and keys are plain bytes; commas and spaces and
     * equals signs in strings need no escape. */
    p = parse_ok("m,t=\"q\" \"k\"=\"a, b=c\"");
    assert_str(p.tags[0].value, "\"q\"");
    assert_str(p.fields[0].key, "\"k\"");
    assert_str(p.fields[0].v.s, "a, b=c");
    /* An empty string field and a string with only escapes. */
    p = parse_ok("m a=\"\",b=\"\\\"\"");
    assert_int_equal(p.fields[0].v.s.len, 0);
    assert_str(p.fields[1].v.s, "\"");
}

static void test_numbers(void **state)
{
    struct {
        const char *v;
        double want;
    } floats[] = {{"1", 1},         {"1.", 1},          {".5", 0.5},        {"-.5", -0.5},
                  {"-0", -0.0},     {"1e10", 1e10},     {"1.5E-3", 1.5e-3}, {"1e+20", 1e20},
                  {"1.e+78", 1e78}, {"5e-324", 5e-324}, {"1e-400", 0}};
    char line[64];
    for (size_t i = 0; i < SB_ARRAY_LEN(floats); i++) {
        snprintf(line, sizeof(line), "m f=%s", floats[i].v);
        tsdb_point p = parse_ok(line);
        assert_int_equal(p.fields[0].type, TSDB_FLOAT);
        assert_true(p.fields[0].v.f == floats[i].want);
        assert_true(signbit(p.fields[0].v.f) == signbit(floats[i].want));
    }
    const char *bad_numbers[] = {"1e",   "1.2.3", "0x10", "-",   ".",     "1ee2",  "1e5i",
                                 "1.5i", "--1i",  "-1u",  "12a", "1_000", "1e5e5", "1i\r"};
    for (size_t i = 0; i < SB_ARRAY_LEN(bad_numbers); i++) {
        snprintf(line, sizeof(line), "m f=%s", bad_numbers[i]);
        assert_string_equal(reason(line, TSDB_E_SYNTAX), "invalid number");
    }
    tsdb_point p =
        parse_ok("m a=9223372036854775807i,b=-9223372036854775808i,c=18446744073709551615u,d=0u");
    assert_true(p.fields[0].v.i == INT64_MAX && p.fields[1].v.i == INT64_MIN);
    assert_true(p.fields[2].v.u == UINT64_MAX && p.fields[3].v.u == 0);
    assert_string_equal(reason("m f=9223372036854775808i", TSDB_E_RANGE),
                        "unable to parse integer 9223372036854775808: value out of range");
    assert_string_equal(reason("m f=18446744073709551616u", TSDB_E_RANGE),
                        "unable to parse unsigned 18446744073709551616: value out of range");
    assert_string_equal(reason("m f=1e999", TSDB_E_RANGE), "invalid float");
    const char *yes[] = {"t", "T", "true", "True", "TRUE"},
               *no[] = {"f", "F", "false", "False", "FALSE"};
    for (int i = 0; i < 5; i++) {
        snprintf(line, sizeof(line), "m a=%s,b=%s", yes[i], no[i]);
        p = parse_ok(line);
        assert_true(p.fields[0].type == TSDB_BOOL && p.fields[0].v.b);
        assert_true(p.fields[1].type == TSDB_BOOL && !p.fields[1].v.b);
    }
    /* What does not start like a number must be a boolean, as in InfluxDB. */
    const char *bad_bools[] = {"tru", "TRue", "FALSe", "fa", "t1", "Tr", "e5",
                               "inf", "NaN",  "+1",    "i",  "u",  "yes"};
    for (size_t i = 0; i < SB_ARRAY_LEN(bad_bools); i++) {
        snprintf(line, sizeof(line), "m f=%s", bad_bools[i]);
        assert_string_equal(reason(line, TSDB_E_SYNTAX), "invalid boolean");
    }
}

/* Floats are read by a fast path (an integer mantissa times an exact power
 * of ten) or by strtod: every form must give strtod's bits. Random
 * decimals around the fast path's edges: 1 to 22 digits (2^53 has 16),
 * the point anywhere, exponents to +-30, leading and trailing zeros. */
static void test_floats_as_strtod(void **state)
{
    (void)state;
    uint64_t x = 0x9E3779B97F4A7C15u;
    char num[80], line[96];
    for (int round = 0; round < 200000; round++) {
        x ^= x << 13, x ^= x >> 7, x ^= x << 17;
        size_t n = 0, digits = 1 + x % 22, point = (x >> 8) % (digits + 2);
        if ((x >> 16) & 1)
            num[n++] = '-';
        uint64_t y = x;
        for (size_t d = 0; d < digits; d++) {
            if (d == point)
                num[n++] = '.';
            y = y * 6364136223846793005u + 1442695040888963407u;
            /* zeros often: they change the digit count, not the value */
            num[n++] = (char)('0' + ((y >> 33) % 4 == 0 ? 0 : (y >> 40) % 10));
        }
        if (point == digits)
            num[n++] = '.';
        if ((x >> 20) % 3 == 0)
            n += (size_t)snprintf(num + n, sizeof(num) - n, "e%d", (int)((x >> 24) % 61) - 30);
        num[n] = '\0';
        snprintf(line, sizeof(line), "m f=%s", num);
        tsdb_point p = parse_ok(line);
        double want = strtod(num, NULL);
        assert_int_equal(p.fields[0].type, TSDB_FLOAT);
        if (memcmp(&p.fields[0].v.f, &want, sizeof(want)) != 0)
            fail_msg("%s: %.17g, strtod %.17g", num, p.fields[0].v.f, want);
    }
    /* The edges by hand: 2^53 and one past, 1e22 and 1e23, 19 and 20 digits. */
    const char *edge[] = {"9007199254740992",
                          "9007199254740993",
                          "9007199254740993e-5",
                          "1e22",
                          "1e23",
                          "1e-22",
                          "1e-23",
                          "1234567890123456789",
                          "12345678901234567890",
                          "0.1234567890123456789e3",
                          "-0.0",
                          "00000000000000000000001.5",
                          "0.000000000000000000000000001",
                          "4.9e-324",
                          "1.7976931348623157e308"};
    for (size_t i = 0; i < SB_ARRAY_LEN(edge); i++) {
        snprintf(line, sizeof(line), "m f=%s", edge[i]);
        tsdb_point p = parse_ok(line);
        double want = strtod(edge[i], NULL);
        if (memcmp(&p.fields[0].v.f, &want, sizeof(want)) != 0)
            fail_msg("%s: %.17g, strtod %.17g", edge[i], p.fields[0].v.f, want);
    }
}

static void test_time_and_precision(void **state)
{
    struct {
        const char *name;
        int64_t ns;
    } precs[] = {{"n", 1},
                 {"ns", 1},
                 {"u", 1000},
                 {"us", 1000},
                 {"ms", 1000000},
                 {"s", 1000000000},
                 {"m", INT64_C(60000000000)},
                 {"h", INT64_C(3600000000000)}};
    for (size_t i = 0; i < SB_ARRAY_LEN(precs); i++) {
        tsdb_precision pr;
        assert_true(tsdb_precision_parse(sb_str_c(precs[i].name), &pr));
        assert_true(tsdb_precision_ns(pr) == precs[i].ns);
        tsdb_line_opts o = opts();
        o.precision = pr;
        tsdb_point p;
        assert_int_equal(tsdb_line_parse(SB_STR("m f=1 -3"), &o, &arena, &p, &err), TSDB_E_OK);
        assert_true(p.time == -3 * precs[i].ns);
    }
    tsdb_precision pr;
    assert_false(tsdb_precision_parse(SB_STR("sec"), &pr));
    assert_false(tsdb_precision_parse(SB_STR(""), &pr));
    tsdb_line_opts o = opts();
    o.precision = TSDB_PREC_H;
    tsdb_point p;
    assert_int_equal(tsdb_line_parse(SB_STR("m f=1 2562047"), &o, &arena, &p, &err), TSDB_E_OK);
    assert_int_equal(tsdb_line_parse(SB_STR("m f=1 2562048"), &o, &arena, &p, &err), TSDB_E_RANGE);
    assert_non_null(
        strstr(err.msg, "time outside range -9223372036854775806 - 9223372036854775806"));
    assert_string_equal(reason("m f=1 9223372036854775807", TSDB_E_RANGE),
                        "time outside range -9223372036854775806 - 9223372036854775806");
    parse_ok("m f=1 9223372036854775806");
    assert_string_equal(reason("m f=1 12a", TSDB_E_SYNTAX), "bad timestamp");
    assert_string_equal(reason("m f=1 1 2", TSDB_E_SYNTAX), "point is invalid");
    assert_string_equal(reason("m f=1 5\r", TSDB_E_SYNTAX), "bad timestamp");
    assert_string_equal(reason("m f=1 1.5", TSDB_E_SYNTAX), "bad timestamp");
    assert_string_equal(reason("m f=1 99999999999999999999", TSDB_E_SYNTAX), "bad timestamp");
    p = parse_ok("m f=1 1  ");
    assert_int_equal(p.time, 1);
}

static void test_canonical(void **state)
{
    const char *line = "m,zone=b,app=x,mid=q f=1";
    tsdb_point p = parse_ok(line);
    assert_str(p.tags[0].key, "app");
    assert_str(p.tags[1].key, "mid");
    assert_str(p.tags[2].key, "zone");
    assert_str(p.series_key, "m,app=x,mid=q,zone=b");
    /* Byte order, as Go's bytes.Compare: upper case first, prefixes first. */
    p = parse_ok("m,b=1,a=1,B=1,ab=1 f=1");
    assert_str(p.series_key, "m,B=1,a=1,ab=1,b=1");
    /* Escapes are made canonical in the key. */
    p = parse_ok("m,b=x\\ y,a=\\q f=1");
    assert_str(p.series_key, "m,a=\\\\q,b=x\\ y");
    assert_string_equal(reason("m,a=1,b=2,a=3 f=1", TSDB_E_SYNTAX), "duplicate tags");
    assert_string_equal(reason("m,a=1,a=1 f=1", TSDB_E_SYNTAX), "duplicate tags");
    /* Duplicate fields: the last one wins. */
    p = parse_ok("m b=1,a=2i,b=\"x\",a=3i,b=4");
    assert_int_equal(p.nfields, 2);
    assert_true(p.fields[0].v.i == 3);
    assert_true(p.fields[1].type == TSDB_FLOAT && p.fields[1].v.f == 4);
}

static void test_errors(void **state)
{
    struct {
        const char *line, *reason;
    } cases[] = {
        {",t=1 f=1", "missing measurement"},
        {" ,t=1 f=1", "missing measurement"},
        {"m,=v f=1", "missing tag key"},
        {"m, f=1", "missing tag key"},
        {"m,t f=1", "missing tag value"},
        {"m,t= f=1", "missing tag value"},
        {"m,t=,u=1 f=1", "missing tag value"},
        {"m,t=a=b f=1", "invalid tag format"},
        {"m", "missing fields"},
        {"m,t=1", "missing fields"},
        {"m   ", "missing fields"},
        {"m =1", "missing field key"},
        {"m f=1,", "invalid field format"},
        {"m f=1,,g=2", "invalid field format"},
        {"m f", "invalid field format"},
        {"m f,g=1", "invalid field format"},
        {"m f=\"a\"x", "invalid field format"},
        {"m f=", "missing field value"},
        {"m f=,g=1", "missing field value"},
        {"m f= 1", "missing field value"},
        {"m f=\"abc", "unbalanced quotes"},
        {"m f=\"abc\\\"", "unbalanced quotes"},
        {"m,time=1 f=1", "invalid tag key: input tag \"time\" on measurement \"m\" is invalid"},
        {"m time=1", "invalid field name: input field \"time\" on measurement \"m\" is invalid"},
    };
    for (size_t i = 0; i < SB_ARRAY_LEN(cases); i++) {
        tsdb_point p;
        tsdb_line_opts o = opts();
        assert_int_equal(tsdb_line_parse(sb_str_c(cases[i].line), &o, &arena, &p, &err),
                         TSDB_E_SYNTAX);
        char want[256];
        snprintf(want, sizeof(want), "unable to parse '%s': %s", cases[i].line, cases[i].reason);
        assert_string_equal(err.msg, want);
    }
    tsdb_point none;
    tsdb_line_opts o0 = opts();
    assert_int_equal(tsdb_line_parse(SB_STR_NULL, &o0, &arena, &none, &err), TSDB_E_SYNTAX);
    assert_string_equal(err.msg, "unable to parse '': missing measurement");
    /* Long lines are cut in the message. */
    char line[300];
    memset(line, 'x', sizeof(line) - 1);
    line[sizeof(line) - 1] = '\0';
    tsdb_point p;
    tsdb_line_opts o = opts();
    assert_int_equal(tsdb_line_parse(sb_str_c(line), &o, &arena, &p, &err), TSDB_E_SYNTAX);
    assert_int_equal(strlen(err.msg), strlen("unable to parse '...': missing fields") + 100);
}

static void test_limits(void **state)
{
    tsdb_line_opts o = opts();
    o.limits = (tsdb_line_limits){64, 16, 2, 3, 4};
    tsdb_point p;
    assert_int_equal(tsdb_line_parse(SB_STR("m,a=1,b=2 f=1,g=2,h=3 1"), &o, &arena, &p, &err),
                     TSDB_E_OK);
    assert_int_equal(tsdb_line_parse(SB_STR("m,a=1,b=2,c=3 f=1"), &o, &arena, &p, &err),
                     TSDB_E_LIMIT);
    assert_non_null(strstr(err.msg, "too many tags: more than 2"));
    assert_int_equal(tsdb_line_parse(SB_STR("m f=1,g=2,h=3,f=4"), &o, &arena, &p, &err),
                     TSDB_E_LIMIT);
    assert_non_null(strstr(err.msg, "too many fields: more than 3"));
    assert_int_equal(tsdb_line_parse(SB_STR("m,a=1,bb=22222222 f=1"), &o, &arena, &p, &err),
                     TSDB_E_LIMIT);
    assert_non_null(strstr(err.msg, "max key length exceeded: 17 > 16"));
    assert_int_equal(tsdb_line_parse(SB_STR("m s=\"abcd\""), &o, &arena, &p, &err), TSDB_E_OK);
    assert_int_equal(tsdb_line_parse(SB_STR("m s=\"ab\\\\cde\""), &o, &arena, &p, &err),
                     TSDB_E_LIMIT);
    assert_non_null(strstr(err.msg, "string field too long: 6 > 4"));
    char line[80];
    memset(line, 'x', sizeof(line) - 1);
    line[sizeof(line) - 1] = '\0';
    assert_int_equal(tsdb_line_parse(sb_str_c(line), &o, &arena, &p, &err), TSDB_E_LIMIT);
    assert_non_null(strstr(err.msg, "line too long: 79 > 64"));
}

static void test_reader(void **state)
{
    const char *body = "# a comment with a \"quote\n"
                       "cpu value=1 1\n"
                       "\n"
                       "   \t\n"
                       "cpu value= 2\n"
                       "  # indented comment\n"
                       "mem,host=a used=3i,note=\"two\nlines, \\\"quoted\\\"\" 3\n"
                       "crlf n=1i\r\n"
                       "disk free=\"x\n"
                       "net rx=5u\n";
    tsdb_line_opts o = opts();
    tsdb_line_reader r;
    tsdb_line_reader_init(&r, sb_str_c(body), &o);
    tsdb_point p;
    assert_int_equal(tsdb_line_next(&r, &arena, &p, &err), TSDB_LINE_POINT);
    assert_int_equal(r.line_no, 2);
    assert_str(p.series_key, "cpu");
    assert_int_equal(tsdb_line_next(&r, &arena, &p, &err), TSDB_LINE_ERROR);
    assert_int_equal(r.line_no, 5);
    assert_string_equal(err.msg, "unable to parse 'cpu value= 2': missing field value");
    /* A quoted string may span lines, as InfluxDB allows. */
    assert_int_equal(tsdb_line_next(&r, &arena, &p, &err), TSDB_LINE_POINT);
    assert_int_equal(r.line_no, 7);
    assert_str(p.series_key, "mem,host=a");
    assert_str(p.fields[0].v.s, "two\nlines, \"quoted\"");
    assert_int_equal(p.time, 3);
    /* A carriage return is a byte like any other (InfluxDB's words). */
    assert_int_equal(tsdb_line_next(&r, &arena, &p, &err), TSDB_LINE_ERROR);
    assert_int_equal(r.line_no, 9);
    assert_string_equal(err.msg, "unable to parse 'crlf n=1i\r': invalid number");
    /* An open quote runs to the end of the body, newlines and all. */
    assert_int_equal(tsdb_line_next(&r, &arena, &p, &err), TSDB_LINE_ERROR);
    assert_int_equal(r.line_no, 10);
    assert_string_equal(err.msg, "unable to parse 'disk free=\"x\nnet rx=5u': unbalanced quotes");
    assert_int_equal(tsdb_line_next(&r, &arena, &p, &err), TSDB_LINE_END);
    assert_int_equal(tsdb_line_next(&r, &arena, &p, &err), TSDB_LINE_END);
    /* A backslash does not hide a newline outside strings. */
    tsdb_line_reader_init(&r, SB_STR("a\\\nb f=1"), &o);
    assert_int_equal(tsdb_line_next(&r, &arena, &p, &err), TSDB_LINE_ERROR);
    assert_int_equal(tsdb_line_next(&r, &arena, &p, &err), TSDB_LINE_POINT);
    assert_int_equal(r.line_no, 2);
    tsdb_line_reader_init(&r, SB_STR(""), &o);
    assert_int_equal(tsdb_line_next(&r, &arena, &p, &err), TSDB_LINE_END);
}

static int cmp_keys(sb_str a, sb_str b)
{
    int c = memcmp(a.ptr, b.ptr, SB_MIN(a.len, b.len));
    return c ? c : (a.len > b.len) - (a.len < b.len);
}

static void assert_same_point(const tsdb_point *a, const tsdb_point *b)
{
    assert_true(sb_str_eq(a->measurement, b->measurement));
    assert_true(sb_str_eq(a->series_key, b->series_key));
    assert_int_equal(a->ntags, b->ntags);
    for (size_t i = 0; i < a->ntags; i++) {
        assert_true(sb_str_eq(a->tags[i].key, b->tags[i].key));
        assert_true(sb_str_eq(a->tags[i].value, b->tags[i].value));
    }
    assert_int_equal(a->nfields, b->nfields);
    for (size_t i = 0; i < a->nfields; i++) {
        assert_true(sb_str_eq(a->fields[i].key, b->fields[i].key));
        assert_int_equal(a->fields[i].type, b->fields[i].type);
        if (a->fields[i].type == TSDB_STRING)
            assert_true(sb_str_eq(a->fields[i].v.s, b->fields[i].v.s));
        else if (a->fields[i].type == TSDB_BOOL)
            assert_int_equal(a->fields[i].v.b, b->fields[i].v.b);
        else
            assert_memory_equal(&a->fields[i].v, &b->fields[i].v, 8);
    }
    assert_int_equal(a->has_time, b->has_time);
    assert_true(a->time == b->time);
}

static void test_writer(void **state)
{
    /* Every special byte in every element, and backslashes at the edges. */
    tsdb_tag tags[] = {{SB_STR("a ,=\\"), SB_STR("\\v, =\\")}, {SB_STR("b\""), SB_STR("#\t")}};
    tsdb_field fields[] = {
        {SB_STR("f ,=\\"), TSDB_STRING, {.s = SB_STR("q\"\\, =\\")}},
        {SB_STR("g"), TSDB_FLOAT, {.f = 0.1}},
        {SB_STR("h"), TSDB_FLOAT, {.f = -0.0}},
        {SB_STR("i"), TSDB_INT, {.i = INT64_MIN}},
        {SB_STR("j"), TSDB_UINT, {.u = UINT64_MAX}},
        {SB_STR("k"), TSDB_BOOL, {.b = false}},
        {SB_STR("l"), TSDB_FLOAT, {.f = 1e300}},
        {SB_STR("m"), TSDB_FLOAT, {.f = 5e-324}},
        {SB_STR("n"), TSDB_FLOAT, {.f = 12.34}},
    };
    tsdb_point p = {SB_STR(" m,e=\\"), SB_STR(""), tags, 2, fields, 9, -5, true};
    sb_buf b = SB_BUF_INIT;
    assert_int_equal(tsdb_line_write(&b, &p), TSDB_E_OK);
    assert_string_equal(b.ptr, "\\ m\\,e=\\\\,a\\ \\,\\=\\\\=\\\\v\\,\\ \\=\\\\,b\"=#\t "
                               "f\\ \\,\\=\\\\=\"q\\\"\\\\, =\\\\\",g=0.1,h=-0,"
                               "i=-9223372036854775808i,j=18446744073709551615u,k=false,"
                               "l=1e+300,m=4.94065645841247e-324,n=12.34 -5\n");
    tsdb_point q;
    tsdb_line_opts o = opts();
    assert_int_equal(tsdb_line_parse(sb_str_make(b.ptr, b.len - 1), &o, &arena, &q, &err),
                     TSDB_E_OK);
    p.series_key = q.series_key; /* the parser computes it */
    assert_str(q.series_key, "\\ m\\,e=\\\\,a\\ \\,\\=\\\\=\\\\v\\,\\ \\=\\\\,b\"=#\t");
    assert_same_point(&p, &q);

    /* What no line can carry. */
    tsdb_point bad[] = {
        {SB_STR(""), SB_STR(""), NULL, 0, fields + 1, 1, 0, false},
        {SB_STR("#m"), SB_STR(""), NULL, 0, fields + 1, 1, 0, false},
        {SB_STR("\tm"), SB_STR(""), NULL, 0, fields + 1, 1, 0, false},
        {SB_STR("m\n"), SB_STR(""), NULL, 0, fields + 1, 1, 0, false},
        {SB_STR("m"), SB_STR(""), NULL, 0, fields, 0, 0, false},
    };
    for (size_t i = 0; i < SB_ARRAY_LEN(bad); i++) {
        sb_buf_reset(&b);
        assert_int_equal(tsdb_line_write(&b, &bad[i]), TSDB_E_UNWRITABLE);
        assert_int_equal(b.len, 0);
    }
    tsdb_tag empty_value = {SB_STR("t"), SB_STR("")}, time_tag = {SB_STR("time"), SB_STR("1")};
    tsdb_field nan = {SB_STR("f"), TSDB_FLOAT, {.f = NAN}};
    tsdb_field inf = {SB_STR("f"), TSDB_FLOAT, {.f = -INFINITY}};
    tsdb_field nl = {SB_STR("f"), TSDB_STRING, {.s = SB_STR("a\nb")}};
    tsdb_field time_field = {SB_STR("time"), TSDB_INT, {.i = 1}};
    tsdb_point w = {SB_STR("m"), SB_STR(""), &empty_value, 1, fields + 1, 1, 0, false};
    assert_int_equal(tsdb_line_write(&b, &w), TSDB_E_UNWRITABLE);
    w.tags = &time_tag;
    assert_int_equal(tsdb_line_write(&b, &w), TSDB_E_UNWRITABLE);
    w.ntags = 0;
    tsdb_field *unwritable[] = {&nan, &inf, &time_field};
    for (size_t i = 0; i < SB_ARRAY_LEN(unwritable); i++) {
        w.fields = unwritable[i];
        assert_int_equal(tsdb_line_write(&b, &w), TSDB_E_UNWRITABLE);
    }
    assert_int_equal(b.len, 0);
    /* A newline in a string value is carried, and read back by the reader. */
    w.fields = &nl;
    assert_int_equal(tsdb_line_write(&b, &w), TSDB_E_OK);
    assert_string_equal(b.ptr, "m f=\"a\nb\"\n");
    tsdb_line_reader r;
    tsdb_line_reader_init(&r, sb_buf_str(&b), &o);
    assert_int_equal(tsdb_line_next(&r, &arena, &q, &err), TSDB_LINE_POINT);
    assert_str(q.fields[0].v.s, "a\nb");
    assert_int_equal(tsdb_line_next(&r, &arena, &q, &err), TSDB_LINE_END);
    sb_buf_free(&b);
}

/* Random names and values made of the bytes that matter (delimiters,
 * escapes, quotes, comment and whitespace starts, newlines, NUL): each
 * point is refused by the writer or read back identical by the reader. */
static void test_writer_random(void **state)
{
    static const char alphabet[] = " ,=\\\"#\t\n\r\0aZ";
    uint64_t seed = 0x2545F4914F6CDD1Du;
    char bytes[8][6];
    size_t written = 0;
    for (int round = 0; round < 20000; round++) {
        sb_str s[8];
        for (int k = 0; k < 8; k++) {
            seed ^= seed << 13, seed ^= seed >> 7, seed ^= seed << 17;
            size_t len = (size_t)(seed % 6);
            for (size_t i = 0; i < len; i++)
                bytes[k][i] = alphabet[(seed >> (8 + 5 * i)) % (sizeof(alphabet) - 1)];
            s[k] = sb_str_make(bytes[k], len);
        }
        tsdb_tag tags[2] = {{s[1], s[2]}, {s[3], s[4]}};
        if (cmp_keys(tags[0].key, tags[1].key) > 0) { /* the parser sorts */
            tsdb_tag tmp = tags[0];
            tags[0] = tags[1];
            tags[1] = tmp;
        }
        tsdb_field f = {s[5], TSDB_STRING, {.s = s[6]}};
        tsdb_point p = {s[0], SB_STR_NULL, tags, 2, &f, 1, (int64_t)seed, true};
        sb_buf b = SB_BUF_INIT;
        if (tsdb_line_write(&b, &p) == TSDB_E_OK &&
            !sb_str_eq(tags[0].key, tags[1].key)) { /* duplicate tags do not parse */
            tsdb_line_opts o = opts();
            tsdb_line_reader r;
            tsdb_point q;
            tsdb_line_reader_init(&r, sb_buf_str(&b), &o);
            if (tsdb_line_next(&r, &arena, &q, &err) != TSDB_LINE_POINT)
                fail_msg("%s: %s", b.ptr, err.msg);
            p.series_key = q.series_key;
            assert_same_point(&p, &q);
            assert_int_equal(tsdb_line_next(&r, &arena, &q, &err), TSDB_LINE_END);
            written++;
        }
        sb_buf_free(&b);
        sb_arena_reset(&arena);
    }
    assert_true(written > 1000);
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
        cmocka_unit_test(test_basic),
        cmocka_unit_test(test_escapes),
        cmocka_unit_test(test_numbers),
        cmocka_unit_test(test_floats_as_strtod),
        cmocka_unit_test(test_time_and_precision),
        cmocka_unit_test(test_canonical),
        cmocka_unit_test(test_errors),
        cmocka_unit_test(test_limits),
        cmocka_unit_test(test_reader),
        cmocka_unit_test(test_writer),
        cmocka_unit_test(test_writer_random),
    };
    return cmocka_run_group_tests(tests, setup, teardown);
}
