/* test_audit.c - the tamper-evident audit trail.  The MAC encoding needs
 * no database; the chain runs against the stack's MariaDB on temporary
 * copies of events and audit_seals (a temporary table hides the real one
 * for this connection only), so tampering here never touches the stack's
 * own trail.  Each kind of tampering must be caught and named, at the
 * first row it affects. */
#include <stdarg.h>
#include <stddef.h>
#include <setjmp.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <unistd.h>

#include <cmocka.h>
#include <mysql.h>
#include <sodium.h>

#include "audit.h"
#include "config.h"
#include "crypto.h"
#include "db.h"
#include "event.h"

#define NEVENTS 12

static char keydir[] = "/tmp/test_audit.XXXXXX";
static struct keyring *kr;
static struct config *cf;
static struct db *db;

/* ---- the MAC, no database -------------------------------------------- */

static void
mac_of(const struct event_row *r, unsigned char mac[EVENT_MAC_BYTES])
{
	event_mac(keyring_audit_key(kr), r, mac);
}

static void
mac_covers_every_field_and_tells_null_from_empty(void **s)
{
	struct event_row base = { 0, 1700000000000000LL, "viewed", 3,
	    "00112233445566778899aabbccddeeff", 9, "192.0.2.1", "UA", "d" };
	struct event_row r;
	unsigned char m0[32], m1[32];

	(void)s;
	mac_of(&base, m0);
	r = base; r.at++; mac_of(&r, m1); assert_memory_not_equal(m0, m1, 32);
	r = base; r.kind = "verified"; mac_of(&r, m1); assert_memory_not_equal(m0, m1, 32);
	r = base; r.lab_id = 4; mac_of(&r, m1); assert_memory_not_equal(m0, m1, 32);
	r = base; r.message_id = NULL; mac_of(&r, m1); assert_memory_not_equal(m0, m1, 32);
	r = base; r.delivery_id = 0; mac_of(&r, m1); assert_memory_not_equal(m0, m1, 32);
	r = base; r.client_addr = "192.0.2.2"; mac_of(&r, m1); assert_memory_not_equal(m0, m1, 32);
	r = base; r.user_agent = NULL; mac_of(&r, m1); assert_memory_not_equal(m0, m1, 32);
	r = base; r.detail = ""; mac_of(&r, m1); assert_memory_not_equal(m0, m1, 32);
	/* Moving bytes between adjacent fields changes the MAC. */
	r = base; r.user_agent = "UAd"; r.detail = ""; mac_of(&r, m1);
	assert_memory_not_equal(m0, m1, 32);
	/* The id is not covered: it is assigned after the MAC is made. */
	r = base; r.id = 77; mac_of(&r, m1); assert_memory_equal(m0, m1, 32);
}

static void
mac_depends_on_the_key(void **s)
{
	struct event_row r = { 0, 1, "sealed", 1, NULL, 0, NULL, NULL, NULL };
	unsigned char k2[SM_AUDIT_KEY_BYTES], m0[32], m1[32];

	(void)s;
	memset(k2, 0x5a, sizeof(k2));
	mac_of(&r, m0);
	event_mac(k2, &r, m1);
	assert_memory_not_equal(m0, m1, 32);
}

static void
unknown_kind_is_refused(void **s)
{
	struct event ev = { "sealedd", 1, NULL, 0, NULL, NULL, NULL };
	struct sm_err err;

	(void)s;
	assert_int_equal(event_record(NULL, &ev, &err), -1);
	assert_false(event_kind_valid("retract"));
	assert_true(event_kind_valid("retracted"));
}

/* ---- the audit key file ------------------------------------------------ */

