/* event.c - appends to the audit trail.
 * Outside text (user agent, client address) is reduced to printable ASCII
 * and bounded, so a hostile header can neither break the row nor the logs
 * that later print it. */
#include <stdio.h>
#include <string.h>
#include <time.h>

#include "db.h"
#include "event.h"

static const char *const kinds[] = {
	"sealed", "notified", "notify_failed", "link_fetched", "verify_failed",
	"verified", "viewed", "downloaded", "locked", "unlocked", "retracted",
	"expiry_changed", "purged", "tamper_detected",
};

int
event_kind_valid(const char *kind)
{
	size_t i;

	for (i = 0; kind != NULL && i < sizeof(kinds) / sizeof(kinds[0]); i++)
		if (strcmp(kinds[i], kind) == 0)
			return 1;
	return 0;
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
	out[i] = '\0';
	return out;
}

int
event_record(struct db *db, const struct event *ev, struct sm_err *err)
{
	static const char sql[] =
	    "INSERT INTO events (at, kind, lab_id, message_id, delivery_id,"
	    " client_addr, user_agent, detail) VALUES (?, ?, ?, ?, ?, ?, ?, ?)";
	char addr[65], ua[256], detail[256];
	struct timespec ts;
	const char *a, *u, *d;
	struct db_val args[8];

	if (!event_kind_valid(ev->kind)) {
		sm_err_set(err, "unknown event kind");
		return -1;
	}
	if (clock_gettime(CLOCK_REALTIME, &ts) == -1) {
		sm_err_set(err, "clock unavailable");
		return -1;
	}
	a = clean(ev->client_addr, addr, sizeof(addr));
	u = clean(ev->user_agent, ua, sizeof(ua));
	d = clean(ev->detail, detail, sizeof(detail));
	args[0] = DB_I((long long)ts.tv_sec * 1000000 + ts.tv_nsec / 1000);
	args[1] = DB_S(ev->kind);
	args[2] = DB_I(ev->lab_id);
	args[3] = DB_SNUL(ev->message_id);
	args[4] = ev->delivery_id > 0 ? DB_I(ev->delivery_id) : DB_NUL;
	args[5] = DB_SNUL(a);
	args[6] = DB_SNUL(u);
	args[7] = DB_SNUL(d);
	return db_exec(db, sql, args, 8, NULL, NULL, err);
}
