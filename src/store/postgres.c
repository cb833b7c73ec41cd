/*
 * postgres.c: the PostgreSQL driver over libpq, synchronous (the caller's
 * thread blocks for each round trip, as with SQLite).
 *
 * Statements are prepared once per connection (PQprepare, named s1, s2, ...)
 * with no parameter types, so the server infers them from context; values
 * go as text except blobs, which go in binary so that bytea needs no
 * escaping. Results come back as text: integers are parsed strictly, bool is
 * 't'/'f', bytea is decoded from its "\x" hex form.
 *
 * A lost connection (CONNECTION_BAD, or an error of class 08 or 57P0x) marks
 * the store broken; the next ping, prepare or exec calls PQreset, at most
 * once per backoff interval (100 ms doubling to 5 s, reset on success).
 * Server-side statements die with the connection, so each one carries the
 * connection generation it was prepared in and is prepared again on its next
 * use: callers' borrowed pointers stay valid across a reconnect. If the
 * connection dropped inside a transaction, store.c refuses further work
 * until the caller rolls back, so nothing autocommits by surprise.
 *
 * Never: put the password (from the URL, raw or percent-decoded) into an
 * error message; report DETAIL fields (they quote row values, which may be
 * secrets); print NOTICEs to stderr.
 */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include <libpq-fe.h>

#include "base/clock.h"
#include "base/log.h"
#include "base/str.h"
#include "store/store_int.h"

#define PG_BACKOFF_MIN_NS (100ull * 1000 * 1000)
#define PG_BACKOFF_MAX_NS (5000ull * 1000 * 1000)
#define PG_BYTEAOID       17

typedef struct pg_store {
    store base;
    PGconn *conn;
    char *secrets[2]; /* the URL's password, raw and decoded; wiped at close */
    bool broken;
    uint64_t gen;         /* bumped by each reconnect */
    uint64_t backoff_ns;  /* 0 until a reconnect attempt fails */
    uint64_t next_try_ns; /* no PQreset before this (sb_mono_ns) */
    unsigned next_name;   /* statement names s1, s2, ... */
} pg_store;

typedef struct pg_stmt {
    store_stmt base;
    char name[24];
    uint64_t gen; /* generation the server-side statement belongs to */
    const char **values;
    int *lengths;
    int *formats;
    sb_buf *bufs; /* one per parameter, backing values[] */
    PGresult *res;
    int row; /* current row; -1 before the first */
    int nrows;
    sb_buf *blobs; /* per column, decoded bytea of the current row */
    int nblobs;
} pg_stmt;

/* Replaces each occurrence of the URL's password in msg; the result is
 * what errors may carry. */
static void redact(const pg_store *p, char *msg)
{
    for (size_t k = 0; k < SB_ARRAY_LEN(p->secrets); k++) {
        const char *pw = p->secrets[k];
        size_t n = pw ? strlen(pw) : 0;
        if (n == 0)
            continue;
        for (char *hit = strstr(msg, pw); hit; hit = strstr(hit, pw))
            memset(hit, '*', n);
    }
}

/* Formats a driver message into err: trimmed, redacted, prefixed. */
static void set_err(const pg_store *p, sb_errbuf *err, const char *what, const char *msg)
{
    if (!err)
        return;
    /* Redact before truncating, so that no prefix of a password survives
     * at the cut. */
    sb_buf b = SB_BUF_INIT;
    sb_buf_appendf(&b, "postgres: %s%s%s", what, *what ? ": " : "", msg ? msg : "unknown error");
    redact(p, b.ptr);
    while (b.len > 0 && (b.ptr[b.len - 1] == '\n' || b.ptr[b.len - 1] == ' '))
        b.ptr[--b.len] = 0;
    /* libpq's multi-line messages ("...\n\tIs the server running") read
     * badly in one log field: join the lines. */
    size_t w = 0;
    char prev = 0;
    for (size_t r = 0; r < b.len; r++) {
        char c = b.ptr[r];
        if (!(c == '\t' && prev == '\n'))
            b.ptr[w++] = c == '\n' ? ' ' : c;
        prev = c;
    }
    b.ptr[w] = 0;
    sb_errf(err, "%s", b.ptr);
    sb_secure_zero(b.ptr, b.len);
    sb_buf_free(&b);
}

