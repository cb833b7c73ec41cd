/* crypto_seal_test.c: sealing round trips, every kind of tampering, key
 * rotation, key wrapping, and loading the key-encryption key. */
#include "cmocka_prelude.h"

#include <stdio.h>
#include <stdlib.h>
#include <sys/stat.h>
#include <unistd.h>

#include "crypto/seal.h"

static const uint8_t kek[32] = {1,  2,  3,  4,  5,  6,  7,  8,  9,  10, 11, 12, 13, 14, 15, 16,
                                17, 18, 19, 20, 21, 22, 23, 24, 25, 26, 27, 28, 29, 30, 31, 32};

static void test_round_trip_and_tamper(void **state)
{
    crypto_keyring *r = crypto_keyring_new(kek);
    sb_buf wrapped = SB_BUF_INIT, sealed = SB_BUF_INIT, out = SB_BUF_INIT;
    crypto_keyring_generate(r, 7, &wrapped);
    crypto_seal(r, "totp:u1", 7, "secret seed", 11, &sealed);
    assert_int_equal(sealed.len, 11 + CRYPTO_SEAL_OVERHEAD);
    assert_int_equal((uint8_t)sealed.ptr[0], 1);
    assert_int_equal((uint8_t)sealed.ptr[4], 7); /* key id, big-endian */
    assert_true(crypto_open(r, "totp:u1", 7, sealed.ptr, sealed.len, &out));
    assert_int_equal(out.len, 11);
    assert_memory_equal(out.ptr, "secret seed", 11);
    /* Flip one bit in each region: version, key id, nonce, ciphertext, tag. */
    size_t at[] = {0, 3, 8, 20, sealed.len - 1};
    for (size_t i = 0; i < SB_ARRAY_LEN(at); i++) {
        sealed.ptr[at[i]] ^= 1;
        sb_buf_reset(&out);
        assert_false(crypto_open(r, "totp:u1", 7, sealed.ptr, sealed.len, &out));
        assert_int_equal(out.len, 0);
        sealed.ptr[at[i]] ^= 1;
    }
    assert_false(crypto_open(r, "totp:u2", 7, sealed.ptr, sealed.len, &out)); /* moved row */
    assert_false(crypto_open(r, "totp:u1", 7, sealed.ptr, 10, &out));         /* truncated */
    crypto_keyring_free(r);
    sb_buf_free(&wrapped);
    sb_buf_free(&sealed);
    sb_buf_free(&out);
}

static void test_rotation_and_wrapping(void **state)
{
    crypto_keyring *r = crypto_keyring_new(kek);
    sb_buf w1 = SB_BUF_INIT, w2 = SB_BUF_INIT, s1 = SB_BUF_INIT, s2 = SB_BUF_INIT,
           out = SB_BUF_INIT;
    crypto_keyring_generate(r, 1, &w1);
    crypto_seal(r, NULL, 0, "one", 3, &s1);
    crypto_keyring_generate(r, 2, &w2);
    crypto_seal(r, NULL, 0, "two", 3, &s2);
    assert_int_equal((uint8_t)s2.ptr[4], 2); /* new seals use the newest key */
    assert_true(crypto_open(r, NULL, 0, s1.ptr, s1.len, &out));

    /* A ring rebuilt from the stored wrapped keys opens both. */
    crypto_keyring *again = crypto_keyring_new(kek);
    sb_errbuf err;
    assert_true(crypto_keyring_add_wrapped(again, 1, w1.ptr, w1.len, &err));
    assert_true(crypto_keyring_add_wrapped(again, 2, w2.ptr, w2.len, &err));
    sb_buf_reset(&out);
    assert_true(crypto_open(again, NULL, 0, s2.ptr, s2.len, &out));
    assert_memory_equal(out.ptr, "two", 3);
    /* A wrapped key claimed under another id, or another KEK, fails. */
    assert_false(crypto_keyring_add_wrapped(again, 3, w1.ptr, w1.len, &err));
    uint8_t other[32] = {9};
    crypto_keyring *wrong = crypto_keyring_new(other);
    assert_false(crypto_keyring_add_wrapped(wrong, 1, w1.ptr, w1.len, &err));
    assert_non_null(strstr(err.msg, "does not unwrap"));
    /* Unknown key id. */
    crypto_keyring *empty = crypto_keyring_new(kek);
    assert_false(crypto_open(empty, NULL, 0, s1.ptr, s1.len, &out));
    crypto_keyring_free(r);
    crypto_keyring_free(again);
    crypto_keyring_free(wrong);
    crypto_keyring_free(empty);
    sb_buf_free(&w1);
    sb_buf_free(&w2);
    sb_buf_free(&s1);
    sb_buf_free(&s2);
    sb_buf_free(&out);
}

static void test_kek_load(void **state)
{
    uint8_t k[32], k2[32];
    sb_errbuf err;
    assert_true(crypto_kek_load("000102030405060708090a0b0c0d0e0f101112131415161718191a1b1c1d1e1f",
                                NULL, k, &err));
    assert_int_equal(k[31], 0x1f);
    assert_false(crypto_kek_load("00zz", NULL, k, &err));
    assert_string_equal(err.msg, "SITEBASE_MASTER_KEY must be 64 hex digits");

    char dir[] = "/tmp/sitebase-kek-XXXXXX";
    assert_non_null(mkdtemp(dir));
    char path[64];
    snprintf(path, sizeof(path), "%s/master.key", dir);
    assert_true(crypto_kek_load(NULL, path, k, &err)); /* made */
    struct stat st;
    assert_int_equal(stat(path, &st), 0);
    assert_int_equal(st.st_mode & 0777, 0600);
    assert_int_equal(st.st_size, 32);
    assert_true(crypto_kek_load("", path, k2, &err)); /* read back */
    assert_memory_equal(k, k2, 32);
    chmod(path, 0644);
    assert_false(crypto_kek_load(NULL, path, k2, &err));
    assert_non_null(strstr(err.msg, "must be readable by its owner only"));
    unlink(path);
    rmdir(dir);
}

int main(void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(test_round_trip_and_tamper),
        cmocka_unit_test(test_rotation_and_wrapping),
        cmocka_unit_test(test_kek_load),
    };
    return cmocka_run_group_tests(tests, NULL, NULL);
}
