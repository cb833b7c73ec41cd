/*
 * password.c: argon2id hashing (RFC 9106) through libargon2, and the
 * policy for new passwords.
 *
 * The common-password list is embedded at build time (common_passwords.txt,
 * see docs/crypto.md) and turned into a sorted array of lower-cased entries
 * on first use, once per process.
 */
#include "crypto/password.h"

#include <argon2.h>
#include <pthread.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "base/rand.h"
#include "base/utf8.h"
#include "base/vec.h"

#define SALT_LEN  16
#define HASH_LEN  32
#define MIN_CHARS 8
#define MAX_BYTES 1024

extern const char crypto_common_passwords_txt[];
extern const size_t crypto_common_passwords_txt_len;

static const char *const pw_errors[] = {
    [CRYPTO_PW_OK] = "ok",
    [CRYPTO_PW_TOO_SHORT] = "must have at least 8 characters",
    [CRYPTO_PW_TOO_LONG] = "must have at most 1024 bytes",
    [CRYPTO_PW_BAD_UTF8] = "must be valid UTF-8",
    [CRYPTO_PW_COMMON] = "is one of the most common passwords; choose another",
    [CRYPTO_PW_MISMATCH] = "does not match",
    [CRYPTO_PW_BAD_HASH] = "the stored hash is not an argon2id hash",
    [CRYPTO_PW_INTERNAL] = "hashing failed",
};

const char *crypto_password_strerror(crypto_password_err e)
{
    return (size_t)e < SB_ARRAY_LEN(pw_errors) ? pw_errors[e] : "unknown error";
}

static SB_VEC(const char *) common;
static char *common_text;
static pthread_once_t common_once = PTHREAD_ONCE_INIT;

static int cmp_str(const void *a, const void *b)
{
    return strcmp(*(const char *const *)a, *(const char *const *)b);
}

static void load_common(void)
{
    /* One lower-cased copy, cut into lines in place; kept for the process. */
    common_text = sb_strndup(crypto_common_passwords_txt, crypto_common_passwords_txt_len);
    for (char *line = common_text; *line;) {
        char *nl = strchr(line, '\n');
        if (nl)
            *nl = '\0';
        if (line[0] && line[0] != '#') {
            for (char *p = line; *p; p++)
                if (*p >= 'A' && *p <= 'Z')
                    *p = (char)(*p + 32);
            sb_vec_push(&common, line);
        }
        if (!nl)
            break;
        line = nl + 1;
    }
    qsort(common.items, common.len, sizeof(common.items[0]), cmp_str);
}

static bool is_common(const char *pw, size_t len)
{
    pthread_once(&common_once, load_common);
    char lower[MAX_BYTES + 1];
    for (size_t i = 0; i < len; i++)
        lower[i] = (char)(pw[i] >= 'A' && pw[i] <= 'Z' ? pw[i] + 32 : pw[i]);
    lower[len] = '\0';
    const char *key = lower;
    bool found = bsearch(&key, common.items, common.len, sizeof(common.items[0]), cmp_str) != NULL;
    sb_secure_zero(lower, len);
    return found;
}

crypto_password_err crypto_password_check(const char *pw, size_t len)
{
    if (len > MAX_BYTES)
        return CRYPTO_PW_TOO_LONG;
    if (!sb_utf8_valid(pw, len, NULL))
        return CRYPTO_PW_BAD_UTF8;
    size_t chars = 0;
    for (size_t i = 0; i < len; i++)
        chars += ((unsigned char)pw[i] & 0xC0) != 0x80;
    if (chars < MIN_CHARS)
        return CRYPTO_PW_TOO_SHORT;
    if (is_common(pw, len))
        return CRYPTO_PW_COMMON;
    return CRYPTO_PW_OK;
}

crypto_password_err crypto_password_hash(const char *pw, size_t len,
                                         const crypto_argon2_params *params,
                                         char out[CRYPTO_PASSWORD_HASH_MAX])
{
    if (len > MAX_BYTES)
        return CRYPTO_PW_TOO_LONG;
    uint8_t salt[SALT_LEN];
    sb_rand_bytes(salt, sizeof(salt));
    int rc = argon2id_hash_encoded(params->t, params->m_kib, params->p, pw, len, salt, SALT_LEN,
                                   HASH_LEN, out, CRYPTO_PASSWORD_HASH_MAX);
    return rc == ARGON2_OK ? CRYPTO_PW_OK : CRYPTO_PW_INTERNAL;
}

/* Reads m, t, p from "$argon2id$v=19$m=19456,t=2,p=1$...". */
static bool stored_params(const char *stored, crypto_argon2_params *out)
{
    unsigned v, m, t, p;
    if (sscanf(stored, "$argon2id$v=%u$m=%u,t=%u,p=%u$", &v, &m, &t, &p) != 4)
        return false;
    *out = (crypto_argon2_params){m, t, p};
    return true;
}

crypto_password_err crypto_password_verify(const char *stored, const char *pw, size_t len,
                                           const crypto_argon2_params *params, bool *needs_rehash)
{
    crypto_argon2_params have;
    if (!stored_params(stored, &have))
        return CRYPTO_PW_BAD_HASH;
    if (len > MAX_BYTES)
        return CRYPTO_PW_MISMATCH;
    int rc = argon2id_verify(stored, pw, len);
    if (rc == ARGON2_VERIFY_MISMATCH)
        return CRYPTO_PW_MISMATCH;
    if (rc != ARGON2_OK)
        return rc == ARGON2_DECODING_FAIL ? CRYPTO_PW_BAD_HASH : CRYPTO_PW_INTERNAL;
    if (needs_rehash)
        *needs_rehash = have.m_kib != params->m_kib || have.t != params->t || have.p != params->p;
    return CRYPTO_PW_OK;
}

void crypto_password_dummy(const crypto_argon2_params *params, char out[CRYPTO_PASSWORD_HASH_MAX])
{
    uint8_t pw[32];
    sb_rand_bytes(pw, sizeof(pw));
    if (crypto_password_hash((const char *)pw, sizeof(pw), params, out) != CRYPTO_PW_OK)
        sb_die("cannot make the dummy password hash");
    sb_secure_zero(pw, sizeof(pw));
}
