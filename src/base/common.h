/*
 * common.h: what every Sitebase file needs: allocation that aborts on
 * out-of-memory (as h2o_mem_alloc and Redis's zmalloc do, so callers never
 * half-handle NULL), checked size arithmetic for sizes that come from input,
 * and a small error-message buffer that errors carry upward.
 *
 * Never: return NULL from sb_malloc and friends; silently wrap a size.
 */
#ifndef SB_BASE_COMMON_H
#define SB_BASE_COMMON_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#include "base/banned.h"

#define SB_ARRAY_LEN(a)      (sizeof(a) / sizeof((a)[0]))
#define SB_MIN(a, b)         ((a) < (b) ? (a) : (b))
#define SB_MAX(a, b)         ((a) > (b) ? (a) : (b))
#define SB_UNUSED(x)         ((void)(x))
#define SB_LIKELY(x)         __builtin_expect(!!(x), 1)
#define SB_UNLIKELY(x)       __builtin_expect(!!(x), 0)
#define SB_PRINTF(fmt, args) __attribute__((format(printf, fmt, args)))
#define SB_NORETURN          __attribute__((noreturn))

/* Prints "sitebase: fatal: <message>" to stderr and aborts. */
SB_NORETURN void sb_die(const char *fmt, ...) SB_PRINTF(1, 2);

/* Allocators that abort with a message when memory runs out. sb_malloc(0)
 * returns a unique non-NULL pointer. sb_calloc checks n * size for overflow. */
void *sb_malloc(size_t size);
void *sb_calloc(size_t n, size_t size);
void *sb_realloc(void *p, size_t size);
char *sb_strdup(const char *s);
char *sb_strndup(const char *s, size_t n);

/* Checked arithmetic: returns false (and leaves *out untouched) on overflow. */
static inline bool sb_add_overflows(size_t a, size_t b, size_t *out)
{
    return __builtin_add_overflow(a, b, out);
}
static inline bool sb_mul_overflows(size_t a, size_t b, size_t *out)
{
    return __builtin_mul_overflow(a, b, out);
}

/* An error message carried up from where a failure happened, with the
 * context a reader needs (which key, which input, which limit). */
typedef struct sb_errbuf {
    char msg[256];
} sb_errbuf;

/* Formats into err (truncating safely); err may be NULL. Returns false so
 * that `return sb_errf(err, ...)` reads naturally in bool functions. */
bool sb_errf(sb_errbuf *err, const char *fmt, ...) SB_PRINTF(2, 3);

/* Wipes memory that held a secret; the compiler may not elide it. */
void sb_secure_zero(void *p, size_t n);

#endif
