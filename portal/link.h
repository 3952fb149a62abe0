/* link.h - from the token in a URL to a delivery and what may be done with
 * it.  Unknown and malformed tokens take the same path, a real indexed
 * lookup, so neither the page nor its timing tells them apart. */
#ifndef PORTAL_LINK_H
#define PORTAL_LINK_H

#include "crypto.h"
#include "store.h"

struct portal;

enum link_state {
	LINK_OK,
	LINK_UNKNOWN,
	LINK_EXPIRED,
	LINK_RETRACTED,
	LINK_PURGED,
};

struct link {
	enum link_state state;
	char token[SM_TOKEN_TEXT];	/* only set when the token is well formed */
	struct store_link sl;
};

/* 0 with l->state set, -1 on a database error. */
int link_load(struct portal *p, const char *token, size_t len, struct link *l,
    struct sm_err *err);
/* 1 when the delivery is locked now. */
int link_locked(const struct portal *p, const struct link *l);

#endif
