/* labuser.c - lab users: creation, reset, disabling, lookup.
 * Generated secrets leave only through struct labuser_cred, which the
 * caller wipes; the database sees an Argon2id string and a sealed TOTP
 * secret. */
#include <ctype.h>
#include <stdio.h>
#include <string.h>
#include <time.h>

#include <sodium.h>

#include "db.h"
#include "labuser.h"

static const char *const role_names[] = { "viewer", "sender-admin" };

const char *
labuser_role_name(enum labuser_role r)
{
	return (size_t)r < 2 ? role_names[r] : "viewer";
}

int
labuser_role_parse(const char *s, enum labuser_role *r)
{
	size_t i;

	for (i = 0; i < 2; i++) {
		if (strcmp(s, role_names[i]) == 0) {
			*r = (enum labuser_role)i;
			return 0;
		}
	}
	return -1;
}

int
labuser_login_ok(const char *login)
{
	size_t i;

	for (i = 0; login[i] != '\0'; i++) {
		unsigned char c = (unsigned char)login[i];

		if (!(islower(c) || isdigit(c) || c == '.' || c == '_' ||
		    c == '-' || c == '@'))
			return 0;
	}
	return i > 0 && i <= LABUSER_LOGIN_MAX;
}

void
labuser_cred_wipe(struct labuser_cred *c)
{
	sodium_memzero(c, sizeof(*c));
}

/* 20 characters from an alphabet without look-alikes: about 100 bits. */
static void
new_password(char out[LABUSER_PASSWORD_CHARS + 1])
{
	static const char alpha[] = "abcdefghijkmnpqrstuvwxyz23456789";
	size_t i;

	for (i = 0; i < LABUSER_PASSWORD_CHARS; i++)
		out[i] = alpha[randombytes_uniform(sizeof(alpha) - 1)];
	out[LABUSER_PASSWORD_CHARS] = '\0';
}

/* Makes a password and TOTP secret, hashes and seals them for user id. */
static int
new_cred(const struct keyring *kr, const struct answer_cost *cost,
    long long id, const char *lab_name, const char *login,
    struct labuser_cred *c, char hash[SM_ANSWER_HASH_TEXT],
    unsigned char sealed[TOTP_SEALED_MAX], size_t *slen, struct sm_err *err)
{
	char account[LABUSER_LOGIN_MAX + 80];

	new_password(c->password);
	randombytes_buf(c->totp, sizeof(c->totp));
	snprintf(account, sizeof(account), "%s/%s", lab_name, login);
	if (answer_hash(kr, cost, c->password, strlen(c->password), hash,
	    err) == -1 ||
	    totp_seal(kr, id, c->totp, sizeof(c->totp), sealed, TOTP_SEALED_MAX,
	    slen, err) == -1 ||
	    totp_uri(c->totp, sizeof(c->totp), "sealmail", account, c->uri,
	    sizeof(c->uri), err) == -1) {
		labuser_cred_wipe(c);
		return -1;
	}
	return 0;
}

int
labuser_add(struct db *db, const struct keyring *kr,
    const struct answer_cost *cost, long long lab_id, const char *lab_name,
    const char *login, enum labuser_role role, struct labuser_cred *out,
    struct sm_err *err)
{
	static const char ins[] = "INSERT INTO lab_users (lab_id, login,"
	    " password_hash, role, created, updated) VALUES (?, ?, '!', ?, ?, ?)";
	static const char upd[] = "UPDATE lab_users SET password_hash = ?,"
	    " totp_sealed = ? WHERE id = ?";
	char hash[SM_ANSWER_HASH_TEXT];
	unsigned char sealed[TOTP_SEALED_MAX];
	unsigned long long id = 0;
	long long now = (long long)time(NULL);
	struct db_val a[5];
	size_t slen = 0;

