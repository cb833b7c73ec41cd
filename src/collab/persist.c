/*
 * persist.c: collab_docs + collab_updates. Invariant: the content of a
 * document is its state (if any) followed by its log rows in seq order;
 * every log row has seq > the state's through_seq. Compaction keeps it by
 * merging and deleting inside one transaction.
 */
#include "collab/persist.h"

#include <stdlib.h>

#include "base/log.h"

#define SQL_STATE "SELECT state, through_seq FROM collab_docs WHERE project_id = $1 AND doc = $2"
#define SQL_LOG                                                                                    \
    "SELECT seq, data FROM collab_updates WHERE project_id = $1 AND doc = $2 ORDER BY seq"

static bool fail(store *db, sb_errbuf *err, const char *what, store_err e, const sb_errbuf *why)
{
    store_rollback(db, NULL);
    return sb_errf(err, "%s: %s (%s)", what, store_strerror(e), why ? why->msg : "");
}

/* Runs stmt (bound with project and doc) and hands each row's blob to fn. */
typedef bool (*row_fn)(store_stmt *st, void *ctx, sb_errbuf *err);

static bool each_row(store *db, const char *sql, const char *project_id, const char *doc, row_fn fn,
                     void *ctx, sb_errbuf *err)
{
    store_stmt *st;
    sb_errbuf why;
    store_err e = store_prepare(db, sql, &st, &why);
    if (e != STORE_OK)
        return fail(db, err, "preparing a collab read", e, &why);
    store_bind_cstr(st, 1, project_id);
    store_bind_cstr(st, 2, doc);
    while ((e = store_step(st, &why)) == STORE_ROW) {
        if (!fn(st, ctx, err)) {
            store_reset(st);
            return false;
        }
    }
    store_reset(st);
    if (e != STORE_DONE)
        return fail(db, err, "reading a collab document", e, &why);
    return true;
}

typedef struct load_ctx {
    crdt_doc *doc;
    int64_t last_seq, nlog, skipped;
    int64_t through_seq; /* the state's; 0 without one */
    sb_buf rows;         /* the log as read: (i64 seq, u64 len, bytes)... */
} load_ctx;

/* A row the engine refuses (an update that was well formed but contradicts
 * the document: only a broken or hostile client writes one) is skipped
 * with a warning, exactly as the live room skipped it when it arrived, so
 * one bad row never makes a document unloadable. */
static bool apply_blob(load_ctx *l, const void *p, size_t n, sb_errbuf *err)
{
    (void)err;
    sb_errbuf why = {{0}};
    crdt_err ce = crdt_doc_apply_update(l->doc, p, n, &why);
    if (ce != CRDT_OK) {
        l->skipped++;
        sb_log(SB_LOG_WARN, "collab: stored update skipped", SB_LOG_STR("error", crdt_strerror(ce)),
               SB_LOG_STR("detail", why.msg));
    }
    return true;
}

static bool load_state(store_stmt *st, void *ctx, sb_errbuf *err)
{
    load_ctx *l = ctx;
    size_t n;
    const void *p = store_col_blob(st, 0, &n);
    l->through_seq = store_col_int(st, 1);
    return apply_blob(l, p, n, err);
}

static bool read_update(store_stmt *st, void *ctx, sb_errbuf *err)
{
    (void)err;
    load_ctx *l = ctx;
    size_t n;
    int64_t seq = store_col_int(st, 0);
    const void *p = store_col_blob(st, 1, &n);
    uint64_t len = n;
    sb_buf_append(&l->rows, &seq, sizeof(seq));
    sb_buf_append(&l->rows, &len, sizeof(len));
    sb_buf_append(&l->rows, p, n);
    return true;
}

/* Reads the document into l->doc. The log is read before the state, each
 * by its own statement: under PostgreSQL's READ COMMITTED another node's
 * compaction may commit between them, and a state read after the log
 * covers every row that compaction deleted (reading the state first could
 * miss the rows folded into a newer state). Rows the state already holds
 * are skipped. */
