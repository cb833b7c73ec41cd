/*
 * tsdb_fixture.h: the real storage engine (engine.h) as a tsdb_source for
 * tests, loaded from line protocol, so that the executor's tests run on
 * the storage the server uses. Each source is an engine in a directory of
 * its own (mkdtemp under $TMPDIR or /tmp), removed when it is freed.
 *
 *   # CONTEXT-DATABASE: name    switches the database of the lines below
 *                               (as `influx_inspect export` writes it);
 *                               the default is "db"
 *   # CREATE-DATABASE: name     makes an empty database
 *
 * Points are in nanoseconds; the last write of a timestamp wins (the
 * engine's rule). fixture_source_load leaves the points in the engine's
 * in-memory heads; fixture_source_load_blocks checkpoints them into block
 * files (and their rollups: the engine's 1 min and 1 h), so a test can
 * read either path. fixture_rollups false hides the rollups from the
 * executor (as a source without them); fixture_rollup_rows counts the
 * rollup rows handed out.
 */
#ifndef SB_TESTS_TSDB_FIXTURE_H
#define SB_TESTS_TSDB_FIXTURE_H

#include <ftw.h> /* nftw: _GNU_SOURCE comes from the build */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <time.h>

#include "base/arena.h"
#include "tsdb/engine.h"
#include "tsdb/line.h"
#include "tsdb/source.h"

static bool fixture_rollups = true;
static size_t fixture_rollup_rows; /* rollup rows handed out, for tests */

typedef struct fx_source {
    tsdb_source base; /* forwards to the engine's source */
    tsdb_source *inner;
    tsdb_engine *e;
    char dir[256];
} fx_source;

#define FX_INNER(s) (((fx_source *)(s))->inner)

static int fx_databases(tsdb_source *s, tsdb_name_cb cb, void *arg, sb_errbuf *err)
{
    return FX_INNER(s)->vt->databases(FX_INNER(s), cb, arg, err);
}

static int fx_measurements(tsdb_source *s, sb_str db, tsdb_name_cb cb, void *arg, sb_errbuf *err)
{
    return FX_INNER(s)->vt->measurements(FX_INNER(s), db, cb, arg, err);
}

static int fx_fields(tsdb_source *s, sb_str db, sb_str m, tsdb_field_cb cb, void *arg,
                     sb_errbuf *err)
{
    return FX_INNER(s)->vt->fields(FX_INNER(s), db, m, cb, arg, err);
}

static int fx_series_walk(tsdb_source *s, sb_str db, sb_str m, const tsdb_tag *must, size_t nmust,
                          tsdb_series_cb cb, void *arg, sb_errbuf *err)
{
    return FX_INNER(s)->vt->series(FX_INNER(s), db, m, must, nmust, cb, arg, err);
}

static int fx_scan(tsdb_source *s, sb_str db, uint64_t id, sb_str field, int64_t tmin, int64_t tmax,
                   tsdb_chunk_cb cb, void *arg, sb_errbuf *err)
{
    return FX_INNER(s)->vt->scan(FX_INNER(s), db, id, field, tmin, tmax, cb, arg, err);
}

typedef struct fx_count {
    tsdb_rollup_cb cb;
    void *arg;
} fx_count;

static int fx_count_rows(void *arg, const tsdb_rollup_row *rows, size_t n)
{
    fx_count *c = arg;
    fixture_rollup_rows += n;
    return c->cb(c->arg, rows, n);
}

static int fx_rollup(tsdb_source *s, sb_str db, uint64_t id, sb_str field, int64_t width,
                     int64_t tmin, int64_t tmax, tsdb_rollup_cb cb, void *arg, sb_errbuf *err)
{
    tsdb_source *in = FX_INNER(s);
    if (!fixture_rollups || !in->vt->rollup)
        return 1;
    fx_count c = {cb, arg};
    return in->vt->rollup(in, db, id, field, width, tmin, tmax, fx_count_rows, &c, err);
}

static const tsdb_source_vt fx_vt = {fx_databases,   fx_measurements, fx_fields,
                                     fx_series_walk, fx_scan,         fx_rollup};

static void fx_die(const char *what, const sb_errbuf *err)
{
    fprintf(stderr, "fixture: %s: %s\n", what, err ? err->msg : "");
    abort();
}

/* Writes the points gathered for db, in one engine write. */
static void fx_flush(fx_source *f, const char *db, tsdb_point *pts, size_t *n)
{
    if (!*n)
        return;
    sb_errbuf err = {{0}};
    tsdb_write_report rep = {0};
    if (tsdb_engine_write(f->e, sb_str_c(db), pts, *n, &rep, &err) != TSDB_E_OK)
        fx_die("write", &err);
    *n = 0;
}