static void mark_broken(pg_store *p)
{
    if (p->broken)
        return;
    p->broken = true;
    p->backoff_ns = 0;
    p->next_try_ns = 0; /* the first attempt may be immediate */
    if (p->base.in_tx)
        p->base.tx_lost = true;
}

/* Whether a failure means the connection is gone. 57P01..57P03: admin
 * shutdown, crash shutdown, cannot connect now. */
static bool is_conn_error(pg_store *p, const PGresult *res)
{
    if (PQstatus(p->conn) == CONNECTION_BAD)
        return true;
    const char *state = res ? PQresultErrorField(res, PG_DIAG_SQLSTATE) : NULL;
    if (!state)
        return res == NULL;
    return strncmp(state, "08", 2) == 0 || strncmp(state, "57P0", 4) == 0;
}

/* Turns a failed result (or NULL: out of memory or connection gone) into a
 * code and message, and consumes res. */
static store_err result_err(pg_store *p, PGresult *res, sb_errbuf *err)
{
    store_err rc;
    const char *state = res ? PQresultErrorField(res, PG_DIAG_SQLSTATE) : NULL;
    const char *primary = res ? PQresultErrorField(res, PG_DIAG_MESSAGE_PRIMARY) : NULL;
    if (is_conn_error(p, res)) {
        mark_broken(p);
        rc = STORE_BUSY;
        set_err(p, err, "connection lost", primary ? primary : PQerrorMessage(p->conn));
    } else {
        if (state && strncmp(state, "23", 2) == 0)
            rc = STORE_CONSTRAINT;
        else if (state && (strcmp(state, "40001") == 0 || strcmp(state, "40P01") == 0 ||
                           strcmp(state, "55P03") == 0))
            rc = STORE_BUSY; /* serialization failure, deadlock, lock timeout: retry */
        else
            rc = STORE_SQL;
        set_err(p, err, state ? state : "", primary ? primary : PQerrorMessage(p->conn));
    }
    PQclear(res);
    return rc;
}

/* Re-establishes a broken connection if the backoff allows it now. */
static store_err reconnect(pg_store *p, sb_errbuf *err)
{
    if (!p->broken)
        return STORE_OK;
    uint64_t now = sb_mono_ns();
    if (now < p->next_try_ns) {
        sb_errf(err, "postgres: connection lost; next reconnect attempt in %llu ms",
                (unsigned long long)((p->next_try_ns - now) / 1000000));
        return STORE_BUSY;
    }
    PQreset(p->conn);
    if (PQstatus(p->conn) != CONNECTION_OK) {
        p->backoff_ns =
            p->backoff_ns ? SB_MIN(p->backoff_ns * 2, PG_BACKOFF_MAX_NS) : PG_BACKOFF_MIN_NS;
        p->next_try_ns = sb_mono_ns() + p->backoff_ns;
        set_err(p, err, "reconnect failed", PQerrorMessage(p->conn));
        return STORE_BUSY;
    }
    p->broken = false;
    p->backoff_ns = 0;
    p->gen++; /* every cached statement must be prepared again */
    sb_log0(SB_LOG_INFO, "postgres connection re-established");
    return STORE_OK;
}

static void pg_close(store *s)
{
    pg_store *p = (pg_store *)s;
    PQfinish(p->conn);
    for (size_t k = 0; k < SB_ARRAY_LEN(p->secrets); k++) {
        if (p->secrets[k]) {
            sb_secure_zero(p->secrets[k], strlen(p->secrets[k]));
            free(p->secrets[k]);
        }
    }
    free(p);
}

static store_err pg_ready(store *s, sb_errbuf *err)
{
    return reconnect((pg_store *)s, err);
}

static store_err pg_exec(store *s, const char *sql, sb_errbuf *err)
{
    pg_store *p = (pg_store *)s;
    if (p->broken) {
        sb_errf(err, "postgres: connection lost");
        return STORE_BUSY;
    }
    /* A script of several statements runs in the simple query protocol;
     * PQexec returns the last result, or the first error. */
    PGresult *res = PQexec(p->conn, sql);
    ExecStatusType status = PQresultStatus(res);
    if (res && (status == PGRES_COMMAND_OK || status == PGRES_TUPLES_OK)) {
        PQclear(res);
        return STORE_OK;
    }
    return result_err(p, res, err);
}

