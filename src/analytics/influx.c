/*
 * influx.c: the `influx` driver: a real InfluxDB 1.x over HTTP with
 * libcurl. Answers are passed through as InfluxDB gave them (status, JSON
 * body, version header), so clients of /write and /query see InfluxDB's
 * own words; only what InfluxDB could not say itself is ours: 503 when it
 * cannot be reached or times out.
 *
 * Databases there are named prefix + project id; the prefix is taken out
 * of error texts again, so a client never sees it. A write to a database
 * InfluxDB does not know yet creates it and is sent once more: a project
 * needs no set-up before its first point.
 *
 * Connections: a small pool of curl easy handles (each keeps its
 * connection alive), taken and given back under a mutex, so concurrent
 * calls from worker threads reuse connections and never share a handle.
 */
#include "analytics/backend.h"

#include <curl/curl.h>
#include <pthread.h>
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "base/json.h"

#define POOL_MAX        16
#define CONNECT_TIMEOUT 2000L        /* ms: a down server fails fast */
#define REQUEST_TIMEOUT 30000L       /* ms: the longest query we wait for */
#define RESPONSE_MAX    (256u << 20) /* bytes of an answer we accept */

typedef struct influx {
    analytics_backend base;
    char url[256];        /* "http://host:port", no trailing slash */
    char prefix[64];      /* database name prefix there */
    pthread_mutex_t lock; /* guards pool, npool */
    CURL *pool[POOL_MAX];
    size_t npool;
} influx;

typedef struct reply {
    sb_buf body;
    char version[32];
    bool too_large;
} reply;

static pthread_once_t curl_once = PTHREAD_ONCE_INIT;

static void curl_init(void)
{
    curl_global_init(CURL_GLOBAL_DEFAULT);
}

static CURL *handle_take(influx *x)
{
    CURL *h = NULL;
    pthread_mutex_lock(&x->lock);
    if (x->npool > 0)
        h = x->pool[--x->npool];
    pthread_mutex_unlock(&x->lock);
    if (!h && !(h = curl_easy_init()))
        sb_die("out of memory making a curl handle");
    return h;
}

static void handle_give(influx *x, CURL *h)
{
    curl_easy_reset(h); /* options go; the connection cache stays */
    pthread_mutex_lock(&x->lock);
    if (x->npool < POOL_MAX) {
        x->pool[x->npool++] = h;
        h = NULL;
    }
    pthread_mutex_unlock(&x->lock);
    if (h)
        curl_easy_cleanup(h);
}

static size_t on_body(char *p, size_t size, size_t n, void *arg)
{
    reply *r = arg;
    size_t len = size * n;
    if (r->body.len + len > RESPONSE_MAX) {
        r->too_large = true;
        return 0; /* aborts the transfer */
    }
    sb_buf_append(&r->body, p, len);
    return len;
}

static size_t on_header(char *p, size_t size, size_t n, void *arg)
{
    reply *r = arg;
    size_t len = size * n;
    static const char name[] = "x-influxdb-version:";
    if (len > sizeof(name) - 1 && strncasecmp(p, name, sizeof(name) - 1) == 0) {
        size_t i = sizeof(name) - 1, j = len;
        while (i < j && (p[i] == ' ' || p[i] == '\t'))
            i++;
        while (j > i && (p[j - 1] == '\r' || p[j - 1] == '\n' || p[j - 1] == ' '))
            j--;
        snprintf(r->version, sizeof(r->version), "%.*s", (int)(j - i), p + i);
    }
    return len;
}

/* The database name there. */
static void remote_db(const influx *x, sb_str db, sb_buf *out)
{
    sb_buf_puts(out, x->prefix);
    sb_buf_append_str(out, db);
}

/* Takes the prefix out of the names of our databases in InfluxDB's words
 * ("database not found: \"sb_<id>\"" -> "...\"<id>\""): only where the
 * prefix is followed by a project id, so that data which merely contains
 * the prefix is left alone. */
static void strip_prefix(const influx *x, sb_buf *body)
{
    size_t plen = strlen(x->prefix);
    if (plen == 0 || body->len < plen)
        return;
    size_t w = 0;
    for (size_t r = 0; r < body->len;) {
        if (r + plen + 36 <= body->len && memcmp(body->ptr + r, x->prefix, plen) == 0 &&
            analytics_db_name_ok(sb_str_make(body->ptr + r + plen, 36))) {
            r += plen;
            continue;
        }
        body->ptr[w++] = body->ptr[r++];
    }
    body->len = w;
}

static void append_param(sb_buf *q, CURL *h, const char *key, sb_str value)
{
    if (!value.ptr)
        return;
    char *e = curl_easy_escape(h, value.ptr ? value.ptr : "", (int)value.len);
    if (!e)
        sb_die("out of memory escaping a URL parameter");
    if (q->len)
        sb_buf_putc(q, '&');
    sb_buf_appendf(q, "%s=%s", key, e);
    curl_free(e);
}

