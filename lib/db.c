/* db.c - prepared statements over MariaDB Connector/C.
 * Statements are prepared once per connection and cached by their SQL text
 * (always a literal).  A connection that died is reconnected once when no
 * transaction is open; inside a transaction the error goes to the caller,
 * who rolls back: nothing is retried half-way. */
#include <errno.h>
#include <stdlib.h>
#include <string.h>

#include <mysql.h>
#include <errmsg.h>
#include <mysqld_error.h>
#include <sodium.h>

#include "db.h"

#define DB_CACHE_MAX 64
/* Enough for a batch of events (event.h) in one INSERT. */
#define DB_ARGS_MAX 160
#define DB_COLS_MAX 24
#define DB_PASSWORD_MAX 128

struct db_cached {
	const char *sql;
	MYSQL_STMT *st;
};

struct db_login {
	char user[81];
	char *password;		/* sodium_malloc'd, NUL-terminated */
	size_t pwlen;
};

struct db {
	MYSQL *my;
	const struct config *cf;
	char user[81];
	char *password;		/* sodium_malloc'd */
	int no_database;
	int in_tx;
	unsigned last_errno;
	db_commit_hook commit_hook;
	void *commit_hook_arg;
	struct db_cached cache[DB_CACHE_MAX];
	size_t ncache;
	/* the open query, if any */
	MYSQL_STMT *cur;
	struct db_col *cols;
	size_t ncols;
	MYSQL_BIND out[DB_COLS_MAX];
	unsigned long outlen[DB_COLS_MAX];
	my_bool outnull[DB_COLS_MAX];
	my_bool outerr[DB_COLS_MAX];
};

static const char *
role_key(enum db_role role, int password)
{
	switch (role) {
	case DB_ROLE_MILTER:
		return password ? "database.milter.password_file" : "database.milter.user";
	case DB_ROLE_PORTAL:
		return password ? "database.portal.password_file" : "database.portal.user";
	case DB_ROLE_SMS:
		return password ? "database.sms.password_file" : "database.sms.user";
	case DB_ROLE_ADMIN:
		break;
	}
	return password ? "database.admin.password_file" : "database.admin.user";
}

static void
cache_clear(struct db *db)
{
	size_t i;

	for (i = 0; i < db->ncache; i++)
		mysql_stmt_close(db->cache[i].st);
	db->ncache = 0;
	db->cur = NULL;
}

static int
db_connect(struct db *db, struct sm_err *err)
{
	const struct config *cf = db->cf;
	const char *host = config_str(cf, "database.host");
	const char *sock = config_str(cf, "database.socket");
	unsigned int timeout = (unsigned int)config_int(cf, "database.connect_timeout");
	my_bool on = 1;

	db->my = mysql_init(NULL);
	if (db->my == NULL) {
		sm_err_set(err, "database: out of memory");
		return -1;
	}
	if (mysql_options(db->my, MYSQL_OPT_CONNECT_TIMEOUT, &timeout) != 0 ||
	    mysql_options(db->my, MYSQL_SET_CHARSET_NAME, "utf8mb4") != 0)
		goto fail;
	if (config_bool(cf, "database.tls")) {
		const char *ca = config_str(cf, "database.tls_ca");

		if (mysql_options(db->my, MYSQL_OPT_SSL_ENFORCE, &on) != 0 ||
		    mysql_options(db->my, MYSQL_OPT_SSL_VERIFY_SERVER_CERT, &on) != 0 ||
		    (ca[0] != '\0' && mysql_options(db->my, MYSQL_OPT_SSL_CA, ca) != 0))
			goto fail;
	}
	if (mysql_real_connect(db->my, host[0] ? host : NULL, db->user,
	    db->password, db->no_database ? NULL : config_str(cf, "database.name"),
	    (unsigned int)config_int(cf, "database.port"),
	    sock[0] ? sock : NULL, 0) == NULL)
		goto fail;
	/* Autocommit stays on: single statements commit at once, and
	 * db_begin opens an explicit transaction where several must. */
	return 0;
fail:
	db->last_errno = mysql_errno(db->my);
	sm_err_set(err, "database: cannot connect as %s: %s", db->user,
	    mysql_error(db->my));
	mysql_close(db->my);
	db->my = NULL;
	return -1;
}

