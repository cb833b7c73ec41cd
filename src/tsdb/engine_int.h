/*
 * engine_int.h: the storage engine's structures, shared by its files
 * (engine.c: open, write, catalog; index.c: series and the tag index;
 * head.c: heads and rollups; wal.c: the log; tsf.c: block files;
 * maintain.c: flush, compaction, retention; engine_source.c: reads).
 *
 * Locks, outermost first (docs/tsdb.md "Locking"):
 *   tsdb_engine.maint   one housekeeper: maintain, create/drop db,
 *                       retention; guards the catalog file, checkpoint and
 *                       file sequence numbers.
 *   tsdb_engine.lock    rwlock over the database list.
 *   tsdb__db.lock       rwlock over everything of one database: series,
 *                       measurements, heads, block lists, rollups. Writers
 *                       hold it exclusively for the in-memory append;
 *                       readers hold it shared only to copy out what they
 *                       need (never across a callback).
 *   tsdb__wal.mu        the log's file and group commit.
 * A database lives while it has references (the list holds one, each
 * walk and write another), so a drop never frees what a reader uses.
 * Block files are reference counted the same way: compaction and
 * retention unlink a file at once and readers keep reading its descriptor.
 */
#ifndef SB_TSDB_ENGINE_INT_H
#define SB_TSDB_ENGINE_INT_H

#include <pthread.h>
#include <stdatomic.h>

#include "base/arena.h"
#include "base/map.h"
#include "base/vec.h"
#include "tsdb/engine.h"

/* ---- block files (tsf.c) ---- */

/* One block file: the blocks of one time window written by one flush or
 * compaction. Immutable; freed (descriptor closed) with its last ref. */
typedef struct tsdb__file {
    atomic_int refs;
    int fd;
    uint64_t seq; /* newer files win over older ones on equal timestamps */
    int64_t window;
    uint64_t bytes, points;
} tsdb__file;

void tsdb__file_ref(tsdb__file *f);
void tsdb__file_unref(tsdb__file *f);

/* Where one block is: a series' field's points within one file. */
typedef struct tsdb__bref {
    tsdb__file *file;
    uint64_t off;
    uint32_t len, count;
    int64_t min, max;
} tsdb__bref;

#define TSDB__TSF_HEADER  24
#define TSDB__TSF_TRAILER 24

typedef struct tsdb__tsf_entry {
    uint32_t series, field; /* indexes into the file's key and name tables */
    tsdb_type type;
    uint32_t count, len;
    int64_t min, max;
    uint64_t off;
} tsdb__tsf_entry;

/* A decoded file index: views into the index bytes. */
typedef struct tsdb__tsf_index {
    int64_t window;
    uint64_t seq;
    sb_str *keys;
    size_t nkeys;
    sb_str *names;
    size_t nnames;
    tsdb__tsf_entry *entries;
    size_t nentries;
} tsdb__tsf_index;

/* Decodes the index region idx[0..n) of a file whose blocks lie in
 * [TSDB__TSF_HEADER, data_end); arrays from a. Checks every index and
 * range; TSDB_E_CORRUPT with detail otherwise. */
tsdb_err tsdb__tsf_index_decode(const uint8_t *idx, size_t n, uint64_t data_end, sb_arena *a,
                                tsdb__tsf_index *out, sb_errbuf *err);
/* Reads header, trailer and index of an open file of size bytes. */
tsdb_err tsdb__tsf_read_index(int fd, uint64_t size, sb_arena *a, sb_buf *scratch,
                              tsdb__tsf_index *out, sb_errbuf *err);
/* Checks a whole file image (header, trailer, CRC, index); for the fuzzer. */
tsdb_err tsdb__tsf_parse(const uint8_t *p, size_t n, sb_arena *a, tsdb__tsf_index *out,
                         sb_errbuf *err);

