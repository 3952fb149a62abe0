/* msglist.h - one lab's messages, newest first, for the admin list and
 * GET /api/v1/messages.  Always scoped by lab: there is no "every lab". */
#ifndef SM_MSGLIST_H
#define SM_MSGLIST_H

#include "crypto.h"
#include "err.h"
#include "store.h"

struct db;

struct msglist_filter {
	long long lab_id;		/* required, > 0 */
	const char *reference;		/* NULL or "": any */
	const char *recipient;
	long long since, until;		/* created, Unix seconds, 0: open */
	long long limit;		/* 1..1000 */
	long long page;			/* from 1 */
};

struct msglist_row {
	char id[SM_ID_HEX];
	char reference[SM_REFERENCE_MAX * 4 + 1];
	char sender[SM_ADDRESS_MAX + 1];
	long long created, expires, retracted, purged;
	long long recipients, opened;
};

/* Calls fn per message; fn returns -1 to stop (then the result is -1). */
int msglist_query(struct db *db, const struct msglist_filter *f,
    int (*fn)(const struct msglist_row *m, void *arg), void *arg,
    struct sm_err *err);

#endif
