/*
 * journal.c: the collaboration journal's format and its files (journal.h
 * says what it is for). One file per loop, so appends take no lock: the
 * loop's thread is the only writer of its file.
 */
#include "collab/journal.h"

#include <errno.h>
#include <fcntl.h>
#include <inttypes.h>
#include <stdio.h>
#include <stdlib.h>
#include <sys/stat.h>
#include <sys/uio.h>
#include <unistd.h>

#include "base/crc32c.h"
#include "base/log.h"

#define JREC_UPDATES 1
#define HDR          8                   /* length and CRC */
#define ROTATE_BYTES ((int64_t)64 << 20) /* a new generation past this */
#define FIXED        (1 + 8 + 2 + 4)     /* kind, seq, key length, count */

static void put32(uint8_t *p, uint32_t v)
{
    for (int i = 0; i < 4; i++)
        p[i] = (uint8_t)(v >> (8 * i));
}

static uint32_t get32(const uint8_t *p)
{
    return (uint32_t)p[0] | (uint32_t)p[1] << 8 | (uint32_t)p[2] << 16 | (uint32_t)p[3] << 24;
}

static void put64(uint8_t *p, uint64_t v)
{
    for (int i = 0; i < 8; i++)
        p[i] = (uint8_t)(v >> (8 * i));
}

static uint64_t get64(const uint8_t *p)
{
    return (uint64_t)get32(p) | (uint64_t)get32(p + 4) << 32;
}

void collab_journal_encode(sb_buf *out, const char *key, int64_t first_seq, const sb_str *updates,
                           size_t n)
{
    size_t klen = strlen(key), start = out->len;
    size_t len = FIXED + klen;
    for (size_t i = 0; i < n; i++)
        len += 4 + updates[i].len;
    sb_buf_reserve(out, HDR + len);
    uint8_t *p = (uint8_t *)out->ptr + start;
    uint8_t *body = p + HDR;
    uint8_t *q = body;
    *q++ = JREC_UPDATES;
    put64(q, (uint64_t)first_seq);
    q += 8;
    *q++ = (uint8_t)klen;
    *q++ = (uint8_t)(klen >> 8);
    memcpy(q, key, klen);
    q += klen;
    put32(q, (uint32_t)n);
    q += 4;
    for (size_t i = 0; i < n; i++) {
        put32(q, (uint32_t)updates[i].len);
        memcpy(q + 4, updates[i].ptr, updates[i].len);
        q += 4 + updates[i].len;
    }
    put32(p, (uint32_t)len);
    put32(p + 4, sb_crc32c(0, body, len));
    out->len = start + HDR + len;
    out->ptr[out->len] = '\0';
}

/* Decodes a payload whose CRC matched; false: it is not a record of ours. */
static bool decode(const uint8_t *p, size_t len, collab_jrec *rec, sb_str **upd, size_t *cap)
{
    if (len < FIXED || p[0] != JREC_UPDATES)
        return false;
    rec->first_seq = (int64_t)get64(p + 1);
    size_t klen = (size_t)p[9] | (size_t)p[10] << 8;
    if (rec->first_seq <= 0 || klen > len - FIXED)
        return false;
    const char *key = (const char *)p + 11;
    const char *slash = memchr(key, '/', klen);
    if (!slash || slash == key || slash == key + klen - 1)
        return false;
    rec->project_id = sb_str_make(key, (size_t)(slash - key));
    rec->doc = sb_str_make(slash + 1, klen - (size_t)(slash - key) - 1);
    size_t off = 11 + klen;
    rec->n = get32(p + off);
    off += 4;
    /* each update takes at least its length: a count past that is a lie */
    if (rec->n == 0 || rec->n > (len - off) / 4)
        return false;
    if (rec->n > *cap) {
        *cap = rec->n;
        *upd = sb_realloc(*upd, *cap * sizeof(**upd));
    }
    for (uint32_t i = 0; i < rec->n; i++) {
        if (len - off < 4)
            return false;
        size_t ulen = get32(p + off);
        off += 4;
        if (ulen == 0 || ulen > len - off)
            return false;
        (*upd)[i] = sb_str_make((const char *)p + off, ulen);
        off += ulen;
    }
    rec->updates = *upd;
    return off == len;
}

static bool zeros(const uint8_t *p, size_t n)
{
    for (size_t i = 0; i < n; i++)
        if (p[i])
            return false;
    return true;
}

