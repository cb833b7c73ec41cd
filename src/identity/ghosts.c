/*
 * ghosts.c: failure streaks and locks for emails that have no account.
 *
 * Real accounts keep theirs in users.failed_logins / locked_until. An email
 * without an account must lock the same way, or a lock would tell an
 * attacker which emails are real; those streaks live here, in memory,
 * bounded, keyed by the SHA-256 of the lower-cased email (no addresses
 * kept in the clear).
 */
#include "identity/identity_int.h"

#include <pthread.h>
#include <stdlib.h>

#include "base/log.h"
#include "base/map.h"

#define GHOSTS_MAX 50000

typedef struct ghost {
    int failures;
    int64_t locked_until; /* us */
} ghost;

struct identity_ghosts {
    pthread_mutex_t lock;
    sb_map map; /* sha256 hex -> ghost* */
};

identity_ghosts *identity__ghosts_new(void)
{
    identity_ghosts *g = sb_calloc(1, sizeof(*g));
    pthread_mutex_init(&g->lock, NULL);
    sb_map_init(&g->map);
    return g;
}

static void drop_all(identity_ghosts *g)
{
    size_t it = 0;
    sb_map_entry *e;
    while ((e = sb_map_next(&g->map, &it)))
        free(e->value);
    sb_map_deinit(&g->map);
    sb_map_init(&g->map);
}

void identity__ghosts_free(identity_ghosts *g)
{
    if (!g)
        return;
    drop_all(g);
    sb_map_deinit(&g->map);
    pthread_mutex_destroy(&g->lock);
    free(g);
}

int64_t identity__lock_until(const identity_config *cfg, int failures, int64_t now_us)
{
    if (cfg->lockout_threshold <= 0 || failures < cfg->lockout_threshold)
        return 0;
    int64_t s = cfg->lockout_base_s;
    for (int i = cfg->lockout_threshold; i < failures && s < cfg->lockout_max_s; i++)
        s *= 2;
    return now_us + SB_MIN(s, cfg->lockout_max_s) * 1000000;
}

int64_t identity__ghost_locked(identity_ghosts *g, const char *email, int64_t now_us)
{
    char key[65];
    identity__token_hash(sb_str_c(email), key);
    pthread_mutex_lock(&g->lock);
    ghost *h = sb_map_get(&g->map, sb_str_make(key, 64));
    int64_t left = h && h->locked_until > now_us ? h->locked_until - now_us : 0;
    pthread_mutex_unlock(&g->lock);
    return (left + 999999) / 1000000;
}

void identity__ghost_fail(identity_ghosts *g, const identity_config *cfg, const char *email,
                          int64_t now_us)
{
    char key[65];
    identity__token_hash(sb_str_c(email), key);
    pthread_mutex_lock(&g->lock);
    ghost *h = sb_map_get(&g->map, sb_str_make(key, 64));
    if (!h) {
        if (g->map.len >= GHOSTS_MAX) {
            /* A flood of distinct emails; forgetting them costs an attacker
             * nothing real accounts would not also give them. */
            sb_log(SB_LOG_WARN, "identity: too many failing unknown emails; forgetting them");
            drop_all(g);
        }
        h = sb_calloc(1, sizeof(*h));
        sb_map_put(&g->map, sb_str_make(key, 64), h);
    }
    h->failures++;
    int64_t until = identity__lock_until(cfg, h->failures, now_us);
    if (until)
        h->locked_until = until;
    pthread_mutex_unlock(&g->lock);
}
