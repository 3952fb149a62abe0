/* init.c - sealmailctl init and migrate.
 * init is safe to run again: it creates what is missing (keys, database,
 * accounts, schema) and re-applies the grants, but never replaces a key
 * or a password that exists. */
#include <sys/stat.h>
#include <ctype.h>
#include <errno.h>
#include <fcntl.h>
#include <getopt.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>
#include <unistd.h>

#include <sodium.h>

#include "buf.h"
#include "crypto.h"
#include "ctl.h"
#include "db.h"
#include "log.h"
#include "migrate.h"

#define PW_HEX 40

/* What each program's account may do (DESIGN.md: least privilege).  The
 * milter writes escrow rows but can read none back; only the admin
 * account changes schema, labs and keys. */
static const struct grant {
	const char *role;	/* config prefix */
	const char *privs;
	const char *table;	/* NULL: the whole database */
} grants[] = {
	{ "milter", "SELECT", "labs" },
	{ "milter", "SELECT", "lab_senders" },
	{ "milter", "SELECT", "recipients" },
	/* SELECT (id) only: after a connection lost during COMMIT the milter
	 * looks up whether its message row exists (lib/store.c). */
	{ "milter", "INSERT, SELECT (id)", "messages" },
	{ "milter", "INSERT", "message_chunks" },
	{ "milter", "INSERT", "deliveries" },
	{ "milter", "INSERT", "events" },
	{ "portal", "SELECT", "labs" },
	/* The admin pages and the API retract and change expiry (lifecycle.c)
	 * but never purge: purging stays with sealmailctl. */
	{ "portal", "SELECT, UPDATE (retracted, expires)", "messages" },
	{ "portal", "SELECT", "message_chunks" },
	{ "portal", "SELECT, UPDATE", "deliveries" },
	{ "portal", "SELECT, INSERT, UPDATE, DELETE", "sessions" },
	/* INSERT for every page; SELECT for the lab's timeline and export. */
	{ "portal", "SELECT, INSERT", "events" },
	/* CSV upload and PUT /api/v1/recipients (recipient_import.c). */
	{ "portal", "SELECT, INSERT, UPDATE, DELETE", "recipients" },
	/* Lab users log in (lockout, TOTP step); users are created only by
	 * sealmailctl, so no INSERT. */
	{ "portal", "SELECT, UPDATE (failed_attempts, locked_until,"
	    " totp_last_step, updated)", "lab_users" },
	{ "portal", "SELECT, UPDATE (last_used)", "api_keys" },
	/* Admin page sessions (005_admin.sql): created at login, touched,
	 * deleted at logout or expiry. */
	{ "portal", "SELECT, INSERT, UPDATE, DELETE", "admin_sessions" },
	{ "portal", "SELECT, INSERT, UPDATE, DELETE", "rate_limits" },
	/* SMS notices: the milter queues, sealmail-smsd hands them over and
	 * records the outcome; the PIN and password pages keep one-time
	 * tokens. */
	{ "milter", "INSERT", "sms_queue" },
	{ "sms", "SELECT, UPDATE (state, attempts, next_attempt, sent,"
	    " last_error)", "sms_queue" },
	{ "sms", "INSERT", "events" },
	{ "portal", "SELECT, INSERT, UPDATE", "patient_tokens" },
	{ "admin", "ALL PRIVILEGES", NULL },
};

static const char *const roles[] = { "milter", "portal", "sms", "admin" };

/* Names that go into DDL text are checked against a strict alphabet,
 * since DDL cannot take them as parameters. */
static int
ident_ok(const char *s, size_t max)
{
	size_t i;

	for (i = 0; s[i] != '\0'; i++)
		if (!(isalnum((unsigned char)s[i]) || s[i] == '_'))
			return 0;
	return i > 0 && i <= max;
}

static int
mkdir_private(const char *path)
{
	if (mkdir(path, 0700) == -1 && errno != EEXIST)
		return -1;
	return 0;
}

/* Reads the account password from its file, creating the file with a
 * random hex password when it does not exist. */