	if (!labuser_login_ok(login)) {
		sm_err_set(err, "a login is 1 to 64 of a-z 0-9 . _ - @");
		return -1;
	}
	if (db_begin(db, err) == -1)
		return -1;
	/* The row first: its id is bound into the sealed TOTP secret. */
	a[0] = DB_I(lab_id);
	a[1] = DB_S(login);
	a[2] = DB_S(labuser_role_name(role));
	a[3] = DB_I(now);
	a[4] = DB_I(now);
	if (db_exec(db, ins, a, 5, NULL, &id, err) == -1) {
		if (db_errno(db) == 1062)
			sm_err_set(err, "login \"%s\" exists already", login);
		goto fail;
	}
	if (new_cred(kr, cost, (long long)id, lab_name, login, out, hash,
	    sealed, &slen, err) == -1)
		goto fail;
	a[0] = DB_S(hash);
	a[1] = DB_B(sealed, slen);
	a[2] = DB_I(id);
	if (db_exec(db, upd, a, 3, NULL, NULL, err) == -1 ||
	    db_commit(db, err) == -1) {
		labuser_cred_wipe(out);
		goto fail;
	}
	sodium_memzero(hash, sizeof(hash));
	return 0;
fail:
	db_rollback(db);
	sodium_memzero(hash, sizeof(hash));
	return -1;
}

int
labuser_find(struct db *db, const char *login, struct labuser *out,
    struct sm_err *err)
{
	static const char sql[] = "SELECT id, lab_id, login, role, password_hash,"
	    " failed_attempts, COALESCE(locked_until, 0), COALESCE(disabled, 0),"
	    " totp_last_step FROM lab_users WHERE login = ?";
	char role[16];
	struct db_val a = DB_S(login);
	struct db_col c[9];
	int r;

	memset(out, 0, sizeof(*out));
	c[0] = DB_COL_I(&out->id);
	c[1] = DB_COL_I(&out->lab_id);
	c[2] = DB_COL_S(out->login, sizeof(out->login));
	c[3] = DB_COL_S(role, sizeof(role));
	c[4] = DB_COL_S(out->password_hash, sizeof(out->password_hash));
	c[5] = DB_COL_I(&out->failed_attempts);
	c[6] = DB_COL_I(&out->locked_until);
	c[7] = DB_COL_I(&out->disabled);
	c[8] = DB_COL_I(&out->totp_last_step);
	r = db_query_row(db, sql, &a, 1, c, 9, err);
	if (r == 1 && labuser_role_parse(role, &out->role) == -1) {
		sm_err_set(err, "lab user %lld has an unknown role", out->id);
		return -1;
	}
	return r;
}

int
labuser_reset(struct db *db, const struct keyring *kr,
    const struct answer_cost *cost, const char *login,
    struct labuser_cred *out, struct sm_err *err)
{
	static const char lab_sql[] = "SELECT name FROM labs WHERE id = ?";
	static const char upd[] = "UPDATE lab_users SET password_hash = ?,"
	    " totp_sealed = ?, totp_last_step = 0, failed_attempts = 0,"
	    " locked_until = NULL, disabled = NULL, updated = ? WHERE id = ?";
	char hash[SM_ANSWER_HASH_TEXT], lab[65];
	unsigned char sealed[TOTP_SEALED_MAX];
	struct labuser u;
	struct db_val a[4];
	struct db_col c = DB_COL_S(lab, sizeof(lab));
	size_t slen = 0;
	int r;

	r = labuser_find(db, login, &u, err);
	if (r != 1) {
		if (r == 0)
			sm_err_set(err, "no lab user \"%.64s\"", login);
		return r == 0 ? LC_NOTFOUND_USER : -1;
	}
	a[0] = DB_I(u.lab_id);
	if (db_query_row(db, lab_sql, a, 1, &c, 1, err) != 1)
		return -1;
	if (new_cred(kr, cost, u.id, lab, login, out, hash, sealed, &slen,
	    err) == -1)
		return -1;
	a[0] = DB_S(hash);
	a[1] = DB_B(sealed, slen);
	a[2] = DB_I(time(NULL));
	a[3] = DB_I(u.id);
	r = db_exec(db, upd, a, 4, NULL, NULL, err);
	sodium_memzero(hash, sizeof(hash));
	if (r == -1)
		labuser_cred_wipe(out);
	return r;
}

int
labuser_disable(struct db *db, const char *login, struct sm_err *err)
{
	static const char sql[] = "UPDATE lab_users SET disabled = ?,"
	    " updated = ? WHERE login = ?";
	unsigned long long n = 0;
	struct db_val a[3];

	a[0] = DB_I(time(NULL));
	a[1] = DB_I(time(NULL));
	a[2] = DB_S(login);
	if (db_exec(db, sql, a, 3, &n, NULL, err) == -1)
		return -1;
	if (n == 0) {
		sm_err_set(err, "no lab user \"%.64s\"", login);
		return LC_NOTFOUND_USER;
	}
	return 0;
}

