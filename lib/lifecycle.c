/* lifecycle.c - retract, expire, unlock and purge.
 * Each change and its event commit together, so the audit trail never
 * misses a change nor records one that did not happen.  A row of another
 * lab is reported exactly like a missing one. */
#include <stdio.h>
#include <string.h>
#include <time.h>

#include "crypto.h"
#include "db.h"
#include "event.h"
#include "expiry.h"
#include "lifecycle.h"

#define PURGE_BATCH 100

static int
record(struct db *db, const char *kind, long long lab_id, const char *msg,
    long long delivery, const struct actor *who, const char *what,
    struct sm_err *err)
{
	char detail[EVENT_DETAIL_MAX + 1];
	struct event ev;

	snprintf(detail, sizeof(detail), "%s%sby=%s", what ? what : "",
	    what ? " " : "", who && who->by ? who->by : "unknown");
	memset(&ev, 0, sizeof(ev));
	ev.kind = kind;
	ev.lab_id = lab_id;
	ev.message_id = msg;
	ev.delivery_id = delivery;
	ev.client_addr = who ? who->client_addr : NULL;
	ev.user_agent = who ? who->user_agent : NULL;
	ev.detail = detail;
	return event_record(db, &ev, err);
}

static int
id_ok(const char *id, struct sm_err *err)
{
	unsigned char raw[SM_ID_BYTES];

	if (id == NULL || msgid_parse(id, raw) == -1) {
		sm_err_set(err, "a message id is 32 lowercase hex digits");
		return 0;
	}
	return 1;
}

/* Locks the message row for the transaction; LC_NOTFOUND when absent or
 * another lab's. */
static int
lock_message(struct db *db, long long lab_id, const char *id,
    long long *owner, long long *retracted, long long *purged,
    long long *expires, struct sm_err *err)
{
	static const char sql[] = "SELECT lab_id, COALESCE(retracted, 0),"
	    " COALESCE(purged, 0), expires FROM messages WHERE id = ?"
	    " AND (? = 0 OR lab_id = ?) FOR UPDATE";
	struct db_val a[3];
	struct db_col c[4];
	int r;

	a[0] = DB_S(id);
	a[1] = DB_I(lab_id);
	a[2] = DB_I(lab_id);
	c[0] = DB_COL_I(owner);
	c[1] = DB_COL_I(retracted);
	c[2] = DB_COL_I(purged);
	c[3] = DB_COL_I(expires);
	r = db_query_row(db, sql, a, 3, c, 4, err);
	if (r == 0) {
		sm_err_set(err, "no message %s", id);
		return LC_NOTFOUND;
	}
	return r == 1 ? 0 : -1;
}

/* Sets retracted on the row SQL names by KEY and records the event; the
 * caller holds the row lock and commits. */
static int
mark_retracted(struct db *db, const char *sql, struct db_val key,
    long long owner, const char *msg, long long delivery,
    const struct actor *who, struct sm_err *err)
{
	struct db_val a[2];

	a[0] = DB_I(time(NULL));
	a[1] = key;
	if (db_exec(db, sql, a, 2, NULL, NULL, err) == -1)
		return -1;
	return record(db, "retracted", owner, msg, delivery, who, NULL, err);
}

int
lifecycle_retract_message(struct db *db, long long lab_id,
    const char *message_id, const struct actor *who, int *changed,
    struct sm_err *err)
{
	static const char sql[] = "UPDATE messages SET retracted = ?"
	    " WHERE id = ? AND retracted IS NULL";
	long long owner, retracted, purged, expires;
	int r;

	*changed = 0;
	if (!id_ok(message_id, err))
		return LC_NOTFOUND;
	if (db_begin(db, err) == -1)
		return -1;
	r = lock_message(db, lab_id, message_id, &owner, &retracted, &purged,
	    &expires, err);
	if (r != 0)
		goto fail;
	if (retracted == 0) {
		if (mark_retracted(db, sql, DB_S(message_id), owner, message_id,
		    0, who, err) == -1) {
			r = -1;
			goto fail;
		}
		*changed = 1;
	}
	if (db_commit(db, err) == -1) {
		r = -1;
		goto fail;
	}
	return 0;
fail:
	db_rollback(db);
	*changed = 0;
	return r;
}

int
lifecycle_retract_reference(struct db *db, long long lab_id,
    const char *reference, const struct actor *who, size_t *n,
    struct sm_err *err)
{
	static const char sql[] = "SELECT id FROM messages WHERE lab_id = ?"
	    " AND reference = ? AND retracted IS NULL ORDER BY created LIMIT 1000";
	char ids[64][SM_ID_HEX];
	char id[SM_ID_HEX];
	struct db_val a[2];
	struct db_col c = DB_COL_S(id, sizeof(id));
	size_t k, got;
	int r = 0, changed;

