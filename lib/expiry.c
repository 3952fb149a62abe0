/* expiry.c - turns "7d", "2w", "6m", "10y" or "YYYY-MM-DD" into a time.
 * Strict on purpose: a header typo must be refused, never read as some
 * other length of time a patient's results stay online. */
#include <stdio.h>
#include <string.h>
#include <time.h>

#include "expiry.h"

#define MAX_DIGITS 5
#define MAX_YEARS 10
#define QUOTE_MAX 32
/* 9999-12-31T23:59:59Z: far past any answer, and keeps sums in range. */
#define TIME_LIMIT 253402300799LL

static int
is_blank(char c)
{
	return c == ' ' || c == '\t' || c == '\r' || c == '\n';
}

static int
is_digit(char c)
{
	return c >= '0' && c <= '9';
}

/* The value is quoted back to the operator, but only as printable ASCII
 * and bounded: it came from a mail header. */
static void
quote(const char *s, size_t n, char out[QUOTE_MAX + 4])
{
	size_t i;

	for (i = 0; i < n && i < QUOTE_MAX; i++)
		out[i] = (s[i] >= 0x20 && s[i] < 0x7f && s[i] != '"' &&
		    s[i] != '\\') ? s[i] : '?';
	if (n > QUOTE_MAX) {
		memcpy(out + i, "...", 3);
		i += 3;
	}
	out[i] = '\0';
}

static int
days_in_month(int year, int mon)	/* mon 0..11, year as in 1900+tm_year */
{
	static const int mdays[12] = {
		31, 28, 31, 30, 31, 30, 31, 31, 30, 31, 30, 31
	};

	if (mon == 1 && ((year % 4 == 0 && year % 100 != 0) || year % 400 == 0))
		return 29;
	return mdays[mon];
}

/* Calendar months later, same time of day; the 31st becomes the last day
 * of a shorter month rather than spilling into the next one. */
static int
add_months(time_t now, long long months, time_t *out)
{
	struct tm tm;
	long long total;
	int dim;

	if (gmtime_r(&now, &tm) == NULL)
		return -1;
	total = (long long)tm.tm_year * 12 + tm.tm_mon + months;
	tm.tm_year = (int)(total / 12);
	tm.tm_mon = (int)(total % 12);
	dim = days_in_month(tm.tm_year + 1900, tm.tm_mon);
	if (tm.tm_mday > dim)
		tm.tm_mday = dim;
	tm.tm_isdst = 0;
	*out = timegm(&tm);
	return 0;
}

static time_t
end_of_day(time_t t)
{
	return t - t % 86400 + 86399;
}

/* "YYYY-MM-DD": 1 when s has that shape (valid or not), filling y, m, d. */
static int
date_shape(const char *s, size_t n, int *y, int *m, int *d)
{
	static const char shape[] = "dddd-dd-dd";
	size_t i;

	if (n != sizeof(shape) - 1)
		return 0;
	for (i = 0; i < n; i++) {
		if (shape[i] == 'd' ? !is_digit(s[i]) : s[i] != shape[i])
			return 0;
	}
	*y = (s[0] - '0') * 1000 + (s[1] - '0') * 100 + (s[2] - '0') * 10 +
	    (s[3] - '0');
	*m = (s[5] - '0') * 10 + (s[6] - '0');
	*d = (s[8] - '0') * 10 + (s[9] - '0');
	return 1;
}

/* "<N><unit>": 1..5 digits without a leading zero, unit d, w, m or y. */
static int
duration_shape(const char *s, size_t n, long long *num, char *unit)
{
	size_t i;

	if (n < 2 || n > MAX_DIGITS + 1)
		return 0;
	*unit = s[n - 1];
	if (*unit != 'd' && *unit != 'w' && *unit != 'm' && *unit != 'y')
		return 0;
	if (s[0] == '0' && n > 2)
		return 0;
	*num = 0;
	for (i = 0; i < n - 1; i++) {
		if (!is_digit(s[i]))
			return 0;
		*num = *num * 10 + (s[i] - '0');
	}
	return 1;
}

int
expiry_parse(const char *s, size_t n, time_t now, time_t *expires,
    struct sm_err *err)
{
	char q[QUOTE_MAX + 4];
	long long num = 0;
	time_t t, limit;
	char unit = 0;
	int y, m, d;

	if (s == NULL)
		n = 0;
	while (n > 0 && is_blank(s[0])) {
		s++;
		n--;
	}
	while (n > 0 && is_blank(s[n - 1]))
		n--;
	quote(s, n, q);
	if (now < 0 || now > TIME_LIMIT - 20LL * 366 * 86400) {
		sm_err_set(err, "current time out of range");
		return -1;
	}
	if (add_months(now, MAX_YEARS * 12, &limit) == -1) {
		sm_err_set(err, "cannot convert the current time");
		return -1;
	}
	if (date_shape(s, n, &y, &m, &d)) {
		struct tm tm;

		if (y < 1970 || m < 1 || m > 12 || d < 1 ||
		    d > days_in_month(y, m - 1)) {
			sm_err_set(err, "expiry \"%s\" is not a valid date", q);
			return -1;
		}
		memset(&tm, 0, sizeof(tm));
		tm.tm_year = y - 1900;
		tm.tm_mon = m - 1;
		tm.tm_mday = d;
		tm.tm_hour = 23;
		tm.tm_min = 59;
		tm.tm_sec = 59;
		t = timegm(&tm);
		/* A date names a whole day: the day ten years from today is
		 * still within ten years. */
		limit = end_of_day(limit);
	} else if (duration_shape(s, n, &num, &unit)) {
		switch (unit) {
		case 'd':
			t = now + (time_t)(num * 86400);
			break;
		case 'w':
			t = now + (time_t)(num * 7 * 86400);
			break;
		case 'm':
			if (add_months(now, num, &t) == -1)
				goto notime;
			break;
		default:
			if (add_months(now, num * 12, &t) == -1)
				goto notime;
			break;
		}
	} else {
		sm_err_set(err, "expiry \"%s\" is not understood: use 7d, 2w, "
		    "6m, 10y or YYYY-MM-DD", q);
		return -1;
	}
	if (t < now + EXPIRY_MIN_SECS || t > limit) {
		sm_err_set(err, "expiry \"%s\" is out of range: expiry must be "
		    "between 1 day and 10 years", q);
		return -1;
	}
	*expires = t;
	return 0;
notime:
	sm_err_set(err, "cannot convert the current time");
	return -1;
}
