/* verify.c - POST /m/<token>.  Order matters: size limit and form syntax,
 * CSRF, the per-client rate limit, the lockout, and only then Argon2id,
 * so nobody can make the portal hash for free or guess past a lock.
 * A failure is counted in one transaction with its events; success
 * resets the count, creates the session and redirects (303) to the view. */
#include <stdio.h>
#include <string.h>

#include <sodium.h>

#include "answer.h"
#include "config.h"
#include "csrf.h"
#include "db.h"
#include "form.h"
#include "log.h"
#include "page.h"
#include "pickup.h"
#include "pin.h"
#include "ratelimit.h"
#include "register.h"
#include "router.h"
#include "session.h"
#include "verify.h"

/* Counts a failed attempt; locks at portal.max_attempts and doubles the
 * lock with every failure after that.  *locked_until is 0 when not
 * locked.  -1 on a database error. */
static int
record_failure(struct ctx *c, long long *locked_until, struct sm_err *err)
{
	static const char sel[] = "SELECT failed_attempts FROM deliveries"
	    " WHERE id = ? FOR UPDATE";
	static const char upd[] = "UPDATE deliveries SET failed_attempts = ?,"
	    " locked_until = ? WHERE id = ?";
	struct portal *p = c->p;
	long long max = config_int(p->cf, "portal.max_attempts");
	long long base = config_int(p->cf, "portal.lock_seconds");
	long long failed, lock = 0;
	struct db_val args[3];
	struct db_col col = DB_COL_I(&failed);
	char detail[64];
	int rc;

	*locked_until = 0;
	if (db_begin(p->db, err) == -1)
		return -1;
	args[0] = DB_I(c->l.sl.delivery_id);
	rc = db_query_row(p->db, sel, args, 1, &col, 1, err);
	if (rc != 1) {
		if (rc == 0)
			sm_err_set(err, "delivery vanished");
		goto fail;
	}
	failed++;
	if (failed >= max) {
		long long shift = failed - max;

		lock = base << (shift > 10 ? 10 : shift);
		*locked_until = (long long)p->now + lock;
	}
	args[0] = DB_I(failed);
	args[1] = *locked_until ? DB_I(*locked_until) : DB_NUL;
	args[2] = DB_I(c->l.sl.delivery_id);
	if (db_exec(p->db, upd, args, 3, NULL, NULL, err) == -1)
		goto fail;
	snprintf(detail, sizeof(detail), "attempt=%lld", failed);
	if (ctx_event(c, "verify_failed", detail) == -1)
		goto fail;
	if (lock > 0) {
		snprintf(detail, sizeof(detail), "attempt=%lld seconds=%lld", failed, lock);
		if (ctx_event(c, "locked", detail) == -1)
			goto fail;
	}
	if (db_commit(p->db, err) == -1)
		goto fail;
	log_event("verify_failed", "delivery=%lld attempt=%lld locked=%lld",
	    c->l.sl.delivery_id, failed, lock);
	return 0;
fail:
	db_rollback(p->db);
	return -1;
}

static int
record_success(struct ctx *c, char sess[SESSION_CHARS + 1], struct sm_err *err)
{
	static const char upd[] = "UPDATE deliveries SET failed_attempts = 0,"
	    " locked_until = NULL WHERE id = ?";
	struct portal *p = c->p;
	struct db_val arg = DB_I(c->l.sl.delivery_id);

	if (db_begin(p->db, err) == -1)
		return -1;
	if (db_exec(p->db, upd, &arg, 1, NULL, NULL, err) == -1 ||
	    session_create(p, c->l.sl.delivery_id, sess, err) == -1 ||
	    ctx_event(c, "verified", NULL) == -1 ||
	    db_commit(p->db, err) == -1) {
		db_rollback(p->db);
		return -1;
	}
	log_event("verified", "delivery=%lld", c->l.sl.delivery_id);
	return 0;
}

static void
locked_page(struct ctx *c)
{
	struct page_vars pv;
	char when[128], secs[32];

	page_vars_init(&pv);
	page_date(c->p->pages, c->lang, c->l.sl.locked_until, 1, when, sizeof(when));
	page_set(&pv, "Page.LockedUntil", when);
	snprintf(secs, sizeof(secs), "%lld", c->l.sl.locked_until - (long long)c->p->now);
	resp_header(c->w, "Retry-After", secs);
	page_notice(c->p, c->w, 429, "locked", c->lang, &c->b, c->base, &pv);
	page_vars_free(&pv);
}

