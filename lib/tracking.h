/* tracking.h - what happened to a lab's messages, for sealmailctl events
 * and status, the admin timeline and GET /api/v1/messages/{id}/events.
 * Read-only; every filter travels as a bound parameter. */
#ifndef SM_TRACKING_H
#define SM_TRACKING_H

#include "crypto.h"
#include "err.h"
#include "event.h"
#include "store.h"

struct db;

struct track_filter {
	long long lab_id;		/* 0: every lab (sealmailctl only) */
	const char *message_id;		/* NULL: any */
	const char *reference;
	const char *recipient;
	long long since, until;		/* Unix seconds, 0: open */
	long long limit;		/* 1..10000 */
	long long page;			/* from 1 */
};

struct track_event {
	long long id;
	long long at_us;
	char kind[EVENT_KIND_MAX + 1];
	char lab[65];
	char message_id[SM_ID_HEX];
	long long delivery_id;
	char address[SM_ADDRESS_MAX + 1];
	char reference[SM_REFERENCE_MAX * 4 + 1];
	char client_addr[EVENT_ADDR_MAX + 1];
	char user_agent[EVENT_UA_MAX + 1];
	char detail[EVENT_DETAIL_MAX + 1];
};

/* Calls fn for each matching event, oldest first; fn returns -1 to stop
 * (that is then the result). */
int track_events(struct db *db, const struct track_filter *f,
    int (*fn)(const struct track_event *ev, void *arg), void *arg,
    struct sm_err *err);

struct track_message {
	char id[SM_ID_HEX];
	long long lab_id;
	char lab[65];
	char sender[SM_ADDRESS_MAX + 1];
	char reference[SM_REFERENCE_MAX * 4 + 1];
	long long created, expires, retracted, purged, size;
};

struct track_delivery {
	long long id;
	char address[SM_ADDRESS_MAX + 1];
	char kind[16];
	long long first_opened, failed_attempts, locked_until, retracted;
};

/* 1 found, 0 not (or another lab's), -1 error. */
int track_message(struct db *db, long long lab_id, const char *id,
    struct track_message *out, struct sm_err *err);
int track_deliveries(struct db *db, const char *message_id,
    int (*fn)(const struct track_delivery *d, void *arg), void *arg,
    struct sm_err *err);

/* CSV cell for an auditor's spreadsheet: quoted, and a leading = + - @
 * TAB or CR gets an apostrophe so it is never run as a formula.  Writes
 * at most cap-1 bytes; -1 if it does not fit. */
int track_csv_cell(const char *in, char *out, size_t cap);

#endif