/* Builds one file in memory: header, blocks, then index and trailer. */
typedef struct tsdb__tsf_builder {
    int64_t window;
    uint64_t seq;
    sb_buf data;   /* bytes from offset base on */
    uint64_t base; /* bytes already written to fd */
    int fd;        /* -1: all in data; else data spills here past 1 MiB */
    bool failed;   /* a spill failed */
    SB_VEC(tsdb__tsf_entry) entries;
    SB_VEC(sb_str) keys;      /* views the caller keeps alive until finish */
    SB_VEC(const void *) ids; /* the series_id of each key */
    SB_VEC(sb_str) names;     /* likewise */
    const void *last_key_id;
    sb_map name_idx; /* field name -> index + 1 */
    uint64_t points;
} tsdb__tsf_builder;

void tsdb__tsf_builder_init(tsdb__tsf_builder *b, int64_t window, uint64_t seq);
void tsdb__tsf_builder_deinit(tsdb__tsf_builder *b);
/* Adds the points (sorted, unique) of one series field, as blocks of at
 * most TSDB__BLOCK_POINTS; series_id identifies the series across calls
 * (calls for one series come together). Returns the first block's offset. */
tsdb_err tsdb__tsf_add(tsdb__tsf_builder *b, const void *series_id, sb_str key, sb_str field,
                       tsdb_type type, const int64_t *t, const void *v, size_t n);
/* Appends index and trailer to b->data. */
void tsdb__tsf_finish(tsdb__tsf_builder *b);
/* Writes what data holds to fd (when there is one); false on an error. */
bool tsdb__tsf_spill(tsdb__tsf_builder *b);
static inline uint64_t tsdb__tsf_size(const tsdb__tsf_builder *b)
{
    return b->base + b->data.len;
}

#define TSDB__BLOCK_POINTS 1000

/* ---- decoded blocks that reads keep (block_cache.c) ---- */

typedef struct tsdb__bc_entry tsdb__bc_entry;

typedef struct tsdb__bcache {
    pthread_mutex_t mu; /* guards all below */
    tsdb__bc_entry **slots;
    size_t bytes, max_bytes; /* max_bytes 0: the cache is off */
    size_t hand;             /* the next slot freed when over max_bytes */
} tsdb__bcache;

#define TSDB__BCACHE_BYTES ((size_t)8 << 20)

void tsdb__bc_init(tsdb__bcache *c, size_t max_bytes);
void tsdb__bc_deinit(tsdb__bcache *c);
/* Copies the points in [tmin, tmax] of the block of count 8-byte numbers at
 * off in file seq into t and v (room for count each), *n of them; false
 * when the block is not kept. */
bool tsdb__bc_get(tsdb__bcache *c, uint64_t seq, uint64_t off, uint32_t count, int64_t tmin,
                  int64_t tmax, int64_t *t, uint64_t *v, size_t *n);
/* Keeps a copy of a whole decoded block (times ascending). */
void tsdb__bc_put(tsdb__bcache *c, uint64_t seq, uint64_t off, uint32_t count, const int64_t *t,
                  const uint64_t *v);

/* ---- the log (wal.c) ---- */

typedef struct tsdb__wal_seg {
    uint64_t seq, size;
} tsdb__wal_seg;

typedef struct tsdb__wal {
    pthread_mutex_t mu;
    pthread_cond_t cv;
    char *dir;
    int fd;
    uint64_t seq;              /* of the open segment */
    uint64_t size;             /* bytes appended to it */
    uint64_t synced;           /* bytes of it known to be on stable storage */
    bool syncing;              /* a writer is in fdatasync outside mu */
    bool failed;               /* an append or sync failed: refuse everything */
    SB_VEC(tsdb__wal_seg) old; /* closed segments not yet checkpointed */
    /* While replay walks a segment: its number and image, so that the
     * callback can tell where a record lies (payload - base - 8). */
    uint64_t replay_seq;
    const uint8_t *replay_base;
} tsdb__wal;

#define TSDB__WAL_HEADER     8 /* "TSW1", u32 version */
#define TSDB__WAL_MAX_RECORD (256u << 20)