static void
audit_key_file_is_private_and_never_replaced(void **s)
{
	char dir[] = "/tmp/test_audit_key.XXXXXX", path[64];
	unsigned char before[SM_AUDIT_KEY_BYTES];
	struct keyring *k1 = NULL, *k2 = NULL;
	struct sm_err err;
	struct stat st;

	(void)s;
	assert_non_null(mkdtemp(dir));
	snprintf(path, sizeof(path), "%s/audit", dir);
	assert_int_equal(keyring_generate(dir, 1, KEY_AUDIT, &err), 0);
	assert_int_equal(stat(path, &st), 0);
	assert_int_equal(st.st_mode & 0777, 0600);
	assert_int_equal(st.st_size, SM_AUDIT_KEY_BYTES);
	assert_int_equal(keyring_load(&k1, dir, 0, KEY_AUDIT, &err), 0);
	assert_non_null(keyring_audit_key(k1));
	memcpy(before, keyring_audit_key(k1), sizeof(before));
	/* Generating again keeps the key: old MACs must stay checkable. */
	assert_int_equal(keyring_generate(dir, 1, KEY_AUDIT, &err), 0);
	assert_int_equal(keyring_load(&k2, dir, 0, KEY_AUDIT, &err), 0);
	assert_memory_equal(before, keyring_audit_key(k2), sizeof(before));
	keyring_free(k2);
	k2 = NULL;
	/* A keyring loaded without KEY_AUDIT has none to give. */
	assert_int_equal(keyring_generate(dir, 1, KEY_PEPPER, &err), 0);
	assert_int_equal(keyring_load(&k2, dir, 0, KEY_PEPPER, &err), 0);
	assert_null(keyring_audit_key(k2));
	assert_int_equal(event_audit_key_set(k2, &err), -1);
	keyring_free(k2);
	k2 = NULL;
	/* A key others can read is refused, naming the file. */
	assert_int_equal(chmod(path, 0644), 0);
	assert_int_equal(keyring_load(&k2, dir, 0, KEY_AUDIT, &err), -1);
	assert_non_null(strstr(err.msg, "audit"));
	/* A short file is not a key. */
	assert_int_equal(chmod(path, 0600), 0);
	assert_int_equal(truncate(path, 16), 0);
	assert_int_equal(keyring_load(&k2, dir, 0, KEY_AUDIT, &err), -1);
	keyring_free(k1);
	unlink(path);
	snprintf(path, sizeof(path), "%s/pepper", dir);
	unlink(path);
	rmdir(dir);
}

/* ---- the chain, on temporary tables ------------------------------------- */

static void
exec(const char *sql)
{
	struct sm_err err;

	if (db_exec_ddl(db, sql, &err) == -1)
		fail_msg("%s: %s", sql, err.msg);
}

static long long lab_id = 1;

/* A temporary table named like the real one hides it for this
 * connection.  MariaDB refuses CREATE TEMPORARY TABLE t LIKE t, so the
 * real table's own definition is replayed with TEMPORARY added. */
static void
copy_table(const char *name)
{
	static const char ev[] = "SHOW CREATE TABLE events";
	static const char se[] = "SHOW CREATE TABLE audit_seals";
	char tname[64], def[8192], sql[8300];
	struct db_col c[2];
	struct sm_err err;

	c[0] = DB_COL_S(tname, sizeof(tname));
	c[1] = DB_COL_S(def, sizeof(def));
	if (db_query_row(db, strcmp(name, "events") == 0 ? ev : se, NULL, 0, c,
	    2, &err) != 1)
		fail_msg("show create table %s: %s", name, err.msg);
	assert_int_equal(strncmp(def, "CREATE TABLE ", 13), 0);
	snprintf(sql, sizeof(sql), "CREATE TEMPORARY TABLE %s", def + 13);
	exec(sql);
}

static void
add_events(int n, const char *detail)
{
	static const char *const kinds[] = { "sealed", "notified",
	    "link_fetched", "verify_failed", "verified", "viewed" };
	struct sm_err err;
	int i;

	for (i = 0; i < n; i++) {
		struct event ev = { kinds[i % 6], lab_id,
		    "00112233445566778899aabbccddeeff", i % 3 ? i : 0,
		    i % 2 ? "192.0.2.7" : NULL, i % 4 ? "Mozilla/5.0" : NULL,
		    detail };

		if (event_record(db, &ev, &err) == -1)
			fail_msg("event_record: %s", err.msg);
	}
}

