/* test_lifecycle.c - retract, expire, unlock and purge against the stack's
 * MariaDB: each change records its event, a lab never touches another
 * lab's message, and a purged message cannot be read even with the
 * private escrow key. */
#include <stdarg.h>
#include <stddef.h>
#include <setjmp.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>

#include <cmocka.h>
#include <mysql.h>

#include "config.h"
#include "crypto.h"
#include "db.h"
#include "lifecycle.h"
#include "store.h"
#include "tracking.h"

static struct config *cf;
static struct keyring *wkr, *rkr;
static struct db *mdb, *adb, *pdb;
static long long lab;
static const struct actor who = { "192.0.2.9", "test", "test" };

#define NEED_DB() do { if (adb == NULL) skip(); } while (0)

struct stored {
	char id[SM_ID_HEX];
	long long delivery;
};

static void
store_one(const char *ref, struct stored *out)
{
	struct store_meta meta = { .lab_id = lab, .sender = "lab@example.org",
	    .reference = ref, .expires = time(NULL) + 86400 * 7,
	    .chunk_size = 65536 };
	struct store_delivery d = { .address = "lifecycle@example.net",
	    .kind = VERIF_PIN };
	char token[SM_TOKEN_TEXT];
	struct store_msg *m = NULL;
	struct sm_err err;

	if (store_begin(&m, mdb, wkr, &meta, &err) == -1 ||
	    store_append(m, "RESULT-MARKER", 13, &err) == -1 ||
	    store_add_delivery(m, &d, token, &err) == -1 ||
	    store_commit(m, "192.0.2.1", &err) == -1)
		fail_msg("store: %s", err.msg);
	snprintf(out->id, sizeof(out->id), "%s", store_msg_id(m));
	out->delivery = store_msg_delivery_id(m, 0);
	store_free(m);
}

static long long
count(const char *sql, const char *id)
{
	struct db_val a = DB_S(id);
	long long n = -1;
	struct db_col c = DB_COL_I(&n);
	struct sm_err err;

	if (db_query_row(adb, sql, &a, 1, &c, 1, &err) != 1)
		fail_msg("%s: %s", sql, err.msg);
	return n;
}

static int
readable(const char *id)
{
	struct store_reader *r = NULL;
	struct sm_err err;
	int rc = store_reader_open(&r, adb, rkr, id, &err);

	store_reader_free(r);
	return rc == 0;
}

static void
purged_message_cannot_be_read_with_the_private_key(void **s)
{
	struct stored m;
	struct sm_err err;
	size_t n = 0;
	int changed = 0;

	(void)s;
	NEED_DB();
	store_one("LC-PURGE", &m);
	assert_true(readable(m.id));
	/* Not due yet: purge leaves it alone. */
	assert_int_equal(lifecycle_purge_message(adb, m.id, &who, &err),
	    LC_NOTFOUND);
	assert_true(readable(m.id));
	assert_int_equal(lifecycle_retract_message(adb, 0, m.id, &who, &changed,
	    &err), 0);
	assert_int_equal(changed, 1);
	assert_int_equal(lifecycle_purge_due(adb, time(NULL), 0, NULL, NULL,
	    &who, &n, &err), 0);
	assert_true(n >= 1);
	assert_false(readable(m.id));
	assert_int_equal(count("SELECT COUNT(*) FROM message_chunks"
	    " WHERE message_id = ?", m.id), 0);
	assert_int_equal(count("SELECT COUNT(*) FROM messages WHERE id = ?"
	    " AND sealed_key IS NULL AND purged IS NOT NULL", m.id), 1);
	/* Even a restored "purged" flag leaves nothing to open: the data
	 * key is gone and no chunk is left. */
	{
		struct db_val a = DB_S(m.id);

		assert_int_equal(db_exec(adb, "UPDATE messages SET purged = NULL"
		    " WHERE id = ?", &a, 1, NULL, NULL, &err), 0);
		assert_false(readable(m.id));
		assert_int_equal(db_exec(adb, "UPDATE messages SET purged ="
		    " UNIX_TIMESTAMP() WHERE id = ?", &a, 1, NULL, NULL, &err), 0);
	}
	/* The events stay, the purge among them. */
	assert_int_equal(count("SELECT COUNT(*) FROM events WHERE message_id = ?"
	    " AND kind IN ('sealed', 'retracted', 'purged')", m.id), 3);
	/* Purging again finds nothing to do. */
	assert_int_equal(lifecycle_purge_message(adb, m.id, &who, &err),
	    LC_NOTFOUND);
}

