/* session.c - hashed, delivery-bound sessions in MariaDB.  A cookie that
 * was issued for another link, expired, or was never issued gets 0, and
 * the caller sends the patient back to the verification form. */
#include <string.h>

#include <sodium.h>

#include "config.h"
#include "db.h"
#include "form.h"
#include "session.h"

/* last_seen is written at most this often: a page with an iframe and a
 * few downloads should not be a burst of UPDATEs. */
#define TOUCH_SECS 30

static int
id_hash(const char *text, unsigned char h[32])
{
	unsigned char raw[32];
	size_t n;

	if (strlen(text) != SESSION_CHARS ||
	    sodium_base642bin(raw, sizeof(raw), text, SESSION_CHARS, NULL, &n,
	    NULL, sodium_base64_VARIANT_URLSAFE_NO_PADDING) != 0 ||
	    n != sizeof(raw))
		return -1;
	crypto_generichash(h, 32, raw, sizeof(raw), NULL, 0);
	sodium_memzero(raw, sizeof(raw));
	return 0;
}

int
session_create(struct portal *p, long long delivery_id,
    char text[SESSION_CHARS + 1], struct sm_err *err)
{
	static const char sql[] = "INSERT INTO sessions (id_hash, delivery_id,"
	    " created, last_seen, expires) VALUES (?, ?, ?, ?, ?)";
	static const char gc[] = "DELETE FROM sessions WHERE expires < ?";
	unsigned char raw[32], h[32];
	struct db_val args[5];

	randombytes_buf(raw, sizeof(raw));
	sodium_bin2base64(text, SESSION_CHARS + 1, raw, sizeof(raw),
	    sodium_base64_VARIANT_URLSAFE_NO_PADDING);
	crypto_generichash(h, sizeof(h), raw, sizeof(raw), NULL, 0);
	sodium_memzero(raw, sizeof(raw));
	args[0] = DB_B(h, sizeof(h));
	args[1] = DB_I(delivery_id);
	args[2] = DB_I(p->now);
	args[3] = DB_I(p->now);
	args[4] = DB_I(p->now + config_int(p->cf, "portal.session_max"));
	if (db_exec(p->db, sql, args, 5, NULL, NULL, err) == -1)
		return -1;
	/* Expired rows go now and then; idle ones die on their next use. */
	if (randombytes_uniform(32) == 0) {
		struct db_val a = DB_I(p->now);
		struct sm_err ignored;

		(void)db_exec(p->db, gc, &a, 1, NULL, NULL, &ignored);
	}
	return 0;
}

int
session_check(struct portal *p, const char *cookie_header,
    long long delivery_id, struct sm_err *err)
{
	static const char sel[] = "SELECT delivery_id, last_seen, expires"
	    " FROM sessions WHERE id_hash = ?";
	static const char touch[] = "UPDATE sessions SET last_seen = ?"
	    " WHERE id_hash = ?";
	static const char del[] = "DELETE FROM sessions WHERE id_hash = ?";
	char text[SESSION_CHARS + 2];
	unsigned char h[32];
	long long did, seen, expires;
	struct db_val args[2];
	struct db_col c[3];
	int rc;

	if (cookie_get(cookie_header, SESSION_COOKIE, text, sizeof(text)) != 1 ||
	    id_hash(text, h) == -1)
		return 0;
	args[0] = DB_B(h, sizeof(h));
	c[0] = DB_COL_I(&did);
	c[1] = DB_COL_I(&seen);
	c[2] = DB_COL_I(&expires);
	rc = db_query_row(p->db, sel, args, 1, c, 3, err);
	if (rc != 1)
		return rc;
	if (p->now >= expires ||
	    p->now - seen > config_int(p->cf, "portal.session_idle")) {
		if (db_exec(p->db, del, args, 1, NULL, NULL, err) == -1)
			return -1;
		return 0;
	}
	/* A cookie lifted from another link's path is worth nothing here. */
	if (did != delivery_id)
		return 0;
	if (p->now - seen >= TOUCH_SECS) {
		args[0] = DB_I(p->now);
		args[1] = DB_B(h, sizeof(h));
		if (db_exec(p->db, touch, args, 2, NULL, NULL, err) == -1)
			return -1;
	}
	return 1;
}
