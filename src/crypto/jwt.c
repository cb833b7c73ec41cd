/*
 * jwt.c: JWTs signed with EdDSA over Ed25519 (RFC 8037 §3.1).
 *
 * Verification is deliberately narrow: exactly alg "EdDSA", a kid we hold,
 * a signature by that key, then the time claims. Nothing in a token can
 * choose the algorithm or the key material, which is what the classic
 * "alg: none" and HS256-with-a-public-key attacks rely on.
 */
#include "crypto/jwt.h"

#include <string.h>

#include <openssl/evp.h>

#include "base/json.h"
#include "base/rand.h"
#include "base/vec.h"
#include "crypto/crypto.h"

#define TOKEN_MAX 8192
#define SIG_LEN   64

typedef struct jwt_key {
    char kid[64];
    EVP_PKEY *pkey;
} jwt_key;

struct crypto_jwt_keys {
    SB_VEC(jwt_key) keys;
    size_t signing; /* index into keys; valid when keys.len > 0 */
};

static const char *const jwt_errors[] = {
    [CRYPTO_JWT_OK] = "ok",
    [CRYPTO_JWT_MALFORMED] = "malformed token",
    [CRYPTO_JWT_BAD_ALG] = "unacceptable algorithm",
    [CRYPTO_JWT_UNKNOWN_KID] = "unknown key id",
    [CRYPTO_JWT_BAD_SIGNATURE] = "bad signature",
    [CRYPTO_JWT_EXPIRED] = "expired",
    [CRYPTO_JWT_NOT_YET] = "not valid yet",
};

const char *crypto_jwt_strerror(crypto_jwt_err e)
{
    return (size_t)e < SB_ARRAY_LEN(jwt_errors) ? jwt_errors[e] : "unknown error";
}

crypto_jwt_keys *crypto_jwt_keys_new(void)
{
    return sb_calloc(1, sizeof(crypto_jwt_keys));
}

void crypto_jwt_keys_free(crypto_jwt_keys *k)
{
    if (!k)
        return;
    for (size_t i = 0; i < k->keys.len; i++)
        EVP_PKEY_free(k->keys.items[i].pkey);
    sb_vec_free(&k->keys);
    free(k);
}

bool crypto_jwt_keys_add(crypto_jwt_keys *k, const char *kid, const uint8_t seed[32], bool signing,
                         sb_errbuf *err)
{
    if (strlen(kid) == 0 || strlen(kid) >= sizeof(((jwt_key *)0)->kid))
        return sb_errf(err, "JWT key id '%s' must have 1 to 63 characters", kid);
    EVP_PKEY *pkey = EVP_PKEY_new_raw_private_key(EVP_PKEY_ED25519, NULL, seed, 32);
    if (!pkey)
        return sb_errf(err, "JWT key %s: not an Ed25519 seed", kid);
    jwt_key key = {.pkey = pkey};
    memcpy(key.kid, kid, strlen(kid) + 1);
    sb_vec_push(&k->keys, key);
    if (signing || k->keys.len == 1)
        k->signing = k->keys.len - 1;
    return true;
}

void crypto_jwt_keys_generate(crypto_jwt_keys *k, const char *kid, sb_buf *seed_out)
{
    uint8_t seed[32];
    sb_rand_bytes(seed, sizeof(seed));
    sb_errbuf err;
    if (!crypto_jwt_keys_add(k, kid, seed, true, &err))
        sb_die("%s", err.msg);
    sb_buf_append(seed_out, seed, sizeof(seed));
    sb_secure_zero(seed, sizeof(seed));
}

void crypto_jwt_sign(const crypto_jwt_keys *k, const json_t *claims, sb_buf *out)
{
    if (k->keys.len == 0)
        sb_die("crypto_jwt_sign: no signing key");
    const jwt_key *key = &k->keys.items[k->signing];
    sb_buf part = SB_BUF_INIT;
    sb_jw w;
    sb_jw_init(&w, &part);
    sb_jw_obj_begin(&w);
    sb_jw_kv_str(&w, "alg", "EdDSA");
    sb_jw_kv_str(&w, "typ", "JWT");
    sb_jw_kv_str(&w, "kid", key->kid);
    sb_jw_obj_end(&w);
    size_t start = out->len;
    crypto_b64url_encode(part.ptr, part.len, out);
    sb_buf_putc(out, '.');
    sb_buf_reset(&part);
    sb_jw_init(&w, &part);
    sb_jw_json(&w, claims);
    crypto_b64url_encode(part.ptr, part.len, out);
    sb_buf_free(&part);

    uint8_t sig[SIG_LEN];
    size_t siglen = sizeof(sig);
    EVP_MD_CTX *ctx = EVP_MD_CTX_new();
    if (!ctx || EVP_DigestSignInit(ctx, NULL, NULL, NULL, key->pkey) != 1 ||
        EVP_DigestSign(ctx, sig, &siglen, (const uint8_t *)out->ptr + start, out->len - start) != 1)
        sb_die("Ed25519 signing failed");
    EVP_MD_CTX_free(ctx);
    sb_buf_putc(out, '.');
    crypto_b64url_encode(sig, siglen, out);
}