/* Bytes before a write record's first point: frame (length, CRC) and
 * payload header (kind, generation, point count). */
#define TSDB__WAL_REC_HEAD (8 + 1 + 8 + 4)

/* Record payloads. */
enum { TSDB__REC_WRITE = 1 };

/* Starts a write record of database generation gen in out (the frame's
 * length and CRC are filled in by tsdb__wal_rec_end). */
size_t tsdb__wal_rec_begin(sb_buf *out, uint64_t gen);
/* Appends one point: key, time, fields. */
void tsdb__wal_rec_point(sb_buf *out, sb_str key, int64_t time, const tsdb_field *f, size_t nf);
void tsdb__wal_rec_end(sb_buf *out, size_t start, size_t npoints);

/* A decoded write record: points with series_key, time and fields only
 * (measurement and tags empty), views into the payload, arrays from a. */
tsdb_err tsdb__wal_rec_decode(const uint8_t *p, size_t n, sb_arena *a, uint64_t *gen,
                              tsdb_point **pts, size_t *npts, sb_errbuf *err);

typedef int (*tsdb__wal_rec_cb)(void *arg, const uint8_t *payload, size_t n);
/* Walks the records of one segment image. Returns TSDB_E_OK with
 * *good_end the end of the last whole record (a torn tail after it is the
 * caller's to cut), TSDB_E_CORRUPT when a bad record is followed by data,
 * or TSDB_E_LIMIT... when cb returns non-zero (then *good_end is where). */
tsdb_err tsdb__wal_walk(const uint8_t *p, size_t n, tsdb__wal_rec_cb cb, void *arg,
                        size_t *good_end, sb_errbuf *err);

/* Replays segments with seq > checkpoint in order, truncating torn tails;
 * sets *last to the highest segment seq seen (checkpoint if none) and
 * adds the replayed segments to w->old. */
tsdb_err tsdb__wal_replay(tsdb__wal *w, uint64_t checkpoint, tsdb__wal_rec_cb cb, void *arg,
                          uint64_t *last, sb_errbuf *err);
tsdb_err tsdb__wal_init(tsdb__wal *w, const char *dir, sb_errbuf *err);
/* Opens a new segment numbered seq. */
tsdb_err tsdb__wal_start(tsdb__wal *w, uint64_t seq, sb_errbuf *err);
void tsdb__wal_deinit(tsdb__wal *w);
/* Appends bytes (whole records) to the open segment; *seq and *end say
 * where they ended, for tsdb__wal_sync. */
tsdb_err tsdb__wal_append(tsdb__wal *w, const void *p, size_t n, uint64_t *seq, uint64_t *end);
/* Returns once segment seq is on stable storage up to end (group commit:
 * one fdatasync covers every writer that appended before it started). */
tsdb_err tsdb__wal_sync(tsdb__wal *w, uint64_t seq, uint64_t end);
/* Syncs and closes the open segment and opens the next; *closed is the
 * seq of the closed one: every record appended before the call is in a
 * segment <= *closed. */
tsdb_err tsdb__wal_rotate(tsdb__wal *w, uint64_t *closed, sb_errbuf *err);
/* Deletes closed segments <= seq. */
void tsdb__wal_remove_upto(tsdb__wal *w, uint64_t seq);
uint64_t tsdb__wal_bytes(tsdb__wal *w);
/* The end of the last record appended: open segment and its size. */
void tsdb__wal_pos(tsdb__wal *w, uint64_t *seq, uint64_t *end);

/* ---- series, fields, heads, rollups (index.c, head.c) ---- */

/* A field of a measurement: its type is fixed for the database's life. */
typedef struct tsdb__mfield {
    sb_str name; /* owned */
    tsdb_type type;
} tsdb__mfield;

/* Points in memory, in write order (not necessarily sorted). Values are
 * bit patterns; a string value is a pointer to a tsdb__hstr. */
