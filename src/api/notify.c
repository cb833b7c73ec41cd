/*
 * notify.c: the one way the API sends mail (magic links, invitations,
 * mentions): through the relay the configuration names, from a worker,
 * never from a loop thread (a relay may take seconds).
 *
 * Failures are logged, never returned: the answer a request got does not
 * depend on whether its mail went out, so a client learns nothing from
 * the relay's mood (and nothing about the addresses).
 */
#include "api/app.h"

#include <stdio.h>

#include "base/log.h"
#include "mail/mail.h"

void api_mail_send(api_app *app, const char *what, const char *const *to, size_t n,
                   const char *subject, const char *text)
{
    const sb_config *cfg = app->cfg;
    char msg[128];
    if (!cfg->smtp_url[0]) {
        snprintf(msg, sizeof(msg), "%s was not mailed: smtp_url is not configured", what);
        sb_log(SB_LOG_WARN, msg);
        return;
    }
    snprintf(msg, sizeof(msg), "%s was not mailed", what);
    mail_config mc = {cfg->smtp_url,      cfg->smtp_from,     cfg->smtp_user,
                      cfg->smtp_password, cfg->smtp_starttls, cfg->smtp_ca_file};
    for (size_t i = 0; i < n; i++) {
        sb_errbuf err;
        if (!mail_send(&mc, to[i], subject, text, &err))
            sb_log(SB_LOG_ERROR, msg, SB_LOG_STR("error", err.msg));
    }
}