static bool load_into(store *db, const char *project_id, const char *doc, load_ctx *l,
                      sb_errbuf *err)
{
    l->rows = SB_BUF_INIT;
    bool ok = each_row(db, SQL_LOG, project_id, doc, read_update, l, err) &&
              each_row(db, SQL_STATE, project_id, doc, load_state, l, err);
    l->last_seq = l->through_seq;
    for (size_t off = 0; ok && off < l->rows.len;) {
        int64_t seq;
        uint64_t len;
        memcpy(&seq, l->rows.ptr + off, sizeof(seq));
        memcpy(&len, l->rows.ptr + off + sizeof(seq), sizeof(len));
        off += sizeof(seq) + sizeof(len);
        if (seq > l->through_seq) {
            apply_blob(l, l->rows.ptr + off, (size_t)len, err);
            l->last_seq = seq;
            l->nlog++;
        }
        off += (size_t)len;
    }
    sb_buf_free(&l->rows);
    return ok;
}

bool collab_persist_load(store *db, const char *project_id, const char *doc, crdt_doc **out,
                         int64_t *last_seq, int64_t *nlog, sb_errbuf *err)
{
    /* One transaction: a compaction between the two reads would otherwise
     * hand us a state without the rows it folded. */
    sb_errbuf why;
    store_err e = store_begin_read(db, &why);
    if (e != STORE_OK)
        return fail(db, err, "beginning a collab load", e, &why);
    load_ctx l = {.doc = crdt_doc_new(1, true)};
    if (!load_into(db, project_id, doc, &l, err)) {
        store_rollback(db, NULL);
        crdt_doc_free(l.doc);
        return false;
    }
    store_rollback(db, NULL); /* read-only */
    *out = l.doc;
    *last_seq = l.last_seq;
    *nlog = l.nlog;
    return true;
}

/* *code: the store's error when it failed (STORE_CONSTRAINT: a seq taken). */
/* Inserts the rows at first_seq.. inside the caller's transaction; on
 * failure rolls it back and says why (code: STORE_CONSTRAINT when a seq
 * was taken). */
static bool insert_rows(store *db, const char *project_id, const char *doc, int64_t first_seq,
                        const sb_str *updates, size_t n, int64_t now_us, store_err *code,
                        sb_errbuf *err)
{
    sb_errbuf why;
    *code = STORE_OK;
    for (size_t i = 0; i < n; i++) {
        store_stmt *st;
        store_err e = store_prepare(db,
                                    "INSERT INTO collab_updates (project_id, doc, seq, data, "
                                    "created_at) VALUES ($1, $2, $3, $4, $5)",
                                    &st, &why);
        if (e != STORE_OK)
            return *code = e, fail(db, err, "preparing a collab append", e, &why);
        store_bind_cstr(st, 1, project_id);
        store_bind_cstr(st, 2, doc);
        store_bind_int(st, 3, first_seq + (int64_t)i);
        store_bind_blob(st, 4, updates[i].ptr, updates[i].len);
        store_bind_int(st, 5, now_us);
        e = store_step(st, &why);
        store_reset(st);
        if (e != STORE_DONE)
            return *code = e, fail(db, err, "appending a collab update", e, &why);
    }
    return true;
}

static bool commit(store *db, store_err *code, sb_errbuf *err)
{
    sb_errbuf why;
    store_err e = store_commit(db, &why);
    if (e != STORE_OK)
        return *code = e, fail(db, err, "committing a collab append", e, &why);
    return true;
}

static bool append_at(store *db, const char *project_id, const char *doc, int64_t first_seq,
                      const sb_str *updates, size_t n, int64_t now_us, store_err *code,
                      sb_errbuf *err)
{
    sb_errbuf why;
    store_err e = store_begin(db, &why);
    *code = STORE_OK;
    if (e != STORE_OK)
        return *code = e, fail(db, err, "beginning a collab append", e, &why);
    return insert_rows(db, project_id, doc, first_seq, updates, n, now_us, code, err) &&
           commit(db, code, err);
}

