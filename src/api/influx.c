/*
 * influx.c: InfluxDB 1.x's HTTP API, so that the influx CLI, Telegraf and
 * Grafana's InfluxDB data source work against Sitebase:
 *
 *   GET|HEAD /ping                    204, X-Influxdb-Version
 *   POST /write?db=&precision=&rp=    line protocol (gzip allowed); 204
 *   GET|POST /query?db=&q=&epoch=     q also from a form body
 *
 * A database is a project (its id). Credentials are an access token, as
 * InfluxDB clients can send one: "Authorization: Token <t>" or "Bearer
 * <t>", Basic auth with the token as password, or the u/p parameters (p
 * the token). Writing needs editor and up, reading viewer and up; a
 * project the caller may not see is "database not found", as API.md
 * hides what one may not see.
 *
 * Errors are InfluxDB's JSON ({"error": "..."}) with its status codes,
 * since clients parse them. Queries are parsed here (tsdb/influxql.h)
 * before anything is sent on: every database a statement names must be
 * readable by the caller; SHOW DATABASES lists the readable projects;
 * CREATE DATABASE is accepted for a project the caller may write (it is
 * what Telegraf sends first); DROP DATABASE is refused (a project's
 * series go when the project goes).
 */
#include "api/analytics.h"

#include <openssl/evp.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <zlib.h>

#include "base/clock.h"
#include "net/uri.h"
#include "tsdb/influxql.h"

#define QUERY_MAX_BODY (1u << 20)

/* ---- who calls ---- */

/* The token an InfluxDB client sent, or false. */
static bool client_token(net_req *req, sb_str *tok)
{
    sb_str h;
    if (net_req_header(req, "authorization", &h)) {
        if (h.len > 6 && sb_str_eq_nocase(sb_str_slice(h, 0, 6), SB_STR("Token "))) {
            *tok = sb_str_slice(h, 6, h.len);
            return true;
        }
        if (h.len > 7 && sb_str_eq_nocase(sb_str_slice(h, 0, 7), SB_STR("Bearer "))) {
            *tok = sb_str_slice(h, 7, h.len);
            return true;
        }
        if (h.len > 6 && h.len < 8192 &&
            sb_str_eq_nocase(sb_str_slice(h, 0, 6), SB_STR("Basic "))) {
            sb_str b64 = sb_str_slice(h, 6, h.len);
            unsigned char *out = sb_arena_alloc(&req->arena, b64.len + 4);
            int n = EVP_DecodeBlock(out, (const unsigned char *)b64.ptr, (int)b64.len);
            if (n < 0)
                return false;
            /* EVP_DecodeBlock counts padding as zero bytes: drop them. */
            while (n > 0 && b64.len && b64.ptr[b64.len - 1] == '=' && out[n - 1] == 0) {
                n--;
                b64.len--;
            }
            sb_str up = sb_str_make((const char *)out, (size_t)n);
            ptrdiff_t colon = sb_str_index(up, ':', 0);
            if (colon < 0)
                return false;
            *tok = sb_str_slice(up, (size_t)colon + 1, up.len);
            return tok->len > 0;
        }
        return false;
    }
    sb_str p;
    if (net_req_query(req, "p", &p) && p.len) {
        *tok = p;
        return true;
    }
    return false;
}

/* Fills the service context for an authenticated caller, or answers 401. */
static bool influx_caller(net_req *req, api_app *app, identity_principal *pr, projects_ctx *c)
{
    sb_str tok;
    if (!client_token(req, &tok)) {
        api_influx_error(req, 401, "unable to parse authentication credentials");
        return false;
    }
    int64_t now = sb_wall_us();
    api_loop *al = api_loop_of(req);
    identity_err e = identity_authenticate(app->identity, tok, now, pr);
    if (e == IDENTITY_OK)
        e = identity_check_session(app->identity, al->db, pr, now);
    if (e != IDENTITY_OK) {
        api_influx_error(req, 401, "authorization failed");
        return false;
    }
    *c = (projects_ctx){
        .db = al->db,
        .blobs = app->blobs,
        .caller = {.ip = net_req_peer(req), .user_id = pr->user_id},
        .session_id = pr->session_id,
        .now_us = now,
        .limits = &app->limits,
    };
    return true;
}

