/* router.c - URL to page family.  It looks the link up once, picks the
 * brand and the language, and hands over; pages never parse URLs. */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "admin.h"
#include "api.h"
#include "db.h"
#include "event.h"
#include "log.h"
#include "page.h"
#include "pickup.h"
#include "pin.h"
#include "router.h"
#include "verify.h"
#include "view.h"

static void
ctx_event_fill(const struct ctx *c, struct event *ev, const char *kind,
    const char *detail)
{
	memset(ev, 0, sizeof(*ev));
	ev->kind = kind;
	ev->lab_id = c->l.sl.lab_id;
	ev->message_id = c->l.sl.message_id;
	ev->delivery_id = c->l.sl.delivery_id;
	ev->client_addr = c->r->client_addr[0] ? c->r->client_addr : NULL;
	ev->user_agent = c->r->user_agent[0] ? c->r->user_agent : NULL;
	ev->detail = detail;
}

int
ctx_event(struct ctx *c, const char *kind, const char *detail)
{
	struct event ev;
	struct sm_err err;

	ctx_event_fill(c, &ev, kind, detail);
	if (event_record(c->p->db, &ev, &err) == -1) {
		log_err("event_failed", "kind=%s delivery=%lld reason=\"%s\"",
		    kind, c->l.sl.delivery_id, err.msg);
		return -1;
	}
	return 0;
}

int
ctx_event_later(struct ctx *c, const char *kind, const char *detail)
{
	struct event ev;
	struct sm_err err;

	ctx_event_fill(c, &ev, kind, detail);
	if (event_batch_add(&c->p->later, &ev, &err) == -1) {
		log_err("event_failed", "kind=%s delivery=%lld reason=\"%s\"",
		    kind, c->l.sl.delivery_id, err.msg);
		return -1;
	}
	if (c->p->later.n == EVENT_BATCH_MAX)
		portal_events_flush(c->p);
	return 0;
}

void
ctx_url(const struct ctx *c, const char *suffix, char *out, size_t cap)
{
	snprintf(out, cap, "%s%s%slang=%s", c->base, suffix,
	    strchr(suffix, '?') ? "&" : "?", c->lang);
}

void
ctx_unavailable(struct ctx *c, const struct sm_err *err)
{
	log_err("db_unavailable", "reason=\"%s\"", err ? err->msg : "");
	portal_db_reset(c->p);
	resp_header(c->w, "Retry-After", "30");
	page_notice(c->p, c->w, 503, "unavailable", c->lang, &c->b, NULL, NULL);
}

void
ctx_link_notice(struct ctx *c)
{
	switch (c->l.state) {
	case LINK_EXPIRED:
		page_notice(c->p, c->w, 410, "expired", c->lang, &c->b, NULL, NULL);
		break;
	case LINK_RETRACTED:
		page_notice(c->p, c->w, 410, "retracted", c->lang, &c->b, NULL, NULL);
		break;
	case LINK_PURGED:
		page_notice(c->p, c->w, 410, "purged", c->lang, &c->b, NULL, NULL);
		break;
	case LINK_UNKNOWN:
	case LINK_OK:
	default:
		/* Unknown and malformed: one page, no brand (it would tell). */
		brand_default(&c->b);
		page_notice(c->p, c->w, 404, "unknown", c->lang, &c->b, NULL, NULL);
		break;
	}
}

enum route {
	R_PICKUP,
	R_VIEW,
	R_PART,
	R_EML,
	R_RECOVER,
	R_RESET,
};

/* Splits "/m/<token>[/view|/part/N|/eml]".  -1 when the path is not ours. */
static int
parse_path(const char *path, const char **tok, size_t *toklen,
    enum route *rt, long *part)
{
	const char *t, *slash;

