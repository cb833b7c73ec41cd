/*
 * redis_counters.c: counters and shares on Redis, on the publishing
 * connection (pub_lock held for each operation's round trips).
 *
 * Counter K is the key "sb:c:K" in database <db>, changed with one
 * MULTI/INCRBY/PEXPIRE (or PERSIST)/EXEC transaction so that the value and
 * its lifetime change together.
 *
 * Shares: the set "sb:sn:<key>" names the nodes (16 hex digits) that hold
 * one; node N's share is "sb:sv:<N>:<key>", a number with Redis's own
 * expiry, so a dead node's share ends on the server's clock, not on any
 * node's. The set lives as long as its longest-lived share; members whose
 * share has expired are removed when a total is read.
 */
#include <inttypes.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "bus/redis_int.h"

/* Reads an integer reply (or a string holding one; nil = 0). */
static bool reply_int(const redisReply *rep, int64_t *out)
{
    if (rep->type == REDIS_REPLY_INTEGER) {
        *out = rep->integer;
        return true;
    }
    if (rep->type == REDIS_REPLY_NIL) {
        *out = 0;
        return true;
    }
    if (rep->type == REDIS_REPLY_STRING)
        return sb_str_to_i64(sb_str_make(rep->str, rep->len), INT64_MIN, INT64_MAX, out);
    return false;
}

/* Takes pub_lock for one operation's round trips: EDOWN, with the lock
 * released, when the publishing link is down. */
static bus_err pub_acquire(rd *r)
{
    pthread_mutex_lock(&r->pub_lock);
    if (r->pub)
        return BUS_OK;
    pthread_mutex_unlock(&r->pub_lock);
    return BUS_EDOWN;
}

/* Ends the transaction the caller began on r->pub (pub_lock held) with
 * "MULTI" and n queued commands: queues EXEC, reads the n + 2 replies
 * (MULTI's, each command's QUEUED, EXEC's) and hands EXEC's, an array of
 * the n commands' results, to *exec (the caller frees it). EDOWN when the
 * connection fails (it is closed); EPROTO when EXEC did not run the n
 * commands (a command refused when queued aborts it). *exec is set only
 * on OK. */
static bus_err exec_transaction(rd *r, size_t n, redisReply **exec)
{
    redisReply *rep = NULL;
    redisAppendCommand(r->pub, "EXEC");
    for (size_t i = 0; i < n + 2; i++) {
        if (rep)
            freeReplyObject(rep);
        if (redisGetReply(r->pub, (void **)&rep) != REDIS_OK) {
            bus__redis_pub_broken(r);
            return BUS_EDOWN;
        }
    }
    if (rep->type != REDIS_REPLY_ARRAY || rep->elements != n) {
        freeReplyObject(rep);
        return BUS_EPROTO;
    }
    *exec = rep;
    return BUS_OK;
}

bus_err bus__redis_counter_add(bus *b, sb_str key, int64_t delta, int64_t ttl_ms, int64_t *value)
{
    rd *r = b->impl;
    bus_err e = pub_acquire(r);
    if (e != BUS_OK)
        return e;
    redisAppendCommand(r->pub, "MULTI");
    redisAppendCommand(r->pub, "INCRBY sb:c:%b %lld", key.ptr, key.len, (long long)delta);
    if (ttl_ms > 0)
        redisAppendCommand(r->pub, "PEXPIRE sb:c:%b %lld", key.ptr, key.len, (long long)ttl_ms);
    else
        redisAppendCommand(r->pub, "PERSIST sb:c:%b", key.ptr, key.len);
    redisReply *rep;
    if ((e = exec_transaction(r, 2, &rep)) == BUS_OK) {
        int64_t v;
        if (!reply_int(rep->element[0], &v))
            e = BUS_EPROTO; /* e.g. the key holds something else than a number */
        else
            *value = v;
        freeReplyObject(rep);
    }
    pthread_mutex_unlock(&r->pub_lock);
    return e;
}

bus_err bus__redis_counter_get(bus *b, sb_str key, int64_t *value)
{
    rd *r = b->impl;
    bus_err e = pub_acquire(r);
    if (e != BUS_OK)
        return e;
    redisReply *rep = redisCommand(r->pub, "GET sb:c:%b", key.ptr, key.len);
    int64_t v;
    if (!rep) {
        bus__redis_pub_broken(r);
        e = BUS_EDOWN;
    } else {
        if (reply_int(rep, &v))
            *value = v;
        else
            e = BUS_EPROTO;
        freeReplyObject(rep);
    }
    pthread_mutex_unlock(&r->pub_lock);
    return e;
}

/* A total reads at most this many nodes' shares. */
#define RD_SHARE_NODES_MAX 1024

