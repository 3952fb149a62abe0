/* pickup.c - GET /m/<token>.  Mail scanners fetch every link, often many
 * times, so this page reads one row, records link_fetched and changes
 * nothing else: no attempt is counted, nothing is consumed or locked.
 * The only thing it gives the browser is the pre-session cookie the
 * CSRF token is bound to (csrf.h). */
#include <stdio.h>
#include <string.h>

#include "config.h"
#include "csrf.h"
#include "form.h"
#include "log.h"
#include "page.h"
#include "pickup.h"
#include "router.h"

/* A GET with no Accept-Language or with a scanner's user agent is most
 * likely a machine; the lab's report tells opens from such fetches.  The
 * certain sign, no verification from that client afterwards, is for the
 * report to see in the events. */
static const char *
fetch_hint(const struct request *r)
{
	static const char *const bots[] = { "bot", "spider", "crawl", "scan",
	    "preview", "curl", "wget", "python", "go-http", "java/", "safelinks",
	    "proofpoint", "mimecast", "barracuda" };
	size_t i;

	if (r->accept_language == NULL || r->accept_language[0] == '\0' ||
	    r->user_agent[0] == '\0')
		return "automated=likely";
	for (i = 0; i < sizeof(bots) / sizeof(bots[0]); i++)
		if (strcasestr(r->user_agent, bots[i]) != NULL)
			return "automated=likely";
	return NULL;
}

static const char *
kind_name(enum verif_kind k)
{
	switch (k) {
	case VERIF_QUESTION:
		return "question";
	case VERIF_PASSWORD:
		return "password";
	case VERIF_REGISTERED:
		return "registered";
	case VERIF_PIN:
		return "pin";
	}
	return "question";
}

void
pickup_form(struct ctx *c, int status, const char *error_key)
{
	pickup_form_as(c, status, error_key, NULL, NULL);
}

void
pickup_form_as(struct ctx *c, int status, const char *error_key,
    const char *method, const char *reset_key)
{
	struct portal *p = c->p;
	struct page_vars pv;
	char pre[CSRF_COOKIE_CHARS + 2], csrf[CSRF_TEXT], when[128], url[256];
	unsigned char th[SM_HASH_BYTES];
	int have;

	page_vars_init(&pv);
	have = cookie_get(c->r->cookie, CSRF_COOKIE, pre, sizeof(pre)) == 1 &&
	    csrf_cookie_ok(pre);
	if (!have) {
		csrf_cookie_new(pre);
		resp_headerf(c->w, "Set-Cookie", "%s=%s; Path=%s; HttpOnly; Secure;"
		    " SameSite=Strict", CSRF_COOKIE, pre, c->base);
	}
	if (token_hash(c->l.token, strlen(c->l.token), th) == -1 ||
	    csrf_make(p->csrf_key, th, pre, p->now, csrf) == -1) {
		page_notice(p, c->w, 500, "error", c->lang, &c->b, NULL, NULL);
		goto out;
	}
	/* A PIN nobody set yet: the link from the SMS lets its holder set
	 * one (pin.c).  A registered patient without a password proves the
	 * address first (register.c). */
	if (method == NULL && c->l.sl.answer_hash[0] == '\0')
		method = c->l.sl.kind == VERIF_PIN ? "setpin" :
		    c->l.sl.kind == VERIF_REGISTERED ? "register" : NULL;
	if (method == NULL)
		method = kind_name(c->l.sl.kind);
	page_set(&pv, "Page.Csrf", csrf);
	page_set(&pv, "Page.Method", method);
	if (strcmp(method, "pin") == 0 || (strcmp(method, "registered") == 0 &&
	    c->l.sl.recipient_id != 0)) {
		ctx_url(c, "/recover", url, sizeof(url));
		page_set(&pv, "Page.RecoverUrl", url);
	}
	if (reset_key != NULL)
		page_set(&pv, "Page.ResetKey", reset_key);
	if (strcmp(method, "regcode") == 0 || strcmp(method, "resetpassword") == 0) {
		char min[32];

		snprintf(min, sizeof(min), "%lld", config_int(p->cf, "portal.password_min"));
		page_set(&pv, "Page.PasswordMin", min);
	}
	if (c->l.sl.kind == VERIF_QUESTION)
		page_set(&pv, "Page.Question", c->l.sl.question);
	page_date(p->pages, c->lang, c->l.sl.expires, 0, when, sizeof(when));
	page_set(&pv, "Page.Expires", when);
	ctx_url(c, strncmp(method, "recover", 7) == 0 ? "/recover" :
	    strncmp(method, "reset", 5) == 0 ? "/reset" : "", url, sizeof(url));
	page_set(&pv, "Page.Action", url);
	if (error_key != NULL) {
		char key[64];

		snprintf(key, sizeof(key), "Error.%s", error_key);
		page_set(&pv, "Page.Error", page_text_set(p->pages, c->b.template_set,
		    c->lang, key));
	}
	if (link_locked(p, &c->l)) {
		page_date(p->pages, c->lang, c->l.sl.locked_until, 1, when, sizeof(when));
		page_set(&pv, "Page.LockedUntil", when);
	}
	page_render(p, c->w, status, PAGE_PICKUP, c->lang, &c->b, c->base, &pv);
out:
	page_vars_free(&pv);
}

void
pickup_get(struct ctx *c)
{
	if (c->l.state == LINK_UNKNOWN) {
		ctx_link_notice(c);
		return;
	}
	/* Every GET of a known link, whatever its state: the lab sees
	 * scanners and late clicks on retracted links alike. */
	(void)ctx_event_later(c, "link_fetched", fetch_hint(c->r));
	if (c->l.state != LINK_OK) {
		ctx_link_notice(c);
		return;
	}
	pickup_form(c, 200, NULL);
}
