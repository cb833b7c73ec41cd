/*
 * load.c: sends a line-protocol file to an InfluxDB-compatible /write in
 * batches of N lines over C connections (one thread and one kept-alive
 * curl handle each), and prints one JSON line: points, seconds, points/s.
 * Batches go out in file order, each taken by the next free connection.
 * Any answer but 204 stops the run (exit 1) with the server's words.
 *
 * usage: load FILE URL [BATCH_LINES [CONNECTIONS [AUTH_HEADER]]]
 *   URL is the full write URL, e.g. http://127.0.0.1:8086/write?db=x&precision=s
 */
#include <curl/curl.h>
#include <pthread.h>
#include <stdatomic.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>

typedef struct batch {
    const char *p;
    size_t len, lines;
} batch;

static batch *batches;
static size_t nbatches;
static atomic_size_t next_batch;
static atomic_int failed;
static const char *url, *auth;

static size_t sink(char *p, size_t s, size_t n, void *arg)
{
    char *msg = arg;
    size_t len = s * n, have = strlen(msg);
    if (have + 1 < 512) {
        size_t k = len < 511 - have ? len : 511 - have;
        memcpy(msg + have, p, k);
        msg[have + k] = '\0';
    }
    return len;
}

static void *worker(void *arg)
{
    CURL *h = curl_easy_init();
    struct curl_slist *hd = curl_slist_append(NULL, "Content-Type: text/plain");
    hd = curl_slist_append(hd, "Expect:");
    if (auth && auth[0])
        hd = curl_slist_append(hd, auth);
    char msg[512];
    curl_easy_setopt(h, CURLOPT_URL, url);
    curl_easy_setopt(h, CURLOPT_HTTPHEADER, hd);
    curl_easy_setopt(h, CURLOPT_WRITEFUNCTION, sink);
    curl_easy_setopt(h, CURLOPT_WRITEDATA, msg);
    curl_easy_setopt(h, CURLOPT_TIMEOUT, 300L);
    for (;;) {
        size_t i = atomic_fetch_add(&next_batch, 1);
        if (i >= nbatches || atomic_load(&failed))
            break;
        msg[0] = '\0';
        curl_easy_setopt(h, CURLOPT_POSTFIELDS, batches[i].p);
        curl_easy_setopt(h, CURLOPT_POSTFIELDSIZE_LARGE, (curl_off_t)batches[i].len);
        CURLcode c = curl_easy_perform(h);
        long status = 0;
        curl_easy_getinfo(h, CURLINFO_RESPONSE_CODE, &status);
        if (c != CURLE_OK || status != 204) {
            fprintf(stderr, "load: batch %zu: %s %ld %s\n", i, curl_easy_strerror(c), status, msg);
            atomic_store(&failed, 1);
            break;
        }
    }
    curl_slist_free_all(hd);
    curl_easy_cleanup(h);
    return NULL;
}

int main(int argc, char **argv)
{
    if (argc < 3) {
        fprintf(stderr, "usage: load FILE URL [BATCH_LINES [CONNECTIONS [AUTH_HEADER]]]\n");
        return 2;
    }
    url = argv[2];
    size_t per = argc > 3 ? strtoul(argv[3], NULL, 10) : 5000;
    int conns = argc > 4 ? atoi(argv[4]) : 2;
    auth = argc > 5 ? argv[5] : NULL;
    if (per == 0 || conns < 1 || conns > 64)
        return 2;
    FILE *f = fopen(argv[1], "rb");
    if (!f) {
        perror(argv[1]);
        return 1;
    }
    fseek(f, 0, SEEK_END);
    long size = ftell(f);
    fseek(f, 0, SEEK_SET);
    char *data = malloc((size_t)size + 1);
    if (!data || fread(data, 1, (size_t)size, f) != (size_t)size)
        return 1;
    fclose(f);
    size_t cap = 1024, points = 0;
    batches = malloc(cap * sizeof(batch));
    for (size_t pos = 0; pos < (size_t)size;) {
        size_t start = pos, lines = 0;
        while (pos < (size_t)size && lines < per) {
            char *nl = memchr(data + pos, '\n', (size_t)size - pos);
            pos = nl ? (size_t)(nl - data) + 1 : (size_t)size;
            lines++;
        }
        if (nbatches == cap)
            batches = realloc(batches, (cap *= 2) * sizeof(batch));
        batches[nbatches++] = (batch){data + start, pos - start, lines};
        points += lines;
    }
    curl_global_init(CURL_GLOBAL_DEFAULT);
    struct timespec t0, t1;
    clock_gettime(CLOCK_MONOTONIC, &t0);
    pthread_t th[64];
    for (int i = 0; i < conns; i++)
        pthread_create(&th[i], NULL, worker, NULL);
    for (int i = 0; i < conns; i++)
        pthread_join(th[i], NULL);
    clock_gettime(CLOCK_MONOTONIC, &t1);
    double secs = (double)(t1.tv_sec - t0.tv_sec) + (double)(t1.tv_nsec - t0.tv_nsec) / 1e9;
    if (atomic_load(&failed))
        return 1;
    printf("{\"points\":%zu,\"batches\":%zu,\"seconds\":%.3f,\"points_per_s\":%.0f}\n", points,
           nbatches, secs, (double)points / secs);
    free(batches);
    free(data);
    curl_global_cleanup();
    return 0;
}
