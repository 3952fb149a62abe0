/* test_policy.c - every X-Sealmail-* form the milter accepts and every one
 * it refuses (with the reason the lab will read), the verification
 * precedence headers > recipients table > lab default, and the CIDR
 * matching that decides which client networks belong to a lab. */
#include <stdarg.h>
#include <stddef.h>
#include <setjmp.h>
#include <stdint.h>
#include <cmocka.h>

#include <stdio.h>
#include <string.h>
#include <time.h>

#include <gmime/gmime.h>

#include "lab.h"
#include "policy.h"

#define NOW ((time_t)1800000000)	/* 2027-01-15 */
#define DAY (24 * 3600)

struct hdr {
	const char *name;
	const char *value;
};

struct row {
	const char *name;
	struct hdr h[6];
	const char *refused;	/* NULL: accepted; else text in the reply */
	const char *xcode;	/* for refusals; NULL: 5.7.1 */
};

static const struct row rows[] = {
	{ "no headers: accepted, lab default expiry", { { NULL, NULL } }, NULL, NULL },
	{ "question and answer accepted",
	    { { "X-Sealmail-Question", " Date of birth?" },
	      { "X-Sealmail-Answer", " 1970-01-02" } }, NULL, NULL },
	{ "password accepted", { { "X-Sealmail-Password", " s3cret" } }, NULL, NULL },
	{ "header names are case-insensitive",
	    { { "x-sealmail-password", " s3cret" } }, NULL, NULL },
	{ "folded question is unfolded",
	    { { "X-Sealmail-Question", " Your date\r\n\tof birth?" },
	      { "X-Sealmail-Answer", " 1970-01-02" } }, NULL, NULL },
	{ "encoded-word question is decoded",
	    { { "X-Sealmail-Question", " =?utf-8?q?Geburtsdatum_=C3=BC?=" },
	      { "X-Sealmail-Answer", " 1970-01-02" } }, NULL, NULL },
	{ "7d expiry accepted", { { "X-Sealmail-Expires", " 7d" } }, NULL, NULL },
	{ "6m expiry accepted", { { "X-Sealmail-Expires", " 6m" } }, NULL, NULL },
	{ "10y expiry accepted", { { "X-Sealmail-Expires", " 10y" } }, NULL, NULL },
	{ "date expiry accepted", { { "X-Sealmail-Expires", " 2027-06-30" } }, NULL, NULL },
	{ "reference accepted", { { "X-Sealmail-Reference", " LIS-2027-0042" } }, NULL, NULL },
	{ "E.164 phone accepted", { { "X-Sealmail-Phone", " +41791234567" } }, NULL, NULL },
	{ "template variant accepted", { { "X-Sealmail-Template", " oncology_2" } }, NULL, NULL },
	{ "our own X-Sealmail-Id is accepted (and stripped)",
	    { { "X-Sealmail-Id", " 0123" }, { "X-Sealmail-Id", " 4567" } }, NULL, NULL },

	{ "question without answer refused",
	    { { "X-Sealmail-Question", " Date of birth?" } },
	    "must be set together", NULL },
	{ "answer without question refused",
	    { { "X-Sealmail-Answer", " 1970-01-02" } }, "must be set together", NULL },
	{ "password with question refused",
	    { { "X-Sealmail-Password", " pw" }, { "X-Sealmail-Question", " q?" },
	      { "X-Sealmail-Answer", " a" } }, "not both", NULL },
	{ "duplicate answer refused",
	    { { "X-Sealmail-Question", " q?" }, { "X-Sealmail-Answer", " a" },
	      { "X-Sealmail-Answer", " b" } }, "X-Sealmail-Answer appears 2 times", NULL },
	{ "duplicate password refused",
	    { { "X-Sealmail-Password", " a" }, { "X-Sealmail-Password", " a" } },
	    "X-Sealmail-Password appears 2 times", NULL },
	{ "duplicate expiry refused",
	    { { "X-Sealmail-Expires", " 7d" }, { "X-Sealmail-Expires", " 8d" } },
	    "X-Sealmail-Expires appears 2 times", NULL },
	{ "unknown X-Sealmail header refused",
	    { { "X-Sealmail-Expire", " 7d" } }, "unknown header X-Sealmail-Expire", NULL },
	{ "empty password refused", { { "X-Sealmail-Password", "  " } },
	    "X-Sealmail-Password is empty", NULL },
	{ "answer of only punctuation refused",
	    { { "X-Sealmail-Question", " q?" }, { "X-Sealmail-Answer", " - . ," } },
	    "X-Sealmail-Answer cannot be used", NULL },
	{ "invalid UTF-8 question refused",
	    { { "X-Sealmail-Question", " \xff\xfe" }, { "X-Sealmail-Answer", " a" } },
	    "not valid UTF-8", NULL },
	{ "control byte in password refused",
	    { { "X-Sealmail-Password", " a\x01" "b" } }, "not valid UTF-8", NULL },
	{ "expiry 0d refused", { { "X-Sealmail-Expires", " 0d" } },
	    "X-Sealmail-Expires", "5.6.0" },
	{ "expiry 11y refused", { { "X-Sealmail-Expires", " 11y" } },
	    "X-Sealmail-Expires", "5.6.0" },
	{ "expiry in words refused", { { "X-Sealmail-Expires", " next week" } },
	    "X-Sealmail-Expires", "5.6.0" },
	{ "expiry in the past refused", { { "X-Sealmail-Expires", " 2020-01-01" } },
	    "X-Sealmail-Expires", "5.6.0" },
	{ "expiry as US date refused", { { "X-Sealmail-Expires", " 06/30/2027" } },
	    "X-Sealmail-Expires", "5.6.0" },
	{ "reference with control byte refused",
	    { { "X-Sealmail-Reference", " a\x7f" } }, "X-Sealmail-Reference", NULL },
	{ "reference with 8-bit bytes refused",
	    { { "X-Sealmail-Reference", " caf\xc3\xa9" } }, "X-Sealmail-Reference", NULL },
	{ "phone without plus refused", { { "X-Sealmail-Phone", " 0791234567" } },
	    "E.164", NULL },
	{ "phone too short refused", { { "X-Sealmail-Phone", " +4179" } }, "E.164", NULL },
	{ "phone with letters refused", { { "X-Sealmail-Phone", " +41 79 123" } },
	    "E.164", NULL },
	{ "template traversal refused", { { "X-Sealmail-Template", " ../../etc" } },
	    "X-Sealmail-Template", NULL },
	{ "SQL in reference is only text", { { "X-Sealmail-Reference",
	    " x'; DROP TABLE messages; --" } }, NULL, NULL },
	{ "HTML in template name refused",
	    { { "X-Sealmail-Template", " <script>" } }, "X-Sealmail-Template", NULL },
};