static const jwt_key *find_kid(const crypto_jwt_keys *k, const char *kid)
{
    for (size_t i = 0; i < k->keys.len; i++)
        if (strcmp(k->keys.items[i].kid, kid) == 0)
            return &k->keys.items[i];
    return NULL;
}

static json_t *decode_json_part(const char *s, size_t n)
{
    sb_buf raw = SB_BUF_INIT;
    json_t *v = NULL;
    sb_json_limits limits = {.max_bytes = TOKEN_MAX, .max_depth = 8};
    if (crypto_b64url_decode(s, n, &raw))
        sb_json_parse(raw.ptr ? raw.ptr : "", raw.len, &limits, &v, NULL);
    sb_buf_free(&raw);
    if (v && !json_is_object(v)) {
        json_decref(v);
        v = NULL;
    }
    return v;
}

crypto_jwt_err crypto_jwt_verify(const crypto_jwt_keys *k, const char *token, size_t len,
                                 int64_t now, int64_t leeway, json_t **claims)
{
    if (len == 0 || len > TOKEN_MAX)
        return CRYPTO_JWT_MALFORMED;
    const char *dot1 = memchr(token, '.', len);
    const char *dot2 = dot1 ? memchr(dot1 + 1, '.', len - (size_t)(dot1 + 1 - token)) : NULL;
    if (!dot1 || !dot2 || memchr(dot2 + 1, '.', len - (size_t)(dot2 + 1 - token)))
        return CRYPTO_JWT_MALFORMED;

    json_t *header = decode_json_part(token, (size_t)(dot1 - token));
    if (!header)
        return CRYPTO_JWT_MALFORMED;
    const char *alg = json_string_value(json_object_get(header, "alg"));
    const char *kid = json_string_value(json_object_get(header, "kid"));
    crypto_jwt_err e = CRYPTO_JWT_OK;
    const jwt_key *key = NULL;
    if (!alg || strcmp(alg, "EdDSA") != 0)
        e = CRYPTO_JWT_BAD_ALG;
    else if (!kid || !(key = find_kid(k, kid)))
        e = CRYPTO_JWT_UNKNOWN_KID;
    json_decref(header);
    if (e != CRYPTO_JWT_OK)
        return e;

    sb_buf sig = SB_BUF_INIT;
    if (!crypto_b64url_decode(dot2 + 1, len - (size_t)(dot2 + 1 - token), &sig) ||
        sig.len != SIG_LEN) {
        sb_buf_free(&sig);
        return CRYPTO_JWT_MALFORMED;
    }
    EVP_MD_CTX *ctx = EVP_MD_CTX_new();
    bool good = ctx && EVP_DigestVerifyInit(ctx, NULL, NULL, NULL, key->pkey) == 1 &&
                EVP_DigestVerify(ctx, (const uint8_t *)sig.ptr, sig.len, (const uint8_t *)token,
                                 (size_t)(dot2 - token)) == 1;
    EVP_MD_CTX_free(ctx);
    sb_buf_free(&sig);
    if (!good)
        return CRYPTO_JWT_BAD_SIGNATURE;

    json_t *c = decode_json_part(dot1 + 1, (size_t)(dot2 - dot1 - 1));
    if (!c)
        return CRYPTO_JWT_MALFORMED;
    json_t *exp = json_object_get(c, "exp"), *nbf = json_object_get(c, "nbf");
    if (!json_is_integer(exp) || (nbf && !json_is_integer(nbf)))
        e = CRYPTO_JWT_MALFORMED;
    else if (now >= (int64_t)json_integer_value(exp) + leeway)
        e = CRYPTO_JWT_EXPIRED;
    else if (nbf && now < (int64_t)json_integer_value(nbf) - leeway)
        e = CRYPTO_JWT_NOT_YET;
    if (e != CRYPTO_JWT_OK) {
        json_decref(c);
        return e;
    }
    *claims = c;
    return CRYPTO_JWT_OK;
}