/* Asks whether the caller may read or write db; answers and returns false
 * when not. */
static bool db_access(net_req *req, projects_ctx *c, sb_str db, bool write)
{
    /* InfluxDB quotes the name on /write and not on /query. */
    const char *q = write ? "\"" : "";
    projects_err e =
        analytics_db_name_ok(db) ? projects_analytics_access(c, db, write) : PROJECTS_NOT_FOUND;
    switch (e) {
    case PROJECTS_OK:
        return true;
    case PROJECTS_NOT_FOUND:
        api_influx_error(req, 404, "database not found: %s%.*s%s", q, (int)SB_MIN(db.len, 100),
                         db.ptr, q);
        return false;
    case PROJECTS_STORE:
    case PROJECTS_INTERNAL:
        api_influx_error(req, 503, "the project store is not available; try again");
        return false;
    default:
        api_influx_error(req, 403, "user is not authorized to %s database \"%.*s\"",
                         write ? "write to" : "read from", (int)SB_MIN(db.len, 100), db.ptr);
        return false;
    }
}

static void answer_backend(net_req *req, api_tsdb_job *j)
{
    net_header_static(req, "x-influxdb-version", API_INFLUX_VERSION);
    if (j->res.status == 204 || j->res.body.len == 0) {
        net_respond(req, j->res.status ? j->res.status : 500, NULL, NULL, 0);
        return;
    }
    if (j->res.status >= 400)
        net_header_static(req, "x-influxdb-error", "1");
    net_respond_json(req, j->res.status, &j->res.body);
}

/* ---- /ping ---- */

static void ping(net_req *req, void *ctx)
{
    net_header_static(req, "x-influxdb-version", API_INFLUX_VERSION);
    net_header_static(req, "x-influxdb-build", "OSS");
    sb_str v;
    if (net_req_query(req, "verbose", &v) &&
        (sb_str_eq(v, SB_STR("true")) || sb_str_eq(v, SB_STR("1")))) {
        sb_buf body = SB_BUF_INIT;
        sb_buf_puts(&body, "{\"version\":\"" API_INFLUX_VERSION "\"}");
        net_respond_json(req, 200, &body);
        sb_buf_free(&body);
        return;
    }
    net_respond(req, 204, NULL, NULL, 0);
}

/* ---- /write ---- */

/* Inflates a gzip body into out, at most max bytes: 0, or 413 / 400. */
static int gunzip(sb_str in, size_t max, sb_buf *out)
{
    z_stream z = {0};
    if (inflateInit2(&z, 16 + MAX_WBITS) != Z_OK)
        return 500;
    z.next_in = (Bytef *)in.ptr;
    z.avail_in = (uInt)in.len;
    int rc = Z_OK, status = 0;
    while (rc != Z_STREAM_END) {
        if (out->len >= max) {
            status = 413;
            break;
        }
        size_t room = SB_MIN((size_t)64 * 1024, max - out->len);
        sb_buf_reserve(out, room);
        z.next_out = (Bytef *)out->ptr + out->len;
        z.avail_out = (uInt)room;
        rc = inflate(&z, Z_NO_FLUSH);
        out->len += room - z.avail_out;
        if (rc == Z_STREAM_END)
            break;
        if (rc != Z_OK || (z.avail_in == 0 && z.avail_out != 0)) {
            status = 400;
            break;
        }
    }
    inflateEnd(&z);
    return status;
}

