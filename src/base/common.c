/*
 * common.c: fatal errors, allocation that never returns NULL, error
 * buffers, and wiping secrets.
 */
#include "base/common.h"

#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

void sb_die(const char *fmt, ...)
{
    va_list ap;
    va_start(ap, fmt);
    fputs("sitebase: fatal: ", stderr);
    vfprintf(stderr, fmt, ap);
    fputc('\n', stderr);
    va_end(ap);
    abort();
}

void *sb_malloc(size_t size)
{
    void *p = malloc(size ? size : 1);
    if (!p)
        sb_die("out of memory allocating %zu bytes", size);
    return p;
}

void *sb_calloc(size_t n, size_t size)
{
    size_t total;
    if (sb_mul_overflows(n, size, &total))
        sb_die("allocation size overflows: %zu x %zu", n, size);
    void *p = calloc(total ? n : 1, total ? size : 1);
    if (!p)
        sb_die("out of memory allocating %zu bytes", total);
    return p;
}

void *sb_realloc(void *p, size_t size)
{
    void *q = realloc(p, size ? size : 1);
    if (!q)
        sb_die("out of memory allocating %zu bytes", size);
    return q;
}

char *sb_strndup(const char *s, size_t n)
{
    char *p = sb_malloc(n + 1);
    memcpy(p, s, n);
    p[n] = '\0';
    return p;
}

char *sb_strdup(const char *s)
{
    return sb_strndup(s, strlen(s));
}

bool sb_errf(sb_errbuf *err, const char *fmt, ...)
{
    if (err) {
        va_list ap;
        va_start(ap, fmt);
        vsnprintf(err->msg, sizeof(err->msg), fmt, ap);
        va_end(ap);
    }
    return false;
}

void sb_secure_zero(void *p, size_t n)
{
    /* A volatile function pointer keeps the compiler from proving the
     * stores dead and dropping them. */
    static void *(*volatile wipe)(void *, int, size_t) = memset;
    wipe(p, 0, n);
}
