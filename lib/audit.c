/* audit.c - the hash chain over the events table.
 * chain_hash(n) = BLAKE2b keyed(chain_hash(n-1) || mac || id || seq), with
 * 32 zero bytes before the first row.  Each seal run also writes a MAC'd
 * audit_seals row naming its head, so cutting off the newest rows is seen.
 * This file only reads rows and sets seq/chain_hash/mac on rows not yet
 * chained; it never changes a chained row. */
#include <stdint.h>
#include <stdio.h>
#include <string.h>
#include <time.h>

#include <sodium.h>

#include "audit.h"
#include "db.h"
#include "event.h"
#include "log.h"

#define CHAIN_PREFIX "sealmail-chain-v1"
#define SEAL_PREFIX "sealmail-seal-v1"
#define BATCH 500

const char *
audit_problem_name(enum audit_problem p)
{
	switch (p) {
	case AUDIT_OK: return "ok";
	case AUDIT_ALTERED: return "altered";
	case AUDIT_DELETED: return "deleted";
	case AUDIT_REORDERED: return "reordered";
	case AUDIT_INSERTED: return "inserted";
	}
	return "unknown";
}

static void
be64(unsigned char b[8], long long v)
{
	uint64_t u = (uint64_t)v;
	int i;

	for (i = 7; i >= 0; i--) {
		b[i] = (unsigned char)(u & 0xff);
		u >>= 8;
	}
}

static void
chain_next(const unsigned char *key, const unsigned char prev[32],
    const unsigned char mac[32], long long id, long long seq,
    unsigned char out[32])
{
	crypto_generichash_state st;
	unsigned char b[8];

	(void)crypto_generichash_init(&st, key, SM_AUDIT_KEY_BYTES, 32);
	(void)crypto_generichash_update(&st, (const unsigned char *)CHAIN_PREFIX,
	    sizeof(CHAIN_PREFIX) - 1);
	(void)crypto_generichash_update(&st, prev, 32);
	(void)crypto_generichash_update(&st, mac, 32);
	be64(b, id);
	(void)crypto_generichash_update(&st, b, 8);
	be64(b, seq);
	(void)crypto_generichash_update(&st, b, 8);
	(void)crypto_generichash_final(&st, out, 32);
}

static void
seal_mac(const unsigned char *key, long long at, long long first_seq,
    long long last_seq, long long last_id, const unsigned char head[32],
    unsigned char out[32])
{
	crypto_generichash_state st;
	unsigned char b[8];

	(void)crypto_generichash_init(&st, key, SM_AUDIT_KEY_BYTES, 32);
	(void)crypto_generichash_update(&st, (const unsigned char *)SEAL_PREFIX,
	    sizeof(SEAL_PREFIX) - 1);
	be64(b, at);
	(void)crypto_generichash_update(&st, b, 8);
	be64(b, first_seq);
	(void)crypto_generichash_update(&st, b, 8);
	be64(b, last_seq);
	(void)crypto_generichash_update(&st, b, 8);
	be64(b, last_id);
	(void)crypto_generichash_update(&st, b, 8);
	(void)crypto_generichash_update(&st, head, 32);
	(void)crypto_generichash_final(&st, out, 32);
}

/* One row as read back, with room for every column. */
struct rowbuf {
	long long id, at, lab_id, delivery_id, seq;
	char kind[EVENT_KIND_MAX + 1];
	char message_id[SM_ID_HEX];
	char client_addr[EVENT_ADDR_MAX + 1];
	char user_agent[EVENT_UA_MAX + 1];
	char detail[EVENT_DETAIL_MAX + 1];
	unsigned char mac[EVENT_MAC_BYTES];
	unsigned char chain[32];
};

static const char rows_sql[] = "SELECT id, at, kind, lab_id, message_id,"
    " delivery_id, client_addr, user_agent, detail, mac, seq, chain_hash"
    " FROM events WHERE id > ? ORDER BY id LIMIT 500";

