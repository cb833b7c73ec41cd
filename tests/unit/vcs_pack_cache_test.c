/*
 * vcs_pack_cache_test.c: the kept packs of vcs/pack_cache.c: a key names
 * the project, the wants and the haves (any difference is another pack),
 * a kept pack comes back byte for byte, the least recently used goes first
 * past 32 packs or 64 MiB, and a pack over a quarter of that is not kept.
 */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <cmocka.h>

#include <string.h>

#include "vcs/vcs_int.h"

static void key_of(sb_buf *key, const char *project, unsigned char want, size_t nhaves)
{
    vcs_upload_request *req = calloc(1, sizeof(*req));
    assert_non_null(req);
    req->nwants = 1;
    req->wants[0][0] = want;
    req->nhaves = nhaves;
    for (size_t i = 0; i < nhaves; i++)
        req->haves[i][19] = (unsigned char)(i + 1);
    sb_buf_reset(key);
    vcs__pack_key(key, project, req);
    free(req);
}

static bool has(const char *project, unsigned char want, size_t nhaves, const char *pack)
{
    sb_buf key = SB_BUF_INIT, out = SB_BUF_INIT;
    key_of(&key, project, want, nhaves);
    bool hit = vcs__pack_cache_get(&key, &out);
    if (hit && pack)
        assert_true(out.len == strlen(pack) && memcmp(out.ptr, pack, out.len) == 0);
    sb_buf_free(&key);
    sb_buf_free(&out);
    return hit;
}

static void put(const char *project, unsigned char want, size_t nhaves, const void *pack, size_t n)
{
    sb_buf key = SB_BUF_INIT;
    key_of(&key, project, want, nhaves);
    vcs__pack_cache_put(&key, pack, n);
    sb_buf_free(&key);
}

static void test_keys_and_eviction(void **state)
{
    (void)state;
    put("p1", 1, 0, "PACK-A", 6);
    assert_true(has("p1", 1, 0, "PACK-A"));
    assert_false(has("p2", 1, 0, NULL)); /* another project */
    assert_false(has("p1", 2, 0, NULL)); /* another want */
    assert_false(has("p1", 1, 1, NULL)); /* with a have */
    put("p1", 1, 0, "OTHER!", 6);        /* the first stays */
    assert_true(has("p1", 1, 0, "PACK-A"));
    /* 32 more: the least recently used goes, one at a time */
    for (unsigned char w = 10; w < 41; w++)
        put("p1", w, 0, "x", 1);
    assert_true(has("p1", 1, 0, "PACK-A")); /* 32 kept: all there; and A is now fresh */
    put("p1", 41, 0, "x", 1);               /* evicts want 10, the oldest */
    assert_false(has("p1", 10, 0, NULL));
    assert_true(has("p1", 1, 0, "PACK-A"));
    assert_true(has("p1", 41, 0, "x"));
}

static void test_bytes(void **state)
{
    (void)state;
    size_t big = (64u << 20) / 4;
    char *p = malloc(big + 1);
    assert_non_null(p);
    memset(p, 'z', big + 1);
    put("p3", 1, 0, p, big + 1); /* over a quarter: not kept */
    assert_false(has("p3", 1, 0, NULL));
    for (unsigned char w = 1; w <= 4; w++)
        put("p3", w, 0, p, big); /* 64 MiB of them with what is kept already: the oldest go */
    assert_true(has("p3", 4, 0, NULL));
    assert_true(has("p3", 3, 0, NULL));
    put("p3", 5, 0, p, big);
    assert_true(has("p3", 5, 0, NULL));
    assert_false(has("p3", 1, 0, NULL) && has("p3", 2, 0, NULL)); /* at most 4 quarters */
    free(p);
}

int main(void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(test_keys_and_eviction),
        cmocka_unit_test(test_bytes),
    };
    return cmocka_run_group_tests(tests, NULL, NULL);
}