bool collab_persist_append(store *db, const char *project_id, const char *doc, int64_t first_seq,
                           const sb_str *updates, size_t n, int64_t now_us, sb_errbuf *err)
{
    store_err code;
    return append_at(db, project_id, doc, first_seq, updates, n, now_us, &code, err);
}

static bool take_int(store_stmt *st, void *ctx, sb_errbuf *err)
{
    (void)err;
    *(int64_t *)ctx = store_col_int(st, 0);
    return true;
}

/* Reads one integer (0 for no row or NULL) from a statement bound with
 * project and doc. */
static bool read_int(store *db, const char *sql, const char *project_id, const char *doc,
                     int64_t *out, sb_errbuf *err)
{
    *out = 0;
    return each_row(db, sql, project_id, doc, take_int, out, err);
}

/* Appends a's updates as the next free seqs of its log inside the
 * caller's transaction. The log's maximum is read before the state's
 * through_seq, so a compaction committing between the two reads cannot
 * make us pick a seq it already folded. */
static bool append_next_in(store *db, collab_append *a, int64_t now_us, store_err *code,
                           sb_errbuf *err)
{
    int64_t max_seq, through;
    *code = STORE_OK;
    if (!read_int(db, "SELECT max(seq) FROM collab_updates WHERE project_id = $1 AND doc = $2",
                  a->project_id, a->doc, &max_seq, err) ||
        !read_int(db, "SELECT through_seq FROM collab_docs WHERE project_id = $1 AND doc = $2",
                  a->project_id, a->doc, &through, err))
        return false;
    a->first_seq = (max_seq > through ? max_seq : through) + 1;
    return insert_rows(db, a->project_id, a->doc, a->first_seq, a->updates, a->n, now_us, code,
                       err);
}

bool collab_persist_append_next(store *db, const char *project_id, const char *doc,
                                const sb_str *updates, size_t n, int64_t now_us, int64_t *first_seq,
                                sb_errbuf *err)
{
    /* Several nodes append to one log: the seqs are the next free ones, read
     * in the transaction. Two appenders that read the same maximum collide
     * on the primary key (PostgreSQL makes the second wait for the first's
     * commit, then refuses it): the loser reads again. One transaction for
     * the reads and the rows (a second one only to read doubled the write
     * transactions: SQLite's BEGIN IMMEDIATE takes the write lock for it). */
    collab_append a = {.project_id = project_id, .doc = doc, .updates = updates, .n = n};
    for (int attempt = 0;; attempt++) {
        sb_errbuf why;
        store_err e = store_begin(db, &why);
        if (e != STORE_OK)
            return fail(db, err, "beginning a collab append", e, &why);
        store_err code;
        if (append_next_in(db, &a, now_us, &code, err) && commit(db, &code, err)) {
            *first_seq = a.first_seq;
            return true;
        }
        if (attempt >= 16 || code != STORE_CONSTRAINT)
            return false;
    }
}

bool collab_persist_append_group(store *db, collab_append *a, size_t n, int64_t now_us,
                                 sb_errbuf *err)
{
    sb_errbuf why;
    store_err e = store_begin(db, &why);
    if (e != STORE_OK)
        return fail(db, err, "beginning a collab append", e, &why);
    store_err code;
    for (size_t i = 0; i < n; i++)
        if (!append_next_in(db, &a[i], now_us, &code, err))
            return false; /* rolled back */
    return commit(db, &code, err);
}

/* Moves loop's journal mark inside the caller's transaction. */
static bool mark_in(store *db, const collab_jpos *m, store_err *code, sb_errbuf *err)
{
    sb_errbuf why;
    store_stmt *st;
    store_err e =
        store_prepare(db,
                      "INSERT INTO collab_journal (loop, gen, folded) VALUES ($1, $2, $3) "
                      "ON CONFLICT (loop) DO UPDATE SET gen = excluded.gen, "
                      "folded = excluded.folded",
                      &st, &why);
    if (e == STORE_OK) {
        store_bind_int(st, 1, m->loop);
        store_bind_int(st, 2, m->gen);
        store_bind_int(st, 3, m->folded);
        e = store_step(st, &why);
        store_reset(st);
        if (e == STORE_DONE)
            return true;
    }
    *code = e;
    return fail(db, err, "moving a collab journal mark", e, &why);
}

