/* crypto_test.c: digests and MACs against RFC vectors; the strict
 * base64url and base32 codecs; constant-time equality. */
#include "cmocka_prelude.h"

#include "base/str.h"
#include "crypto/crypto.h"

static void hex(const uint8_t *p, size_t n, char *out)
{
    sb_hex_encode(p, n, out);
}

static void test_sha256_hmac(void **state)
{
    uint8_t h[32];
    char s[65];
    crypto_sha256("abc", 3, h);
    hex(h, 32, s);
    assert_string_equal(s, "ba7816bf8f01cfea414140de5dae2223b00361a396177a9cb410ff61f20015ad");
    /* RFC 4231 test case 2. */
    crypto_hmac_sha256("Jefe", 4, "what do ya want for nothing?", 28, h);
    hex(h, 32, s);
    assert_string_equal(s, "5bdcc146bf60754e6a042426089575c75a003f089d2739839dec58b964ec3843");
    /* RFC 2202 test case 2 (HMAC-SHA1). */
    uint8_t h1[20];
    char s1[41];
    crypto_hmac_sha1("Jefe", 4, "what do ya want for nothing?", 28, h1);
    hex(h1, 20, s1);
    assert_string_equal(s1, "effcdf6ae5eb2fa2d27416d5f184df9c259a7c79");
}

static void test_b64url(void **state)
{
    /* RFC 4648 §10 vectors, without padding. */
    const char *in[] = {"", "f", "fo", "foo", "foob", "fooba", "foobar"};
    const char *want[] = {"", "Zg", "Zm8", "Zm9v", "Zm9vYg", "Zm9vYmE", "Zm9vYmFy"};
    for (int i = 0; i < 7; i++) {
        sb_buf b = SB_BUF_INIT, d = SB_BUF_INIT;
        crypto_b64url_encode(in[i], strlen(in[i]), &b);
        assert_string_equal(b.ptr ? b.ptr : "", want[i]);
        assert_true(crypto_b64url_decode(want[i], strlen(want[i]), &d));
        assert_int_equal(d.len, strlen(in[i]));
        if (d.len)
            assert_memory_equal(d.ptr, in[i], d.len);
        sb_buf_free(&b);
        sb_buf_free(&d);
    }
    sb_buf b = SB_BUF_INIT;
    crypto_b64url_encode("\xfb\xff", 2, &b);
    assert_string_equal(b.ptr, "-_8"); /* the URL-safe letters */
    sb_buf_free(&b);
    sb_buf d = SB_BUF_INIT;
    assert_false(crypto_b64url_decode("Zm9v+", 5, &d)); /* '+' is not base64url */
    assert_false(crypto_b64url_decode("Zm9vY", 5, &d)); /* impossible length */
    assert_false(crypto_b64url_decode("Zh", 2, &d));    /* non-zero trailing bits */
    assert_false(crypto_b64url_decode("Zg==", 4, &d));  /* no padding */
    assert_int_equal(d.len, 0);
    sb_buf_free(&d);
}

static void test_b32(void **state)
{
    const char *in[] = {"", "f", "fo", "foo", "foob", "fooba", "foobar"};
    const char *want[] = {"", "MY", "MZXQ", "MZXW6", "MZXW6YQ", "MZXW6YTB", "MZXW6YTBOI"};
    for (int i = 0; i < 7; i++) {
        sb_buf b = SB_BUF_INIT, d = SB_BUF_INIT;
        crypto_b32_encode(in[i], strlen(in[i]), &b);
        assert_string_equal(b.ptr ? b.ptr : "", want[i]);
        assert_true(crypto_b32_decode(want[i], strlen(want[i]), &d));
        assert_int_equal(d.len, strlen(in[i]));
        sb_buf_free(&b);
        sb_buf_free(&d);
    }
    sb_buf d = SB_BUF_INIT;
    assert_true(crypto_b32_decode("mzxw 6ytb oi==", 14, &d)); /* case, spaces, padding */
    assert_string_equal(d.ptr, "foobar");
    sb_buf_reset(&d);
    assert_false(crypto_b32_decode("MZXW1", 5, &d)); /* '1' is not base32 */
    assert_false(crypto_b32_decode("MZ", 2, &d));    /* non-zero trailing bits */
    sb_buf_free(&d);
}

static void test_equal_and_token(void **state)
{
    assert_true(crypto_equal("abcdef", "abcdef", 6));
    assert_false(crypto_equal("abcdef", "abcdeg", 6));
    sb_buf a = SB_BUF_INIT, b = SB_BUF_INIT;
    crypto_token(32, &a);
    crypto_token(32, &b);
    assert_int_equal(a.len, 43);
    assert_false(sb_str_eq(sb_buf_str(&a), sb_buf_str(&b)));
    sb_buf_free(&a);
    sb_buf_free(&b);
}

int main(void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(test_sha256_hmac),
        cmocka_unit_test(test_b64url),
        cmocka_unit_test(test_b32),
        cmocka_unit_test(test_equal_and_token),
    };
    return cmocka_run_group_tests(tests, NULL, NULL);
}
