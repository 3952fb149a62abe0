/* test_csv.c - the recipients CSV importer (no database): what it accepts,
 * every bad row reported by line and reason, hostile input refused without
 * eating memory, answers hashed and never quoted back, and the CSV export
 * cell that defuses spreadsheet formulas. */
#include <stdarg.h>
#include <stddef.h>
#include <setjmp.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include <cmocka.h>
#include <sodium.h>

#include "answer.h"
#include "crypto.h"
#include "recipient_import.h"
#include "tracking.h"

static const struct answer_cost cheap = { 1, 8192, DATE_MDY };

/* Parses text in pieces of `piece` bytes; returns the importer. */
static struct rimport *
parse(const char *text, size_t len, size_t piece)
{
	struct rimport *ri = NULL;
	struct sm_err err;
	size_t off;

	assert_int_equal(rimport_new(&ri, 2, &err), 0);
	for (off = 0; off < len; off += piece) {
		size_t n = len - off < piece ? len - off : piece;

		if (rimport_feed(ri, text + off, n) == -1)
			return ri;
	}
	(void)rimport_finish(ri);
	return ri;
}

static struct rimport *
parse_str(const char *text)
{
	return parse(text, strlen(text), 1 << 16);
}

/* The errors joined, for assertions and for failure messages. */
static const char *
errors(const struct rimport *ri)
{
	static char all[8192];
	size_t i, o = 0;

	all[0] = '\0';
	for (i = 0; i < rimport_nkept(ri); i++) {
		int n = snprintf(all + o, sizeof(all) - o, "%s\n",
		    rimport_error(ri, i));

		if (n < 0 || (size_t)n >= sizeof(all) - o)
			break;
		o += (size_t)n;
	}
	return all;
}

static void
expect_error(const char *csv, const char *want)
{
	struct rimport *ri = parse_str(csv);

	if (strstr(errors(ri), want) == NULL)
		fail_msg("wanted \"%s\", got:\n%s", want, errors(ri));
	assert_int_equal(rimport_rows(ri) < 100, 1);
	rimport_free(ri);
}

static void
valid_file_with_bom_crlf_and_quoting_is_read(void **s)
{
	static const char csv[] =
	    "\xef\xbb\xbf" "address,kind,question,answer,recovery_email,phone\r\n"
	    "a@example.net,question,\"Town, then \"\"year\"\"?\",\"Bath, 1980\",,\r\n"
	    "B@Example.NET,password,,hunter2,rec@example.org,\r\n"
	    ",pin,,,,+441632960001\r\n"
	    "c@example.net,registered,,,,\r\n";
	struct rimport *ri;

	(void)s;
	ri = parse_str(csv);
	assert_int_equal(rimport_nerrors(ri), 0);
	assert_int_equal(rimport_rows(ri), 4);
	rimport_free(ri);
}

static void
byte_by_byte_feeding_gives_the_same_result(void **s)
{
	static const char csv[] =
	    "\xef\xbb\xbf" "address,kind,question,answer\n"
	    "a@example.net,question,\"line one\nline two\",x\n"
	    "bad,question,Q,A\n";
	struct rimport *ri;

	(void)s;
	ri = parse(csv, sizeof(csv) - 1, 1);
	assert_int_equal(rimport_rows(ri), 0);	/* the question has a newline */
	assert_int_equal(rimport_nerrors(ri), 2);
	assert_non_null(strstr(errors(ri), "line 2: question"));
	assert_non_null(strstr(errors(ri), "line 4: address \"bad\""));
	rimport_free(ri);
}

static void
columns_may_come_in_any_order(void **s)
{
	struct rimport *ri;

	(void)s;
	ri = parse_str("Answer,Question,KIND,address\n1980,Year?,question,a@b.example\n");
	assert_int_equal(rimport_nerrors(ri), 0);
	assert_int_equal(rimport_rows(ri), 1);
	rimport_free(ri);
}

static void
bad_headers_are_refused(void **s)
{
	(void)s;
	expect_error("address,kind,question\na@b.example,pin,\n",
	    "line 1: the header lacks the \"answer\" column");
	expect_error("address,kind,question,answer,colour\n",
	    "line 1: unknown column \"colour\"");
	expect_error("address,kind,question,answer,kind\n",
	    "line 1: column \"kind\" appears twice");
	expect_error("", "no header row");
}

