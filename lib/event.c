/* event.c - appends to the audit trail.
 * Outside text (user agent, client address) is reduced to printable ASCII
 * and bounded, so a hostile header can neither break the row nor the logs
 * that later print it.  The row's MAC is computed here, in the inserting
 * process, so no lock is shared between writers: chaining happens later,
 * off the hot path (audit.c). */
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>

#include <sodium.h>

#include "crypto.h"
#include "db.h"
#include "event.h"
#include "log.h"

#define MAC_PREFIX "sealmail-event-v1"

static const char *const kinds[] = {
	"sealed", "notified", "notify_failed", "link_fetched", "verify_failed",
	"verified", "viewed", "downloaded", "locked", "unlocked", "retracted",
	"expiry_changed", "purged", "tamper_detected",
	/* SMS notices and patient-set PINs and passwords (issue 3) */
	"sms_queued", "sms_sent", "sms_failed", "pin_set", "pin_recovery_sent",
	"pin_reset", "code_sent", "code_failed", "password_set",
	"password_reset_sent", "password_changed",
};

/* Set once before threads start, read-only afterwards. */
static unsigned char *audit_key;

int
event_kind_valid(const char *kind)
{
	size_t i;

	for (i = 0; kind != NULL && i < sizeof(kinds) / sizeof(kinds[0]); i++)
		if (strcmp(kinds[i], kind) == 0)
			return 1;
	return 0;
}

int
event_audit_key_set(const struct keyring *kr, struct sm_err *err)
{
	const unsigned char *k = keyring_audit_key(kr);

	if (k == NULL) {
		sm_err_set(err, "the audit key is not loaded (KEY_AUDIT)");
		return -1;
	}
	event_audit_key_clear();
	audit_key = sodium_malloc(SM_AUDIT_KEY_BYTES);
	if (audit_key == NULL) {
		sm_err_set(err, "out of memory for the audit key");
		return -1;
	}
	memcpy(audit_key, k, SM_AUDIT_KEY_BYTES);
	(void)sodium_mprotect_readonly(audit_key);
	return 0;
}

void
event_audit_key_clear(void)
{
	sodium_free(audit_key);
	audit_key = NULL;
}

int
event_audit_key_loaded(void)
{
	return audit_key != NULL;
}

static void
mac_int(crypto_generichash_state *st, long long v)
{
	unsigned char b[8];
	uint64_t u = (uint64_t)v;
	int i;

	for (i = 7; i >= 0; i--) {
		b[i] = (unsigned char)(u & 0xff);
		u >>= 8;
	}
	(void)crypto_generichash_update(st, b, sizeof(b));
}

/* Presence flag and length first: NULL, "" and "a","b" vs "ab","" all
 * encode differently. */
static void
mac_str(crypto_generichash_state *st, const char *s)
{
	unsigned char flag = s != NULL;

	(void)crypto_generichash_update(st, &flag, 1);
	if (s == NULL)
		return;
	mac_int(st, (long long)strlen(s));
	(void)crypto_generichash_update(st, (const unsigned char *)s, strlen(s));
}

void
event_mac(const unsigned char key[SM_AUDIT_KEY_BYTES],
    const struct event_row *r, unsigned char mac[EVENT_MAC_BYTES])
{
	crypto_generichash_state st;

	(void)crypto_generichash_init(&st, key, SM_AUDIT_KEY_BYTES,
	    EVENT_MAC_BYTES);
	(void)crypto_generichash_update(&st, (const unsigned char *)MAC_PREFIX,
	    sizeof(MAC_PREFIX) - 1);
	mac_int(&st, r->at);
	mac_str(&st, r->kind);
	mac_int(&st, r->lab_id);
	mac_str(&st, r->message_id);
	mac_int(&st, r->delivery_id > 0 ? r->delivery_id : 0);
	mac_str(&st, r->client_addr);
	mac_str(&st, r->user_agent);
	mac_str(&st, r->detail);
	(void)crypto_generichash_final(&st, mac, EVENT_MAC_BYTES);
	sodium_memzero(&st, sizeof(st));
}

/* Copies at most cap-1 printable ASCII bytes; others become '?'. */
static const char *
clean(const char *in, char *out, size_t cap)
{
	size_t i;

	if (in == NULL)
		return NULL;
	for (i = 0; in[i] != '\0' && i + 1 < cap; i++) {
		unsigned char c = (unsigned char)in[i];

		out[i] = (c >= 0x20 && c < 0x7f) ? (char)c : '?';
	}
	/* MariaDB keeps trailing spaces in VARCHAR, but a row must read back
	 * byte for byte as it was MAC'd, so none are stored at all. */
	while (i > 0 && out[i - 1] == ' ')
		i--;
	out[i] = '\0';
	return out;
}

/* Validates ev, cleans its text into q, stamps the time and MACs it: the
 * row exactly as it will be stored, whenever that is. */
