/* pin.c - setting, recovering and resetting a patient's PIN.  The PIN is
 * Argon2id over the peppered pre-hash (answer.c), kept in the patient's
 * recipients row (kind pin), so later messages to the same address ask
 * for it.  Setting it needs the link (the SMS) and is possible only while
 * none is set; changing it needs the link and a one-time key mailed to
 * the recovery email.  Logs and events carry ids only: never a PIN, a key,
 * an address or a link. */
#include <stdio.h>
#include <string.h>

#include <sodium.h>

#include "answer.h"
#include "config.h"
#include "csrf.h"
#include "db.h"
#include "form.h"
#include "log.h"
#include "mail.h"
#include "page.h"
#include "pickup.h"
#include "pin.h"
#include "ratelimit.h"
#include "recipient_import.h"
#include "router.h"
#include "session.h"

int
pin_format_ok(const char *s, size_t n)
{
	size_t i;

	if (s == NULL || n < PIN_MIN || n > PIN_MAX)
		return 0;
	for (i = 0; i < n; i++)
		if (s[i] < '0' || s[i] > '9')
			return 0;
	return 1;
}

/* The session cookie and the redirect to the message, as verify.c does. */
static void
open_message(struct ctx *c, const char *sess)
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

/* Checks the two PIN fields; an error key for the form, or NULL. */
static const char *
pin_fields(const struct form *f, const char **pin, size_t *plen)
{
	const char *pin2;
	size_t len2 = 0;

	*pin = form_get(f, "pin", plen);
	pin2 = form_get(f, "pin2", &len2);
	if (!pin_format_ok(*pin, *plen))
		return "PinFormat";
	if (pin2 == NULL || len2 != *plen || sodium_memcmp(*pin, pin2, len2) != 0)
		return "PinMismatch";
	return NULL;
}

/* Stores the first PIN: a new recipients row, or the pin row the lab
 * uploaded without one.  0 done, 1 a PIN was set meanwhile, -1 error. */
static int
store_first_pin(struct ctx *c, const char *hash, const char *recovery,
    long long *rid, struct sm_err *err)
{
	static const char upd[] = "UPDATE recipients SET answer_hash = ?,"
	    " recovery_email = ?, updated = ? WHERE id = ? AND kind = 'pin'"
	    " AND (answer_hash IS NULL OR answer_hash = '')";
	static const char ins[] = "INSERT IGNORE INTO recipients (lab_id,"
	    " address, kind, answer_hash, recovery_email, created, updated)"
	    " VALUES (?, ?, 'pin', ?, ?, ?, ?)";
	static const char link[] = "UPDATE deliveries SET recipient_id = ?"
	    " WHERE id = ?";
	unsigned long long n = 0, id = 0;
	struct db_val a[6];
	long long now = (long long)c->p->now;

	if (c->l.sl.recipient_id != 0) {
		a[0] = DB_S(hash);
		a[1] = DB_S(recovery);
		a[2] = DB_I(now);
		a[3] = DB_I(c->l.sl.recipient_id);
		if (db_exec(c->p->db, upd, a, 4, &n, NULL, err) == -1)
			return -1;
		*rid = c->l.sl.recipient_id;
	} else {
		a[0] = DB_I(c->l.sl.lab_id);
		a[1] = DB_S(c->l.sl.address);
		a[2] = DB_S(hash);
		a[3] = DB_S(recovery);
		a[4] = DB_I(now);
		a[5] = DB_I(now);
		if (db_exec(c->p->db, ins, a, 6, &n, &id, err) == -1)
			return -1;
		*rid = (long long)id;
	}
	if (n != 1)
		return 1;
	a[0] = DB_I(*rid);
	a[1] = DB_I(c->l.sl.delivery_id);
	return db_exec(c->p->db, link, a, 2, NULL, NULL, err);
}