static void
rowbuf_bind(struct rowbuf *r, struct db_col cols[12])
{
	cols[0] = DB_COL_I(&r->id);
	cols[1] = DB_COL_I(&r->at);
	cols[2] = DB_COL_S(r->kind, sizeof(r->kind));
	cols[3] = DB_COL_I(&r->lab_id);
	cols[4] = DB_COL_S(r->message_id, sizeof(r->message_id));
	cols[5] = DB_COL_I(&r->delivery_id);
	cols[6] = DB_COL_S(r->client_addr, sizeof(r->client_addr));
	cols[7] = DB_COL_S(r->user_agent, sizeof(r->user_agent));
	cols[8] = DB_COL_S(r->detail, sizeof(r->detail));
	cols[9] = DB_COL_B(r->mac, sizeof(r->mac));
	cols[10] = DB_COL_I(&r->seq);
	cols[11] = DB_COL_B(r->chain, sizeof(r->chain));
}

/* A fetched row copied out of the bind buffers, with its NULL flags. */
struct row {
	struct rowbuf b;
	int mac_null, seq_null, chain_null;
	int mid_null, addr_null, ua_null, detail_null;
	size_t mac_len, chain_len;
};

static void
row_take(struct row *out, const struct rowbuf *rb, const struct db_col *c)
{
	out->b = *rb;
	out->mid_null = c[4].is_null;
	out->addr_null = c[6].is_null;
	out->ua_null = c[7].is_null;
	out->detail_null = c[8].is_null;
	out->mac_null = c[9].is_null;
	out->mac_len = c[9].len;
	out->seq_null = c[10].is_null;
	out->chain_null = c[11].is_null;
	out->chain_len = c[11].len;
}

static void
row_event(const struct row *r, struct event_row *e)
{
	memset(e, 0, sizeof(*e));
	e->id = r->b.id;
	e->at = r->b.at;
	e->kind = r->b.kind;
	e->lab_id = r->b.lab_id;
	e->message_id = r->mid_null ? NULL : r->b.message_id;
	e->delivery_id = r->b.delivery_id;
	e->client_addr = r->addr_null ? NULL : r->b.client_addr;
	e->user_agent = r->ua_null ? NULL : r->b.user_agent;
	e->detail = r->detail_null ? NULL : r->b.detail;
}

/* 1 when the row's MAC is present and right, 0 when wrong or absent. */
static int
row_mac_ok(const unsigned char *key, const struct row *r)
{
	unsigned char mac[EVENT_MAC_BYTES];
	struct event_row e;

	if (r->mac_null || r->mac_len != EVENT_MAC_BYTES)
		return 0;
	row_event(r, &e);
	event_mac(key, &e, mac);
	return sodium_memcmp(mac, r->b.mac, sizeof(mac)) == 0;
}

/* Reads up to BATCH rows after id into rows[]; *n is how many. */
static int
read_batch(struct db *db, long long after, struct row *rows, size_t *n,
    struct sm_err *err)
{
	struct rowbuf rb;
	struct db_col cols[12];
	struct db_val arg = DB_I(after);
	int r;

	*n = 0;
	rowbuf_bind(&rb, cols);
	if (db_query(db, rows_sql, &arg, 1, cols, 12, err) == -1)
		return -1;
	while ((r = db_fetch(db, err)) == 1 && *n < BATCH)
		row_take(&rows[(*n)++], &rb, cols);
	db_query_end(db);
	return r == -1 ? -1 : 0;
}

struct last_seal {
	int found;
	long long at, first_seq, last_seq, last_id;
	unsigned char head[32], mac[32];
};

static int
read_last_seal(struct db *db, struct last_seal *s, struct sm_err *err)
{
	static const char sql[] = "SELECT at, first_seq, last_seq,"
	    " last_event_id, head, mac FROM audit_seals ORDER BY id DESC LIMIT 1";
	struct db_col c[6];
	int r;

	memset(s, 0, sizeof(*s));
	c[0] = DB_COL_I(&s->at);
	c[1] = DB_COL_I(&s->first_seq);
	c[2] = DB_COL_I(&s->last_seq);
	c[3] = DB_COL_I(&s->last_id);
	c[4] = DB_COL_B(s->head, sizeof(s->head));
	c[5] = DB_COL_B(s->mac, sizeof(s->mac));
	r = db_query_row(db, sql, NULL, 0, c, 6, err);
	if (r == -1)
		return -1;
	s->found = r == 1;
	return 0;
}