static void
load(struct policy_hdrs *ph, const struct row *r)
{
	size_t i;

	memset(ph, 0, sizeof(*ph));
	for (i = 0; i < 6 && r->h[i].name != NULL; i++) {
		assert_int_equal(policy_is_ours(r->h[i].name), 1);
		assert_int_equal(policy_header(ph, r->h[i].name, r->h[i].value,
		    strlen(r->h[i].value)), 0);
	}
}

static void
test_row(void **state)
{
	const struct row *r = *state;
	struct policy_hdrs ph;
	struct policy pol;
	struct policy_reply rep;
	int rc;

	memset(&rep, 0, sizeof(rep));
	load(&ph, r);
	rc = policy_check(&ph, NOW, 30, DATE_MDY, &pol, &rep);
	policy_hdrs_free(&ph);
	if (r->refused == NULL) {
		if (rc != 0)
			fail_msg("refused: %s", rep.text);
	} else {
		assert_int_equal(rc, -1);
		assert_string_equal(rep.rcode, "550");
		assert_string_equal(rep.xcode, r->xcode ? r->xcode : "5.7.1");
		if (strstr(rep.text, r->refused) == NULL)
			fail_msg("reply \"%s\" lacks \"%s\"", rep.text, r->refused);
		/* A reply never echoes an answer or a password. */
		assert_null(strstr(rep.text, "s3cret"));
		assert_null(strchr(rep.text, '%'));
	}
}

static void
expiry_defaults_to_lab_days(void **state)
{
	struct policy_hdrs ph;
	struct policy pol;
	struct policy_reply rep;

	(void)state;
	memset(&ph, 0, sizeof(ph));
	assert_int_equal(policy_check(&ph, NOW, 30, DATE_MDY, &pol, &rep), 0);
	assert_true(pol.expires == NOW + 30 * DAY);
	assert_int_equal(pol.verif, PV_NONE);
	assert_string_equal(pol.reference, "");
	policy_hdrs_free(&ph);
}

