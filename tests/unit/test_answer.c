/* test_answer.c - the one normal form of an answer, and the peppered
 * Argon2id hash over it: "Smith-Jones " must match "smith jones", a date
 * in any usual spelling must match itself, a wrong answer or another
 * pepper must not.  Error messages never repeat the answer. */
#include <stdarg.h>
#include <stddef.h>
#include <setjmp.h>
#include <stdint.h>
#include <cmocka.h>

#include <dirent.h>
#include <limits.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include "answer.h"
#include "crypto.h"

#define ERR NULL		/* expected: refused */

struct norm_case {
	const char *name;
	const char *in;
	size_t len;		/* 0: strlen(in) */
	enum date_order order;
	const char *want;	/* ERR when refused */
	const char *why;	/* a word the refusal must contain */
};

static const struct norm_case norm_cases[] = {
	/* case and Unicode */
	{ "upper case is folded", "SMITH", 0, DATE_DMY, "smith", NULL },
	{ "mixed case is folded", "sMiTh", 0, DATE_DMY, "smith", NULL },
	{ "accented capitals fold to accented small letters",
	    "M\xc3\x9cLLER", 0, DATE_DMY, "m\xc3\xbcller", NULL },
	{ "decomposed umlaut composes (NFKC)",
	    "Mu\xcc\x88ller", 0, DATE_DMY, "m\xc3\xbcller", NULL },
	{ "accents are kept: e and e-acute differ",
	    "Ren\xc3\xa9", 0, DATE_DMY, "ren\xc3\xa9", NULL },
	{ "sharp s folds to ss", "Stra\xc3\x9f" "e", 0, DATE_DMY, "strasse",
	    NULL },
	{ "ligature fi becomes f i (NFKC)", "\xef\xac\x81sh", 0, DATE_DMY,
	    "fish", NULL },
	{ "full-width letters become ASCII",
	    "\xef\xbc\xa1\xef\xbc\xa2\xef\xbc\xa3", 0, DATE_DMY, "abc", NULL },
	{ "Greek capital sigma folds", "\xce\xa3\xce\x91\xce\xa3", 0,
	    DATE_DMY, "\xcf\x83\xce\xb1\xcf\x83", NULL },
	/* spaces and punctuation */
	{ "trailing space and hyphen: Smith-Jones", "Smith-Jones ", 0,
	    DATE_DMY, "smithjones", NULL },
	{ "inner space: smith jones", "smith jones", 0, DATE_DMY,
	    "smithjones", NULL },
	{ "tabs and newlines around are trimmed", "\t smith\r\n", 0,
	    DATE_DMY, "smith", NULL },
	{ "no-break space inside is dropped", "smith\xc2\xa0jones", 0,
	    DATE_DMY, "smithjones", NULL },
	{ "en dash from a mail client is a dash", "Smith\xe2\x80\x93Jones", 0,
	    DATE_DMY, "smithjones", NULL },
	{ "em dash is a dash", "Smith\xe2\x80\x94Jones", 0, DATE_DMY,
	    "smithjones", NULL },
	{ "apostrophe is dropped", "O'Brien", 0, DATE_DMY, "obrien", NULL },
	{ "curly apostrophe is dropped", "O\xe2\x80\x99" "Brien", 0,
	    DATE_DMY, "obrien", NULL },
	{ "dots, commas and slashes are dropped", "St. Mary's, Road/5", 0,
	    DATE_DMY, "stmarysroad5", NULL },
	{ "zero-width space is dropped", "smi\xe2\x80\x8bth", 0, DATE_DMY,
	    "smith", NULL },
	{ "other punctuation is kept", "fluffy!", 0, DATE_DMY, "fluffy!",
	    NULL },
	/* dates, year first */
	{ "date 1990-03-04", "1990-03-04", 0, DATE_DMY, "19900304", NULL },
	{ "date 1990/3/4", "1990/3/4", 0, DATE_MDY, "19900304", NULL },
	{ "date 1990.03.04", "1990.03.04", 0, DATE_DMY, "19900304", NULL },
	{ "date 1990-3-4 padded (text would give 199034)", " 1990-3-4 ", 0,
	    DATE_DMY, "19900304", NULL },
	{ "year-first date ignores the date order", "1990-03-04", 0,
	    DATE_MDY, "19900304", NULL },
	{ "full-width date (NFKC)",
	    "\xef\xbc\x91\xef\xbc\x99\xef\xbc\x99\xef\xbc\x90-3-4", 0,
	    DATE_DMY, "19900304", NULL },
	/* dates, year last */
	{ "MDY 03/04/1990", "03/04/1990", 0, DATE_MDY, "19900304", NULL },
	{ "MDY 3/4/1990", "3/4/1990", 0, DATE_MDY, "19900304", NULL },
	{ "MDY 03-04-1990", "03-04-1990", 0, DATE_MDY, "19900304", NULL },
	{ "MDY 3.4.1990", "3.4.1990", 0, DATE_MDY, "19900304", NULL },
	{ "DMY 04/03/1990", "04/03/1990", 0, DATE_DMY, "19900304", NULL },
	{ "DMY 4.3.1990", "4.3.1990", 0, DATE_DMY, "19900304", NULL },
	{ "DMY 04-03-1990", "04-03-1990", 0, DATE_DMY, "19900304", NULL },
	{ "DMY 13/04/1990 is 13 April", "13/04/1990", 0, DATE_DMY,
	    "19900413", NULL },
	{ "MDY 04/13/1990 is 13 April", "04/13/1990", 0, DATE_MDY,
	    "19900413", NULL },
	{ "leap day 29/2/2000", "29/2/2000", 0, DATE_DMY, "20000229", NULL },
	/* not dates: left as text */
	{ "MDY month 13 is text", "13/04/1990", 0, DATE_MDY, "13041990",
	    NULL },
	{ "29 February of a non-leap year is text", "29/2/1900", 0,
	    DATE_DMY, "2921900", NULL },
	{ "day 32 is text", "1990-1-32", 0, DATE_DMY, "1990132", NULL },
	{ "mixed separators are text", "3-4/1990", 0, DATE_DMY, "341990",
	    NULL },
	{ "two-digit year is text", "3/4/90", 0, DATE_MDY, "3490", NULL },
	{ "date with words is text", "born 1990-3-4", 0, DATE_DMY,
	    "born199034", NULL },
	{ "plain 8 digits stay as they are", "19900304", 0, DATE_DMY,
	    "19900304", NULL },
	/* refused */
	{ "empty is refused", "", 0, DATE_DMY, ERR, "empty" },
	{ "only spaces is refused", "   \t", 0, DATE_DMY, ERR, "empty" },
	{ "only punctuation is refused", " - . , / ' ", 0, DATE_DMY, ERR,
	    "empty" },
	{ "invalid UTF-8 byte is refused", "secret\xff", 0, DATE_DMY, ERR,
	    "UTF-8" },
	{ "truncated UTF-8 sequence is refused", "secret\xc3", 0, DATE_DMY,
	    ERR, "UTF-8" },
	{ "overlong UTF-8 is refused", "secret\xc0\xaf", 0, DATE_DMY, ERR,
	    "UTF-8" },
	{ "UTF-16 surrogate is refused", "secret\xed\xa0\x80", 0, DATE_DMY,
	    ERR, "UTF-8" },
	{ "NUL inside is refused", "secret\0answer", 13, DATE_DMY, ERR,
	    "NUL" },
};

