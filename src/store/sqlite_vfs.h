/*
 * sqlite_vfs.h: the VFS every SQLite connection of the process uses: the
 * unix VFS, with each WAL frame written in one system call (sqlite_vfs.c).
 */
#ifndef SB_STORE_SQLITE_VFS_H
#define SB_STORE_SQLITE_VFS_H

#include <sqlite3.h>

/* Registers it as SQLite's default VFS. Once, before any connection
 * opens; an SQLite result code. */
int sqlite_vfs_register(void);

#endif
