/*
 * crypto.h: the primitives identity and sealing are built from, on OpenSSL
 * and libargon2: hashes and MACs, constant-time comparison, base64url and
 * base32, and token generation. Pure functions: no I/O, no globals.
 *
 * Never: compare secrets with memcmp; leave key material in freed memory
 * (wipe with sb_secure_zero); log an input of these functions.
 */
#ifndef SB_CRYPTO_CRYPTO_H
#define SB_CRYPTO_CRYPTO_H

#include "base/common.h"
#include "base/str.h"

#define CRYPTO_SHA256_LEN 32

void crypto_sha256(const void *p, size_t n, uint8_t out[CRYPTO_SHA256_LEN]);
void crypto_hmac_sha256(const void *key, size_t key_len, const void *p, size_t n,
                        uint8_t out[CRYPTO_SHA256_LEN]);
/* HMAC-SHA1, for TOTP (RFC 6238 uses SHA-1 by default). */
void crypto_hmac_sha1(const void *key, size_t key_len, const void *p, size_t n, uint8_t out[20]);

/* True when a and b are equal; time depends only on n. */
bool crypto_equal(const void *a, const void *b, size_t n);

/* base64url without padding (RFC 4648 §5), appended to out. */
void crypto_b64url_encode(const void *p, size_t n, sb_buf *out);
/* Decodes base64url (no padding, no whitespace); false on any other byte or
 * an impossible length. Appends to out. */
bool crypto_b64url_decode(const char *s, size_t n, sb_buf *out);
/* base32 (RFC 4648 §6, upper case, no padding), as authenticator apps take. */
void crypto_b32_encode(const void *p, size_t n, sb_buf *out);
/* Accepts upper or lower case, ignores spaces and '=' padding. */
bool crypto_b32_decode(const char *s, size_t n, sb_buf *out);

/* A new random token: `bytes` random bytes as base64url, appended to out. */
void crypto_token(size_t bytes, sb_buf *out);

#endif