static void
normalise_case(void **state)
{
	const struct norm_case *c = *state;
	char out[SM_ANSWER_MAX * 8 + 1];
	struct sm_err err = { "" };
	size_t len = 99, n = c->len ? c->len : strlen(c->in), again_len = 0;
	char again[sizeof(out)];
	int rc;

	rc = answer_normalise(c->in, n, c->order, out, sizeof(out), &len, &err);
	if (c->want == ERR) {
		assert_int_equal(rc, -1);
		assert_int_equal(len, 0);
		if (strstr(err.msg, c->why) == NULL)
			fail_msg("error \"%s\" lacks \"%s\"", err.msg, c->why);
		/* The answer itself never appears in the message. */
		assert_null(strstr(err.msg, "secret"));
		return;
	}
	if (rc != 0)
		fail_msg("refused: %s", err.msg);
	assert_string_equal(out, c->want);
	assert_int_equal(len, strlen(c->want));
	/* The normal form is a fixed point. */
	assert_int_equal(answer_normalise(out, len, c->order, again,
	    sizeof(again), &again_len, &err), 0);
	assert_string_equal(again, out);
}

static void
normalise_refuses_over_256_bytes_and_takes_256(void **state)
{
	char in[SM_ANSWER_MAX + 1], out[SM_ANSWER_MAX * 8 + 1];
	struct sm_err err = { "" };
	size_t len = 0;

	(void)state;
	memset(in, 'a', sizeof(in));
	assert_int_equal(answer_normalise(in, SM_ANSWER_MAX, DATE_DMY, out,
	    sizeof(out), &len, &err), 0);
	assert_int_equal(len, SM_ANSWER_MAX);
	assert_int_equal(answer_normalise(in, SM_ANSWER_MAX + 1, DATE_DMY, out,
	    sizeof(out), &len, &err), -1);
	assert_non_null(strstr(err.msg, "longer than 256 bytes"));
	assert_null(strstr(err.msg, "aaaa"));
}

