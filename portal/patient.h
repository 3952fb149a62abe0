/* patient.h - shared by the flows of a patient's own secret: the PIN
 * (pin.c) and the registered password (register.c). */
#ifndef PORTAL_PATIENT_H
#define PORTAL_PATIENT_H

#include "err.h"

struct ctx;
struct form;

/* The session cookie and the 303 to the message, as verify.c does. */
void patient_open_message(struct ctx *c, const char *sess);
/* Stores the first secret (kind "pin" or "registered") in a new
 * recipients row for the link's lab and address, or in the row of that
 * kind the lab uploaded without one, and links the delivery to it.
 * recovery may be NULL.  0 done, 1 a secret was set meanwhile, -1 error. */
int patient_store_first(struct ctx *c, const char *kind, const char *hash,
    const char *recovery, long long *rid, struct sm_err *err);
/* Reads a POSTed form: size, syntax, CSRF, then the per-client rate limit
 * of scope.  0 and *f filled, or -1 with the answer already written
 * (method is the form shown again on a CSRF failure). */
int patient_read_post(struct ctx *c, const char *scope, const char *method,
    struct form *f);

#endif
