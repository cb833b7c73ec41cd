/*
 * identity_memo_test.c: the per-thread memo of open sessions
 * (verified.c): what it remembers holds for the same identity, session
 * and user only, for less than IDENTITY_SESSION_MEMO_US after the read,
 * before the session's expiry, and never across a revocation; and it is
 * one thread's alone.
 */
#include "cmocka_prelude.h"

#include <pthread.h>
#include <stdio.h>
#include <string.h>

#include "identity/identity_int.h"

#define T0 1800000000000000LL /* some microsecond clock */

static void principal(identity_principal *p, const char *user, const char *session)
{
    memset(p, 0, sizeof(*p));
    snprintf(p->user_id, sizeof(p->user_id), "%s", user);
    snprintf(p->session_id, sizeof(p->session_id), "%s", session);
}

static uint64_t gen_of(identity *id)
{
    return atomic_load(&id->revocations);
}

static void test_bounds(void **state)
{
    (void)state;
    identity id = {.serial = 1001};
    identity_principal p;
    principal(&p, "0190c3a2-7f00-7000-8000-000000000001", "0190c3a2-7f00-7000-8000-00000000a001");
    int64_t expires = T0 + 10 * IDENTITY_SESSION_MEMO_US;
    assert_false(identity__open_get(&id, &p, gen_of(&id), T0));
    identity__open_put(&id, &p, gen_of(&id), T0, expires);
    assert_true(identity__open_get(&id, &p, gen_of(&id), T0));
    assert_true(identity__open_get(&id, &p, gen_of(&id), T0 + IDENTITY_SESSION_MEMO_US - 1));
    /* The TTL is the bound on what other processes commit unseen. */
    assert_false(identity__open_get(&id, &p, gen_of(&id), T0 + IDENTITY_SESSION_MEMO_US));
    /* A clock that went back does not stretch it. */
    assert_false(identity__open_get(&id, &p, gen_of(&id), T0 - 1));

    /* Another user with the same session id, another session, another
     * identity (a second server in one process): not remembered. */
    identity_principal q = p;
    q.user_id[0] = '1';
    assert_false(identity__open_get(&id, &q, gen_of(&id), T0));
    q = p;
    q.session_id[SB_UUID_STR_LEN - 2] = '2';
    assert_false(identity__open_get(&id, &q, gen_of(&id), T0));
    identity other = {.serial = 1002};
    assert_false(identity__open_get(&other, &p, gen_of(&other), T0));
}

static void test_expiry(void **state)
{
    (void)state;
    identity id = {.serial = 1003};
    identity_principal p;
    principal(&p, "0190c3a2-7f00-7000-8000-000000000003", "0190c3a2-7f00-7000-8000-00000000a003");
    identity__open_put(&id, &p, gen_of(&id), T0, T0 + 100);
    assert_true(identity__open_get(&id, &p, gen_of(&id), T0 + 99));
    assert_false(identity__open_get(&id, &p, gen_of(&id), T0 + 100));
}

static void test_revocation_voids(void **state)
{
    (void)state;
    identity id = {.serial = 1004};
    identity_principal p;
    principal(&p, "0190c3a2-7f00-7000-8000-000000000004", "0190c3a2-7f00-7000-8000-00000000a004");
    /* As identity_check_session does: the count read before the store. */
    uint64_t before = gen_of(&id);
    identity__open_put(&id, &p, before, T0, T0 + IDENTITY_SESSION_MEMO_US * 10);
    identity__revoked(&id); /* any session's revocation, committed */
    assert_int_not_equal(gen_of(&id), before);
    assert_false(identity__open_get(&id, &p, gen_of(&id), T0 + 1));
    /* A check after the revocation is remembered again. */
    identity__open_put(&id, &p, gen_of(&id), T0 + 2, T0 + IDENTITY_SESSION_MEMO_US * 10);
    assert_true(identity__open_get(&id, &p, gen_of(&id), T0 + 3));
}

typedef struct probe {
    identity *id;
    const identity_principal *p;
    bool seen;
} probe;

static void *other_thread(void *arg)
{
    probe *pr = arg;
    pr->seen = identity__open_get(pr->id, pr->p, gen_of(pr->id), T0 + 1);
    return NULL;
}

static void test_per_thread(void **state)
{
    (void)state;
    identity id = {.serial = 1005};
    identity_principal p;
    principal(&p, "0190c3a2-7f00-7000-8000-000000000005", "0190c3a2-7f00-7000-8000-00000000a005");
    identity__open_put(&id, &p, gen_of(&id), T0, T0 + IDENTITY_SESSION_MEMO_US);
    probe pr = {&id, &p, true};
    pthread_t t;
    assert_int_equal(pthread_create(&t, NULL, other_thread, &pr), 0);
    pthread_join(t, NULL);
    assert_false(pr.seen);
    assert_true(identity__open_get(&id, &p, gen_of(&id), T0 + 1));
}

int main(void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(test_bounds),
        cmocka_unit_test(test_expiry),
        cmocka_unit_test(test_revocation_voids),
        cmocka_unit_test(test_per_thread),
    };
    return cmocka_run_group_tests(tests, NULL, NULL);
}
