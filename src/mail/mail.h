/*
 * mail.h: sending mail through an SMTP relay with libcurl.
 *
 * Blocking (a relay may take seconds): call it from the worker pool, never
 * from a loop thread. One connection per message; relays we talk to are
 * local or a provider's, and mail volume is that of sign-ins.
 */
#ifndef SB_MAIL_MAIL_H
#define SB_MAIL_MAIL_H

#include "base/common.h"
#include "base/str.h"

typedef struct mail_config {
    const char *url;      /* smtp://host:port or smtps://host:port; "" = off */
    const char *from;     /* bare address */
    const char *user;     /* "" = no AUTH */
    const char *password; /* secret */
    bool starttls;        /* require STARTTLS on smtp:// */
    const char *ca_file;  /* PEM CAs for the relay's certificate; "" = system's */
} mail_config;

/* Call once before any thread sends (libcurl's global set-up). */
void mail_global_init(void);

/* Sends a plain-text UTF-8 message. Addresses and the subject must be one
 * line (CR or LF is refused: no header injection). false with err on any
 * failure (the relay's refusal, a timeout, TLS). Never logs the password. */
bool mail_send(const mail_config *cfg, const char *to, const char *subject, const char *text,
               sb_errbuf *err);

/* Builds the RFC 5322 message mail_send hands the relay (exposed for
 * tests): headers, a blank line, the text with CRLF line ends. */
void mail_format(const char *from, const char *to, const char *subject, const char *text,
                 int64_t now_s, sb_buf *out);

#endif
