/* import.c - finishing a recipients import inside the portal.  The rows
 * were fed by the caller (CSV bytes or JSON records); this checks, hashes
 * and writes them in one transaction, all or nothing.  Nothing of a row
 * is logged. */
#include <stdlib.h>
#include <string.h>

#include "import.h"
#include "log.h"

int
import_run(struct portal *p, struct rimport *ri, long long lab_id,
    int dry_run, struct import_result *res, struct sm_err *err)
{
	memset(res, 0, sizeof(*res));
	(void)rimport_finish(ri);
	res->rows = rimport_rows(ri);
	if (rimport_nerrors(ri) > 0) {
		log_event("import_refused", "lab=%lld rows=%zu errors=%zu",
		    lab_id, res->rows, rimport_nerrors(ri));
		return 1;
	}
	if (res->rows == 0)
		return 2;
	if (dry_run) {
		log_event("import_checked", "lab=%lld rows=%zu", lab_id, res->rows);
		return 0;
	}
	if (rimport_hash(ri, p->kr, &p->cost, NULL, NULL, err) == -1 ||
	    rimport_write(ri, p->db, lab_id, &res->inserted, &res->updated,
	    err) == -1)
		return -1;
	res->written = 1;
	log_event("import_done", "lab=%lld rows=%zu inserted=%zu updated=%zu",
	    lab_id, res->rows, res->inserted, res->updated);
	return 0;
}

long long
import_error_split(const char *e, const char **reason)
{
	const char *s = e;
	long long n = 0;

	*reason = e;
	if (strncmp(s, "line ", 5) == 0)
		s += 5;
	else if (strncmp(s, "record ", 7) == 0)
		s += 7;
	else
		return 0;
	if (*s < '0' || *s > '9')
		return 0;
	while (*s >= '0' && *s <= '9' && n < 100000000)
		n = n * 10 + (*s++ - '0');
	if (s[0] != ':' || s[1] != ' ')
		return 0;
	*reason = s + 2;
	return n;
}
