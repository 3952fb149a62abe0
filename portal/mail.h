/* mail.h - the few plain-text mails the portal sends a patient (a PIN
 * recovery link, a "your PIN was changed" note), through the local MTA's
 * sendmail(1) (portal.sendmail).  They leave without a milter (Postfix's
 * non_smtpd_milters), so they are not sealed; they never carry results. */
#ifndef PORTAL_MAIL_H
#define PORTAL_MAIL_H

#include "config.h"
#include "err.h"

/* Sends text (UTF-8, LF lines) to rcpt from portal.mail_from.  The
 * subject and text are the caller's fixed wording plus links: no PHI. */
int mail_send(const struct config *cf, const char *rcpt, const char *subject,
    const char *text, struct sm_err *err);

#endif
