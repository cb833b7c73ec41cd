/*
 * idempotency.c: Idempotency-Key on POST (API.md): a client that retries
 * a create after a timeout gets the first answer again, not a second
 * resource. Keys are per user, remembered 24 h, and bound to the request
 * they came with (method, path and body, hashed): the same key with
 * another request is a client bug, answered 422.
 *
 * A row is claimed (status 0) before the handler runs, so a retry that
 * arrives while the first is still running gets 409 rather than running
 * twice. A claim older than CLAIM_STALE_US was left by a crash and is
 * taken over. Failed answers are not kept: a retry runs again.
 */
#include <stdlib.h>
#include <string.h>

#include "api/domain.h"
#include "base/clock.h"
#include "base/log.h"
#include "crypto/crypto.h"

#define KEEP_US        (24LL * 3600 * 1000000)
#define CLAIM_STALE_US (60LL * 1000000)

static void request_hash(net_req *req, char out[65])
{
    sb_buf b = SB_BUF_INIT;
    sb_buf_appendf(&b, "%s %.*s?%.*s\n", net_method_name(req->method), SB_STR_FMT(req->path),
                   SB_STR_FMT(req->query));
    sb_buf_append(&b, req->body.ptr, req->body.len);
    uint8_t d[CRYPTO_SHA256_LEN];
    crypto_sha256(b.ptr, b.len, d);
    sb_buf_free(&b);
    sb_hex_encode(d, sizeof(d), out);
}

static bool key_ok(sb_str k)
{
    if (k.len == 0 || k.len > 255)
        return false;
    for (size_t i = 0; i < k.len; i++)
        if ((unsigned char)k.ptr[i] < 0x21 || (unsigned char)k.ptr[i] > 0x7e)
            return false;
    return true;
}

static void unavailable(net_req *req, const sb_errbuf *err)
{
    sb_log(SB_LOG_ERROR, "idempotency store failed", SB_LOG_STR("error", err->msg));
    net_header_static(req, "retry-after", "1");
    net_respond_problem(req, 503, "unavailable", "Service Unavailable",
                        "The database is not available; try again.");
}

/* Answers with the stored answer. */
static void replay(net_req *req, store_stmt *st)
{
    size_t n, hn;
    const void *body = store_col_blob(st, 1, &n);
    const char *headers = store_col_text(st, 2, &hn);
    json_t *h = json_loadb(headers, hn, 0, NULL);
    const char *loc = json_string_value(json_object_get(h, "location"));
    if (loc)
        net_header(req, "location", loc);
    json_decref(h);
    net_header_static(req, "idempotent-replayed", "true");
    net_respond(req, (int)store_col_int(st, 0), "application/json; charset=utf-8", body, n);
}

