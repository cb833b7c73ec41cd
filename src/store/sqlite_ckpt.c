/*
 * sqlite_ckpt.c: WAL checkpoints on a thread of their own, one per
 * database file of this process.
 *
 * SQLite's automatic checkpoint runs inside the commit that pushes the WAL
 * past 1000 pages: that commit copies every page back into the database
 * file and fsyncs both, while the writer gate (and so every other writer
 * of the file) waits. With collaboration's stream of small commits that
 * was the tail of edit latency: the writer's usual cycle of 0.3 ms became
 * 20-70 ms once a second.
 *
 * So every connection's WAL hook (sqlite3_wal_hook, which replaces the
 * automatic checkpoint) only asks this thread, which runs a PASSIVE
 * checkpoint on a connection of its own: it copies what no reader still
 * needs and never takes the write lock, so commits go on meanwhile. Should
 * the thread fall far behind (INLINE_FRAMES), the committing connection
 * checkpoints itself, as SQLite would have: the WAL stays bounded.
 *
 * Both thresholds count the frames not yet copied, not the WAL's length
 * (what the hook is given). A copied WAL starts over only when no reader
 * is still on it, and a long read (a compaction reads a whole document)
 * kept it long: every commit then found it past 1000 frames and asked
 * again, so checkpoints ran back to back, each copying a few new frames
 * and syncing both files (100 fdatasyncs a second at 10,000 edits/s),
 * and past 8000 frames every commit checkpointed inline.
 */
#include "store/sqlite_ckpt.h"

#include <pthread.h>
#include <stdatomic.h>
#include <stdlib.h>
#include <string.h>

#include "base/log.h"

#define ASK_FRAMES    1000 /* SQLite's own automatic checkpoint threshold */
#define INLINE_FRAMES 8000 /* 32 MB of 4 KB pages: the committer helps */

struct sqlite_ckpt {
    pthread_mutex_t mu;
    pthread_cond_t cond;
    pthread_t thread;
    bool started;        /* the thread was created (and is joined at stop) */
    atomic_bool serving; /* it takes requests; false: commits checkpoint */
    bool wanted, stop;   /* mu */
    atomic_bool asked;   /* a request is pending: commits need not signal */
    atomic_int copied;   /* frames copied by the last checkpoint (its pnCkpt) */
    atomic_int seen;     /* the WAL's length at the last commit */
    atomic_uint runs;    /* checkpoints run, by the thread or inline */
    sqlite3 *db;         /* the thread's own; opened at its first checkpoint */
    char path[];
};

static bool open_db(sqlite_ckpt *c)
{
    int flags = SQLITE_OPEN_READWRITE | SQLITE_OPEN_NOMUTEX;
    if (sqlite3_open_v2(c->path, &c->db, flags, NULL) == SQLITE_OK &&
        sqlite3_exec(c->db, "PRAGMA synchronous=NORMAL;", NULL, NULL, NULL) == SQLITE_OK)
        return true;
    sb_log(SB_LOG_WARN,
           "sqlite: the checkpoint thread cannot open the database; commits checkpoint",
           SB_LOG_STR("error", c->db ? sqlite3_errmsg(c->db) : "out of memory"));
    sqlite3_close_v2(c->db);
    c->db = NULL;
    return false;
}

/* A PASSIVE checkpoint of db that notes how far it copied. One that could
 * not run (another checkpoint of the file was running: SQLITE_BUSY, and
 * -1) leaves the last count, which that other one will update. */
static int checkpoint(sqlite_ckpt *c, sqlite3 *db, const char *name)
{
    int copied = -1;
    int rc = sqlite3_wal_checkpoint_v2(db, name, SQLITE_CHECKPOINT_PASSIVE, NULL, &copied);
    atomic_fetch_add(&c->runs, 1);
    if (copied >= 0)
        atomic_store(&c->copied, copied);
    return rc;
}

static void *ckpt_main(void *arg)
{
    sqlite_ckpt *c = arg;
    for (;;) {
        pthread_mutex_lock(&c->mu);
        while (!c->wanted && !c->stop)
            pthread_cond_wait(&c->cond, &c->mu);
        bool stop = c->stop;
        c->wanted = false;
        pthread_mutex_unlock(&c->mu);
        if (stop)
            break;
        /* Cleared first: a commit during this checkpoint asks again. */
        atomic_store(&c->asked, false);
        if (!c->db && !open_db(c)) {
            atomic_store(&c->serving, false);
            break;
        }
        int rc = checkpoint(c, c->db, "main");
        if (rc != SQLITE_OK && rc != SQLITE_BUSY)
            sb_log(SB_LOG_WARN, "sqlite: a WAL checkpoint failed",
                   SB_LOG_STR("error", sqlite3_errmsg(c->db)));
    }
    sqlite3_close_v2(c->db); /* the last connection checkpoints on close */
    c->db = NULL;
    return NULL;
}

sqlite_ckpt *sqlite_ckpt_start(const char *path)
{
    size_t n = strlen(path) + 1;
    sqlite_ckpt *c = sb_calloc(1, sizeof(*c) + n);
    memcpy(c->path, path, n);
    pthread_mutex_init(&c->mu, NULL);
    pthread_cond_init(&c->cond, NULL);
    atomic_init(&c->asked, false);
    atomic_init(&c->copied, 0);
    atomic_init(&c->seen, 0);
    atomic_init(&c->runs, 0);
    c->started = pthread_create(&c->thread, NULL, ckpt_main, c) == 0;
    atomic_init(&c->serving, c->started);
    if (!c->started)
        sb_log(SB_LOG_WARN, "sqlite: no checkpoint thread; commits checkpoint");
    return c;
}

void sqlite_ckpt_stop(sqlite_ckpt *c)
{
    if (!c)
        return;
    if (c->started) {
        pthread_mutex_lock(&c->mu);
        c->stop = true;
        pthread_cond_signal(&c->cond);
        pthread_mutex_unlock(&c->mu);
        pthread_join(c->thread, NULL);
    }
    pthread_cond_destroy(&c->cond);
    pthread_mutex_destroy(&c->mu);
    free(c);
}

int sqlite_ckpt_hook(void *arg, sqlite3 *db, const char *name, int frames)
{
    sqlite_ckpt *c = arg;
    /* Frames not yet copied. Commits are serialised, so a WAL shorter
     * than at the last commit has started over: nothing of it is copied. */
    if (frames < atomic_exchange(&c->seen, frames))
        atomic_store(&c->copied, 0);
    int copied = atomic_load(&c->copied);
    int backlog = frames >= copied ? frames - copied : frames;
    if (backlog < ASK_FRAMES)
        return SQLITE_OK;
    if (backlog >= INLINE_FRAMES || !atomic_load(&c->serving)) {
        checkpoint(c, db, name);
        return SQLITE_OK;
    }
    if (!atomic_exchange(&c->asked, true)) {
        pthread_mutex_lock(&c->mu);
        c->wanted = true;
        pthread_cond_signal(&c->cond);
        pthread_mutex_unlock(&c->mu);
    }
    return SQLITE_OK;
}

unsigned sqlite_ckpt_runs(sqlite_ckpt *c)
{
    return atomic_load(&c->runs);
}
