/* rand.c: the kernel's CSPRNG through getrandom(2); failure is fatal. */
#include "base/rand.h"

#include <errno.h>
#include <string.h>
#include <sys/random.h>

void sb_rand_bytes(void *out, size_t n)
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
