/* recipient_admin.h - listing and removing a lab's recipients, for
 * sealmailctl, the admin pages and the API.  Never returns an answer or
 * its hash: only whether one is on file. */
#ifndef SM_RECIPIENT_ADMIN_H
#define SM_RECIPIENT_ADMIN_H

#include "err.h"
#include "store.h"

struct db;

#define RADMIN_NOTFOUND (-2)

struct recipient_info {
	char address[SM_ADDRESS_MAX + 1];
	char kind[16];
	char question[SM_QUESTION_MAX * 4 + 1];
	int answer_set;
	char recovery_email[SM_ADDRESS_MAX + 1];
	long long created, updated;
};

/* The lab's recipients by address, limit 1..100000 from offset; fn
 * returns -1 to stop (then the result is -1). */
int recipient_list(struct db *db, long long lab_id, long long offset,
    long long limit, int (*fn)(const struct recipient_info *r, void *arg),
    void *arg, struct sm_err *err);
/* RADMIN_NOTFOUND when the lab has no such address. */
int recipient_delete(struct db *db, long long lab_id, const char *address,
    struct sm_err *err);

#endif