bool collab_persist_append_marked(store *db, const collab_append *a, size_t n,
                                  const collab_jpos *marks, size_t nmarks, int64_t now_us,
                                  store_err *code, sb_errbuf *err)
{
    sb_errbuf why;
    store_err e = store_begin(db, &why);
    *code = e;
    if (e != STORE_OK)
        return fail(db, err, "beginning a collab fold", e, &why);
    for (size_t i = 0; i < n; i++)
        if (!insert_rows(db, a[i].project_id, a[i].doc, a[i].first_seq, a[i].updates, a[i].n,
                         now_us, code, err))
            return false; /* rolled back */
    for (size_t i = 0; i < nmarks; i++)
        if (!mark_in(db, &marks[i], code, err))
            return false;
    return commit(db, code, err);
}

bool collab_persist_marks(store *db, collab_jpos **out, size_t *n, sb_errbuf *err)
{
    *out = NULL;
    *n = 0;
    sb_errbuf why;
    store_stmt *st;
    store_err e = store_prepare(db, "SELECT loop, gen, folded FROM collab_journal", &st, &why);
    if (e != STORE_OK)
        return fail(db, err, "reading the collab journal marks", e, &why);
    size_t cap = 0;
    while ((e = store_step(st, &why)) == STORE_ROW) {
        if (*n == cap) {
            cap = cap ? cap * 2 : 8;
            *out = sb_realloc(*out, cap * sizeof(**out));
        }
        (*out)[(*n)++] = (collab_jpos){.loop = store_col_int(st, 0),
                                       .gen = store_col_int(st, 1),
                                       .folded = store_col_int(st, 2)};
    }
    store_reset(st);
    if (e != STORE_DONE) {
        free(*out);
        *out = NULL;
        *n = 0;
        return fail(db, err, "reading the collab journal marks", e, &why);
    }
    return true;
}

typedef struct since_ctx {
    int64_t after;
    collab_persist_row_fn fn;
    void *ctx;
} since_ctx;

static bool since_row(store_stmt *st, void *ctx, sb_errbuf *err)
{
    (void)err;
    since_ctx *s = ctx;
    size_t n;
    int64_t seq = store_col_int(st, 0);
    const void *p = store_col_blob(st, 1, &n);
    if (seq > s->after)
        s->fn(s->ctx, seq, p, n);
    return true;
}

static bool since_state(store_stmt *st, void *ctx, sb_errbuf *err)
{
    (void)err;
    since_ctx *s = ctx;
    size_t n;
    const void *p = store_col_blob(st, 0, &n);
    int64_t through = store_col_int(st, 1);
    if (through > s->after)
        s->fn(s->ctx, through, p, n); /* it folded rows we lack */
    return true;
}

bool collab_persist_since(store *db, const char *project_id, const char *doc, int64_t after_seq,
                          collab_persist_row_fn fn, void *ctx, sb_errbuf *err)
{
    /* The log first, then the state (see load_into): whatever a compaction
     * deleted between the two reads is in the state read second. */
    since_ctx s = {.after = after_seq, .fn = fn, .ctx = ctx};
    return each_row(db, SQL_LOG, project_id, doc, since_row, &s, err) &&
           each_row(db, SQL_STATE, project_id, doc, since_state, &s, err);
}

/* Load, apply, encode: the state written is exactly what a load would
 * rebuild (refused rows stay skipped), never a byte merge that could carry
 * a refused row into the state. A document with pending structs (updates
 * whose dependencies never arrived) keeps its log: encoding would drop
 * them. All in a read transaction, so appends to every document go on
 * meanwhile. */
