/*
 * bench/collab/floor.c: the least work a y-websocket server can do for
 * bench/collab's load, to measure what the host itself allows.
 *
 * One thread, epoll, no document, no storage, no authentication: a client
 * connects to ws://127.0.0.1:PORT/<doc>, its sync step 1 is answered
 * with an empty step 2 (so the generator counts it synced), and every
 * update or awareness message is copied as it came to the other clients
 * of <doc>. Writes are gathered per client and made once per epoll round,
 * as Sitebase's loop does. Whatever throughput this relay reaches under
 * load.mjs on this machine is a ceiling for any server that also keeps
 * and stores the document (bench/RESULTS.md, "The host's ceiling").
 *
 * Not a server to use: frames are trusted to be well formed, and nothing
 * of it is part of Sitebase.
 *
 *   build/collab_floor PORT (prints "listening" once it is)
 */
#ifndef _GNU_SOURCE
#define _GNU_SOURCE /* memmem, strcasestr, accept4 */
#endif
#include <arpa/inet.h>
#include <errno.h>
#include <netinet/in.h>
#include <netinet/tcp.h>
#include <openssl/evp.h>
#include <openssl/sha.h>
#include <signal.h>
#include <stdbool.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <strings.h>
#include <sys/epoll.h>
#include <sys/socket.h>
#include <unistd.h>

#define MAX_DOCS 4096
#define IN_CAP   (1 << 16)

typedef struct buf {
    unsigned char *p;
    size_t len, cap;
} buf;

typedef struct conn {
    int fd;
    int doc; /* -1 until the handshake */
    bool queued;
    buf in, out;
} conn;

typedef struct doc {
    char *name;
    conn **members;
    size_t n, cap;
} doc;

static doc docs[MAX_DOCS];
static size_t ndocs;
static conn **dirty; /* clients with bytes to write this round */
static size_t ndirty, dirty_cap;

static void *grow(void *p, size_t *cap, size_t need, size_t elem)
{
    if (need <= *cap)
        return p;
    size_t c = *cap ? *cap : 16;
    while (c < need)
        c *= 2;
    p = realloc(p, c * elem);
    if (!p) {
        perror("realloc");
        exit(1);
    }
    *cap = c;
    return p;
}

static void put(buf *b, const void *p, size_t n)
{
    b->p = grow(b->p, &b->cap, b->len + n, 1);
    memcpy(b->p + b->len, p, n);
    b->len += n;
}

static void mark(conn *c)
{
    if (c->queued)
        return;
    c->queued = true;
    dirty = grow(dirty, &dirty_cap, ndirty + 1, sizeof(*dirty));
    dirty[ndirty++] = c;
}

/* An unmasked binary frame of payload p to c, written at the round's end. */
static void send_frame(conn *c, const unsigned char *p, size_t n)
{
    unsigned char h[10];
    size_t hl = 2;
    h[0] = 0x82;
    if (n < 126) {
        h[1] = (unsigned char)n;
    } else if (n < 65536) {
        h[1] = 126;
        h[2] = (unsigned char)(n >> 8);
        h[3] = (unsigned char)n;
        hl = 4;
    } else {
        h[1] = 127;
        for (int i = 0; i < 8; i++)
            h[2 + i] = (unsigned char)((uint64_t)n >> (56 - 8 * i));
        hl = 10;
    }
    put(&c->out, h, hl);
    put(&c->out, p, n);
    mark(c);
}

static int doc_of(const char *name, size_t len)
{
    for (size_t i = 0; i < ndocs; i++)
        if (strlen(docs[i].name) == len && memcmp(docs[i].name, name, len) == 0)
            return (int)i;
    if (ndocs == MAX_DOCS)
        return -1;
    docs[ndocs].name = strndup(name, len);
    return (int)ndocs++;
}

