/* cmocka_prelude.h: the includes every cmocka test needs, in its order. */
#ifndef SB_TESTS_CMOCKA_PRELUDE_H
#define SB_TESTS_CMOCKA_PRELUDE_H
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <string.h>

#include <cmocka.h>
#endif