typedef struct tsdb__hpt {
    int64_t t;
    uint64_t v;
} tsdb__hpt;

typedef struct tsdb__head {
    tsdb__hpt *p; /* time and value side by side: one cache miss a point */
    uint32_t n, cap;
    bool sorted; /* strictly increasing so far */
} tsdb__head;

typedef struct tsdb__hstr {
    uint32_t len;
    char b[];
} tsdb__hstr;

/* A rollup row. A dirty one (an overwrite or a late point may have changed
 * it) has the top bit of its count set, and its numbers wait for
 * maintain's recomputation: 40 bytes a row instead of 48 with a flag
 * beside (the wide workload keeps ~5 M rows). */
typedef tsdb_rollup_row tsdb__rrow;
#define TSDB__RROW_DIRTY (UINT64_C(1) << 63)

static inline bool tsdb__rrow_dirty(const tsdb__rrow *r)
{
    return (r->count & TSDB__RROW_DIRTY) != 0;
}

static inline void tsdb__rrow_mark(tsdb__rrow *r)
{
    r->count |= TSDB__RROW_DIRTY;
}

/* Rows ascending by start; grown one by one (head.c); the header is 16 bytes. */
typedef struct tsdb__rvec {
    tsdb__rrow *items;
    uint32_t len, cap;
} tsdb__rvec;

/* The first row of rv starting at or after t (head.c). */
size_t tsdb__rrow_lower(const tsdb__rvec *rv, int64_t t);
/* The first of n ascending times that is >= t (engine_source.c). */
size_t tsdb__times_lower(const int64_t *times, size_t n, int64_t t);

/* One field of one series. */
typedef struct tsdb__sfield {
    tsdb__mfield *mf;
    tsdb__head head;   /* writes since the last flush */
    tsdb__head frozen; /* being flushed by maintain: read-only */
    struct {
        tsdb__bref *items;
        uint32_t len, cap;
    } blocks;                          /* by file seq, then time; tsdb__bref_push */
    int64_t max_time;                  /* of every point ever written; INT64_MIN */
    uint64_t wseq;                     /* bumped on each append */
    tsdb__rvec roll[TSDB_MAX_ROLLUPS]; /* per rollup width; numeric fields */
    uint8_t roll_off; /* bit w: width w keeps no rows, the field is sparse (head.c) */
} tsdb__sfield;

typedef struct tsdb__meas tsdb__meas;

typedef struct tsdb__series {
    uint64_t id; /* index in tsdb__db.series + 1 */
    uint64_t hash;
    sb_str key; /* owned, with tags and measurement in one allocation */
    tsdb__meas *m;
    tsdb_tag *tags;
    size_t ntags;
    tsdb__sfield *fields;
    uint32_t nfields, cap;
} tsdb__series;

typedef SB_VEC(tsdb__series *) tsdb__posting;

struct tsdb__meas {
    sb_str name; /* owned */
    SB_VEC(tsdb__mfield *) fields;
    tsdb__posting series; /* by id */
    sb_map tags;          /* tag pair (varint klen, k, v) -> tsdb__posting * */
};

typedef struct tsdb__db {
    atomic_int refs;
    sb_str name; /* owned */
    uint64_t gen;
    _Atomic int64_t retention;
    char *dir;
    pthread_rwlock_t lock; /* guards all below */
    tsdb__series **slots;  /* open addressing by key hash */
    size_t nslots;
    SB_VEC(tsdb__series *) series; /* by id */
    sb_map meas;                   /* name -> tsdb__meas * */
    SB_VEC(tsdb__file *) files;    /* by window, then seq */
    uint64_t head_points;
    bool frozen;     /* sfields hold frozen heads */
    bool roll_dirty; /* some rollup row may be dirty */
    /* Rollup snapshots (rollup_file.c). roll_version counts the changes
     * to rows that the log does not replay: every write record and every
     * retention cut; snap_version is the count the snapshot holds. */
    uint64_t roll_version;
    uint64_t snap_version;
    uint64_t snap;               /* the catalog's snapshot number; 0 none */
    uint64_t snap_seq, snap_off; /* its log position P, once loaded */
    bool roll_loaded;            /* rows came from the snapshot at open */
} tsdb__db;