static void drop(int ep, conn *c)
{
    if (c->doc >= 0) {
        doc *d = &docs[c->doc];
        for (size_t i = 0; i < d->n; i++)
            if (d->members[i] == c) {
                d->members[i] = d->members[--d->n];
                break;
            }
    }
    for (size_t i = 0; i < ndirty; i++)
        if (dirty[i] == c)
            dirty[i] = dirty[--ndirty];
    epoll_ctl(ep, EPOLL_CTL_DEL, c->fd, NULL);
    close(c->fd);
    free(c->in.p);
    free(c->out.p);
    free(c);
}

/* The upgrade request in c->in: answers 101 and joins the document named
 * by the path. Returns the bytes it took, 0 if incomplete, -1 if bad. */
static long handshake(conn *c)
{
    char *req = (char *)c->in.p;
    char *end = memmem(req, c->in.len, "\r\n\r\n", 4);
    if (!end)
        return c->in.len > 8192 ? -1 : 0;
    *end = '\0';
    if (strncmp(req, "GET /", 5) != 0)
        return -1;
    char *path = req + 5, *sp = strchr(path, ' ');
    if (!sp)
        return -1;
    char *q = memchr(path, '?', (size_t)(sp - path));
    char *key = strcasestr(req, "\r\nSec-WebSocket-Key:");
    if (!key)
        return -1;
    key += 20;
    while (*key == ' ')
        key++;
    size_t klen = strcspn(key, "\r");
    char in[128];
    if (klen > 64)
        return -1;
    int n = snprintf(in, sizeof(in), "%.*s258EAFA5-E914-47DA-95CA-C5AB0DC85B11", (int)klen, key);
    unsigned char sha[SHA_DIGEST_LENGTH];
    SHA1((unsigned char *)in, (size_t)n, sha);
    unsigned char acc[64];
    EVP_EncodeBlock(acc, sha, SHA_DIGEST_LENGTH);
    char resp[256];
    int rl = snprintf(resp, sizeof(resp),
                      "HTTP/1.1 101 Switching Protocols\r\nUpgrade: websocket\r\n"
                      "Connection: Upgrade\r\nSec-WebSocket-Accept: %s\r\n\r\n",
                      acc);
    put(&c->out, resp, (size_t)rl);
    mark(c);
    c->doc = doc_of(path, (size_t)((q ? q : sp) - path));
    if (c->doc < 0)
        return -1;
    doc *d = &docs[c->doc];
    d->members = grow(d->members, &d->cap, d->n + 1, sizeof(*d->members));
    d->members[d->n++] = c;
    return end + 4 - req;
}

/* One message from c: step 1 answered, updates and awareness relayed. */
static void message(conn *c, const unsigned char *p, size_t n)
{
    static const unsigned char step2[] = {0, 1, 2, 0, 0}; /* sync, step 2, an empty update */
    if (n >= 2 && p[0] == 0 && p[1] == 0) {
        send_frame(c, step2, sizeof(step2));
        return;
    }
    if (n >= 2 && ((p[0] == 0 && p[1] == 2) || p[0] == 1)) {
        doc *d = &docs[c->doc];
        for (size_t i = 0; i < d->n; i++)
            if (d->members[i] != c)
                send_frame(d->members[i], p, n);
    }
}

/* The frames in c->in. Returns the bytes taken, -1 to close. */
static long frames(conn *c)
{
    size_t at = 0;
    for (;;) {
        unsigned char *f = c->in.p + at;
        size_t left = c->in.len - at;
        if (left < 2)
            break;
        unsigned op = f[0] & 0x0f;
        uint64_t n = f[1] & 0x7f;
        size_t hl = 2;
        if (n == 126) {
            if (left < 4)
                break;
            n = (uint64_t)f[2] << 8 | f[3];
            hl = 4;
        } else if (n == 127) {
            if (left < 10)
                break;
            n = 0;
            for (int i = 0; i < 8; i++)
                n = n << 8 | f[2 + i];
            hl = 10;
        }
        if (!(f[1] & 0x80) || n > IN_CAP)
            return -1; /* clients mask; this relay takes small messages */
        if (left < hl + 4 + n)
            break;
        unsigned char *mk = f + hl, *p = f + hl + 4;
        for (size_t i = 0; i < n; i++)
            p[i] ^= mk[i & 3];
        if (op == 8)
            return -1;
        if (op == 2)
            message(c, p, (size_t)n);
        at += hl + 4 + (size_t)n;
    }
    return (long)at;
}