static void write_route(net_req *req, void *ctx)
{
    api_app *app = ctx;
    identity_principal pr;
    projects_ctx c;
    if (!influx_caller(req, app, &pr, &c))
        return;
    sb_str db;
    if (!net_req_query(req, "db", &db) || db.len == 0) {
        api_influx_error(req, 400, "database is required");
        return;
    }
    if (!db_access(req, &c, db, true))
        return;
    sb_str precision = SB_STR_NULL, rp;
    tsdb_precision prec;
    if (net_req_query(req, "precision", &precision) && precision.len &&
        !tsdb_precision_parse(precision, &prec)) {
        api_influx_error(req, 400, "invalid precision \"%.*s\" (use n, u, ms, s, m or h)",
                         (int)SB_MIN(precision.len, 16), precision.ptr);
        return;
    }
    if (net_req_query(req, "rp", &rp) && rp.len && !sb_str_eq(rp, SB_STR("autogen"))) {
        api_influx_error(req, 404, "retention policy not found: %.*s", (int)SB_MIN(rp.len, 64),
                         rp.ptr);
        return;
    }
    api_tsdb_job *j = api_tsdb_job_new(app, API_TSDB_WRITE, db);
    sb_str enc;
    if (net_req_header(req, "content-encoding", &enc) && sb_str_eq_nocase(enc, SB_STR("gzip"))) {
        int st = gunzip(req->body, app->cfg->max_write_body, &j->body);
        if (st) {
            api_tsdb_job_free(j);
            if (st == 413)
                api_influx_error(req, 413,
                                 "request entity too large: more than %zu bytes after "
                                 "decompression",
                                 app->cfg->max_write_body);
            else
                api_influx_error(req, 400, "unable to decode gzip body");
            return;
        }
    } else if (net_req_header(req, "content-encoding", &enc) && enc.len &&
               !sb_str_eq_nocase(enc, SB_STR("identity"))) {
        api_tsdb_job_free(j);
        api_influx_error(req, 415, "unsupported Content-Encoding: use gzip or none");
        return;
    } else {
        sb_buf_append_str(&j->body, req->body);
    }
    if (precision.len)
        snprintf(j->precision, sizeof(j->precision), "%.*s", SB_STR_FMT(precision));
    j->answer = answer_backend;
    api_tsdb_submit(req, j, true);
}

/* ---- /query ---- */

/* A parameter from the form body (POST) or else the URL, as Go's
 * FormValue reads it. */
typedef struct form {
    net_query_pair pairs[32];
    size_t n;
} form;

static bool form_get(net_req *req, const form *f, const char *key, sb_str *out)
{
    for (size_t i = 0; i < f->n; i++)
        if (sb_str_eq(f->pairs[i].key, sb_str_c(key))) {
            *out = f->pairs[i].value;
            return true;
        }
    return net_req_query(req, key, out);
}

typedef struct show_dbs {
    sb_jw *w;
} show_dbs;

static void add_db(void *arg, const char *id)
{
    show_dbs *s = arg;
    sb_jw_arr_begin(s->w);
    sb_jw_str(s->w, id);
    sb_jw_arr_end(s->w);
}

static bool is_admin_stmt(iql_stmt_kind k)
{
    return k == IQL_SHOW_DATABASES || k == IQL_CREATE_DATABASE || k == IQL_DROP_DATABASE;
}

static void answer_create(net_req *req, api_tsdb_job *j)
{
    net_header_static(req, "x-influxdb-version", API_INFLUX_VERSION);
    sb_buf body = SB_BUF_INIT;
    if (j->res.status == 200) {
        sb_buf_puts(&body, "{\"results\":[{\"statement_id\":0}]}");
        net_respond_json(req, 200, &body);
    } else {
        answer_backend(req, j);
    }
    sb_buf_free(&body);
}

/* SHOW DATABASES, CREATE DATABASE and DROP DATABASE, which are ours to
 * answer: a database is a project. */