static int
db_new(struct db **out, const struct config *cf, const char *user,
    const char *password, size_t pwlen, int no_database, struct sm_err *err)
{
	struct db *db = calloc(1, sizeof(*db));

	if (db == NULL) {
		sm_err_set(err, "out of memory");
		return -1;
	}
	db->cf = cf;
	db->no_database = no_database;
	snprintf(db->user, sizeof(db->user), "%s", user);
	db->password = sodium_malloc(pwlen + 1);
	if (db->password == NULL) {
		free(db);
		sm_err_set(err, "out of memory");
		return -1;
	}
	memcpy(db->password, password, pwlen);
	db->password[pwlen] = '\0';
	if (db_connect(db, err) == -1) {
		db_close(db);
		return -1;
	}
	*out = db;
	return 0;
}

int
db_login_load(struct db_login **out, const struct config *cf,
    enum db_role role, struct sm_err *err)
{
	struct db_login *l = calloc(1, sizeof(*l));
	size_t n;

	if (l == NULL || (l->password = sodium_malloc(DB_PASSWORD_MAX + 1)) == NULL) {
		free(l);
		sm_err_set(err, "out of memory");
		return -1;
	}
	if (config_secret_read(config_str(cf, role_key(role, 1)), l->password,
	    DB_PASSWORD_MAX, 0, &n, err) == -1) {
		db_login_free(l);
		return -1;
	}
	/* A trailing newline from an editor is not part of the password. */
	while (n > 0 && (l->password[n - 1] == '\n' || l->password[n - 1] == '\r'))
		n--;
	l->password[n] = '\0';
	l->pwlen = n;
	snprintf(l->user, sizeof(l->user), "%s", config_str(cf, role_key(role, 0)));
	(void)sodium_mprotect_readonly(l->password);
	*out = l;
	return 0;
}

void
db_login_free(struct db_login *l)
{
	if (l == NULL)
		return;
	if (l->password != NULL)
		sodium_free(l->password);
	free(l);
}

int
db_open_login(struct db **out, const struct config *cf,
    const struct db_login *l, struct sm_err *err)
{
	return db_new(out, cf, l->user, l->password, l->pwlen, 0, err);
}

int
db_open(struct db **out, const struct config *cf, enum db_role role,
    struct sm_err *err)
{
	struct db_login *l;
	int rc;

	if (db_login_load(&l, cf, role, err) == -1)
		return -1;
	rc = db_open_login(out, cf, l, err);
	db_login_free(l);
	return rc;
}

int
db_open_as(struct db **out, const struct config *cf, const char *user,
    const char *password, int no_database, struct sm_err *err)
{
	return db_new(out, cf, user, password ? password : "",
	    password ? strlen(password) : 0, no_database, err);
}

void
db_close(struct db *db)
{
	if (db == NULL)
		return;
	cache_clear(db);
	if (db->my != NULL)
		mysql_close(db->my);
	if (db->password != NULL)
		sodium_free(db->password);
	free(db);
}

static int
conn_lost(unsigned e)
{
	return e == CR_SERVER_GONE_ERROR || e == CR_SERVER_LOST ||
	    e == ER_CONNECTION_KILLED || e == CR_CONNECTION_ERROR ||
	    e == ER_SERVER_SHUTDOWN;
}

/* Reconnects a connection that died, once, when nothing is half-done. */
static int
reconnect(struct db *db, struct sm_err *err)
{
	cache_clear(db);
	if (db->my != NULL)
		mysql_close(db->my);
	db->my = NULL;
	db->in_tx = 0;
	return db_connect(db, err);
}

static int
fail_my(struct db *db, struct sm_err *err)
{
	db->last_errno = db->my ? mysql_errno(db->my) : CR_SERVER_GONE_ERROR;
	sm_err_set(err, "database: %s", db->my ? mysql_error(db->my) : "not connected");
	return -1;
}

static int
fail_st(struct db *db, MYSQL_STMT *st, struct sm_err *err)
{
	db->last_errno = mysql_stmt_errno(st);
	sm_err_set(err, "database: %s", mysql_stmt_error(st));
	return -1;
}

/* Plain-text statements without values only: transactions and DDL. */
static int
simple(struct db *db, const char *sql, struct sm_err *err)
{
	if (db->my == NULL && reconnect(db, err) == -1)
		return -1;
	if (mysql_real_query(db->my, sql, strlen(sql)) != 0)
		return fail_my(db, err);
	return 0;
}

int
db_begin(struct db *db, struct sm_err *err)
{
	if (db->cur != NULL)
		db_query_end(db);
	if (simple(db, "START TRANSACTION", err) == -1) {
		if (!conn_lost(db->last_errno) || reconnect(db, err) == -1 ||
		    simple(db, "START TRANSACTION", err) == -1)
			return -1;
	}
	db->in_tx = 1;
	return 0;
}

