/*
 * fs.c: the `fs` byte driver. A blob's bytes are one file, named by its
 * hash: <root>/ab/cdef... (the first two hex digits are a folder, so no
 * folder holds more than 1/256 of the files). Files are 0600, folders 0700.
 *
 * Writes are crash-safe (an acknowledged put survives kill -9 and, as far
 * as the disk keeps its promises, power loss): bytes go to a temporary file
 * (.tmp-XXXXXX) in the target folder, which is fsync'd, then renamed over
 * the final name, then the folder is fsync'd so the rename is on disk too
 * (a new ab/ folder is fsync'd into root the same way). A final name
 * therefore only ever holds complete bytes. An existing file of the right
 * size is never rewritten; putting its bytes again only refreshes its
 * mtime, which the sweep reads as "in use".
 *
 * Removal goes through a burial: the file is renamed to .gc-<rest of the
 * hash> in its folder, and only unlinked once the row delete committed (or
 * once the sweep has checked again that no row names it and nobody touched
 * it). A crash in between leaves the burial, which the next sweep either
 * restores (a row names it) or removes.
 *
 * Files here not named like ours are left alone. One blob_gc at a time per
 * folder: it holds flock(LOCK_EX) on root while it runs.
 *
 * Never: build a path from an unchecked hash; rewrite a final file in
 * place.
 */
#include <dirent.h>
#include <errno.h>
#include <fcntl.h>
#include <limits.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/file.h>
#include <sys/stat.h>
#include <unistd.h>

#include "base/log.h"
#include "base/vec.h"
#include "blob/blob_int.h"

/* Room in a path after root: "/ab/" + ".gc-" or ".tmp-" + 62 digits + NUL. */
#define NAME_ROOM 80

static const char tmp_prefix[] = ".tmp-";
static const char tomb_prefix[] = ".gc-";

static void log_errno(const char *what, const char *path, int e)
{
    sb_log(SB_LOG_ERROR, "blob store: file operation failed", SB_LOG_STR("op", what),
           SB_LOG_STR("path", path), SB_LOG_STR("error", strerror(e)));
}

/* <root>/ab */
static void dir_path(const blob_store *b, const char *hex, char out[PATH_MAX])
{
    snprintf(out, PATH_MAX, "%s/%.2s", b->root, hex);
}

/* <root>/ab/<prefix>cdef... ; prefix "" is the final name. */
static void file_path(const blob_store *b, const char *hex, const char *prefix, char out[PATH_MAX])
{
    snprintf(out, PATH_MAX, "%s/%.2s/%s%s", b->root, hex, prefix, hex + 2);
}

static int64_t mtime_us(const struct stat *st)
{
    return (int64_t)st->st_mtim.tv_sec * 1000000 + st->st_mtim.tv_nsec / 1000;
}

/* fsync on a folder makes the names in it (creations, renames) durable. */
static int fsync_dir(const char *path)
{
    int fd = open(path, O_RDONLY | O_DIRECTORY | O_CLOEXEC);
    if (fd < 0)
        return -1;
    int rc = fsync(fd);
    int e = errno;
    close(fd);
    errno = e;
    return rc;
}

static int write_all(int fd, const void *p, size_t len)
{
    const char *c = p;
    while (len > 0) {
        ssize_t w = write(fd, c, len);
        if (w < 0) {
            if (errno == EINTR)
                continue;
            return -1;
        }
        c += w;
        len -= (size_t)w;
    }
    return 0;
}

blob_err blob__fs_open(const char *root, sb_errbuf *err)
{
    if (strlen(root) + NAME_ROOM >= PATH_MAX) {
        sb_errf(err, "blob folder path is too long (%zu bytes)", strlen(root));
        return BLOB_BAD_SPEC;
    }
    /* mkdir -p, each missing component 0700. */
    char path[PATH_MAX];
    snprintf(path, sizeof path, "%s", root);
    for (char *c = path + 1;; c++) {
        if (*c != '/' && *c != 0)
            continue;
        char saved = *c;
        *c = 0;
        if (mkdir(path, 0700) == 0) {
            /* Make the new name durable in its parent. */
            char *slash = strrchr(path, '/');
            int rc;
            if (slash && slash != path) {
                *slash = 0;
                rc = fsync_dir(path);
                *slash = '/';
            } else {
                rc = fsync_dir(slash ? "/" : ".");
            }
            if (rc != 0) {
                sb_errf(err, "cannot fsync the parent of %s: %s", path, strerror(errno));
                return BLOB_IO;
            }
        } else if (errno != EEXIST) {
            sb_errf(err, "cannot create blob folder %s: %s", path, strerror(errno));
            return BLOB_IO;
        }
        *c = saved;
        if (!saved)
            break;
    }
    struct stat st;
    if (stat(root, &st) != 0 || !S_ISDIR(st.st_mode)) {
        sb_errf(err, "blob folder %s is not a folder", root);
        return BLOB_IO;
    }
    if (access(root, W_OK | X_OK) != 0) {
        sb_errf(err, "blob folder %s is not writable: %s", root, strerror(errno));
        return BLOB_IO;
    }
    return BLOB_OK;
}