/* One HTTP exchange: method POST when body is not NULL (content type
 * ctype), GET otherwise. Fills out with InfluxDB's answer, or 503. */
static void exchange(influx *x, CURL *h, const char *path, const sb_buf *query, const char *ctype,
                     sb_str body, analytics_result *out)
{
    reply r = {.body = SB_BUF_INIT};
    sb_buf url = SB_BUF_INIT;
    sb_buf_appendf(&url, "%s%s", x->url, path);
    if (query && query->len) {
        sb_buf_putc(&url, '?');
        sb_buf_append(&url, query->ptr, query->len);
    }
    sb_buf_putc(&url, '\0');
    struct curl_slist *headers = NULL;
    curl_easy_setopt(h, CURLOPT_URL, url.ptr);
    curl_easy_setopt(h, CURLOPT_NOSIGNAL, 1L);
    curl_easy_setopt(h, CURLOPT_CONNECTTIMEOUT_MS, CONNECT_TIMEOUT);
    curl_easy_setopt(h, CURLOPT_TIMEOUT_MS, REQUEST_TIMEOUT);
    curl_easy_setopt(h, CURLOPT_TCP_KEEPALIVE, 1L);
    curl_easy_setopt(h, CURLOPT_WRITEFUNCTION, on_body);
    curl_easy_setopt(h, CURLOPT_WRITEDATA, &r);
    curl_easy_setopt(h, CURLOPT_HEADERFUNCTION, on_header);
    curl_easy_setopt(h, CURLOPT_HEADERDATA, &r);
    if (body.ptr) {
        curl_easy_setopt(h, CURLOPT_POST, 1L);
        curl_easy_setopt(h, CURLOPT_POSTFIELDS, body.ptr);
        curl_easy_setopt(h, CURLOPT_POSTFIELDSIZE_LARGE, (curl_off_t)body.len);
        char ct[96];
        snprintf(ct, sizeof(ct), "Content-Type: %s", ctype);
        headers = curl_slist_append(headers, ct);
        /* No "Expect: 100-continue" round trip on large bodies. */
        headers = curl_slist_append(headers, "Expect:");
        curl_easy_setopt(h, CURLOPT_HTTPHEADER, headers);
    }
    CURLcode c = curl_easy_perform(h);
    curl_slist_free_all(headers);
    sb_buf_free(&url);
    if (c != CURLE_OK) {
        if (r.too_large)
            analytics_result_error(out, 500, "the InfluxDB answer is larger than %u bytes",
                                   RESPONSE_MAX);
        else
            analytics_result_error(out, 503, "InfluxDB at %s is not available: %s", x->url,
                                   curl_easy_strerror(c));
        sb_buf_free(&r.body);
        return;
    }
    long status = 0;
    curl_easy_getinfo(h, CURLINFO_RESPONSE_CODE, &status);
    out->status = (int)status;
    out->body = r.body;
    snprintf(out->version, sizeof(out->version), "%s", r.version);
    strip_prefix(x, &out->body);
}

static void run_statement(influx *x, const char *verb, sb_str db, analytics_result *out)
{
    CURL *h = handle_take(x);
    sb_buf stmt = SB_BUF_INIT, form = SB_BUF_INIT;
    sb_buf_appendf(&stmt, "%s \"", verb);
    sb_buf name = SB_BUF_INIT;
    remote_db(x, db, &name);
    /* db is a checked project id (analytics_db_name_ok): no quote inside. */
    sb_buf_append(&stmt, name.ptr, name.len);
    sb_buf_putc(&stmt, '"');
    append_param(&form, h, "q", sb_buf_str(&stmt));
    exchange(x, h, "/query", NULL, "application/x-www-form-urlencoded", sb_buf_str(&form), out);
    handle_give(x, h);
    sb_buf_free(&stmt);
    sb_buf_free(&form);
    sb_buf_free(&name);
}

static void influx_create_db(analytics_backend *b, sb_str db, analytics_result *out)
{
    run_statement((influx *)b, "CREATE DATABASE", db, out);
}

static void influx_drop_db(analytics_backend *b, sb_str db, analytics_result *out)
{
    run_statement((influx *)b, "DROP DATABASE", db, out);
}

static bool db_missing(const analytics_result *r)
{
    static const char needle[] = "database not found";
    return r->status == 404 && r->body.len >= sizeof(needle) - 1 &&
           memmem(r->body.ptr, r->body.len, needle, sizeof(needle) - 1) != NULL;
}

