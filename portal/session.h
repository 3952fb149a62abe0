/* session.h - the patient's session after verification.
 * 32 random bytes in an HttpOnly, Secure, SameSite=Strict cookie scoped to
 * the link's path; MariaDB keeps only a hash, bound to the delivery, so
 * several workers and hosts share sessions and a database copy yields none.
 * Idle and absolute lifetimes come from portal.session_idle/_max. */
#ifndef PORTAL_SESSION_H
#define PORTAL_SESSION_H

#include "err.h"
#include "portal.h"

#define SESSION_COOKIE "sm_session"
#define SESSION_CHARS 43

/* Inserts a session for delivery_id; text gets the cookie value. */
int session_create(struct portal *p, long long delivery_id,
    char text[SESSION_CHARS + 1], struct sm_err *err);
/* 1 valid for delivery_id (and last_seen refreshed), 0 absent, expired or
 * for another delivery, -1 database error. */
int session_check(struct portal *p, const char *cookie_header,
    long long delivery_id, struct sm_err *err);

#endif
