/* event.h - the append-only audit trail.
 * An event says what happened to which message or delivery, when and from
 * where; never an answer, a token or content. */
#ifndef SM_EVENT_H
#define SM_EVENT_H

#include "err.h"

struct db;

struct event {
	const char *kind;	/* sealed, notified, link_fetched, verify_failed, ... */
	long long lab_id;
	const char *message_id;	/* or NULL */
	long long delivery_id;	/* or 0 */
	const char *client_addr;	/* or NULL */
	const char *user_agent;	/* or NULL */
	const char *detail;	/* short, non-sensitive, or NULL */
};

/* -1 for a kind not in the known list: a typo must not create a new kind. */
int event_record(struct db *db, const struct event *ev, struct sm_err *err);
int event_kind_valid(const char *kind);

#endif
