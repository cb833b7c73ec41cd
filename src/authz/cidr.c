/*
 * cidr.c: IP ranges for team allowlists. Both families are compared in
 * the 16-byte IPv6 form, IPv4 mapped as ::ffff:a.b.c.d, so "10.0.0.0/8"
 * also matches a v4-mapped peer address on a dual-stack listener.
 */
#include <arpa/inet.h>
#include <stdio.h>
#include <string.h>

#include "authz/authz.h"

/* Parses an address into the 16-byte form; *v4 tells the family. */
static bool parse_addr(const char *s, uint8_t out[16], bool *v4)
{
    struct in_addr a4;
    if (inet_pton(AF_INET, s, &a4) == 1) {
        memset(out, 0, 10);
        out[10] = out[11] = 0xff;
        memcpy(out + 12, &a4, 4);
        *v4 = true;
        return true;
    }
    *v4 = false;
    return inet_pton(AF_INET6, s, out) == 1;
}

static bool prefix_equal(const uint8_t *a, const uint8_t *b, unsigned bits)
{
    unsigned full = bits / 8, rest = bits % 8;
    if (memcmp(a, b, full) != 0)
        return false;
    if (rest == 0)
        return true;
    uint8_t mask = (uint8_t)(0xff << (8 - rest));
    return (a[full] & mask) == (b[full] & mask);
}

bool authz_cidr_parse(sb_str s, authz_cidr *out)
{
    char text[64];
    if (s.len == 0 || s.len >= sizeof(text) || memchr(s.ptr, 0, s.len))
        return false;
    memcpy(text, s.ptr, s.len);
    text[s.len] = 0;
    char *slash = strchr(text, '/');
    if (slash)
        *slash = 0;
    authz_cidr c;
    bool v4;
    if (!parse_addr(text, c.addr, &v4))
        return false;
    int64_t bits = v4 ? 32 : 128;
    if (slash && !sb_str_to_i64(sb_str_c(slash + 1), 0, v4 ? 32 : 128, &bits))
        return false;
    c.prefix = (uint8_t)(v4 ? 96 + bits : bits);
    /* Host bits must be zero: compare with itself masked. */
    uint8_t masked[16] = {0};
    memcpy(masked, c.addr, c.prefix / 8);
    if (c.prefix % 8)
        masked[c.prefix / 8] = c.addr[c.prefix / 8] & (uint8_t)(0xff << (8 - c.prefix % 8));
    if (memcmp(masked, c.addr, 16) != 0)
        return false;
    *out = c;
    return true;
}

void authz_cidr_format(const authz_cidr *c, char *out, size_t cap)
{
    static const uint8_t v4_prefix[12] = {0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0xff, 0xff};
    char addr[INET6_ADDRSTRLEN];
    if (c->prefix >= 96 && memcmp(c->addr, v4_prefix, 12) == 0) {
        inet_ntop(AF_INET, c->addr + 12, addr, sizeof(addr));
        snprintf(out, cap, "%s/%u", addr, c->prefix - 96u);
    } else {
        inet_ntop(AF_INET6, c->addr, addr, sizeof(addr));
        snprintf(out, cap, "%s/%u", addr, (unsigned)c->prefix);
    }
}

bool authz_cidr_contains(const authz_cidr *c, const char *ip)
{
    uint8_t a[16];
    bool v4;
    return parse_addr(ip, a, &v4) && prefix_equal(a, c->addr, c->prefix);
}