static void on_read(int ep, conn *c)
{
    c->in.p = grow(c->in.p, &c->in.cap, c->in.len + IN_CAP, 1);
    ssize_t r = read(c->fd, c->in.p + c->in.len, c->in.cap - c->in.len);
    if (r <= 0) {
        if (r < 0 && (errno == EAGAIN || errno == EINTR))
            return;
        drop(ep, c);
        return;
    }
    c->in.len += (size_t)r;
    long took = 0;
    if (c->doc < 0) {
        took = handshake(c);
        if (took > 0) {
            memmove(c->in.p, c->in.p + took, c->in.len - (size_t)took);
            c->in.len -= (size_t)took;
            took = 0;
        }
    }
    if (took >= 0 && c->doc >= 0)
        took = frames(c);
    if (took < 0) {
        drop(ep, c);
        return;
    }
    memmove(c->in.p, c->in.p + took, c->in.len - (size_t)took);
    c->in.len -= (size_t)took;
}

/* The round's writes: one write per client with anything to send. */
static void flush(int ep)
{
    for (size_t i = 0; i < ndirty; i++) {
        conn *c = dirty[i];
        c->queued = false;
        ssize_t w = write(c->fd, c->out.p, c->out.len);
        if (w < 0 && errno != EAGAIN) {
            dirty[i--] = dirty[--ndirty];
            drop(ep, c);
            continue;
        }
        size_t done = w > 0 ? (size_t)w : 0;
        memmove(c->out.p, c->out.p + done, c->out.len - done);
        c->out.len -= done;
    }
    /* What a full socket left waits for the next round (the generator
     * reads fast: this is rare, and the next read event brings it). */
    size_t keep = 0;
    for (size_t i = 0; i < ndirty; i++)
        if (dirty[i]->out.len) {
            dirty[i]->queued = true;
            dirty[keep++] = dirty[i];
        }
    ndirty = keep;
}

int main(int argc, char **argv)
{
    if (argc != 2) {
        fprintf(stderr, "usage: floor PORT\n");
        return 2;
    }
    signal(SIGPIPE, SIG_IGN);
    int ls = socket(AF_INET, SOCK_STREAM | SOCK_NONBLOCK, 0), one = 1;
    setsockopt(ls, SOL_SOCKET, SO_REUSEADDR, &one, sizeof(one));
    struct sockaddr_in a = {.sin_family = AF_INET, .sin_port = htons((uint16_t)atoi(argv[1]))};
    a.sin_addr.s_addr = htonl(INADDR_LOOPBACK);
    if (bind(ls, (struct sockaddr *)&a, sizeof(a)) != 0 || listen(ls, 1024) != 0) {
        perror("listen");
        return 1;
    }
    int ep = epoll_create1(0);
    struct epoll_event ev = {.events = EPOLLIN, .data.ptr = NULL};
    epoll_ctl(ep, EPOLL_CTL_ADD, ls, &ev);
    printf("listening\n");
    fflush(stdout);
    struct epoll_event evs[256];
    for (;;) {
        /* Bytes a full socket left make the next round come soon. */
        int n = epoll_wait(ep, evs, 256, ndirty ? 1 : -1);
        for (int i = 0; i < n; i++) {
            conn *c = evs[i].data.ptr;
            if (!c) {
                int fd;
                while ((fd = accept4(ls, NULL, NULL, SOCK_NONBLOCK)) >= 0) {
                    setsockopt(fd, IPPROTO_TCP, TCP_NODELAY, &one, sizeof(one));
                    conn *nc = calloc(1, sizeof(*nc));
                    nc->fd = fd;
                    nc->doc = -1;
                    struct epoll_event ce = {.events = EPOLLIN, .data.ptr = nc};
                    epoll_ctl(ep, EPOLL_CTL_ADD, fd, &ce);
                }
                continue;
            }
            on_read(ep, c);
        }
        flush(ep);
    }
}