static void
every_bad_row_is_reported_with_its_line(void **s)
{
	static const char csv[] =
	    "address,kind,question,answer\n"		/* 1 */
	    "ok1@example.net,question,Q,A\n"		/* 2 */
	    "a@example.net,question,Q\n"		/* 3 */
	    "b@example.net,question,Q,A,extra\n"	/* 4 */
	    "not-an-address,question,Q,A\n"		/* 5 */
	    "c@example.net,magic,Q,A\n"			/* 6 */
	    "d@example.net,question,,A\n"		/* 7 */
	    "e@example.net,question,Q,\n"		/* 8 */
	    "f@example.net,password,,\n"		/* 9 */
	    "g@example.net,pin,,1234\n"			/* 10 */
	    "OK1@EXAMPLE.NET,question,Q,A\n"		/* 11 */
	    "h@example.net,question,Q,A\n";		/* 12 */
	static const char *const want[] = {
	    "line 3: 3 fields, but the header has 4",
	    "line 4: 5 fields, but the header has 4",
	    "line 5: address \"not-an-address\" is not a valid email address",
	    "line 6: unknown kind \"magic\"",
	    "line 7: kind question needs a question",
	    "line 8: answer is empty",
	    "line 9: answer is empty",
	    "line 10: kind pin takes no answer",
	    "line 11: address \"OK1@EXAMPLE.NET\" appears again (first on line 2)",
	};
	struct rimport *ri;
	size_t i;

	(void)s;
	ri = parse_str(csv);
	assert_int_equal(rimport_nerrors(ri), sizeof(want) / sizeof(want[0]));
	for (i = 0; i < sizeof(want) / sizeof(want[0]); i++)
		if (strstr(errors(ri), want[i]) == NULL)
			fail_msg("missing \"%s\" in:\n%s", want[i], errors(ri));
	assert_int_equal(rimport_rows(ri), 2);	/* lines 2 and 12 */
	rimport_free(ri);
}

static void
line_numbers_count_newlines_inside_quotes(void **s)
{
	(void)s;
	expect_error("address,kind,question,answer\n"
	    "a@example.net,password,\"one\ntwo\nthree\",pw\n"
	    "b@example.net,bogus,Q,A\n", "line 5: unknown kind");
}

static void
unbalanced_quotes_are_refused(void **s)
{
	(void)s;
	/* A quote never closed: the rest of the file is one field. */
	expect_error("address,kind,question,answer\n"
	    "a@example.net,question,Q,A\n"
	    "b@example.net,question,\"What year?,1980\n"
	    "c@example.net,question,Q,A\n",
	    "line 3: unbalanced quote");
	/* A stray quote inside an unquoted field. */
	expect_error("address,kind,question,answer\n"
	    "a@example.net,question,Wh\"at,A\n", "malformed quoting in the "
	    "record starting on line 2");
	/* Text after a closing quote. */
	expect_error("address,kind,question,answer\n"
	    "a@example.net,question,\"Q\"x,A\n", "line 2: malformed quoting");
}

static void
ten_megabyte_field_is_refused_early(void **s)
{
	const size_t big = 10 * 1024 * 1024;
	static const char head[] = "address,kind,question,answer\n"
	    "a@example.net,question,\"";
	struct rimport *ri = NULL;
	struct sm_err err;
	char *csv;
	size_t off, fed = 0;

	(void)s;
	csv = malloc(sizeof(head) + big);
	assert_non_null(csv);
	memcpy(csv, head, sizeof(head) - 1);
	memset(csv + sizeof(head) - 1, 'x', big);
	assert_int_equal(rimport_new(&ri, 1, &err), 0);
	/* Fed in 64 KiB pieces: the importer must give up in the first
	 * ones, not after buffering ten megabytes. */
	for (off = 0; off < sizeof(head) - 1 + big; off += 65536) {
		fed += 65536;
		if (rimport_feed(ri, csv + off, 65536) == -1)
			break;
	}
	assert_true(fed <= 2 * 65536);
	assert_non_null(strstr(errors(ri), "line 2: a field is longer than 4096 bytes"));
	assert_int_equal(rimport_finish(ri), -1);
	rimport_free(ri);
	free(csv);

	/* Unquoted, on one endless line, too. */
	csv = malloc(big);
	assert_non_null(csv);
	memset(csv, 'y', big);
	assert_int_equal(rimport_new(&ri, 1, &err), 0);
	assert_int_equal(rimport_feed(ri, "address,kind,question,answer\n", 29), 0);
	assert_int_equal(rimport_feed(ri, csv, big), -1);
	assert_non_null(strstr(errors(ri), "longer than 4096 bytes"));
	rimport_free(ri);
	free(csv);
}

