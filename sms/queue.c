/* queue.c - claiming and settling rows of sms_queue.  Claiming pushes
 * next_attempt forward by a lease under a conditional UPDATE: exactly one
 * sender wins a row, and a sender that dies mid-send leaves the row due
 * again once the lease ends (at worst an SMS twice, never none).  The
 * outcome and its event commit together. */
#include <stdio.h>
#include <string.h>

#include "db.h"
#include "event.h"
#include "queue.h"

int
queue_due(struct db *db, time_t now, long long *ids, size_t cap, size_t *n,
    struct sm_err *err)
{
	static const char sql[] = "SELECT id FROM sms_queue"
	    " WHERE state = 'queued' AND next_attempt <= ?"
	    " ORDER BY next_attempt, id LIMIT ?";
	struct db_val a[2];
	struct db_col c[1];
	long long id = 0;
	int r;

	*n = 0;
	a[0] = DB_I(now);
	a[1] = DB_I(cap);
	c[0] = DB_COL_I(&id);
	if (db_query(db, sql, a, 2, c, 1, err) == -1)
		return -1;
	while ((r = db_fetch(db, err)) == 1)
		if (*n < cap)
			ids[(*n)++] = id;
	db_query_end(db);
	return r == -1 ? -1 : 0;
}

int
queue_claim(struct db *db, long long id, time_t now, int lease,
    struct queue_row *row, struct sm_err *err)
{
	static const char upd[] = "UPDATE sms_queue SET next_attempt = ?"
	    " WHERE id = ? AND state = 'queued' AND next_attempt <= ?";
	static const char sel[] = "SELECT lab_id, message_id, delivery_id,"
	    " phone, sealed_text, attempts, created FROM sms_queue WHERE id = ?";
	unsigned long long affected = 0;
	long long attempts = 0;
	struct db_val a[3];
	struct db_col c[7];
	int r;

	memset(row, 0, sizeof(*row));
	a[0] = DB_I(now + lease);
	a[1] = DB_I(id);
	a[2] = DB_I(now);
	if (db_exec(db, upd, a, 3, &affected, NULL, err) == -1)
		return -1;
	if (affected != 1)
		return 0;
	row->id = id;
	c[0] = DB_COL_I(&row->lab_id);
	c[1] = DB_COL_S(row->message_id, sizeof(row->message_id));
	c[2] = DB_COL_I(&row->delivery_id);
	c[3] = DB_COL_S(row->phone, sizeof(row->phone));
	c[4] = DB_COL_B(row->sealed, sizeof(row->sealed));
	c[5] = DB_COL_I(&attempts);
	c[6] = DB_COL_I(&row->created);
	r = db_query_row(db, sel, a + 1, 1, c, 7, err);
	if (r != 1) {
		if (r == 0)
			sm_err_set(err, "sms %lld vanished after its claim", id);
		return -1;
	}
	row->sealed_len = c[4].len;
	row->attempts = (int)attempts;
	return 1;
}

long long
queue_backoff(const struct queue_policy *qp, int attempts)
{
	long long d = qp->retry_min;
	int i;

	for (i = 1; i < attempts && d < qp->retry_max; i++)
		d *= 2;
	return d < qp->retry_max ? d : qp->retry_max;
}

static int
settle(struct db *db, const struct queue_row *row, const char *sql,
    const struct db_val *a, size_t na, const char *kind, const char *detail,
    struct sm_err *err)
{
	unsigned long long affected = 0;
	struct event ev;

	if (db_begin(db, err) == -1)
		return -1;
	if (db_exec(db, sql, a, na, &affected, NULL, err) == -1)
		goto fail;
	memset(&ev, 0, sizeof(ev));
	ev.kind = kind;
	ev.lab_id = row->lab_id;
	ev.message_id = row->message_id;
	ev.delivery_id = row->delivery_id;
	ev.detail = detail;
	if (event_record(db, &ev, err) == -1 || db_commit(db, err) == -1)
		goto fail;
	return 0;
fail:
	db_rollback(db);
	return -1;
}

int
queue_mark_sent(struct db *db, const struct queue_row *row, time_t now,
    const char *reason, struct sm_err *err)
{
	static const char sql[] = "UPDATE sms_queue SET state = 'sent',"
	    " sent = ?, attempts = attempts + 1, last_error = NULL WHERE id = ?";
	struct db_val a[2];
	char detail[128];

	snprintf(detail, sizeof(detail), "sms=%lld attempt=%d %s", row->id,
	    row->attempts + 1, reason);
	a[0] = DB_I(now);
	a[1] = DB_I(row->id);
	return settle(db, row, sql, a, 2, "sms_sent", detail, err);
}

int
queue_mark_failed(struct db *db, const struct queue_row *row, time_t now,
    const struct queue_policy *qp, int permanent, const char *reason,
    int *final, struct sm_err *err)
{
	static const char retry[] = "UPDATE sms_queue SET attempts = attempts + 1,"
	    " next_attempt = ?, last_error = ? WHERE id = ?";
	static const char fail[] = "UPDATE sms_queue SET state = 'failed',"
	    " attempts = attempts + 1, last_error = ? WHERE id = ?";
	int attempts = row->attempts + 1;
	long long wait = queue_backoff(qp, attempts);
	struct db_val a[3];
	char detail[160];

	*final = permanent || now + wait - row->created > qp->max_age;
	if (*final) {
		snprintf(detail, sizeof(detail), "sms=%lld attempt=%d %s final=1",
		    row->id, attempts, reason);
		a[0] = DB_S(reason);
		a[1] = DB_I(row->id);
		return settle(db, row, fail, a, 2, "sms_failed", detail, err);
	}
	snprintf(detail, sizeof(detail), "sms=%lld attempt=%d %s retry_in=%lld",
	    row->id, attempts, reason, wait);
	a[0] = DB_I(now + wait);
	a[1] = DB_S(reason);
	a[2] = DB_I(row->id);
	return settle(db, row, retry, a, 3, "sms_failed", detail, err);
}