void
pin_set_post(struct ctx *c, const struct form *f)
{
	struct portal *p = c->p;
	char hash[SM_ANSWER_HASH_TEXT], sess[SESSION_CHARS + 1], detail[64];
	const char *pin, *rec, *bad;
	size_t plen = 0, rlen = 0;
	struct sm_err err;
	long long rid = 0;
	int r;

	memset(hash, 0, sizeof(hash));
	memset(sess, 0, sizeof(sess));
	if ((bad = pin_fields(f, &pin, &plen)) != NULL) {
		pickup_form(c, 400, bad);
		goto out;
	}
	rec = form_get(f, "recovery", &rlen);
	if (rec == NULL || !rimport_address_ok(rec, rlen)) {
		pickup_form(c, 400, "RecoveryFormat");
		goto out;
	}
	if (answer_hash(p->kr, &p->cost, pin, plen, hash, &err) == -1) {
		log_err("pin_error", "delivery=%lld reason=\"%s\"",
		    c->l.sl.delivery_id, err.msg);
		page_notice(p, c->w, 500, "error", c->lang, &c->b, c->base, NULL);
		goto out;
	}
	if (db_begin(p->db, &err) == -1)
		goto unavailable;
	r = store_first_pin(c, hash, rec, &rid, &err);
	if (r == 1) {
		/* Someone set a PIN between the page and this POST: it is
		 * theirs to enter now, never ours to overwrite. */
		db_rollback(p->db);
		log_warn("pin_already_set", "delivery=%lld", c->l.sl.delivery_id);
		snprintf(c->l.sl.answer_hash, sizeof(c->l.sl.answer_hash), "set");
		pickup_form(c, 409, "PinTaken");
		goto out;
	}
	snprintf(detail, sizeof(detail), "recipient=%lld", rid);
	if (r == -1 || ctx_event(c, "pin_set", detail) == -1 ||
	    session_create(p, c->l.sl.delivery_id, sess, &err) == -1 ||
	    ctx_event(c, "verified", "pin=set") == -1 ||
	    db_commit(p->db, &err) == -1) {
		db_rollback(p->db);
		goto unavailable;
	}
	log_event("pin_set", "delivery=%lld recipient=%lld", c->l.sl.delivery_id, rid);
	open_message(c, sess);
	goto out;
unavailable:
	ctx_unavailable(c, &err);
out:
	sodium_memzero(hash, sizeof(hash));
	sodium_memzero(sess, sizeof(sess));
}

/* Reads a POSTed form: size, syntax, CSRF, then the per-client rate limit
 * of scope.  0 and *f filled, or -1 with the answer already written. */
