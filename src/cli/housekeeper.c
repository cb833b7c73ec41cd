/*
 * housekeeper.c: the chores a running server does on a timer, on a thread
 * of its own with its own store connection (a chore reads and writes the
 * database, which no loop may wait for):
 *   - keys: re-reads the JWT signing keys every key_reload_interval, and
 *     at once on SIGHUP, so a `sitebase keys rotate` run elsewhere reaches
 *     this server without a restart;
 *   - blobs: removes blobs nobody has referenced for blob_gc_grace, every
 *     blob_gc_interval (deleted assets, projects and teams leave them);
 *   - idempotency: forgets answers older than their 24 hours.
 * Several servers on one database may each run them: every chore is safe
 * to run twice at once (blob_gc says so; the others are idempotent).
 *
 * SIGHUP is blocked in every thread (cli_serve blocks it before any
 * starts) and taken only here, with sigtimedwait; stop wakes the thread
 * with a SIGHUP of its own.
 */
#include <errno.h>
#include <signal.h>
#include <string.h>
#include <time.h>

#include "api/domain.h"
#include "base/clock.h"
#include "base/log.h"
#include "cli/housekeeper.h"

typedef struct chore {
    const char *name;
    uint64_t interval_ns;
    uint64_t due;
    /* hupped: an operator asked (SIGHUP). false when the connection
     * should be dropped and opened afresh. */
    bool (*run)(housekeeper *h, store *db, bool hupped);
} chore;

static bool reload_keys(housekeeper *h, store *db, bool hupped)
{
    char kid[32];
    sb_errbuf err;
    if (!identity_keys_reload(h->id, db, kid, &err)) {
        sb_log(SB_LOG_WARN, "cannot reload signing keys", SB_LOG_STR("error", err.msg));
        return false;
    }
    /* Said on every SIGHUP (the operator asked), else only on a change. */
    if (hupped || (h->signing[0] && strcmp(kid, h->signing) != 0))
        sb_log(SB_LOG_INFO, "signing keys reloaded", SB_LOG_STR("kid", kid),
               SB_LOG_STR("cause", hupped ? "SIGHUP" : "interval"));
    memcpy(h->signing, kid, sizeof(h->signing));
    return true;
}

static bool collect_blobs(housekeeper *h, store *db, bool hupped)
{
    size_t removed = 0;
    int64_t grace_us = h->cfg->blob_gc_grace_ms * 1000;
    blob_err e = blob_gc(h->blobs, db, sb_wall_us(), grace_us, &removed);
    if (e != BLOB_OK) {
        sb_log(SB_LOG_WARN, "blob garbage collection failed",
               SB_LOG_STR("error", blob_strerror(e)));
        return false;
    }
    if (removed)
        sb_log(SB_LOG_INFO, "unreferenced blobs removed", SB_LOG_INT("count", (int64_t)removed));
    return true;
}

static bool expire_idempotency(housekeeper *h, store *db, bool hupped)
{
    sb_errbuf err;
    if (!api_idem_expire(db, sb_wall_us(), &err)) {
        sb_log(SB_LOG_WARN, "cannot expire idempotency keys", SB_LOG_STR("error", err.msg));
        return false;
    }
    return true;
}

#define IDEMPOTENCY_SWEEP_NS (UINT64_C(600) * 1000000000u)

static void *run(void *arg)
{
    housekeeper *h = arg;
    chore chores[] = {
        {"keys", (uint64_t)h->cfg->key_reload_interval_ms * 1000000u, 0, reload_keys},
        {"blobs", (uint64_t)h->cfg->blob_gc_interval_ms * 1000000u, 0, collect_blobs},
        {"idempotency", IDEMPOTENCY_SWEEP_NS, 0, expire_idempotency},
    };
    uint64_t start = sb_mono_ns();
    for (size_t i = 0; i < SB_ARRAY_LEN(chores); i++)
        chores[i].due = start + chores[i].interval_ns;
    store *db = NULL;
    sigset_t hup;
    sigemptyset(&hup);
    sigaddset(&hup, SIGHUP);
    while (!atomic_load(&h->stop)) {
        uint64_t now = sb_mono_ns(), next = UINT64_MAX;
        for (size_t i = 0; i < SB_ARRAY_LEN(chores); i++)
            next = SB_MIN(next, chores[i].due);
        uint64_t left = next > now ? next - now : 0;
        struct timespec wait = {(time_t)(left / 1000000000u), (long)(left % 1000000000u)};
        bool hupped = left > 0 && sigtimedwait(&hup, NULL, &wait) == SIGHUP;
        if (atomic_load(&h->stop))
            break;
        now = sb_mono_ns();
        for (size_t i = 0; i < SB_ARRAY_LEN(chores); i++) {
            chore *ch = &chores[i];
            bool asked = hupped && ch->run == reload_keys;
            if (!asked && now < ch->due)
                continue; /* EINTR, woken early, or another chore's turn */
            ch->due = sb_mono_ns() + ch->interval_ns;
            sb_errbuf err;
            if (!db && store_open(h->cfg->db, h->cfg->data_dir, &db, &err) != STORE_OK) {
                sb_log(SB_LOG_WARN, "a housekeeping chore cannot open the store",
                       SB_LOG_STR("chore", ch->name), SB_LOG_STR("error", err.msg));
                db = NULL;
                continue;
            }
            if (!ch->run(h, db, asked)) {
                store_close(db); /* a fresh connection next time */
                db = NULL;
            }
        }
    }
    store_close(db);
    return NULL;
}

bool housekeeper_start(housekeeper *h, const sb_config *cfg, identity *id, blob_store *blobs)
{
    *h = (housekeeper){.cfg = cfg, .id = id, .blobs = blobs};
    atomic_init(&h->stop, false);
    if (pthread_create(&h->thread, NULL, run, h) != 0) {
        sb_log(SB_LOG_ERROR, "cannot start the housekeeper", SB_LOG_STR("error", strerror(errno)));
        return false;
    }
    return true;
}

void housekeeper_stop(housekeeper *h)
{
    atomic_store(&h->stop, true);
    pthread_kill(h->thread, SIGHUP); /* stays pending for it if not yet waiting */
    pthread_join(h->thread, NULL);
}
