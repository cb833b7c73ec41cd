/*
 * hash.h: keyed hashing for tables whose keys come from clients. SipHash-1-3
 * with a per-process random key (sb_hash_seed), so nobody can flood a table
 * with colliding keys. Fast enough for our maps; not a MAC.
 */
#ifndef SB_BASE_HASH_H
#define SB_BASE_HASH_H

#include "base/common.h"

/* SipHash-1-3 of p[0..n) under the 128-bit key k. */
uint64_t sb_siphash13(const void *p, size_t n, const uint8_t k[16]);

/* Hash under the process key, drawn from sb_rand_bytes on first use. */
uint64_t sb_hash(const void *p, size_t n);

#endif