/* Writes the bytes under their final name, crash-safely (see the top). */
static blob_err write_file(blob_store *b, const char *hex, const void *p, size_t len)
{
    char dir[PATH_MAX], tmp[PATH_MAX], final[PATH_MAX];
    dir_path(b, hex, dir);
    file_path(b, hex, "", final);
    if (mkdir(dir, 0700) == 0) {
        if (fsync_dir(b->root) != 0) {
            log_errno("fsync", b->root, errno);
            return BLOB_IO;
        }
    } else if (errno != EEXIST) {
        log_errno("mkdir", dir, errno);
        return BLOB_IO;
    }
    snprintf(tmp, sizeof tmp, "%s/%.2s/%sXXXXXX", b->root, hex, tmp_prefix);
    int fd = mkostemp(tmp, O_CLOEXEC);
    if (fd < 0) {
        log_errno("create", tmp, errno);
        return BLOB_IO;
    }
    const char *op = "write";
    if (write_all(fd, p, len) != 0)
        goto fail;
    op = "fsync";
    if (fsync(fd) != 0)
        goto fail;
    op = "close";
    int rc = close(fd);
    fd = -1;
    if (rc != 0)
        goto fail;
    op = "rename";
    if (rename(tmp, final) != 0)
        goto fail;
    if (fsync_dir(dir) != 0) {
        /* The bytes are complete under their name, but the name may not
         * survive a power loss: do not acknowledge the put. */
        log_errno("fsync", dir, errno);
        return BLOB_IO;
    }
    return BLOB_OK;
fail:
    log_errno(op, tmp, errno);
    if (fd >= 0)
        close(fd);
    unlink(tmp);
    return BLOB_IO;
}

blob_err blob__fs_stage(blob_store *b, const char *hex, const void *p, size_t len)
{
    char final[PATH_MAX];
    file_path(b, hex, "", final);
    struct stat st;
    if (lstat(final, &st) == 0) {
        if (S_ISREG(st.st_mode) && (uint64_t)st.st_size == len) {
            /* Present: mark it in use (now) so the sweep leaves it to us. */
            if (utimensat(AT_FDCWD, final, NULL, AT_SYMLINK_NOFOLLOW) == 0)
                return BLOB_OK;
            if (errno != ENOENT) {
                log_errno("utimensat", final, errno);
                return BLOB_IO;
            }
            /* A gc removed it just now: write it again. */
        } else {
            sb_log(SB_LOG_WARN, "blob store: replacing a blob file of the wrong size",
                   SB_LOG_STR("path", final), SB_LOG_INT("size", (int64_t)st.st_size),
                   SB_LOG_INT("want", (int64_t)len));
        }
    } else if (errno != ENOENT) {
        log_errno("lstat", final, errno);
        return BLOB_IO;
    }
    return write_file(b, hex, p, len);
}

blob_err blob__fs_ensure(blob_store *b, const char *hex, const void *p, size_t len)
{
    char final[PATH_MAX];
    file_path(b, hex, "", final);
    struct stat st;
    if (lstat(final, &st) == 0 && S_ISREG(st.st_mode) && (uint64_t)st.st_size == len)
        return BLOB_OK;
    return write_file(b, hex, p, len);
}

