/* audit.h - sealing and checking the hash chain over the events table.
 * Sealing runs in one administrative process (sealmailctl audit seal, from
 * the purge timer), never on the milter's or portal's hot path. */
#ifndef SM_AUDIT_H
#define SM_AUDIT_H

#include <stddef.h>

#include "crypto.h"
#include "err.h"

struct db;

enum audit_problem {
	AUDIT_OK = 0,
	AUDIT_ALTERED,		/* a row's content no longer matches its MAC */
	AUDIT_DELETED,		/* a sealed row is missing */
	AUDIT_REORDERED,	/* sealed rows moved, or the chain was rewritten */
	AUDIT_INSERTED,		/* a row appeared among sealed rows */
};

struct audit_report {
	enum audit_problem problem;
	long long event_id;	/* first bad row (or the row after a hole) */
	long long seq;
	char what[256];		/* a sentence for the operator */
	unsigned long long rows;	/* rows examined */
	unsigned long long sealed;	/* of which chained */
	unsigned long long unmacd;	/* unsealed rows without a MAC yet */
	long long head_seq;		/* newest sealed row */
	unsigned char head[32];
};

const char *audit_problem_name(enum audit_problem p);

/* Chains every row not yet chained, in id order, up to the first row that
 * is younger than grace_secs (a slower writer may still commit a lower id
 * before that).  Rows that arrived without a MAC get one now.  *nsealed is
 * the number of rows chained; the new head is in *rep.  Refuses when a row
 * to be sealed fails its MAC or the current head does not match the last
 * seal record. */
int audit_seal(struct db *db, const unsigned char key[SM_AUDIT_KEY_BYTES],
    long long grace_secs, unsigned long long *nsealed,
    struct audit_report *rep, struct sm_err *err);

/* Recomputes every MAC and the chain; fills rep with the FIRST problem
 * (rep->problem == AUDIT_OK when none).  anchor_seq/anchor (optional, 0 and
 * NULL to skip) is a head kept outside the database, from a seal's log
 * line; it catches a cut-off tail even when the seal records went too.
 * Returns -1 only when the check itself could not run. */
int audit_verify(struct db *db, const unsigned char key[SM_AUDIT_KEY_BYTES],
    long long anchor_seq, const unsigned char *anchor,
    struct audit_report *rep, struct sm_err *err);

#endif