/* Fresh temporary tables holding NEVENTS sealed events. */
static int
fresh(void **s)
{
	struct audit_report rep;
	unsigned long long n = 0;
	struct sm_err err;

	(void)s;
	exec("DROP TEMPORARY TABLE IF EXISTS events");
	exec("DROP TEMPORARY TABLE IF EXISTS audit_seals");
	copy_table("events");
	copy_table("audit_seals");
	/* Ids from 1, whatever the real table has reached. */
	exec("ALTER TABLE events AUTO_INCREMENT = 1");
	add_events(NEVENTS, "first");
	if (audit_seal(db, keyring_audit_key(kr), 0, &n, &rep, &err) == -1) {
		fprintf(stderr, "seal: %s\n", err.msg);
		return -1;
	}
	if (n != NEVENTS || rep.head_seq != NEVENTS) {
		fprintf(stderr, "sealed %llu\n", n);
		return -1;
	}
	return 0;
}

static struct audit_report
verify(void)
{
	struct audit_report rep;
	struct sm_err err;

	if (audit_verify(db, keyring_audit_key(kr), 0, NULL, &rep, &err) == -1)
		fail_msg("verify: %s", err.msg);
	return rep;
}

static void
expect(enum audit_problem p, long long id)
{
	struct audit_report rep = verify();

	if (rep.problem != p || rep.event_id != id)
		fail_msg("expected %s at event %lld, got %s at %lld: %s",
		    audit_problem_name(p), id, audit_problem_name(rep.problem),
		    rep.event_id, rep.what);
}

static void
untouched_trail_verifies(void **s)
{
	struct audit_report rep;

	(void)s;
	rep = verify();
	assert_int_equal(rep.problem, AUDIT_OK);
	assert_int_equal(rep.rows, NEVENTS);
	assert_int_equal(rep.sealed, NEVENTS);
}

static void
later_events_extend_the_chain(void **s)
{
	struct audit_report rep, again;
	unsigned long long n = 0;
	struct sm_err err;

	(void)s;
	add_events(3, "later");
	rep = verify();
	assert_int_equal(rep.problem, AUDIT_OK);
	assert_int_equal(rep.rows - rep.sealed, 3);
	assert_int_equal(audit_seal(db, keyring_audit_key(kr), 0, &n, &rep,
	    &err), 0);
	assert_int_equal(n, 3);
	assert_int_equal(rep.head_seq, NEVENTS + 3);
	again = verify();
	assert_int_equal(again.problem, AUDIT_OK);
	assert_memory_equal(again.head, rep.head, 32);
	/* An anchor taken from the seal checks out... */
	assert_int_equal(audit_verify(db, keyring_audit_key(kr), rep.head_seq,
	    rep.head, &again, &err), 0);
	assert_int_equal(again.problem, AUDIT_OK);
}

static void
grace_period_leaves_young_rows_unsealed(void **s)
{
	struct audit_report rep;
	unsigned long long n = 9;
	struct sm_err err;

	(void)s;
	add_events(2, "young");
	assert_int_equal(audit_seal(db, keyring_audit_key(kr), 3600, &n, &rep,
	    &err), 0);
	assert_int_equal(n, 0);
}

static void
altered_row_is_caught(void **s)
{
	(void)s;
	exec("UPDATE events SET detail = 'nothing to see' WHERE id = 5");
	expect(AUDIT_ALTERED, 5);
}

static void
altered_time_is_caught(void **s)
{
	(void)s;
	exec("UPDATE events SET at = at + 1000000 WHERE id = 9");
	expect(AUDIT_ALTERED, 9);
}

static void
altered_unsealed_row_is_caught(void **s)
{
	(void)s;
	add_events(2, "fresh");
	exec("UPDATE events SET kind = 'viewed', client_addr = '203.0.113.9'"
	    " WHERE id = 14");
	expect(AUDIT_ALTERED, 14);
}

