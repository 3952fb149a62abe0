/* test_store.c - the escrow against a real MariaDB (contrib/stack): round
 * trips of any size and piece size, nothing left by an uncommitted message,
 * and every kind of tampering with the stored rows detected. */
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
#include "store.h"

#define CHUNK 4096

static struct config *cf;
static struct keyring *wkr, *rkr;
static struct db *mdb, *mdb2, *pdb, *adb;
static long long lab;

struct stored {
	char id[SM_ID_HEX];
	char token[SM_TOKEN_TEXT];
};

static unsigned char *
random_bytes(size_t n)
{
	unsigned char *p = malloc(n ? n : 1);

	assert_non_null(p);
	randombytes_buf(p, n);
	return p;
}

static struct store_buf *lent;	/* buffers store_one lends, or NULL */
static const char *question = "Year of birth?";

static void
store_one(const unsigned char *data, size_t n, size_t piece, struct stored *out)
{
	struct store_meta meta = { .lab_id = lab, .sender = "lab@example.org",
	    .reference = "REF-1", .expires = time(NULL) + 86400 * 7,
	    .chunk_size = CHUNK, .buf = lent };
	struct store_delivery d = { .address = "patient@example.net",
	    .kind = VERIF_QUESTION, .question = question,
	    .answer_hash = "$argon2id$placeholder" };
	struct store_msg *m = NULL;
	struct sm_err err;
	size_t off;

	if (store_begin(&m, mdb, wkr, &meta, &err) == -1)
		fail_msg("store_begin: %s", err.msg);
	for (off = 0; off < n; off += piece) {
		size_t take = n - off < piece ? n - off : piece;

		if (store_append(m, data + off, take, &err) == -1)
			fail_msg("store_append: %s", err.msg);
	}
	if (store_add_delivery(m, &d, out->token, &err) == -1 ||
	    store_commit(m, "192.0.2.1", &err) == -1)
		fail_msg("commit: %s", err.msg);
	assert_true(store_msg_delivery_id(m, 0) > 0);
	assert_int_equal(store_msg_size(m), n);
	snprintf(out->id, sizeof(out->id), "%s", store_msg_id(m));
	store_free(m);
}

/* Reads the whole message back; -1 when the store refuses. */
static int
read_all(const char *id, unsigned char **data, size_t *n, struct sm_err *err)
{
	struct store_reader *r = NULL;
	unsigned char *p;
	size_t size, off = 0, got;

	if (store_reader_open(&r, pdb, rkr, id, err) == -1)
		return -1;
	size = (size_t)store_reader_size(r);
	p = malloc(size + 1);
	assert_non_null(p);
	for (;;) {
		/* odd read sizes cross chunk boundaries */
		if (store_reader_read(r, p + off, size + 1 - off < 1000 ?
		    size + 1 - off : 1000, &got, err) == -1) {
			free(p);
			store_reader_free(r);
			return -1;
		}
		if (got == 0)
			break;
		off += got;
	}
	store_reader_free(r);
	*data = p;
	*n = off;
	return 0;
}

static void
check_round_trip(size_t n, size_t piece)
{
	unsigned char *in = random_bytes(n), *back = NULL;
	struct stored s;
	struct sm_err err;
	size_t got;

	store_one(in, n, piece, &s);
	if (read_all(s.id, &back, &got, &err) == -1)
		fail_msg("read back: %s", err.msg);
	assert_int_equal(got, n);
	if (n > 0)
		assert_memory_equal(in, back, n);
	free(in);
	free(back);
}

static void
message_round_trips_in_odd_pieces(void **state)
{
	(void)state;
	check_round_trip(100000, 777);
	check_round_trip(100000, 1);
	check_round_trip(100000, 100000);
}

static void
empty_message_round_trips(void **state)
{
	(void)state;
	check_round_trip(0, 1);
}

static void
exact_chunk_multiple_round_trips(void **state)
{
	(void)state;
	check_round_trip(CHUNK * 5, CHUNK);
	check_round_trip(CHUNK, 100);
	check_round_trip(CHUNK + 1, 100);
}

