/* admin_session.c - hashed admin sessions in MariaDB.  The user's lab,
 * role and disabled flag are read with the session on every request, so
 * a disabled user is out at once. */
#include <string.h>

#include <sodium.h>

#include "admin_session.h"
#include "config.h"
#include "db.h"

#define TOUCH_SECS 30

static int
id_hash(const char *text, unsigned char h[SM_HASH_BYTES])
{
	unsigned char raw[32];
	size_t n;

	if (strlen(text) != SESSION_CHARS ||
	    sodium_base642bin(raw, sizeof(raw), text, SESSION_CHARS, NULL, &n,
	    NULL, sodium_base64_VARIANT_URLSAFE_NO_PADDING) != 0 ||
	    n != sizeof(raw))
		return -1;
	crypto_generichash(h, SM_HASH_BYTES, raw, sizeof(raw), NULL, 0);
	sodium_memzero(raw, sizeof(raw));
	return 0;
}

int
adminsess_create(struct portal *p, long long user_id,
    char text[SESSION_CHARS + 1], struct sm_err *err)
{
	static const char sql[] = "INSERT INTO admin_sessions (id_hash,"
	    " user_id, created, last_seen, expires) VALUES (?, ?, ?, ?, ?)";
	static const char gc[] = "DELETE FROM admin_sessions WHERE expires < ?";
	unsigned char raw[32], h[SM_HASH_BYTES];
	struct db_val args[5];
	struct sm_err ignored;

	randombytes_buf(raw, sizeof(raw));
	sodium_bin2base64(text, SESSION_CHARS + 1, raw, sizeof(raw),
	    sodium_base64_VARIANT_URLSAFE_NO_PADDING);
	crypto_generichash(h, sizeof(h), raw, sizeof(raw), NULL, 0);
	sodium_memzero(raw, sizeof(raw));
	args[0] = DB_B(h, sizeof(h));
	args[1] = DB_I(user_id);
	args[2] = DB_I(p->now);
	args[3] = DB_I(p->now);
	args[4] = DB_I(p->now + config_int(p->cf, "portal.session_max"));
	if (db_exec(p->db, sql, args, 5, NULL, NULL, err) == -1)
		return -1;
	args[0] = DB_I(p->now);
	(void)db_exec(p->db, gc, args, 1, NULL, NULL, &ignored);
	return 0;
}

int
adminsess_check(struct admin *a, struct sm_err *err)
{
	static const char sel[] = "SELECT s.last_seen, s.expires, u.id,"
	    " u.lab_id, u.login, u.role, COALESCE(u.disabled, 0)"
	    " FROM admin_sessions s JOIN lab_users u ON u.id = s.user_id"
	    " WHERE s.id_hash = ?";
	static const char touch[] = "UPDATE admin_sessions SET last_seen = ?"
	    " WHERE id_hash = ?";
	static const char del[] = "DELETE FROM admin_sessions WHERE id_hash = ?";
	struct portal *p = a->p;
	char text[SESSION_CHARS + 2], role[16];
	long long seen, expires, uid, lab, disabled;
	struct db_val args[2];
	struct db_col c[7];
	int rc;

	if (cookie_get(a->r->cookie, ADMIN_COOKIE, text, sizeof(text)) != 1 ||
	    id_hash(text, a->sid_hash) == -1)
		return 0;
	args[0] = DB_B(a->sid_hash, SM_HASH_BYTES);
	c[0] = DB_COL_I(&seen);
	c[1] = DB_COL_I(&expires);
	c[2] = DB_COL_I(&uid);
	c[3] = DB_COL_I(&lab);
	c[4] = DB_COL_S(a->login, sizeof(a->login));
	c[5] = DB_COL_S(role, sizeof(role));
	c[6] = DB_COL_I(&disabled);
	rc = db_query_row(p->db, sel, args, 1, c, 7, err);
	if (rc != 1)
		return rc;
	if (p->now >= expires || disabled != 0 ||
	    p->now - seen > config_int(p->cf, "portal.session_idle") ||
	    labuser_role_parse(role, &a->role) == -1) {
		if (db_exec(p->db, del, args, 1, NULL, NULL, err) == -1)
			return -1;
		return 0;
	}
	if (p->now - seen >= TOUCH_SECS) {
		args[0] = DB_I(p->now);
		args[1] = DB_B(a->sid_hash, SM_HASH_BYTES);
		if (db_exec(p->db, touch, args, 2, NULL, NULL, err) == -1)
			return -1;
	}
	a->user_id = uid;
	a->lab_id = lab;
	a->logged_in = 1;
	return 1;
}

int
adminsess_delete(struct admin *a, struct sm_err *err)
{
	static const char del[] = "DELETE FROM admin_sessions WHERE id_hash = ?";
	struct db_val arg = DB_B(a->sid_hash, SM_HASH_BYTES);

	return db_exec(a->p->db, del, &arg, 1, NULL, NULL, err);
}
