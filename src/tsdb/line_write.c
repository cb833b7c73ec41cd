/*
 * line_write.c: points back into line protocol, escaped so that the parser
 * (line.c) reads exactly the same point: the writer escapes every byte the
 * parser treats specially in that element, backslashes included, and
 * refuses what no line can carry (see tsdb_line_write in line.h).
 */
#include <inttypes.h>
#include <math.h>
#include <stdio.h>
#include <stdlib.h>

#include "tsdb/line.h"

static const char *specials(tsdb_line_elem e)
{
    switch (e) {
    case TSDB_ELEM_MEASUREMENT:
        return ", \\";
    case TSDB_ELEM_KEY:
        return ",= \\";
    case TSDB_ELEM_STRING:
        return "\"\\";
    }
    return "\\";
}

void tsdb_line_escape(sb_buf *out, sb_str s, tsdb_line_elem e)
{
    const char *sp = specials(e);
    size_t from = 0;
    for (size_t i = 0; i < s.len; i++) {
        if (s.ptr[i] != '\0' && strchr(sp, s.ptr[i])) {
            sb_buf_append(out, s.ptr + from, i - from);
            sb_buf_putc(out, '\\');
            from = i;
        }
    }
    sb_buf_append(out, s.ptr + from, s.len - from);
}

/* The shortest of %.15g, %.16g, %.17g that reads back to the same bits;
 * %.17g always does (IEEE 754 double: 17 significant digits suffice). */
static void put_float(sb_buf *out, double d)
{
    char buf[40];
    for (int prec = 15; prec <= 17; prec++) {
        snprintf(buf, sizeof(buf), "%.*g", prec, d);
        double back = strtod(buf, NULL);
        if (memcmp(&back, &d, sizeof(d)) == 0)
            break;
    }
    sb_buf_puts(out, buf);
}

static bool has_newline(sb_str s)
{
    return s.len && memchr(s.ptr, '\n', s.len) != NULL;
}

static bool name_ok(sb_str s)
{
    return s.len > 0 && !has_newline(s) && !sb_str_eq(s, SB_STR("time"));
}

static bool writable(const tsdb_point *p)
{
    sb_str m = p->measurement;
    if (m.len == 0 || has_newline(m) || m.ptr[0] == '#' || m.ptr[0] == '\t' || p->nfields == 0)
        return false;
    for (size_t i = 0; i < p->ntags; i++)
        if (!name_ok(p->tags[i].key) || p->tags[i].value.len == 0 || has_newline(p->tags[i].value))
            return false;
    for (size_t i = 0; i < p->nfields; i++) {
        const tsdb_field *f = &p->fields[i];
        if (!name_ok(f->key))
            return false;
        if (f->type == TSDB_FLOAT && !isfinite(f->v.f))
            return false;
        if (f->type < TSDB_FLOAT || f->type > TSDB_STRING)
            return false;
    }
    return true;
}

tsdb_err tsdb_line_write(sb_buf *out, const tsdb_point *p)
{
    if (!writable(p))
        return TSDB_E_UNWRITABLE;
    tsdb_line_escape(out, p->measurement, TSDB_ELEM_MEASUREMENT);
    for (size_t i = 0; i < p->ntags; i++) {
        sb_buf_putc(out, ',');
        tsdb_line_escape(out, p->tags[i].key, TSDB_ELEM_KEY);
        sb_buf_putc(out, '=');
        tsdb_line_escape(out, p->tags[i].value, TSDB_ELEM_KEY);
    }
    for (size_t i = 0; i < p->nfields; i++) {
        const tsdb_field *f = &p->fields[i];
        sb_buf_putc(out, i ? ',' : ' ');
        tsdb_line_escape(out, f->key, TSDB_ELEM_KEY);
        sb_buf_putc(out, '=');
        switch (f->type) {
        case TSDB_FLOAT:
            put_float(out, f->v.f);
            break;
        case TSDB_INT:
            sb_buf_appendf(out, "%" PRId64 "i", f->v.i);
            break;
        case TSDB_UINT:
            sb_buf_appendf(out, "%" PRIu64 "u", f->v.u);
            break;
        case TSDB_BOOL:
            sb_buf_puts(out, f->v.b ? "true" : "false");
            break;
        case TSDB_STRING:
            sb_buf_putc(out, '"');
            tsdb_line_escape(out, f->v.s, TSDB_ELEM_STRING);
            sb_buf_putc(out, '"');
            break;
        }
    }
    if (p->has_time)
        sb_buf_appendf(out, " %" PRId64, p->time);
    sb_buf_putc(out, '\n');
    return TSDB_E_OK;
}