static int
role_password(const char *path, char pw[PW_HEX + 1], struct sm_err *err)
{
	unsigned char raw[PW_HEX / 2];
	size_t n = 0;
	int fd;

	fd = open(path, O_WRONLY | O_CREAT | O_EXCL | O_CLOEXEC, 0600);
	if (fd >= 0) {
		randombytes_buf(raw, sizeof(raw));
		sodium_bin2hex(pw, PW_HEX + 1, raw, sizeof(raw));
		sodium_memzero(raw, sizeof(raw));
		if (write(fd, pw, PW_HEX) != PW_HEX || fsync(fd) == -1) {
			sm_err_set(err, "%s: %s", path, strerror(errno));
			close(fd);
			return -1;
		}
		close(fd);
		return 0;
	}
	if (errno != EEXIST) {
		sm_err_set(err, "%s: %s", path, strerror(errno));
		return -1;
	}
	if (config_secret_read(path, pw, PW_HEX + 1, 0, &n, err) == -1)
		return -1;
	while (n > 0 && (pw[n - 1] == '\n' || pw[n - 1] == '\r'))
		n--;
	pw[n < PW_HEX + 1 ? n : PW_HEX] = '\0';
	for (size_t i = 0; i < n; i++) {
		if (!isxdigit((unsigned char)pw[i])) {
			sm_err_set(err, "%s: an existing password must be hex digits"
			    " (delete the file to have one generated)", path);
			return -1;
		}
	}
	if (n < 16) {
		sm_err_set(err, "%s: password shorter than 16 characters", path);
		return -1;
	}
	return 0;
}

static int
ddl(struct db *db, struct buf *b, struct sm_err *err)
{
	int rc = db_exec_ddl(db, buf_cstr(b), err);

	buf_reset(b);
	return rc;
}

static int
setup_accounts(struct db *db, const struct config *cf, struct sm_err *err)
{
	const char *dbname = config_str(cf, "database.name");
	const char *host = config_str(cf, "database.host");
	/* Socket connections arrive as localhost, TCP ones by address. */
	const char *acct_host = (host[0] == '\0' || strcmp(host, "localhost") == 0) ?
	    "localhost" : "%";
	char pw[PW_HEX + 1];
	struct buf b;
	size_t i, j;
	int rc = -1;

	buf_init(&b, 4096);
	for (i = 0; i < sizeof(roles) / sizeof(roles[0]); i++) {
		char key[64];
		const char *user;

		snprintf(key, sizeof(key), "database.%s.user", roles[i]);
		user = config_str(cf, key);
		if (!ident_ok(user, 80)) {
			sm_err_set(err, "%s: only letters, digits and _ are allowed", key);
			goto out;
		}
		snprintf(key, sizeof(key), "database.%s.password_file", roles[i]);
		if (role_password(config_str(cf, key), pw, err) == -1)
			goto out;
		if (buf_printf(&b, "CREATE USER IF NOT EXISTS '%s'@'%s' IDENTIFIED BY '%s'",
		    user, acct_host, pw) == -1 || ddl(db, &b, err) == -1 ||
		    buf_printf(&b, "ALTER USER '%s'@'%s' IDENTIFIED BY '%s'",
		    user, acct_host, pw) == -1 || ddl(db, &b, err) == -1 ||
		    buf_printf(&b, "REVOKE ALL PRIVILEGES, GRANT OPTION FROM '%s'@'%s'",
		    user, acct_host) == -1 || ddl(db, &b, err) == -1)
			goto out;
		for (j = 0; j < sizeof(grants) / sizeof(grants[0]); j++) {
			if (strcmp(grants[j].role, roles[i]) != 0)
				continue;
			if (buf_printf(&b, "GRANT %s ON `%s`.%s%s%s TO '%s'@'%s'",
			    grants[j].privs, dbname, grants[j].table ? "`" : "",
			    grants[j].table ? grants[j].table : "*",
			    grants[j].table ? "`" : "", user, acct_host) == -1 ||
			    ddl(db, &b, err) == -1)
				goto out;
		}
	}
	rc = 0;
out:
	sodium_memzero(pw, sizeof(pw));
	buf_free(&b);
	return rc;
}

static int
read_admin_password(const char *path, char *pw, size_t cap, struct sm_err *err)
{
	size_t n;

	if (config_secret_read(path, pw, cap - 1, 0, &n, err) == -1)
		return -1;
	while (n > 0 && (pw[n - 1] == '\n' || pw[n - 1] == '\r'))
		n--;
	pw[n] = '\0';
	return 0;
}

