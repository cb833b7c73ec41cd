/*
 * influxql.h: the InfluxQL statements Sitebase answers on /query (issue 8),
 * parsed into a tree: SELECT with fields, aggregates and expressions, FROM
 * one or more measurements (names or regexes, optionally db.rp.), WHERE,
 * GROUP BY time(...) and tags, fill(), ORDER BY time, LIMIT/OFFSET,
 * SLIMIT/SOFFSET and tz(); SHOW DATABASES / MEASUREMENTS / TAG KEYS /
 * TAG VALUES / FIELD KEYS / RETENTION POLICIES / SERIES, which Grafana and
 * the influx CLI ask; and CREATE / DROP DATABASE, which Telegraf sends.
 * The grammar and lexical rules are those of the InfluxQL reference
 * (influxdata/influxql README): quoted identifiers with \" escapes,
 * single-quoted strings with \' escapes, /regex/ with \/ escapes, duration
 * literals (u, µ, ms, s, m, h, d, w), -- and block comments.
 *
 * Statements that other InfluxDB deployments accept but we do not (INTO,
 * subqueries, user and continuous-query management, ...) are refused with
 * a clear error naming what is not supported, never misread.
 *
 * Pure and bounded: the parser works on the caller's text, allocates only
 * from the caller's arena, limits nesting (IQL_MAX_DEPTH) and count of
 * items, and reports errors as InfluxDB does ("found X, expected Y at
 * line L, char C"). Fuzzed by tests/fuzz/influxql_fuzz.c.
 */
#ifndef SB_TSDB_INFLUXQL_H
#define SB_TSDB_INFLUXQL_H

#include "base/arena.h"
#include "base/str.h"

#define IQL_MAX_DEPTH      64   /* nesting of expressions */
#define IQL_MAX_ITEMS      1024 /* fields, sources, dimensions, args */
#define IQL_MAX_STATEMENTS 64
#define IQL_MAX_QUERY      65536 /* bytes of one query text */

typedef enum iql_op {
    IQL_OP_NONE,
    IQL_OP_OR,
    IQL_OP_AND,
    IQL_OP_EQ,
    IQL_OP_NEQ,
    IQL_OP_EQ_REGEX,  /* =~ */
    IQL_OP_NEQ_REGEX, /* !~ */
    IQL_OP_LT,
    IQL_OP_LTE,
    IQL_OP_GT,
    IQL_OP_GTE,
    IQL_OP_ADD,
    IQL_OP_SUB,
    IQL_OP_BITOR,
    IQL_OP_BITXOR,
    IQL_OP_MUL,
    IQL_OP_DIV,
    IQL_OP_MOD,
    IQL_OP_BITAND,
} iql_op;

/* The text of an operator ("AND", "=~", ...). */
const char *iql_op_name(iql_op op);

typedef enum iql_expr_kind {
    IQL_VAR,      /* a field or tag reference (name, optional ::type) */
    IQL_WILDCARD, /* * (optionally *::field or *::tag) */
    IQL_CALL,     /* name(args...) */
    IQL_BINARY,   /* lhs op rhs */
    IQL_PAREN,    /* ( lhs ), kept so the tree prints back as written */
    IQL_INTEGER,
    IQL_NUMBER, /* a float literal */
    IQL_STRING,
    IQL_BOOLEAN,
    IQL_DURATION, /* in nanoseconds */
    IQL_REGEX,
} iql_expr_kind;

/* The ::type of a reference; NONE when none is given. */
typedef enum iql_cast {
    IQL_CAST_NONE,
    IQL_CAST_FLOAT,
    IQL_CAST_INTEGER,
    IQL_CAST_STRING,
    IQL_CAST_BOOLEAN,
    IQL_CAST_FIELD,
    IQL_CAST_TAG,
} iql_cast;

typedef struct iql_expr iql_expr;
struct iql_expr {
    iql_expr_kind kind;
    iql_op op;       /* BINARY */
    iql_expr *lhs;   /* BINARY, PAREN */
    iql_expr *rhs;   /* BINARY */
    sb_str name;     /* VAR, CALL: unescaped; CALL names are lower-cased */
    iql_cast cast;   /* VAR, WILDCARD */
    iql_expr **args; /* CALL */
    size_t nargs;
    int64_t i;  /* INTEGER; DURATION (ns) */
    double f;   /* NUMBER */
    bool b;     /* BOOLEAN */
    sb_str s;   /* STRING (unescaped), REGEX (the pattern, \/ unescaped) */
    size_t pos; /* byte offset in the query, for errors found later */
};

