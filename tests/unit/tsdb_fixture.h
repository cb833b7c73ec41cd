/*
 * tsdb_fixture.h: a tsdb_source for tests, loaded from line protocol. For
 * now a small in-memory source of its own (test code only, simple over
 * fast); the tests depend on these two functions and source.h alone, so
 * the fixture can later load the real storage engine instead.
 *
 *   # CONTEXT-DATABASE: name    switches the database of the lines below
 *                               (as `influx_inspect export` writes it);
 *                               the default is "db"
 *   # CREATE-DATABASE: name     makes an empty database
 *
 * Points are in nanoseconds; the last write of a timestamp wins. Scans
 * hand out chunks of at most FIXTURE_CHUNK points so that the executor's
 * chunk boundaries are exercised. Rollups of any width are computed from
 * the points when fixture_rollups is true (the default).
 */
#ifndef SB_TESTS_TSDB_FIXTURE_H
#define SB_TESTS_TSDB_FIXTURE_H

#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "base/arena.h"
#include "tsdb/line.h"
#include "tsdb/source.h"

#define FIXTURE_CHUNK 5

typedef struct fx_field {
    char *name;
    tsdb_type type;
    size_t n, cap;
    int64_t *t;
    tsdb_field *v; /* value per point; strings point into the fixture arena */
} fx_field;

typedef struct fx_series {
    uint64_t id;
    char *db;
    char *key;
    char *measurement;
    tsdb_tag *tags;
    size_t ntags;
    fx_field *fields;
    size_t nfields;
} fx_series;

typedef struct fx_source {
    tsdb_source base;
    sb_arena arena;
    char **dbs;
    size_t ndbs;
    fx_series *series;
    size_t nseries;
} fx_source;

static bool fixture_rollups = true;
static size_t fixture_rollup_rows; /* rollup rows handed out, for tests */

static int fx_strcmp(const char *a, const char *b)
{
    return strcmp(a, b);
}

static int fx_cmp_cstr(const void *x, const void *y)
{
    return fx_strcmp(*(char *const *)x, *(char *const *)y);
}

static bool fx_has_db(fx_source *f, sb_str db)
{
    for (size_t i = 0; i < f->ndbs; i++)
        if (sb_str_eq(sb_str_c(f->dbs[i]), db))
            return true;
    return false;
}

static void fx_add_db(fx_source *f, const char *name, size_t len)
{
    if (fx_has_db(f, sb_str_make(name, len)))
        return;
    f->dbs = realloc(f->dbs, (f->ndbs + 1) * sizeof(char *));
    f->dbs[f->ndbs++] = sb_arena_strndup(&f->arena, name, len);
    qsort(f->dbs, f->ndbs, sizeof(char *), fx_cmp_cstr);
}

static int fx_databases(tsdb_source *s, tsdb_name_cb cb, void *arg, sb_errbuf *err)
{
    fx_source *f = (fx_source *)s;
    for (size_t i = 0; i < f->ndbs; i++) {
        int rc = cb(arg, sb_str_c(f->dbs[i]));
        if (rc)
            return rc;
    }
    return 0;
}

/* Series sorted by (db, key) at load, so walks are in key order. */
static int fx_measurements(tsdb_source *s, sb_str db, tsdb_name_cb cb, void *arg, sb_errbuf *err)
{
    fx_source *f = (fx_source *)s;
    char **names = NULL;
    size_t n = 0;
    for (size_t i = 0; i < f->nseries; i++) {
        if (!sb_str_eq(sb_str_c(f->series[i].db), db))
            continue;
        names = realloc(names, (n + 1) * sizeof(char *));
        names[n++] = f->series[i].measurement;
    }
    if (n)
        qsort(names, n, sizeof(char *), fx_cmp_cstr);
    int rc = 0;
    for (size_t i = 0; i < n && !rc; i++)
        if (i == 0 || strcmp(names[i - 1], names[i]))
            rc = cb(arg, sb_str_c(names[i]));
    free(names);
    return rc;
}