static void
question_is_decoded_and_secret_kept(void **state)
{
	struct policy_hdrs ph;
	struct policy pol;
	struct policy_reply rep;
	static const struct row r = { "q", {
	    { "X-Sealmail-Question", " =?utf-8?q?Geburtsdatum_=C3=BC?=" },
	    { "X-Sealmail-Answer", "  02.01.1970 " } }, NULL, NULL };

	(void)state;
	load(&ph, &r);
	assert_int_equal(policy_check(&ph, NOW, 30, DATE_DMY, &pol, &rep), 0);
	assert_int_equal(pol.verif, PV_QUESTION);
	assert_string_equal(pol.question, "Geburtsdatum \xc3\xbc");
	assert_int_equal(pol.secret_len, strlen("02.01.1970"));
	assert_memory_equal(pol.secret, "02.01.1970", pol.secret_len);
	policy_hdrs_free(&ph);
}

static void
over_long_header_refused(void **state)
{
	static char big[POLICY_VALUE_MAX + 10];
	struct policy_hdrs ph;
	struct policy pol;
	struct policy_reply rep;

	(void)state;
	memset(big, 'a', sizeof(big) - 1);
	memset(&ph, 0, sizeof(ph));
	assert_int_equal(policy_header(&ph, "X-Sealmail-Password", big, strlen(big)), 0);
	assert_int_equal(policy_check(&ph, NOW, 30, DATE_MDY, &pol, &rep), -1);
	assert_non_null(strstr(rep.text, "longer than"));
	policy_hdrs_free(&ph);
}

static void
other_headers_are_not_ours(void **state)
{
	(void)state;
	assert_int_equal(policy_is_ours("Subject"), 0);
	assert_int_equal(policy_is_ours("X-Sealmai"), 0);
	assert_int_equal(policy_is_ours("X-SEALMAIL-ANYTHING"), 1);
}

/* --- precedence: headers > recipients table > lab default --------------- */

static void
headers_win_over_table(void **state)
{
	struct policy pol;
	struct recipient rec;
	struct store_delivery d;
	struct policy_reply rep;

	(void)state;
	memset(&pol, 0, sizeof(pol));
	pol.verif = PV_QUESTION;
	snprintf(pol.question, sizeof(pol.question), "Header question?");
	memset(&rec, 0, sizeof(rec));
	rec.id = 7;
	rec.kind = VERIF_PASSWORD;
	rec.has_answer = 1;
	assert_int_equal(policy_resolve(&pol, "$argon2id$hash", &rec, 1,
	    "p@example.org", &d, &rep), 0);
	assert_int_equal(d.kind, VERIF_QUESTION);
	assert_string_equal(d.question, "Header question?");
	assert_string_equal(d.answer_hash, "$argon2id$hash");
	assert_int_equal(d.recipient_id, 0);
}

static void
table_wins_over_default(void **state)
{
	struct policy pol;
	struct recipient rec;
	struct store_delivery d;
	struct policy_reply rep;

	(void)state;
	memset(&pol, 0, sizeof(pol));
	memset(&rec, 0, sizeof(rec));
	rec.id = 42;
	rec.kind = VERIF_QUESTION;
	rec.has_answer = 1;
	snprintf(rec.question, sizeof(rec.question), "Table question?");
	assert_int_equal(policy_resolve(&pol, NULL, &rec, 1, "p@example.org",
	    &d, &rep), 0);
	assert_int_equal(d.kind, VERIF_QUESTION);
	assert_null(d.question);	/* read from the row by the portal */
	assert_null(d.answer_hash);
	assert_int_equal(d.recipient_id, 42);
}

static void
table_row_without_answer_is_not_used(void **state)
{
	struct policy pol;
	struct recipient rec;
	struct store_delivery d;
	struct policy_reply rep;

	(void)state;
	memset(&pol, 0, sizeof(pol));
	memset(&rec, 0, sizeof(rec));
	rec.id = 9;
	rec.kind = VERIF_PASSWORD;
	rec.has_answer = 0;
	assert_int_equal(policy_resolve(&pol, NULL, &rec, 0, "p@example.org",
	    &d, &rep), 0);
	assert_int_equal(d.kind, VERIF_REGISTERED);
	assert_int_equal(d.recipient_id, 0);
}

