/*
 * housekeeper.h: the timed chores of `sitebase serve` (signing key
 * reloads, blob garbage collection, idempotency expiry) on a thread of
 * their own. See housekeeper.c.
 */
#ifndef SB_CLI_HOUSEKEEPER_H
#define SB_CLI_HOUSEKEEPER_H

#include <pthread.h>
#include <stdatomic.h>

#include "base/config.h"
#include "blob/blob.h"
#include "identity/identity.h"

typedef struct housekeeper {
    const sb_config *cfg;
    identity *id;
    blob_store *blobs;
    char signing[32]; /* the signing key id last seen */
    pthread_t thread;
    atomic_bool stop;
} housekeeper;

/* Starts the thread; cfg, id and blobs must outlive housekeeper_stop.
 * SIGHUP must be blocked in every thread before (cli_serve does). */
bool housekeeper_start(housekeeper *h, const sb_config *cfg, identity *id, blob_store *blobs);
/* Stops the thread and waits for it. */
void housekeeper_stop(housekeeper *h);

#endif