int
cmd_init(struct ctl *c)
{
	static const struct option opts[] = {
		{ "db-admin-user", required_argument, NULL, 'u' },
		{ "db-admin-password-file", required_argument, NULL, 'p' },
		{ "help", no_argument, NULL, 'h' },
		{ NULL, 0, NULL, 0 },
	};
	const char *admin = "root", *pwfile = NULL;
	const char *dbname = config_str(c->cf, "database.name");
	char pw[256] = "";
	struct db *db = NULL;
	struct sm_err err;
	struct buf b;
	unsigned applied = 0;
	int ch, rc = 1;

	buf_init(&b, 1024);
	while ((ch = getopt_long(c->argc, c->argv, "h", opts, NULL)) != -1) {
		switch (ch) {
		case 'u':
			admin = optarg;
			break;
		case 'p':
			pwfile = optarg;
			break;
		case 'h':
			printf("usage: sealmailctl init [--db-admin-user USER]"
			    " [--db-admin-password-file FILE]\n");
			return 0;
		default:
			return 2;
		}
	}
	if (!ident_ok(dbname, 64)) {
		rc = ctl_fail("database.name: only letters, digits and _ are allowed");
		goto out;
	}
	if (mkdir_private(config_str(c->cf, "keys.dir")) == -1) {
		rc = ctl_fail("%s: %s", config_str(c->cf, "keys.dir"), strerror(errno));
		goto out;
	}
	if (keyring_generate(config_str(c->cf, "keys.dir"),
	    (int)config_int(c->cf, "keys.escrow_version"),
	    KEY_ESCROW_PUBLIC | KEY_ESCROW_SECRET | KEY_SIGN_SECRET |
	    KEY_SIGN_PUBLIC | KEY_PEPPER | KEY_AUDIT | KEY_SMS, &err) == -1) {
		rc = ctl_fail("%s", err.msg);
		goto out;
	}
	if (pwfile != NULL && read_admin_password(pwfile, pw, sizeof(pw), &err) == -1) {
		rc = ctl_fail("%s", err.msg);
		goto out;
	}
	if (db_open_as(&db, c->cf, admin, pwfile ? pw : NULL, 1, &err) == -1) {
		rc = ctl_fail("%s", err.msg);
		goto out;
	}
	if (buf_printf(&b, "CREATE DATABASE IF NOT EXISTS `%s` CHARACTER SET utf8mb4"
	    " COLLATE utf8mb4_unicode_ci", dbname) == -1 ||
	    db_exec_ddl(db, buf_cstr(&b), &err) == -1) {
		rc = ctl_fail("%s", err.msg);
		goto out;
	}
	buf_reset(&b);
	if (buf_printf(&b, "USE `%s`", dbname) == -1 ||
	    db_exec_ddl(db, buf_cstr(&b), &err) == -1 ||
	    migrate_run(db, &applied, &err) == -1 ||
	    setup_accounts(db, c->cf, &err) == -1) {
		rc = ctl_fail("%s", err.msg);
		goto out;
	}
	log_event("initialised", "database=%s migrations_applied=%u", dbname, applied);
	printf("sealmail initialised: database %s, %u migration(s) applied, keys in %s\n",
	    dbname, applied, config_str(c->cf, "keys.dir"));
	rc = 0;
out:
	sodium_memzero(pw, sizeof(pw));
	db_close(db);
	buf_free(&b);
	return rc;
}

int
cmd_migrate(struct ctl *c)
{
	struct db *db = NULL;
	struct sm_err err;
	unsigned applied, cur, latest;
	int rc = 1;

	if (c->argc > 1 && strcmp(c->argv[1], "--status") == 0) {
		if (db_open(&db, c->cf, DB_ROLE_ADMIN, &err) == -1 ||
		    migrate_status(db, &cur, &latest, &err) == -1) {
			rc = ctl_fail("%s", err.msg);
			goto out;
		}
		if (c->json)
			printf("{\"current\":%u,\"latest\":%u}\n", cur, latest);
		else
			printf("schema version %u, latest %u%s\n", cur, latest,
			    cur < latest ? " (run sealmailctl migrate)" : "");
		rc = 0;
		goto out;
	}
	if (c->argc > 1)
		return ctl_fail("usage: sealmailctl migrate [--status]");
	if (db_open(&db, c->cf, DB_ROLE_ADMIN, &err) == -1 ||
	    migrate_run(db, &applied, &err) == -1) {
		rc = ctl_fail("%s", err.msg);
		goto out;
	}
	printf("%u migration(s) applied\n", applied);
	rc = 0;
out:
	db_close(db);
	return rc;
}