static void
expired_message_is_purged(void **s)
{
	struct stored m;
	struct sm_err err;
	size_t n = 0;

	(void)s;
	NEED_DB();
	store_one("LC-EXPIRED", &m);
	{
		struct db_val a = DB_S(m.id);

		assert_int_equal(db_exec(adb, "UPDATE messages SET expires = 1"
		    " WHERE id = ?", &a, 1, NULL, NULL, &err), 0);
	}
	assert_int_equal(lifecycle_purge_due(adb, time(NULL), 1, NULL, NULL,
	    &who, &n, &err), 0);
	assert_true(readable(m.id));	/* dry run changed nothing */
	assert_int_equal(lifecycle_purge_message(adb, m.id, &who, &err), 0);
	assert_false(readable(m.id));
}

static void
another_labs_message_is_not_found(void **s)
{
	struct stored m;
	struct sm_err err;
	int changed = 0;

	(void)s;
	NEED_DB();
	store_one("LC-OTHER", &m);
	assert_int_equal(lifecycle_retract_message(adb, lab + 1000, m.id, &who,
	    &changed, &err), LC_NOTFOUND);
	assert_int_equal(lifecycle_retract_delivery(adb, lab + 1000, m.delivery,
	    &who, &changed, &err), LC_NOTFOUND);
	assert_int_equal(lifecycle_set_expiry(adb, lab + 1000, m.id,
	    time(NULL) + 86400 * 3, &who, &err), LC_NOTFOUND);
	assert_int_equal(lifecycle_unlock(adb, lab + 1000, m.delivery, &who,
	    &err), LC_NOTFOUND);
	assert_int_equal(count("SELECT COUNT(*) FROM messages WHERE id = ?"
	    " AND retracted IS NULL", m.id), 1);
	assert_int_equal(lifecycle_retract_message(adb, lab, m.id, &who,
	    &changed, &err), 0);
	assert_int_equal(changed, 1);
}

static void
expiry_changes_within_bounds_and_is_recorded(void **s)
{
	struct stored m;
	struct sm_err err;
	const time_t now = time(NULL);

	(void)s;
	NEED_DB();
	store_one("LC-EXPIRY", &m);
	assert_int_equal(lifecycle_set_expiry(adb, lab, m.id, now + 3600, &who,
	    &err), -1);
	assert_int_equal(lifecycle_set_expiry(adb, lab, m.id,
	    now + 11LL * 365 * 86400, &who, &err), -1);
	assert_int_equal(lifecycle_set_expiry(adb, lab, m.id, now + 86400 * 30,
	    &who, &err), 0);
	assert_int_equal(count("SELECT expires - UNIX_TIMESTAMP() > 86400 * 29"
	    " FROM messages WHERE id = ?", m.id), 1);
	assert_int_equal(count("SELECT COUNT(*) FROM events WHERE message_id = ?"
	    " AND kind = 'expiry_changed' AND detail LIKE 'expires=% by=test'",
	    m.id), 1);
	assert_int_equal(lifecycle_set_expiry(adb, lab, "not-an-id",
	    now + 86400 * 30, &who, &err), LC_NOTFOUND);
}

static void
delivery_retraction_and_unlock_are_recorded(void **s)
{
	struct stored m;
	struct sm_err err;
	struct db_val a;
	int changed = 0;

	(void)s;
	NEED_DB();
	store_one("LC-DELIVERY", &m);
	a = DB_I(m.delivery);
	assert_int_equal(db_exec(adb, "UPDATE deliveries SET failed_attempts = 5,"
	    " locked_until = UNIX_TIMESTAMP() + 3600 WHERE id = ?", &a, 1, NULL,
	    NULL, &err), 0);
	assert_int_equal(lifecycle_unlock(adb, lab, m.delivery, &who, &err), 0);
	assert_int_equal(count("SELECT COUNT(*) FROM deliveries WHERE message_id = ?"
	    " AND failed_attempts = 0 AND locked_until IS NULL", m.id), 1);
	assert_int_equal(lifecycle_retract_delivery(adb, lab, m.delivery, &who,
	    &changed, &err), 0);
	assert_int_equal(changed, 1);
	assert_int_equal(lifecycle_retract_delivery(adb, lab, m.delivery, &who,
	    &changed, &err), 0);
	assert_int_equal(changed, 0);
	assert_int_equal(count("SELECT COUNT(*) FROM events WHERE message_id = ?"
	    " AND kind IN ('unlocked', 'retracted')", m.id), 2);
}

static void
reference_retraction_takes_every_message(void **s)
{
	struct stored a, b;
	struct sm_err err;
	char ref[40];
	size_t n = 0;

	(void)s;
	NEED_DB();
	snprintf(ref, sizeof(ref), "LC-REF-%ld", (long)time(NULL));
	store_one(ref, &a);
	store_one(ref, &b);
	assert_int_equal(lifecycle_retract_reference(adb, lab, ref, &who, &n,
	    &err), 0);
	assert_int_equal(n, 2);
	assert_int_equal(lifecycle_retract_reference(adb, lab, ref, &who, &n,
	    &err), LC_NOTFOUND);
	assert_int_equal(lifecycle_retract_reference(adb, 0, ref, &who, &n,
	    &err), -1);	/* a reference is only ever a lab's own */
}

