/*
 * journal_fold.c: moving journal records into the database: the writer's
 * fold (one transaction per round) and the start-up's replay of what a
 * crash left unfolded.
 */
#include "collab/journal.h"

#include <dirent.h>
#include <errno.h>
#include <fcntl.h>
#include <inttypes.h>
#include <stdio.h>
#include <stdlib.h>
#include <sys/mman.h>
#include <sys/stat.h>
#include <unistd.h>

#include "base/clock.h"
#include "base/log.h"

bool collab_journal_fold(store *db, const collab_append *a, size_t n, const collab_jpos *marks,
                         size_t nmarks, sb_errbuf *err)
{
    int64_t now = sb_wall_us();
    store_err code;
    if (collab_persist_append_marked(db, a, n, marks, nmarks, now, &code, err))
        return true;
    if (code != STORE_CONSTRAINT)
        return false;
    /* One record is refused: its project was deleted since (the rows
     * would have nowhere to go), or an earlier attempt stored it and
     * failed before the mark moved. Either way the record needs no fold. */
    for (size_t i = 0; i < n; i++) {
        sb_errbuf why;
        if (collab_persist_append_marked(db, &a[i], 1, NULL, 0, now, &code, &why))
            continue;
        if (code != STORE_CONSTRAINT)
            return sb_errf(err, "%s", why.msg);
        sb_log(SB_LOG_WARN, "collab: a journal record the log refuses is skipped",
               SB_LOG_STR("doc", a[i].doc), SB_LOG_INT("seq", a[i].first_seq),
               SB_LOG_STR("error", why.msg));
    }
    return collab_persist_append_marked(db, NULL, 0, marks, nmarks, now, &code, err);
}

/* ---- start-up ---- */

#define REPLAY_BATCH 512 /* records per transaction */

typedef struct jfile {
    int64_t loop, gen;
    char name[64];
} jfile;

typedef struct replay {
    store *db;
    const jfile *f;
    collab_append *a;
    sb_str *parts;
    char **names; /* NUL-terminated copies of a[i]'s strings */
    size_t n, nparts, parts_cap;
    size_t folded; /* the file offset the last fold reached */
    size_t records;
    bool failed;
    sb_errbuf err;
} replay;

static void replay_clear(replay *r)
{
    for (size_t i = 0; i < 2 * r->n; i++)
        free(r->names[i]);
    r->n = r->nparts = 0;
}

static bool replay_flush(replay *r, size_t end)
{
    /* a[i].updates point into parts, which may have moved: set them now */
    size_t k = 0;
    for (size_t i = 0; i < r->n; i++) {
        r->a[i].updates = r->parts + k;
        k += r->a[i].n;
    }
    collab_jpos mark = {.loop = r->f->loop, .gen = r->f->gen, .folded = (int64_t)end};
    bool ok = collab_journal_fold(r->db, r->a, r->n, &mark, 1, &r->err);
    replay_clear(r);
    if (!ok)
        return false;
    r->folded = end;
    return true;
}

static bool replay_rec(void *ctx, const collab_jrec *rec)
{
    replay *r = ctx;
    if (r->nparts + rec->n > r->parts_cap) {
        r->parts_cap = (r->nparts + rec->n) * 2;
        r->parts = sb_realloc(r->parts, r->parts_cap * sizeof(*r->parts));
    }
    memcpy(r->parts + r->nparts, rec->updates, rec->n * sizeof(*rec->updates));
    r->nparts += rec->n;
    r->names[2 * r->n] = sb_strndup(rec->project_id.ptr, rec->project_id.len);
    r->names[2 * r->n + 1] = sb_strndup(rec->doc.ptr, rec->doc.len);
    r->a[r->n] = (collab_append){.project_id = r->names[2 * r->n],
                                 .doc = r->names[2 * r->n + 1],
                                 .first_seq = rec->first_seq,
                                 .n = rec->n};
    r->n++;
    r->records++;
    if (r->n == REPLAY_BATCH && !replay_flush(r, rec->end)) {
        r->failed = true;
        return false;
    }
    return true;
}

static bool read_file(const char *path, uint8_t **p, size_t *n, sb_errbuf *err)
{
    int fd = open(path, O_RDONLY | O_CLOEXEC);
    struct stat st;
    if (fd < 0 || fstat(fd, &st) != 0) {
        int e = errno;
        if (fd >= 0)
            close(fd);
        return sb_errf(err, "cannot read %s: %s", path, strerror(e));
    }
    *n = (size_t)st.st_size;
    *p = NULL;
    if (*n > 0) {
        void *m = mmap(NULL, *n, PROT_READ, MAP_PRIVATE, fd, 0);
        if (m == MAP_FAILED) {
            int e = errno;
            close(fd);
            return sb_errf(err, "cannot map %s: %s", path, strerror(e));
        }
        *p = m;
    }
    close(fd);
    return true;
}

