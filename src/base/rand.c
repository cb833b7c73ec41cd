/*
 * rand.c: the kernel's CSPRNG through getrandom(2); failure is fatal.
 *
 * Small requests (request ids, tokens, nonces) are served from a per-thread
 * buffer of kernel output, refilled 512 bytes at a time: one syscall per
 * dozens of ids instead of one each (it showed in profiles of the JSON
 * route). Bytes handed out are wiped from the buffer, so a later memory
 * disclosure cannot replay them. Sitebase never forks after start, so a
 * buffer is never shared by two processes.
 */
#include "base/rand.h"

#include <errno.h>
#include <string.h>
#include <sys/random.h>

#define POOL_SIZE        512
#define POOL_MAX_REQUEST 64

static _Thread_local struct {
    unsigned char buf[POOL_SIZE];
    size_t left; /* unused bytes, at the end of buf */
} pool;

static void kernel_bytes(void *out, size_t n)
{
    unsigned char *p = out;
    while (n > 0) {
        ssize_t got = getrandom(p, n, 0);
        if (got < 0) {
            if (errno == EINTR)
                continue;
            sb_die("getrandom failed: %s", strerror(errno));
        }
        p += got;
        n -= (size_t)got;
    }
}

void sb_rand_bytes(void *out, size_t n)
{
    if (n > POOL_MAX_REQUEST) {
        kernel_bytes(out, n);
        return;
    }
    if (pool.left < n) {
        kernel_bytes(pool.buf, POOL_SIZE);
        pool.left = POOL_SIZE;
    }
    unsigned char *from = pool.buf + POOL_SIZE - pool.left;
    memcpy(out, from, n);
    sb_secure_zero(from, n);
    pool.left -= n;
}

uint64_t sb_rand_u64(void)
{
    uint64_t v;
    sb_rand_bytes(&v, sizeof(v));
    return v;
}

uint64_t sb_rand_below(uint64_t bound)
{
    /* Reject the top sliver that would make some values likelier. */
    uint64_t limit = UINT64_MAX - UINT64_MAX % bound;
    uint64_t v;
    do
        v = sb_rand_u64();
    while (v >= limit);
    return v % bound;
}