static void
seek_reads_from_any_offset(void **state)
{
	size_t n = CHUNK * 3 + 10;
	unsigned char *in = random_bytes(n), buf[CHUNK * 2];
	struct store_reader *r = NULL;
	struct stored s;
	struct sm_err err;
	size_t got;

	(void)state;
	store_one(in, n, 999, &s);
	assert_int_equal(store_reader_open(&r, pdb, rkr, s.id, &err), 0);
	assert_int_equal(store_reader_seek(r, CHUNK * 2 - 5, &err), 0);
	assert_int_equal(store_reader_read(r, buf, sizeof(buf), &got, &err), 0);
	assert_int_equal(got, 5);	/* a read stops at a chunk end */
	assert_memory_equal(buf, in + CHUNK * 2 - 5, 5);
	assert_int_equal(store_reader_read(r, buf, sizeof(buf), &got, &err), 0);
	assert_int_equal(got, CHUNK);
	assert_memory_equal(buf, in + CHUNK * 2, CHUNK);
	assert_int_equal(store_reader_seek(r, n, &err), 0);
	assert_int_equal(store_reader_read(r, buf, sizeof(buf), &got, &err), 0);
	assert_int_equal(got, 0);
	assert_int_equal(store_reader_seek(r, n + 1, &err), -1);
	store_reader_free(r);
	free(in);
}

static void
link_is_found_by_its_token_only(void **state)
{
	unsigned char data[10] = "0123456789";
	struct store_link link;
	struct stored s;
	struct sm_err err;
	char bad[SM_TOKEN_TEXT + 8];

	(void)state;
	store_one(data, sizeof(data), 3, &s);
	assert_int_equal(store_find_link(pdb, s.token, strlen(s.token), &link, &err), 1);
	assert_string_equal(link.message_id, s.id);
	assert_string_equal(link.address, "patient@example.net");
	assert_int_equal(link.kind, VERIF_QUESTION);
	assert_string_equal(link.question, "Year of birth?");
	assert_int_equal(link.failed_attempts, 0);
	assert_int_equal(link.retracted, 0);
	/* one character changed */
	memcpy(bad, s.token, SM_TOKEN_TEXT);
	bad[5] = bad[5] == 'A' ? 'B' : 'A';
	assert_int_equal(store_find_link(pdb, bad, strlen(bad), &link, &err), 0);
	/* truncated, over-long, garbage, empty */
	assert_int_equal(store_find_link(pdb, s.token, SM_TOKEN_CHARS - 1, &link, &err), 0);
	snprintf(bad, sizeof(bad), "%sAAAA", s.token);
	assert_int_equal(store_find_link(pdb, bad, strlen(bad), &link, &err), 0);
	assert_int_equal(store_find_link(pdb, "' OR 1=1 --", 11, &link, &err), 0);
	assert_int_equal(store_find_link(pdb, "", 0, &link, &err), 0);
}

static void
lent_buffers_serve_many_messages_and_keep_no_plaintext(void **state)
{
	static const size_t sizes[] = { 10, CHUNK * 3 + 5, 0, CHUNK, 100 };
	struct store_buf b = { 0 };
	size_t i;

	(void)state;
	lent = &b;
	for (i = 0; i < sizeof(sizes) / sizeof(sizes[0]); i++) {
		check_round_trip(sizes[i], 333);
		assert_true(b.cap <= CHUNK);
		/* The message is gone: none of its bytes stay behind. */
		if (sizes[i] > 0)
			assert_true(sodium_is_zero(b.pt, sizes[i] < CHUNK ?
			    sizes[i] : CHUNK));
	}
	lent = NULL;
	store_buf_free(&b);
	store_buf_free(&b);	/* twice is harmless */
}

static void
question_of_500_four_byte_characters_is_found_whole(void **state)
{
	char q[SM_QUESTION_BYTES + 1];
	unsigned char data[1] = "x";
	struct store_link link;
	struct stored s;
	struct sm_err err;
	size_t i;

	(void)state;
	for (i = 0; i < SM_QUESTION_MAX; i++)
		memcpy(q + i * 4, "\xf0\x9f\x98\x80", 4);	/* U+1F600 */
	q[SM_QUESTION_BYTES] = '\0';
	question = q;
	store_one(data, 1, 1, &s);
	question = "Year of birth?";
	assert_int_equal(store_find_link(pdb, s.token, strlen(s.token), &link, &err), 1);
	assert_string_equal(link.question, q);
}