int
db_commit(struct db *db, struct sm_err *err)
{
	if (db->cur != NULL)
		db_query_end(db);
	db->in_tx = 0;
	if (db->my == NULL) {
		db->last_errno = CR_SERVER_GONE_ERROR;
		sm_err_set(err, "database: connection lost before commit");
		return -1;
	}
	if (db->commit_hook != NULL)
		(void)db->commit_hook(db, 1, db->commit_hook_arg);
	if (mysql_commit(db->my) != 0)
		return fail_my(db, err);
	if (db->commit_hook != NULL &&
	    db->commit_hook(db, 0, db->commit_hook_arg) == -1) {
		db->last_errno = CR_SERVER_LOST;
		sm_err_set(err, "database: connection lost during commit (test hook)");
		return -1;
	}
	return 0;
}

void
db_set_commit_hook(struct db *db, db_commit_hook hook, void *arg)
{
	db->commit_hook = hook;
	db->commit_hook_arg = arg;
}

unsigned long
db_thread_id(const struct db *db)
{
	return db->my != NULL ? mysql_thread_id(db->my) : 0;
}

void
db_rollback(struct db *db)
{
	if (db->cur != NULL)
		db_query_end(db);
	db->in_tx = 0;
	if (db->my != NULL && mysql_rollback(db->my) != 0)
		db->last_errno = mysql_errno(db->my);
}

int
db_in_transaction(const struct db *db)
{
	return db->in_tx;
}

unsigned
db_errno(const struct db *db)
{
	return db->last_errno;
}

int
db_conn_lost(const struct db *db)
{
	return conn_lost(db->last_errno);
}

static MYSQL_STMT *
stmt_get(struct db *db, const char *sql, struct sm_err *err)
{
	MYSQL_STMT *st;
	size_t i;

	for (i = 0; i < db->ncache; i++)
		if (db->cache[i].sql == sql)
			return db->cache[i].st;
	if (db->my == NULL && reconnect(db, err) == -1)
		return NULL;
	st = mysql_stmt_init(db->my);
	if (st == NULL) {
		fail_my(db, err);
		return NULL;
	}
	if (mysql_stmt_prepare(st, sql, strlen(sql)) != 0) {
		fail_st(db, st, err);
		mysql_stmt_close(st);
		return NULL;
	}
	if (db->ncache == DB_CACHE_MAX) {
		/* Full: drop the oldest.  Only a program with more distinct
		 * statements than the cache holds ever gets here. */
		mysql_stmt_close(db->cache[0].st);
		memmove(&db->cache[0], &db->cache[1],
		    (DB_CACHE_MAX - 1) * sizeof(db->cache[0]));
		db->ncache--;
	}
	db->cache[db->ncache].sql = sql;
	db->cache[db->ncache].st = st;
	db->ncache++;
	return st;
}

/* Prepares (or finds) and executes sql with args bound. */
static MYSQL_STMT *
run(struct db *db, const char *sql, const struct db_val *args, size_t nargs,
    struct sm_err *err)
{
	MYSQL_BIND bind[DB_ARGS_MAX];
	long long ints[DB_ARGS_MAX];
	unsigned long lens[DB_ARGS_MAX];
	MYSQL_STMT *st;
	int attempt;
	size_t i;

	if (nargs > DB_ARGS_MAX) {
		sm_err_set(err, "database: too many parameters");
		return NULL;
	}
	if (db->cur != NULL)
		db_query_end(db);
	for (attempt = 0; attempt < 2; attempt++) {
		memset(bind, 0, nargs * sizeof(bind[0]));
		st = stmt_get(db, sql, err);
		if (st == NULL)
			goto retry;
		if (mysql_stmt_param_count(st) != nargs) {
			sm_err_set(err, "database: statement takes %lu parameters, %zu given",
			    mysql_stmt_param_count(st), nargs);
			return NULL;
		}
		for (i = 0; i < nargs; i++) {
			switch (args[i].type) {
			case DB_NULL:
				bind[i].buffer_type = MYSQL_TYPE_NULL;
				break;
			case DB_INT:
				ints[i] = args[i].i;
				bind[i].buffer_type = MYSQL_TYPE_LONGLONG;
				bind[i].buffer = &ints[i];
				break;
			case DB_STR:
			case DB_BLOB:
				lens[i] = (unsigned long)args[i].n;
				bind[i].buffer_type = args[i].type == DB_STR ?
				    MYSQL_TYPE_STRING : MYSQL_TYPE_BLOB;
				bind[i].buffer = (void *)(uintptr_t)args[i].p;
				bind[i].buffer_length = lens[i];
				bind[i].length = &lens[i];
				break;
			}
		}
		if (nargs > 0 && mysql_stmt_bind_param(st, bind) != 0) {
			fail_st(db, st, err);
			return NULL;
		}
		if (mysql_stmt_execute(st) == 0)
			return st;
		fail_st(db, st, err);
retry:
		if (attempt > 0 || db->in_tx || !conn_lost(db->last_errno))
			return NULL;
		if (reconnect(db, err) == -1)
			return NULL;
	}
	return NULL;
}

