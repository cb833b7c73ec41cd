/* crypto_jwt_test.c: EdDSA JWTs: round trip, tampering, the classic
 * algorithm attacks (alg none, HS256 keyed with the public key, ES256),
 * unknown kids, time claims at their exact edges, malformed input and key
 * rotation. */
#include "cmocka_prelude.h"

#include <openssl/evp.h>

#include "crypto/crypto.h"
#include "crypto/jwt.h"

#define NOW 1795515072

static crypto_jwt_keys *keys;
static sb_buf seed1;

static int setup(void **state)
{
    keys = crypto_jwt_keys_new();
    seed1 = (sb_buf)SB_BUF_INIT;
    crypto_jwt_keys_generate(keys, "k1", &seed1);
    return 0;
}

static int teardown(void **state)
{
    crypto_jwt_keys_free(keys);
    sb_buf_free(&seed1);
    return 0;
}

static void sign(json_t *claims, sb_buf *out)
{
    crypto_jwt_sign(keys, claims, out);
    json_decref(claims);
}

static crypto_jwt_err verify(const sb_buf *tok, int64_t now)
{
    json_t *c = NULL;
    crypto_jwt_err e = crypto_jwt_verify(keys, tok->ptr, tok->len, now, 5, &c);
    json_decref(c);
    return e;
}

/* header.payload.signature from parts, the signature given raw. */
static void forge(const char *header, const char *payload, const void *sig, size_t siglen,
                  sb_buf *out)
{
    crypto_b64url_encode(header, strlen(header), out);
    sb_buf_putc(out, '.');
    crypto_b64url_encode(payload, strlen(payload), out);
    sb_buf_putc(out, '.');
    crypto_b64url_encode(sig, siglen, out);
}

static void test_round_trip(void **state)
{
    sb_buf t = SB_BUF_INIT;
    sign(json_pack("{s:s,s:I,s:s}", "sub", "user-1", "exp", (json_int_t)NOW + 60, "x", "é"), &t);
    json_t *c = NULL;
    assert_int_equal(crypto_jwt_verify(keys, t.ptr, t.len, NOW, 5, &c), CRYPTO_JWT_OK);
    assert_string_equal(json_string_value(json_object_get(c, "sub")), "user-1");
    assert_string_equal(json_string_value(json_object_get(c, "x")), "é");
    json_decref(c);
    /* The header is exactly what jwt.h says. */
    sb_buf h = SB_BUF_INIT;
    assert_true(crypto_b64url_decode(t.ptr, (size_t)(strchr(t.ptr, '.') - t.ptr), &h));
    assert_string_equal(h.ptr, "{\"alg\":\"EdDSA\",\"typ\":\"JWT\",\"kid\":\"k1\"}");
    sb_buf_free(&h);
    sb_buf_free(&t);
}

static void test_tampered(void **state)
{
    sb_buf t = SB_BUF_INIT;
    sign(json_pack("{s:s,s:I}", "sub", "user-1", "exp", (json_int_t)NOW + 60), &t);
    /* Swap the payload for one naming someone else; keep the signature. */
    char *dot1 = strchr(t.ptr, '.'), *dot2 = strrchr(t.ptr, '.');
    sb_buf f = SB_BUF_INIT;
    sb_buf_append(&f, t.ptr, (size_t)(dot1 - t.ptr) + 1);
    const char *other = "{\"sub\":\"admin\",\"exp\":1795515132}";
    crypto_b64url_encode(other, strlen(other), &f);
    sb_buf_puts(&f, dot2);
    assert_int_equal(verify(&f, NOW), CRYPTO_JWT_BAD_SIGNATURE);
    /* A flipped signature bit. */
    t.ptr[t.len - 2] = t.ptr[t.len - 2] == 'A' ? 'B' : 'A';
    assert_int_equal(verify(&t, NOW), CRYPTO_JWT_BAD_SIGNATURE);
    sb_buf_free(&f);
    sb_buf_free(&t);
}

static void test_algorithm_attacks(void **state)
{
    const char *payload = "{\"sub\":\"admin\",\"exp\":1795515132}";
    sb_buf t = SB_BUF_INIT;
    forge("{\"alg\":\"none\",\"typ\":\"JWT\",\"kid\":\"k1\"}", payload, "", 0, &t);
    assert_int_equal(verify(&t, NOW), CRYPTO_JWT_BAD_ALG);

    /* HS256 keyed with the Ed25519 public key: a verifier that trusted the
     * header's alg would accept this. */
    EVP_PKEY *pk =
        EVP_PKEY_new_raw_private_key(EVP_PKEY_ED25519, NULL, (const uint8_t *)seed1.ptr, 32);
    uint8_t pub[32];
    size_t publen = sizeof(pub);
    EVP_PKEY_get_raw_public_key(pk, pub, &publen);
    EVP_PKEY_free(pk);
    sb_buf_reset(&t);
    const char *hs = "{\"alg\":\"HS256\",\"typ\":\"JWT\",\"kid\":\"k1\"}";
    crypto_b64url_encode(hs, strlen(hs), &t);
    sb_buf_putc(&t, '.');
    crypto_b64url_encode(payload, strlen(payload), &t);
    uint8_t mac[32];
    crypto_hmac_sha256(pub, publen, t.ptr, t.len, mac);
    sb_buf_putc(&t, '.');
    crypto_b64url_encode(mac, sizeof(mac), &t);
    assert_int_equal(verify(&t, NOW), CRYPTO_JWT_BAD_ALG);

    sb_buf_reset(&t);
    uint8_t sig[64] = {0};
    forge("{\"alg\":\"ES256\",\"kid\":\"k1\"}", payload, sig, 64, &t);
    assert_int_equal(verify(&t, NOW), CRYPTO_JWT_BAD_ALG);
    sb_buf_reset(&t);
    forge("{\"alg\":\"EdDSA\",\"kid\":\"k9\"}", payload, sig, 64, &t);
    assert_int_equal(verify(&t, NOW), CRYPTO_JWT_UNKNOWN_KID);
    sb_buf_reset(&t);
    forge("{\"alg\":\"EdDSA\"}", payload, sig, 64, &t);
    assert_int_equal(verify(&t, NOW), CRYPTO_JWT_UNKNOWN_KID);
    sb_buf_free(&t);
}

