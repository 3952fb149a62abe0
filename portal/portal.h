/* portal.h - what one worker process holds: configuration, keys, its one
 * database connection, parsed templates.  Workers share nothing but the
 * listening socket; every piece of state between requests is in MariaDB. */
#ifndef PORTAL_PORTAL_H
#define PORTAL_PORTAL_H

#include <time.h>

#include "answer.h"
#include "err.h"
#include "event.h"

struct config;
struct keyring;
struct db;
struct pages;
struct brand_cache;

#define PORTAL_KEY_BYTES 32

struct portal {
	const struct config *cf;
	const struct keyring *kr;
	const char *db_user;
	const char *db_password;	/* sodium_malloc'd, read before privileges went */
	struct db *db;			/* NULL while the database is unreachable */
	struct pages *pages;
	struct brand_cache *brands;
	struct answer_cost cost;
	/* Derived from the pepper, so every worker and host agrees on it. */
	unsigned char csrf_key[PORTAL_KEY_BYTES];
	time_t now;			/* set once per request */
	/* link_fetched events not yet written: the pickup page is what
	 * scanners hammer, and one INSERT per batch keeps it cheap. */
	struct event_batch later;
};

/* Connects when not connected.  -1 when the database is unreachable: the
 * caller answers 503 and the worker lives on. */
int portal_db(struct portal *p, struct sm_err *err);
/* Drops the connection after an error that may have left it unusable. */
void portal_db_reset(struct portal *p);
/* Writes the held-back events; a failure is logged with their number. */
void portal_events_flush(struct portal *p);

#endif