bool api_idem_begin(net_req *req, const char *user_id, api_idem *idem)
{
    memset(idem, 0, sizeof(*idem));
    sb_str k;
    if (!net_req_header(req, "idempotency-key", &k))
        return true;
    if (!key_ok(k)) {
        api_respond_invalid_field(req, "Idempotency-Key",
                                  "must be 1 to 255 visible ASCII characters");
        return false;
    }
    store *db = api_loop_of(req)->db;
    char hash[65];
    request_hash(req, hash);
    int64_t now = sb_wall_us();
    snprintf(idem->user_id, sizeof(idem->user_id), "%s", user_id);
    memcpy(idem->key, k.ptr, k.len);
    idem->key[k.len] = 0;
    sb_errbuf err;
    store_stmt *st;
    /* Forget an expired answer or an abandoned claim, then claim. */
    store_err e = store_prepare(db,
                                "DELETE FROM idempotency_keys WHERE user_id = $1 AND idem_key = $2 "
                                "AND (created_at < $3 OR (status = 0 AND created_at < $4))",
                                &st, &err);
    if (e == STORE_OK) {
        store_bind_cstr(st, 1, idem->user_id);
        store_bind_cstr(st, 2, idem->key);
        store_bind_int(st, 3, now - KEEP_US);
        store_bind_int(st, 4, now - CLAIM_STALE_US);
        e = store_step(st, &err);
        store_reset(st);
    }
    if (e == STORE_DONE)
        e = store_prepare(db,
                          "INSERT INTO idempotency_keys (user_id, idem_key, request_hash, status, "
                          "body, created_at) VALUES ($1, $2, $3, 0, $4, $5)",
                          &st, &err);
    if (e == STORE_OK) {
        store_bind_cstr(st, 1, idem->user_id);
        store_bind_cstr(st, 2, idem->key);
        store_bind_cstr(st, 3, hash);
        store_bind_blob(st, 4, "", 0);
        store_bind_int(st, 5, now);
        e = store_step(st, &err);
        store_reset(st);
    }
    if (e == STORE_DONE) {
        idem->active = true;
        return true;
    }
    if (e != STORE_CONSTRAINT) {
        unavailable(req, &err);
        return false;
    }
    /* The key is taken: replay, wait, or refuse. */
    e = store_prepare(db,
                      "SELECT status, body, headers, request_hash FROM idempotency_keys "
                      "WHERE user_id = $1 AND idem_key = $2",
                      &st, &err);
    if (e != STORE_OK) {
        unavailable(req, &err);
        return false;
    }
    store_bind_cstr(st, 1, idem->user_id);
    store_bind_cstr(st, 2, idem->key);
    e = store_step(st, &err);
    if (e != STORE_ROW) {
        store_reset(st);
        if (e == STORE_DONE) /* forgotten in between: the client may retry */
            net_respond_problem(req, 409, "idempotency_in_progress", "Conflict",
                                "A request with this Idempotency-Key just finished; retry.");
        else
            unavailable(req, &err);
        return false;
    }
    if (strcmp(store_col_text(st, 3, NULL), hash) != 0)
        net_respond_problem(req, 422, "idempotency_key_reused", "Unprocessable Content",
                            "This Idempotency-Key was used with another request.");
    else if (store_col_int(st, 0) == 0)
        net_respond_problem(req, 409, "idempotency_in_progress", "Conflict",
                            "A request with this Idempotency-Key is still running; retry later.");
    else
        replay(req, st);
    store_reset(st);
    return false;
}

void api_idem_respond(net_req *req, api_idem *idem, int status, const sb_buf *body,
                      const char *location)
{
    if (location)
        net_header(req, "location", location);
    if (idem->active) {
        store *db = api_loop_of(req)->db;
        sb_errbuf err;
        store_stmt *st;
        json_t *h = json_object();
        if (location)
            json_object_set_new(h, "location", json_string(location));
        char *headers = json_dumps(h, JSON_COMPACT);
        json_decref(h);
        store_err e = store_prepare(db,
                                    "UPDATE idempotency_keys SET status = $3, body = $4, "
                                    "headers = $5 WHERE user_id = $1 AND idem_key = $2",
                                    &st, &err);
        if (e == STORE_OK) {
            store_bind_cstr(st, 1, idem->user_id);
            store_bind_cstr(st, 2, idem->key);
            store_bind_int(st, 3, status);
            store_bind_blob(st, 4, body->ptr ? body->ptr : "", body->len);
            store_bind_cstr(st, 5, headers);
            e = store_step(st, &err);
            store_reset(st);
        }
        free(headers);
        if (e != STORE_DONE)
            sb_log(SB_LOG_ERROR, "an idempotent answer was not recorded",
                   SB_LOG_STR("error", err.msg));
    }
    net_respond_json(req, status, body);
}

void api_idem_abort(net_req *req, api_idem *idem)
{
    if (!idem->active)
        return;
    sb_errbuf err;
    store_stmt *st;
    store *db = api_loop_of(req)->db;
    if (store_prepare(db, "DELETE FROM idempotency_keys WHERE user_id = $1 AND idem_key = $2", &st,
                      &err) != STORE_OK)
        return;
    store_bind_cstr(st, 1, idem->user_id);
    store_bind_cstr(st, 2, idem->key);
    store_step(st, &err);
    store_reset(st);
}

bool api_idem_expire(store *db, int64_t now_us, sb_errbuf *err)
{
    store_stmt *st;
    store_err e = store_prepare(db, "DELETE FROM idempotency_keys WHERE created_at < $1", &st, err);
    if (e != STORE_OK)
        return false;
    store_bind_int(st, 1, now_us - KEEP_US);
    e = store_step(st, err);
    store_reset(st);
    return e == STORE_DONE;
}

void api_idem_finish(net_req *req, api_idem *idem, projects_err e, const projects_problem *p,
                     int status, const sb_buf *body, const char *location)
{
    if (e == PROJECTS_OK) {
        api_idem_respond(req, idem, status, body, location && location[0] ? location : NULL);
        return;
    }
    api_idem_abort(req, idem);
    api_respond_projects(req, e, p);
}
