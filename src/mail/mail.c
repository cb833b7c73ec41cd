/*
 * mail.c: plain-text mail over SMTP with libcurl. The message is built in
 * memory and streamed to curl's upload callback; curl does the SMTP
 * dialogue (EHLO, STARTTLS, AUTH, dot-stuffing).
 */
#include "mail/mail.h"

#include <curl/curl.h>
#include <pthread.h>
#include <string.h>
#include <time.h>

#include "base/uuid.h"

#define CONNECT_TIMEOUT_MS 5000
#define TOTAL_TIMEOUT_MS   20000

static pthread_once_t global_once = PTHREAD_ONCE_INIT;

static void global_init(void)
{
    curl_global_init(CURL_GLOBAL_DEFAULT);
}

void mail_global_init(void)
{
    pthread_once(&global_once, global_init);
}

static bool one_line(const char *s)
{
    return s && !strpbrk(s, "\r\n");
}

/* The bare address of "Name <a@b>" or "a@b", into out. */
static bool bare_address(const char *in, char *out, size_t cap)
{
    const char *lt = strchr(in, '<'), *gt = lt ? strchr(lt, '>') : NULL;
    const char *p = lt && gt ? lt + 1 : in;
    size_t n = lt && gt ? (size_t)(gt - lt - 1) : strlen(in);
    if (n == 0 || n >= cap || !memchr(p, '@', n))
        return false;
    memcpy(out, p, n);
    out[n] = '\0';
    return true;
}

void mail_format(const char *from, const char *to, const char *subject, const char *text,
                 int64_t now_s, sb_buf *out)
{
    char date[64];
    time_t t = (time_t)now_s;
    struct tm tm;
    gmtime_r(&t, &tm);
    strftime(date, sizeof(date), "%a, %d %b %Y %H:%M:%S +0000", &tm);
    sb_uuid u;
    char id[SB_UUID_STR_LEN];
    sb_uuid_v7(&u);
    sb_uuid_format(&u, id);
    const char *at = strrchr(from, '@');
    size_t dlen = at ? strcspn(at + 1, ">") : 0;
    sb_buf_appendf(out,
                   "Date: %s\r\nFrom: %s\r\nTo: %s\r\nSubject: %s\r\n"
                   "Message-ID: <%s@%.*s>\r\nMIME-Version: 1.0\r\n"
                   "Content-Type: text/plain; charset=utf-8\r\n"
                   "Content-Transfer-Encoding: 8bit\r\n\r\n",
                   date, from, to, subject, id, (int)dlen, at ? at + 1 : "localhost");
    /* Normalise line ends to CRLF, as SMTP requires. */
    for (const char *p = text; *p; p++) {
        if (*p == '\n' && (p == text || p[-1] != '\r'))
            sb_buf_append(out, "\r", 1);
        sb_buf_append(out, p, 1);
    }
    if (out->len < 2 || memcmp(out->ptr + out->len - 2, "\r\n", 2) != 0)
        sb_buf_append(out, "\r\n", 2);
}

typedef struct reader {
    const char *p;
    size_t left;
} reader;

static size_t read_cb(char *dst, size_t size, size_t n, void *arg)
{
    reader *r = arg;
    size_t k = SB_MIN(size * n, r->left);
    memcpy(dst, r->p, k);
    r->p += k;
    r->left -= k;
    return k;
}

bool mail_send(const mail_config *cfg, const char *to, const char *subject, const char *text,
               sb_errbuf *err)
{
    if (!cfg->url || !cfg->url[0])
        return sb_errf(err, "no smtp_url is configured");
    char from_addr[320], to_addr[320];
    if (!one_line(cfg->from) || !one_line(to) || !one_line(subject))
        return sb_errf(err, "a mail header holds a line break");
    if (!bare_address(cfg->from, from_addr, sizeof(from_addr)) ||
        !bare_address(to, to_addr, sizeof(to_addr)))
        return sb_errf(err, "a mail address is malformed");
    mail_global_init();

    sb_buf msg = SB_BUF_INIT;
    mail_format(cfg->from, to, subject, text, (int64_t)time(NULL), &msg);
    reader r = {msg.ptr, msg.len};
    char from_env[330], to_env[330];
    snprintf(from_env, sizeof(from_env), "<%s>", from_addr);
    snprintf(to_env, sizeof(to_env), "<%s>", to_addr);

    CURL *c = curl_easy_init();
    struct curl_slist *rcpt = curl_slist_append(NULL, to_env);
    char curl_err[CURL_ERROR_SIZE] = "";
    curl_easy_setopt(c, CURLOPT_URL, cfg->url);
    curl_easy_setopt(c, CURLOPT_MAIL_FROM, from_env);
    curl_easy_setopt(c, CURLOPT_MAIL_RCPT, rcpt);
    curl_easy_setopt(c, CURLOPT_UPLOAD, 1L);
    curl_easy_setopt(c, CURLOPT_READFUNCTION, read_cb);
    curl_easy_setopt(c, CURLOPT_READDATA, &r);
    curl_easy_setopt(c, CURLOPT_INFILESIZE, (long)msg.len);
    curl_easy_setopt(c, CURLOPT_NOSIGNAL, 1L); /* we are one thread of many */
    curl_easy_setopt(c, CURLOPT_CONNECTTIMEOUT_MS, (long)CONNECT_TIMEOUT_MS);
    curl_easy_setopt(c, CURLOPT_TIMEOUT_MS, (long)TOTAL_TIMEOUT_MS);
    curl_easy_setopt(c, CURLOPT_ERRORBUFFER, curl_err);
    curl_easy_setopt(c, CURLOPT_PROTOCOLS_STR, "smtp,smtps");
    if (cfg->starttls)
        curl_easy_setopt(c, CURLOPT_USE_SSL, (long)CURLUSESSL_ALL);
    if (cfg->ca_file && cfg->ca_file[0])
        curl_easy_setopt(c, CURLOPT_CAINFO, cfg->ca_file);
    if (cfg->user && cfg->user[0]) {
        curl_easy_setopt(c, CURLOPT_USERNAME, cfg->user);
        curl_easy_setopt(c, CURLOPT_PASSWORD, cfg->password ? cfg->password : "");
    }
    CURLcode rc = curl_easy_perform(c);
    bool ok = rc == CURLE_OK;
    if (!ok) /* curl's messages name the host and the step, never the password */
        sb_errf(err, "mail to the relay failed: %s",
                curl_err[0] ? curl_err : curl_easy_strerror(rc));
    curl_slist_free_all(rcpt);
    curl_easy_cleanup(c);
    sb_secure_zero(msg.ptr, msg.len); /* it holds a sign-in link */
    sb_buf_free(&msg);
    return ok;
}