static void
portal_account_may_retract_and_expire_but_not_purge(void **s)
{
	struct stored m;
	struct sm_err err;
	int changed = 0;

	(void)s;
	NEED_DB();
	/* The admin pages and the API run these as the portal's account. */
	store_one("LC-PORTAL", &m);
	assert_int_equal(lifecycle_set_expiry(pdb, lab, m.id,
	    time(NULL) + 86400 * 2, &who, &err), 0);
	assert_int_equal(lifecycle_unlock(pdb, lab, m.delivery, &who, &err), 0);
	assert_int_equal(lifecycle_retract_delivery(pdb, lab, m.delivery, &who,
	    &changed, &err), 0);
	assert_int_equal(lifecycle_retract_message(pdb, lab, m.id, &who,
	    &changed, &err), 0);
	assert_int_equal(changed, 1);
	/* Shredding stays with sealmailctl. */
	assert_int_equal(lifecycle_purge_message(pdb, m.id, &who, &err), -1);
	assert_non_null(strstr(err.msg, "denied"));
	assert_true(readable(m.id));
}

static int
collect(const struct track_event *ev, void *arg)
{
	int *n = arg;

	(*n)++;
	return strcmp(ev->reference, "LC-TRACK") == 0 ? 0 : -1;
}

static void
tracking_filters_by_reference_and_lab(void **s)
{
	struct track_filter f;
	struct stored m;
	struct sm_err err;
	int n = 0;

	(void)s;
	NEED_DB();
	store_one("LC-TRACK", &m);
	memset(&f, 0, sizeof(f));
	f.lab_id = lab;
	f.reference = "LC-TRACK";
	f.limit = 100;
	f.page = 1;
	assert_int_equal(track_events(adb, &f, collect, &n, &err), 0);
	assert_true(n >= 1);
	n = 0;
	f.lab_id = lab + 1000;
	assert_int_equal(track_events(adb, &f, collect, &n, &err), 0);
	assert_int_equal(n, 0);
	f.limit = 0;
	assert_int_equal(track_events(adb, &f, collect, &n, &err), -1);
}

static int
setup(void **state)
{
	const char *conf = getenv("SEALMAIL_CONF");
	struct db_col c = DB_COL_I(&lab);
	struct sm_err err;
	const char *dir;
	int v;

	(void)state;
	if (conf == NULL)
		return 0;
	if (config_load(&cf, conf, &err) == -1)
		goto fail;
	dir = config_str(cf, "keys.dir");
	v = (int)config_int(cf, "keys.escrow_version");
	if (keyring_load(&wkr, dir, v, KEY_ESCROW_PUBLIC | KEY_SIGN_SECRET, &err) == -1 ||
	    keyring_load(&rkr, dir, v, KEY_ESCROW_SECRET | KEY_SIGN_PUBLIC, &err) == -1 ||
	    db_open(&mdb, cf, DB_ROLE_MILTER, &err) == -1 ||
	    db_open(&pdb, cf, DB_ROLE_PORTAL, &err) == -1 ||
	    db_open(&adb, cf, DB_ROLE_ADMIN, &err) == -1)
		goto fail;
	if (db_query_row(adb, "SELECT MIN(id) FROM labs", NULL, 0, &c, 1, &err) != 1 ||
	    lab <= 0) {
		snprintf(err.msg, sizeof(err.msg), "the stack has no lab");
		goto fail;
	}
	return 0;
fail:
	fprintf(stderr, "setup: %s\n", err.msg);
	return -1;
}

static int
teardown(void **state)
{
	(void)state;
	db_close(mdb);
	db_close(pdb);
	db_close(adb);
	keyring_free(wkr);
	keyring_free(rkr);
	config_free(cf);
	return 0;
}

int
main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test(purged_message_cannot_be_read_with_the_private_key),
		cmocka_unit_test(expired_message_is_purged),
		cmocka_unit_test(another_labs_message_is_not_found),
		cmocka_unit_test(expiry_changes_within_bounds_and_is_recorded),
		cmocka_unit_test(delivery_retraction_and_unlock_are_recorded),
		cmocka_unit_test(reference_retraction_takes_every_message),
		cmocka_unit_test(portal_account_may_retract_and_expire_but_not_purge),
		cmocka_unit_test(tracking_filters_by_reference_and_lab),
	};
	int rc;

	if (getenv("SEALMAIL_CONF") == NULL) {
		printf("1..0 # SKIP SEALMAIL_CONF not set: run under contrib/stack\n");
		return 0;
	}
	if (sodium_init() < 0 || mysql_library_init(0, NULL, NULL) != 0)
		return 1;
	rc = cmocka_run_group_tests(tests, setup, teardown);
	mysql_library_end();
	return rc;
}
