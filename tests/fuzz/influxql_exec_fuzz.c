/*
 * influxql_exec_fuzz.c: libFuzzer target for the InfluxQL executor. The
 * input is query text; it is parsed and run against a small fixed source
 * (tests/unit/tsdb_fixture.h) under tight limits. Beyond "no crash, no UB,
 * no leak, no hang": the answer is always one well-formed JSON document
 * (jansson reads it back) with a "results" array of one object per
 * statement, or a top-level "error".
 */
#include <assert.h>
#include <jansson.h>
#include <stdlib.h>
#include <string.h>

#include "../unit/tsdb_fixture.h"
#include "tsdb/exec.h"

static const char DATA[] =
    "cpu,host=a,region=eu value=1,n=1i,s=\"x\",b=true 1577836800000000000\n"
    "cpu,host=a,region=eu value=3,n=3i 1577836810000000000\n"
    "cpu,host=a,region=eu value=-5.5,n=-5i,s=\"<y>\" 1577836870000000000\n"
    "cpu,host=b,region=us value=2,n=2i,b=false 1577836805000000000\n"
    "cpu,host=b,region=us value=1e300,n=9223372036854775807i 1577836925000000000\n"
    "cpu,host=c,region=eu value=4 1577836815000000000\n"
    "cpu,host=d value=0 -1000000000\n"
    "mem,host=a free=100i,u=7u 1577836800000000000\n"
    "mem,host=a free=50i 1577836860000000000\n"
    "weather,city=paris temp=12.5,sky=\"sunny\" 1577836800000000000\n"
    "# CONTEXT-DATABASE: other\n"
    "disk,host=z used=1i 1577836800000000000\n";

static tsdb_source *src;

/* The fixture is an engine in a temporary directory: removed on exit. */
static void free_src(void)
{
    fixture_source_free(src);
}

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
    if (!src) {
        src = fixture_source_load(DATA);
        atexit(free_src);
    }
    tsdb_exec_opts o = {0};
    o.db = SB_STR("db");
    o.now_ns = 1577837100000000000LL;
    o.max_points = 5000;
    o.max_series = 100;
    o.has_epoch = size && (data[0] & 1);
    o.epoch = TSDB_PREC_MS;
    sb_buf out = SB_BUF_INIT;
    tsdb_exec_text(src, sb_str_make((const char *)data, size), &o, &out);
    json_error_t err;
    /* Numbers past int64 and escaped NULs in names are valid JSON (and Go
     * writes both). */
    json_t *doc = json_loadb(out.ptr, out.len, JSON_DECODE_INT_AS_REAL | JSON_ALLOW_NUL, &err);
    assert(doc && json_is_object(doc));
    json_t *results = json_object_get(doc, "results");
    assert(json_is_array(results) || json_is_string(json_object_get(doc, "error")));
    for (size_t i = 0; results && i < json_array_size(results); i++) {
        json_t *r = json_array_get(results, i);
        assert(json_number_value(json_object_get(r, "statement_id")) == (double)i);
    }
    json_decref(doc);
    sb_buf_free(&out);
    return 0;
}
