/* lifecycle.h - what a lab does to messages after sealing: retract, change
 * expiry, unlock a delivery, purge.  Shared by sealmailctl, the admin pages
 * and the API; every change records its event in the same transaction.
 * lab_id scopes each call: a lab only ever touches its own messages (0 =
 * any lab, for sealmailctl only). */
#ifndef SM_LIFECYCLE_H
#define SM_LIFECYCLE_H

#include <stddef.h>
#include <time.h>

#include "err.h"

struct db;

/* Who did it, for the event row (all may be NULL). */
struct actor {
	const char *client_addr;
	const char *user_agent;
	const char *by;		/* "sealmailctl", "user:alice", "apikey:ab12" */
};

/* Return 0 done, -1 error; LC_NOTFOUND when the message or delivery does
 * not exist for that lab (the same answer for another lab's id). */
#define LC_NOTFOUND (-2)

/* *changed is 0 when it was retracted already. */
int lifecycle_retract_message(struct db *db, long long lab_id,
    const char *message_id, const struct actor *who, int *changed,
    struct sm_err *err);
/* Every message of the lab with that reference; *n retracted now. */
int lifecycle_retract_reference(struct db *db, long long lab_id,
    const char *reference, const struct actor *who, size_t *n,
    struct sm_err *err);
int lifecycle_retract_delivery(struct db *db, long long lab_id,
    long long delivery_id, const struct actor *who, int *changed,
    struct sm_err *err);
/* expires must lie 1 day .. 10 years ahead (expiry_parse makes such
 * values); refused for retracted or purged messages. */
int lifecycle_set_expiry(struct db *db, long long lab_id,
    const char *message_id, time_t expires, const struct actor *who,
    struct sm_err *err);
int lifecycle_unlock(struct db *db, long long lab_id, long long delivery_id,
    const struct actor *who, struct sm_err *err);

/* Crypto-shreds one message: sealed_key = NULL, purged = now, chunks
 * deleted, `purged` event; one transaction.  Only for a message that is
 * expired or retracted and not purged yet (LC_NOTFOUND otherwise). */
int lifecycle_purge_message(struct db *db, const char *message_id,
    const struct actor *who, struct sm_err *err);
/* Purges every due message (fn, if given, is told each id first; with
 * dry_run nothing changes).  *n is the number purged (or due). */
int lifecycle_purge_due(struct db *db, time_t now, int dry_run,
    void (*fn)(const char *message_id, void *arg), void *arg,
    const struct actor *who, size_t *n, struct sm_err *err);

#endif