static void
normalise_refuses_a_result_that_does_not_fit(void **state)
{
	char out[4];
	struct sm_err err = { "" };
	size_t len = 0;

	(void)state;
	assert_int_equal(answer_normalise("abc", 3, DATE_DMY, out, sizeof(out),
	    &len, &err), 0);
	assert_int_equal(answer_normalise("abcd", 4, DATE_DMY, out, sizeof(out),
	    &len, &err), -1);
	assert_non_null(strstr(err.msg, "too long"));
	/* A date needs 9 bytes with its NUL. */
	assert_int_equal(answer_normalise("1990-03-04", 10, DATE_DMY, out,
	    sizeof(out), &len, &err), -1);
	/* NFKC can grow text: U+FDFA is 18 letters, 33 bytes. */
	{
		char in[SM_ANSWER_MAX], big[SM_ANSWER_MAX * 8 + 1];
		size_t i;

		for (i = 0; i + 3 <= sizeof(in); i += 3)
			memcpy(in + i, "\xef\xb7\xba", 3);
		assert_int_equal(answer_normalise(in, i, DATE_DMY, big,
		    sizeof(big), &len, &err), -1);
		assert_non_null(strstr(err.msg, "too long"));
	}
}

/* ---- hashing ---------------------------------------------------------------- */

struct fixture {
	char *dir[2];
	struct keyring *kr;
	struct keyring *other_pepper;
	struct keyring *no_pepper;
};

/* Low cost: the tests check behaviour, not strength. */
static const struct answer_cost cheap = { 1, 8192 * 1024, DATE_DMY };
static const struct answer_cost cheap_mdy = { 1, 8192 * 1024, DATE_MDY };

static char *
tmpdir_new(void)
{
	char tmpl[] = "/tmp/sm-test-answer-XXXXXX";
	char *d = mkdtemp(tmpl);

	return d != NULL ? strdup(d) : NULL;
}

static void
tmpdir_free(char *dir)
{
	char path[PATH_MAX];
	struct dirent *de;
	DIR *dh;

	if (dir == NULL)
		return;
	dh = opendir(dir);
	if (dh != NULL) {
		while ((de = readdir(dh)) != NULL) {
			if (strcmp(de->d_name, ".") == 0 ||
			    strcmp(de->d_name, "..") == 0)
				continue;
			if (snprintf(path, sizeof(path), "%s/%s", dir,
			    de->d_name) < (int)sizeof(path))
				(void)unlink(path);
		}
		(void)closedir(dh);
	}
	(void)rmdir(dir);
	free(dir);
}

static int keys_teardown(void **state);

static int
keys_setup(void **state)
{
	struct sm_err err = { "" };
	struct fixture *fx;
	int i;

	fx = calloc(1, sizeof(*fx));
	if (fx == NULL)
		return -1;
	*state = fx;
	for (i = 0; i < 2; i++) {
		fx->dir[i] = tmpdir_new();
		if (fx->dir[i] == NULL ||
		    keyring_generate(fx->dir[i], 1, KEY_PEPPER |
		    KEY_SIGN_SECRET, &err) == -1)
			goto fail;
	}
	if (keyring_load(&fx->kr, fx->dir[0], 0, KEY_PEPPER, &err) == -1 ||
	    keyring_load(&fx->other_pepper, fx->dir[1], 0, KEY_PEPPER,
	    &err) == -1 ||
	    keyring_load(&fx->no_pepper, fx->dir[0], 0, KEY_SIGN_PUBLIC,
	    &err) == -1)
		goto fail;
	return 0;
fail:
	print_error("fixture: %s\n", err.msg);
	(void)keys_teardown(state);
	return -1;
}