	*n = 0;
	if (lab_id <= 0 || reference == NULL || reference[0] == '\0' ||
	    strlen(reference) > 200) {
		sm_err_set(err, "retracting by reference needs a lab and a "
		    "reference of 1 to 200 characters");
		return -1;
	}
	/* In rounds: each message is its own transaction, so a failure
	 * half-way leaves whole messages retracted, never half a message. */
	do {
		got = 0;
		a[0] = DB_I(lab_id);
		a[1] = DB_S(reference);
		if (db_query(db, sql, a, 2, &c, 1, err) == -1)
			return -1;
		while (got < 64 && (r = db_fetch(db, err)) == 1)
			memcpy(ids[got++], id, SM_ID_HEX);
		db_query_end(db);
		if (got < 64 && r == -1)
			return -1;
		for (k = 0; k < got; k++) {
			if (lifecycle_retract_message(db, lab_id, ids[k], who,
			    &changed, err) < 0)
				return -1;
			*n += (size_t)changed;
		}
	} while (got == 64);
	if (*n == 0) {
		sm_err_set(err, "no unretracted message with that reference");
		return LC_NOTFOUND;
	}
	return 0;
}

static int
lock_delivery(struct db *db, long long lab_id, long long delivery_id,
    long long *owner, char msg[SM_ID_HEX], long long *retracted,
    struct sm_err *err)
{
	static const char sql[] = "SELECT m.lab_id, d.message_id,"
	    " COALESCE(d.retracted, 0) FROM deliveries d"
	    " JOIN messages m ON m.id = d.message_id"
	    " WHERE d.id = ? AND (? = 0 OR m.lab_id = ?) FOR UPDATE";
	struct db_val a[3];
	struct db_col c[3];
	int r;

	a[0] = DB_I(delivery_id);
	a[1] = DB_I(lab_id);
	a[2] = DB_I(lab_id);
	c[0] = DB_COL_I(owner);
	c[1] = DB_COL_S(msg, SM_ID_HEX);
	c[2] = DB_COL_I(retracted);
	r = db_query_row(db, sql, a, 3, c, 3, err);
	if (r == 0) {
		sm_err_set(err, "no delivery %lld", delivery_id);
		return LC_NOTFOUND;
	}
	return r == 1 ? 0 : -1;
}

int
lifecycle_retract_delivery(struct db *db, long long lab_id,
    long long delivery_id, const struct actor *who, int *changed,
    struct sm_err *err)
{
	static const char sql[] = "UPDATE deliveries SET retracted = ?"
	    " WHERE id = ? AND retracted IS NULL";
	char msg[SM_ID_HEX];
	long long owner, retracted;
	int r;

	*changed = 0;
	if (db_begin(db, err) == -1)
		return -1;
	r = lock_delivery(db, lab_id, delivery_id, &owner, msg, &retracted, err);
	if (r != 0)
		goto fail;
	if (retracted == 0) {
		if (mark_retracted(db, sql, DB_I(delivery_id), owner, msg,
		    delivery_id, who, err) == -1) {
			r = -1;
			goto fail;
		}
		*changed = 1;
	}
	if (db_commit(db, err) == -1) {
		r = -1;
		goto fail;
	}
	return 0;
fail:
	db_rollback(db);
	*changed = 0;
	return r;
}

int
lifecycle_set_expiry(struct db *db, long long lab_id,
    const char *message_id, time_t expires, const struct actor *who,
    struct sm_err *err)
{
	static const char sql[] = "UPDATE messages SET expires = ? WHERE id = ?";
	const time_t now = time(NULL);
	long long owner, retracted, purged, old;
	char what[64];
	struct db_val a[2];
	int r;

	if (!id_ok(message_id, err))
		return LC_NOTFOUND;
	/* The same bounds expiry_parse enforces, for callers that bring a
	 * time of their own (the API's JSON). */
	if (expires < now + EXPIRY_MIN_SECS - 60 ||
	    expires > now + 3660LL * 24 * 3600) {
		sm_err_set(err, "expiry must lie 1 day to 10 years ahead");
		return -1;
	}
	if (db_begin(db, err) == -1)
		return -1;
	r = lock_message(db, lab_id, message_id, &owner, &retracted, &purged,
	    &old, err);
	if (r != 0)
		goto fail;
	if (purged != 0 || retracted != 0) {
		sm_err_set(err, "message %s is %s: its expiry cannot change",
		    message_id, purged ? "purged" : "retracted");
		r = -1;
		goto fail;
	}
	snprintf(what, sizeof(what), "expires=%lld was=%lld",
	    (long long)expires, old);
	a[0] = DB_I(expires);
	a[1] = DB_S(message_id);
	if (db_exec(db, sql, a, 2, NULL, NULL, err) == -1 ||
	    record(db, "expiry_changed", owner, message_id, 0, who, what,
	    err) == -1 || db_commit(db, err) == -1) {
		r = -1;
		goto fail;
	}
	return 0;
fail:
	db_rollback(db);
	return r;
}