int
db_exec(struct db *db, const char *sql, const struct db_val *args,
    size_t nargs, unsigned long long *affected, unsigned long long *insert_id,
    struct sm_err *err)
{
	MYSQL_STMT *st = run(db, sql, args, nargs, err);

	if (st == NULL)
		return -1;
	if (affected != NULL)
		*affected = (unsigned long long)mysql_stmt_affected_rows(st);
	if (insert_id != NULL)
		*insert_id = (unsigned long long)mysql_stmt_insert_id(st);
	return 0;
}

int
db_query(struct db *db, const char *sql, const struct db_val *args,
    size_t nargs, struct db_col *cols, size_t ncols, struct sm_err *err)
{
	MYSQL_STMT *st;
	size_t i;

	if (ncols > DB_COLS_MAX) {
		sm_err_set(err, "database: too many columns");
		return -1;
	}
	st = run(db, sql, args, nargs, err);
	if (st == NULL)
		return -1;
	if (mysql_stmt_field_count(st) != ncols) {
		sm_err_set(err, "database: query returns %u columns, %zu expected",
		    mysql_stmt_field_count(st), ncols);
		mysql_stmt_free_result(st);
		return -1;
	}
	memset(db->out, 0, sizeof(db->out));
	for (i = 0; i < ncols; i++) {
		MYSQL_BIND *b = &db->out[i];

		switch (cols[i].type) {
		case DB_INT:
			b->buffer_type = MYSQL_TYPE_LONGLONG;
			b->buffer = cols[i].p;
			break;
		case DB_STR:
			if (cols[i].cap == 0) {
				sm_err_set(err, "database: no room for a string column");
				return -1;
			}
			b->buffer_type = MYSQL_TYPE_STRING;
			b->buffer = cols[i].p;
			b->buffer_length = cols[i].cap - 1;
			break;
		case DB_BLOB:
		case DB_NULL:
			b->buffer_type = MYSQL_TYPE_BLOB;
			b->buffer = cols[i].p;
			b->buffer_length = cols[i].cap;
			break;
		}
		b->length = &db->outlen[i];
		b->is_null = &db->outnull[i];
		b->error = &db->outerr[i];
	}
	if ((ncols > 0 && mysql_stmt_bind_result(st, db->out) != 0) ||
	    mysql_stmt_store_result(st) != 0) {
		fail_st(db, st, err);
		mysql_stmt_free_result(st);
		return -1;
	}
	db->cur = st;
	db->cols = cols;
	db->ncols = ncols;
	return 0;
}

int
db_fetch(struct db *db, struct sm_err *err)
{
	size_t i;
	int rc;

	if (db->cur == NULL) {
		sm_err_set(err, "database: no open query");
		return -1;
	}
	rc = mysql_stmt_fetch(db->cur);
	if (rc == MYSQL_NO_DATA)
		return 0;
	if (rc == MYSQL_DATA_TRUNCATED) {
		sm_err_set(err, "database: a value is longer than expected");
		return -1;
	}
	if (rc != 0)
		return fail_st(db, db->cur, err);
	for (i = 0; i < db->ncols; i++) {
		struct db_col *c = &db->cols[i];

		c->is_null = db->outnull[i] != 0;
		c->len = c->is_null ? 0 : (size_t)db->outlen[i];
		if (c->type == DB_STR)
			((char *)c->p)[c->len] = '\0';
		if (c->type == DB_INT && c->is_null)
			*(long long *)c->p = 0;
	}
	return 1;
}

void
db_query_end(struct db *db)
{
	if (db->cur != NULL)
		mysql_stmt_free_result(db->cur);
	db->cur = NULL;
	db->cols = NULL;
	db->ncols = 0;
}

int
db_query_row(struct db *db, const char *sql, const struct db_val *args,
    size_t nargs, struct db_col *cols, size_t ncols, struct sm_err *err)
{
	int rc;

	if (db_query(db, sql, args, nargs, cols, ncols, err) == -1)
		return -1;
	rc = db_fetch(db, err);
	db_query_end(db);
	return rc;
}

int
db_exec_ddl(struct db *db, const char *sql, struct sm_err *err)
{
	if (db->cur != NULL)
		db_query_end(db);
	return simple(db, sql, err);
}
