/*
 * risk.c: how unusual a sign-in with the right password looks.
 *
 * Signals, from the user's own past sessions (the last 100): a device
 * (fingerprint, or user agent when the client sends none) never seen, an IP
 * never seen, failures just before this success, and an hour of day (UTC)
 * more than an hour away from every past sign-in once there are five to
 * judge by. A first sign-in has no history, so only failures count. Weights
 * add up to at most 100; config's risk_threshold decides what is too much.
 */
#include "identity/identity_int.h"

#include <string.h>

#include "base/json.h"

#define HISTORY        100
#define W_NEW_DEVICE   30
#define W_NEW_IP       25
#define W_PER_FAILURE  10
#define W_FAILURES_MAX 30
#define W_UNUSUAL_HOUR 15
#define HOUR_US        (3600LL * 1000000)

static int hour_of(int64_t us)
{
    return (int)((us / HOUR_US) % 24);
}

static bool same(const char *a, const char *b)
{
    return a && b && strcmp(a, b) == 0;
}

int identity__risk(store *db, const char *user_id, const identity_client *c, int failures,
                   sb_buf *metadata)
{
    store_stmt *st;
    sb_errbuf err;
    int sessions = 0, near_hour = 0;
    bool device_seen = false, ip_seen = false;
    const char *device = c->device ? c->device : c->user_agent;
    int hour = hour_of(c->now_us);
    if (store_prepare(db,
                      "SELECT device_fingerprint, user_agent, ip, created_at FROM user_sessions "
                      "WHERE user_id = $1 ORDER BY id DESC LIMIT 100",
                      &st, &err) == STORE_OK) {
        store_bind_cstr(st, 1, user_id);
        while (store_step(st, &err) == STORE_ROW) {
            sessions++;
            const char *fp = store_col_is_null(st, 0) ? NULL : store_col_text(st, 0, NULL);
            const char *ua = store_col_is_null(st, 1) ? NULL : store_col_text(st, 1, NULL);
            const char *ip = store_col_is_null(st, 2) ? NULL : store_col_text(st, 2, NULL);
            device_seen |= c->device ? same(fp, c->device) : same(ua, device);
            ip_seen |= same(ip, c->ip);
            int d = hour_of(store_col_int(st, 3)) - hour;
            d = d < 0 ? -d : d;
            near_hour += SB_MIN(d, 24 - d) <= 1;
        }
        store_reset(st);
    }
    int score = 0;
    sb_jw w;
    sb_jw_init(&w, metadata);
    sb_jw_obj_begin(&w);
    sb_jw_key(&w, "factors");
    sb_jw_arr_begin(&w);
    if (sessions > 0 && !device_seen && device) {
        score += W_NEW_DEVICE;
        sb_jw_str(&w, "new_device");
    }
    if (sessions > 0 && !ip_seen && c->ip) {
        score += W_NEW_IP;
        sb_jw_str(&w, "new_ip");
    }
    if (failures > 0) {
        score += SB_MIN(failures * W_PER_FAILURE, W_FAILURES_MAX);
        sb_jw_str(&w, "recent_failures");
    }
    if (sessions >= 5 && near_hour == 0) {
        score += W_UNUSUAL_HOUR;
        sb_jw_str(&w, "unusual_hour");
    }
    sb_jw_arr_end(&w);
    sb_jw_kv_int(&w, "risk", score);
    sb_jw_obj_end(&w);
    return score;
}