/* Folds f's records past from; true once all that is whole is stored. */
static bool replay_file(store *db, const char *dir, const jfile *f, int64_t from, sb_errbuf *err)
{
    char path[4096];
    snprintf(path, sizeof(path), "%s/%s", dir, f->name);
    uint8_t *p = NULL;
    size_t n = 0;
    if (!read_file(path, &p, &n, err))
        return false;
    replay r = {.db = db, .f = f, .folded = (size_t)from};
    r.a = sb_calloc(REPLAY_BATCH, sizeof(*r.a));
    r.names = sb_calloc(2 * REPLAY_BATCH, sizeof(*r.names));
    size_t good = 0;
    collab_jscan res = (size_t)from <= n
                           ? collab_journal_scan(p, n, (size_t)from, replay_rec, &r, &good)
                           : COLLAB_JSCAN_CORRUPT;
    bool ok;
    if (r.failed)
        ok = sb_errf(err, "folding %s: %s", path, r.err.msg);
    else if (res == COLLAB_JSCAN_CORRUPT)
        ok = sb_errf(err,
                     "%s is corrupt at byte %zu (not a torn tail: bytes follow); move it aside "
                     "to start without the updates it holds past there",
                     path, good);
    else if (r.n > 0 && !replay_flush(&r, good))
        ok = sb_errf(err, "folding %s: %s", path, r.err.msg);
    else
        ok = true;
    if (ok) {
        if (r.records > 0)
            sb_log(SB_LOG_INFO, "collab: journal records folded at start-up",
                   SB_LOG_STR("file", f->name), SB_LOG_INT("records", (int64_t)r.records));
        if (res == COLLAB_JSCAN_TORN)
            sb_log(SB_LOG_WARN, "collab: a torn journal tail was cut off",
                   SB_LOG_STR("file", f->name), SB_LOG_INT("bytes", (int64_t)(n - good)));
    }
    replay_clear(&r);
    free(r.a);
    free(r.names);
    free(r.parts);
    if (p)
        munmap(p, n);
    return ok;
}

static int by_loop_gen(const void *x, const void *y)
{
    const jfile *a = x, *b = y;
    if (a->loop != b->loop)
        return a->loop < b->loop ? -1 : 1;
    return a->gen < b->gen ? -1 : a->gen > b->gen;
}

/* The journal files in dir, sorted; NULL with err on failure. */
static jfile *list_files(const char *dir, size_t *n, sb_errbuf *err)
{
    if (mkdir(dir, 0700) != 0 && errno != EEXIST) {
        sb_errf(err, "cannot create %s: %s", dir, strerror(errno));
        return NULL;
    }
    DIR *d = opendir(dir);
    if (!d) {
        sb_errf(err, "cannot open %s: %s", dir, strerror(errno));
        return NULL;
    }
    jfile *v = sb_calloc(1, sizeof(*v));
    size_t cap = 1;
    *n = 0;
    struct dirent *e;
    while ((e = readdir(d)) != NULL) {
        int64_t loop, gen;
        int used = 0;
        if (sscanf(e->d_name, "loop-%" SCNd64 "-%" SCNd64 ".log%n", &loop, &gen, &used) != 2 ||
            e->d_name[used] != '\0' || used >= (int)sizeof(v->name) || loop < 0 || gen <= 0)
            continue;
        if (*n == cap) {
            cap *= 2;
            v = sb_realloc(v, cap * sizeof(*v));
        }
        v[*n] = (jfile){.loop = loop, .gen = gen};
        memcpy(v[*n].name, e->d_name, (size_t)used + 1);
        (*n)++;
    }
    closedir(d);
    qsort(v, *n, sizeof(*v), by_loop_gen);
    return v;
}

bool collab_journal_recover(store *db, const char *dir, int64_t *next_gen, sb_errbuf *err)
{
    size_t nf = 0, nm = 0;
    jfile *files = list_files(dir, &nf, err);
    if (!files)
        return false;
    collab_jpos *marks = NULL;
    if (!collab_persist_marks(db, &marks, &nm, err)) {
        free(files);
        return false;
    }
    int64_t top = 0;
    for (size_t i = 0; i < nm; i++)
        top = SB_MAX(top, marks[i].gen);
    bool ok = true;
    for (size_t i = 0; ok && i < nf; i++) {
        const jfile *f = &files[i];
        top = SB_MAX(top, f->gen);
        const collab_jpos *m = NULL;
        for (size_t k = 0; k < nm; k++)
            if (marks[k].loop == f->loop)
                m = &marks[k];
        /* below the mark's generation: folded whole (the writer folds a
         * loop's records in order, and this file's came first) */
        if (!m || m->gen <= f->gen)
            ok = replay_file(db, dir, f, m && m->gen == f->gen ? m->folded : 0, err);
        if (ok) {
            char path[4096];
            snprintf(path, sizeof(path), "%s/%s", dir, f->name);
            if (unlink(path) != 0)
                ok = sb_errf(err, "cannot remove %s: %s", path, strerror(errno));
        }
    }
    free(marks);
    free(files);
    *next_gen = top + 1;
    return ok;
}
