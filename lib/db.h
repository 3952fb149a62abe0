/* db.h - a thin layer over MariaDB Connector/C: prepared statements only.
 * SQL text is always a literal; every value travels as a bound parameter.
 * A dropped connection is reconnected once, outside a transaction; inside
 * one the caller sees the failure and rolls back (fail closed). */
#ifndef SM_DB_H
#define SM_DB_H

#include <stddef.h>
#include <stdint.h>

#include "config.h"
#include "err.h"

enum db_role {
	DB_ROLE_MILTER,
	DB_ROLE_PORTAL,
	DB_ROLE_ADMIN,
	DB_ROLE_SMS,
};

enum db_type {
	DB_NULL,
	DB_INT,		/* long long */
	DB_STR,		/* text, utf8mb4 */
	DB_BLOB,	/* bytes */
};

/* An input parameter. */
struct db_val {
	enum db_type type;
	long long i;
	const void *p;
	size_t n;
};

#define DB_I(x) ((struct db_val){ .type = DB_INT, .i = (long long)(x) })
#define DB_S(s) ((struct db_val){ .type = DB_STR, .p = (s), .n = strlen(s) })
#define DB_SN(s, len) ((struct db_val){ .type = DB_STR, .p = (s), .n = (len) })
#define DB_B(ptr, len) ((struct db_val){ .type = DB_BLOB, .p = (ptr), .n = (len) })
#define DB_NUL ((struct db_val){ .type = DB_NULL })
/* A string that is NULL in SQL when the C pointer is NULL. */
#define DB_SNUL(s) ((s) ? DB_S(s) : DB_NUL)

/* An output column.  For DB_STR the buffer is NUL-terminated, so cap must
 * leave room for it; a value longer than cap is an error, never truncated. */
struct db_col {
	enum db_type type;
	void *p;		/* long long * for DB_INT, buffer otherwise */
	size_t cap;
	size_t len;		/* filled by db_fetch */
	int is_null;		/* filled by db_fetch */
};

#define DB_COL_I(ptr) ((struct db_col){ .type = DB_INT, .p = (ptr) })
#define DB_COL_S(buf, sz) ((struct db_col){ .type = DB_STR, .p = (buf), .cap = (sz) })
#define DB_COL_B(buf, sz) ((struct db_col){ .type = DB_BLOB, .p = (buf), .cap = (sz) })

struct db;
struct db_login;

/* Connects as the database account of the given role (config keys
 * database.<role>.user and .password_file). */
int db_open(struct db **out, const struct config *cf, enum db_role role,
    struct sm_err *err);
/* A role's user and password, read once: a daemon loads it before it drops
 * privileges, since the password file stays readable only by root, and
 * opens its later connections with db_open_login. */
int db_login_load(struct db_login **out, const struct config *cf,
    enum db_role role, struct sm_err *err);
void db_login_free(struct db_login *l);
int db_open_login(struct db **out, const struct config *cf,
    const struct db_login *l, struct sm_err *err);
/* Connects with explicit credentials (sealmailctl init as the DB admin). */
int db_open_as(struct db **out, const struct config *cf, const char *user,
    const char *password, int no_database, struct sm_err *err);
void db_close(struct db *db);

int db_begin(struct db *db, struct sm_err *err);
int db_commit(struct db *db, struct sm_err *err);
/* Never fails visibly: a rollback on a dead connection is a no-op. */
void db_rollback(struct db *db);
int db_in_transaction(const struct db *db);

/* Runs a statement that returns no rows.  affected and insert_id may be NULL. */
int db_exec(struct db *db, const char *sql, const struct db_val *args,
    size_t nargs, unsigned long long *affected, unsigned long long *insert_id,
    struct sm_err *err);

/* Runs a query; then db_fetch fills cols row by row: 1 a row, 0 done, -1 error.
 * db_query_end must be called before the next statement on this db. */
int db_query(struct db *db, const char *sql, const struct db_val *args,
    size_t nargs, struct db_col *cols, size_t ncols, struct sm_err *err);
int db_fetch(struct db *db, struct sm_err *err);
void db_query_end(struct db *db);

/* Runs a query expected to return at most one row: 1 found, 0 none, -1 error. */
int db_query_row(struct db *db, const char *sql, const struct db_val *args,
    size_t nargs, struct db_col *cols, size_t ncols, struct sm_err *err);

/* Runs an administrative statement with no parameters (DDL of migrations,
 * GRANT).  Only for sealmailctl; the text must not contain outside input. */
int db_exec_ddl(struct db *db, const char *sql, struct sm_err *err);

/* The server error number of the last failure (0 if none). */
unsigned db_errno(const struct db *db);
/* Whether the last failure was the connection dropping, so the server may
 * or may not have carried the statement out. */
int db_conn_lost(const struct db *db);

/* Test seam: called with before=1 just before COMMIT is sent and before=0
 * right after it succeeded.  A hook returning -1 after a successful COMMIT
 * makes db_commit fail as if the connection had dropped before the reply
 * arrived: the one case a test cannot otherwise bring about on demand. */
typedef int (*db_commit_hook)(struct db *db, int before, void *arg);
void db_set_commit_hook(struct db *db, db_commit_hook hook, void *arg);
/* The server's id for this connection (for KILL in tests). */
unsigned long db_thread_id(const struct db *db);

#endif
