/*
 * crypto.c: digests, MACs, constant-time comparison, base64url and base32,
 * and random tokens. Decoders are strict: they refuse anything a matching
 * encoder would not have produced, so one value has one spelling.
 */
#include "crypto/crypto.h"

#include <openssl/crypto.h>
#include <openssl/evp.h>
#include <openssl/hmac.h>

#include <pthread.h>

#include "base/rand.h"

/* SHA-256 fetched from the provider once: with EVP_sha256() every
 * EVP_Digest looks the algorithm up again (names, provider tables, their
 * locks), which cost more than hashing a token, about a tenth of a small
 * /query's server time when the caches are cold. Immutable once fetched. */
static EVP_MD *sha256_md;
static pthread_once_t sha256_once = PTHREAD_ONCE_INIT;

static void sha256_fetch(void)
{
    if (!(sha256_md = EVP_MD_fetch(NULL, "SHA2-256", NULL)))
        sb_die("SHA-256 is not available");
}

void crypto_sha256(const void *p, size_t n, uint8_t out[CRYPTO_SHA256_LEN])
{
    pthread_once(&sha256_once, sha256_fetch);
    unsigned len = CRYPTO_SHA256_LEN;
    if (EVP_Digest(p, n, out, &len, sha256_md, NULL) != 1)
        sb_die("SHA-256 failed");
}

void crypto_hmac_sha256(const void *key, size_t key_len, const void *p, size_t n,
                        uint8_t out[CRYPTO_SHA256_LEN])
{
    unsigned len = CRYPTO_SHA256_LEN;
    if (!HMAC(EVP_sha256(), key, (int)key_len, p, n, out, &len))
        sb_die("HMAC-SHA256 failed");
}

void crypto_hmac_sha1(const void *key, size_t key_len, const void *p, size_t n, uint8_t out[20])
{
    unsigned len = 20;
    if (!HMAC(EVP_sha1(), key, (int)key_len, p, n, out, &len))
        sb_die("HMAC-SHA1 failed");
}

bool crypto_equal(const void *a, const void *b, size_t n)
{
    return CRYPTO_memcmp(a, b, n) == 0;
}

static const char b64url[] = "ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz0123456789-_";

void crypto_b64url_encode(const void *data, size_t n, sb_buf *out)
{
    const uint8_t *p = data;
    sb_buf_reserve(out, (n + 2) / 3 * 4);
    size_t i = 0;
    for (; i + 3 <= n; i += 3) {
        uint32_t v = (uint32_t)p[i] << 16 | (uint32_t)p[i + 1] << 8 | p[i + 2];
        char q[4] = {b64url[v >> 18], b64url[v >> 12 & 63], b64url[v >> 6 & 63], b64url[v & 63]};
        sb_buf_append(out, q, 4);
    }
    if (n - i == 1) {
        uint32_t v = (uint32_t)p[i] << 16;
        char q[2] = {b64url[v >> 18], b64url[v >> 12 & 63]};
        sb_buf_append(out, q, 2);
    } else if (n - i == 2) {
        uint32_t v = (uint32_t)p[i] << 16 | (uint32_t)p[i + 1] << 8;
        char q[3] = {b64url[v >> 18], b64url[v >> 12 & 63], b64url[v >> 6 & 63]};
        sb_buf_append(out, q, 3);
    }
}

static int b64url_val(char c)
{
    if (c >= 'A' && c <= 'Z')
        return c - 'A';
    if (c >= 'a' && c <= 'z')
        return c - 'a' + 26;
    if (c >= '0' && c <= '9')
        return c - '0' + 52;
    if (c == '-')
        return 62;
    if (c == '_')
        return 63;
    return -1;
}

bool crypto_b64url_decode(const char *s, size_t n, sb_buf *out)
{
    if (n % 4 == 1)
        return false; /* no byte count encodes to this */
    size_t start = out->len;
    uint32_t acc = 0;
    int bits = 0;
    for (size_t i = 0; i < n; i++) {
        int v = b64url_val(s[i]);
        if (v < 0)
            goto bad;
        acc = acc << 6 | (uint32_t)v;
        bits += 6;
        if (bits >= 8) {
            bits -= 8;
            sb_buf_putc(out, (char)(acc >> bits & 0xff));
        }
    }
    /* Leftover bits must be zero: one value, one spelling. */
    if (acc & ((1u << bits) - 1))
        goto bad;
    return true;
bad:
    out->len = start;
    if (out->ptr)
        out->ptr[start] = '\0';
    return false;
}

static const char b32[] = "ABCDEFGHIJKLMNOPQRSTUVWXYZ234567";

void crypto_b32_encode(const void *data, size_t n, sb_buf *out)
{
    const uint8_t *p = data;
    uint32_t acc = 0;
    int bits = 0;
    for (size_t i = 0; i < n; i++) {
        acc = acc << 8 | p[i];
        bits += 8;
        while (bits >= 5) {
            bits -= 5;
            sb_buf_putc(out, b32[acc >> bits & 31]);
        }
    }
    if (bits > 0)
        sb_buf_putc(out, b32[acc << (5 - bits) & 31]);
}

bool crypto_b32_decode(const char *s, size_t n, sb_buf *out)
{
    size_t start = out->len;
    uint32_t acc = 0;
    int bits = 0;
    for (size_t i = 0; i < n; i++) {
        char c = s[i];
        int v;
        if (c == ' ' || c == '=')
            continue;
        if (c >= 'a' && c <= 'z')
            c = (char)(c - 32);
        if (c >= 'A' && c <= 'Z')
            v = c - 'A';
        else if (c >= '2' && c <= '7')
            v = c - '2' + 26;
        else
            goto bad;
        acc = acc << 5 | (uint32_t)v;
        bits += 5;
        if (bits >= 8) {
            bits -= 8;
            sb_buf_putc(out, (char)(acc >> bits & 0xff));
        }
    }
    if (bits >= 5 || (acc & ((1u << bits) - 1)))
        goto bad;
    return true;
bad:
    out->len = start;
    if (out->ptr)
        out->ptr[start] = '\0';
    return false;
}

void crypto_token(size_t bytes, sb_buf *out)
{
    uint8_t buf[64];
    if (bytes > sizeof(buf))
        sb_die("crypto_token: %zu bytes is more than a token needs", bytes);
    sb_rand_bytes(buf, bytes);
    crypto_b64url_encode(buf, bytes, out);
    sb_secure_zero(buf, sizeof(buf));
}
