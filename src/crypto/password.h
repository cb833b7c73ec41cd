/*
 * password.h: password hashing with argon2id (RFC 9106) through libargon2,
 * in the PHC string format ("$argon2id$v=19$m=19456,t=2,p=1$salt$hash"), and
 * the policy a new password must meet. Hashing is slow on purpose: callers
 * run it on the worker pool, never on a loop thread.
 */
#ifndef SB_CRYPTO_PASSWORD_H
#define SB_CRYPTO_PASSWORD_H

#include "base/common.h"

typedef struct crypto_argon2_params {
    uint32_t m_kib; /* memory, KiB (default 19456 = 19 MiB) */
    uint32_t t;     /* iterations (default 2) */
    uint32_t p;     /* lanes (default 1) */
} crypto_argon2_params;

#define CRYPTO_ARGON2_DEFAULTS   ((crypto_argon2_params){19456, 2, 1})
#define CRYPTO_PASSWORD_HASH_MAX 160

typedef enum crypto_password_err {
    CRYPTO_PW_OK = 0,
    CRYPTO_PW_TOO_SHORT, /* fewer than 8 characters */
    CRYPTO_PW_TOO_LONG,  /* more than 1024 bytes */
    CRYPTO_PW_BAD_UTF8,
    CRYPTO_PW_COMMON,   /* on the shipped list of common passwords */
    CRYPTO_PW_MISMATCH, /* verify: wrong password */
    CRYPTO_PW_BAD_HASH, /* verify: the stored string is not an argon2id hash */
    CRYPTO_PW_INTERNAL, /* libargon2 failed (out of memory...) */
} crypto_password_err;

const char *crypto_password_strerror(crypto_password_err e);

/* Checks a new password: 8..1024 characters (code points, valid UTF-8),
 * not on the common list (compared case-insensitively). */
crypto_password_err crypto_password_check(const char *pw, size_t len);

/* Hashes with a fresh 16-byte salt into out (NUL-terminated PHC string). */
crypto_password_err crypto_password_hash(const char *pw, size_t len,
                                         const crypto_argon2_params *params,
                                         char out[CRYPTO_PASSWORD_HASH_MAX]);

/* Verifies pw against a stored PHC string. On CRYPTO_PW_OK, *needs_rehash
 * says whether the stored parameters differ from params. */
crypto_password_err crypto_password_verify(const char *stored, const char *pw, size_t len,
                                           const crypto_argon2_params *params, bool *needs_rehash);

/* A hash of a random password made at start with params: verifying against
 * it costs what a real verify costs, so an unknown email takes as long as a
 * wrong password. */
void crypto_password_dummy(const crypto_argon2_params *params, char out[CRYPTO_PASSWORD_HASH_MAX]);

#endif
