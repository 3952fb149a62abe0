/* test_labuser.c - lab users against the stack's MariaDB: the admin login
 * admits the right password with a fresh TOTP code and refuses everything
 * else alike, counts failures, locks, and never accepts a code twice. */
#include <stdarg.h>
#include <stddef.h>
#include <setjmp.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>

#include <cmocka.h>
#include <mysql.h>
#include <sodium.h>

#include "config.h"
#include "crypto.h"
#include "db.h"
#include "labuser.h"
#include "totp.h"

static const struct answer_cost cheap = { 1, 8192, DATE_MDY };
static struct config *cf;
static struct keyring *kr;
static struct db *adb, *pdb;
static long long lab;

struct user {
	char login[LABUSER_LOGIN_MAX + 1];
	struct labuser_cred cred;
};

static void
new_user(struct user *u)
{
	struct sm_err err;

	snprintf(u->login, sizeof(u->login), "t%08x@lab.test", randombytes_random());
	if (labuser_add(adb, kr, &cheap, lab, "stacklab", u->login, ROLE_VIEWER,
	    &u->cred, &err) == -1)
		fail_msg("labuser_add: %s", err.msg);
}

static void
code_at(const struct user *u, time_t t, char code[TOTP_DIGITS + 1])
{
	assert_int_equal(totp_generate(u->cred.totp, TOTP_SECRET_BYTES, t,
	    TOTP_DIGITS, code), 0);
}

/* The portal logs in with its own account: this also proves its grants. */
static int
login(const struct user *u, const char *pw, const char *code, time_t t)
{
	struct labuser out;
	struct sm_err err;
	int r = labuser_login(pdb, kr, &cheap, u->login, pw, code, t, &out, &err);

	if (r == -1)
		fail_msg("labuser_login: %s", err.msg);
	if (r == 0)
		assert_string_equal(out.login, u->login);
	return r;
}

static long long
failures(const struct user *u)
{
	struct labuser x;
	struct sm_err err;

	assert_int_equal(labuser_find(adb, u->login, &x, &err), 1);
	return x.failed_attempts;
}

static void
right_password_and_code_are_admitted_once(void **s)
{
	const time_t now = time(NULL);
	char code[TOTP_DIGITS + 1];
	struct user u;

	(void)s;
	new_user(&u);
	code_at(&u, now, code);
	assert_int_equal(login(&u, u.cred.password, code, now), 0);
	/* The same code again, even with the right password, is refused. */
	assert_int_equal(login(&u, u.cred.password, code, now), 1);
	code_at(&u, now + 30, code);
	assert_int_equal(login(&u, u.cred.password, code, now + 30), 0);
	assert_int_equal(failures(&u), 0);
}

static void
every_wrong_input_is_refused_and_counted(void **s)
{
	const time_t now = time(NULL);
	char code[TOTP_DIGITS + 1], bad[TOTP_DIGITS + 1];
	struct user u;

	(void)s;
	new_user(&u);
	code_at(&u, now, code);
	snprintf(bad, sizeof(bad), "%06u", (unsigned)((strtoul(code, NULL, 10) + 1) % 1000000));
	assert_int_equal(login(&u, "wrong password", code, now), 1);
	assert_int_equal(login(&u, u.cred.password, bad, now), 1);
	assert_int_equal(login(&u, u.cred.password, "", now), 1);
	assert_int_equal(login(&u, "", code, now), 1);
	assert_int_equal(failures(&u), 4);
	code_at(&u, now - 600, code);
	assert_int_equal(login(&u, u.cred.password, code, now), 1);	/* stale */
}

static void
repeated_failures_lock_the_user(void **s)
{
	const time_t now = time(NULL);
	char code[TOTP_DIGITS + 1];
	struct labuser x;
	struct sm_err err;
	struct user u;
	int i;

	(void)s;
	new_user(&u);
	for (i = 0; i < LABUSER_MAX_FAILURES; i++)
		assert_int_equal(login(&u, "guess", "000000", now), 1);
	assert_int_equal(labuser_find(adb, u.login, &x, &err), 1);
	assert_true(x.locked_until >= now + 60);
	/* Locked: even the right password and code are refused, uncounted. */
	code_at(&u, now, code);
	assert_int_equal(login(&u, u.cred.password, code, now), 1);
	assert_int_equal(failures(&u), LABUSER_MAX_FAILURES);
	/* After the lock the right login works and clears the count. */
	code_at(&u, x.locked_until + 1, code);
	assert_int_equal(login(&u, u.cred.password, code, x.locked_until + 1), 0);
	assert_int_equal(failures(&u), 0);
}

static void
unknown_and_disabled_users_are_refused(void **s)
{
	const time_t now = time(NULL);
	char code[TOTP_DIGITS + 1];
	struct user u, ghost;
	struct sm_err err;

	(void)s;
	new_user(&u);
	memset(&ghost, 0, sizeof(ghost));
	snprintf(ghost.login, sizeof(ghost.login), "nobody-%u@lab.test",
	    randombytes_random());
	assert_int_equal(login(&ghost, "x", "123456", now), 1);
	assert_int_equal(labuser_disable(adb, u.login, &err), 0);
	code_at(&u, now, code);
	assert_int_equal(login(&u, u.cred.password, code, now), 1);
	/* reset re-enables with new secrets; the old password is dead. */
	{
		struct labuser_cred old = u.cred;

		assert_int_equal(labuser_reset(adb, kr, &cheap, u.login, &u.cred,
		    &err), 0);
		code_at(&u, now, code);
		assert_int_equal(login(&u, old.password, code, now), 1);
		assert_int_equal(login(&u, u.cred.password, code, now), 0);
		labuser_cred_wipe(&old);
	}
}

static int
setup(void **state)
{
	const char *conf = getenv("SEALMAIL_CONF");
	struct db_col c = DB_COL_I(&lab);
	struct sm_err err;

	(void)state;
	if (config_load(&cf, conf, &err) == -1 ||
	    keyring_load(&kr, config_str(cf, "keys.dir"), 0, KEY_PEPPER, &err) == -1 ||
	    db_open(&adb, cf, DB_ROLE_ADMIN, &err) == -1 ||
	    db_open(&pdb, cf, DB_ROLE_PORTAL, &err) == -1)
		goto fail;
	if (db_query_row(adb, "SELECT MIN(id) FROM labs", NULL, 0, &c, 1, &err) != 1 ||
	    lab <= 0) {
		snprintf(err.msg, sizeof(err.msg), "the stack has no lab");
		goto fail;
	}
	return 0;
fail:
	fprintf(stderr, "setup: %s\n", err.msg);
	return -1;
}

static int
teardown(void **state)
{
	(void)state;
	db_close(adb);
	db_close(pdb);
	keyring_free(kr);
	config_free(cf);
	return 0;
}

int
main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test(right_password_and_code_are_admitted_once),
		cmocka_unit_test(every_wrong_input_is_refused_and_counted),
		cmocka_unit_test(repeated_failures_lock_the_user),
		cmocka_unit_test(unknown_and_disabled_users_are_refused),
	};
	int rc;

	if (getenv("SEALMAIL_CONF") == NULL) {
		printf("1..0 # SKIP SEALMAIL_CONF not set: run under contrib/stack\n");
		return 0;
	}
	if (sodium_init() < 0 || mysql_library_init(0, NULL, NULL) != 0)
		return 1;
	rc = cmocka_run_group_tests(tests, setup, teardown);
	mysql_library_end();
	return rc;
}
