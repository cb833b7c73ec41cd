/*
 * seal.c: AES-256-GCM sealing under a key ring (layout in seal.h).
 *
 * Invariants: every seal uses a fresh random 96-bit nonce (NIST SP 800-38D
 * §8.2.2: safe for 2^32 seals per key, far beyond our rate between
 * rotations); data keys exist in memory only inside the ring and are wiped
 * when it is freed.
 */
#include "crypto/seal.h"

#include <errno.h>
#include <fcntl.h>
#include <stdio.h>
#include <string.h>
#include <sys/stat.h>
#include <unistd.h>

#include <openssl/evp.h>

#include "base/rand.h"
#include "base/vec.h"

#define VERSION 1
#define NONCE   12
#define TAG     16

typedef struct ring_key {
    uint32_t id;
    uint8_t key[CRYPTO_KEY_LEN];
} ring_key;

struct crypto_keyring {
    uint8_t kek[CRYPTO_KEY_LEN];
    SB_VEC(ring_key) keys; /* in the order added; the newest seals */
};

static bool hex_decode(const char *s, uint8_t *out, size_t n)
{
    if (strlen(s) != 2 * n)
        return false;
    for (size_t i = 0; i < 2 * n; i++) {
        int v = sb_hex_digit(s[i]);
        if (v < 0)
            return false;
        if (i % 2 == 0)
            out[i / 2] = (uint8_t)(v << 4);
        else
            out[i / 2] |= (uint8_t)v;
    }
    return true;
}

bool crypto_kek_load(const char *master_hex, const char *key_file, uint8_t kek[CRYPTO_KEY_LEN],
                     sb_errbuf *err)
{
    if (master_hex && master_hex[0]) {
        if (!hex_decode(master_hex, kek, CRYPTO_KEY_LEN))
            return sb_errf(err, "SITEBASE_MASTER_KEY must be 64 hex digits");
        return true;
    }
    int fd = open(key_file, O_RDONLY | O_CLOEXEC);
    if (fd < 0 && errno == ENOENT) {
        fd = open(key_file, O_WRONLY | O_CREAT | O_EXCL | O_CLOEXEC, 0600);
        if (fd >= 0) {
            sb_rand_bytes(kek, CRYPTO_KEY_LEN);
            bool ok = write(fd, kek, CRYPTO_KEY_LEN) == CRYPTO_KEY_LEN && fsync(fd) == 0;
            close(fd);
            if (!ok) {
                unlink(key_file);
                return sb_errf(err, "cannot write the key file %s: %s", key_file, strerror(errno));
            }
            return true;
        }
        if (errno == EEXIST) /* another process made it just now */
            fd = open(key_file, O_RDONLY | O_CLOEXEC);
    }
    if (fd < 0)
        return sb_errf(err, "cannot open the key file %s: %s", key_file, strerror(errno));
    struct stat st;
    if (fstat(fd, &st) != 0 || (st.st_mode & 077) != 0) {
        close(fd);
        return sb_errf(err, "the key file %s must be readable by its owner only (chmod 600)",
                       key_file);
    }
    ssize_t got = read(fd, kek, CRYPTO_KEY_LEN);
    char extra;
    bool exact = got == CRYPTO_KEY_LEN && read(fd, &extra, 1) == 0;
    close(fd);
    if (!exact)
        return sb_errf(err, "the key file %s must hold exactly %d bytes", key_file, CRYPTO_KEY_LEN);
    return true;
}

crypto_keyring *crypto_keyring_new(const uint8_t kek[CRYPTO_KEY_LEN])
{
    crypto_keyring *r = sb_calloc(1, sizeof(*r));
    memcpy(r->kek, kek, CRYPTO_KEY_LEN);
    return r;
}

void crypto_keyring_free(crypto_keyring *r)
{
    if (!r)
        return;
    sb_secure_zero(r->kek, sizeof(r->kek));
    if (r->keys.items)
        sb_secure_zero(r->keys.items, r->keys.cap * sizeof(ring_key));
    sb_vec_free(&r->keys);
    free(r);
}

/* AES-256-GCM with the given key; the layout's header is authenticated too. */
static void gcm_seal(const uint8_t key[CRYPTO_KEY_LEN], uint32_t id, const void *aad,
                     size_t aad_len, const void *plain, size_t len, sb_buf *out)
{
    uint8_t head[1 + 4 + NONCE];
    head[0] = VERSION;
    head[1] = (uint8_t)(id >> 24);
    head[2] = (uint8_t)(id >> 16);
    head[3] = (uint8_t)(id >> 8);
    head[4] = (uint8_t)id;
    sb_rand_bytes(head + 5, NONCE);
    size_t start = out->len;
    sb_buf_reserve(out, sizeof(head) + len + TAG);
    sb_buf_append(out, head, sizeof(head));
    EVP_CIPHER_CTX *ctx = EVP_CIPHER_CTX_new();
    int n = 0;
    uint8_t *ct = (uint8_t *)out->ptr + start + sizeof(head);
    if (!ctx || EVP_EncryptInit_ex(ctx, EVP_aes_256_gcm(), NULL, key, head + 5) != 1 ||
        EVP_EncryptUpdate(ctx, NULL, &n, head, 5) != 1 ||
        (aad_len && EVP_EncryptUpdate(ctx, NULL, &n, aad, (int)aad_len) != 1) ||
        (len && EVP_EncryptUpdate(ctx, ct, &n, plain, (int)len) != 1) ||
        EVP_EncryptFinal_ex(ctx, ct + len, &n) != 1 ||
        EVP_CIPHER_CTX_ctrl(ctx, EVP_CTRL_GCM_GET_TAG, TAG, ct + len) != 1)
        sb_die("AES-256-GCM seal failed");
    EVP_CIPHER_CTX_free(ctx);
    out->len = start + sizeof(head) + len + TAG;
    out->ptr[out->len] = '\0';
}

