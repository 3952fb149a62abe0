/* labref.c - helpers shared by sealmailctl's lab-side commands. */
#include <stdio.h>
#include <string.h>
#include <time.h>

#include "crypto.h"
#include "db.h"
#include "event.h"
#include "labref.h"

int
labref_open(const struct config *cf, struct db **db, struct sm_err *err)
{
	return db_open(db, cf, DB_ROLE_ADMIN, err);
}

int
labref_id(struct db *db, const char *name, long long *id, struct sm_err *err)
{
	static const char sql[] = "SELECT id FROM labs WHERE name = ?";
	struct db_val arg = DB_S(name);
	struct db_col col = DB_COL_I(id);
	int rc = db_query_row(db, sql, &arg, 1, &col, 1, err);

	if (rc == 0)
		sm_err_set(err, "no lab named \"%.64s\"", name);
	return rc == 1 ? 0 : -1;
}

void
labref_cost(const struct config *cf, struct answer_cost *cost)
{
	cost->ops = (unsigned long long)config_int(cf, "crypto.argon2_ops");
	cost->mem_bytes = (size_t)config_int(cf, "crypto.argon2_mem_kib") * 1024;
	cost->date_order = strcmp(config_str(cf, "crypto.date_order"), "dmy") == 0 ?
	    DATE_DMY : DATE_MDY;
}

int
labref_keys(const struct config *cf, unsigned need, struct keyring **kr,
    struct sm_err *err)
{
	if (keyring_load(kr, config_str(cf, "keys.dir"),
	    (int)config_int(cf, "keys.escrow_version"), need, err) == -1)
		return -1;
	if ((need & KEY_AUDIT) != 0 && event_audit_key_set(*kr, err) == -1) {
		keyring_free(*kr);
		*kr = NULL;
		return -1;
	}
	return 0;
}

const char *
labref_time(long long t, char *out, size_t cap)
{
	time_t tt = (time_t)t;
	struct tm tm;

	if (t == 0 || gmtime_r(&tt, &tm) == NULL ||
	    strftime(out, cap, "%Y-%m-%dT%H:%M:%SZ", &tm) == 0)
		snprintf(out, cap, "-");
	return out;
}

int
labref_parse_time(const char *s, long long *out)
{
	struct tm tm;
	const char *end;
	time_t t;

	memset(&tm, 0, sizeof(tm));
	end = strptime(s, "%Y-%m-%d", &tm);
	if (end == NULL)
		return -1;
	if (*end == 'T' || *end == ' ') {
		const char *e2 = strptime(end + 1, "%H:%M:%S", &tm);

		if (e2 == NULL)
			e2 = strptime(end + 1, "%H:%M", &tm);
		if (e2 == NULL)
			return -1;
		end = e2;
	}
	if (*end == 'Z')
		end++;
	if (*end != '\0')
		return -1;
	t = timegm(&tm);
	if (t == (time_t)-1)
		return -1;
	*out = (long long)t;
	return 0;
}
