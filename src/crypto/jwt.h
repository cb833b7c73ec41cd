/*
 * jwt.h: access tokens as signed JWTs (RFC 7519) with EdDSA over Ed25519
 * (RFC 8037), through OpenSSL. The header carries "alg":"EdDSA", "typ":"JWT"
 * and the signing key's "kid"; verification accepts exactly that alg (never
 * "none", never HS*), looks the kid up among the verifier's keys, and checks
 * exp and nbf with a small leeway. No database read is needed.
 *
 * Keys rotate: the newest signs; older ones keep verifying until dropped.
 */
#ifndef SB_CRYPTO_JWT_H
#define SB_CRYPTO_JWT_H

#include <jansson.h>

#include "base/common.h"
#include "base/str.h"

typedef struct crypto_jwt_keys crypto_jwt_keys;

crypto_jwt_keys *crypto_jwt_keys_new(void);
void crypto_jwt_keys_free(crypto_jwt_keys *k);

/* Makes a new Ed25519 key with the given kid, makes it the signing key, and
 * appends its 32-byte private seed to seed_out (for sealed storage). */
void crypto_jwt_keys_generate(crypto_jwt_keys *k, const char *kid, sb_buf *seed_out);
/* Adds a key from its stored 32-byte seed; signing when `signing`. */
bool crypto_jwt_keys_add(crypto_jwt_keys *k, const char *kid, const uint8_t seed[32], bool signing,
                         sb_errbuf *err);

/* Signs claims (an object: the caller sets sub, iat, exp, ...) and appends
 * the compact token to out. */
void crypto_jwt_sign(const crypto_jwt_keys *k, const json_t *claims, sb_buf *out);

typedef enum crypto_jwt_err {
    CRYPTO_JWT_OK = 0,
    CRYPTO_JWT_MALFORMED,   /* not three base64url parts of JSON */
    CRYPTO_JWT_BAD_ALG,     /* alg is not EdDSA (none, HS256, ES256...) */
    CRYPTO_JWT_UNKNOWN_KID, /* no such key */
    CRYPTO_JWT_BAD_SIGNATURE,
    CRYPTO_JWT_EXPIRED, /* now >= exp + leeway */
    CRYPTO_JWT_NOT_YET, /* now < nbf - leeway */
} crypto_jwt_err;

const char *crypto_jwt_strerror(crypto_jwt_err e);

/* Verifies token at time now (Unix seconds) with leeway seconds; on success
 * *claims gets a new reference the caller json_decref's. exp is required. */
crypto_jwt_err crypto_jwt_verify(const crypto_jwt_keys *k, const char *token, size_t len,
                                 int64_t now, int64_t leeway, json_t **claims);

#endif
