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

/* Events held back to go in together: the portal's link_fetched, which
 * mail scanners cause at rates far above people.  Each row is stamped,
 * cleaned and MAC'd when added, exactly as event_record would store it;
 * event_batch_flush inserts them all in one statement and empties the
 * batch whatever the outcome. */
#define EVENT_BATCH_MAX 16
struct event_queued {
	long long at;
	char kind[EVENT_KIND_MAX + 1];
	long long lab_id;
	char msg[SM_ID_HEX];
	long long delivery_id;
	char addr[EVENT_ADDR_MAX + 1];
	char ua[EVENT_UA_MAX + 1];
	char detail[EVENT_DETAIL_MAX + 1];
	unsigned char mac[EVENT_MAC_BYTES];
	int has_msg, has_addr, has_ua, has_detail, has_mac;
};
struct event_batch {
	size_t n;
	struct event_queued q[EVENT_BATCH_MAX];
};
int event_batch_add(struct event_batch *b, const struct event *ev,
    struct sm_err *err);
/* The time (microseconds) of the oldest held event, 0 when none. */
long long event_batch_oldest(const struct event_batch *b);
int event_batch_flush(struct db *db, struct event_batch *b, struct sm_err *err);
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