static long long
count(const char *sql, const char *id)
{
	struct db_val arg = DB_S(id);
	long long n = -1;
	struct db_col c = DB_COL_I(&n);
	struct sm_err err;

	if (db_query_row(adb, sql, &arg, 1, &c, 1, &err) != 1)
		fail_msg("count: %s", err.msg);
	return n;
}

static void
uncommitted_message_leaves_nothing(void **state)
{
	struct store_meta meta = { .lab_id = lab, .sender = "", .expires =
	    time(NULL) + 86400, .chunk_size = CHUNK };
	unsigned char *data = random_bytes(CHUNK * 4);
	struct store_msg *m = NULL;
	struct sm_err err;
	char id[SM_ID_HEX];

	(void)state;
	assert_int_equal(store_begin(&m, mdb, wkr, &meta, &err), 0);
	assert_int_equal(store_append(m, data, CHUNK * 4, &err), 0);
	snprintf(id, sizeof(id), "%s", store_msg_id(m));
	store_free(m);	/* the MTA aborted the message */
	assert_int_equal(count("SELECT COUNT(*) FROM message_chunks WHERE message_id = ?", id), 0);
	/* commit without recipients fails and also leaves nothing */
	assert_int_equal(store_begin(&m, mdb, wkr, &meta, &err), 0);
	assert_int_equal(store_append(m, data, CHUNK * 4, &err), 0);
	snprintf(id, sizeof(id), "%s", store_msg_id(m));
	assert_int_equal(store_commit(m, NULL, &err), -1);
	store_free(m);
	assert_int_equal(count("SELECT COUNT(*) FROM message_chunks WHERE message_id = ?", id), 0);
	assert_int_equal(count("SELECT COUNT(*) FROM messages WHERE id = ?", id), 0);
	free(data);
}

/* Kills the milter connection from a second one of the same account (a
 * user may kill its own connections), at the step the test
 * chose: before COMMIT is sent (the server rolls back) or after it
 * succeeded (committed, but the reply is "lost"). */
struct kill_at {
	int before;
	int fired;
};

static int
kill_connection(struct db *db, int before, void *arg)
{
	struct kill_at *k = arg;
	struct sm_err err;
	char sql[64];

	if (before != k->before)
		return 0;
	k->fired = 1;
	db_set_commit_hook(db, NULL, NULL);	/* once, whatever happens next */
	snprintf(sql, sizeof(sql), "KILL CONNECTION %lu", db_thread_id(db));
	if (db_exec_ddl(mdb2, sql, &err) == -1)
		fail_msg("kill: %s", err.msg);
	return before ? 0 : -1;
}

/* Commits one message while the hook kills the connection; returns what
 * store_commit said and the message id. */
static int
commit_with_kill(int before, char id[SM_ID_HEX])
{
	struct store_meta meta = { .lab_id = lab, .sender = "", .expires =
	    time(NULL) + 86400, .chunk_size = CHUNK };
	struct store_delivery d = { .address = "patient@example.net",
	    .kind = VERIF_PASSWORD, .answer_hash = "$argon2id$placeholder",
	    .notified = "in-place" };
	struct kill_at k = { .before = before };
	char token[SM_TOKEN_TEXT];
	struct store_msg *m = NULL;
	struct sm_err err;
	int rc;

	assert_int_equal(store_begin(&m, mdb, wkr, &meta, &err), 0);
	assert_int_equal(store_append(m, "result", 6, &err), 0);
	assert_int_equal(store_add_delivery(m, &d, token, &err), 0);
	snprintf(id, SM_ID_HEX, "%s", store_msg_id(m));
	db_set_commit_hook(mdb, kill_connection, &k);
	rc = store_commit(m, NULL, &err);
	assert_true(k.fired);
	store_free(m);
	return rc;
}

static void
commit_lost_after_the_server_committed_is_a_success(void **state)
{
	char id[SM_ID_HEX];

	(void)state;
	/* Reporting a failure would have the MTA seal and notify twice. */
	assert_int_equal(commit_with_kill(0, id), 0);
	assert_int_equal(count("SELECT COUNT(*) FROM messages WHERE id = ?", id), 1);
	assert_int_equal(count("SELECT COUNT(*) FROM events WHERE message_id = ?"
	    " AND kind IN ('sealed', 'notified')", id), 2);
}

