/* admin.c - /admin/ dispatch and what every admin page shares: the
 * session, the pre-session cookie and CSRF token, rendering, refusals.
 * Pages never parse URLs or cookies themselves. */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <strings.h>
#include <time.h>

#include <sodium.h>

#include "admin.h"
#include "admin_actions.h"
#include "admin_export.h"
#include "admin_login.h"
#include "admin_messages.h"
#include "admin_session.h"
#include "admin_upload.h"
#include "config.h"
#include "http.h"
#include "log.h"

/* What the login form's token is bound to, in place of a session. */
static void
login_bind(unsigned char out[SM_HASH_BYTES])
{
	static const char tag[] = "sealmail-admin-login";

	crypto_generichash(out, SM_HASH_BYTES, (const unsigned char *)tag,
	    sizeof(tag) - 1, NULL, 0);
}

static const unsigned char *
bind_of(struct admin *a, unsigned char tmp[SM_HASH_BYTES])
{
	if (a->logged_in)
		return a->sid_hash;
	login_bind(tmp);
	return tmp;
}

const char *
admin_q(struct admin *a, const char *name)
{
	size_t n;
	const char *v = form_get(&a->q, name, &n);

	return v != NULL && v[0] != '\0' ? v : NULL;
}

void
admin_time(long long t, char *out, size_t cap)
{
	struct tm tm;
	time_t tt = (time_t)t;

	if (t <= 0 || gmtime_r(&tt, &tm) == NULL ||
	    strftime(out, cap, "%Y-%m-%d %H:%M:%S UTC", &tm) == 0)
		snprintf(out, cap, "-");
}

void
admin_render(struct admin *a, int status, enum page_name page,
    struct page_vars *pv)
{
	page_set(pv, "Admin.Csrf", a->csrf);
	if (a->logged_in) {
		page_set(pv, "Admin.Login", a->login);
		page_set(pv, "Admin.Role", labuser_role_name(a->role));
		if (a->role == ROLE_SENDER_ADMIN)
			page_set(pv, "Admin.CanChange", "1");
	}
	page_render(a->p, a->w, status, page, "en", &a->b, NULL, pv);
}

void
admin_notice(struct admin *a, int status, const char *title, const char *text)
{
	struct page_vars pv;

	page_vars_init(&pv);
	page_set(&pv, "Page.Title", title);
	page_set(&pv, "Page.Text", text);
	admin_render(a, status, PAGE_ADMIN_NOTICE, &pv);
	page_vars_free(&pv);
}

void
admin_unavailable(struct admin *a, const char *what, const struct sm_err *err)
{
	log_err("admin_failed", "op=%s lab=%lld user=%lld reason=\"%s\"", what,
	    a->lab_id, a->user_id, err ? err->msg : "");
	portal_db_reset(a->p);
	resp_header(a->w, "Retry-After", "30");
	admin_notice(a, 503, "Service unavailable", "The service is"
	    " unavailable right now. Please try again in a minute.");
}

void
admin_redirect(struct admin *a, const char *path)
{
	resp_status(a->w, 303);
	resp_header(a->w, "Location", path);
	resp_header(a->w, "Content-Type", "text/plain; charset=utf-8");
}

int
admin_csrf_check(struct admin *a, const char *tok, size_t len)
{
	unsigned char tmp[SM_HASH_BYTES];

	if (tok == NULL || a->pre[0] == '\0')
		return -1;
	return csrf_check(a->p->csrf_key, bind_of(a, tmp), a->pre, tok, len,
	    a->p->now, config_int(a->p->cf, "portal.csrf_lifetime"));
}

int
admin_form(struct admin *a, struct form *f)
{
	long long max = config_int(a->p->cf, "portal.max_form_bytes");
	const char *tok;
	struct buf body;
	size_t len = 0;
	int rc = -1;

	buf_init(&body, (size_t)max);
	if (a->r->content_length > max) {
		admin_notice(a, 413, "Too large", "The form is larger than"
		    " this page accepts.");
		goto out;
	}
	if (req_read_body(a->r, &body, body.max) == -1 ||
	    a->r->content_type == NULL || strncasecmp(a->r->content_type,
	    "application/x-www-form-urlencoded", 33) != 0 ||
	    form_parse(f, body.p ? body.p : "", body.len) == -1) {
		admin_notice(a, 400, "Bad request", "The form could not be read.");
		goto out;
	}
	tok = form_get(f, "csrf", &len);
	if (admin_csrf_check(a, tok, len) == -1) {
		log_warn("admin_csrf_failed", "user=%lld", a->user_id);
		admin_notice(a, 403, "Form expired", "This form has expired or"
		    " did not come from this site. Go back, reload the page and"
		    " try again.");
		goto out;
	}
	rc = 0;
out:
	buf_free(&body);
	return rc;
}

int
admin_may_change(struct admin *a)
{
	if (a->role == ROLE_SENDER_ADMIN)
		return 1;
	log_warn("admin_forbidden", "user=%lld lab=%lld", a->user_id, a->lab_id);
	admin_notice(a, 403, "Not allowed", "Your role (viewer) can look but"
	    " not change anything. Ask a sender-admin of your lab.");
	return 0;
}

/* The pre-session cookie: kept if the browser has a good one, else a new
 * one is set with this response. */
static void
pre_cookie(struct admin *a)
{
	char v[CSRF_COOKIE_CHARS + 2];

	if (cookie_get(a->r->cookie, ADMIN_PRE_COOKIE, v, sizeof(v)) == 1 &&
	    csrf_cookie_ok(v)) {
		memcpy(a->pre, v, sizeof(a->pre));
		return;
	}
	csrf_cookie_new(a->pre);
	resp_headerf(a->w, "Set-Cookie", "%s=%s; Path=%s; HttpOnly; Secure;"
	    " SameSite=Strict", ADMIN_PRE_COOKIE, a->pre, ADMIN_PATH);
}