static void test_time_edges(void **state)
{
    sb_buf t = SB_BUF_INIT;
    sign(json_pack("{s:I,s:I}", "exp", (json_int_t)NOW, "nbf", (json_int_t)NOW - 100), &t);
    assert_int_equal(verify(&t, NOW + 4), CRYPTO_JWT_OK);      /* inside the 5 s leeway */
    assert_int_equal(verify(&t, NOW + 5), CRYPTO_JWT_EXPIRED); /* exp + leeway is out */
    assert_int_equal(verify(&t, NOW - 105), CRYPTO_JWT_OK);
    assert_int_equal(verify(&t, NOW - 106), CRYPTO_JWT_NOT_YET);
    sb_buf_reset(&t);
    sign(json_pack("{s:s}", "sub", "no-exp"), &t);
    assert_int_equal(verify(&t, NOW), CRYPTO_JWT_MALFORMED);
    sb_buf_free(&t);
}

static void test_malformed(void **state)
{
    const char *bad[] = {"", "a.b", "a.b.c.d", "!!!.e30.AAAA", "W10.e30.AAAA", "e30.e30.AAAA"};
    for (size_t i = 0; i < SB_ARRAY_LEN(bad); i++) {
        json_t *c = NULL;
        crypto_jwt_err e = crypto_jwt_verify(keys, bad[i], strlen(bad[i]), NOW, 5, &c);
        assert_true(e == CRYPTO_JWT_MALFORMED || e == CRYPTO_JWT_BAD_ALG);
        assert_null(c);
    }
    sb_buf big = SB_BUF_INIT;
    for (int i = 0; i < 9 * 1024; i++)
        sb_buf_putc(&big, 'A');
    assert_int_equal(verify(&big, NOW), CRYPTO_JWT_MALFORMED);
    sb_buf_free(&big);
}

static void test_rotation(void **state)
{
    sb_buf old = SB_BUF_INIT, seed2 = SB_BUF_INIT, fresh = SB_BUF_INIT;
    sign(json_pack("{s:I}", "exp", (json_int_t)NOW + 60), &old);
    crypto_jwt_keys_generate(keys, "k2", &seed2);
    sign(json_pack("{s:I}", "exp", (json_int_t)NOW + 60), &fresh);
    sb_buf h = SB_BUF_INIT;
    assert_true(crypto_b64url_decode(fresh.ptr, (size_t)(strchr(fresh.ptr, '.') - fresh.ptr), &h));
    assert_non_null(strstr(h.ptr, "\"kid\":\"k2\"")); /* the newest key signs */
    sb_buf_free(&h);
    assert_int_equal(verify(&old, NOW), CRYPTO_JWT_OK); /* old key still verifies */
    assert_int_equal(verify(&fresh, NOW), CRYPTO_JWT_OK);
    /* A second key set loaded from the stored seeds accepts both. */
    crypto_jwt_keys *other = crypto_jwt_keys_new();
    sb_errbuf err;
    assert_true(crypto_jwt_keys_add(other, "k1", (const uint8_t *)seed1.ptr, false, &err));
    assert_true(crypto_jwt_keys_add(other, "k2", (const uint8_t *)seed2.ptr, true, &err));
    json_t *c = NULL;
    assert_int_equal(crypto_jwt_verify(other, old.ptr, old.len, NOW, 5, &c), CRYPTO_JWT_OK);
    json_decref(c);
    c = NULL;
    assert_int_equal(crypto_jwt_verify(other, fresh.ptr, fresh.len, NOW, 5, &c), CRYPTO_JWT_OK);
    json_decref(c);
    crypto_jwt_keys_free(other);
    sb_buf_free(&old);
    sb_buf_free(&seed2);
    sb_buf_free(&fresh);
}

int main(void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(test_round_trip),        cmocka_unit_test(test_tampered),
        cmocka_unit_test(test_algorithm_attacks), cmocka_unit_test(test_time_edges),
        cmocka_unit_test(test_malformed),         cmocka_unit_test(test_rotation),
    };
    return cmocka_run_group_tests(tests, setup, teardown);
}
