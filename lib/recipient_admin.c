/* recipient_admin.c - reading and deleting recipients rows for a lab.
 * Every query is scoped by lab_id, so one lab never sees another's. */
#include <string.h>

#include "db.h"
#include "recipient_admin.h"

int
recipient_list(struct db *db, long long lab_id, long long offset,
    long long limit, int (*fn)(const struct recipient_info *r, void *arg),
    void *arg, struct sm_err *err)
{
	static const char sql[] = "SELECT address, kind, COALESCE(question, ''),"
	    " answer_hash IS NOT NULL AND answer_hash <> '',"
	    " COALESCE(recovery_email, ''), created, updated"
	    " FROM recipients WHERE lab_id = ? ORDER BY address LIMIT ? OFFSET ?";
	struct recipient_info r;
	long long has = 0;
	struct db_val a[3];
	struct db_col c[7];
	int rc;

	if (limit < 1 || limit > 100000 || offset < 0) {
		sm_err_set(err, "limit must be 1..100000 and offset not negative");
		return -1;
	}
	memset(&r, 0, sizeof(r));
	a[0] = DB_I(lab_id);
	a[1] = DB_I(limit);
	a[2] = DB_I(offset);
	c[0] = DB_COL_S(r.address, sizeof(r.address));
	c[1] = DB_COL_S(r.kind, sizeof(r.kind));
	c[2] = DB_COL_S(r.question, sizeof(r.question));
	c[3] = DB_COL_I(&has);
	c[4] = DB_COL_S(r.recovery_email, sizeof(r.recovery_email));
	c[5] = DB_COL_I(&r.created);
	c[6] = DB_COL_I(&r.updated);
	if (db_query(db, sql, a, 3, c, 7, err) == -1)
		return -1;
	while ((rc = db_fetch(db, err)) == 1) {
		r.answer_set = has != 0;
		if (fn(&r, arg) == -1) {
			sm_err_set(err, "output failed");
			rc = -1;
			break;
		}
	}
	db_query_end(db);
	return rc == -1 ? -1 : 0;
}

int
recipient_delete(struct db *db, long long lab_id, const char *address,
    struct sm_err *err)
{
	static const char sql[] = "DELETE FROM recipients WHERE lab_id = ?"
	    " AND address = ?";
	unsigned long long n = 0;
	struct db_val a[2];

	a[0] = DB_I(lab_id);
	a[1] = DB_S(address);
	if (db_exec(db, sql, a, 2, &n, NULL, err) == -1)
		return -1;
	if (n == 0) {
		sm_err_set(err, "no such recipient");
		return RADMIN_NOTFOUND;
	}
	return 0;
}