static store_err pg_ping(store *s, sb_errbuf *err)
{
    pg_store *p = (pg_store *)s;
    store_err rc;
    if (!p->broken) {
        rc = pg_exec(s, "SELECT 1", err);
        if (rc == STORE_OK || !p->broken)
            return rc;
        /* It just broke: try to come back at once (backoff permitting). */
    }
    rc = reconnect(p, err);
    return rc != STORE_OK ? rc : pg_exec(s, "SELECT 1", err);
}

/* Prepares st on the current connection under a fresh name. */
static store_err server_prepare(pg_store *p, pg_stmt *st, const char *sql, sb_errbuf *err)
{
    snprintf(st->name, sizeof st->name, "s%u", ++p->next_name);
    PGresult *res = PQprepare(p->conn, st->name, sql, 0, NULL);
    if (!res || PQresultStatus(res) != PGRES_COMMAND_OK)
        return result_err(p, res, err);
    PQclear(res);
    st->gen = p->gen;
    return STORE_OK;
}

static store_err pg_prepare(store *s, const char *sql, store_stmt **out, sb_errbuf *err)
{
    pg_store *p = (pg_store *)s;
    pg_stmt *st = sb_calloc(1, sizeof *st);
    store_err rc = server_prepare(p, st, sql, err);
    if (rc != STORE_OK)
        goto fail;
    PGresult *res = PQdescribePrepared(p->conn, st->name);
    if (!res || PQresultStatus(res) != PGRES_COMMAND_OK) {
        rc = result_err(p, res, err);
        goto fail;
    }
    int n = PQnparams(res);
    PQclear(res);
    st->base.nparams = n;
    st->values = sb_calloc((size_t)n + 1, sizeof *st->values);
    st->lengths = sb_calloc((size_t)n + 1, sizeof *st->lengths);
    st->formats = sb_calloc((size_t)n + 1, sizeof *st->formats);
    st->bufs = sb_calloc((size_t)n + 1, sizeof *st->bufs);
    st->row = -1;
    *out = &st->base;
    return STORE_OK;
fail:
    free(st);
    return rc;
}

static void clear_result(pg_stmt *st)
{
    PQclear(st->res);
    st->res = NULL;
    st->row = -1;
    st->nrows = 0;
}

static void pg_finalize(store_stmt *base)
{
    pg_stmt *st = (pg_stmt *)base;
    clear_result(st);
    /* The server-side statement goes with the connection, which closes
     * right after (store_close); DEALLOCATE would be a wasted round trip. */
    for (int i = 0; i < base->nparams; i++)
        sb_buf_free(&st->bufs[i]);
    for (int i = 0; i < st->nblobs; i++)
        sb_buf_free(&st->blobs[i]);
    free(st->blobs);
    free(st->bufs);
    free(st->values);
    free(st->lengths);
    free(st->formats);
    free(st);
}

static void pg_bind(store_stmt *base, int idx, const store__value *v)
{
    pg_stmt *st = (pg_stmt *)base;
    int i = idx - 1;
    sb_buf *b = &st->bufs[i];
    sb_buf_reset(b);
    st->formats[i] = 0;
    switch (v->type) {
    case STORE__V_NULL:
        st->values[i] = NULL;
        st->lengths[i] = 0;
        return;
    case STORE__V_INT:
        sb_buf_appendf(b, "%lld", (long long)v->i);
        break;
    case STORE__V_BOOL:
        sb_buf_puts(b, v->i ? "t" : "f");
        break;
    case STORE__V_DOUBLE:
        /* %.17g round-trips every double; PostgreSQL spells the
         * non-finite ones itself. */
        if (v->d != v->d)
            sb_buf_puts(b, "NaN");
        else if (v->d > 1.7976931348623157e308)
            sb_buf_puts(b, "Infinity");
        else if (v->d < -1.7976931348623157e308)
            sb_buf_puts(b, "-Infinity");
        else
            sb_buf_appendf(b, "%.17g", v->d);
        break;
    case STORE__V_TEXT:
        /* Text format is NUL-terminated; PostgreSQL text cannot hold NUL
         * anyway, and the server rejects what follows one as invalid. */
        sb_buf_append(b, v->p, v->len);
        break;
    case STORE__V_BLOB:
        sb_buf_append(b, v->p, v->len);
        st->formats[i] = 1;
        break;
    }
    st->values[i] = b->ptr ? b->ptr : "";
    st->lengths[i] = (int)b->len;
}