static void influx_write(analytics_backend *b, sb_str db, sb_str body, sb_str precision,
                         analytics_result *out)
{
    influx *x = (influx *)b;
    for (int attempt = 0;; attempt++) {
        CURL *h = handle_take(x);
        sb_buf q = SB_BUF_INIT, name = SB_BUF_INIT;
        remote_db(x, db, &name);
        append_param(&q, h, "db", sb_buf_str(&name));
        append_param(&q, h, "precision", precision);
        exchange(x, h, "/write", &q, "text/plain; charset=utf-8", body.ptr ? body : SB_STR(""),
                 out);
        handle_give(x, h);
        sb_buf_free(&q);
        sb_buf_free(&name);
        if (attempt > 0 || !db_missing(out))
            return;
        /* The project's first point: make its database, then write again. */
        analytics_result made = {0};
        influx_create_db(b, db, &made);
        int made_status = made.status;
        analytics_result_free(&made);
        if (made_status != 200)
            return;
        analytics_result_free(out);
    }
}

/* The query with the prefix put before every database it names. */
static void prefixed_query(const influx *x, const analytics_query *aq, sb_buf *out)
{
    size_t at = 0;
    for (size_t i = 0; i < aq->ndb_spans; i++) {
        const analytics_span *s = &aq->db_spans[i];
        if (s->off < at || s->off + s->len > aq->q.len)
            continue; /* out of order or out of range: the caller's bug; skip */
        sb_buf_append(out, aq->q.ptr + at, s->off - at);
        sb_buf_puts(out, x->prefix);
        at = s->off;
    }
    sb_buf_append(out, aq->q.ptr + at, aq->q.len - at);
}

static void influx_query(analytics_backend *b, const analytics_query *aq, analytics_result *out)
{
    influx *x = (influx *)b;
    CURL *h = handle_take(x);
    sb_buf form = SB_BUF_INIT, name = SB_BUF_INIT, text = SB_BUF_INIT;
    if (aq->db.ptr && aq->db.len) {
        remote_db(x, aq->db, &name);
        append_param(&form, h, "db", sb_buf_str(&name));
    }
    if (x->prefix[0] && aq->ndb_spans) {
        prefixed_query(x, aq, &text);
        append_param(&form, h, "q", sb_str_make(text.ptr ? text.ptr : "", text.len));
    } else {
        append_param(&form, h, "q", aq->q);
    }
    append_param(&form, h, "epoch", aq->epoch);
    append_param(&form, h, "params", aq->params);
    exchange(x, h, "/query", NULL, "application/x-www-form-urlencoded", sb_buf_str(&form), out);
    handle_give(x, h);
    sb_buf_free(&form);
    sb_buf_free(&name);
    sb_buf_free(&text);
}

static void influx_ping(analytics_backend *b, analytics_result *out)
{
    influx *x = (influx *)b;
    CURL *h = handle_take(x);
    exchange(x, h, "/ping", NULL, NULL, SB_STR_NULL, out);
    handle_give(x, h);
}

static void influx_free(analytics_backend *b)
{
    influx *x = (influx *)b;
    for (size_t i = 0; i < x->npool; i++)
        curl_easy_cleanup(x->pool[i]);
    pthread_mutex_destroy(&x->lock);
    free(x);
}

static const analytics_backend_vt influx_vt = {
    .name = "influx",
    .write = influx_write,
    .query = influx_query,
    .create_db = influx_create_db,
    .drop_db = influx_drop_db,
    .ping = influx_ping,
    .free = influx_free,
};

analytics_backend *analytics_influx_open(sb_str host_port, sb_str prefix, sb_errbuf *err)
{
    if (host_port.len == 0 || host_port.len > 200)
        return sb_errf(err, "tsdb: influx://host:port needs a host and port"), NULL;
    for (size_t i = 0; i < host_port.len; i++) {
        char c = host_port.ptr[i];
        bool ok = (c >= 'a' && c <= 'z') || (c >= 'A' && c <= 'Z') || (c >= '0' && c <= '9') ||
                  c == '.' || c == '-' || c == ':' || c == '[' || c == ']';
        if (!ok)
            return sb_errf(err, "tsdb: '%.*s' is not a host:port", SB_STR_FMT(host_port)), NULL;
    }
    if (prefix.len >= 64)
        return sb_errf(err, "tsdb: the database prefix is longer than 63 bytes"), NULL;
    for (size_t i = 0; i < prefix.len; i++) {
        char c = prefix.ptr[i];
        if (!((c >= 'a' && c <= 'z') || (c >= 'A' && c <= 'Z') || (c >= '0' && c <= '9') ||
              c == '_' || c == '-'))
            return sb_errf(err, "tsdb: the database prefix may hold [A-Za-z0-9_-] only"), NULL;
    }
    pthread_once(&curl_once, curl_init);
    influx *x = sb_calloc(1, sizeof(*x));
    x->base.vt = &influx_vt;
    snprintf(x->url, sizeof(x->url), "http://%.*s", SB_STR_FMT(host_port));
    snprintf(x->prefix, sizeof(x->prefix), "%.*s", SB_STR_FMT(prefix));
    pthread_mutex_init(&x->lock, NULL);
    return &x->base;
}