static int
prepare(const struct event *ev, struct event_queued *q, struct sm_err *err)
{
	struct event_row row;
	struct timespec ts;

	if (!event_kind_valid(ev->kind)) {
		sm_err_set(err, "unknown event kind");
		return -1;
	}
	if (ev->message_id != NULL && strlen(ev->message_id) != SM_ID_HEX - 1) {
		sm_err_set(err, "event: malformed message id");
		return -1;
	}
	if (clock_gettime(CLOCK_REALTIME, &ts) == -1) {
		sm_err_set(err, "clock unavailable");
		return -1;
	}
	memset(&row, 0, sizeof(row));
	row.at = (long long)ts.tv_sec * 1000000 + ts.tv_nsec / 1000;
	row.kind = ev->kind;
	row.lab_id = ev->lab_id;
	row.message_id = ev->message_id;
	row.delivery_id = ev->delivery_id > 0 ? ev->delivery_id : 0;
	row.client_addr = clean(ev->client_addr, q->addr, sizeof(q->addr));
	row.user_agent = clean(ev->user_agent, q->ua, sizeof(q->ua));
	row.detail = clean(ev->detail, q->detail, sizeof(q->detail));
	q->at = row.at;
	snprintf(q->kind, sizeof(q->kind), "%s", ev->kind);
	q->lab_id = row.lab_id;
	q->has_msg = ev->message_id != NULL;
	if (q->has_msg)
		memcpy(q->msg, ev->message_id, SM_ID_HEX);
	q->delivery_id = row.delivery_id;
	q->has_addr = row.client_addr != NULL;
	q->has_ua = row.user_agent != NULL;
	q->has_detail = row.detail != NULL;
	q->has_mac = audit_key != NULL;
	if (q->has_mac)
		event_mac(audit_key, &row, q->mac);
	return 0;
}

#define EVENT_COLS 9
#define EVENT_INSERT "INSERT INTO events (at, kind, lab_id, message_id," \
	" delivery_id, client_addr, user_agent, detail, mac) VALUES "
#define EVENT_TUPLE "(?, ?, ?, ?, ?, ?, ?, ?, ?)"

/* One statement text per row count, made once: db.c caches prepared
 * statements by the text's address. */
static const char *
insert_sql(size_t n)
{
	static char *sql[EVENT_BATCH_MAX + 1];
	static const char head[] = EVENT_INSERT, tuple[] = EVENT_TUPLE;
	size_t i, o;
	char *t;

	if (n == 0 || n > EVENT_BATCH_MAX)
		return NULL;
	if (sql[n] != NULL)
		return sql[n];
	t = malloc(sizeof(head) + n * (sizeof(tuple) + 1));
	if (t == NULL)
		return NULL;
	memcpy(t, head, sizeof(head) - 1);
	o = sizeof(head) - 1;
	for (i = 0; i < n; i++) {
		if (i > 0)
			t[o++] = ',';
		memcpy(t + o, tuple, sizeof(tuple) - 1);
		o += sizeof(tuple) - 1;
	}
	t[o] = '\0';
	sql[n] = t;
	return t;
}

/* One INSERT for n rows: one round trip and one commit however many. */
static int
insert(struct db *db, const struct event_queued *q, size_t n,
    struct sm_err *err)
{
	struct db_val args[EVENT_BATCH_MAX * EVENT_COLS], *a = args;
	const char *sql = insert_sql(n);
	size_t i;

	if (sql == NULL) {
		sm_err_set(err, "out of memory for the event statement");
		return -1;
	}
	for (i = 0; i < n; i++, q++) {
		*a++ = DB_I(q->at);
		*a++ = DB_S(q->kind);
		*a++ = DB_I(q->lab_id);
		*a++ = q->has_msg ? DB_S(q->msg) : DB_NUL;
		*a++ = q->delivery_id > 0 ? DB_I(q->delivery_id) : DB_NUL;
		*a++ = q->has_addr ? DB_S(q->addr) : DB_NUL;
		*a++ = q->has_ua ? DB_S(q->ua) : DB_NUL;
		*a++ = q->has_detail ? DB_S(q->detail) : DB_NUL;
		*a++ = q->has_mac ? DB_B(q->mac, EVENT_MAC_BYTES) : DB_NUL;
	}
	return db_exec(db, sql, args, (int)(n * EVENT_COLS), NULL, NULL, err);
}

int
event_record(struct db *db, const struct event *ev, struct sm_err *err)
{
	struct event_queued q;

	if (prepare(ev, &q, err) == -1)
		return -1;
	return insert(db, &q, 1, err);
}

int
event_batch_add(struct event_batch *b, const struct event *ev,
    struct sm_err *err)
{
	if (b->n == EVENT_BATCH_MAX) {
		sm_err_set(err, "event batch full");
		return -1;
	}
	if (prepare(ev, &b->q[b->n], err) == -1)
		return -1;
	b->n++;
	return 0;
}

long long
event_batch_oldest(const struct event_batch *b)
{
	return b->n > 0 ? b->q[0].at : 0;
}

int
event_batch_flush(struct db *db, struct event_batch *b, struct sm_err *err)
{
	int rc = 0;

	if (b->n > 0)
		rc = insert(db, b->q, b->n, err);
	/* Kept on failure they would be retried into a database that may
	 * have taken them already (a lost reply); the caller logs the loss. */
	b->n = 0;
	return rc;
}