static int fx_fields(tsdb_source *s, sb_str db, sb_str m, tsdb_field_cb cb, void *arg,
                     sb_errbuf *err)
{
    fx_source *f = (fx_source *)s;
    fx_field **all = NULL;
    size_t n = 0;
    for (size_t i = 0; i < f->nseries; i++) {
        fx_series *se = &f->series[i];
        if (!sb_str_eq(sb_str_c(se->db), db) || !sb_str_eq(sb_str_c(se->measurement), m))
            continue;
        for (size_t j = 0; j < se->nfields; j++) {
            bool dup = false;
            for (size_t k = 0; k < n; k++)
                dup |= !strcmp(all[k]->name, se->fields[j].name);
            if (!dup) {
                all = realloc(all, (n + 1) * sizeof(*all));
                all[n++] = &se->fields[j];
            }
        }
    }
    for (size_t i = 1; i < n; i++)
        for (size_t j = i; j > 0 && strcmp(all[j - 1]->name, all[j]->name) > 0; j--) {
            fx_field *t = all[j];
            all[j] = all[j - 1];
            all[j - 1] = t;
        }
    int rc = 0;
    for (size_t i = 0; i < n && !rc; i++)
        rc = cb(arg, sb_str_c(all[i]->name), all[i]->type);
    free(all);
    return rc;
}

static int fx_series_walk(tsdb_source *s, sb_str db, sb_str m, const tsdb_tag *must, size_t nmust,
                          tsdb_series_cb cb, void *arg, sb_errbuf *err)
{
    fx_source *f = (fx_source *)s;
    for (size_t i = 0; i < f->nseries; i++) {
        fx_series *se = &f->series[i];
        if (!sb_str_eq(sb_str_c(se->db), db) || !sb_str_eq(sb_str_c(se->measurement), m))
            continue;
        bool ok = true;
        for (size_t k = 0; k < nmust && ok; k++) {
            bool found = false;
            for (size_t j = 0; j < se->ntags; j++)
                found |= sb_str_eq(se->tags[j].key, must[k].key) &&
                         sb_str_eq(se->tags[j].value, must[k].value);
            ok = found;
        }
        if (!ok)
            continue;
        tsdb_series_info info = {se->id, sb_str_c(se->key), sb_str_c(se->measurement), se->tags,
                                 se->ntags};
        int rc = cb(arg, &info);
        if (rc)
            return rc;
    }
    return 0;
}

static fx_field *fx_find_field(fx_source *f, sb_str db, uint64_t id, sb_str field)
{
    for (size_t i = 0; i < f->nseries; i++) {
        fx_series *se = &f->series[i];
        if (se->id != id || !sb_str_eq(sb_str_c(se->db), db))
            continue;
        for (size_t j = 0; j < se->nfields; j++)
            if (sb_str_eq(sb_str_c(se->fields[j].name), field))
                return &se->fields[j];
    }
    return NULL;
}

static int fx_scan(tsdb_source *s, sb_str db, uint64_t id, sb_str field, int64_t tmin, int64_t tmax,
                   tsdb_chunk_cb cb, void *arg, sb_errbuf *err)
{
    fx_field *fd = fx_find_field((fx_source *)s, db, id, field);
    if (!fd)
        return 0;
    size_t i = 0;
    while (i < fd->n && fd->t[i] < tmin)
        i++;
    while (i < fd->n && fd->t[i] <= tmax) {
        size_t j = i;
        while (j < fd->n && fd->t[j] <= tmax && j - i < FIXTURE_CHUNK)
            j++;
        size_t n = j - i;
        double fv[FIXTURE_CHUNK];
        int64_t iv[FIXTURE_CHUNK];
        uint64_t uv[FIXTURE_CHUNK];
        bool bv[FIXTURE_CHUNK];
        sb_str sv[FIXTURE_CHUNK];
        tsdb_chunk c = {.type = fd->type, .n = n, .times = fd->t + i};
        for (size_t k = 0; k < n; k++) {
            const tsdb_field *v = &fd->v[i + k];
            switch (fd->type) {
            case TSDB_FLOAT:
                fv[k] = v->v.f;
                break;
            case TSDB_INT:
                iv[k] = v->v.i;
                break;
            case TSDB_UINT:
                uv[k] = v->v.u;
                break;
            case TSDB_BOOL:
                bv[k] = v->v.b;
                break;
            case TSDB_STRING:
                sv[k] = v->v.s;
                break;
            }
        }
        switch (fd->type) {
        case TSDB_FLOAT:
            c.v.f = fv;
            break;
        case TSDB_INT:
            c.v.i = iv;
            break;
        case TSDB_UINT:
            c.v.u = uv;
            break;
        case TSDB_BOOL:
            c.v.b = bv;
            break;
        case TSDB_STRING:
            c.v.s = sv;
            break;
        }
        int rc = cb(arg, &c);
        if (rc)
            return rc;
        i = j;
    }
    return 0;
}