blob_err blob__fs_read(blob_store *b, const char *hex, int64_t size, int64_t off, int64_t n,
                       bool verify, sb_buf *out)
{
    char final[PATH_MAX];
    file_path(b, hex, "", final);
    int fd = open(final, O_RDONLY | O_CLOEXEC | O_NOFOLLOW);
    if (fd < 0) {
        if (errno == ENOENT) {
            sb_log(SB_LOG_ERROR, "blob store: a blob's file is missing", SB_LOG_STR("path", final));
            return BLOB_CORRUPT;
        }
        log_errno("open", final, errno);
        return BLOB_IO;
    }
    blob_err rc = BLOB_OK;
    struct stat st;
    if (fstat(fd, &st) != 0) {
        log_errno("fstat", final, errno);
        rc = BLOB_IO;
        goto out;
    }
    if (!S_ISREG(st.st_mode) || st.st_size != size) {
        sb_log(SB_LOG_ERROR, "blob store: a blob's file has the wrong size",
               SB_LOG_STR("path", final), SB_LOG_INT("size", (int64_t)st.st_size),
               SB_LOG_INT("want", size));
        rc = BLOB_CORRUPT;
        goto out;
    }
    sb_buf_reserve(out, (size_t)n);
    char *dst = out->ptr + out->len;
    size_t got = 0;
    while (got < (size_t)n) {
        ssize_t r = pread(fd, dst + got, (size_t)n - got, (off_t)(off + (int64_t)got));
        if (r < 0) {
            if (errno == EINTR)
                continue;
            log_errno("read", final, errno);
            rc = BLOB_IO;
            goto out;
        }
        if (r == 0) {
            sb_log(SB_LOG_ERROR, "blob store: a blob's file ended early",
                   SB_LOG_STR("path", final));
            rc = BLOB_CORRUPT;
            goto out;
        }
        got += (size_t)r;
    }
    if (verify) {
        char actual[BLOB_SHA256_HEX_LEN + 1];
        blob__sha256_hex(dst, (size_t)n, actual);
        if (memcmp(actual, hex, BLOB_SHA256_HEX_LEN) != 0) {
            sb_log(SB_LOG_ERROR, "blob store: a blob's bytes do not match its hash",
                   SB_LOG_STR("path", final), SB_LOG_STR("actual", actual));
            rc = BLOB_CORRUPT;
            goto out;
        }
    }
    out->len += (size_t)n;
    out->ptr[out->len] = 0;
out:
    close(fd);
    return rc;
}

/* ---- removal ---- */

blob_err blob__fs_bury(blob_store *b, const char *hex)
{
    char final[PATH_MAX], tomb[PATH_MAX];
    file_path(b, hex, "", final);
    file_path(b, hex, tomb_prefix, tomb);
    if (rename(final, tomb) != 0 && errno != ENOENT) {
        log_errno("rename", final, errno);
        return BLOB_IO;
    }
    return BLOB_OK;
}

void blob__fs_unbury(blob_store *b, const char *hex)
{
    char final[PATH_MAX], tomb[PATH_MAX];
    file_path(b, hex, "", final);
    file_path(b, hex, tomb_prefix, tomb);
    /* Identical bytes may have been written to final meanwhile; replacing
     * them with the same bytes is harmless. */
    if (rename(tomb, final) != 0 && errno != ENOENT)
        log_errno("rename", tomb, errno);
}

void blob__fs_forget(blob_store *b, const char *hex)
{
    char tomb[PATH_MAX];
    file_path(b, hex, tomb_prefix, tomb);
    if (unlink(tomb) != 0 && errno != ENOENT)
        log_errno("unlink", tomb, errno);
}

blob_err blob__fs_lock(blob_store *b, int *fd, bool *got)
{
    *fd = -1;
    *got = false;
    int lfd = open(b->root, O_RDONLY | O_DIRECTORY | O_CLOEXEC);
    if (lfd < 0) {
        log_errno("open", b->root, errno);
        return BLOB_IO;
    }
    if (flock(lfd, LOCK_EX | LOCK_NB) != 0) {
        int e = errno;
        close(lfd);
        if (e == EWOULDBLOCK)
            return BLOB_OK;
        log_errno("flock", b->root, e);
        return BLOB_IO;
    }
    *fd = lfd;
    *got = true;
    return BLOB_OK;
}

void blob__fs_unlock(int fd)
{
    close(fd); /* releases the flock */
}

/* ---- sweep ---- */

static bool is_hex_run(const char *s, size_t n)
{
    for (size_t i = 0; i < n; i++)
        if (!((s[i] >= '0' && s[i] <= '9') || (s[i] >= 'a' && s[i] <= 'f')))
            return false;
    return true;
}

typedef SB_VEC(char *) name_vec;

/* The names in a folder, collected first so that removing files does not
 * disturb the directory stream. */
static bool list_dir(const char *path, name_vec *out)
{
    DIR *d = opendir(path);
    if (!d)
        return false;
    struct dirent *e;
    errno = 0;
    while ((e = readdir(d))) {
        if (strcmp(e->d_name, ".") != 0 && strcmp(e->d_name, "..") != 0)
            sb_vec_push(out, sb_strdup(e->d_name));
    }
    bool ok = errno == 0;
    closedir(d);
    return ok;
}

static void free_names(name_vec *v)
{
    for (size_t i = 0; i < v->len; i++)
        free(v->items[i]);
    sb_vec_free(v);
}

/* A burial whose gc did not finish: back under its name if a row names it
 * and the name is free, else gone. */