static int
seal_record_ok(const unsigned char *key, const struct last_seal *s)
{
	unsigned char mac[32];

	seal_mac(key, s->at, s->first_seq, s->last_seq, s->last_id, s->head, mac);
	return sodium_memcmp(mac, s->mac, sizeof(mac)) == 0;
}

/* Fills the first problem; the format stays a literal at each call. */
#define REPORT(rep, p, id, sq, ...) do {				\
	(rep)->problem = (p);						\
	(rep)->event_id = (id);						\
	(rep)->seq = (sq);						\
	snprintf((rep)->what, sizeof((rep)->what), __VA_ARGS__);	\
} while (0)

static int
get_lock(struct db *db, struct sm_err *err)
{
	static const char sql[] = "SELECT GET_LOCK('sealmail_audit_seal', 30)";
	long long got = 0;
	struct db_col c = DB_COL_I(&got);

	if (db_query_row(db, sql, NULL, 0, &c, 1, err) != 1)
		return -1;
	if (got != 1) {
		sm_err_set(err, "another audit seal is running");
		return -1;
	}
	return 0;
}

static void
release_lock(struct db *db)
{
	static const char sql[] = "SELECT RELEASE_LOCK('sealmail_audit_seal')";
	long long got = 0;
	struct db_col c = DB_COL_I(&got);
	struct sm_err e;

	(void)db_query_row(db, sql, NULL, 0, &c, 1, &e);
}

/* The newest chained row: its seq, id and chain hash (zeros and 0 if none). */
static int
read_head(struct db *db, long long *seq, long long *id, unsigned char h[32],
    struct sm_err *err)
{
	static const char sql[] = "SELECT seq, id, chain_hash FROM events"
	    " WHERE seq IS NOT NULL ORDER BY seq DESC LIMIT 1";
	struct db_col c[3];
	int r;

	*seq = 0;
	*id = 0;
	memset(h, 0, 32);
	c[0] = DB_COL_I(seq);
	c[1] = DB_COL_I(id);
	c[2] = DB_COL_B(h, 32);
	r = db_query_row(db, sql, NULL, 0, c, 3, err);
	if (r == 1 && c[2].len != 32) {
		sm_err_set(err, "event %lld: chain hash damaged; run audit verify",
		    *id);
		return -1;
	}
	return r == -1 ? -1 : 0;
}

int
audit_seal(struct db *db, const unsigned char key[SM_AUDIT_KEY_BYTES],
    long long grace_secs, unsigned long long *nsealed,
    struct audit_report *rep, struct sm_err *err)
{
	static const char upd[] = "UPDATE events SET mac = ?, seq = ?,"
	    " chain_hash = ? WHERE id = ? AND seq IS NULL";
	static const char ins[] = "INSERT INTO audit_seals (at, first_seq,"
	    " last_seq, last_event_id, head, mac) VALUES (?, ?, ?, ?, ?, ?)";
	struct row *rows = NULL;
	struct last_seal ls;
	struct timespec ts;
	unsigned char head[32], smac[32];
	long long seq, last_id, cutoff, now;
	int locked = 0, done = 0, rc = -1;
	size_t n, i;

