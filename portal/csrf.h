/* csrf.h - the verification form's CSRF token.
 * Stateless and bound to the browser: GET /m/<token> gives the browser a
 * random pre-session cookie (sm_pre, path-scoped to the link); the form
 * carries "TIME.MAC" where MAC = HMAC-SHA256(key, link token hash ||
 * cookie || TIME), key derived from the pepper so every worker and host
 * agrees.  A POST needs the cookie and a matching, unexpired MAC: a page
 * elsewhere can neither read the cookie nor forge the MAC. */
#ifndef PORTAL_CSRF_H
#define PORTAL_CSRF_H

#include <stddef.h>
#include <time.h>

#include "crypto.h"
#include "portal.h"

#define CSRF_COOKIE "sm_pre"
#define CSRF_COOKIE_CHARS 22	/* 16 random bytes, base64url */
#define CSRF_TEXT 96

/* A new cookie value (NUL-terminated, CSRF_COOKIE_CHARS characters). */
void csrf_cookie_new(char out[CSRF_COOKIE_CHARS + 1]);
/* 1 when s looks like one of ours. */
int csrf_cookie_ok(const char *s);
int csrf_make(const unsigned char key[PORTAL_KEY_BYTES],
    const unsigned char link[SM_HASH_BYTES], const char *cookie, time_t now,
    char out[CSRF_TEXT]);
/* 0 valid, -1 forged, for another link or cookie, or older than lifetime. */
int csrf_check(const unsigned char key[PORTAL_KEY_BYTES],
    const unsigned char link[SM_HASH_BYTES], const char *cookie,
    const char *token, size_t len, time_t now, long long lifetime);

#endif