static int
keys_teardown(void **state)
{
	struct fixture *fx = *state;

	if (fx == NULL)
		return 0;
	keyring_free(fx->kr);
	keyring_free(fx->other_pepper);
	keyring_free(fx->no_pepper);
	tmpdir_free(fx->dir[0]);
	tmpdir_free(fx->dir[1]);
	free(fx);
	return 0;
}

static void
hash(const struct fixture *fx, const struct answer_cost *cost,
    const char *answer, char out[SM_ANSWER_HASH_TEXT])
{
	struct sm_err err = { "" };

	if (answer_hash(fx->kr, cost, answer, strlen(answer), out, &err) != 0)
		fail_msg("answer_hash: %s", err.msg);
}

static int
check(const struct keyring *kr, const struct answer_cost *cost,
    const char *stored, const char *answer)
{
	struct sm_err err = { "" };

	return answer_check(kr, cost, stored, answer, strlen(answer), &err);
}

static void
hash_is_argon2id_with_the_given_cost(void **state)
{
	struct fixture *fx = *state;
	char h[SM_ANSWER_HASH_TEXT], h2[SM_ANSWER_HASH_TEXT];

	hash(fx, &cheap, "Smith-Jones", h);
	assert_non_null(strstr(h, "$argon2id$v=19$m=8192,t=1,p=1$"));
	/* Salted: the same answer never gives the same string twice. */
	hash(fx, &cheap, "Smith-Jones", h2);
	assert_string_not_equal(h, h2);
}

static void
check_matches_every_spelling_of_the_same_answer(void **state)
{
	static const char *same[] = {
		"smith jones", "SMITH-JONES", "  Smith Jones\t", "smith.jones",
		"Smith\xe2\x80\x93Jones", "\xef\xbd\x93mith jones",
	};
	struct fixture *fx = *state;
	char h[SM_ANSWER_HASH_TEXT];
	size_t i;

	hash(fx, &cheap, "Smith-Jones ", h);
	for (i = 0; i < sizeof(same) / sizeof(same[0]); i++) {
		if (check(fx->kr, &cheap, h, same[i]) != 0)
			fail_msg("\"%s\" does not match", same[i]);
	}
}

static void
check_refuses_a_wrong_answer(void **state)
{
	static const char *wrong[] = {
		"smith", "smithjone", "smithjonesx", "jones smith", "sm1th jones",
	};
	struct fixture *fx = *state;
	char h[SM_ANSWER_HASH_TEXT];
	size_t i;

	hash(fx, &cheap, "Smith-Jones", h);
	for (i = 0; i < sizeof(wrong) / sizeof(wrong[0]); i++) {
		if (check(fx->kr, &cheap, h, wrong[i]) != 1)
			fail_msg("\"%s\" matched", wrong[i]);
	}
}

static void
check_with_another_pepper_does_not_match(void **state)
{
	struct fixture *fx = *state;
	char h[SM_ANSWER_HASH_TEXT];

	hash(fx, &cheap, "Smith-Jones", h);
	assert_int_equal(check(fx->kr, &cheap, h, "Smith-Jones"), 0);
	assert_int_equal(check(fx->other_pepper, &cheap, h, "Smith-Jones"), 1);
}

static void
check_matches_dates_in_the_labs_order(void **state)
{
	struct fixture *fx = *state;
	char h[SM_ANSWER_HASH_TEXT];

	hash(fx, &cheap_mdy, "03/04/1990", h);
	assert_int_equal(check(fx->kr, &cheap_mdy, h, "1990-03-04"), 0);
	assert_int_equal(check(fx->kr, &cheap_mdy, h, "3.4.1990"), 0);
	assert_int_equal(check(fx->kr, &cheap_mdy, h, "1990-04-03"), 1);
	/* Read day-first, the same text is another date. */
	assert_int_equal(check(fx->kr, &cheap, h, "03/04/1990"), 1);
}

