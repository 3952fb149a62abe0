/* tracking.c - read-only queries over events, messages and deliveries.
 * The filters are optional parameters of one literal statement, so no SQL
 * text is ever built from input. */
#include <stdio.h>
#include <string.h>

#include "db.h"
#include "tracking.h"

int
track_events(struct db *db, const struct track_filter *f,
    int (*fn)(const struct track_event *ev, void *arg), void *arg,
    struct sm_err *err)
{
	static const char sql[] = "SELECT e.id, e.at, e.kind, l.name,"
	    " COALESCE(e.message_id, ''), COALESCE(e.delivery_id, 0),"
	    " COALESCE(d.address, ''), COALESCE(m.reference, ''),"
	    " COALESCE(e.client_addr, ''), COALESCE(e.user_agent, ''),"
	    " COALESCE(e.detail, '')"
	    " FROM events e JOIN labs l ON l.id = e.lab_id"
	    " LEFT JOIN messages m ON m.id = e.message_id"
	    " LEFT JOIN deliveries d ON d.id = e.delivery_id"
	    " WHERE (? = 0 OR e.lab_id = ?)"
	    " AND (? = '' OR e.message_id = ?)"
	    " AND (? = '' OR m.reference = ?)"
	    " AND (? = '' OR d.address = ? OR (e.delivery_id IS NULL AND"
	    "  e.message_id IN (SELECT message_id FROM deliveries"
	    "  WHERE address = ?)))"
	    " AND (? = 0 OR e.at >= ?) AND (? = 0 OR e.at < ?)"
	    " ORDER BY e.at, e.id LIMIT ? OFFSET ?";
	const char *mid = f->message_id ? f->message_id : "";
	const char *ref = f->reference ? f->reference : "";
	const char *rcpt = f->recipient ? f->recipient : "";
	long long since = f->since * 1000000LL, until = f->until * 1000000LL;
	long long limit = f->limit, page = f->page;
	struct track_event ev;
	struct db_val a[15];
	struct db_col c[11];
	int r;

	if (limit < 1 || limit > 10000 || page < 1 || page > 1000000) {
		sm_err_set(err, "limit must be 1..10000 and page 1..1000000");
		return -1;
	}
	a[0] = DB_I(f->lab_id);
	a[1] = DB_I(f->lab_id);
	a[2] = DB_S(mid);
	a[3] = DB_S(mid);
	a[4] = DB_S(ref);
	a[5] = DB_S(ref);
	a[6] = DB_S(rcpt);
	a[7] = DB_S(rcpt);
	a[8] = DB_S(rcpt);
	a[9] = DB_I(since);
	a[10] = DB_I(since);
	a[11] = DB_I(until);
	a[12] = DB_I(until);
	a[13] = DB_I(limit);
	a[14] = DB_I((page - 1) * limit);
	memset(&ev, 0, sizeof(ev));
	c[0] = DB_COL_I(&ev.id);
	c[1] = DB_COL_I(&ev.at_us);
	c[2] = DB_COL_S(ev.kind, sizeof(ev.kind));
	c[3] = DB_COL_S(ev.lab, sizeof(ev.lab));
	c[4] = DB_COL_S(ev.message_id, sizeof(ev.message_id));
	c[5] = DB_COL_I(&ev.delivery_id);
	c[6] = DB_COL_S(ev.address, sizeof(ev.address));
	c[7] = DB_COL_S(ev.reference, sizeof(ev.reference));
	c[8] = DB_COL_S(ev.client_addr, sizeof(ev.client_addr));
	c[9] = DB_COL_S(ev.user_agent, sizeof(ev.user_agent));
	c[10] = DB_COL_S(ev.detail, sizeof(ev.detail));
	if (db_query(db, sql, a, 15, c, 11, err) == -1)
		return -1;
	while ((r = db_fetch(db, err)) == 1) {
		if (fn(&ev, arg) == -1) {
			r = -1;
			sm_err_set(err, "output failed");
			break;
		}
	}
	db_query_end(db);
	return r == -1 ? -1 : 0;
}

int
track_message(struct db *db, long long lab_id, const char *id,
    struct track_message *out, struct sm_err *err)
{
	static const char sql[] = "SELECT m.id, m.lab_id, l.name, m.sender,"
	    " COALESCE(m.reference, ''), m.created, m.expires,"
	    " COALESCE(m.retracted, 0), COALESCE(m.purged, 0), m.size"
	    " FROM messages m JOIN labs l ON l.id = m.lab_id"
	    " WHERE m.id = ? AND (? = 0 OR m.lab_id = ?)";
	struct db_val a[3];
	struct db_col c[10];

	memset(out, 0, sizeof(*out));
	a[0] = DB_S(id);
	a[1] = DB_I(lab_id);
	a[2] = DB_I(lab_id);
	c[0] = DB_COL_S(out->id, sizeof(out->id));
	c[1] = DB_COL_I(&out->lab_id);
	c[2] = DB_COL_S(out->lab, sizeof(out->lab));
	c[3] = DB_COL_S(out->sender, sizeof(out->sender));
	c[4] = DB_COL_S(out->reference, sizeof(out->reference));
	c[5] = DB_COL_I(&out->created);
	c[6] = DB_COL_I(&out->expires);
	c[7] = DB_COL_I(&out->retracted);
	c[8] = DB_COL_I(&out->purged);
	c[9] = DB_COL_I(&out->size);
	return db_query_row(db, sql, a, 3, c, 10, err);
}

int
track_deliveries(struct db *db, const char *message_id,
    int (*fn)(const struct track_delivery *d, void *arg), void *arg,
    struct sm_err *err)
{
	static const char sql[] = "SELECT id, address, kind,"
	    " COALESCE(first_opened, 0), failed_attempts,"
	    " COALESCE(locked_until, 0), COALESCE(retracted, 0)"
	    " FROM deliveries WHERE message_id = ? ORDER BY id";
	struct track_delivery d;
	struct db_val a = DB_S(message_id);
	struct db_col c[7];
	int r;

	memset(&d, 0, sizeof(d));
	c[0] = DB_COL_I(&d.id);
	c[1] = DB_COL_S(d.address, sizeof(d.address));
	c[2] = DB_COL_S(d.kind, sizeof(d.kind));
	c[3] = DB_COL_I(&d.first_opened);
	c[4] = DB_COL_I(&d.failed_attempts);
	c[5] = DB_COL_I(&d.locked_until);
	c[6] = DB_COL_I(&d.retracted);
	if (db_query(db, sql, &a, 1, c, 7, err) == -1)
		return -1;
	while ((r = db_fetch(db, err)) == 1) {
		if (fn(&d, arg) == -1) {
			r = -1;
			sm_err_set(err, "output failed");
			break;
		}
	}
	db_query_end(db);
	return r == -1 ? -1 : 0;
}

int
track_csv_cell(const char *in, char *out, size_t cap)
{
	size_t o = 0;
	const char *p;

	if (cap < 3)
		return -1;
	out[o++] = '"';
	if (in[0] == '=' || in[0] == '+' || in[0] == '-' || in[0] == '@' ||
	    in[0] == '\t' || in[0] == '\r')
		out[o++] = '\'';
	for (p = in; *p != '\0'; p++) {
		size_t need = *p == '"' ? 2 : 1;

		if (o + need + 2 > cap)
			return -1;
		if (*p == '"')
			out[o++] = '"';
		out[o++] = *p;
	}
	out[o++] = '"';
	out[o] = '\0';
	return 0;
}