static void
invalid_utf8_is_refused(void **s)
{
	(void)s;
	expect_error("address,kind,question,answer\n"
	    "a@example.net,question,Q\xc3\x28,A\n", "line 2: question is not valid UTF-8");
	expect_error("address,kind,question,answer\n"
	    "a@example.net,question,Q,\xc0\xaf\n", "line 2: answer is not valid UTF-8");
	expect_error("address,kind,question,answer\n"
	    "a@example.net,question,Q,\xed\xa0\x80\n", "not valid UTF-8");
}

static void
nul_byte_is_refused(void **s)
{
	static const char csv[] = "address,kind,question,answer\n"
	    "a@example.net,question,Q,A\0B\n";
	struct rimport *ri;

	(void)s;
	ri = parse(csv, sizeof(csv) - 1, 4096);
	assert_non_null(strstr(errors(ri), "line 2: a field contains a NUL byte"));
	rimport_free(ri);
}

static void
errors_never_quote_the_answer(void **s)
{
	struct rimport *ri;

	(void)s;
	ri = parse_str("address,kind,question,answer\n"
	    "a@example.net,question,Q,\" -- .. \"\n"
	    "b@example.net,question,\"\",Secret-Answer-1\n"
	    "bad,password,,Secret-Answer-2\n");
	assert_int_equal(rimport_nerrors(ri), 3);
	assert_non_null(strstr(errors(ri), "line 2: answer: answer is empty"));
	assert_null(strstr(errors(ri), "Secret-Answer"));
	rimport_free(ri);
}

static void
api_records_get_the_same_checks(void **s)
{
	static const struct rimport_record recs[] = {
		{ "a@example.net", "question", "Year?", "1980", NULL, NULL },
		{ "b@example.net", "question", NULL, "1980", NULL, NULL },
		{ "A@EXAMPLE.NET", "pin", NULL, NULL, NULL, NULL },
		{ NULL, "pin", NULL, NULL, NULL, "+441632960001" },
		{ "c@example.net", "password", NULL, "\xff", NULL, NULL },
	};
	struct rimport *ri = NULL;
	struct sm_err err;
	size_t i;

	(void)s;
	assert_int_equal(rimport_new(&ri, 1, &err), 0);
	for (i = 0; i < sizeof(recs) / sizeof(recs[0]); i++)
		assert_int_equal(rimport_add(ri, (unsigned)i + 1, &recs[i]), 0);
	assert_int_equal(rimport_finish(ri), 0);
	assert_int_equal(rimport_rows(ri), 2);
	assert_int_equal(rimport_nerrors(ri), 3);
	assert_non_null(strstr(errors(ri), "record 2: kind question needs a question"));
	assert_non_null(strstr(errors(ri), "record 3: address \"A@EXAMPLE.NET\" appears again (first on record 1)"));
	assert_non_null(strstr(errors(ri), "record 5: answer is not valid UTF-8"));
	/* CSV cannot be mixed in afterwards. */
	assert_int_equal(rimport_feed(ri, "address\n", 8), -1);
	rimport_free(ri);
}

static void
address_checks(void **s)
{
	static const struct { const char *a; int ok; } t[] = {
		{ "a@example.net", 1 }, { "first.last+tag@sub.example.co.uk", 1 },
		{ "a@localhost", 0 }, { "@example.net", 0 }, { "a@", 0 },
		{ "a b@example.net", 0 }, { "a@exa mple.net", 0 },
		{ "a@-example.net", 0 }, { "a@example-.net", 0 },
		{ "a@example..net", 0 }, { "a<@example.net", 0 },
		{ "a@b@example.net", 0 }, { "a@example.net.", 0 },
	};
	size_t i;

	(void)s;
	for (i = 0; i < sizeof(t) / sizeof(t[0]); i++)
		if (rimport_address_ok(t[i].a, strlen(t[i].a)) != t[i].ok)
			fail_msg("%s: expected %d", t[i].a, t[i].ok);
	assert_true(rimport_phone_ok("+441632960001", 13));
	assert_false(rimport_phone_ok("01632960001", 11));
	assert_false(rimport_phone_ok("+0441632960", 11));
	assert_false(rimport_phone_ok("+44 1632 960", 12));
}

