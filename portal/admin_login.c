/* admin_login.c - POST /admin/login: size and CSRF, the per-client rate
 * limit, then labuser_login (password and TOTP together, one answer for
 * every failure, lockout).  Never logs the login, password or code. */
#include <stdio.h>
#include <string.h>

#include <sodium.h>

#include "admin_login.h"
#include "admin_session.h"
#include "config.h"
#include "log.h"
#include "ratelimit.h"

void
admin_login_form(struct admin *a, int status, const char *error)
{
	struct page_vars pv;

	page_vars_init(&pv);
	page_set(&pv, "Page.Title", "Lab login");
	if (error != NULL)
		page_set(&pv, "Page.Error", error);
	admin_render(a, status, PAGE_ADMIN_LOGIN, &pv);
	page_vars_free(&pv);
}

void
admin_login_post(struct admin *a)
{
	struct portal *p = a->p;
	struct form *f;
	struct labuser u;
	struct sm_err err;
	char sess[SESSION_CHARS + 1];
	const char *login, *pw, *code;
	size_t n;
	long long retry;
	int rc;

	f = calloc(1, sizeof(*f));
	if (f == NULL) {
		admin_unavailable(a, "login", NULL);
		return;
	}
	if (admin_form(a, f) == -1)
		goto out;
	rc = ratelimit_hit(p, "admin", a->r->client_addr, &retry, &err);
	if (rc == -1) {
		admin_unavailable(a, "ratelimit", &err);
		goto out;
	}
	if (rc == 1) {
		char secs[32];

		snprintf(secs, sizeof(secs), "%lld", retry);
		resp_header(a->w, "Retry-After", secs);
		log_warn("admin_rate_limited", "client=%s", a->r->client_addr);
		admin_login_form(a, 429, "Too many attempts from your address."
		    " Please wait a few minutes.");
		goto out;
	}
	login = form_get(f, "login", &n);
	pw = form_get(f, "password", &n);
	code = form_get(f, "code", &n);
	if (login == NULL || pw == NULL || code == NULL || !labuser_login_ok(login)) {
		admin_login_form(a, 403, "Login, password or code is not"
		    " correct, or the account is locked for a while.");
		goto out;
	}
	rc = labuser_login(p->db, p->kr, &p->cost, login, pw, code, p->now, &u,
	    &err);
	if (rc == -1) {
		admin_unavailable(a, "login", &err);
		goto out;
	}
	if (rc == 1) {
		log_warn("admin_login", "outcome=refused client=%s",
		    a->r->client_addr);
		admin_login_form(a, 403, "Login, password or code is not"
		    " correct, or the account is locked for a while.");
		goto out;
	}
	if (adminsess_create(p, u.id, sess, &err) == -1) {
		admin_unavailable(a, "session", &err);
		goto out;
	}
	log_event("admin_login", "outcome=ok user=%lld lab=%lld", u.id, u.lab_id);
	resp_headerf(a->w, "Set-Cookie", "%s=%s; Path=%s; Max-Age=%lld;"
	    " HttpOnly; Secure; SameSite=Strict", ADMIN_COOKIE, sess, ADMIN_PATH,
	    config_int(p->cf, "portal.session_max"));
	sodium_memzero(sess, sizeof(sess));
	admin_redirect(a, "/admin/messages");
out:
	sodium_memzero(&u, sizeof(u));
	sodium_memzero(f, sizeof(*f));
	free(f);
}

void
admin_logout(struct admin *a)
{
	struct form f;
	struct sm_err err;

	if (admin_form(a, &f) == -1)
		return;
	if (adminsess_delete(a, &err) == -1) {
		admin_unavailable(a, "logout", &err);
		return;
	}
	log_event("admin_logout", "user=%lld lab=%lld", a->user_id, a->lab_id);
	resp_headerf(a->w, "Set-Cookie", "%s=; Path=%s; Max-Age=0; HttpOnly;"
	    " Secure; SameSite=Strict", ADMIN_COOKIE, ADMIN_PATH);
	admin_redirect(a, "/admin/login");
}