	memset(rep, 0, sizeof(*rep));
	*nsealed = 0;
	if (clock_gettime(CLOCK_REALTIME, &ts) == -1) {
		sm_err_set(err, "clock unavailable");
		return -1;
	}
	now = (long long)ts.tv_sec;
	/* In microseconds like events.at, so a grace of 0 covers rows
	 * written this very second too. */
	cutoff = (long long)ts.tv_sec * 1000000LL + ts.tv_nsec / 1000 -
	    grace_secs * 1000000LL;
	rows = sodium_allocarray(BATCH, sizeof(*rows));
	if (rows == NULL) {
		sm_err_set(err, "out of memory");
		return -1;
	}
	if (get_lock(db, err) == -1)
		goto out;
	locked = 1;
	if (read_head(db, &seq, &last_id, head, err) == -1 ||
	    read_last_seal(db, &ls, err) == -1)
		goto out;
	/* Extend only a chain whose head is the one the last seal wrote:
	 * otherwise sealing would bless whatever was done to it. */
	if (ls.found != (seq > 0) || (ls.found && (!seal_record_ok(key, &ls) ||
	    ls.last_seq != seq || ls.last_id != last_id ||
	    sodium_memcmp(ls.head, head, 32) != 0))) {
		sm_err_set(err, "the chain head does not match the last seal "
		    "record: run `sealmailctl audit verify`");
		goto out;
	}
	while (!done) {
		long long first = seq + 1;
		size_t nup = 0;

		if (read_batch(db, last_id, rows, &n, err) == -1)
			goto out;
		if (n == 0)
			break;
		if (db_begin(db, err) == -1)
			goto out;
		for (i = 0; i < n; i++) {
			struct row *r = &rows[i];
			struct db_val a[4];
			unsigned char next[32];

			if (r->b.at >= cutoff) {
				done = 1;
				break;
			}
			if (!r->seq_null) {
				db_rollback(db);
				sm_err_set(err, "event %lld is chained but lies "
				    "past the head: run `sealmailctl audit "
				    "verify`", r->b.id);
				goto out;
			}
			if (r->mac_null) {
				struct event_row e;

				/* A program without the audit key wrote it;
				 * from now on it is protected. */
				row_event(r, &e);
				event_mac(key, &e, r->b.mac);
				rep->unmacd++;
			} else if (!row_mac_ok(key, r)) {
				db_rollback(db);
				REPORT(rep, AUDIT_ALTERED, r->b.id, 0,
				    "event %lld does not match its MAC", r->b.id);
				sm_err_set(err, "event %lld does not match its MAC:"
				    " not sealing an altered row", r->b.id);
				goto out;
			}
			seq++;
			chain_next(key, head, r->b.mac, r->b.id, seq, next);
			a[0] = DB_B(r->b.mac, EVENT_MAC_BYTES);
			a[1] = DB_I(seq);
			a[2] = DB_B(next, 32);
			a[3] = DB_I(r->b.id);
			if (db_exec(db, upd, a, 4, NULL, NULL, err) == -1) {
				db_rollback(db);
				goto out;
			}
			memcpy(head, next, 32);
			last_id = r->b.id;
			nup++;
		}
		if (nup == 0) {
			db_rollback(db);
			break;
		}
		{
			struct db_val a[6];

			seal_mac(key, now, first, seq, last_id, head, smac);
			a[0] = DB_I(now);
			a[1] = DB_I(first);
			a[2] = DB_I(seq);
			a[3] = DB_I(last_id);
			a[4] = DB_B(head, 32);
			a[5] = DB_B(smac, 32);
			if (db_exec(db, ins, a, 6, NULL, NULL, err) == -1) {
				db_rollback(db);
				goto out;
			}
		}
		if (db_commit(db, err) == -1)
			goto out;
		*nsealed += nup;
	}
	rep->head_seq = seq;
	memcpy(rep->head, head, 32);
	rc = 0;
out:
	if (locked)
		release_lock(db);
	sodium_free(rows);
	return rc;
}

/* 1 when some row holds seq (a row moved rather than removed). */
static int
seq_exists(struct db *db, long long seq, struct sm_err *err)
{
	static const char sql[] = "SELECT id FROM events WHERE seq = ?";
	long long id;
	struct db_val a = DB_I(seq);
	struct db_col c = DB_COL_I(&id);

	return db_query_row(db, sql, &a, 1, &c, 1, err);
}

int
audit_verify(struct db *db, const unsigned char key[SM_AUDIT_KEY_BYTES],
    long long anchor_seq, const unsigned char *anchor,
    struct audit_report *rep, struct sm_err *err)
{
	struct row *rows = NULL;
	struct last_seal ls;
	unsigned char chain[32], next[32];
	long long after = 0, seq = 0, last_sealed_id = 0;
	int anchor_seen = 0, rc = -1;
	size_t n, i;