static void admin_statements(net_req *req, api_app *app, projects_ctx *c, const iql_query *q)
{
    if (q->nstmts == 1 && q->stmts[0].kind == IQL_CREATE_DATABASE) {
        sb_str name = q->stmts[0].database;
        if (!db_access(req, c, name, true))
            return;
        api_tsdb_job *j = api_tsdb_job_new(app, API_TSDB_CREATE_DB, name);
        j->answer = answer_create;
        api_tsdb_submit(req, j, true);
        return;
    }
    sb_buf body = SB_BUF_INIT;
    sb_jw w;
    sb_jw_init(&w, &body);
    sb_jw_obj_begin(&w);
    sb_jw_key(&w, "results");
    sb_jw_arr_begin(&w);
    for (size_t i = 0; i < q->nstmts; i++) {
        const iql_stmt *s = &q->stmts[i];
        sb_jw_obj_begin(&w);
        sb_jw_kv_int(&w, "statement_id", (int64_t)i);
        if (s->kind == IQL_SHOW_DATABASES) {
            sb_jw_key(&w, "series");
            sb_jw_arr_begin(&w);
            sb_jw_obj_begin(&w);
            sb_jw_kv_str(&w, "name", "databases");
            sb_jw_key(&w, "columns");
            sb_jw_arr_begin(&w);
            sb_jw_str(&w, "name");
            sb_jw_arr_end(&w);
            sb_jw_key(&w, "values");
            sb_jw_arr_begin(&w);
            show_dbs sd = {&w};
            projects_err e = projects_analytics_readable(c, add_db, &sd);
            sb_jw_arr_end(&w);
            sb_jw_obj_end(&w);
            sb_jw_arr_end(&w);
            if (e != PROJECTS_OK) {
                sb_buf_free(&body);
                api_influx_error(req, 503, "the project store is not available; try again");
                return;
            }
        } else if (s->kind == IQL_CREATE_DATABASE) {
            sb_jw_kv_str(&w, "error", "CREATE DATABASE must be sent alone");
        } else {
            sb_jw_kv_str(&w, "error",
                         "DROP DATABASE is not allowed: a project's series are deleted with "
                         "the project");
        }
        sb_jw_obj_end(&w);
    }
    sb_jw_arr_end(&w);
    sb_jw_obj_end(&w);
    net_header_static(req, "x-influxdb-version", API_INFLUX_VERSION);
    net_respond_json(req, 200, &body);
    sb_buf_free(&body);
}

#define DB_SPANS_MAX 1024

/* Grown as names are found: most queries name no database. */
typedef struct db_spans {
    analytics_span *v;
    size_t n, cap;
} db_spans;

/* Records where name lies in text (it does unless the parser had to undo
 * an escape, which a project id never needs). */
static void add_span(db_spans *d, sb_str text, sb_str name)
{
    if (name.ptr < text.ptr || name.ptr + name.len > text.ptr + text.len || d->n >= DB_SPANS_MAX)
        return;
    if (d->n == d->cap) {
        d->cap = d->cap ? d->cap * 2 : 4;
        d->v = sb_realloc(d->v, d->cap * sizeof(*d->v));
    }
    size_t off = (size_t)(name.ptr - text.ptr), i = d->n++;
    while (i > 0 && d->v[i - 1].off > off) { /* keep them ascending */
        d->v[i] = d->v[i - 1];
        i--;
    }
    d->v[i] = (analytics_span){off, name.len};
}

/* Every database a statement names must be readable: FROM db.rp.m and
 * SHOW ... ON db; fills spans with where they are named. */
static bool named_dbs_ok(net_req *req, projects_ctx *c, sb_str text, const iql_query *q,
                         db_spans *spans)
{
    for (size_t i = 0; i < q->nstmts; i++) {
        const iql_stmt *s = &q->stmts[i];
        const iql_source *src = s->kind == IQL_SELECT ? s->select.sources : s->show.sources;
        size_t n = s->kind == IQL_SELECT ? s->select.nsources : s->show.nsources;
        for (size_t k = 0; k < n; k++) {
            if (!src[k].db.ptr || !src[k].db.len)
                continue;
            if (!db_access(req, c, src[k].db, false))
                return false;
            add_span(spans, text, src[k].db);
        }
        if (s->kind != IQL_SELECT && s->show.on.ptr) {
            if (!db_access(req, c, s->show.on, false))
                return false;
            add_span(spans, text, s->show.on);
        }
    }
    return true;
}