static void
commit_lost_before_the_server_committed_is_a_failure(void **state)
{
	char id[SM_ID_HEX];

	(void)state;
	/* Reporting success would lose the message: the MTA would drop it. */
	assert_int_equal(commit_with_kill(1, id), -1);
	assert_int_equal(count("SELECT COUNT(*) FROM messages WHERE id = ?", id), 0);
	assert_int_equal(count("SELECT COUNT(*) FROM message_chunks WHERE message_id = ?", id), 0);
}

static void
milter_account_cannot_read_the_escrow(void **state)
{
	long long n;
	unsigned char key[SM_SEALED_KEY_BYTES];
	struct db_col c = DB_COL_I(&n), k = DB_COL_B(key, sizeof(key));
	struct sm_err err;

	(void)state;
	/* Only message ids, to learn whether a commit went through. */
	assert_int_equal(db_query_row(mdb, "SELECT sealed_key FROM messages", NULL, 0,
	    &k, 1, &err), -1);
	assert_int_equal(db_query_row(mdb, "SELECT MAX(size) FROM messages", NULL, 0,
	    &c, 1, &err), -1);
	assert_int_equal(db_query_row(mdb, "SELECT COUNT(*) FROM message_chunks",
	    NULL, 0, &c, 1, &err), -1);
	assert_int_equal(db_query_row(mdb, "SELECT COUNT(*) FROM deliveries",
	    NULL, 0, &c, 1, &err), -1);
}

static void
admin(const char *sql, const struct db_val *args, size_t n)
{
	struct sm_err err;

	if (db_exec(adb, sql, args, n, NULL, NULL, &err) == -1)
		fail_msg("%s: %s", sql, err.msg);
}

/* Stores a 3-chunk message, applies one change, and expects the store to
 * refuse it at open (at_open) or when reading. */
static void
expect_refused(void (*tamper)(const char *id, const char *other), int at_open,
    const char *why)
{
	unsigned char *in = random_bytes(CHUNK * 3 - 7), *back = NULL;
	struct stored s, other;
	struct store_reader *r = NULL;
	struct sm_err err;
	size_t got;

	store_one(in, CHUNK * 3 - 7, 1000, &s);
	store_one(in, CHUNK * 3 - 7, 1000, &other);
	tamper(s.id, other.id);
	if (at_open) {
		if (store_reader_open(&r, pdb, rkr, s.id, &err) == 0)
			fail_msg("%s: opened a tampered message", why);
	} else if (read_all(s.id, &back, &got, &err) == 0)
		fail_msg("%s: read a tampered message", why);
	assert_true(err.msg[0] != '\0');
	free(back);
	free(in);
}

static void
flip_bit(const char *id, const char *other)
{
	struct db_val a[1] = { DB_S(id) };

	(void)other;
	admin("UPDATE message_chunks SET data = CONCAT(LEFT(data, 100),"
	    " CHAR(ASCII(SUBSTRING(data, 101, 1)) ^ 1), SUBSTRING(data, 102))"
	    " WHERE message_id = ? AND idx = 1", a, 1);
}

static void
drop_last(const char *id, const char *other)
{
	struct db_val a[1] = { DB_S(id) };

	(void)other;
	admin("DELETE FROM message_chunks WHERE message_id = ? AND idx = 2", a, 1);
}

static void
drop_last_and_shrink(const char *id, const char *other)
{
	struct db_val a[1] = { DB_S(id) };

	(void)other;
	admin("DELETE FROM message_chunks WHERE message_id = ? AND idx = 2", a, 1);
	admin("UPDATE messages SET nchunks = 2, size = 8192 WHERE id = ?", a, 1);
}

static void
swap_chunks(const char *id, const char *other)
{
	struct db_val a[1] = { DB_S(id) };

	(void)other;
	admin("UPDATE message_chunks SET idx = 9 WHERE message_id = ? AND idx = 0", a, 1);
	admin("UPDATE message_chunks SET idx = 0 WHERE message_id = ? AND idx = 1", a, 1);
	admin("UPDATE message_chunks SET idx = 1 WHERE message_id = ? AND idx = 9", a, 1);
}

static void
foreign_chunk_data(const char *id, const char *other)
{
	struct db_val a[2] = { DB_S(other), DB_S(id) };

	admin("UPDATE message_chunks c JOIN message_chunks o ON o.message_id = ?"
	    " AND o.idx = 0 SET c.data = o.data"
	    " WHERE c.message_id = ? AND c.idx = 0", a, 2);
}

