/*
 * seal.h: secrets at rest (TOTP seeds, signing keys, OAuth tokens) sealed
 * with AES-256-GCM under a key ring.
 *
 * The ring holds data keys by id; each is stored wrapped (sealed) under the
 * key-encryption key (KEK), which comes from SITEBASE_MASTER_KEY (64 hex
 * digits) or a 0600 file made at first start. A sealed value is
 *   version(1) | key id(4, big-endian) | nonce(12) | ciphertext | tag(16)
 * and the caller's associated data (e.g. "totp:<user id>") is bound in, so
 * a value moved to another row fails to open.
 */
#ifndef SB_CRYPTO_SEAL_H
#define SB_CRYPTO_SEAL_H

#include "base/common.h"
#include "base/str.h"

#define CRYPTO_KEY_LEN       32
#define CRYPTO_SEAL_OVERHEAD (1 + 4 + 12 + 16)

typedef struct crypto_keyring crypto_keyring;

/* Loads the KEK: from the environment value master_hex when not NULL/empty
 * (64 hex digits), else from key_file, which is created (mode 0600, 32
 * random bytes) when missing. A key file readable by others is refused. */
bool crypto_kek_load(const char *master_hex, const char *key_file, uint8_t kek[CRYPTO_KEY_LEN],
                     sb_errbuf *err);

/* A ring with no data keys yet. kek is copied (and wiped on free). */
crypto_keyring *crypto_keyring_new(const uint8_t kek[CRYPTO_KEY_LEN]);
void crypto_keyring_free(crypto_keyring *r);

/* Adds a data key given wrapped under the KEK (as stored); false if it does
 * not unwrap (wrong KEK, tampered). The newest id seals new values. */
bool crypto_keyring_add_wrapped(crypto_keyring *r, uint32_t id, const void *wrapped, size_t len,
                                sb_errbuf *err);
/* Makes a new random data key with the given id, adds it, and appends its
 * wrapped form to out for storage. */
void crypto_keyring_generate(crypto_keyring *r, uint32_t id, sb_buf *wrapped_out);

/* Seals plaintext with the newest key; appends the sealed bytes to out.
 * Aborts if the ring has no key (a start-up bug). */
void crypto_seal(const crypto_keyring *r, const void *aad, size_t aad_len, const void *plain,
                 size_t len, sb_buf *out);
/* Opens a sealed value; false (out untouched) when the key id is unknown,
 * the data was changed, or aad differs. */
bool crypto_open(const crypto_keyring *r, const void *aad, size_t aad_len, const void *sealed,
                 size_t len, sb_buf *out);

#endif
