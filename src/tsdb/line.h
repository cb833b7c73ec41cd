/*
 * line.h: the InfluxDB line protocol: a parser that turns a write body into
 * points, line by line, and a writer that escapes points back into lines.
 *
 *   <measurement>[,<tag_key>=<tag_value>...] <field_key>=<field_value>[,...] [<timestamp>]
 *
 * Rules (InfluxDB's line protocol reference; docs/tsdb.md has the table):
 * the measurement escapes "," and " "; tag keys, tag values and field keys
 * escape ",", "=" and " "; string field values are double-quoted and escape
 * '"' and "\"; everywhere a doubled backslash is one backslash, and a
 * backslash before any other byte is kept as is. Lines end at "\n", except
 * inside a quoted string value, which may span lines as in InfluxDB; a
 * "\r" is an ordinary byte (InfluxDB: "1i\r" is an invalid number).
 * Leading spaces and tabs, blank lines and lines starting with "#" are
 * skipped. Integers end in "i", unsigned integers in "u", anything else
 * numeric is a float (exponents allowed, no NaN or infinities); booleans are
 * t, T, true, True, TRUE, f, F, false, False, FALSE. Timestamps are integers
 * in the write's precision, converted to nanoseconds.
 *
 * Points come out canonical: tags sorted by key (duplicate tag keys are an
 * error, as in InfluxDB), fields sorted by key with the last of duplicate
 * keys winning, and a series key "measurement,k1=v1,k2=v2" escaped the way
 * the writer escapes.
 *
 * Memory: names and values are views into the input when they hold no
 * escapes, otherwise unescaped copies in the caller's arena; the tag and
 * field arrays and the series key live in the arena too. Nothing else is
 * allocated. The input and the arena must outlive the points.
 */
#ifndef SB_TSDB_LINE_H
#define SB_TSDB_LINE_H

#include "base/arena.h"
#include "base/str.h"
#include "tsdb/block.h"
#include "tsdb/err.h"

typedef enum tsdb_precision {
    TSDB_PREC_NS,
    TSDB_PREC_US,
    TSDB_PREC_MS,
    TSDB_PREC_S,
    TSDB_PREC_M,
    TSDB_PREC_H,
} tsdb_precision;

/* The /write?precision= values: n, ns, u, us, ms, s, m, h. */
bool tsdb_precision_parse(sb_str s, tsdb_precision *out);
/* Nanoseconds per unit of p (1 for TSDB_PREC_NS). */
int64_t tsdb_precision_ns(tsdb_precision p);

typedef struct tsdb_tag {
    sb_str key, value;
} tsdb_tag;

typedef struct tsdb_field {
    sb_str key;
    tsdb_type type;
    union {
        double f;
        int64_t i;
        uint64_t u;
        bool b;
        sb_str s;
    } v;
} tsdb_field;

typedef struct tsdb_point {
    sb_str measurement; /* unescaped */
    sb_str series_key;  /* canonical, escaped: the series' identity */
    tsdb_tag *tags;     /* sorted by key, keys unique */
    size_t ntags;
    tsdb_field *fields; /* sorted by key, keys unique, at least one */
    size_t nfields;
    int64_t time;  /* nanoseconds; opts->now when the line had none */
    bool has_time; /* the line carried a timestamp */
} tsdb_point;

typedef struct tsdb_line_limits {
    size_t max_line;   /* bytes in one line */
    size_t max_key;    /* bytes in the series key (InfluxDB: 65535) */
    size_t max_tags;   /* tags per point */
    size_t max_fields; /* fields per line, duplicates included */
    size_t max_string; /* bytes in one string field value (InfluxDB: 64 KiB) */
} tsdb_line_limits;

#define TSDB_LINE_LIMITS_DEFAULT ((tsdb_line_limits){1u << 20, 65535, 256, 1024, 65536})

typedef struct tsdb_line_opts {
    tsdb_precision precision;
    int64_t now; /* the time of points without one, in nanoseconds */
    tsdb_line_limits limits;
} tsdb_line_opts;

/* Parses one line as the reader cuts them (a "\n" is only allowed inside a
 * quoted string; elsewhere it is an ordinary byte). On success fills
 * *out. On failure returns TSDB_E_SYNTAX, TSDB_E_RANGE or TSDB_E_LIMIT and
 * writes InfluxDB's message to err: "unable to parse '<line>': <reason>"
 * (the line cut to 100 bytes); *out is then unspecified. */
tsdb_err tsdb_line_parse(sb_str line, const tsdb_line_opts *opts, sb_arena *a, tsdb_point *out,
                         sb_errbuf *err);

/* Walks a write body line by line, for partial writes: good lines give
 * points, bad lines give errors with their line number, both in order. */
typedef struct tsdb_line_reader {
    sb_str body;
    size_t pos;
    size_t line_no; /* 1-based number of the line last returned */
    size_t next_no; /* the number of the line at pos */
    tsdb_line_opts opts;
} tsdb_line_reader;

typedef enum tsdb_line_status {
    TSDB_LINE_POINT, /* *out is a point from line r->line_no */
    TSDB_LINE_ERROR, /* line r->line_no is bad: err says why */
    TSDB_LINE_END,
} tsdb_line_status;

void tsdb_line_reader_init(tsdb_line_reader *r, sb_str body, const tsdb_line_opts *opts);
tsdb_line_status tsdb_line_next(tsdb_line_reader *r, sb_arena *a, tsdb_point *out, sb_errbuf *err);

/* Which escaping rules apply to an element. */
typedef enum tsdb_line_elem {
    TSDB_ELEM_MEASUREMENT, /* "," " " and "\" */
    TSDB_ELEM_KEY,         /* tag keys, tag values, field keys: "," "=" " " and "\" */
    TSDB_ELEM_STRING,      /* string field values, without the quotes: '"' and "\" */
} tsdb_line_elem;

/* Appends s escaped for its element. */
void tsdb_line_escape(sb_buf *out, sb_str s, tsdb_line_elem e);

/* Appends p as one line and "\n", timestamp in nanoseconds when has_time.
 * Fails with TSDB_E_UNWRITABLE, appending nothing, for what no line can
 * carry: an empty name or tag value, a "\n" outside a string value, a
 * measurement that starts with "#" or a tab, a key named "time", no fields,
 * a NaN or infinite float, an unknown type. Whatever tsdb_line_next returns
 * can be written, and reads back to the same point. */
tsdb_err tsdb_line_write(sb_buf *out, const tsdb_point *p);

#endif