int
labuser_totp_check(struct db *db, const struct keyring *kr,
    const struct labuser *u, const char *code, time_t now,
    struct sm_err *err)
{
	static const char get[] = "SELECT totp_sealed FROM lab_users WHERE id = ?";
	/* Only a newer step wins, so two requests with one code cannot
	 * both pass. */
	static const char upd[] = "UPDATE lab_users SET totp_last_step = ?"
	    " WHERE id = ? AND totp_last_step < ?";
	unsigned char sealed[TOTP_SEALED_MAX], secret[TOTP_SECRET_BYTES];
	unsigned long long n = 0;
	long long step = 0;
	struct db_val a[3];
	struct db_col c = DB_COL_B(sealed, sizeof(sealed));
	size_t len = 0;
	int r, rc = -1;

	a[0] = DB_I(u->id);
	r = db_query_row(db, get, a, 1, &c, 1, err);
	if (r != 1 || c.is_null) {
		if (r != -1)
			sm_err_set(err, "lab user has no TOTP secret");
		return -1;
	}
	if (totp_open(kr, u->id, sealed, c.len, secret, sizeof(secret), &len,
	    err) == -1)
		goto out;
	r = totp_verify(secret, len, code, now, 1, u->totp_last_step, &step);
	if (r != 0) {
		rc = r == 1 ? 1 : -1;
		if (r == -1)
			sm_err_set(err, "TOTP check failed");
		goto out;
	}
	a[0] = DB_I(step);
	a[1] = DB_I(u->id);
	a[2] = DB_I(step);
	if (db_exec(db, upd, a, 3, &n, NULL, err) == -1)
		goto out;
	rc = n == 1 ? 0 : 1;
out:
	sodium_memzero(secret, sizeof(secret));
	return rc;
}

int
labuser_login(struct db *db, const struct keyring *kr,
    const struct answer_cost *cost, const char *login, const char *password,
    const char *code, time_t now, struct labuser *out, struct sm_err *err)
{
	/* locked_until first: it reads the count before it is raised, in
	 * either of MariaDB's assignment orders. */
	static const char fail[] = "UPDATE lab_users SET locked_until ="
	    " IF(failed_attempts + 1 >= ?, ? + LEAST(3600, 60 * POW(2,"
	    " LEAST(failed_attempts + 1 - ?, 6))), locked_until),"
	    " failed_attempts = failed_attempts + 1 WHERE id = ?";
	static const char ok[] = "UPDATE lab_users SET failed_attempts = 0,"
	    " locked_until = NULL WHERE id = ?";
	char dummy[SM_ANSWER_HASH_TEXT];
	struct labuser u;
	struct db_val a[4];
	size_t plen = strnlen(password, SM_ANSWER_MAX + 1);
	int r, t = 1;

	memset(out, 0, sizeof(*out));
	r = labuser_find(db, login, &u, err);
	if (r == -1)
		return -1;
	if (r == 0 || u.disabled != 0 || u.locked_until > (long long)now) {
		/* The same Argon2id work as a real check, so the time taken
		 * does not tell which logins exist. */
		(void)answer_hash(kr, cost, "x", 1, dummy, err);
		sodium_memzero(dummy, sizeof(dummy));
		return 1;
	}
	/* A password that cannot even be normalised (empty, too long, not
	 * UTF-8) is a wrong password, counted like any other. */
	r = answer_check(kr, cost, u.password_hash, password, plen, err);
	if (r == -1)
		r = 1;
	if (r == 0) {
		t = labuser_totp_check(db, kr, &u, code, now, err);
		if (t == -1)
			return -1;
	}
	a[0] = DB_I(u.id);
	if (r == 0 && t == 0) {
		if (db_exec(db, ok, a, 1, NULL, NULL, err) == -1)
			return -1;
		u.failed_attempts = 0;
		u.locked_until = 0;
		*out = u;
		return 0;
	}
	a[0] = DB_I(LABUSER_MAX_FAILURES);
	a[1] = DB_I(now);
	a[2] = DB_I(LABUSER_MAX_FAILURES);
	a[3] = DB_I(u.id);
	if (db_exec(db, fail, a, 4, NULL, NULL, err) == -1)
		return -1;
	return 1;
}
