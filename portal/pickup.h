/* pickup.h - GET /m/<token>: the verification form.  Safe for scanners:
 * one indexed lookup, no Argon2id, nothing consumed or locked. */
#ifndef PORTAL_PICKUP_H
#define PORTAL_PICKUP_H

struct ctx;

void pickup_get(struct ctx *c);
/* The form again, with an error text key (verify.c) and status. */
void pickup_form(struct ctx *c, int status, const char *error_key);
/* The same form in another mode: method "setpin", "pin", "recover" or
 * "resetpin" (pin.c), "register" or "regcode" (register.c),
 * "recoverpassword" or "resetpassword"; NULL picks it from the link.
 * reset_key goes into a hidden field (resetpin, resetpassword). */
void pickup_form_as(struct ctx *c, int status, const char *error_key,
    const char *method, const char *reset_key);

#endif
