/* import.h - the end of a recipients import for the admin upload and
 * PUT /api/v1/recipients: the same lib/recipient_import.c path that
 * sealmailctl takes (finish, refuse on any bad row, hash, write). */
#ifndef PORTAL_IMPORT_H
#define PORTAL_IMPORT_H

#include <stddef.h>

#include "err.h"
#include "portal.h"
#include "recipient_import.h"

struct import_result {
	size_t rows, inserted, updated;
	int written;		/* 0 on a dry run */
};

/* Hashing threads for an import inside a portal worker. */
#define IMPORT_THREADS 1

/* After the rows were fed: 0 done (or checked, with dry_run), 1 refused
 * because of bad rows (read them with rimport_error; nothing written),
 * 2 when there was not a single row,
 * -1 error (err says why; nothing written). */
int import_run(struct portal *p, struct rimport *ri, long long lab_id,
    int dry_run, struct import_result *res, struct sm_err *err);

/* Splits a kept error "line 17: reason" into 17 and "reason"; 0 when it
 * has no number. */
long long import_error_split(const char *e, const char **reason);

#endif
