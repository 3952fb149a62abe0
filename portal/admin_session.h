/* admin_session.h - lab users' sessions: 32 random bytes in an HttpOnly,
 * Secure, SameSite=Strict cookie on /admin/; MariaDB keeps only BLAKE2b
 * of them (admin_sessions), with the idle and absolute lifetimes of the
 * patient's sessions (portal.session_idle, portal.session_max). */
#ifndef PORTAL_ADMIN_SESSION_H
#define PORTAL_ADMIN_SESSION_H

#include "admin.h"
#include "session.h"

int adminsess_create(struct portal *p, long long user_id,
    char text[SESSION_CHARS + 1], struct sm_err *err);
/* 1 valid (a's user fields, sid_hash filled; last_seen refreshed), 0 no
 * session, expired, or the user disabled, -1 database error. */
int adminsess_check(struct admin *a, struct sm_err *err);
/* Ends the session of a (logout). */
int adminsess_delete(struct admin *a, struct sm_err *err);

#endif
