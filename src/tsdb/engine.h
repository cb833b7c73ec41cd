/*
 * engine.h: the storage engine of the time-series database (issue 8): a
 * data directory of databases, each a set of series (measurement + sorted
 * tag set) with an inverted index of tag pairs; writes go to a write-ahead
 * log (fdatasync'd before a write returns) and to in-memory heads; a
 * housekeeping thread calls tsdb_engine_maintain, which cuts heads into
 * immutable block files per time window, compacts them, truncates the log,
 * applies retention and repairs rollups. docs/tsdb.md ("Engine") has the
 * files on disk, the record formats and the locking.
 *
 * Threads: every function may be called from several threads at once,
 * except that tsdb_engine_close must be the last call. The engine has no
 * threads of its own. Reads (through tsdb_engine_source) run alongside
 * writes; what a read sees of a racing write is all of some of its points.
 *
 * Durability: when tsdb_engine_write returns TSDB_E_OK, the points it
 * reports written are in the log on stable storage. Database creation,
 * drops and retention changes are durable when they return.
 */
#ifndef SB_TSDB_ENGINE_H
#define SB_TSDB_ENGINE_H

#include "base/str.h"
#include "tsdb/line.h"
#include "tsdb/source.h"

#define TSDB_MAX_ROLLUPS 4

typedef struct tsdb_engine tsdb_engine;

typedef struct tsdb_engine_opts {
    /* Width of a block file's time window; retention drops whole windows.
     * 0: 24 h. */
    int64_t window_ns;
    /* Flush heads when they hold this many points (0: 2 M), when the log
     * holds this many bytes (0: 256 MiB), or when the oldest unflushed
     * write is this old by maintain's clock (0: 10 min). */
    size_t flush_points;
    size_t flush_wal_bytes;
    int64_t flush_age_ns;
    /* Compact a window when it has this many files (0: 4); a window that
     * has ended (by maintain's clock) is compacted from 2 files. */
    unsigned compact_files;
    /* Rollup widths in ns, ascending (nrollups 0: 1 min and 1 h). */
    int64_t rollups[TSDB_MAX_ROLLUPS];
    unsigned nrollups;
    /* The clock that write uses for retention (ns since the epoch); NULL:
     * the wall clock. For tests. */
    int64_t (*clock)(void *arg);
    void *clock_arg;
} tsdb_engine_opts;

/* What one write did. first_error is InfluxDB's message for the first
 * refused point ("field type conflict: input field \"x\" on measurement
 * \"m\" is type integer, already exists as type float"), or empty. */
typedef struct tsdb_write_report {
    size_t written;
    size_t dropped_conflict;  /* field type conflicts */
    size_t dropped_retention; /* older than the database's retention */
    char first_error[256];
} tsdb_write_report;

typedef struct tsdb_engine_stats {
    size_t databases;
    size_t series;
    uint64_t head_points;  /* in memory, duplicates included */
    uint64_t block_points; /* in block files, as stored */
    uint64_t block_bytes;  /* bytes of block files */
    uint64_t block_files;
    uint64_t wal_bytes; /* bytes of log segments not yet checkpointed */
} tsdb_engine_stats;

/* Opens or creates the data directory dir (its parent must exist): reads
 * the catalog, loads the index of every block file, replays the log. A log
 * segment that ends in a torn record (a crash mid-append) is truncated
 * there; a bad record followed by good ones is TSDB_E_CORRUPT. Another
 * process holding dir open gives TSDB_E_IO. opts may be NULL. On success
 * *out is the engine, which the caller closes. */
tsdb_err tsdb_engine_open(const char *dir, const tsdb_engine_opts *opts, tsdb_engine **out,
                          sb_errbuf *err);

/* Releases memory and descriptors. Does not flush: the log has everything
 * (call tsdb_engine_checkpoint first for a clean directory). NULL is a
 * no-op. */
void tsdb_engine_close(tsdb_engine *e);

/* The read interface over this engine (source.h), valid until close. */
tsdb_source *tsdb_engine_source(tsdb_engine *e);

/* A view of the engine for one query on a thread that must not wait (an
 * event loop): its walks take a lock only if it is free at once, read
 * block files only from the page cache (preadv2 RWF_NOWAIT), and read at
 * most budget items in all (the points of the blocks and heads a scan
 * reads, rollup rows, names listed, and TSDB_NOWAIT_SERIES_COST for each
 * series walked: a series costs its reader far more than a point, in tags
 * copied and grouped). A walk that cannot go
 * on returns -TSDB_E_BUSY (err says what it met), maybe after calling back
 * with part of what was asked: the caller throws that answer away and
 * asks again through tsdb_engine_source on a thread that may wait.
 * Otherwise the answers are those of tsdb_engine_source. A view belongs to
 * one thread, holds nothing between walks and needs no cleanup; its
 * fields are private. */
#define TSDB_NOWAIT_SERIES_COST 64

typedef struct tsdb_nowait {
    tsdb_source src; /* first */
    tsdb_engine *e;
    size_t budget, spent;
} tsdb_nowait;

/* Sets v up over e with a budget of items; returns the source to read
 * (&v->src), valid while v and e are. */
tsdb_source *tsdb_engine_nowait(tsdb_nowait *v, tsdb_engine *e, size_t budget);

/* Writes the points (as tsdb_line_parse gives them) to database db. Each
 * point is kept or refused whole: a field whose type differs from the
 * type that field already has in the measurement refuses the point, as
 * does a time older than now minus the retention. Kept points are durable
 * on return. Errors: TSDB_E_NODB (rep->first_error says which), TSDB_E_IO
 * (the log could not be written: nothing of the batch is acknowledged and
 * the engine refuses further writes). rep may be NULL. */
tsdb_err tsdb_engine_write(tsdb_engine *e, sb_str db, const tsdb_point *pts, size_t n,
                           tsdb_write_report *rep, sb_errbuf *err);

/* Creates database db (1..255 bytes, no NUL); an existing one is left as
 * it is (InfluxDB's CREATE DATABASE is idempotent). */
tsdb_err tsdb_engine_create_db(tsdb_engine *e, sb_str db, sb_errbuf *err);
/* Drops db and all its data durably. TSDB_E_NODB if there is none. */
tsdb_err tsdb_engine_drop_db(tsdb_engine *e, sb_str db, sb_errbuf *err);
/* Keeps points of db for duration_ns (0: forever); older windows go at
 * the next maintain, older writes are refused from now on. */
tsdb_err tsdb_engine_set_retention(tsdb_engine *e, sb_str db, int64_t duration_ns, sb_errbuf *err);
tsdb_err tsdb_engine_retention(tsdb_engine *e, sb_str db, int64_t *duration_ns);

/* Housekeeping, for one thread at a time (others wait): flushes heads into
 * block files when a threshold of the options is reached, compacts
 * windows, deletes log segments whose content is in block files, drops
 * windows older than the retention at now_ns and recomputes rollup buckets
 * that out-of-order writes invalidated. Writes wait only for short
 * in-memory steps. */
tsdb_err tsdb_engine_maintain(tsdb_engine *e, int64_t now_ns, sb_errbuf *err);

/* maintain, with every head flushed and every window of more than one
 * file compacted, whatever the thresholds. */
tsdb_err tsdb_engine_checkpoint(tsdb_engine *e, int64_t now_ns, sb_errbuf *err);

void tsdb_engine_stats_get(tsdb_engine *e, tsdb_engine_stats *st);

#endif