static blob_err sweep_tomb(blob_store *b, store *db, const char *hex)
{
    bool exists = false;
    blob_err rc = blob__row_exists(db, hex, &exists);
    if (rc != BLOB_OK)
        return rc;
    char final[PATH_MAX];
    file_path(b, hex, "", final);
    struct stat st;
    if (exists && lstat(final, &st) != 0 && errno == ENOENT) {
        sb_log(SB_LOG_WARN, "blob store: restoring a blob an interrupted gc had set aside",
               SB_LOG_STR("sha256", hex));
        blob__fs_unbury(b, hex);
    } else {
        blob__fs_forget(b, hex);
    }
    return BLOB_OK;
}

/* A final file: removed if no row names it and it is older than the
 * cutoff, checked again after burying it (a put that touched it before the
 * burial shows in its mtime; one that comes after finds the name free and
 * writes the bytes again). */
static blob_err sweep_file(blob_store *b, store *db, const char *hex, int64_t cutoff,
                           size_t *removed)
{
    char final[PATH_MAX], tomb[PATH_MAX];
    file_path(b, hex, "", final);
    file_path(b, hex, tomb_prefix, tomb);
    struct stat st;
    if (lstat(final, &st) != 0 || !S_ISREG(st.st_mode) || mtime_us(&st) >= cutoff)
        return BLOB_OK;
    bool exists = false;
    blob_err rc = blob__row_exists(db, hex, &exists);
    if (rc != BLOB_OK || exists)
        return rc;
    if ((rc = blob__fs_bury(b, hex)) != BLOB_OK)
        return rc;
    if (lstat(tomb, &st) != 0)
        return BLOB_OK; /* someone else took it */
    if (mtime_us(&st) < cutoff) {
        rc = blob__row_exists(db, hex, &exists);
        if (rc == BLOB_OK && !exists) {
            blob__fs_forget(b, hex);
            sb_log(SB_LOG_INFO, "blob store: removed a file no blob row names",
                   SB_LOG_STR("sha256", hex));
            (*removed)++;
            return BLOB_OK;
        }
    }
    blob__fs_unbury(b, hex);
    return rc;
}

static blob_err sweep_dir(blob_store *b, store *db, const char *sub, int64_t cutoff,
                          size_t *removed)
{
    char dir[PATH_MAX];
    snprintf(dir, sizeof dir, "%s/%s", b->root, sub);
    name_vec names = {0};
    blob_err rc = BLOB_OK;
    if (!list_dir(dir, &names)) {
        log_errno("readdir", dir, errno);
        rc = BLOB_IO;
        goto out;
    }
    const size_t rest = BLOB_SHA256_HEX_LEN - 2;
    const size_t tmp_len = sizeof tmp_prefix - 1, tomb_len = sizeof tomb_prefix - 1;
    for (size_t i = 0; i < names.len && rc == BLOB_OK; i++) {
        const char *name = names.items[i];
        size_t n = strlen(name);
        char hex[BLOB_SHA256_HEX_LEN + 1];
        if (strncmp(name, tmp_prefix, tmp_len) == 0) {
            /* A write that crashed before its rename. */
            char path[PATH_MAX];
            struct stat st;
            snprintf(path, sizeof path, "%s/%s/%s", b->root, sub, name);
            if (lstat(path, &st) == 0 && S_ISREG(st.st_mode) && mtime_us(&st) < cutoff &&
                unlink(path) != 0 && errno != ENOENT)
                log_errno("unlink", path, errno);
        } else if (n == tomb_len + rest && strncmp(name, tomb_prefix, tomb_len) == 0 &&
                   is_hex_run(name + tomb_len, rest)) {
            snprintf(hex, sizeof hex, "%s%s", sub, name + tomb_len);
            rc = sweep_tomb(b, db, hex);
        } else if (n == rest && is_hex_run(name, rest)) {
            snprintf(hex, sizeof hex, "%s%s", sub, name);
            rc = sweep_file(b, db, hex, cutoff, removed);
        }
    }
out:
    free_names(&names);
    return rc;
}

blob_err blob__fs_sweep(blob_store *b, store *db, int64_t cutoff_us, size_t *removed)
{
    name_vec subs = {0};
    blob_err rc = BLOB_OK;
    if (!list_dir(b->root, &subs)) {
        log_errno("readdir", b->root, errno);
        rc = BLOB_IO;
        goto out;
    }
    for (size_t i = 0; i < subs.len && rc == BLOB_OK; i++) {
        const char *sub = subs.items[i];
        if (strlen(sub) == 2 && is_hex_run(sub, 2))
            rc = sweep_dir(b, db, sub, cutoff_us, removed);
    }
out:
    free_names(&subs);
    return rc;
}