bool collab_persist_fold_read(store *db, const char *project_id, const char *doc, collab_fold *f,
                              sb_errbuf *err)
{
    *f = (collab_fold){.state = SB_BUF_INIT, .state_vector = SB_BUF_INIT};
    sb_errbuf why;
    store_err e = store_begin_read(db, &why);
    if (e != STORE_OK)
        return fail(db, err, "beginning a collab compaction", e, &why);
    load_ctx l = {.doc = crdt_doc_new(1, true)};
    bool ok = load_into(db, project_id, doc, &l, err);
    store_rollback(db, NULL); /* read-only */
    if (ok) {
        f->nlog = l.nlog;
        f->through_seq = l.last_seq;
        if (l.nlog > 0 && !crdt_doc_has_pending(l.doc)) {
            crdt_err ce = crdt_doc_encode_state(l.doc, NULL, 0, &f->state);
            if (ce != CRDT_OK)
                ok = sb_errf(err, "encoding a collab state: %s", crdt_strerror(ce));
            else
                crdt_doc_encode_state_vector(l.doc, &f->state_vector);
        }
    }
    crdt_doc_free(l.doc);
    if (!ok)
        collab_fold_free(f);
    return ok;
}

/* Rows appended after the read have higher seqs (a seq is the log's
 * maximum + 1, taken in the appender's transaction), so they stay. */
bool collab_persist_fold_write(store *db, const char *project_id, const char *doc,
                               const collab_fold *f, int64_t now_us, sb_errbuf *err)
{
    sb_errbuf why;
    store_err e = store_begin(db, &why);
    if (e != STORE_OK)
        return fail(db, err, "beginning a collab compaction", e, &why);
    store_stmt *st;
    e = store_prepare(db,
                      "INSERT INTO collab_docs (project_id, doc, state, state_vector, "
                      "through_seq, updated_at) VALUES ($1, $2, $3, $4, $5, $6) "
                      "ON CONFLICT (project_id, doc) DO UPDATE SET state = excluded.state, "
                      "state_vector = excluded.state_vector, through_seq = excluded.through_seq, "
                      "updated_at = excluded.updated_at "
                      "WHERE collab_docs.through_seq < excluded.through_seq",
                      &st, &why);
    if (e != STORE_OK)
        return fail(db, err, "preparing a collab compaction", e, &why);
    store_bind_cstr(st, 1, project_id);
    store_bind_cstr(st, 2, doc);
    store_bind_blob(st, 3, f->state.ptr, f->state.len);
    store_bind_blob(st, 4, f->state_vector.ptr, f->state_vector.len);
    store_bind_int(st, 5, f->through_seq);
    store_bind_int(st, 6, now_us);
    e = store_step(st, &why);
    store_reset(st);
    if (e != STORE_DONE)
        return fail(db, err, "writing a collab state", e, &why);
    /* Also when a state through a later seq was kept: it holds these rows. */
    e = store_prepare(db,
                      "DELETE FROM collab_updates WHERE project_id = $1 AND doc = $2 AND seq <= $3",
                      &st, &why);
    if (e != STORE_OK)
        return fail(db, err, "preparing a collab log trim", e, &why);
    store_bind_cstr(st, 1, project_id);
    store_bind_cstr(st, 2, doc);
    store_bind_int(st, 3, f->through_seq);
    e = store_step(st, &why);
    store_reset(st);
    if (e != STORE_DONE)
        return fail(db, err, "trimming a collab log", e, &why);
    e = store_commit(db, &why);
    if (e != STORE_OK)
        return fail(db, err, "committing a collab compaction", e, &why);
    return true;
}

void collab_fold_free(collab_fold *f)
{
    sb_buf_free(&f->state);
    sb_buf_free(&f->state_vector);
}

bool collab_persist_compact(store *db, const char *project_id, const char *doc, int64_t now_us,
                            int64_t *nlog, int64_t *state_len, sb_errbuf *err)
{
    if (state_len)
        *state_len = 0;
    collab_fold f;
    if (!collab_persist_fold_read(db, project_id, doc, &f, err))
        return false;
    bool ok = true;
    *nlog = f.nlog;
    if (f.state.len > 0) {
        ok = collab_persist_fold_write(db, project_id, doc, &f, now_us, err);
        if (ok) {
            *nlog = 0;
            if (state_len)
                *state_len = (int64_t)f.state.len;
        }
    }
    collab_fold_free(&f);
    return ok;
}
