/* crypto_totp_test.c: RFC 4226 Appendix D and RFC 6238 Appendix B vectors,
 * drift, replay steps and the otpauth URI. */
#include "cmocka_prelude.h"

#include <stdio.h>

#include "crypto/totp.h"

static const uint8_t secret[] = "12345678901234567890";

static void test_hotp_rfc4226(void **state)
{
    const uint32_t want[] = {755224, 287082, 359152, 969429, 338314,
                             254676, 287922, 162583, 399871, 520489};
    for (uint64_t c = 0; c < 10; c++)
        assert_int_equal(crypto_hotp(secret, 20, c, 6), want[c]);
}

static void test_totp_rfc6238(void **state)
{
    const struct {
        int64_t t;
        uint32_t code;
    } v[] = {{59, 94287082},         {1111111109, 7081804},  {1111111111, 14050471},
             {1234567890, 89005924}, {2000000000, 69279037}, {20000000000LL, 65353130}};
    for (size_t i = 0; i < 6; i++)
        assert_int_equal(crypto_hotp(secret, 20, (uint64_t)v[i].t / 30, 8), v[i].code);
}

static void code_at(int64_t t, char out[8])
{
    snprintf(out, 8, "%06u", crypto_hotp(secret, 20, (uint64_t)t / 30, 6));
}

static void test_verify_drift(void **state)
{
    int64_t now = 1795515072;
    char c[8];
    uint64_t step = 0;
    code_at(now, c);
    assert_true(crypto_totp_verify(secret, 20, c, 6, now, &step));
    assert_int_equal(step, (uint64_t)now / 30);
    code_at(now - 30, c);
    assert_true(crypto_totp_verify(secret, 20, c, 6, now, &step));
    assert_int_equal(step, (uint64_t)now / 30 - 1);
    code_at(now + 30, c);
    assert_true(crypto_totp_verify(secret, 20, c, 6, now, &step));
    code_at(now - 60, c);
    assert_false(crypto_totp_verify(secret, 20, c, 6, now, &step));
    code_at(now + 60, c);
    assert_false(crypto_totp_verify(secret, 20, c, 6, now, &step));
    assert_false(crypto_totp_verify(secret, 20, "12345", 5, now, &step));
    assert_false(crypto_totp_verify(secret, 20, "12a456", 6, now, &step));
}

static void test_uri(void **state)
{
    sb_buf b = SB_BUF_INIT;
    crypto_totp_uri((const uint8_t *)"foobar", 6, "Site Base", "ada@example.com", &b);
    assert_string_equal(b.ptr, "otpauth://totp/Site%20Base:ada%40example.com?secret=MZXW6YTBOI"
                               "&issuer=Site%20Base&algorithm=SHA1&digits=6&period=30");
    sb_buf_free(&b);
}

int main(void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(test_hotp_rfc4226),
        cmocka_unit_test(test_totp_rfc6238),
        cmocka_unit_test(test_verify_drift),
        cmocka_unit_test(test_uri),
    };
    return cmocka_run_group_tests(tests, NULL, NULL);
}
