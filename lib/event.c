/* event.c - appends to the audit trail.
 * Outside text (user agent, client address) is reduced to printable ASCII
 * and bounded, so a hostile header can neither break the row nor the logs
 * that later print it.  The row's MAC is computed here, in the inserting
 * process, so no lock is shared between writers: chaining happens later,
 * off the hot path (audit.c). */
#include <stdint.h>
#include <stdio.h>
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

int
event_record(struct db *db, const struct event *ev, struct sm_err *err)
{
	static const char sql[] =
	    "INSERT INTO events (at, kind, lab_id, message_id, delivery_id,"
	    " client_addr, user_agent, detail, mac)"
	    " VALUES (?, ?, ?, ?, ?, ?, ?, ?, ?)";
	char addr[EVENT_ADDR_MAX + 1], ua[EVENT_UA_MAX + 1];
	char detail[EVENT_DETAIL_MAX + 1];
	unsigned char mac[EVENT_MAC_BYTES];
	struct event_row row;
	struct timespec ts;
	struct db_val args[9];

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
	row.client_addr = clean(ev->client_addr, addr, sizeof(addr));
	row.user_agent = clean(ev->user_agent, ua, sizeof(ua));
	row.detail = clean(ev->detail, detail, sizeof(detail));
	args[0] = DB_I(row.at);
	args[1] = DB_S(row.kind);
	args[2] = DB_I(row.lab_id);
	args[3] = DB_SNUL(row.message_id);
	args[4] = row.delivery_id > 0 ? DB_I(row.delivery_id) : DB_NUL;
	args[5] = DB_SNUL(row.client_addr);
	args[6] = DB_SNUL(row.user_agent);
	args[7] = DB_SNUL(row.detail);
	if (audit_key != NULL) {
		event_mac(audit_key, &row, mac);
		args[8] = DB_B(mac, sizeof(mac));
	} else
		args[8] = DB_NUL;
	return db_exec(db, sql, args, 9, NULL, NULL, err);
}