static int
read_post(struct ctx *c, const char *scope, const char *method,
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

/* The recovery email on file for the link's PIN, "" when none. */
static int
recovery_email(struct ctx *c, char *out, size_t cap, struct sm_err *err)
{
	static const char sql[] = "SELECT COALESCE(recovery_email, '')"
	    " FROM recipients WHERE id = ?";
	struct db_val a = DB_I(c->l.sl.recipient_id);
	struct db_col col = DB_COL_S(out, cap);
	int r;

	out[0] = '\0';
	r = db_query_row(c->p->db, sql, &a, 1, &col, 1, err);
	return r == -1 ? -1 : 0;
}

static int
has_pin(const struct ctx *c)
{
	return c->l.sl.kind == VERIF_PIN && c->l.sl.recipient_id != 0 &&
	    c->l.sl.answer_hash[0] != '\0';
}

void
pin_recover(struct ctx *c, int is_post)
{
	static const char ins[] = "INSERT INTO patient_tokens (hash, purpose,"
	    " lab_id, address, delivery_id, created, expires)"
	    " VALUES (?, 'pin_recovery', ?, ?, ?, ?, ?)";
	struct portal *p = c->p;
	char email[SM_ADDRESS_MAX + 1], key[SM_TOKEN_TEXT], link[600];
	char text[2048], path[128], url[256];
	unsigned char kh[SM_HASH_BYTES];
	struct form *f = NULL;
	struct db_val a[6];
	struct sm_err err;
	int n;

	memset(key, 0, sizeof(key));
	memset(link, 0, sizeof(link));
	memset(text, 0, sizeof(text));
	if (!has_pin(c)) {
		page_notice(p, c->w, 404, "notfound", c->lang, &c->b, NULL, NULL);
		goto out;
	}
	if (!is_post) {
		pickup_form_as(c, 200, NULL, "recover", NULL);
		goto out;
	}
	f = calloc(1, sizeof(*f));
	if (f == NULL) {
		page_notice(p, c->w, 503, "unavailable", c->lang, &c->b, c->base, NULL);
		goto out;
	}
	if (read_post(c, "recover", "recover", f) == -1)
		goto out;
	if (recovery_email(c, email, sizeof(email), &err) == -1) {
		ctx_unavailable(c, &err);
		goto out;
	}
	if (email[0] == '\0') {
		page_notice(p, c->w, 200, "norecovery", c->lang, &c->b, c->base, NULL);
		goto out;
	}
	token_new(key, kh);
	a[0] = DB_B(kh, sizeof(kh));
	a[1] = DB_I(c->l.sl.lab_id);
	a[2] = DB_S(c->l.sl.address);
	a[3] = DB_I(c->l.sl.delivery_id);
	a[4] = DB_I(p->now);
	a[5] = DB_I(p->now + PIN_RESET_SECONDS);
	snprintf(path, sizeof(path), "/reset?k=%s", key);
	ctx_url(c, path, url, sizeof(url));
	n = snprintf(link, sizeof(link), "%s%s", config_str(p->cf, "portal.url"), url);
	if (n < 0 || (size_t)n >= sizeof(link)) {
		page_notice(p, c->w, 500, "error", c->lang, &c->b, c->base, NULL);
		goto out;
	}
	/* Our own wording from the language file, the lab's name, and the
	 * link on a line of its own so no mail client breaks it. */
	n = snprintf(text, sizeof(text), "%s\n\n%s\n\n%s\n\n%s\n", c->b.name,
	    page_text_set(p->pages, c->b.template_set, c->lang, "Pin.RecoverMail"),
	    link, page_text_set(p->pages, c->b.template_set, c->lang,
	    "Pin.RecoverMailEnd"));
	if (n < 0 || (size_t)n >= sizeof(text)) {
		page_notice(p, c->w, 500, "error", c->lang, &c->b, c->base, NULL);
		goto out;
	}
	if (db_exec(p->db, ins, a, 6, NULL, NULL, &err) == -1) {
		ctx_unavailable(c, &err);
		goto out;
	}
	if (mail_send(p->cf, email, page_text_set(p->pages, c->b.template_set,
	    c->lang, "Pin.RecoverSubject"), text, &err) == -1) {
		log_err("mail_failed", "delivery=%lld kind=pin_recovery reason=\"%s\"",
		    c->l.sl.delivery_id, err.msg);
		page_notice(p, c->w, 503, "unavailable", c->lang, &c->b, c->base, NULL);
		goto out;
	}
	(void)ctx_event(c, "pin_recovery_sent", NULL);
	log_event("pin_recovery_sent", "delivery=%lld recipient=%lld",
	    c->l.sl.delivery_id, c->l.sl.recipient_id);
	page_notice(p, c->w, 200, "recoversent", c->lang, &c->b, c->base, NULL);
out:
	sodium_memzero(key, sizeof(key));
	sodium_memzero(link, sizeof(link));
	sodium_memzero(text, sizeof(text));
	free(f);
}

/* The unused, unexpired recovery key k of this link's address: its row id,
 * 0 when there is none, -1 on error. */
static long long
reset_key(struct ctx *c, const char *k, size_t klen, struct sm_err *err)
{
	static const char sql[] = "SELECT id FROM patient_tokens WHERE hash = ?"
	    " AND purpose = 'pin_recovery' AND used IS NULL AND expires > ?"
	    " AND lab_id = ? AND address = ?";
	unsigned char kh[SM_HASH_BYTES];
	long long id = 0;
	struct db_val a[4];
	struct db_col col = DB_COL_I(&id);
	int r;

	if (k == NULL || token_hash(k, klen, kh) == -1)
		return 0;
	a[0] = DB_B(kh, sizeof(kh));
	a[1] = DB_I(c->p->now);
	a[2] = DB_I(c->l.sl.lab_id);
	a[3] = DB_S(c->l.sl.address);
	r = db_query_row(c->p->db, sql, a, 4, &col, 1, err);
	return r == 1 ? id : r;
}

static int
store_new_pin(struct ctx *c, long long key_id, const char *hash,
    struct sm_err *err)
{
	static const char use[] = "UPDATE patient_tokens SET used = ?"
	    " WHERE id = ? AND used IS NULL";
	static const char upd[] = "UPDATE recipients SET answer_hash = ?,"
	    " updated = ? WHERE id = ?";
	static const char unlock[] = "UPDATE deliveries SET failed_attempts = 0,"
	    " locked_until = NULL WHERE id = ? OR recipient_id = ?";
	unsigned long long n = 0;
	struct db_val a[3];

	a[0] = DB_I(c->p->now);
	a[1] = DB_I(key_id);
	if (db_exec(c->p->db, use, a, 2, &n, NULL, err) == -1)
		return -1;
	if (n != 1) {
		sm_err_set(err, "recovery key used meanwhile");
		return 1;
	}
	a[0] = DB_S(hash);
	a[1] = DB_I(c->p->now);
	a[2] = DB_I(c->l.sl.recipient_id);
	if (db_exec(c->p->db, upd, a, 3, NULL, NULL, err) == -1)
		return -1;
	a[0] = DB_I(c->l.sl.delivery_id);
	a[1] = DB_I(c->l.sl.recipient_id);
	return db_exec(c->p->db, unlock, a, 2, NULL, NULL, err);
}

void
pin_reset(struct ctx *c, int is_post)
{
	struct portal *p = c->p;
	char hash[SM_ANSWER_HASH_TEXT], sess[SESSION_CHARS + 1], email[SM_ADDRESS_MAX + 1];
	struct form *q = NULL, *f = NULL;
	const char *k, *pin, *bad;
	size_t klen = 0, plen = 0;
	struct sm_err err;
	long long key_id;
	int r;

	memset(hash, 0, sizeof(hash));
	memset(sess, 0, sizeof(sess));
	q = calloc(1, sizeof(*q));
	f = calloc(1, sizeof(*f));
	if (q == NULL || f == NULL) {
		page_notice(p, c->w, 503, "unavailable", c->lang, &c->b, c->base, NULL);
		goto out;
	}
	if (!has_pin(c)) {
		page_notice(p, c->w, 404, "notfound", c->lang, &c->b, NULL, NULL);
		goto out;
	}
	if (is_post) {
		if (read_post(c, "recover", "resetpin", f) == -1)
			goto out;
		k = form_get(f, "k", &klen);
	} else {
		if (form_parse(q, c->r->query, strlen(c->r->query)) == -1)
			k = NULL;
		else
			k = form_get(q, "k", &klen);
	}
	key_id = reset_key(c, k, klen, &err);
	if (key_id == -1) {
		ctx_unavailable(c, &err);
		goto out;
	}
	if (key_id == 0) {
		page_notice(p, c->w, 410, "resetinvalid", c->lang, &c->b, c->base, NULL);
		goto out;
	}
	if (!is_post) {
		pickup_form_as(c, 200, NULL, "resetpin", k);
		goto out;
	}
	if ((bad = pin_fields(f, &pin, &plen)) != NULL) {
		pickup_form_as(c, 400, bad, "resetpin", k);
		goto out;
	}
	if (answer_hash(p->kr, &p->cost, pin, plen, hash, &err) == -1) {
		log_err("pin_error", "delivery=%lld reason=\"%s\"",
		    c->l.sl.delivery_id, err.msg);
		page_notice(p, c->w, 500, "error", c->lang, &c->b, c->base, NULL);
		goto out;
	}
	if (db_begin(p->db, &err) == -1) {
		ctx_unavailable(c, &err);
		goto out;
	}
	r = store_new_pin(c, key_id, hash, &err);
	if (r == 1) {
		db_rollback(p->db);
		page_notice(p, c->w, 410, "resetinvalid", c->lang, &c->b, c->base, NULL);
		goto out;
	}
	if (r == -1 || ctx_event(c, "pin_reset", NULL) == -1 ||
	    session_create(p, c->l.sl.delivery_id, sess, &err) == -1 ||
	    ctx_event(c, "verified", "pin=reset") == -1 ||
	    db_commit(p->db, &err) == -1) {
		db_rollback(p->db);
		ctx_unavailable(c, &err);
		goto out;
	}
	log_event("pin_reset", "delivery=%lld recipient=%lld", c->l.sl.delivery_id,
	    c->l.sl.recipient_id);
	/* Tell the owner of the recovery email; a failure is only logged:
	 * the change is made and the patient is in. */
	if (recovery_email(c, email, sizeof(email), &err) == 0 && email[0] != '\0' &&
	    mail_send(p->cf, email, page_text_set(p->pages, c->b.template_set,
	    c->lang, "Pin.ChangedSubject"), page_text_set(p->pages,
	    c->b.template_set, c->lang, "Pin.ChangedMail"), &err) == -1)
		log_err("mail_failed", "delivery=%lld kind=pin_changed reason=\"%s\"",
		    c->l.sl.delivery_id, err.msg);
	open_message(c, sess);
out:
	sodium_memzero(hash, sizeof(hash));
	sodium_memzero(sess, sizeof(sess));
	if (f != NULL)
		sodium_memzero(f, sizeof(*f));
	free(q);
	free(f);
}
