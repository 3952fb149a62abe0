/* register.h - a registered patient's first visit (issue 3): prove the
 * address with a one-time code mailed to it, then choose a password that
 * opens every later message from the same lab to the same address through
 * the ordinary verify path.  POST /m/<token> while no password is set:
 * step=send mails a code; step=set takes code, password and password2.
 * Recovery and reset are pin.c's, with the flow of kind registered. */
#ifndef PORTAL_REGISTER_H
#define PORTAL_REGISTER_H

#include <stddef.h>

struct config;
struct ctx;
struct form;

#define REGISTER_CODE_DIGITS 8
#define REGISTER_CODE_SECONDS 900	/* 15 minutes */
#define REGISTER_CODE_TRIES 5		/* wrong entries before a code is spent */

/* The first visit's POST (CSRF, rate limit and lock already checked). */
void register_post(struct ctx *c, const struct form *f);
/* The new password fields of a form; NULL when acceptable, else an Error
 * text key (password.h). */
const char *register_fields(const struct config *cf, const struct form *f,
    const char **pw, size_t *n);

#endif