static int fx_rollup(tsdb_source *s, sb_str db, uint64_t id, sb_str field, int64_t width,
                     int64_t tmin, int64_t tmax, tsdb_rollup_cb cb, void *arg, sb_errbuf *err)
{
    if (!fixture_rollups)
        return 1;
    fx_field *fd = fx_find_field((fx_source *)s, db, id, field);
    if (!fd)
        return 0;
    if (fd->type == TSDB_STRING || fd->type == TSDB_BOOL)
        return 1;
    size_t i = 0;
    while (i < fd->n && fd->t[i] < tmin)
        i++;
    while (i < fd->n && fd->t[i] <= tmax) {
        int64_t start = fd->t[i] - ((fd->t[i] % width) + width) % width;
        tsdb_rollup_row r = {.start = start};
        for (; i < fd->n && fd->t[i] < start + width && fd->t[i] <= tmax; i++) {
            double v = fd->type == TSDB_FLOAT ? fd->v[i].v.f
                       : fd->type == TSDB_INT ? (double)fd->v[i].v.i
                                              : (double)fd->v[i].v.u;
            if (!r.count || v < r.min)
                r.min = v;
            if (!r.count || v > r.max)
                r.max = v;
            r.sum += v;
            r.count++;
        }
        fixture_rollup_rows++;
        int rc = cb(arg, &r, 1);
        if (rc)
            return rc;
    }
    return 0;
}

static const tsdb_source_vt fx_vt = {fx_databases,   fx_measurements, fx_fields,
                                     fx_series_walk, fx_scan,         fx_rollup};

static int fx_cmp_series(const void *x, const void *y)
{
    const fx_series *a = x, *b = y;
    int r = strcmp(a->db, b->db);
    return r ? r : strcmp(a->key, b->key);
}

static void fx_add_point(fx_source *f, const char *db, const tsdb_point *p)
{
    fx_series *se = NULL;
    if (f->nseries && !strcmp(f->series[f->nseries - 1].db, db) &&
        sb_str_eq(sb_str_c(f->series[f->nseries - 1].key), p->series_key))
        se = &f->series[f->nseries - 1];
    for (size_t i = 0; i < f->nseries && !se; i++)
        if (!strcmp(f->series[i].db, db) && sb_str_eq(sb_str_c(f->series[i].key), p->series_key))
            se = &f->series[i];
    if (!se) {
        f->series = realloc(f->series, (f->nseries + 1) * sizeof(fx_series));
        se = &f->series[f->nseries++];
        memset(se, 0, sizeof(*se));
        se->id = f->nseries * 7 + 3;
        se->db = sb_arena_strndup(&f->arena, db, strlen(db));
        se->key = sb_arena_strndup(&f->arena, p->series_key.ptr, p->series_key.len);
        se->measurement = sb_arena_strndup(&f->arena, p->measurement.ptr, p->measurement.len);
        se->ntags = p->ntags;
        se->tags = sb_arena_alloc(&f->arena, (p->ntags + 1) * sizeof(tsdb_tag));
        for (size_t i = 0; i < p->ntags; i++) {
            se->tags[i].key =
                sb_str_c(sb_arena_strndup(&f->arena, p->tags[i].key.ptr, p->tags[i].key.len));
            se->tags[i].value =
                sb_str_c(sb_arena_strndup(&f->arena, p->tags[i].value.ptr, p->tags[i].value.len));
        }
    }
    for (size_t k = 0; k < p->nfields; k++) {
        const tsdb_field *pf = &p->fields[k];
        fx_field *fd = NULL;
        for (size_t j = 0; j < se->nfields; j++)
            if (sb_str_eq(sb_str_c(se->fields[j].name), pf->key))
                fd = &se->fields[j];
        if (!fd) {
            se->fields = realloc(se->fields, (se->nfields + 1) * sizeof(fx_field));
            fd = &se->fields[se->nfields++];
            memset(fd, 0, sizeof(*fd));
            fd->name = sb_arena_strndup(&f->arena, pf->key.ptr, pf->key.len);
            fd->type = pf->type;
        }
        if (fd->type != pf->type)
            continue; /* the engine refuses conflicting types */
        /* Binary search (appends in time order are the common case). */
        size_t at = fd->n;
        if (fd->n && fd->t[fd->n - 1] >= p->time) {
            size_t lo = 0, hi = fd->n;
            while (lo < hi) {
                size_t mid = (lo + hi) / 2;
                if (fd->t[mid] < p->time)
                    lo = mid + 1;
                else
                    hi = mid;
            }
            at = lo;
        }
        tsdb_field v = *pf;
        if (v.type == TSDB_STRING)
            v.v.s = sb_str_make(sb_arena_strndup(&f->arena, pf->v.s.ptr, pf->v.s.len), pf->v.s.len);
        if (at < fd->n && fd->t[at] == p->time) {
            fd->v[at] = v; /* the last write wins */
            continue;
        }
        if (fd->n == fd->cap) {
            fd->cap = fd->cap ? fd->cap * 2 : 8;
            fd->t = realloc(fd->t, fd->cap * sizeof(int64_t));
            fd->v = realloc(fd->v, fd->cap * sizeof(tsdb_field));
        }
        memmove(fd->t + at + 1, fd->t + at, (fd->n - at) * sizeof(int64_t));
        memmove(fd->v + at + 1, fd->v + at, (fd->n - at) * sizeof(tsdb_field));
        fd->t[at] = p->time;
        fd->v[at] = v;
        fd->n++;
    }
}

