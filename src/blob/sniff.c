/*
 * sniff.c: what uploaded bytes are, by their content (libmagic, the
 * library behind file(1)), never by the name or type a client claims.
 *
 * Only types on our allow-list come out, each as a string literal of ours;
 * anything else is application/octet-stream. Types a browser would run
 * when served from our origin (text/html, XML, JavaScript) are deliberately
 * not on the list. SVG is: the serving layer must send it with a CSP that
 * forbids scripts.
 *
 * Threads: libmagic's magic_t is not thread-safe, so each thread has its
 * own cookie, opened and loaded (magic_load(NULL): the system database) on
 * its first call, kept in a _Thread_local, and closed by a pthread key
 * destructor when the thread exits. No lock on the hot path. The only
 * process-wide state is that key and a log-once flag.
 *
 * Never: hand out a string libmagic returned (its buffer belongs to the
 * cookie and changes on the next call); let libmagic decompress input or
 * read more than SNIFF_MAX bytes.
 */
#include <pthread.h>
#include <stdatomic.h>
#include <string.h>

#include <magic.h>

#include "base/log.h"
#include "blob/blob.h"

/* Enough for every signature we accept; bounds libmagic's work on a big
 * upload (its text and JSON checks read the whole buffer). */
#define SNIFF_MAX ((size_t)1 << 20)

static const char octet_stream[] = "application/octet-stream";

/* libmagic's name -> ours. NULL: decided by sfnt_type. */
static const struct {
    const char *magic;
    const char *ours;
} allowed[] = {
    {"image/png", "image/png"},
    {"image/jpeg", "image/jpeg"},
    {"image/gif", "image/gif"},
    {"image/webp", "image/webp"},
    {"image/avif", "image/avif"},
    {"image/svg+xml", "image/svg+xml"},
    {"image/vnd.microsoft.icon", "image/vnd.microsoft.icon"},
    {"image/x-icon", "image/vnd.microsoft.icon"},
    {"image/bmp", "image/bmp"},
    {"image/x-ms-bmp", "image/bmp"},
    {"image/tiff", "image/tiff"},
    {"font/woff", "font/woff"},
    {"font/woff2", "font/woff2"},
    {"font/ttf", "font/ttf"},
    {"font/otf", "font/otf"},
    {"application/vnd.ms-opentype", "font/otf"},
    {"font/sfnt", NULL},
    {"application/vnd.ms-fontobject", "application/vnd.ms-fontobject"},
    {"application/pdf", "application/pdf"},
    {"video/mp4", "video/mp4"},
    {"video/webm", "video/webm"},
    {"video/ogg", "video/ogg"},
    {"video/quicktime", "video/quicktime"},
    {"audio/mpeg", "audio/mpeg"},
    {"audio/ogg", "audio/ogg"},
    {"audio/x-wav", "audio/wav"},
    {"audio/flac", "audio/flac"},
    {"audio/mp4", "audio/mp4"},
    {"audio/x-m4a", "audio/mp4"},
    {"text/plain", "text/plain"},
    {"text/css", "text/css"},
    {"text/csv", "text/csv"},
    {"application/json", "application/json"},
    {"application/zip", "application/zip"},
    {"application/gzip", "application/gzip"},
    {"application/wasm", "application/wasm"},
};

/* libmagic calls both TrueType and OpenType "sfnt"; the first four bytes
 * tell them apart (OpenType with CFF outlines starts "OTTO"). */
static const char *sfnt_type(const unsigned char *p, size_t len)
{
    return len >= 4 && memcmp(p, "OTTO", 4) == 0 ? "font/otf" : "font/ttf";
}

static pthread_once_t key_once = PTHREAD_ONCE_INIT;
static pthread_key_t cookie_key; /* only for its destructor */
static atomic_flag load_failure_logged = ATOMIC_FLAG_INIT;

static _Thread_local magic_t tl_cookie;
static _Thread_local bool tl_tried;

static void cookie_free(void *c)
{
    magic_close(c);
}

static void make_key(void)
{
    if (pthread_key_create(&cookie_key, cookie_free) != 0)
        sb_die("blob_sniff: pthread_key_create failed");
}

/* This thread's cookie, or NULL if libmagic cannot be loaded (then we
 * answer octet-stream, which is safe, and say so in the log once). */
static magic_t thread_cookie(void)
{
    if (tl_cookie || tl_tried)
        return tl_cookie;
    tl_tried = true;
    /* NO_CHECK_COMPRESS: do not inflate client data; ELF/CDF/TAR: parsers
     * for types we refuse anyway, so no reason to run them. */
    magic_t m = magic_open(MAGIC_MIME_TYPE | MAGIC_NO_CHECK_COMPRESS | MAGIC_NO_CHECK_ELF |
                           MAGIC_NO_CHECK_CDF | MAGIC_NO_CHECK_TAR);
    if (m && magic_load(m, NULL) == 0) {
        pthread_once(&key_once, make_key);
        pthread_setspecific(cookie_key, m);
        tl_cookie = m;
        return m;
    }
    if (!atomic_flag_test_and_set(&load_failure_logged)) {
        const char *why = m && magic_error(m) ? magic_error(m) : "magic_open failed";
        sb_log(SB_LOG_WARN,
               "blob_sniff: libmagic unavailable; uploads are typed "
               "application/octet-stream",
               SB_LOG_STR("error", why));
    }
    if (m)
        magic_close(m);
    return NULL;
}

const char *blob_sniff(const void *p, size_t len)
{
    if (len == 0)
        return octet_stream;
    magic_t m = thread_cookie();
    if (!m)
        return octet_stream;
    const char *seen = magic_buffer(m, p, SB_MIN(len, SNIFF_MAX));
    if (!seen)
        return octet_stream;
    for (size_t i = 0; i < SB_ARRAY_LEN(allowed); i++) {
        if (strcmp(seen, allowed[i].magic) == 0)
            return allowed[i].ours ? allowed[i].ours : sfnt_type(p, len);
    }
    /* Text libmagic files under a programming language or format we do not
     * list is still text; as text/plain a browser shows it and runs
     * nothing. (text/html and text/xml are not text/x-*.) */
    if (strncmp(seen, "text/x-", 7) == 0)
        return "text/plain";
    return octet_stream;
}
