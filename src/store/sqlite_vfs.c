/*
 * sqlite_vfs.c: SQLite's "unix" VFS with one change: a WAL frame goes to
 * the file in one write, not two.
 *
 * SQLite writes each frame of its WAL as two pwrite calls, the frame's
 * 24-byte header and then its page (the WAL format: a frame is a 24-byte
 * header and a page). The collaboration writer commits a few thousand
 * times a second, five or so frames each, and on the virtual machines we
 * measure on a system call is dear: at 15,000 edits/s, pwrite was a third
 * of that thread's time (bench/RESULTS.md).
 *
 * So a 24-byte write to a WAL file is held, and the write that follows it
 * at the very next byte takes it along, as one write. Every other call on
 * the file (a write elsewhere, a read, a sync, a truncate, a size, a lock,
 * the close) first writes what is held. A header is therefore held only
 * between SQLite's two writes of its frame: nothing SQLite reads, syncs
 * or sizes ever differs from what it wrote, and no frame waits past the
 * commit that wrote it. Other files are the unix VFS's own, unwrapped.
 *
 * Registered as the default VFS, once, before any connection opens.
 */
#include "store/sqlite_vfs.h"

#include <string.h>

#define FRAME_HEADER 24 /* a WAL frame's header, in the WAL format */

typedef struct wal_file {
    sqlite3_file base;
    sqlite3_file *real;    /* the unix VFS's file, after this struct */
    sqlite3_int64 held_at; /* the held header's offset */
    int held;              /* bytes held: 0 or FRAME_HEADER */
    unsigned char hdr[FRAME_HEADER];
    unsigned char *buf; /* header and page, as one write */
    int cap;
} wal_file;

#define REAL_AT ((sizeof(wal_file) + 7) & ~(size_t)7)

static sqlite3_vfs *unix_vfs;
static sqlite3_vfs vfs;

static int flush(wal_file *w)
{
    if (!w->held)
        return SQLITE_OK;
    w->held = 0;
    return w->real->pMethods->xWrite(w->real, w->hdr, FRAME_HEADER, w->held_at);
}

static int wal_write(sqlite3_file *f, const void *p, int n, sqlite3_int64 at)
{
    wal_file *w = (wal_file *)f;
    if (w->held && at == w->held_at + FRAME_HEADER) {
        if (w->cap < FRAME_HEADER + n) {
            unsigned char *b = sqlite3_realloc(w->buf, FRAME_HEADER + n);
            if (!b)
                return SQLITE_IOERR_NOMEM;
            w->buf = b;
            w->cap = FRAME_HEADER + n;
        }
        memcpy(w->buf, w->hdr, FRAME_HEADER);
        memcpy(w->buf + FRAME_HEADER, p, (size_t)n);
        w->held = 0;
        return w->real->pMethods->xWrite(w->real, w->buf, FRAME_HEADER + n, w->held_at);
    }
    int rc = flush(w);
    if (rc != SQLITE_OK)
        return rc;
    if (n == FRAME_HEADER) {
        memcpy(w->hdr, p, FRAME_HEADER);
        w->held_at = at;
        w->held = FRAME_HEADER;
        return SQLITE_OK;
    }
    return w->real->pMethods->xWrite(w->real, p, n, at);
}

static int wal_close(sqlite3_file *f)
{
    wal_file *w = (wal_file *)f;
    int rc = flush(w);
    int rc2 = w->real->pMethods->xClose(w->real);
    sqlite3_free(w->buf);
    w->buf = NULL;
    return rc != SQLITE_OK ? rc : rc2;
}

/* The rest write what is held, then do as the unix file does. */
#define REAL(f) (((wal_file *)(f))->real)
#define FLUSHED(f)                                                                                 \
    do {                                                                                           \
        int rc_ = flush((wal_file *)(f));                                                          \
        if (rc_ != SQLITE_OK)                                                                      \
            return rc_;                                                                            \
    } while (0)

static int wal_read(sqlite3_file *f, void *p, int n, sqlite3_int64 at)
{
    FLUSHED(f);
    return REAL(f)->pMethods->xRead(REAL(f), p, n, at);
}

static int wal_truncate(sqlite3_file *f, sqlite3_int64 size)
{
    FLUSHED(f);
    return REAL(f)->pMethods->xTruncate(REAL(f), size);
}

static int wal_sync(sqlite3_file *f, int flags)
{
    FLUSHED(f);
    return REAL(f)->pMethods->xSync(REAL(f), flags);
}

static int wal_file_size(sqlite3_file *f, sqlite3_int64 *size)
{
    FLUSHED(f);
    return REAL(f)->pMethods->xFileSize(REAL(f), size);
}

static int wal_lock(sqlite3_file *f, int level)
{
    FLUSHED(f);
    return REAL(f)->pMethods->xLock(REAL(f), level);
}

