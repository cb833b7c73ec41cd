/*
 * test_file.h: file helpers for tests (after cmocka_prelude.h or cmocka.h).
 */
#ifndef SB_TESTS_TEST_FILE_H
#define SB_TESTS_TEST_FILE_H

#include <stdio.h>

/* Copies the file from to the file to, byte for byte; fails the test on
 * any error. */
static inline void test_copy_file(const char *from, const char *to)
{
    FILE *in = fopen(from, "rb"), *out = fopen(to, "wb");
    assert_non_null(in);
    assert_non_null(out);
    char buf[8192];
    size_t n;
    while ((n = fread(buf, 1, sizeof buf, in)) > 0)
        assert_int_equal(fwrite(buf, 1, n, out), n);
    assert_false(ferror(in));
    fclose(in);
    assert_int_equal(fclose(out), 0);
}

#endif