static void
deleted_row_is_caught(void **s)
{
	struct audit_report rep;

	(void)s;
	exec("DELETE FROM events WHERE id = 6");
	rep = verify();
	assert_int_equal(rep.problem, AUDIT_DELETED);
	assert_int_equal(rep.event_id, 7);	/* the row after the hole */
	assert_int_equal(rep.seq, 6);		/* the missing one */
}

static void
deleted_newest_rows_are_caught(void **s)
{
	(void)s;
	exec("DELETE FROM events WHERE id >= 11");
	expect(AUDIT_DELETED, NEVENTS);
}

static void
deleted_tail_and_seal_records_are_caught_by_the_anchor(void **s)
{
	struct audit_report rep;
	struct sm_err err;
	unsigned char head[32];

	(void)s;
	rep = verify();
	memcpy(head, rep.head, 32);
	exec("DELETE FROM events WHERE id >= 11");
	exec("DELETE FROM audit_seals");
	exec("UPDATE events SET seq = NULL, chain_hash = NULL");
	/* Without the anchor the rewound trail looks merely unsealed... */
	assert_int_equal(verify().problem, AUDIT_OK);
	/* ...the anchor kept outside the database tells. */
	assert_int_equal(audit_verify(db, keyring_audit_key(kr), NEVENTS, head,
	    &rep, &err), 0);
	assert_int_equal(rep.problem, AUDIT_DELETED);
}

static void
swapped_rows_are_caught(void **s)
{
	(void)s;
	/* Moving rows (ids swapped, each keeping its MAC, seq and chain). */
	exec("UPDATE events SET id = 1000 WHERE id = 4");
	exec("UPDATE events SET id = 4 WHERE id = 5");
	exec("UPDATE events SET id = 5 WHERE id = 1000");
	expect(AUDIT_REORDERED, 4);
}

static void
swapped_contents_are_caught(void **s)
{
	(void)s;
	/* Contents and MACs swapped between two rows that keep their ids
	 * and places in the chain: every MAC is valid, the chain is not. */
	exec("CREATE TEMPORARY TABLE swap AS SELECT * FROM events WHERE id IN (7, 8)");
	exec("UPDATE events e JOIN swap s ON s.id = 15 - e.id SET e.at = s.at,"
	    " e.kind = s.kind, e.delivery_id = s.delivery_id,"
	    " e.client_addr = s.client_addr, e.user_agent = s.user_agent,"
	    " e.detail = s.detail, e.mac = s.mac");
	exec("DROP TEMPORARY TABLE swap");
	expect(AUDIT_REORDERED, 7);
}

static void
row_slipped_in_among_sealed_rows_is_caught(void **s)
{
	(void)s;
	/* Without the key a forger can only leave the MAC out. */
	exec("DELETE FROM events WHERE id = 3");
	exec("INSERT INTO events (id, at, kind, lab_id) VALUES (3, 1, 'viewed', 1)");
	expect(AUDIT_INSERTED, 3);
}

static void
seal_refuses_to_bless_an_altered_row(void **s)
{
	struct audit_report rep;
	unsigned long long n = 0;
	struct sm_err err;

	(void)s;
	add_events(2, "unsealed");
	exec("UPDATE events SET detail = 'forged' WHERE id = 13");
	assert_int_equal(audit_seal(db, keyring_audit_key(kr), 0, &n, &rep,
	    &err), -1);
	assert_int_equal(rep.problem, AUDIT_ALTERED);
	assert_int_equal(rep.event_id, 13);
	assert_non_null(strstr(err.msg, "event 13"));
}

static void
seal_refuses_to_extend_a_broken_head(void **s)
{
	struct audit_report rep;
	unsigned long long n = 0;
	struct sm_err err;

	(void)s;
	exec("DELETE FROM events WHERE id = 12");
	add_events(1, "after");
	assert_int_equal(audit_seal(db, keyring_audit_key(kr), 0, &n, &rep,
	    &err), -1);
	assert_non_null(strstr(err.msg, "audit verify"));
}