collab_jscan collab_journal_scan(const uint8_t *p, size_t n, size_t from,
                                 bool (*fn)(void *ctx, const collab_jrec *rec), void *ctx,
                                 size_t *good)
{
    sb_str *upd = NULL;
    size_t cap = 0, off = from;
    collab_jscan res = COLLAB_JSCAN_OK;
    *good = from;
    while (off < n) {
        if (n - off < HDR) {
            res = COLLAB_JSCAN_TORN;
            break;
        }
        uint32_t len = get32(p + off);
        collab_jrec rec = {.start = off};
        if (len > COLLAB_JREC_MAX || len > n - off - HDR) {
            /* passes the end: torn, unless it is a bad length in the middle */
            res = len > COLLAB_JREC_MAX && !zeros(p + off, n - off) ? COLLAB_JSCAN_CORRUPT
                                                                    : COLLAB_JSCAN_TORN;
            break;
        }
        const uint8_t *body = p + off + HDR;
        if (sb_crc32c(0, body, len) != get32(p + off + 4) || !decode(body, len, &rec, &upd, &cap)) {
            res = zeros(p + off, n - off) ? COLLAB_JSCAN_TORN : COLLAB_JSCAN_CORRUPT;
            break;
        }
        off += HDR + len;
        rec.end = off;
        *good = off;
        if (!fn(ctx, &rec))
            break;
    }
    free(upd);
    return res;
}

/* ---- one loop's file ---- */

static void file_name(char *buf, size_t cap, const char *dir, int64_t loop, int64_t gen)
{
    snprintf(buf, cap, "%s/loop-%" PRId64 "-%" PRId64 ".log", dir, loop, gen);
}

collab_journal *collab_journal_new(const char *dir, int64_t loop, atomic_int_fast64_t *next_gen)
{
    collab_journal *j = sb_calloc(1, sizeof(*j));
    j->dir = sb_strdup(dir);
    j->loop = loop;
    j->next_gen = next_gen;
    j->fd = -1;
    j->rec = SB_BUF_INIT;
    atomic_init(&j->folded, 0);
    atomic_init(&j->written, 0);
    atomic_init(&j->unfolded_bytes, 0);
    return j;
}

void collab_journal_free(collab_journal *j)
{
    if (!j)
        return;
    if (j->fd >= 0) {
        close(j->fd);
        if (atomic_load(&j->folded) == atomic_load(&j->written)) {
            char path[4096];
            file_name(path, sizeof(path), j->dir, j->loop, j->gen);
            unlink(path);
        }
    }
    sb_buf_free(&j->rec);
    free(j->dir);
    free(j);
}

static bool open_next(collab_journal *j, sb_errbuf *err)
{
    int64_t gen = atomic_fetch_add(j->next_gen, 1);
    char path[4096];
    file_name(path, sizeof(path), j->dir, j->loop, gen);
    int fd = open(path, O_WRONLY | O_CREAT | O_EXCL | O_APPEND | O_CLOEXEC, 0600);
    if (fd < 0)
        return sb_errf(err, "cannot create %s: %s", path, strerror(errno));
    if (j->fd >= 0)
        close(j->fd); /* the writer removes it once the fold passed it */
    j->fd = fd;
    j->gen = gen;
    j->off = 0;
    return true;
}

size_t collab_journal_add(collab_journal *j, const char *key, int64_t first_seq,
                          const sb_str *updates, size_t n)
{
    collab_journal_encode(&j->rec, key, first_seq, updates, n);
    return j->rec.len;
}

bool collab_journal_write(collab_journal *j, size_t nrecs, int64_t *gen, int64_t *start,
                          sb_errbuf *err)
{
    bool ok = (j->fd >= 0 && j->off < ROTATE_BYTES) || open_next(j, err);
    size_t done = 0;
    while (ok && done < j->rec.len) {
        ssize_t w = write(j->fd, j->rec.ptr + done, j->rec.len - done);
        if (w < 0 && errno == EINTR)
            continue;
        if (w <= 0) {
            int e = w < 0 ? errno : ENOSPC;
            /* Take back what went in, so no torn record sits before later
             * ones; if even that fails, start a new file: the torn record
             * is then this file's tail. */
            if (done > 0 && ftruncate(j->fd, j->off) != 0) {
                close(j->fd);
                j->fd = -1;
            }
            ok = sb_errf(err, "cannot append to the collaboration journal: %s", strerror(e));
            break;
        }
        done += (size_t)w;
    }
    j->rec.len = 0;
    if (!ok)
        return false;
    *gen = j->gen;
    *start = j->off;
    j->off += (int64_t)done;
    atomic_fetch_add(&j->written, nrecs);
    return true;
}

void collab_journal_retire(collab_journal *j, int64_t gen)
{
    /* Generations are handed out across loops, so a loop's are not
     * consecutive: look for the files, which are few (one per 64 MB). */
    if (j->mark_gen == 0 || gen <= j->mark_gen) {
        if (gen > j->mark_gen)
            j->mark_gen = gen;
        return;
    }
    for (int64_t g = j->mark_gen; g < gen; g++) {
        char path[4096];
        file_name(path, sizeof(path), j->dir, j->loop, g);
        unlink(path);
    }
    j->mark_gen = gen;
}
