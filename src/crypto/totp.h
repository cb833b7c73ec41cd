/*
 * totp.h: time-based one-time passwords (RFC 6238 over RFC 4226's HOTP),
 * HMAC-SHA1, 6 digits, 30-second steps, as authenticator apps expect.
 */
#ifndef SB_CRYPTO_TOTP_H
#define SB_CRYPTO_TOTP_H

#include "base/common.h"
#include "base/str.h"

#define CRYPTO_TOTP_SECRET_LEN 20 /* 160 bits, RFC 4226's recommendation */

/* The HOTP value for counter, with `digits` digits (6..8). */
uint32_t crypto_hotp(const uint8_t *secret, size_t len, uint64_t counter, int digits);

/* Checks a code typed by a user at Unix time now, allowing one step of
 * drift either way. On a match, *step gets the matched time step, so the
 * caller can refuse a replay of a step already used. code must be exactly
 * 6 ASCII digits. */
bool crypto_totp_verify(const uint8_t *secret, size_t len, const char *code, size_t code_len,
                        int64_t now, uint64_t *step);

/* otpauth://totp/<issuer>:<account>?secret=<base32>&issuer=<issuer>&algorithm=SHA1&digits=6&period=30
 * with issuer and account percent-encoded; appended to out. */
void crypto_totp_uri(const uint8_t *secret, size_t len, const char *issuer, const char *account,
                     sb_buf *out);

#endif
