/* router.h - maps a request to a page family; only that.
 * URL map: GET /m/<token> (pickup.c), POST /m/<token> (verify.c),
 * GET /m/<token>/view, /m/<token>/part/N, /m/<token>/eml (view.c),
 * /admin/... (admin.c), /api/v1/... (api.c),
 * GET|POST /m/<token>/recover and /m/<token>/reset (pin.c). */
#ifndef PORTAL_ROUTER_H
#define PORTAL_ROUTER_H

#include "brand.h"
#include "http.h"
#include "link.h"
#include "portal.h"

/* What every page family handler gets: the link already looked up (state
 * LINK_OK unless the handler is pickup), its lab's brand, the language. */
struct ctx {
	struct portal *p;
	struct request *r;
	struct response *w;
	struct link l;
	struct brand b;
	const char *lang;
	char base[8 + SM_TOKEN_TEXT];	/* "/m/<token>" of a well-formed token */
};

void router_dispatch(struct portal *p, struct request *r, struct response *w);

/* Shared by the handlers. */
/* Records an event for the link's delivery.  -1 when it could not be
 * written: callers that show or hand out content then fail closed, since
 * the lab must see every open; a link_fetched failure is only logged. */
int ctx_event(struct ctx *c, const char *kind, const char *detail);
/* The same, held back and written with others (portal.h, later). */
int ctx_event_later(struct ctx *c, const char *kind, const char *detail);
/* The clear page for a link that is not LINK_OK. */
void ctx_link_notice(struct ctx *c);
/* 503 page: the database is unreachable. */
void ctx_unavailable(struct ctx *c, const struct sm_err *err);
/* "/m/<token>/view?lang=es" and the like, for Location and links. */
void ctx_url(const struct ctx *c, const char *suffix, char *out, size_t cap);

#endif