	memset(rep, 0, sizeof(*rep));
	memset(chain, 0, sizeof(chain));
	rows = sodium_allocarray(BATCH, sizeof(*rows));
	if (rows == NULL) {
		sm_err_set(err, "out of memory");
		return -1;
	}
	if (read_last_seal(db, &ls, err) == -1)
		goto out;
	if (ls.found && !seal_record_ok(key, &ls)) {
		REPORT(rep, AUDIT_ALTERED, ls.last_id, ls.last_seq,
		    "the last seal record (up to event %lld, seq %lld) does "
		    "not match its MAC", ls.last_id, ls.last_seq);
		goto done;
	}
	if (ls.found)
		last_sealed_id = ls.last_id;
	for (;;) {
		if (read_batch(db, after, rows, &n, err) == -1)
			goto out;
		if (n == 0)
			break;
		for (i = 0; i < n; i++) {
			const struct row *r = &rows[i];
			long long id = r->b.id;

			after = id;
			rep->rows++;
			if (!r->seq_null && (r->mac_null ||
			    r->mac_len != EVENT_MAC_BYTES)) {
				REPORT(rep, AUDIT_ALTERED, id, r->b.seq,
				    "event %lld (seq %lld): its MAC was removed",
				    id, r->b.seq);
				goto done;
			}
			if (r->mac_null) {
				rep->unmacd++;
			} else if (!row_mac_ok(key, r)) {
				REPORT(rep, AUDIT_ALTERED, id, r->seq_null ? 0 :
				    r->b.seq, "event %lld was altered: its "
				    "content does not match its MAC (seq %lld)",
				    id, r->seq_null ? 0 : r->b.seq);
				goto done;
			}
			if (r->seq_null) {
				if (id < last_sealed_id) {
					REPORT(rep, AUDIT_INSERTED, id, 0,
					    "event %lld was inserted among sealed "
					    "rows (sealed up to event %lld)", id,
					    last_sealed_id);
					goto done;
				}
				continue;
			}
			rep->sealed++;
			if (r->b.seq <= seq) {
				REPORT(rep, AUDIT_REORDERED, id, r->b.seq,
				    "event %lld carries seq %lld, out of order",
				    id, r->b.seq);
				goto done;
			}
			if (r->b.seq > seq + 1) {
				int e = seq_exists(db, seq + 1, err);

				if (e == -1)
					goto out;
				REPORT(rep, e ? AUDIT_REORDERED : AUDIT_DELETED,
				    id, seq + 1, e ? "event %lld: sealed rows "
				    "were moved (seq %lld is elsewhere)" :
				    "event %lld: the sealed row before it (seq "
				    "%lld) was deleted", id, seq + 1);
				goto done;
			}
			chain_next(key, chain, r->b.mac, id, r->b.seq, next);
			if (r->chain_null || r->chain_len != 32 ||
			    sodium_memcmp(next, r->b.chain, 32) != 0) {
				REPORT(rep, AUDIT_REORDERED, id, r->b.seq,
				    "event %lld (seq %lld) breaks the chain: rows "
				    "were reordered or the chain rewritten", id,
				    r->b.seq);
				goto done;
			}
			memcpy(chain, next, 32);
			seq = r->b.seq;
			if (anchor != NULL && seq == anchor_seq) {
				anchor_seen = 1;
				if (sodium_memcmp(chain, anchor, 32) != 0) {
					REPORT(rep, AUDIT_REORDERED, id, seq,
					    "event %lld: the chain differs from "
					    "the anchor at seq %lld", id, seq);
					goto done;
				}
			}
		}
	}
	if (ls.found && seq < ls.last_seq) {
		REPORT(rep, AUDIT_DELETED, ls.last_id, seq + 1,
		    "the newest sealed rows were deleted (sealed up to event "
		    "%lld, found seq %lld)", ls.last_id, seq);
		goto done;
	}
	if (ls.found && seq > 0 && sodium_memcmp(chain, ls.head, 32) != 0 &&
	    seq == ls.last_seq) {
		REPORT(rep, AUDIT_REORDERED, ls.last_id, seq,
		    "the chain head differs from the last seal record (event "
		    "%lld, seq %lld)", ls.last_id, seq);
		goto done;
	}
	if (anchor != NULL && !anchor_seen) {
		REPORT(rep, AUDIT_DELETED, 0, anchor_seq,
		    "the anchor's seq %lld is gone: sealed rows were deleted",
		    anchor_seq);
		goto done;
	}
done:
	rep->head_seq = seq;
	memcpy(rep->head, chain, 32);
	rc = 0;
out:
	sodium_free(rows);
	return rc;
}