	if (strncmp(path, "/m/", 3) != 0)
		return -1;
	t = path + 3;
	slash = strchr(t, '/');
	*tok = t;
	*toklen = slash ? (size_t)(slash - t) : strlen(t);
	if (slash == NULL || slash[1] == '\0') {
		*rt = R_PICKUP;
		return 0;
	}
	if (strcmp(slash, "/view") == 0) {
		*rt = R_VIEW;
		return 0;
	}
	if (strcmp(slash, "/eml") == 0) {
		*rt = R_EML;
		return 0;
	}
	if (strcmp(slash, "/recover") == 0) {
		*rt = R_RECOVER;
		return 0;
	}
	if (strcmp(slash, "/reset") == 0) {
		*rt = R_RESET;
		return 0;
	}
	if (strncmp(slash, "/part/", 6) == 0) {
		const char *d = slash + 6;
		long n = 0;
		size_t i;

		for (i = 0; d[i] != '\0'; i++) {
			if (d[i] < '0' || d[i] > '9' || i >= 6)
				return -1;
			n = n * 10 + (d[i] - '0');
		}
		if (i == 0 || n < 1)
			return -1;
		*part = n;
		*rt = R_PART;
		return 0;
	}
	return -1;
}

void
router_dispatch(struct portal *p, struct request *r, struct response *w)
{
	struct ctx *c;
	struct sm_err err;
	const char *tok = NULL;
	size_t toklen = 0;
	enum route rt = R_PICKUP;
	long part = 0;
	int is_get, is_post;

	if (strncmp(r->path, "/api/v1/", 8) == 0) {
		api_dispatch(p, r, w);
		return;
	}
	if (strcmp(r->path, "/admin") == 0 || strncmp(r->path, "/admin/", 7) == 0) {
		admin_dispatch(p, r, w);
		return;
	}
	c = calloc(1, sizeof(*c));
	if (c == NULL) {
		resp_status(w, 503);
		return;
	}
	c->p = p;
	c->r = r;
	c->w = w;
	c->lang = page_lang(r->query, r->accept_language);
	brand_default(&c->b);
	is_get = strcmp(r->method, "GET") == 0;
	is_post = strcmp(r->method, "POST") == 0;
	if (r->path_too_long) {
		page_notice(p, w, 414, "badrequest", c->lang, &c->b, NULL, NULL);
		goto out;
	}
	if (parse_path(r->path, &tok, &toklen, &rt, &part) == -1) {
		page_notice(p, w, 404, "notfound", c->lang, &c->b, NULL, NULL);
		goto out;
	}
	/* HEAD only where scanners probe: the pickup page.  On the message
	 * it would decrypt and count a download nobody received. */
	if (strcmp(r->method, "HEAD") == 0 && rt == R_PICKUP)
		is_get = 1;
	if (!(is_get || (is_post && (rt == R_PICKUP || rt == R_RECOVER ||
	    rt == R_RESET)))) {
		resp_header(w, "Allow", rt == R_PICKUP ? "GET, HEAD, POST" :
		    rt == R_RECOVER || rt == R_RESET ? "GET, POST" : "GET");
		page_notice(p, w, 405, "badrequest", c->lang, &c->b, NULL, NULL);
		goto out;
	}
	if (portal_db(p, &err) == -1) {
		ctx_unavailable(c, &err);
		goto out;
	}
	if (link_load(p, tok, toklen, &c->l, &err) == -1) {
		ctx_unavailable(c, &err);
		goto out;
	}
	if (c->l.state != LINK_UNKNOWN) {
		snprintf(c->base, sizeof(c->base), "/m/%s", c->l.token);
		if (brand_get(p, c->l.sl.lab_id, &c->b, &err) == -1) {
			ctx_unavailable(c, &err);
			goto out;
		}
	}
	if (rt == R_PICKUP && is_get) {
		pickup_get(c);
		goto out;
	}
	if (c->l.state != LINK_OK) {
		ctx_link_notice(c);
		goto out;
	}
	switch (rt) {
	case R_PICKUP:
		verify_post(c);
		break;
	case R_VIEW:
		view_page(c);
		break;
	case R_PART:
		view_part(c, part);
		break;
	case R_EML:
		view_eml(c);
		break;
	case R_RECOVER:
		pin_recover(c, is_post);
		break;
	case R_RESET:
		pin_reset(c, is_post);
		break;
	}
out:
	free(c);
}