static store_err pg_step(store_stmt *base, sb_errbuf *err)
{
    pg_stmt *st = (pg_stmt *)base;
    pg_store *p = (pg_store *)base->s;
    if (!st->res) {
        if (p->broken) {
            sb_errf(err, "postgres: connection lost");
            return STORE_BUSY;
        }
        store_err rc;
        if (st->gen != p->gen && (rc = server_prepare(p, st, base->sql, err)) != STORE_OK)
            return rc;
        /* Unbound parameters have a NULL value: SQL NULL, as in SQLite. */
        PGresult *res = PQexecPrepared(p->conn, st->name, base->nparams, st->values, st->lengths,
                                       st->formats, 0);
        ExecStatusType status = PQresultStatus(res);
        if (!res || (status != PGRES_TUPLES_OK && status != PGRES_COMMAND_OK))
            return result_err(p, res, err);
        st->res = res;
        st->nrows = PQntuples(res);
        st->row = -1;
        const char *cmd = PQcmdStatus(res);
        if (strncmp(cmd, "INSERT", 6) == 0 || strncmp(cmd, "UPDATE", 6) == 0 ||
            strncmp(cmd, "DELETE", 6) == 0 || strncmp(cmd, "MERGE", 5) == 0) {
            int64_t n = 0;
            sb_str_to_i64(sb_str_c(PQcmdTuples(res)), 0, INT64_MAX, &n);
            base->changes = n;
        }
    }
    if (st->row + 1 < st->nrows) {
        st->row++;
        return STORE_ROW;
    }
    st->row = st->nrows;
    return STORE_DONE;
}

static void pg_reset(store_stmt *base)
{
    pg_stmt *st = (pg_stmt *)base;
    clear_result(st);
    for (int i = 0; i < base->nparams; i++) {
        st->values[i] = NULL;
        st->lengths[i] = 0;
        st->formats[i] = 0;
        sb_buf_reset(&st->bufs[i]);
    }
}

/* The current row's value, or NULL when there is no such cell or it is
 * SQL NULL. */
static const char *cell(pg_stmt *st, int idx, size_t *len)
{
    if (len)
        *len = 0;
    if (!st->res || st->row < 0 || st->row >= st->nrows || idx < 0 || idx >= PQnfields(st->res) ||
        PQgetisnull(st->res, st->row, idx))
        return NULL;
    if (len)
        *len = (size_t)PQgetlength(st->res, st->row, idx);
    return PQgetvalue(st->res, st->row, idx);
}

static int pg_col_count(store_stmt *base)
{
    pg_stmt *st = (pg_stmt *)base;
    return st->res ? PQnfields(st->res) : 0;
}

static bool pg_col_is_null(store_stmt *base, int idx)
{
    return cell((pg_stmt *)base, idx, NULL) == NULL;
}

static int64_t pg_col_int(store_stmt *base, int idx)
{
    size_t n;
    const char *v = cell((pg_stmt *)base, idx, &n);
    int64_t out = 0;
    if (!v)
        return 0;
    if (sb_str_to_i64(sb_str_make(v, n), INT64_MIN, INT64_MAX, &out))
        return out;
    /* A boolean column read as an integer, as SQLite would give it. */
    return strcmp(v, "t") == 0;
}

static double pg_col_double(store_stmt *base, int idx)
{
    const char *v = cell((pg_stmt *)base, idx, NULL);
    return v ? strtod(v, NULL) : 0.0;
}

static bool pg_col_bool(store_stmt *base, int idx)
{
    size_t n;
    const char *v = cell((pg_stmt *)base, idx, &n);
    if (!v || strcmp(v, "f") == 0)
        return false;
    if (strcmp(v, "t") == 0)
        return true;
    int64_t i = 0;
    return sb_str_to_i64(sb_str_make(v, n), INT64_MIN, INT64_MAX, &i) && i != 0;
}

static const char *pg_col_text(store_stmt *base, int idx, size_t *len)
{
    return cell((pg_stmt *)base, idx, len);
}

