/* patient.c - what the flows of a patient's own secret share (the PIN of
 * pin.c, the password of register.c): reading their forms, storing the
 * first secret in the patient's recipients row, and letting the patient
 * in.  Never logs a secret, a key or an address. */
#include <stdio.h>
#include <string.h>

#include "config.h"
#include "csrf.h"
#include "db.h"
#include "form.h"
#include "log.h"
#include "page.h"
#include "patient.h"
#include "pickup.h"
#include "ratelimit.h"
#include "router.h"
#include "session.h"

/* The session cookie and the redirect to the message, as verify.c does. */
void
patient_open_message(struct ctx *c, const char *sess)
{
	char url[256];

	resp_headerf(c->w, "Set-Cookie", "%s=%s; Path=%s; Max-Age=%lld; HttpOnly;"
	    " Secure; SameSite=Strict", SESSION_COOKIE, sess, c->base,
	    config_int(c->p->cf, "portal.session_max"));
	resp_headerf(c->w, "Set-Cookie", "%s=; Path=%s; Max-Age=0; HttpOnly;"
	    " Secure; SameSite=Strict", CSRF_COOKIE, c->base);
	ctx_url(c, "/view", url, sizeof(url));
	resp_status(c->w, 303);
	resp_header(c->w, "Location", url);
	resp_header(c->w, "Content-Type", "text/plain; charset=utf-8");
}

int
patient_store_first(struct ctx *c, const char *kind, const char *hash,
    const char *recovery, long long *rid, struct sm_err *err)
{
	static const char upd[] = "UPDATE recipients SET answer_hash = ?,"
	    " recovery_email = ?, updated = ? WHERE id = ? AND kind = ?"
	    " AND (answer_hash IS NULL OR answer_hash = '')";
	static const char ins[] = "INSERT IGNORE INTO recipients (lab_id,"
	    " address, kind, answer_hash, recovery_email, created, updated)"
	    " VALUES (?, ?, ?, ?, ?, ?, ?)";
	static const char link[] = "UPDATE deliveries SET recipient_id = ?"
	    " WHERE id = ?";
	unsigned long long n = 0, id = 0;
	struct db_val a[7];
	long long now = (long long)c->p->now;

	if (c->l.sl.recipient_id != 0) {
		a[0] = DB_S(hash);
		a[1] = recovery != NULL ? DB_S(recovery) : DB_NUL;
		a[2] = DB_I(now);
		a[3] = DB_I(c->l.sl.recipient_id);
		a[4] = DB_S(kind);
		if (db_exec(c->p->db, upd, a, 5, &n, NULL, err) == -1)
			return -1;
		*rid = c->l.sl.recipient_id;
	} else {
		a[0] = DB_I(c->l.sl.lab_id);
		a[1] = DB_S(c->l.sl.address);
		a[2] = DB_S(kind);
		a[3] = DB_S(hash);
		a[4] = recovery != NULL ? DB_S(recovery) : DB_NUL;
		a[5] = DB_I(now);
		a[6] = DB_I(now);
		if (db_exec(c->p->db, ins, a, 7, &n, &id, err) == -1)
			return -1;
		*rid = (long long)id;
	}
	if (n != 1)
		return 1;
	a[0] = DB_I(*rid);
	a[1] = DB_I(c->l.sl.delivery_id);
	return db_exec(c->p->db, link, a, 2, NULL, NULL, err);
}

/* Reads a POSTed form: size, syntax, CSRF, then the per-client rate limit
 * of scope.  0 and *f filled, or -1 with the answer already written. */
int
patient_read_post(struct ctx *c, const char *scope, const char *method,
    struct form *f)
{
	struct portal *p = c->p;
	struct request *r = c->r;
	char pre[CSRF_COOKIE_CHARS + 2];
	unsigned char th[SM_HASH_BYTES];
	long long retry;
	struct sm_err err;
	struct buf body;
	const char *csrf;
	size_t csrflen = 0;
	int rc = -1, hit;

	buf_init(&body, (size_t)config_int(p->cf, "portal.max_form_bytes"));
	if (r->content_length > config_int(p->cf, "portal.max_form_bytes")) {
		page_notice(p, c->w, 413, "toolarge", c->lang, &c->b, c->base, NULL);
		goto out;
	}
	if (req_read_body(r, &body, body.max) == -1 ||
	    (r->content_type != NULL && strncasecmp(r->content_type,
	    "application/x-www-form-urlencoded", 33) != 0) ||
	    form_parse(f, body.p ? body.p : "", body.len) == -1) {
		page_notice(p, c->w, 400, "badrequest", c->lang, &c->b, c->base, NULL);
		goto out;
	}
	csrf = form_get(f, "csrf", &csrflen);
	if (cookie_get(r->cookie, CSRF_COOKIE, pre, sizeof(pre)) != 1 ||
	    token_hash(c->l.token, strlen(c->l.token), th) == -1 ||
	    csrf == NULL || csrf_check(p->csrf_key, th, pre, csrf, csrflen,
	    p->now, config_int(p->cf, "portal.csrf_lifetime")) == -1) {
		log_warn("csrf_failed", "delivery=%lld", c->l.sl.delivery_id);
		pickup_form_as(c, 403, "Csrf", method, form_get(f, "k", &csrflen));
		goto out;
	}
	hit = ratelimit_hit(p, scope, r->client_addr, &retry, &err);
	if (hit == -1) {
		ctx_unavailable(c, &err);
		goto out;
	}
	if (hit == 1) {
		char secs[32];

		snprintf(secs, sizeof(secs), "%lld", retry);
		resp_header(c->w, "Retry-After", secs);
		log_warn("rate_limited", "delivery=%lld scope=%s",
		    c->l.sl.delivery_id, scope);
		page_notice(p, c->w, 429, "ratelimited", c->lang, &c->b, c->base, NULL);
		goto out;
	}
	rc = 0;
out:
	buf_free(&body);
	return rc;
}