typedef struct iql_field {
    iql_expr *expr;
    sb_str alias; /* ptr NULL: none */
} iql_field;

/* A measurement: [db.[rp].]name or a regex over names. */
typedef struct iql_source {
    sb_str db, rp, name; /* ptr NULL when not given */
    sb_str regex;        /* ptr set: a regex source (name NULL) */
} iql_source;

typedef enum iql_fill {
    IQL_FILL_DEFAULT, /* none given: null, as InfluxDB */
    IQL_FILL_NULL,
    IQL_FILL_NONE,
    IQL_FILL_PREVIOUS,
    IQL_FILL_LINEAR,
    IQL_FILL_NUMBER, /* fill(<number>): fill_value */
} iql_fill;

typedef struct iql_select {
    iql_field *fields;
    size_t nfields;
    iql_source *sources;
    size_t nsources;
    iql_expr *where;       /* NULL: none */
    iql_expr **dimensions; /* GROUP BY: time(...) calls, tag refs, regexes, * */
    size_t ndimensions;
    iql_fill fill;
    double fill_value;
    bool descending;       /* ORDER BY time DESC */
    int64_t limit, offset; /* 0: none */
    int64_t slimit, soffset;
    sb_str tz; /* ptr NULL: UTC */
} iql_select;

typedef enum iql_stmt_kind {
    IQL_SELECT,
    IQL_SHOW_DATABASES,
    IQL_SHOW_MEASUREMENTS,
    IQL_SHOW_TAG_KEYS,
    IQL_SHOW_TAG_VALUES,
    IQL_SHOW_FIELD_KEYS,
    IQL_SHOW_RETENTION_POLICIES,
    IQL_SHOW_SERIES,
    IQL_CREATE_DATABASE,
    IQL_DROP_DATABASE,
} iql_stmt_kind;

/* SHOW statements: ON db, FROM sources, WITH MEASUREMENT / WITH KEY,
 * WHERE, LIMIT and OFFSET, as each allows. */
typedef struct iql_show {
    sb_str on;           /* ptr NULL: the request's db */
    iql_source *sources; /* FROM */
    size_t nsources;
    iql_source measurement; /* WITH MEASUREMENT = name | =~ regex */
    bool has_measurement;
    iql_op key_op; /* WITH KEY: EQ, NEQ, EQ_REGEX, NEQ_REGEX, or NONE for IN */
    sb_str *keys;  /* WITH KEY = k (1) or IN (k, ...) */
    size_t nkeys;
    sb_str key_regex; /* WITH KEY =~ /re/ */
    iql_expr *where;
    int64_t limit, offset;
} iql_show;

typedef struct iql_stmt {
    iql_stmt_kind kind;
    iql_select select; /* SELECT */
    iql_show show;     /* SHOW ... */
    sb_str database;   /* CREATE / DROP DATABASE */
} iql_stmt;

typedef struct iql_query {
    iql_stmt *stmts;
    size_t nstmts;
} iql_query;

typedef struct iql_error {
    char message[256]; /* "found X, expected Y at line L, char C" */
    size_t pos;        /* byte offset */
} iql_error;

/* Parses text (one or more statements separated by ';'). On success fills
 * *q (its memory comes from arena and lives as long as the arena; strings
 * may point into text, which must live as long too). On failure returns
 * false and fills *err; q is then undefined. */
bool iql_parse(sb_str text, sb_arena *arena, iql_query *q, iql_error *err);

/* Writes e back as InfluxQL text (identifiers quoted when needed), so a
 * parsed query prints in one canonical form (column names of results,
 * tests). */
void iql_expr_write(const iql_expr *e, sb_buf *out);

/* Parses a time literal as InfluxQL compares it with time: RFC 3339
 * ("2006-01-02T15:04:05.999999999Z07:00"), "2006-01-02 15:04:05[.frac]"
 * or "2006-01-02" (UTC). Nanoseconds since the epoch; false when s is not
 * one of those. */
bool iql_parse_time(sb_str s, int64_t *ns);

#endif
