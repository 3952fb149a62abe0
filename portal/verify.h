/* verify.h - POST /m/<token>: CSRF, rate limit, lockout, then Argon2id. */
#ifndef PORTAL_VERIFY_H
#define PORTAL_VERIFY_H

struct ctx;

void verify_post(struct ctx *c);

#endif