struct tsdb_engine {
    tsdb_source src; /* first: the source's vtable */
    char *dir;
    int lockfd;
    tsdb_engine_opts o;
    pthread_mutex_t maint; /* guards the catalog, checkpoint, next_file */
    uint64_t checkpoint;   /* log segments <= this are in block files */
    uint64_t next_file;
    pthread_rwlock_t lock;  /* guards dbs, next_gen */
    SB_VEC(tsdb__db *) dbs; /* by name */
    uint64_t next_gen;
    tsdb__wal wal;
    atomic_uint_least64_t head_points;
    tsdb__bcache bcache;             /* decoded blocks of the source's scans */
    _Atomic int64_t first_unflushed; /* clock of the first write after a flush; 0 none */
};

/* index.c */
tsdb__db *tsdb__db_new(sb_str name, uint64_t gen, int64_t retention, const char *dir);
void tsdb__db_unref(tsdb__db *d);
void tsdb__db_ref(tsdb__db *d);
tsdb__series *tsdb__series_find(const tsdb__db *d, sb_str key, uint64_t hash);
/* Creates a series; tags/measurement NULL: parsed from the key. NULL when
 * the key does not parse (a corrupt file or log). */
tsdb__series *tsdb__series_add(tsdb__db *d, sb_str key, uint64_t hash, const tsdb_point *p);
tsdb__meas *tsdb__meas_get(tsdb__db *d, sb_str name, bool create);
tsdb__mfield *tsdb__mfield_find(const tsdb__meas *m, sb_str name);
tsdb__mfield *tsdb__mfield_add(tsdb__meas *m, sb_str name, tsdb_type type);
tsdb__sfield *tsdb__sfield_find(tsdb__series *s, sb_str name);
tsdb__sfield *tsdb__sfield_get(const tsdb_engine *e, tsdb__series *s, tsdb__mfield *mf);
/* Encodes a tag pair as the tag index keys it. */
void tsdb__tag_pair(sb_buf *out, sb_str k, sb_str v);
uint64_t tsdb__key_hash(sb_str key);

/* Appends a block location to a field (exact growth: most fields have
 * one block a window). */
void tsdb__bref_push(tsdb__sfield *sf, tsdb__bref b);

/* head.c */
void tsdb__head_append(tsdb__head *h, int64_t t, const tsdb_field *f);
void tsdb__head_free(tsdb__head *h, tsdb_type type);
/* Appends to the field's head and keeps its rollups (roll true). */
void tsdb__sfield_append(const tsdb_engine *e, tsdb__db *d, tsdb__sfield *sf, int64_t t,
                         const tsdb_field *f, bool roll);
/* Sorts copies of a head's points by time, the last write of a timestamp
 * winning; values as the block encoder takes them (strings as sb_str views
 * into the head). Returns the count. */
size_t tsdb__head_sorted(const tsdb__head *h, tsdb_type type, int64_t **t, void **v);
/* The indices of n timestamps (int64s stride bytes apart from times) in
 * time order, of equal times only the last written (the newest, which
 * wins); pick holds n. Returns how many were picked. */
size_t tsdb__newest_order(const void *times, size_t stride, size_t n, size_t *pick);
/* Adds x at t to the field's rollups: exactly, or (exact false) by
 * marking its buckets dirty. Returns whether it marked any. */
bool tsdb__rollup_add(const tsdb_engine *e, tsdb__sfield *sf, int64_t t, double x, bool exact);
static inline bool tsdb__numeric(tsdb_type t)
{
    return t == TSDB_FLOAT || t == TSDB_INT || t == TSDB_UINT;
}
static inline bool tsdb__has_roll(const tsdb__sfield *sf)
{
    return tsdb__numeric(sf->mf->type);
}
double tsdb__as_double(tsdb_type type, uint64_t bits);

