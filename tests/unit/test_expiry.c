/* test_expiry.c - every form expiry_parse accepts, every form it refuses,
 * and the 1 day / 10 years edges, against a fixed "now" so the table reads
 * as dates.  One TAP line per row. */
#include <stdarg.h>
#include <stddef.h>
#include <setjmp.h>
#include <stdint.h>
#include <cmocka.h>

#include <stdio.h>
#include <string.h>
#include <time.h>

#include "expiry.h"

#define NOW "2026-01-31T12:00:00"	/* the 31st: month arithmetic shows */
#define ERR NULL

struct row {
	const char *name;
	const char *in;
	size_t len;		/* 0: strlen(in) */
	const char *now;	/* NULL: NOW */
	const char *want;	/* UTC "YYYY-MM-DDTHH:MM:SS", or ERR */
	const char *why;	/* for ERR: text the message must contain */
};

#define FORM "is not understood: use 7d, 2w, 6m, 10y or YYYY-MM-DD"
#define RANGE "must be between 1 day and 10 years"

static const struct row rows[] = {
	/* durations */
	{ "1d is tomorrow, same time", "1d", 0, NULL, "2026-02-01T12:00:00",
	    NULL },
	{ "7d is a week", "7d", 0, NULL, "2026-02-07T12:00:00", NULL },
	{ "2w is 14 days", "2w", 0, NULL, "2026-02-14T12:00:00", NULL },
	{ "1m from the 31st is the last day of February", "1m", 0, NULL,
	    "2026-02-28T12:00:00", NULL },
	{ "1m in a leap year ends on 29 February", "1m", 0,
	    "2028-01-31T12:00:00", "2028-02-29T12:00:00", NULL },
	{ "6m is six calendar months", "6m", 0, NULL, "2026-07-31T12:00:00",
	    NULL },
	{ "13m crosses a year", "13m", 0, NULL, "2027-02-28T12:00:00", NULL },
	{ "1y is a calendar year", "1y", 0, NULL, "2027-01-31T12:00:00",
	    NULL },
	{ "1y from 29 February is 28 February", "1y", 0,
	    "2028-02-29T08:00:00", "2029-02-28T08:00:00", NULL },
	{ "surrounding whitespace is allowed", " \t7d\r\n", 0, NULL,
	    "2026-02-07T12:00:00", NULL },
	/* dates: the end of that day, UTC */
	{ "a date ends at 23:59:59 UTC", "2026-06-15", 0, NULL,
	    "2026-06-15T23:59:59", NULL },
	{ "tomorrow's date is accepted", "2026-02-01", 0, NULL,
	    "2026-02-01T23:59:59", NULL },
	{ "tomorrow's date at the day's last second is exactly 1 day",
	    "2026-02-01", 0, "2026-01-31T23:59:59", "2026-02-01T23:59:59",
	    NULL },
	{ "a leap day is a date", "2028-02-29", 0, NULL,
	    "2028-02-29T23:59:59", NULL },
	{ "a padded date is accepted", "  2026-06-15 ", 0, NULL,
	    "2026-06-15T23:59:59", NULL },
	/* lower edge */
	{ "0d is refused", "0d", 0, NULL, ERR, RANGE },
	{ "0w is refused", "0w", 0, NULL, ERR, RANGE },
	{ "0m is refused", "0m", 0, NULL, ERR, RANGE },
	{ "0y is refused", "0y", 0, NULL, ERR, RANGE },
	{ "today's date is refused", "2026-01-31", 0, NULL, ERR, RANGE },
	{ "a past date is refused", "2020-01-01", 0, NULL, ERR, RANGE },
	/* upper edge: ten calendar years */
	{ "10y is accepted", "10y", 0, NULL, "2036-01-31T12:00:00", NULL },
	{ "120m is accepted", "120m", 0, NULL, "2036-01-31T12:00:00", NULL },
	{ "3652d is exactly 10 years here", "3652d", 0, NULL,
	    "2036-01-31T12:00:00", NULL },
	{ "521w is under 10 years", "521w", 0, NULL, "2036-01-26T12:00:00",
	    NULL },
	{ "the date 10 years from today is accepted", "2036-01-31", 0, NULL,
	    "2036-01-31T23:59:59", NULL },
	{ "11y is refused", "11y", 0, NULL, ERR, RANGE },
	{ "121m is refused", "121m", 0, NULL, ERR, RANGE },
	{ "3653d is refused", "3653d", 0, NULL, ERR, RANGE },
	{ "522w is refused", "522w", 0, NULL, ERR, RANGE },
	{ "the day after 10 years is refused", "2036-02-01", 0, NULL, ERR,
	    RANGE },
	{ "99999y is refused without overflow", "99999y", 0, NULL, ERR, RANGE },
	{ "99999w is refused without overflow", "99999w", 0, NULL, ERR, RANGE },
	{ "9999-12-31 is refused", "9999-12-31", 0, NULL, ERR, RANGE },
	/* malformed */
	{ "empty is refused", "", 0, NULL, ERR, FORM },
	{ "only whitespace is refused", "  \t ", 0, NULL, ERR, FORM },
	{ "a number without unit is refused", "7", 0, NULL, ERR, FORM },
	{ "a unit without number is refused", "d", 0, NULL, ERR, FORM },
	{ "a space inside is refused", "7 d", 0, NULL, ERR, FORM },
	{ "a plus sign is refused", "+7d", 0, NULL, ERR, FORM },
	{ "a minus sign is refused", "-7d", 0, NULL, ERR, FORM },
	{ "an upper-case unit is refused", "7D", 0, NULL, ERR, FORM },
	{ "an upper-case M is not guessed at", "6M", 0, NULL, ERR, FORM },
	{ "a leading zero is refused", "07d", 0, NULL, ERR, FORM },
	{ "zero padding to 5 digits is refused", "00007d", 0, NULL, ERR,
	    FORM },
	{ "six digits are refused", "100000d", 0, NULL, ERR, FORM },
	{ "a word unit is refused", "7days", 0, NULL, ERR, FORM },
	{ "hours are refused", "48h", 0, NULL, ERR, FORM },
	{ "a fraction is refused", "1.5m", 0, NULL, ERR, FORM },
	{ "two durations are refused", "1y6m", 0, NULL, ERR, FORM },
	{ "hex is refused", "0x7d", 0, NULL, ERR, FORM },
	{ "full-width digits are refused", "\xef\xbc\x97" "d", 0, NULL, ERR,
	    FORM },
	{ "a NUL inside is refused", "7d\0", 3, NULL, ERR, FORM },
	{ "a single-digit month is refused", "2026-2-01", 0, NULL, ERR, FORM },
	{ "a two-digit year is refused", "26-02-01", 0, NULL, ERR, FORM },
	{ "slashes in a date are refused", "2026/02/01", 0, NULL, ERR, FORM },
	{ "day-first dates are refused", "01-02-2026", 0, NULL, ERR, FORM },
	{ "a date with a time is refused", "2026-06-15T10:00", 0, NULL, ERR,
	    FORM },
	{ "month 13 is not a date", "2026-13-01", 0, NULL, ERR,
	    "not a valid date" },
	{ "month 00 is not a date", "2026-00-10", 0, NULL, ERR,
	    "not a valid date" },
	{ "day 00 is not a date", "2026-02-00", 0, NULL, ERR,
	    "not a valid date" },
	{ "30 February is not a date", "2026-02-30", 0, NULL, ERR,
	    "not a valid date" },
	{ "29 February of a common year is not a date", "2027-02-29", 0, NULL,
	    ERR, "not a valid date" },
	/* what the message quotes back */
	{ "the refused value is quoted", "fortnight", 0, NULL, ERR,
	    "expiry \"fortnight\" is not understood" },
	{ "control bytes and quotes are replaced when quoted", "7\x1b\"d", 0,
	    NULL, ERR, "expiry \"7??d\"" },
	{ "a long value is cut at 32 characters",
	    "0123456789012345678901234567890123456789", 0, NULL, ERR,
	    "expiry \"01234567890123456789012345678901...\" is not" },
};