void
verify_post(struct ctx *c)
{
	struct portal *p = c->p;
	struct request *r = c->r;
	struct form *f = NULL;
	struct buf body;
	struct sm_err err;
	char pre[CSRF_COOKIE_CHARS + 2], norm[SM_ANSWER_MAX * 4];
	char sess[SESSION_CHARS + 1], url[256];
	unsigned char th[SM_HASH_BYTES];
	const char *csrf, *answer;
	size_t csrflen = 0, alen = 0, nlen;
	long long retry, until;
	int rc;

	buf_init(&body, (size_t)config_int(p->cf, "portal.max_form_bytes"));
	if (r->content_length > config_int(p->cf, "portal.max_form_bytes")) {
		page_notice(p, c->w, 413, "toolarge", c->lang, &c->b, c->base, NULL);
		goto out;
	}
	f = calloc(1, sizeof(*f));
	if (f == NULL || req_read_body(r, &body, body.max) == -1 ||
	    (r->content_type != NULL && strncasecmp(r->content_type,
	    "application/x-www-form-urlencoded", 33) != 0) ||
	    form_parse(f, body.p ? body.p : "", body.len) == -1) {
		page_notice(p, c->w, 400, "badrequest", c->lang, &c->b, c->base, NULL);
		goto out;
	}
	csrf = form_get(f, "csrf", &csrflen);
	answer = form_get(f, "answer", &alen);
	if (cookie_get(r->cookie, CSRF_COOKIE, pre, sizeof(pre)) != 1 ||
	    token_hash(c->l.token, strlen(c->l.token), th) == -1 ||
	    csrf == NULL || csrf_check(p->csrf_key, th, pre, csrf, csrflen,
	    p->now, config_int(p->cf, "portal.csrf_lifetime")) == -1) {
		log_warn("csrf_failed", "delivery=%lld", c->l.sl.delivery_id);
		pickup_form(c, 403, "Csrf");
		goto out;
	}
	rc = ratelimit_hit(p, "verify", r->client_addr, &retry, &err);
	if (rc == -1) {
		ctx_unavailable(c, &err);
		goto out;
	}
	if (rc == 1) {
		char secs[32];

		snprintf(secs, sizeof(secs), "%lld", retry);
		resp_header(c->w, "Retry-After", secs);
		log_warn("rate_limited", "delivery=%lld", c->l.sl.delivery_id);
		page_notice(p, c->w, 429, "ratelimited", c->lang, &c->b, c->base, NULL);
		goto out;
	}
	if (link_locked(p, &c->l)) {
		locked_page(c);
		goto out;
	}
	if (c->l.sl.answer_hash[0] == '\0' && c->l.sl.kind == VERIF_PIN) {
		pin_set_post(c, f);
		goto out;
	}
	if (c->l.sl.answer_hash[0] == '\0' && c->l.sl.kind == VERIF_REGISTERED) {
		register_post(c, f);
		goto out;
	}
	if (c->l.sl.answer_hash[0] == '\0') {
		page_notice(p, c->w, 200, "register", c->lang, &c->b, c->base, NULL);
		goto out;
	}
	/* An empty or unusable answer is a typing slip, not a guess. */
	if (answer == NULL || answer_normalise(answer, alen, p->cost.date_order,
	    norm, sizeof(norm), &nlen, &err) == -1) {
		sodium_memzero(norm, sizeof(norm));
		pickup_form(c, 400, "Empty");
		goto out;
	}
	sodium_memzero(norm, sizeof(norm));
	rc = answer_check(p->kr, &p->cost, c->l.sl.answer_hash, answer, alen, &err);
	if (rc == -1) {
		log_err("verify_error", "delivery=%lld reason=\"%s\"",
		    c->l.sl.delivery_id, err.msg);
		page_notice(p, c->w, 500, "error", c->lang, &c->b, c->base, NULL);
		goto out;
	}
	if (rc == 1) {
		if (record_failure(c, &until, &err) == -1) {
			ctx_unavailable(c, &err);
			goto out;
		}
		if (until > 0) {
			c->l.sl.locked_until = until;
			locked_page(c);
		} else {
			pickup_form(c, 403, "Wrong");
		}
		goto out;
	}
	if (record_success(c, sess, &err) == -1) {
		ctx_unavailable(c, &err);
		goto out;
	}
	resp_headerf(c->w, "Set-Cookie", "%s=%s; Path=%s; Max-Age=%lld; HttpOnly;"
	    " Secure; SameSite=Strict", SESSION_COOKIE, sess, c->base,
	    config_int(p->cf, "portal.session_max"));
	/* The pre-session cookie has done its job. */
	resp_headerf(c->w, "Set-Cookie", "%s=; Path=%s; Max-Age=0; HttpOnly;"
	    " Secure; SameSite=Strict", CSRF_COOKIE, c->base);
	sodium_memzero(sess, sizeof(sess));
	ctx_url(c, "/view", url, sizeof(url));
	resp_status(c->w, 303);
	resp_header(c->w, "Location", url);
	resp_header(c->w, "Content-Type", "text/plain; charset=utf-8");
out:
	if (f != NULL) {
		sodium_memzero(f, sizeof(*f));
		free(f);
	}
	buf_free(&body);
}