static void
not_found(struct admin *a)
{
	admin_notice(a, 404, "Not found", "There is no such page or message"
	    " for your lab.");
}

static void
bad_method(struct admin *a, const char *allow)
{
	resp_header(a->w, "Allow", allow);
	admin_notice(a, 405, "Method not allowed", "This address does not take"
	    " that kind of request.");
}

/* Pages behind the session. */
static void
route(struct admin *a, const char *path, int get, int post)
{
	const char *id, *slash;
	char idbuf[SM_ID_HEX];
	size_t idlen;
	long long n;

	if (strcmp(path, "logout") == 0) {
		if (!post) { bad_method(a, "POST"); return; }
		admin_logout(a);
	} else if (strcmp(path, "messages") == 0) {
		if (!get) { bad_method(a, "GET"); return; }
		admin_messages_list(a);
	} else if (strncmp(path, "messages/", 9) == 0) {
		id = path + 9;
		slash = strchr(id, '/');
		idlen = slash ? (size_t)(slash - id) : strlen(id);
		if (!path_msgid(id, idlen)) { not_found(a); return; }
		memcpy(idbuf, id, idlen);
		idbuf[idlen] = '\0';
		if (slash == NULL) {
			if (!get) { bad_method(a, "GET"); return; }
			admin_message_page(a, idbuf);
		} else if (strcmp(slash, "/retract") == 0) {
			if (!post) { bad_method(a, "POST"); return; }
			admin_retract_message(a, idbuf);
		} else if (strcmp(slash, "/expiry") == 0) {
			if (!post) { bad_method(a, "POST"); return; }
			admin_set_expiry(a, idbuf);
		} else {
			not_found(a);
		}
	} else if (strncmp(path, "deliveries/", 11) == 0) {
		id = path + 11;
		slash = strchr(id, '/');
		if (slash == NULL || !path_number(id, (size_t)(slash - id), &n) ||
		    (strcmp(slash, "/retract") != 0 && strcmp(slash, "/unlock") != 0)) {
			not_found(a);
			return;
		}
		if (!post) { bad_method(a, "POST"); return; }
		if (slash[1] == 'r')
			admin_retract_delivery(a, n);
		else
			admin_unlock_delivery(a, n);
	} else if (strcmp(path, "references/retract") == 0) {
		if (!post) { bad_method(a, "POST"); return; }
		admin_retract_reference(a);
	} else if (strcmp(path, "recipients") == 0) {
		if (get)
			admin_upload_form(a);
		else if (post)
			admin_upload_post(a);
		else
			bad_method(a, "GET, POST");
	} else if (strcmp(path, "audit.csv") == 0) {
		if (!get) { bad_method(a, "GET"); return; }
		admin_export_csv(a);
	} else {
		not_found(a);
	}
}

void
admin_dispatch(struct portal *p, struct request *r, struct response *w)
{
	unsigned char tmp[SM_HASH_BYTES];
	struct admin *a;
	struct sm_err err;
	const char *path;
	int get, post, rc;

	a = calloc(1, sizeof(*a));
	if (a == NULL) {
		resp_status(w, 503);
		return;
	}
	a->p = p;
	a->r = r;
	a->w = w;
	brand_default(&a->b);
	get = strcmp(r->method, "GET") == 0;
	post = strcmp(r->method, "POST") == 0;
	if (r->path_too_long || form_parse(&a->q, r->query, strlen(r->query)) == -1) {
		admin_notice(a, 400, "Bad request", "The address could not be read.");
		goto out;
	}
	pre_cookie(a);
	path = strncmp(r->path, ADMIN_PATH, strlen(ADMIN_PATH)) == 0 ?
	    r->path + strlen(ADMIN_PATH) : "";
	if (portal_db(p, &err) == -1) {
		admin_unavailable(a, "connect", &err);
		goto out;
	}
	if (strcmp(path, "login") == 0) {
		if (csrf_make(p->csrf_key, bind_of(a, tmp), a->pre, p->now,
		    a->csrf) == -1) {
			admin_unavailable(a, "csrf", NULL);
			goto out;
		}
		if (get)
			admin_login_form(a, 200, NULL);
		else if (post)
			admin_login_post(a);
		else
			bad_method(a, "GET, POST");
		goto out;
	}
	rc = adminsess_check(a, &err);
	if (rc == -1) {
		admin_unavailable(a, "session", &err);
		goto out;
	}
	if (rc == 0) {
		if (get)
			admin_redirect(a, "/admin/login");
		else
			admin_notice(a, 403, "Not logged in", "Your session has"
			    " ended. Log in again.");
		goto out;
	}
	snprintf(a->by, sizeof(a->by), "user:%s", a->login);
	a->who.by = a->by;
	a->who.client_addr = r->client_addr[0] ? r->client_addr : NULL;
	a->who.user_agent = r->user_agent[0] ? r->user_agent : NULL;
	if (brand_get(p, a->lab_id, &a->b, &err) == -1) {
		admin_unavailable(a, "brand", &err);
		goto out;
	}
	if (csrf_make(p->csrf_key, bind_of(a, tmp), a->pre, p->now, a->csrf) == -1) {
		admin_unavailable(a, "csrf", NULL);
		goto out;
	}
	if (path[0] == '\0') {
		admin_redirect(a, "/admin/messages");
		goto out;
	}
	route(a, path, get, post);
out:
	sodium_memzero(a, sizeof(*a));
	free(a);
}
