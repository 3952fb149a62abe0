/* msglist.c - the paged list of a lab's messages.  One literal statement
 * with optional filters as bound parameters; lab_id is never optional. */
#include <string.h>

#include "db.h"
#include "msglist.h"

int
msglist_query(struct db *db, const struct msglist_filter *f,
    int (*fn)(const struct msglist_row *m, void *arg), void *arg,
    struct sm_err *err)
{
	static const char sql[] = "SELECT m.id, COALESCE(m.reference, ''),"
	    " m.sender, m.created, m.expires, COALESCE(m.retracted, 0),"
	    " COALESCE(m.purged, 0),"
	    " (SELECT COUNT(*) FROM deliveries d WHERE d.message_id = m.id),"
	    " (SELECT COUNT(*) FROM deliveries d WHERE d.message_id = m.id"
	    "  AND d.first_opened IS NOT NULL)"
	    " FROM messages m WHERE m.lab_id = ?"
	    " AND (? = '' OR m.reference = ?)"
	    " AND (? = '' OR m.id IN (SELECT message_id FROM deliveries"
	    "  WHERE address = ?))"
	    " AND (? = 0 OR m.created >= ?) AND (? = 0 OR m.created < ?)"
	    " ORDER BY m.created DESC, m.id DESC LIMIT ? OFFSET ?";
	const char *ref = f->reference ? f->reference : "";
	const char *rcpt = f->recipient ? f->recipient : "";
	struct msglist_row m;
	struct db_val a[11];
	struct db_col c[9];
	int r;

	if (f->lab_id <= 0 || f->limit < 1 || f->limit > 1000 || f->page < 1 ||
	    f->page > 1000000) {
		sm_err_set(err, "a lab, limit 1..1000 and page 1..1000000 are needed");
		return -1;
	}
	a[0] = DB_I(f->lab_id);
	a[1] = DB_S(ref);
	a[2] = DB_S(ref);
	a[3] = DB_S(rcpt);
	a[4] = DB_S(rcpt);
	a[5] = DB_I(f->since);
	a[6] = DB_I(f->since);
	a[7] = DB_I(f->until);
	a[8] = DB_I(f->until);
	a[9] = DB_I(f->limit);
	a[10] = DB_I((f->page - 1) * f->limit);
	memset(&m, 0, sizeof(m));
	c[0] = DB_COL_S(m.id, sizeof(m.id));
	c[1] = DB_COL_S(m.reference, sizeof(m.reference));
	c[2] = DB_COL_S(m.sender, sizeof(m.sender));
	c[3] = DB_COL_I(&m.created);
	c[4] = DB_COL_I(&m.expires);
	c[5] = DB_COL_I(&m.retracted);
	c[6] = DB_COL_I(&m.purged);
	c[7] = DB_COL_I(&m.recipients);
	c[8] = DB_COL_I(&m.opened);
	if (db_query(db, sql, a, 11, c, 9, err) == -1)
		return -1;
	while ((r = db_fetch(db, err)) == 1) {
		if (fn(&m, arg) == -1) {
			r = -1;
			sm_err_set(err, "output failed");
			break;
		}
	}
	db_query_end(db);
	return r == -1 ? -1 : 0;
}