static void
hash_and_check_report_errors_not_mismatches(void **state)
{
	static const struct answer_cost too_cheap = { 0, 8192 * 1024, DATE_DMY };
	static const struct answer_cost too_small = { 1, 1024, DATE_DMY };
	struct fixture *fx = *state;
	char h[SM_ANSWER_HASH_TEXT], bad[SM_ANSWER_HASH_TEXT];
	struct sm_err err = { "" };

	assert_int_equal(answer_hash(fx->no_pepper, &cheap, "x", 1, h, &err),
	    -1);
	assert_non_null(strstr(err.msg, "pepper"));
	assert_int_equal(answer_hash(fx->kr, &too_cheap, "x", 1, h, &err), -1);
	assert_int_equal(answer_hash(fx->kr, &too_small, "x", 1, h, &err), -1);
	assert_int_equal(answer_hash(fx->kr, &cheap, " ", 1, h, &err), -1);
	assert_non_null(strstr(err.msg, "empty"));

	hash(fx, &cheap, "Smith-Jones", h);
	assert_int_equal(answer_check(fx->no_pepper, &cheap, h, "x", 1, &err),
	    -1);
	assert_int_equal(answer_check(fx->kr, &cheap, h, "", 0, &err), -1);
	assert_int_equal(answer_check(fx->kr, &cheap, "", "x", 1, &err), -1);
	assert_int_equal(answer_check(fx->kr, &cheap, NULL, "x", 1, &err), -1);
	assert_int_equal(answer_check(fx->kr, &cheap,
	    "$argon2i$v=19$m=8192,t=1,p=1$c2FsdHNhbHQ$aGFzaA", "x", 1, &err),
	    -1);
	assert_non_null(strstr(err.msg, "not an Argon2id"));
	/* An unterminated buffer is refused without reading past it. */
	memset(bad, 'x', sizeof(bad));
	memcpy(bad, "$argon2id$", 10);
	assert_int_equal(answer_check(fx->kr, &cheap, bad, "x", 1, &err), -1);
}

int
main(void)
{
	const struct CMUnitTest fixed[] = {
		cmocka_unit_test(normalise_refuses_over_256_bytes_and_takes_256),
		cmocka_unit_test(normalise_refuses_a_result_that_does_not_fit),
		cmocka_unit_test_setup_teardown(hash_is_argon2id_with_the_given_cost,
		    keys_setup, keys_teardown),
		cmocka_unit_test_setup_teardown(check_matches_every_spelling_of_the_same_answer,
		    keys_setup, keys_teardown),
		cmocka_unit_test_setup_teardown(check_refuses_a_wrong_answer,
		    keys_setup, keys_teardown),
		cmocka_unit_test_setup_teardown(check_with_another_pepper_does_not_match,
		    keys_setup, keys_teardown),
		cmocka_unit_test_setup_teardown(check_matches_dates_in_the_labs_order,
		    keys_setup, keys_teardown),
		cmocka_unit_test_setup_teardown(hash_and_check_report_errors_not_mismatches,
		    keys_setup, keys_teardown),
	};
	enum { NROWS = sizeof(norm_cases) / sizeof(norm_cases[0]) };
	enum { NFIXED = sizeof(fixed) / sizeof(fixed[0]) };
	struct CMUnitTest tests[NROWS + NFIXED];
	size_t i;

	/* One TAP line per table row, named for the behaviour it checks.
	 * No group fixture: cmocka 1.1 would hand it to every row instead
	 * of the row's own state, so the hashing tests set up their own. */
	for (i = 0; i < NROWS; i++) {
		memset(&tests[i], 0, sizeof(tests[i]));
		tests[i].name = norm_cases[i].name;
		tests[i].test_func = normalise_case;
		tests[i].initial_state = (void *)(uintptr_t)&norm_cases[i];
	}
	for (i = 0; i < NFIXED; i++)
		tests[NROWS + i] = fixed[i];
	if (sodium_init() < 0)
		return 1;
	return _cmocka_run_group_tests("answer", tests, NROWS + NFIXED, NULL,
	    NULL);
}