static const void *pg_col_blob(store_stmt *base, int idx, size_t *len)
{
    pg_stmt *st = (pg_stmt *)base;
    size_t n;
    const char *v = cell(st, idx, &n);
    if (!v || PQftype(st->res, idx) != PG_BYTEAOID) {
        *len = n;
        return v;
    }
    if (st->nblobs == 0) {
        st->nblobs = PQnfields(st->res);
        st->blobs = sb_calloc((size_t)st->nblobs, sizeof *st->blobs);
    }
    sb_buf *b = &st->blobs[idx];
    sb_buf_reset(b);
    if (n >= 2 && v[0] == '\\' && v[1] == 'x') {
        sb_buf_reserve(b, (n - 2) / 2);
        for (size_t i = 2; i + 1 < n; i += 2) {
            int hi = sb_hex_digit(v[i]), lo = sb_hex_digit(v[i + 1]);
            if (hi < 0 || lo < 0)
                break; /* the server never sends this */
            b->ptr[b->len++] = (char)(hi << 4 | lo);
        }
        b->ptr[b->len] = 0;
    } else {
        /* bytea_output = 'escape', set by a DBA: libpq decodes it. */
        size_t m = 0;
        unsigned char *raw = PQunescapeBytea((const unsigned char *)v, &m);
        if (raw)
            sb_buf_append(b, raw, m);
        PQfreemem(raw);
    }
    *len = b->len;
    return b->ptr ? b->ptr : "";
}

static bool pg_tx_active(store *s)
{
    PGTransactionStatusType t = PQtransactionStatus(((pg_store *)s)->conn);
    return t == PQTRANS_INTRANS || t == PQTRANS_INERROR || t == PQTRANS_ACTIVE;
}

static const store__ops pg_ops = {
    .driver = STORE_POSTGRES,
    .begin_sql = "BEGIN",
    .begin_read_sql = "BEGIN READ ONLY",
    .close = pg_close,
    .exec = pg_exec,
    .ping = pg_ping,
    .ready = pg_ready,
    .prepare = pg_prepare,
    .finalize = pg_finalize,
    .bind = pg_bind,
    .step = pg_step,
    .reset = pg_reset,
    .col_count = pg_col_count,
    .col_is_null = pg_col_is_null,
    .col_int = pg_col_int,
    .col_double = pg_col_double,
    .col_bool = pg_col_bool,
    .col_text = pg_col_text,
    .col_blob = pg_col_blob,
    .tx_active = pg_tx_active,
};

static void ignore_notice(void *arg, const char *message)
{
    /* NOTICEs ("relation already exists, skipping") are not errors, and
     * libpq would print them to stderr. */
}

/* Finds the password of a URL before libpq sees it, raw (percent-encoded
 * as written) and as libpq decodes it, so both can be redacted. */
static void find_secrets(pg_store *p, const char *url)
{
    const char *auth = strstr(url, "://");
    if (auth) {
        auth += 3;
        size_t end = strcspn(auth, "/?#");
        const char *at = memchr(auth, '@', end);
        const char *colon = at ? memchr(auth, ':', (size_t)(at - auth)) : NULL;
        if (colon && at - colon > 1)
            p->secrets[0] = sb_strndup(colon + 1, (size_t)(at - colon - 1));
    }
    char *errmsg = NULL;
    PQconninfoOption *opts = PQconninfoParse(url, &errmsg);
    PQfreemem(errmsg);
    for (PQconninfoOption *o = opts; o && o->keyword; o++) {
        if (strcmp(o->keyword, "password") == 0 && o->val && *o->val)
            p->secrets[1] = sb_strdup(o->val);
    }
    if (opts) {
        /* The parsed copy held the password too. */
        for (PQconninfoOption *o = opts; o->keyword; o++)
            if (o->val)
                sb_secure_zero(o->val, strlen(o->val));
        PQconninfoFree(opts);
    }
}

store_err store__postgres_open(const char *url, store **out, sb_errbuf *err)
{
    pg_store *p = sb_calloc(1, sizeof *p);
    p->base.ops = &pg_ops;
    find_secrets(p, url);
    /* With expand_dbname the URL is expanded in place of "dbname"; keys
     * before it are defaults the URL may override. */
    const char *keys[] = {"connect_timeout", "client_encoding", "fallback_application_name",
                          "dbname", NULL};
    const char *vals[] = {"10", "UTF8", "sitebase", url, NULL};
    p->conn = PQconnectdbParams(keys, vals, 1);
    if (!p->conn || PQstatus(p->conn) != CONNECTION_OK) {
        set_err(p, err, "cannot connect",
                p->conn ? PQerrorMessage(p->conn) : "out of memory in libpq");
        pg_close(&p->base);
        return STORE_CONNECT;
    }
    PQsetNoticeProcessor(p->conn, ignore_notice, NULL);
    *out = &p->base;
    return STORE_OK;
}
