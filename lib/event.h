/* event.h - the append-only audit trail.
 * An event says what happened to which message or delivery, when and from
 * where; never an answer, a token or content.  Each row carries a keyed
 * MAC over its content from the moment it is inserted (when the program
 * loaded the audit key), and audit.c later chains the rows in id order. */
#ifndef SM_EVENT_H
#define SM_EVENT_H

#include "crypto.h"
#include "err.h"

struct db;
struct keyring;

#define EVENT_MAC_BYTES 32
#define EVENT_KIND_MAX 32
#define EVENT_ADDR_MAX 64
#define EVENT_UA_MAX 255
#define EVENT_DETAIL_MAX 255

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

/* Makes event_record MAC every row it inserts with the keyring's audit key
 * (KEY_AUDIT).  Call once at start-up, before any thread starts; the key
 * is copied into locked memory.  Without it rows go in with a NULL MAC and
 * are only authenticated when `sealmailctl audit seal` adopts them. */
int event_audit_key_set(const struct keyring *kr, struct sm_err *err);
void event_audit_key_clear(void);
int event_audit_key_loaded(void);

/* A row as stored (strings already cleaned by event_record; NULL = SQL
 * NULL; delivery_id 0 = NULL), for computing and checking its MAC. */
struct event_row {
	long long id;
	long long at;		/* microseconds */
	const char *kind;
	long long lab_id;
	const char *message_id;
	long long delivery_id;
	const char *client_addr;
	const char *user_agent;
	const char *detail;
};

/* Keyed BLAKE2b over an unambiguous encoding of the row's content (not its
 * id, which the database assigns after the MAC is made). */
void event_mac(const unsigned char key[SM_AUDIT_KEY_BYTES],
    const struct event_row *r, unsigned char mac[EVENT_MAC_BYTES]);

#endif
