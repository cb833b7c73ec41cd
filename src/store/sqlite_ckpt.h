/*
 * sqlite_ckpt.h: a database file's WAL checkpoints, run by a thread of
 * their own instead of inside commits (sqlite_ckpt.c says why). The
 * SQLite driver keeps one per file, beside its writer gate.
 */
#ifndef SB_STORE_SQLITE_CKPT_H
#define SB_STORE_SQLITE_CKPT_H

#include <sqlite3.h>

#include "base/common.h"

typedef struct sqlite_ckpt sqlite_ckpt;

/* Starts the checkpoint thread of the database file at path (it opens its
 * own connection when first asked). Never NULL: without a thread, commits
 * checkpoint themselves. */
sqlite_ckpt *sqlite_ckpt_start(const char *path);

/* Stops the thread (after the checkpoint it is running) and frees c. */
void sqlite_ckpt_stop(sqlite_ckpt *c);

/* The sqlite3_wal_hook of every connection to the file, with c as arg. */
int sqlite_ckpt_hook(void *arg, sqlite3 *db, const char *name, int frames);

/* Checkpoints run so far, by the thread or by commits. */
unsigned sqlite_ckpt_runs(sqlite_ckpt *c);

#endif
