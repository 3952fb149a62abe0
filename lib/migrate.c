/* migrate.c - applies the compiled-in migrations in order, each once.
 * A named lock keeps two sealmailctl runs from migrating at the same time.
 * MariaDB commits DDL implicitly, so a migration that fails half-way is
 * reported with its version and statement for the operator to repair. */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>

#include "buf.h"
#include "db.h"
#include "log.h"
#include "migrate.h"

static int
ensure_table(struct db *db, struct sm_err *err)
{
	return db_exec_ddl(db, "CREATE TABLE IF NOT EXISTS schema_migrations ("
	    " version INT UNSIGNED NOT NULL PRIMARY KEY,"
	    " name VARCHAR(255) NOT NULL,"
	    " applied BIGINT NOT NULL) ENGINE=InnoDB", err);
}

static int
is_applied(struct db *db, unsigned version, struct sm_err *err)
{
	static const char sql[] = "SELECT version FROM schema_migrations WHERE version = ?";
	struct db_val arg = DB_I(version);
	long long v;
	struct db_col c = DB_COL_I(&v);

	return db_query_row(db, sql, &arg, 1, &c, 1, err);
}

/* Runs the statements of one migration: each ends with ';' at the end of
 * a line; lines that start with "--" are comments. */
static int
apply(struct db *db, const struct migration *m, struct sm_err *err)
{
	static const char rec[] = "INSERT INTO schema_migrations"
	    " (version, name, applied) VALUES (?, ?, ?)";
	struct db_val args[3];
	struct buf stmt;
	const char *p = m->sql;
	int n = 0, rc = -1;

	buf_init(&stmt, 1 << 20);
	while (*p != '\0') {
		const char *nl = strchr(p, '\n');
		size_t len = nl ? (size_t)(nl - p) : strlen(p);
		const char *s = p, *e = p + len;

		while (s < e && (*s == ' ' || *s == '\t'))
			s++;
		while (e > s && (e[-1] == ' ' || e[-1] == '\t' || e[-1] == '\r'))
			e--;
		if (!(e - s >= 2 && s[0] == '-' && s[1] == '-') && e > s) {
			if (buf_append(&stmt, p, len) == -1 ||
			    buf_append(&stmt, "\n", 1) == -1) {
				sm_err_set(err, "migration %u: statement too long", m->version);
				goto out;
			}
			if (e[-1] == ';') {
				n++;
				stmt.len--;	/* the newline */
				if (db_exec_ddl(db, buf_cstr(&stmt), err) == -1) {
					struct sm_err inner = *err;

					sm_err_set(err, "migration %s, statement %d: %s",
					    m->name, n, inner.msg);
					goto out;
				}
				buf_reset(&stmt);
			}
		}
		p += len + (nl ? 1 : 0);
	}
	if (stmt.len > 0) {
		sm_err_set(err, "migration %s: last statement has no ';'", m->name);
		goto out;
	}
	args[0] = DB_I(m->version);
	args[1] = DB_S(m->name);
	args[2] = DB_I(time(NULL));
	if (db_exec(db, rec, args, 3, NULL, NULL, err) == -1)
		goto out;
	rc = 0;
out:
	buf_free(&stmt);
	return rc;
}

static int
lock(struct db *db, int take, struct sm_err *err)
{
	static const char get[] = "SELECT GET_LOCK('sealmail_migrate', 60)";
	static const char rel[] = "SELECT RELEASE_LOCK('sealmail_migrate')";
	long long got = 0;
	struct db_col c = DB_COL_I(&got);
	int rc;

	rc = db_query_row(db, take ? get : rel, NULL, 0, &c, 1, err);
	if (rc == 1 && take && got != 1) {
		sm_err_set(err, "another migration holds the lock");
		return -1;
	}
	return rc == 1 ? 0 : -1;
}

int
migrate_run(struct db *db, unsigned *applied, struct sm_err *err)
{
	unsigned i;
	int rc = -1;

	*applied = 0;
	if (lock(db, 1, err) == -1)
		return -1;
	if (ensure_table(db, err) == -1)
		goto out;
	for (i = 0; i < nmigrations; i++) {
		int have = is_applied(db, migrations[i].version, err);

		if (have == -1)
			goto out;
		if (have == 1)
			continue;
		if (apply(db, &migrations[i], err) == -1)
			goto out;
		log_event("migrated", "version=%u name=%s", migrations[i].version,
		    migrations[i].name);
		(*applied)++;
	}
	rc = 0;
out:
	{
		struct sm_err ignore;

		(void)lock(db, 0, &ignore);
	}
	return rc;
}

int
migrate_status(struct db *db, unsigned *current, unsigned *latest,
    struct sm_err *err)
{
	static const char sql[] = "SELECT COALESCE(MAX(version), 0) FROM schema_migrations";
	long long v = 0;
	struct db_col c = DB_COL_I(&v);

	*latest = nmigrations ? migrations[nmigrations - 1].version : 0;
	if (ensure_table(db, err) == -1 ||
	    db_query_row(db, sql, NULL, 0, &c, 1, err) != 1)
		return -1;
	*current = (unsigned)v;
	return 0;
}