static void
registered_default(void **state)
{
	struct policy pol;
	struct store_delivery d;
	struct policy_reply rep;

	(void)state;
	memset(&pol, 0, sizeof(pol));
	assert_int_equal(policy_resolve(&pol, NULL, NULL, 0, "p@example.org",
	    &d, &rep), 0);
	assert_int_equal(d.kind, VERIF_REGISTERED);
}

static void
required_without_any_way_names_recipient(void **state)
{
	struct policy pol;
	struct store_delivery d;
	struct policy_reply rep;

	(void)state;
	memset(&pol, 0, sizeof(pol));
	assert_int_equal(policy_resolve(&pol, NULL, NULL, 1, "p%1@example.org",
	    &d, &rep), -1);
	assert_string_equal(rep.rcode, "550");
	assert_string_equal(rep.xcode, "5.7.1");
	assert_non_null(strstr(rep.text, "no way to verify recipient <p?1@example.org>"));
	assert_non_null(strstr(rep.text, "X-Sealmail-Question/Answer"));
}

/* --- which client networks belong to a lab ------------------------------ */

struct cidr_row {
	const char *cidr, *addr;
	int want, prefix;
};

static const struct cidr_row cidrs[] = {
	{ "127.0.0.0/8", "127.0.0.1", 1, 8 },
	{ "127.0.0.0/8", "128.0.0.1", 0, 8 },
	{ "10.1.2.0/23", "10.1.3.255", 1, 23 },
	{ "10.1.2.0/23", "10.1.4.0", 0, 23 },
	{ "192.0.2.7", "192.0.2.7", 1, 32 },
	{ "192.0.2.7", "192.0.2.8", 0, 32 },
	{ "0.0.0.0/0", "203.0.113.9", 1, 0 },
	{ "2001:db8::/32", "2001:db8:1::5", 1, 32 },
	{ "2001:db8::/32", "2001:db9::5", 0, 32 },
	{ "2001:db8::/33", "2001:db8:8000::1", 0, 33 },
	{ "10.0.0.0/8", "::ffff:10.9.9.9", 1, 8 },	/* mapped v4 peer */
	{ "10.0.0.0/8", "2001:db8::1", 0, 8 },		/* family mismatch */
	{ "10.0.0.0/8", "", 0, 8 },			/* no IP peer */
	{ "10.0.0.0/33", "10.0.0.1", -1, 0 },
	{ "10.0.0.0/-1", "10.0.0.1", -1, 0 },
	{ "10.0.0.0/", "10.0.0.1", -1, 0 },
	{ "10.0.0.0/8x", "10.0.0.1", -1, 0 },
	{ "example.org", "10.0.0.1", -1, 0 },
	{ "::ffff:10.0.0.0/104", "10.0.0.1", -1, 0 },
};

static void
cidr_table(void **state)
{
	size_t i;

	(void)state;
	for (i = 0; i < sizeof(cidrs) / sizeof(cidrs[0]); i++) {
		int prefix = -1;
		int got = lab_cidr_match(cidrs[i].cidr, cidrs[i].addr, &prefix);

		if (got != cidrs[i].want)
			fail_msg("%s vs %s: got %d, want %d", cidrs[i].cidr,
			    cidrs[i].addr, got, cidrs[i].want);
		if (got != -1 && prefix != cidrs[i].prefix)
			fail_msg("%s: prefix %d, want %d", cidrs[i].cidr, prefix,
			    cidrs[i].prefix);
	}
}

int
main(void)
{
	struct CMUnitTest t[sizeof(rows) / sizeof(rows[0]) + 16];
	size_t i, n = 0;

	g_mime_init();
	for (i = 0; i < sizeof(rows) / sizeof(rows[0]); i++) {
		t[n].name = rows[i].name;
		t[n].test_func = test_row;
		t[n].setup_func = NULL;
		t[n].teardown_func = NULL;
		t[n].initial_state = (void *)&rows[i];
		n++;
	}
#define ADD(f) t[n++] = (struct CMUnitTest)cmocka_unit_test(f)
	ADD(expiry_defaults_to_lab_days);
	ADD(question_is_decoded_and_secret_kept);
	ADD(over_long_header_refused);
	ADD(other_headers_are_not_ours);
	ADD(headers_win_over_table);
	ADD(table_wins_over_default);
	ADD(table_row_without_answer_is_not_used);
	ADD(registered_default);
	ADD(required_without_any_way_names_recipient);
	ADD(cidr_table);
	return _cmocka_run_group_tests("policy", t, n, NULL, NULL);
}