/* A source holding the points of line_protocol (nanosecond timestamps);
 * aborts on a bad line. Free with fixture_source_free. */
static inline tsdb_source *fixture_source_load(const char *line_protocol)
{
    fx_source *f = calloc(1, sizeof(*f));
    f->base.vt = &fx_vt;
    sb_arena_init(&f->arena, 1 << 16);
    char db[256] = "db";
    fx_add_db(f, "db", 2);
    sb_arena scratch;
    sb_arena_init(&scratch, 0);
    const char *p = line_protocol;
    while (*p) {
        const char *eol = strchr(p, '\n');
        size_t len = eol ? (size_t)(eol - p) : strlen(p);
        static const char ctx[] = "# CONTEXT-DATABASE: ", mk[] = "# CREATE-DATABASE: ";
        if (len > sizeof(ctx) - 1 && !strncmp(p, ctx, sizeof(ctx) - 1)) {
            size_t n = len - (sizeof(ctx) - 1);
            snprintf(db, sizeof(db), "%.*s", (int)n, p + sizeof(ctx) - 1);
            fx_add_db(f, db, strlen(db));
        } else if (len > sizeof(mk) - 1 && !strncmp(p, mk, sizeof(mk) - 1)) {
            fx_add_db(f, p + sizeof(mk) - 1, len - (sizeof(mk) - 1));
        } else if (len) {
            tsdb_line_opts o = {TSDB_PREC_NS, 0, TSDB_LINE_LIMITS_DEFAULT};
            tsdb_point pt;
            sb_errbuf err;
            if (tsdb_line_parse(sb_str_make(p, len), &o, &scratch, &pt, &err) == TSDB_E_OK)
                fx_add_point(f, db, &pt);
            else if (p[0] != '#') {
                fprintf(stderr, "fixture: %s\n", err.msg);
                abort();
            }
            sb_arena_reset(&scratch);
        }
        p += len + (eol != NULL);
    }
    sb_arena_deinit(&scratch);
    qsort(f->series, f->nseries, sizeof(fx_series), fx_cmp_series);
    return &f->base;
}

static inline void fixture_source_free(tsdb_source *s)
{
    fx_source *f = (fx_source *)s;
    if (!f)
        return;
    for (size_t i = 0; i < f->nseries; i++) {
        for (size_t j = 0; j < f->series[i].nfields; j++) {
            free(f->series[i].fields[j].t);
            free(f->series[i].fields[j].v);
        }
        free(f->series[i].fields);
    }
    free(f->series);
    free(f->dbs);
    sb_arena_deinit(&f->arena);
    free(f);
}

#endif