static void
rows_without_a_mac_are_adopted_at_seal(void **s)
{
	struct audit_report rep;
	unsigned long long n = 0;
	struct sm_err err;

	(void)s;
	/* A program that did not load the audit key (NULL MAC). */
	event_audit_key_clear();
	add_events(2, "no key");
	assert_int_equal(event_audit_key_set(kr, &err), 0);
	rep = verify();
	assert_int_equal(rep.problem, AUDIT_OK);
	assert_int_equal(rep.unmacd, 2);
	assert_int_equal(audit_seal(db, keyring_audit_key(kr), 0, &n, &rep,
	    &err), 0);
	assert_int_equal(n, 2);
	assert_int_equal(rep.unmacd, 2);
	rep = verify();
	assert_int_equal(rep.problem, AUDIT_OK);
	assert_int_equal(rep.unmacd, 0);
	exec("UPDATE events SET detail = 'x' WHERE id = 14");
	expect(AUDIT_ALTERED, 14);
}

static int
setup(void **state)
{
	const char *conf = getenv("SEALMAIL_CONF");
	char path[64];
	struct sm_err err;

	(void)state;
	if (mkdtemp(keydir) == NULL ||
	    keyring_generate(keydir, 1, KEY_AUDIT, &err) == -1 ||
	    keyring_load(&kr, keydir, 0, KEY_AUDIT, &err) == -1 ||
	    event_audit_key_set(kr, &err) == -1)
		goto fail;
	snprintf(path, sizeof(path), "%s/audit", keydir);
	unlink(path);
	rmdir(keydir);
	if (conf == NULL)
		return 0;
	if (config_load(&cf, conf, &err) == -1 ||
	    db_open(&db, cf, DB_ROLE_ADMIN, &err) == -1)
		goto fail;
	return 0;
fail:
	fprintf(stderr, "setup: %s\n", err.msg);
	return -1;
}

static int
teardown(void **state)
{
	(void)state;
	event_audit_key_clear();
	db_close(db);
	config_free(cf);
	keyring_free(kr);
	return 0;
}

#define T(f) cmocka_unit_test_setup(f, fresh)

int
main(void)
{
	/* The MAC needs no database; the chain needs the stack's MariaDB,
	 * and without it only the first group runs (one TAP plan either
	 * way, and nothing reported as a failed skip). */
	const struct CMUnitTest pure[] = {
		cmocka_unit_test(mac_covers_every_field_and_tells_null_from_empty),
		cmocka_unit_test(mac_depends_on_the_key),
		cmocka_unit_test(unknown_kind_is_refused),
		cmocka_unit_test(audit_key_file_is_private_and_never_replaced),
	};
	const struct CMUnitTest all[] = {
		cmocka_unit_test(mac_covers_every_field_and_tells_null_from_empty),
		cmocka_unit_test(mac_depends_on_the_key),
		cmocka_unit_test(unknown_kind_is_refused),
		cmocka_unit_test(audit_key_file_is_private_and_never_replaced),
		T(untouched_trail_verifies),
		T(later_events_extend_the_chain),
		T(grace_period_leaves_young_rows_unsealed),
		T(altered_row_is_caught),
		T(altered_time_is_caught),
		T(altered_unsealed_row_is_caught),
		T(deleted_row_is_caught),
		T(deleted_newest_rows_are_caught),
		T(deleted_tail_and_seal_records_are_caught_by_the_anchor),
		T(swapped_rows_are_caught),
		T(swapped_contents_are_caught),
		T(row_slipped_in_among_sealed_rows_is_caught),
		T(seal_refuses_to_bless_an_altered_row),
		T(seal_refuses_to_extend_a_broken_head),
		T(rows_without_a_mac_are_adopted_at_seal),
	};
	int rc;

	if (sodium_init() < 0 || mysql_library_init(0, NULL, NULL) != 0)
		return 1;
	if (getenv("SEALMAIL_CONF") == NULL)
		rc = cmocka_run_group_tests(pure, setup, teardown);
	else
		rc = cmocka_run_group_tests(all, setup, teardown);
	mysql_library_end();
	return rc;
}