static int wal_unlock(sqlite3_file *f, int level)
{
    FLUSHED(f);
    return REAL(f)->pMethods->xUnlock(REAL(f), level);
}

static int wal_check_reserved(sqlite3_file *f, int *out)
{
    FLUSHED(f);
    return REAL(f)->pMethods->xCheckReservedLock(REAL(f), out);
}

static int wal_file_control(sqlite3_file *f, int op, void *arg)
{
    FLUSHED(f);
    return REAL(f)->pMethods->xFileControl(REAL(f), op, arg);
}

static int wal_sector_size(sqlite3_file *f)
{
    return REAL(f)->pMethods->xSectorSize(REAL(f));
}

static int wal_device(sqlite3_file *f)
{
    return REAL(f)->pMethods->xDeviceCharacteristics(REAL(f));
}

/* Shared memory and mapping belong to the database file, never a WAL;
 * forwarded all the same, for a unix file that has them. */
static int wal_shm_map(sqlite3_file *f, int pg, int sz, int extend, void volatile **pp)
{
    FLUSHED(f);
    const sqlite3_io_methods *m = REAL(f)->pMethods;
    return m->iVersion >= 2 ? m->xShmMap(REAL(f), pg, sz, extend, pp) : SQLITE_IOERR_SHMMAP;
}

static int wal_shm_lock(sqlite3_file *f, int off, int n, int flags)
{
    FLUSHED(f);
    const sqlite3_io_methods *m = REAL(f)->pMethods;
    return m->iVersion >= 2 ? m->xShmLock(REAL(f), off, n, flags) : SQLITE_IOERR_SHMLOCK;
}

static void wal_shm_barrier(sqlite3_file *f)
{
    (void)flush((wal_file *)f); /* no way to report it: the next call will */
    const sqlite3_io_methods *m = REAL(f)->pMethods;
    if (m->iVersion >= 2)
        m->xShmBarrier(REAL(f));
}

static int wal_shm_unmap(sqlite3_file *f, int del)
{
    FLUSHED(f);
    const sqlite3_io_methods *m = REAL(f)->pMethods;
    return m->iVersion >= 2 ? m->xShmUnmap(REAL(f), del) : SQLITE_OK;
}

static int wal_fetch(sqlite3_file *f, sqlite3_int64 at, int n, void **pp)
{
    FLUSHED(f);
    const sqlite3_io_methods *m = REAL(f)->pMethods;
    if (m->iVersion >= 3)
        return m->xFetch(REAL(f), at, n, pp);
    *pp = NULL;
    return SQLITE_OK;
}

static int wal_unfetch(sqlite3_file *f, sqlite3_int64 at, void *p)
{
    const sqlite3_io_methods *m = REAL(f)->pMethods;
    return m->iVersion >= 3 ? m->xUnfetch(REAL(f), at, p) : SQLITE_OK;
}

static const sqlite3_io_methods wal_methods = {
    .iVersion = 3,
    .xClose = wal_close,
    .xRead = wal_read,
    .xWrite = wal_write,
    .xTruncate = wal_truncate,
    .xSync = wal_sync,
    .xFileSize = wal_file_size,
    .xLock = wal_lock,
    .xUnlock = wal_unlock,
    .xCheckReservedLock = wal_check_reserved,
    .xFileControl = wal_file_control,
    .xSectorSize = wal_sector_size,
    .xDeviceCharacteristics = wal_device,
    .xShmMap = wal_shm_map,
    .xShmLock = wal_shm_lock,
    .xShmBarrier = wal_shm_barrier,
    .xShmUnmap = wal_shm_unmap,
    .xFetch = wal_fetch,
    .xUnfetch = wal_unfetch,
};

static int vfs_open(sqlite3_vfs *v, const char *name, sqlite3_file *f, int flags, int *out_flags)
{
    (void)v;
    if (!(flags & SQLITE_OPEN_WAL)) /* the unix file itself, in f */
        return unix_vfs->xOpen(unix_vfs, name, f, flags, out_flags);
    wal_file *w = (wal_file *)f;
    memset(w, 0, sizeof(*w));
    w->real = (sqlite3_file *)((char *)f + REAL_AT);
    int rc = unix_vfs->xOpen(unix_vfs, name, w->real, flags, out_flags);
    /* Failed: SQLite closes nothing whose pMethods is NULL. */
    w->base.pMethods = rc == SQLITE_OK ? &wal_methods : NULL;
    return rc;
}

int sqlite_vfs_register(void)
{
    unix_vfs = sqlite3_vfs_find("unix");
    if (!unix_vfs)
        return SQLITE_ERROR;
    vfs = *unix_vfs; /* its path, time and randomness calls, its pAppData */
    vfs.pNext = NULL;
    vfs.zName = "sitebase";
    vfs.szOsFile = (int)REAL_AT + unix_vfs->szOsFile;
    vfs.xOpen = vfs_open;
    return sqlite3_vfs_register(&vfs, 1);
}
