/* labuser.h - the people of a lab who use the admin pages.
 * A password is hashed like an answer (peppered Argon2id); the TOTP secret
 * is stored sealed (totp.h).  Both are generated here, returned once to
 * the caller that shows them, and never stored or logged in the clear. */
#ifndef SM_LABUSER_H
#define SM_LABUSER_H

#include "answer.h"
#include "err.h"
#include "totp.h"

struct db;
struct keyring;

#define LABUSER_LOGIN_MAX 64
#define LABUSER_PASSWORD_CHARS 20
#define LC_NOTFOUND_USER (-2)

enum labuser_role { ROLE_VIEWER, ROLE_SENDER_ADMIN };

const char *labuser_role_name(enum labuser_role r);
int labuser_role_parse(const char *s, enum labuser_role *r);
/* 1..64 of a-z 0-9 . _ - @ */
int labuser_login_ok(const char *login);

/* What a new or reset user must be told, once. */
struct labuser_cred {
	char password[LABUSER_PASSWORD_CHARS + 1];
	unsigned char totp[TOTP_SECRET_BYTES];
	char uri[TOTP_URI_MAX];
};
void labuser_cred_wipe(struct labuser_cred *c);

int labuser_add(struct db *db, const struct keyring *kr,
    const struct answer_cost *cost, long long lab_id, const char *lab_name,
    const char *login, enum labuser_role role, struct labuser_cred *out,
    struct sm_err *err);
/* New password and TOTP secret, failed attempts and lock cleared,
 * re-enabled.  LC_NOTFOUND_USER when no such login. */
int labuser_reset(struct db *db, const struct keyring *kr,
    const struct answer_cost *cost, const char *login,
    struct labuser_cred *out, struct sm_err *err);
int labuser_disable(struct db *db, const char *login, struct sm_err *err);

/* For the portal's login. */
struct labuser {
	long long id, lab_id;
	char login[LABUSER_LOGIN_MAX + 1];
	enum labuser_role role;
	char password_hash[SM_ANSWER_HASH_TEXT];
	long long failed_attempts, locked_until, disabled, totp_last_step;
};
/* 1 found, 0 not, -1 error. */
int labuser_find(struct db *db, const char *login, struct labuser *out,
    struct sm_err *err);
/* 0 right (and the step is recorded so the code cannot be used again),
 * 1 wrong, -1 error. */
int labuser_totp_check(struct db *db, const struct keyring *kr,
    const struct labuser *u, const char *code, time_t now,
    struct sm_err *err);

/* The whole admin login in one call, for the portal: login, password and
 * TOTP code checked together, with one answer for every kind of failure
 * (unknown login, disabled, locked, wrong password, wrong or replayed
 * code), so a guesser learns nothing.  Failures are counted; from the
 * LABUSER_MAX_FAILURES-th on, the user is locked for a time that doubles
 * from 1 minute up to 1 hour.  Success clears the count.
 * 0 admitted (*out filled), 1 refused, -1 error. */
#define LABUSER_MAX_FAILURES 5
int labuser_login(struct db *db, const struct keyring *kr,
    const struct answer_cost *cost, const char *login, const char *password,
    const char *code, time_t now, struct labuser *out, struct sm_err *err);

#endif
