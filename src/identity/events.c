/*
 * events.c: the security event log (user_security_events). Each decision
 * about an account (sign-in, failure, refresh reuse, revocation) leaves a
 * row the user can list. Recording is best effort: a failure to record is
 * logged, never turned into a failed sign-in.
 */
#include "identity/identity_int.h"

#include <string.h>

#include "base/log.h"

void identity__event(store *db, const char *user_id, const char *type, int risk,
                     const identity_client *c, const char *metadata_json)
{
    store_stmt *st;
    sb_errbuf err;
    store_err e = store_prepare(db,
                                "INSERT INTO user_security_events (id, user_id, event_type, "
                                "risk_score, ip, user_agent, metadata, created_at) "
                                "VALUES ($1, $2, $3, $4, $5, $6, $7, $8)",
                                &st, &err);
    if (e == STORE_OK) {
        sb_uuid u;
        char uid[SB_UUID_STR_LEN];
        sb_uuid_v7(&u);
        sb_uuid_format(&u, uid);
        store_bind_text(st, 1, uid, strlen(uid));
        store_bind_cstr(st, 2, user_id);
        store_bind_text(st, 3, type, strlen(type));
        store_bind_int(st, 4, risk);
        store_bind_cstr(st, 5, c ? c->ip : NULL);
        store_bind_cstr(st, 6, c ? c->user_agent : NULL);
        const char *meta = metadata_json ? metadata_json : "{}";
        store_bind_text(st, 7, meta, strlen(meta));
        store_bind_int(st, 8, c ? c->now_us : 0);
        e = store_step(st, &err);
        store_reset(st);
    }
    if (e != STORE_DONE && e != STORE_OK)
        sb_log(SB_LOG_WARN, "identity: cannot record a security event", SB_LOG_STR("type", type),
               SB_LOG_STR("error", err.msg));
}

identity_err identity_events_list(identity *id, store *db, const char *user_id, sb_str after,
                                  int limit, void (*fn)(void *ctx, const identity_event *e),
                                  void *ctx, bool *more)
{
    store_stmt *st;
    sb_errbuf err;
    /* Ids are UUIDv7: their text order is their time order. */
    store_err e = store_prepare(db,
                                "SELECT id, event_type, risk_score, ip, user_agent, metadata, "
                                "created_at FROM user_security_events WHERE user_id = $1 AND "
                                "($2 = '' OR id < $2) ORDER BY id DESC LIMIT $3",
                                &st, &err);
    if (e != STORE_OK)
        return identity__store_failed("listing security events", e, &err);
    store_bind_cstr(st, 1, user_id);
    store_bind_text(st, 2, after.ptr ? after.ptr : "", after.len);
    store_bind_int(st, 3, limit + 1);
    int n = 0;
    *more = false;
    while ((e = store_step(st, &err)) == STORE_ROW) {
        if (n++ == limit) {
            *more = true;
            continue;
        }
        identity_event ev = {
            .id = store_col_text(st, 0, NULL),
            .type = store_col_text(st, 1, NULL),
            .risk_score = (int)store_col_int(st, 2),
            .ip = store_col_is_null(st, 3) ? NULL : store_col_text(st, 3, NULL),
            .user_agent = store_col_is_null(st, 4) ? NULL : store_col_text(st, 4, NULL),
            .metadata = store_col_text(st, 5, NULL),
            .created_at = store_col_int(st, 6),
        };
        fn(ctx, &ev);
    }
    store_reset(st);
    return e == STORE_DONE ? IDENTITY_OK
                           : identity__store_failed("listing security events", e, &err);
}