static void fx_create_db(fx_source *f, const char *name, size_t len)
{
    sb_errbuf err = {{0}};
    if (tsdb_engine_create_db(f->e, sb_str_make(name, len), &err) != TSDB_E_OK)
        fx_die("create database", &err);
}

static int64_t fx_now(void)
{
    struct timespec ts;
    clock_gettime(CLOCK_REALTIME, &ts);
    return (int64_t)ts.tv_sec * 1000000000LL + ts.tv_nsec;
}

/* An engine holding the points of line_protocol (nanosecond timestamps),
 * in heads, or in block files when blocks; aborts on a bad line. Free
 * with fixture_source_free. */
static inline tsdb_source *fixture_source_load_mode(const char *line_protocol, bool blocks)
{
    fx_source *f = calloc(1, sizeof(*f));
    if (!f)
        abort();
    f->base.vt = &fx_vt;
    const char *tmp = getenv("TMPDIR");
    snprintf(f->dir, sizeof(f->dir), "%s/sb-tsdb-fixture.XXXXXX", tmp && *tmp ? tmp : "/tmp");
    if (!mkdtemp(f->dir))
        fx_die("mkdtemp", NULL);
    char data[300];
    snprintf(data, sizeof(data), "%s/tsdb", f->dir);
    sb_errbuf err = {{0}};
    if (tsdb_engine_open(data, NULL, &f->e, &err) != TSDB_E_OK)
        fx_die("open", &err);
    f->inner = tsdb_engine_source(f->e);
    char db[256] = "db";
    fx_create_db(f, "db", 2);
    /* Points go to the engine in batches (each write is one log sync);
     * their strings live in the scratch arena until then. */
    enum { BATCH = 4096 };
    tsdb_point *pts = malloc(BATCH * sizeof(tsdb_point));
    size_t n = 0;
    sb_arena scratch;
    sb_arena_init(&scratch, 0);
    const char *p = line_protocol;
    while (*p) {
        const char *eol = strchr(p, '\n');
        size_t len = eol ? (size_t)(eol - p) : strlen(p);
        static const char ctx[] = "# CONTEXT-DATABASE: ", mk[] = "# CREATE-DATABASE: ";
        if (len > sizeof(ctx) - 1 && !strncmp(p, ctx, sizeof(ctx) - 1)) {
            fx_flush(f, db, pts, &n);
            sb_arena_reset(&scratch);
            size_t k = len - (sizeof(ctx) - 1);
            snprintf(db, sizeof(db), "%.*s", (int)k, p + sizeof(ctx) - 1);
            fx_create_db(f, db, strlen(db));
        } else if (len > sizeof(mk) - 1 && !strncmp(p, mk, sizeof(mk) - 1)) {
            fx_create_db(f, p + sizeof(mk) - 1, len - (sizeof(mk) - 1));
        } else if (len) {
            tsdb_line_opts o = {TSDB_PREC_NS, 0, TSDB_LINE_LIMITS_DEFAULT};
            if (tsdb_line_parse(sb_str_make(p, len), &o, &scratch, &pts[n], &err) == TSDB_E_OK) {
                if (++n == BATCH) {
                    fx_flush(f, db, pts, &n);
                    sb_arena_reset(&scratch);
                }
            } else if (p[0] != '#') {
                fx_die("line", &err);
            }
        }
        p += len + (eol != NULL);
    }
    fx_flush(f, db, pts, &n);
    sb_arena_deinit(&scratch);
    free(pts);
    if (blocks && tsdb_engine_checkpoint(f->e, fx_now(), &err) != TSDB_E_OK)
        fx_die("checkpoint", &err);
    return &f->base;
}

static inline tsdb_source *fixture_source_load(const char *line_protocol)
{
    return fixture_source_load_mode(line_protocol, false);
}

static inline tsdb_source *fixture_source_load_blocks(const char *line_protocol)
{
    return fixture_source_load_mode(line_protocol, true);
}

static int fx_rm(const char *path, const struct stat *st, int flag, struct FTW *ftw)
{
    (void)st;
    (void)flag;
    (void)ftw;
    return remove(path);
}

static inline void fixture_source_free(tsdb_source *s)
{
    fx_source *f = (fx_source *)s;
    if (!f)
        return;
    tsdb_engine_close(f->e);
    nftw(f->dir, fx_rm, 16, FTW_DEPTH | FTW_PHYS);
    free(f);
}

#endif
