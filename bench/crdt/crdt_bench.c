/*
 * crdt_bench.c: the C engine's half of bench/crdt (issue 5). Replays one
 * editing trace (josephg/editing-traces format, gzipped JSON) through the
 * local editing API and prints one line of JSON with what run.sh compares
 * against Yjs in node:
 *
 *   apply_ms    every patch of every transaction as local edits
 *   remote_ms   every update those edits produced, applied in order to a
 *               fresh document (what a server does with a client's stream)
 *   encode_ms   encodeStateAsUpdate of the final document (median of runs)
 *   decode_ms   that state applied to a fresh document (median of runs)
 *   state_bytes the size of that state
 *   doc_kb      resident memory the final document holds: RSS after the
 *               replay minus RSS before it (the trace is loaded, compacted
 *               and its JSON freed first, so it is not counted)
 *
 * The final text is checked against the trace's endContent, and the
 * decoded document against the original, so a wrong engine cannot post a
 * fast time. Usage: crdt_bench TRACE.json.gz
 */
#include <jansson.h>
#include <malloc.h>
#include <sys/resource.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>
#include <zlib.h>

#include "crdt/crdt.h"

#define TIMED_RUNS 7

typedef struct patch {
    uint32_t pos, del, ins_off, ins_len;
} patch;

typedef struct trace {
    patch *patches;
    size_t n;
    char *text; /* every inserted string, back to back */
    char *end;  /* endContent */
    size_t end_len;
    size_t transactions;
} trace;

static double now_ms(void)
{
    struct timespec t;
    clock_gettime(CLOCK_MONOTONIC, &t);
    return (double)t.tv_sec * 1e3 + (double)t.tv_nsec / 1e6;
}

static double cpu_ms(void)
{
    struct timespec t;
    clock_gettime(CLOCK_PROCESS_CPUTIME_ID, &t);
    return (double)t.tv_sec * 1e3 + (double)t.tv_nsec / 1e6;
}

/* Bytes malloc has handed out and not had back. */
static size_t live_bytes(void)
{
    struct mallinfo2 m = mallinfo2();
    return m.uordblks + m.hblkhd;
}

static void die(const char *what, const char *detail)
{
    fprintf(stderr, "crdt_bench: %s%s%s\n", what, detail ? ": " : "", detail ? detail : "");
    exit(1);
}

/* Reads the gzipped JSON trace into a compact patch list. */
static void load(const char *path, trace *t)
{
    gzFile z = gzopen(path, "rb");
    if (!z)
        die("cannot open", path);
    sb_buf raw = SB_BUF_INIT;
    char chunk[1 << 16];
    int n;
    while ((n = gzread(z, chunk, sizeof(chunk))) > 0)
        sb_buf_append(&raw, chunk, (size_t)n);
    gzclose(z);
    json_error_t je;
    json_t *doc = json_loadb(raw.ptr, raw.len, 0, &je);
    sb_buf_free(&raw);
    if (!doc)
        die("not JSON", je.text);
    json_t *txns = json_object_get(doc, "txns");
    size_t i, cap = 0;
    json_t *txn;
    json_array_foreach(txns, i, txn) cap += json_array_size(json_object_get(txn, "patches"));
    t->patches = calloc(cap, sizeof(patch));
    sb_buf text = SB_BUF_INIT;
    t->transactions = json_array_size(txns);
    json_array_foreach(txns, i, txn)
    {
        size_t j;
        json_t *p;
        json_array_foreach(json_object_get(txn, "patches"), j, p)
        {
            const char *s = json_string_value(json_array_get(p, 2));
            size_t len = s ? strlen(s) : 0;
            t->patches[t->n++] = (patch){(uint32_t)json_integer_value(json_array_get(p, 0)),
                                         (uint32_t)json_integer_value(json_array_get(p, 1)),
                                         (uint32_t)text.len, (uint32_t)len};
            sb_buf_append(&text, s ? s : "", len);
        }
    }
    const char *end = json_string_value(json_object_get(doc, "endContent"));
    t->end_len = end ? strlen(end) : 0;
    t->end = strdup(end ? end : "");
    t->text = text.ptr ? text.ptr : strdup("");
    json_decref(doc);
    malloc_trim(0); /* give the JSON's memory back before measuring ours */
}

/* The document's text, as a C string (JSON-decoded). */
static char *text_of(crdt_doc *d)
{
    sb_buf j = SB_BUF_INIT;
    if (crdt_doc_json(d, SB_STR("t"), CRDT_TEXT, &j) != CRDT_OK)
        die("toJSON failed", NULL);
    json_t *v = json_loadb(j.ptr, j.len, JSON_DECODE_ANY, NULL);
    sb_buf_free(&j);
    char *s = strdup(json_is_string(v) ? json_string_value(v) : "");
    json_decref(v);
    return s;
}

static int cmp_double(const void *a, const void *b)
{
    double x = *(const double *)a, y = *(const double *)b;
    return x < y ? -1 : x > y;
}