/* Floor division of t by w, times w: the start of t's window or bucket. */
static inline int64_t tsdb__floor(int64_t t, int64_t w)
{
    int64_t q = t / w;
    if (t % w != 0 && t < 0)
        q--;
    return q * w;
}

/* engine_source.c: the merged points of one series field in [tmin, tmax]
 * (the source's scan, for maintain too). *wseq (if not NULL) is the
 * field's write sequence when the points were collected. */
int tsdb__scan(tsdb_engine *e, tsdb__db *d, uint64_t series, sb_str field, int64_t tmin,
               int64_t tmax, tsdb_chunk_cb cb, void *arg, uint64_t *wseq, sb_errbuf *err);
extern const tsdb_source_vt tsdb__engine_vt;
extern const tsdb_source_vt tsdb__engine_nowait_vt;
/* The merged points of the given blocks (in age order), all times. */
int tsdb__read_refs(const tsdb__bref *refs, size_t n, tsdb_type type, tsdb_chunk_cb cb, void *arg,
                    sb_errbuf *err);

/* rollup_file.c: snapshots of a database's rollup rows (see there). */
char *tsdb__rollup_path(const tsdb__db *d, uint64_t n, bool tmp);
/* Writes snapshot number n of d's rows (at the log's current position,
 * synced first); on success d->snap_version is the version it holds. The
 * caller names it in the catalog. */
tsdb_err tsdb__rollup_save(tsdb_engine *e, tsdb__db *d, uint64_t n, sb_errbuf *err);
/* Installs the rows of snapshot d->snap and sets d->snap_seq/off; false
 * (nothing changed, err says why unless there is no snapshot) when there
 * is none or it does not read back whole. */
bool tsdb__rollup_load(tsdb_engine *e, tsdb__db *d, sb_errbuf *err);
/* Whether a snapshot image reads back whole for e's widths, installing
 * nothing (only e->o is read); for the fuzzer. */
bool tsdb__rollup_check(tsdb_engine *e, const uint8_t *p, size_t n);

/* engine.c */
tsdb__db *tsdb__db_get(tsdb_engine *e, sb_str name); /* a ref, or NULL */
/* The same without waiting for the database list's lock: false (nothing
 * taken) when a writer holds it; else true with *d a ref or NULL. */
bool tsdb__db_get_nowait(tsdb_engine *e, sb_str name, tsdb__db **d);
tsdb_err tsdb__catalog_write(tsdb_engine *e, sb_errbuf *err);
int64_t tsdb__now(const tsdb_engine *e);
tsdb_err tsdb__fsync_dir(const char *dir, sb_errbuf *err);
/* Rollups of every numeric field of d from its data (at open, without a
 * snapshot). */
tsdb_err tsdb__rollup_rebuild(tsdb_engine *e, tsdb__db *d, sb_errbuf *err);
/* Recomputes d's dirty rollup rows from the data (maintain; open, for the
 * dirty rows a snapshot or the replay left). */
void tsdb__rollup_repair(tsdb_engine *e, tsdb__db *d, sb_errbuf *err);
void tsdb__rm_dir(const char *dir);

/* varints (LEB128) and a bounded reader, for the log and file index */
void tsdb__put_uvarint(sb_buf *b, uint64_t v);
void tsdb__put_u32(sb_buf *b, uint32_t v);
void tsdb__put_u64(sb_buf *b, uint64_t v);
uint32_t tsdb__get_u32(const uint8_t *p);
uint64_t tsdb__get_u64(const uint8_t *p);

typedef struct tsdb__rd {
    const uint8_t *p, *end;
    bool bad;
} tsdb__rd;
uint64_t tsdb__rd_uvarint(tsdb__rd *r);
const uint8_t *tsdb__rd_bytes(tsdb__rd *r, size_t n);
sb_str tsdb__rd_str(tsdb__rd *r, size_t max);

#endif
