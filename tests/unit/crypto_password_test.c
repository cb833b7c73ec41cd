/* crypto_password_test.c: argon2id hashing, verification, rehash
 * detection, and the password policy. */
#include "cmocka_prelude.h"

#include "crypto/password.h"

static const crypto_argon2_params fast = {1024, 1, 1};

static void test_hash_verify(void **state)
{
    char h[CRYPTO_PASSWORD_HASH_MAX];
    bool rehash = true;
    assert_int_equal(crypto_password_hash("correct horse", 13, &fast, h), CRYPTO_PW_OK);
    assert_int_equal(strncmp(h, "$argon2id$v=19$m=1024,t=1,p=1$", 30), 0);
    assert_int_equal(crypto_password_verify(h, "correct horse", 13, &fast, &rehash), CRYPTO_PW_OK);
    assert_false(rehash);
    assert_int_equal(crypto_password_verify(h, "correct horsf", 13, &fast, &rehash),
                     CRYPTO_PW_MISMATCH);
    crypto_argon2_params stronger = {2048, 1, 1};
    assert_int_equal(crypto_password_verify(h, "correct horse", 13, &stronger, &rehash),
                     CRYPTO_PW_OK);
    assert_true(rehash);
    assert_int_equal(crypto_password_verify("$2b$10$bcrypt", "x", 1, &fast, &rehash),
                     CRYPTO_PW_BAD_HASH);
    char h2[CRYPTO_PASSWORD_HASH_MAX];
    crypto_password_hash("correct horse", 13, &fast, h2);
    assert_string_not_equal(h, h2); /* fresh salt each time */
}

static void test_defaults(void **state)
{
    char h[CRYPTO_PASSWORD_HASH_MAX];
    crypto_argon2_params d = CRYPTO_ARGON2_DEFAULTS;
    assert_int_equal(crypto_password_hash("pw", 2, &d, h), CRYPTO_PW_OK);
    assert_int_equal(strncmp(h, "$argon2id$v=19$m=19456,t=2,p=1$", 31), 0);
}

static void test_policy(void **state)
{
    assert_int_equal(crypto_password_check("abcdefg", 7), CRYPTO_PW_TOO_SHORT);
    assert_int_equal(crypto_password_check("kq8#vZ2!", 8), CRYPTO_PW_OK);
    /* Characters, not bytes: 8 two-byte letters pass, 7 do not. */
    assert_int_equal(crypto_password_check("ééééééé", 14), CRYPTO_PW_TOO_SHORT);
    assert_int_equal(crypto_password_check("éééééééé", 16), CRYPTO_PW_OK);
    char long_pw[1026];
    memset(long_pw, 'x', sizeof(long_pw));
    assert_int_equal(crypto_password_check(long_pw, 1025), CRYPTO_PW_TOO_LONG);
    assert_int_equal(crypto_password_check("password123", 11), CRYPTO_PW_COMMON);
    assert_int_equal(crypto_password_check("PassWord123", 11), CRYPTO_PW_COMMON);
    assert_int_equal(crypto_password_check("iloveyou", 8), CRYPTO_PW_COMMON);
    assert_int_equal(crypto_password_check("bad\xff utf8 pw", 12), CRYPTO_PW_BAD_UTF8);
    assert_string_equal(crypto_password_strerror(CRYPTO_PW_TOO_SHORT),
                        "must have at least 8 characters");
}

static void test_dummy(void **state)
{
    char h[CRYPTO_PASSWORD_HASH_MAX];
    crypto_password_dummy(&fast, h);
    bool rehash;
    assert_int_equal(crypto_password_verify(h, "anything", 8, &fast, &rehash), CRYPTO_PW_MISMATCH);
}

int main(void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(test_hash_verify),
        cmocka_unit_test(test_defaults),
        cmocka_unit_test(test_policy),
        cmocka_unit_test(test_dummy),
    };
    return cmocka_run_group_tests(tests, NULL, NULL);
}