static uint32_t sealed_id(const uint8_t *p)
{
    return (uint32_t)p[1] << 24 | (uint32_t)p[2] << 16 | (uint32_t)p[3] << 8 | p[4];
}

static bool gcm_open(const uint8_t key[CRYPTO_KEY_LEN], const void *aad, size_t aad_len,
                     const uint8_t *p, size_t len, sb_buf *out)
{
    size_t clen = len - CRYPTO_SEAL_OVERHEAD;
    const uint8_t *ct = p + 5 + NONCE;
    size_t start = out->len;
    sb_buf_reserve(out, clen);
    uint8_t *pt = (uint8_t *)out->ptr + start;
    int n = 0;
    EVP_CIPHER_CTX *ctx = EVP_CIPHER_CTX_new();
    bool ok = ctx && EVP_DecryptInit_ex(ctx, EVP_aes_256_gcm(), NULL, key, p + 5) == 1 &&
              EVP_DecryptUpdate(ctx, NULL, &n, p, 5) == 1 &&
              (!aad_len || EVP_DecryptUpdate(ctx, NULL, &n, aad, (int)aad_len) == 1) &&
              (!clen || EVP_DecryptUpdate(ctx, pt, &n, ct, (int)clen) == 1) &&
              EVP_CIPHER_CTX_ctrl(ctx, EVP_CTRL_GCM_SET_TAG, TAG, (void *)(ct + clen)) == 1 &&
              EVP_DecryptFinal_ex(ctx, pt + clen, &n) == 1;
    EVP_CIPHER_CTX_free(ctx);
    if (!ok) {
        sb_secure_zero(pt, clen);
        out->ptr[start] = '\0';
        return false;
    }
    out->len = start + clen;
    out->ptr[out->len] = '\0';
    return true;
}

static bool well_formed(const void *sealed, size_t len)
{
    return len >= CRYPTO_SEAL_OVERHEAD && ((const uint8_t *)sealed)[0] == VERSION;
}

static void wrap_aad(uint32_t id, char out[32], size_t *n)
{
    *n = (size_t)snprintf(out, 32, "sitebase-key:%u", id);
}

bool crypto_keyring_add_wrapped(crypto_keyring *r, uint32_t id, const void *wrapped, size_t len,
                                sb_errbuf *err)
{
    char aad[32];
    size_t alen;
    wrap_aad(id, aad, &alen);
    sb_buf key = SB_BUF_INIT;
    if (!well_formed(wrapped, len) || !gcm_open(r->kek, aad, alen, wrapped, len, &key) ||
        key.len != CRYPTO_KEY_LEN) {
        sb_buf_free(&key);
        return sb_errf(err, "data key %u does not unwrap: wrong master key, or the key was changed",
                       id);
    }
    ring_key k = {.id = id};
    memcpy(k.key, key.ptr, CRYPTO_KEY_LEN);
    sb_secure_zero(key.ptr, key.len);
    sb_buf_free(&key);
    sb_vec_push(&r->keys, k);
    sb_secure_zero(&k, sizeof(k));
    return true;
}

void crypto_keyring_generate(crypto_keyring *r, uint32_t id, sb_buf *wrapped_out)
{
    ring_key k = {.id = id};
    sb_rand_bytes(k.key, CRYPTO_KEY_LEN);
    char aad[32];
    size_t alen;
    wrap_aad(id, aad, &alen);
    gcm_seal(r->kek, 0, aad, alen, k.key, CRYPTO_KEY_LEN, wrapped_out);
    sb_vec_push(&r->keys, k);
    sb_secure_zero(&k, sizeof(k));
}

void crypto_seal(const crypto_keyring *r, const void *aad, size_t aad_len, const void *plain,
                 size_t len, sb_buf *out)
{
    if (r->keys.len == 0)
        sb_die("crypto_seal: the key ring is empty");
    const ring_key *k = &r->keys.items[r->keys.len - 1];
    gcm_seal(k->key, k->id, aad, aad_len, plain, len, out);
}

bool crypto_open(const crypto_keyring *r, const void *aad, size_t aad_len, const void *sealed,
                 size_t len, sb_buf *out)
{
    if (!well_formed(sealed, len))
        return false;
    uint32_t id = sealed_id(sealed);
    for (size_t i = 0; i < r->keys.len; i++)
        if (r->keys.items[i].id == id)
            return gcm_open(r->keys.items[i].key, aad, aad_len, sealed, len, out);
    return false;
}
