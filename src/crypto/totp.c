/*
 * totp.c: HOTP (RFC 4226 §5.3: HMAC-SHA1, dynamic truncation) and TOTP
 * (RFC 6238 §4: T0 = 0, X = 30 s).
 */
#include "crypto/totp.h"

#include <stdio.h>
#include <string.h>

#include "crypto/crypto.h"

#define STEP 30

uint32_t crypto_hotp(const uint8_t *secret, size_t len, uint64_t counter, int digits)
{
    uint8_t msg[8], mac[20];
    for (int i = 7; i >= 0; i--) {
        msg[i] = (uint8_t)counter;
        counter >>= 8;
    }
    crypto_hmac_sha1(secret, len, msg, sizeof(msg), mac);
    int off = mac[19] & 0x0f;
    uint32_t bin = (uint32_t)(mac[off] & 0x7f) << 24 | (uint32_t)mac[off + 1] << 16 |
                   (uint32_t)mac[off + 2] << 8 | mac[off + 3];
    uint32_t mod = 1;
    for (int i = 0; i < digits; i++)
        mod *= 10;
    return bin % mod;
}

bool crypto_totp_verify(const uint8_t *secret, size_t len, const char *code, size_t code_len,
                        int64_t now, uint64_t *step)
{
    if (code_len != 6 || now < STEP)
        return false;
    for (size_t i = 0; i < 6; i++)
        if (code[i] < '0' || code[i] > '9')
            return false;
    uint64_t t = (uint64_t)now / STEP;
    bool found = false;
    /* Check all three steps whatever matches, so timing says nothing. */
    for (uint64_t s = t - 1; s <= t + 1; s++) {
        char want[8];
        snprintf(want, sizeof(want), "%06u", crypto_hotp(secret, len, s, 6));
        if (crypto_equal(want, code, 6) && !found) {
            found = true;
            *step = s;
        }
    }
    return found;
}

static void percent_encode(const char *s, sb_buf *out)
{
    static const char hex[] = "0123456789ABCDEF";
    for (; *s; s++) {
        unsigned char c = (unsigned char)*s;
        if ((c >= 'A' && c <= 'Z') || (c >= 'a' && c <= 'z') || (c >= '0' && c <= '9') ||
            c == '-' || c == '.' || c == '_' || c == '~') {
            sb_buf_putc(out, (char)c);
        } else {
            char e[3] = {'%', hex[c >> 4], hex[c & 15]};
            sb_buf_append(out, e, 3);
        }
    }
}

void crypto_totp_uri(const uint8_t *secret, size_t len, const char *issuer, const char *account,
                     sb_buf *out)
{
    sb_buf_puts(out, "otpauth://totp/");
    percent_encode(issuer, out);
    sb_buf_putc(out, ':');
    percent_encode(account, out);
    sb_buf_puts(out, "?secret=");
    crypto_b32_encode(secret, len, out);
    sb_buf_puts(out, "&issuer=");
    percent_encode(issuer, out);
    sb_buf_puts(out, "&algorithm=SHA1&digits=6&period=30");
}