int main(int argc, char **argv)
{
    if (argc != 2)
        die("usage: crdt_bench TRACE.json.gz", NULL);
    trace t = {0};
    load(argv[1], &t);

    /* Local edits; each call's update is kept for the remote replay (its
     * buffer is sized first, so its growth is not counted as the doc's). */
    sb_buf updates = SB_BUF_INIT; /* (u32 length, bytes)* */
    sb_buf_reserve(&updates, 64 * t.n + strlen(t.text) + 4096);
    sb_buf u = SB_BUF_INIT;
    sb_buf_reserve(&u, 1 << 16);
    size_t live0 = live_bytes(), nupdates = 0;
    crdt_doc *d = crdt_doc_new(1, true);
    double t0 = now_ms(), c0 = cpu_ms();
    for (size_t i = 0; i < t.n; i++) {
        const patch *p = &t.patches[i];
        bool changed;
        for (int k = 0; k < 2; k++) {
            sb_buf_reset(&u);
            crdt_err e =
                k == 0
                    ? (p->del ? crdt_text_delete(d, SB_STR("t"), p->pos, p->del, &u, &changed)
                              : CRDT_OK)
                    : (p->ins_len ? crdt_text_insert(d, SB_STR("t"), p->pos,
                                                     sb_str_make(t.text + p->ins_off, p->ins_len),
                                                     SB_STR_NULL, &u, &changed)
                                  : CRDT_OK);
            if (e != CRDT_OK)
                die("edit failed", crdt_strerror(e));
            if (u.len) {
                uint32_t len = (uint32_t)u.len;
                sb_buf_append(&updates, &len, sizeof(len));
                sb_buf_append(&updates, u.ptr, u.len);
                nupdates++;
            }
        }
    }
    double apply_ms = now_ms() - t0, apply_cpu_ms = cpu_ms() - c0;
    size_t heap = live_bytes() - live0;
    char *final = text_of(d);
    if (strlen(final) != t.end_len || memcmp(final, t.end, t.end_len) != 0)
        die("the final text differs from endContent", argv[1]);

    /* Remote: the same updates, in order, into a fresh document. */
    crdt_doc *r = crdt_doc_new(2, true);
    t0 = now_ms();
    c0 = cpu_ms();
    for (size_t off = 0; off < updates.len;) {
        uint32_t len;
        memcpy(&len, updates.ptr + off, sizeof(len));
        off += sizeof(len);
        sb_errbuf err;
        if (crdt_doc_apply_update(r, updates.ptr + off, len, &err) != CRDT_OK)
            die("a remote update failed", err.msg);
        off += len;
    }
    double remote_ms = now_ms() - t0, remote_cpu_ms = cpu_ms() - c0;
    char *remote_text = text_of(r);
    if (strcmp(remote_text, final) != 0)
        die("the remote replay differs", argv[1]);

    /* Encode and decode the whole state. */
    double enc[TIMED_RUNS], dec[TIMED_RUNS];
    sb_buf state = SB_BUF_INIT;
    for (int k = 0; k < TIMED_RUNS; k++) {
        sb_buf_reset(&state);
        t0 = now_ms();
        crdt_doc_encode_state(d, NULL, 0, &state);
        enc[k] = now_ms() - t0;
    }
    for (int k = 0; k < TIMED_RUNS; k++) {
        crdt_doc *x = crdt_doc_new(3, true);
        t0 = now_ms();
        sb_errbuf err;
        if (crdt_doc_apply_update(x, state.ptr, state.len, &err) != CRDT_OK)
            die("decoding the state failed", err.msg);
        dec[k] = now_ms() - t0;
        char *xt = text_of(x);
        if (strcmp(xt, final) != 0)
            die("the decoded state differs", argv[1]);
        free(xt);
        crdt_doc_free(x);
    }
    qsort(enc, TIMED_RUNS, sizeof(double), cmp_double);
    qsort(dec, TIMED_RUNS, sizeof(double), cmp_double);
    const char *name = strrchr(argv[1], '/');
    name = name ? name + 1 : argv[1];
    struct rusage ru;
    getrusage(RUSAGE_SELF, &ru);
    printf("{\"engine\":\"sitebase crdt (C)\",\"trace\":\"%.*s\",\"edits\":%zu,"
           "\"transactions\":%zu,\"updates\":%zu,\"apply_ms\":%.1f,\"remote_ms\":%.1f,"
           "\"apply_cpu_ms\":%.1f,\"remote_cpu_ms\":%.1f,\"encode_ms\":%.3f,\"decode_ms\":%.3f,"
           "\"state_bytes\":%zu,\"heap_bytes\":%zu,\"heap_total_bytes\":%zu,"
           "\"rss_peak_bytes\":%ld}\n",
           (int)(strlen(name) > 8 ? strlen(name) - 8 : strlen(name)), name, t.n, t.transactions,
           nupdates, apply_ms, remote_ms, apply_cpu_ms, remote_cpu_ms, enc[TIMED_RUNS / 2],
           dec[TIMED_RUNS / 2], state.len, heap, live_bytes(), ru.ru_maxrss * 1024L);
    free(final);
    free(remote_text);
    sb_buf_free(&state);
    sb_buf_free(&updates);
    sb_buf_free(&u);
    crdt_doc_free(d);
    crdt_doc_free(r);
    free(t.patches);
    free(t.text);
    free(t.end);
    return 0;
}