static void query_route(net_req *req, void *ctx)
{
    api_app *app = ctx;
    identity_principal pr;
    projects_ctx c;
    if (!influx_caller(req, app, &pr, &c))
        return;
    form f = {.n = 0};
    sb_str ct;
    if (req->method == NET_POST && req->body.len && net_req_header(req, "content-type", &ct) &&
        sb_str_has_prefix(ct, SB_STR("application/x-www-form-urlencoded"))) {
        if (net_uri_parse_query(req->body, &req->arena, f.pairs, SB_ARRAY_LEN(f.pairs), &f.n) !=
            NET_URI_OK) {
            api_influx_error(req, 400, "malformed form body");
            return;
        }
    }
    sb_str text, db = SB_STR_NULL, epoch = SB_STR_NULL, params = SB_STR_NULL;
    if (!form_get(req, &f, "q", &text) || text.len == 0) {
        api_influx_error(req, 400, "missing required parameter \"q\"");
        return;
    }
    form_get(req, &f, "db", &db);
    if (form_get(req, &f, "epoch", &epoch) && epoch.len) {
        tsdb_precision p;
        if (!tsdb_precision_parse(epoch, &p)) {
            api_influx_error(req, 400, "invalid epoch \"%.*s\" (use n, u, ms, s, m or h)",
                             (int)SB_MIN(epoch.len, 16), epoch.ptr);
            return;
        }
    }
    form_get(req, &f, "params", &params);
    /* chunked=true (the influx CLI asks for it) gets the whole answer as
     * one chunk: a stream of one JSON object, which its readers accept. */
    /* Parsed once, in the job's copy of the text, which the backend takes
     * as it is (the spans below point into that copy). */
    api_tsdb_job *j = api_tsdb_job_new(app, API_TSDB_QUERY, db);
    sb_buf_append_str(&j->body, text);
    text = sb_buf_str(&j->body);
    iql_error perr;
    if (!api_tsdb_job_parse(j, &perr)) {
        api_tsdb_job_free(j);
        api_influx_error(req, 400, "error parsing query: %s", perr.message);
        return;
    }
    const iql_query *q = &j->parsed;
    size_t nadmin = 0;
    for (size_t i = 0; i < q->nstmts; i++)
        nadmin += is_admin_stmt(q->stmts[i].kind);
    if (nadmin) {
        if (nadmin != q->nstmts)
            api_influx_error(req, 400,
                             "SHOW DATABASES, CREATE DATABASE and DROP DATABASE must "
                             "be sent without other statements");
        else
            admin_statements(req, app, &c, q);
        api_tsdb_job_free(j);
        return;
    }
    if (db.len && !db_access(req, &c, db, false)) {
        api_tsdb_job_free(j);
        return;
    }
    db_spans spans = {.v = NULL};
    bool ok = named_dbs_ok(req, &c, text, q, &spans);
    j->db_spans = spans.v; /* the job frees it */
    j->ndb_spans = spans.n;
    if (!ok) {
        api_tsdb_job_free(j);
        return;
    }
    if (epoch.len)
        snprintf(j->epoch, sizeof(j->epoch), "%.*s", (int)SB_MIN(epoch.len, 7), epoch.ptr);
    if (params.ptr && params.len) {
        j->has_params = true;
        sb_buf_append_str(&j->params, params);
    }
    j->answer = answer_backend;
    api_tsdb_submit(req, j, true);
}

void api_influx_register(net_router *r, api_app *app)
{
    /* The raw (maybe gzipped) body is bounded by the same limit as the
     * decompressed one. */
    size_t write_max = app->cfg->max_write_body;
    net_router_add(r, NET_GET, "/ping", ping, app, 0);
    net_router_add(r, NET_POST, "/write", write_route, app, write_max);
    net_router_add(r, NET_GET, "/query", query_route, app, 0);
    net_router_add(r, NET_POST, "/query", query_route, app, QUERY_MAX_BODY);
}