static time_t
utc(const char *s)
{
	struct tm tm;

	memset(&tm, 0, sizeof(tm));
	if (sscanf(s, "%4d-%2d-%2dT%2d:%2d:%2d", &tm.tm_year, &tm.tm_mon,
	    &tm.tm_mday, &tm.tm_hour, &tm.tm_min, &tm.tm_sec) != 6)
		fail_msg("bad time in table: %s", s);
	tm.tm_year -= 1900;
	tm.tm_mon -= 1;
	return timegm(&tm);
}

static void
show(time_t t, char out[32])
{
	struct tm tm;

	if (gmtime_r(&t, &tm) == NULL ||
	    strftime(out, 32, "%Y-%m-%dT%H:%M:%S", &tm) == 0)
		fail_msg("cannot format %lld", (long long)t);
}

static void
expiry_row(void **state)
{
	const struct row *r = *state;
	time_t now = utc(r->now != NULL ? r->now : NOW), got = 12345;
	struct sm_err err = { "" };
	char text[32];
	int rc;

	rc = expiry_parse(r->in, r->len != 0 ? r->len : strlen(r->in), now,
	    &got, &err);
	if (r->want == ERR) {
		if (rc != -1) {
			show(got, text);
			fail_msg("accepted as %s", text);
		}
		assert_int_equal(got, 12345);	/* untouched on refusal */
		if (strstr(err.msg, r->why) == NULL)
			fail_msg("message \"%s\" lacks \"%s\"", err.msg, r->why);
		return;
	}
	if (rc != 0)
		fail_msg("refused: %s", err.msg);
	show(got, text);
	assert_string_equal(text, r->want);
	assert_true(got >= now + EXPIRY_MIN_SECS);
}

static void
expiry_null_input_is_refused(void **state)
{
	struct sm_err err = { "" };
	time_t got = 0;

	(void)state;
	assert_int_equal(expiry_parse(NULL, 0, utc(NOW), &got, &err), -1);
	assert_non_null(strstr(err.msg, "not understood"));
}

int
main(void)
{
	enum { NROWS = sizeof(rows) / sizeof(rows[0]) };
	struct CMUnitTest tests[NROWS + 1];
	size_t i;

	for (i = 0; i < NROWS; i++) {
		memset(&tests[i], 0, sizeof(tests[i]));
		tests[i].name = rows[i].name;
		tests[i].test_func = expiry_row;
		tests[i].initial_state = (void *)(uintptr_t)&rows[i];
	}
	tests[NROWS] = (struct CMUnitTest)
	    cmocka_unit_test(expiry_null_input_is_refused);
	return _cmocka_run_group_tests("expiry", tests, NROWS + 1, NULL, NULL);
}
