/* recipient.c - reading a lab's recipients table.
 * Read-only on purpose: the milter's database account has SELECT here and
 * nothing more, so a compromised mail host cannot plant answers. */
#include <string.h>

#include "db.h"
#include "recipient.h"

int
recipient_find(struct db *db, long long lab_id, const char *address,
    struct recipient *out, struct sm_err *err)
{
	static const char sql[] = "SELECT id, kind, question,"
	    " answer_hash IS NOT NULL AND answer_hash <> ''"
	    " FROM recipients WHERE lab_id = ? AND address = ?";
	char kind[16];
	long long has = 0;
	struct db_val args[2];
	struct db_col cols[4];
	int r;

	memset(out, 0, sizeof(*out));
	args[0] = DB_I(lab_id);
	args[1] = DB_S(address);
	cols[0] = DB_COL_I(&out->id);
	cols[1] = DB_COL_S(kind, sizeof(kind));
	cols[2] = DB_COL_S(out->question, sizeof(out->question));
	cols[3] = DB_COL_I(&has);
	r = db_query_row(db, sql, args, 2, cols, 4, err);
	if (r != 1)
		return r;
	if (verif_kind_parse(kind, &out->kind) == -1) {
		sm_err_set(err, "recipients row %lld has unknown kind", out->id);
		return -1;
	}
	if (cols[2].is_null)
		out->question[0] = '\0';
	out->has_answer = has != 0;
	return 1;
}

int
recipient_usable(const struct recipient *r)
{
	switch (r->kind) {
	case VERIF_QUESTION:
		return r->has_answer && r->question[0] != '\0';
	case VERIF_PASSWORD:
		return r->has_answer;
	case VERIF_REGISTERED:
	case VERIF_PIN:
		return 1;
	}
	return 0;
}