static void
answers_are_hashed_in_parallel_and_match(void **s)
{
	char dir[] = "/tmp/test_csv.XXXXXX";
	char csv[64 * 80 + 64], path[64];
	struct keyring *kr = NULL;
	struct rimport *ri = NULL;
	struct sm_err err;
	size_t o, i;

	(void)s;
	assert_non_null(mkdtemp(dir));
	assert_int_equal(keyring_generate(dir, 1, KEY_PEPPER, &err), 0);
	assert_int_equal(keyring_load(&kr, dir, 0, KEY_PEPPER, &err), 0);
	o = (size_t)snprintf(csv, sizeof(csv), "address,kind,question,answer\n");
	for (i = 0; i < 64; i++)
		o += (size_t)snprintf(csv + o, sizeof(csv) - o,
		    "p%zu@example.net,question,Year?,answer %zu\n", i, i);
	ri = parse_str(csv);
	assert_int_equal(rimport_nerrors(ri), 0);
	assert_int_equal(rimport_rows(ri), 64);
	if (rimport_hash(ri, kr, &cheap, NULL, NULL, &err) == -1)
		fail_msg("hash: %s", err.msg);
	rimport_free(ri);
	/* A wrong cost fails cleanly, naming no answer. */
	{
		static const struct answer_cost bad = { 0, 8192, DATE_MDY };

		ri = parse_str("address,kind,question,answer\nx@example.net,password,,pw\n");
		assert_int_equal(rimport_hash(ri, kr, &bad, NULL, NULL, &err), -1);
		assert_null(strstr(err.msg, "pw"));
		rimport_free(ri);
	}
	keyring_free(kr);
	snprintf(path, sizeof(path), "%s/pepper", dir);
	unlink(path);
	rmdir(dir);
}

static void
hash_matches_answer_check(void **s)
{
	char dir[] = "/tmp/test_csv.XXXXXX", path[64];
	char hash[SM_ANSWER_HASH_TEXT];
	struct keyring *kr = NULL;
	struct sm_err err;

	(void)s;
	/* rimport_hash uses answer_hash; what it stores must check with the
	 * portal's answer_check, normalised the same way. */
	assert_non_null(mkdtemp(dir));
	assert_int_equal(keyring_generate(dir, 1, KEY_PEPPER, &err), 0);
	assert_int_equal(keyring_load(&kr, dir, 0, KEY_PEPPER, &err), 0);
	assert_int_equal(answer_hash(kr, &cheap, "Bath, 1980", 10, hash, &err), 0);
	assert_int_equal(answer_check(kr, &cheap, hash, "bath 1980", 9, &err), 0);
	assert_int_equal(answer_check(kr, &cheap, hash, "bath 1981", 9, &err), 1);
	keyring_free(kr);
	snprintf(path, sizeof(path), "%s/pepper", dir);
	unlink(path);
	rmdir(dir);
}

static void
export_cells_defuse_formulas(void **s)
{
	static const struct { const char *in, *out; } t[] = {
		{ "=cmd|' /C calc'!A0", "\"'=cmd|' /C calc'!A0\"" },
		{ "+1+1", "\"'+1+1\"" }, { "-2", "\"'-2\"" },
		{ "@SUM(A1)", "\"'@SUM(A1)\"" }, { "\tx", "\"'\tx\"" },
		{ "\rx", "\"'\rx\"" }, { "plain", "\"plain\"" },
		{ "say \"hi\"", "\"say \"\"hi\"\"\"" }, { "", "\"\"" },
		{ "a=b", "\"a=b\"" },
	};
	char out[128];
	size_t i;

	(void)s;
	for (i = 0; i < sizeof(t) / sizeof(t[0]); i++) {
		assert_int_equal(track_csv_cell(t[i].in, out, sizeof(out)), 0);
		assert_string_equal(out, t[i].out);
	}
	assert_int_equal(track_csv_cell("too long for it", out, 8), -1);
}

int
main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test(valid_file_with_bom_crlf_and_quoting_is_read),
		cmocka_unit_test(byte_by_byte_feeding_gives_the_same_result),
		cmocka_unit_test(columns_may_come_in_any_order),
		cmocka_unit_test(bad_headers_are_refused),
		cmocka_unit_test(every_bad_row_is_reported_with_its_line),
		cmocka_unit_test(line_numbers_count_newlines_inside_quotes),
		cmocka_unit_test(unbalanced_quotes_are_refused),
		cmocka_unit_test(ten_megabyte_field_is_refused_early),
		cmocka_unit_test(invalid_utf8_is_refused),
		cmocka_unit_test(nul_byte_is_refused),
		cmocka_unit_test(errors_never_quote_the_answer),
		cmocka_unit_test(api_records_get_the_same_checks),
		cmocka_unit_test(address_checks),
		cmocka_unit_test(answers_are_hashed_in_parallel_and_match),
		cmocka_unit_test(hash_matches_answer_check),
		cmocka_unit_test(export_cells_defuse_formulas),
	};

	if (sodium_init() < 0)
		return 1;
	return cmocka_run_group_tests(tests, NULL, NULL);
}