bus_err bus__redis_share_set(bus *b, sb_str key, int64_t value, int64_t ttl_ms)
{
    rd *r = b->impl;
    char node[17];
    snprintf(node, sizeof(node), "%016" PRIx64, b->node_id);
    bus_err e = pub_acquire(r);
    if (e != BUS_OK)
        return e;
    long long ttl = (long long)ttl_ms;
    redisAppendCommand(r->pub, "MULTI");
    redisAppendCommand(r->pub, "PSETEX sb:sv:%s:%b %lld %lld", node, key.ptr, key.len, ttl,
                       (long long)value);
    redisAppendCommand(r->pub, "SADD sb:sn:%b %s", key.ptr, key.len, node);
    /* NX gives a new set its first expiry; GT only ever lengthens it. */
    redisAppendCommand(r->pub, "PEXPIRE sb:sn:%b %lld NX", key.ptr, key.len, ttl);
    redisAppendCommand(r->pub, "PEXPIRE sb:sn:%b %lld GT", key.ptr, key.len, ttl);
    redisReply *rep;
    if ((e = exec_transaction(r, 4, &rep)) == BUS_OK) {
        for (size_t i = 0; e == BUS_OK && i < rep->elements; i++)
            if (rep->element[i]->type == REDIS_REPLY_ERROR)
                e = BUS_EPROTO;
        freeReplyObject(rep);
    }
    pthread_mutex_unlock(&r->pub_lock);
    return e;
}

bus_err bus__redis_share_total(bus *b, sb_str key, int64_t *total)
{
    rd *r = b->impl;
    bus_err e = pub_acquire(r);
    if (e != BUS_OK)
        return e;
    redisReply *members = NULL, *vals = NULL, *rem = NULL;
    char **argv = NULL; /* n + 2 slots, NULL where unused */
    size_t *lens = NULL, n = 0;
    int64_t sum = 0;
    members = redisCommand(r->pub, "SMEMBERS sb:sn:%b", key.ptr, key.len);
    if (!members) {
        bus__redis_pub_broken(r);
        e = BUS_EDOWN;
        goto out;
    }
    if (members->type != REDIS_REPLY_ARRAY) {
        e = BUS_EPROTO;
        goto out;
    }
    n = SB_MIN(members->elements, (size_t)RD_SHARE_NODES_MAX);
    if (n == 0)
        goto out;
    /* MGET of every member's share: argv[0] "MGET", then one key each. */
    argv = sb_calloc(n + 2, sizeof(*argv));
    lens = sb_calloc(n + 2, sizeof(*lens));
    argv[0] = sb_strdup("MGET");
    lens[0] = 4;
    for (size_t i = 0; i < n; i++) {
        const redisReply *m = members->element[i];
        if (m->type != REDIS_REPLY_STRING || m->len != 16) {
            e = BUS_EPROTO;
            goto out;
        }
        lens[i + 1] = 6 + 16 + 1 + key.len;
        argv[i + 1] = sb_malloc(lens[i + 1]);
        memcpy(argv[i + 1], "sb:sv:", 6);
        memcpy(argv[i + 1] + 6, m->str, 16);
        argv[i + 1][22] = ':';
        memcpy(argv[i + 1] + 23, key.ptr, key.len);
    }
    vals = redisCommandArgv(r->pub, (int)n + 1, (const char **)argv, lens);
    if (!vals) {
        bus__redis_pub_broken(r);
        e = BUS_EDOWN;
        goto out;
    }
    if (vals->type != REDIS_REPLY_ARRAY || vals->elements != n) {
        e = BUS_EPROTO;
        goto out;
    }
    /* Sum the live shares; reuse argv for SREM of the expired ones. */
    size_t dead = 0;
    for (size_t i = 0; i < n; i++) {
        int64_t v;
        if (vals->element[i]->type == REDIS_REPLY_NIL) {
            free(argv[2 + dead]);
            argv[2 + dead] = sb_strndup(members->element[i]->str, 16);
            lens[2 + dead] = 16;
            dead++;
        } else if (reply_int(vals->element[i], &v)) {
            sum += v;
        }
    }
    if (dead) {
        free(argv[0]);
        argv[0] = sb_strdup("SREM");
        lens[0] = 4;
        free(argv[1]);
        lens[1] = 6 + key.len;
        argv[1] = sb_malloc(lens[1]);
        memcpy(argv[1], "sb:sn:", 6);
        memcpy(argv[1] + 6, key.ptr, key.len);
        rem = redisCommandArgv(r->pub, (int)dead + 2, (const char **)argv, lens);
        if (!rem) {
            bus__redis_pub_broken(r);
            e = BUS_EDOWN;
            goto out;
        }
    }
out:
    if (argv) {
        for (size_t i = 0; i < n + 2; i++)
            free(argv[i]);
        free(argv);
    }
    free(lens);
    if (members)
        freeReplyObject(members);
    if (vals)
        freeReplyObject(vals);
    if (rem)
        freeReplyObject(rem);
    pthread_mutex_unlock(&r->pub_lock);
    if (e == BUS_OK)
        *total = sum;
    return e;
}
