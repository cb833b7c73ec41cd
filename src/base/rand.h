/*
 * rand.h: cryptographically secure random bytes from the kernel (getrandom).
 * Failure to get randomness is fatal: nothing in Sitebase may fall back to
 * weaker sources.
 */
#ifndef SB_BASE_RAND_H
#define SB_BASE_RAND_H

#include "base/common.h"

void sb_rand_bytes(void *out, size_t n);
uint64_t sb_rand_u64(void);
/* Uniform in [0, bound) without modulo bias; bound > 0. */
uint64_t sb_rand_below(uint64_t bound);

#endif