static void
foreign_chunk_with_tag(const char *id, const char *other)
{
	struct db_val a[2] = { DB_S(other), DB_S(id) };

	admin("UPDATE message_chunks c JOIN message_chunks o ON o.message_id = ?"
	    " AND o.idx = 0 SET c.data = o.data, c.tag = o.tag"
	    " WHERE c.message_id = ? AND c.idx = 0", a, 2);
}

static void
foreign_key(const char *id, const char *other)
{
	struct db_val a[2] = { DB_S(other), DB_S(id) };

	admin("UPDATE messages m JOIN messages o ON o.id = ?"
	    " SET m.sealed_key = o.sealed_key WHERE m.id = ?", a, 2);
}

static void
change_created(const char *id, const char *other)
{
	struct db_val a[1] = { DB_S(id) };

	(void)other;
	admin("UPDATE messages SET created = created - 1 WHERE id = ?", a, 1);
}

static void
change_size(const char *id, const char *other)
{
	struct db_val a[1] = { DB_S(id) };

	(void)other;
	admin("UPDATE messages SET size = size - 1 WHERE id = ?", a, 1);
}

static void
flipped_bit_is_detected(void **s) { (void)s; expect_refused(flip_bit, 0, "flipped bit"); }
static void
missing_chunk_is_detected(void **s) { (void)s; expect_refused(drop_last, 1, "missing chunk"); }
static void
truncation_is_detected(void **s) { (void)s; expect_refused(drop_last_and_shrink, 1, "truncation"); }
static void
reordered_chunks_are_detected(void **s) { (void)s; expect_refused(swap_chunks, 1, "reorder"); }
static void
chunk_from_another_message_is_detected(void **s)
{
	(void)s;
	expect_refused(foreign_chunk_data, 0, "foreign chunk");
	expect_refused(foreign_chunk_with_tag, 1, "foreign chunk and tag");
}
static void
key_from_another_message_is_refused(void **s) { (void)s; expect_refused(foreign_key, 1, "foreign key"); }
static void
changed_metadata_is_detected(void **s)
{
	(void)s;
	expect_refused(change_created, 1, "created");
	expect_refused(change_size, 1, "size");
}

static int
setup(void **state)
{
	const char *conf = getenv("SEALMAIL_CONF");
	struct sm_err err;
	struct db_col c = DB_COL_I(&lab);
	const char *dir;
	int v;

	(void)state;
	if (config_load(&cf, conf, &err) == -1)
		goto fail;
	dir = config_str(cf, "keys.dir");
	v = (int)config_int(cf, "keys.escrow_version");
	if (keyring_load(&wkr, dir, v, KEY_ESCROW_PUBLIC | KEY_SIGN_SECRET, &err) == -1 ||
	    keyring_load(&rkr, dir, v, KEY_ESCROW_SECRET | KEY_SIGN_PUBLIC, &err) == -1 ||
	    db_open(&mdb, cf, DB_ROLE_MILTER, &err) == -1 ||
	    db_open(&mdb2, cf, DB_ROLE_MILTER, &err) == -1 ||
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
	db_close(mdb2);
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
		cmocka_unit_test(message_round_trips_in_odd_pieces),
		cmocka_unit_test(empty_message_round_trips),
		cmocka_unit_test(exact_chunk_multiple_round_trips),
		cmocka_unit_test(seek_reads_from_any_offset),
		cmocka_unit_test(link_is_found_by_its_token_only),
		cmocka_unit_test(lent_buffers_serve_many_messages_and_keep_no_plaintext),
		cmocka_unit_test(question_of_500_four_byte_characters_is_found_whole),
		cmocka_unit_test(uncommitted_message_leaves_nothing),
		cmocka_unit_test(milter_account_cannot_read_the_escrow),
		cmocka_unit_test(commit_lost_after_the_server_committed_is_a_success),
		cmocka_unit_test(commit_lost_before_the_server_committed_is_a_failure),
		cmocka_unit_test(flipped_bit_is_detected),
		cmocka_unit_test(missing_chunk_is_detected),
		cmocka_unit_test(truncation_is_detected),
		cmocka_unit_test(reordered_chunks_are_detected),
		cmocka_unit_test(chunk_from_another_message_is_detected),
		cmocka_unit_test(key_from_another_message_is_refused),
		cmocka_unit_test(changed_metadata_is_detected),
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