int
lifecycle_unlock(struct db *db, long long lab_id, long long delivery_id,
    const struct actor *who, struct sm_err *err)
{
	static const char sql[] = "UPDATE deliveries SET failed_attempts = 0,"
	    " locked_until = NULL WHERE id = ?";
	char msg[SM_ID_HEX];
	long long owner, retracted;
	struct db_val a;
	int r;

	if (db_begin(db, err) == -1)
		return -1;
	r = lock_delivery(db, lab_id, delivery_id, &owner, msg, &retracted, err);
	if (r != 0)
		goto fail;
	a = DB_I(delivery_id);
	if (db_exec(db, sql, &a, 1, NULL, NULL, err) == -1 ||
	    record(db, "unlocked", owner, msg, delivery_id, who, NULL,
	    err) == -1 || db_commit(db, err) == -1) {
		r = -1;
		goto fail;
	}
	return 0;
fail:
	db_rollback(db);
	return r;
}

int
lifecycle_purge_message(struct db *db, const char *message_id,
    const struct actor *who, struct sm_err *err)
{
	static const char upd[] = "UPDATE messages SET sealed_key = NULL,"
	    " purged = ? WHERE id = ?";
	static const char del[] = "DELETE FROM message_chunks WHERE message_id = ?";
	long long owner, retracted, purged, expires;
	const time_t now = time(NULL);
	unsigned long long nchunks = 0;
	char what[64];
	struct db_val a[2];
	int r;

	if (!id_ok(message_id, err))
		return LC_NOTFOUND;
	if (db_begin(db, err) == -1)
		return -1;
	r = lock_message(db, 0, message_id, &owner, &retracted, &purged,
	    &expires, err);
	if (r != 0)
		goto fail;
	if (purged != 0 || (retracted == 0 && expires > now)) {
		sm_err_set(err, "message %s is %s", message_id, purged ?
		    "purged already" : "neither expired nor retracted");
		r = LC_NOTFOUND;
		goto fail;
	}
	a[0] = DB_I(now);
	a[1] = DB_S(message_id);
	if (db_exec(db, upd, a, 2, NULL, NULL, err) == -1 ||
	    db_exec(db, del, &a[1], 1, &nchunks, NULL, err) == -1) {
		r = -1;
		goto fail;
	}
	snprintf(what, sizeof(what), "chunks=%llu reason=%s", nchunks,
	    retracted ? "retracted" : "expired");
	if (record(db, "purged", owner, message_id, 0, who, what, err) == -1 ||
	    db_commit(db, err) == -1) {
		r = -1;
		goto fail;
	}
	return 0;
fail:
	db_rollback(db);
	return r;
}

int
lifecycle_purge_due(struct db *db, time_t now, int dry_run,
    void (*fn)(const char *message_id, void *arg), void *arg,
    const struct actor *who, size_t *n, struct sm_err *err)
{
	static const char sql[] = "SELECT id FROM messages WHERE purged IS NULL"
	    " AND (retracted IS NOT NULL OR expires <= ?) AND id > ?"
	    " ORDER BY id LIMIT 100";
	char ids[PURGE_BATCH][SM_ID_HEX];
	char id[SM_ID_HEX], after[SM_ID_HEX] = "";
	struct db_val a[2];
	struct db_col c = DB_COL_S(id, sizeof(id));
	size_t k, got;
	int r = 0;

	*n = 0;
	do {
		got = 0;
		a[0] = DB_I(now);
		a[1] = DB_S(after);
		if (db_query(db, sql, a, 2, &c, 1, err) == -1)
			return -1;
		while (got < PURGE_BATCH && (r = db_fetch(db, err)) == 1)
			memcpy(ids[got++], id, SM_ID_HEX);
		db_query_end(db);
		if (r == -1)
			return -1;
		for (k = 0; k < got; k++) {
			if (fn != NULL)
				fn(ids[k], arg);
			if (!dry_run) {
				r = lifecycle_purge_message(db, ids[k], who, err);
				if (r == -1)
					return -1;
				if (r == LC_NOTFOUND)
					continue;	/* someone else purged it */
			}
			(*n)++;
		}
		if (got > 0)
			memcpy(after, ids[got - 1], SM_ID_HEX);
	} while (got == PURGE_BATCH);
	return 0;
}
