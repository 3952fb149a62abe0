/* recipient.h - the verification data a lab uploaded for one recipient.
 * The milter only reads it, to choose how a patient proves who they are;
 * the answer hash itself stays in the table (the delivery points at the row
 * by recipient_id), so it is never copied into the milter's memory. */
#ifndef SM_RECIPIENT_H
#define SM_RECIPIENT_H

#include "err.h"
#include "store.h"

struct db;

#define RECIPIENT_QUESTION_MAX (SM_QUESTION_MAX * 4)	/* VARCHAR(500) utf8mb4 */

struct recipient {
	long long id;
	enum verif_kind kind;
	char question[RECIPIENT_QUESTION_MAX + 1];	/* "" when none */
	int has_answer;					/* answer_hash is set */
};

/* 1 and *out filled when the lab has a row for address (compared
 * case-insensitively), 0 when not, -1 on a database error. */
int recipient_find(struct db *db, long long lab_id, const char *address,
    struct recipient *out, struct sm_err *err);

/* Whether a row is enough to verify: question and password rows need an
 * answer on file, registered and pin rows need none. */
int recipient_usable(const struct recipient *r);

#endif
