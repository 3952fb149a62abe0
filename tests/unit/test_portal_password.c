/* test_portal_password.c - a registered patient's new password: refused
 * when short (in characters, after normalisation), on the shipped
 * common-passwords list (in any case and spacing), or not repeated the
 * same; accepted otherwise, with no composition rules. */
#include <stdarg.h>
#include <stddef.h>
#include <setjmp.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include <cmocka.h>

#include "config.h"
#include "password.h"

static struct config *cf;

static int
setup(void **state)
{
	char path[] = "/tmp/test_password.XXXXXX", line[1200];
	const char *top = getenv("top_srcdir") ? getenv("top_srcdir") : ".";
	struct sm_err err;
	FILE *f;
	int fd;

	(void)state;
	if ((fd = mkstemp(path)) == -1 || (f = fdopen(fd, "w")) == NULL)
		return -1;
	snprintf(line, sizeof(line), "portal.templates = %s/portal/templates\n", top);
	fputs(line, f);
	if (fclose(f) != 0 || config_load(&cf, path, &err) == -1 ||
	    password_list_load(cf, &err) == -1) {
		fprintf(stderr, "setup: %s\n", err.msg);
		unlink(path);
		return -1;
	}
	unlink(path);
	return 0;
}

static int
teardown(void **state)
{
	(void)state;
	password_list_free();
	config_free(cf);
	return 0;
}

static const char *
check(const char *pw, const char *pw2)
{
	return password_check(cf, pw, strlen(pw), pw2, strlen(pw2));
}

static void
each_refusal_names_its_reason(void **state)
{
	static const struct { const char *pw, *pw2, *want; } t[] = {
		{ "", "", "PasswordFormat" },
		{ "short", "short", "PasswordShort" },
		{ "nine char", "nine char", "PasswordShort" },
		/* spaces and dashes do not count towards the length */
		{ "a b c d e f g h i", "a b c d e f g h i", "PasswordShort" },
		/* five two-byte letters are five characters, not ten */
		{ "\xc3\xa1\xc3\xa9\xc3\xad\xc3\xb3\xc3\xba",
		  "\xc3\xa1\xc3\xa9\xc3\xad\xc3\xb3\xc3\xba", "PasswordShort" },
		{ "password12345", "password12345", "PasswordCommon" },
		{ "Password 12345", "Password 12345", "PasswordCommon" },
		{ "QWERTYUIOP", "QWERTYUIOP", "PasswordCommon" },
		{ "1234567890", "1234567890", "PasswordCommon" },
		{ "iloveyou2024", "iloveyou2024", "PasswordCommon" },
		{ "violet harbour lantern", "violet harbour lanterns", "PasswordMismatch" },
		{ "violet harbour lantern", "", "PasswordMismatch" },
	};
	size_t i;

	(void)state;
	for (i = 0; i < sizeof(t) / sizeof(t[0]); i++) {
		const char *got = check(t[i].pw, t[i].pw2);

		if (got == NULL || strcmp(got, t[i].want) != 0)
			fail_msg("\"%s\": got %s, want %s", t[i].pw,
			    got ? got : "accepted", t[i].want);
	}
}

static void
long_uncommon_passwords_pass_without_composition_rules(void **state)
{
	static const char *const good[] = {
		"violet harbour lantern", "correcthorsebatterystaple",
		"zzqxvbnmwpl", "\xc3\xa1\xc3\xa9\xc3\xad\xc3\xb3\xc3\xba"
		"\xc3\xa1\xc3\xa9\xc3\xad\xc3\xb3\xc3\xba",
	};
	size_t i;

	(void)state;
	for (i = 0; i < sizeof(good) / sizeof(good[0]); i++)
		if (check(good[i], good[i]) != NULL)
			fail_msg("\"%s\" refused: %s", good[i], check(good[i], good[i]));
}

static void
the_list_is_loaded_and_case_blind(void **state)
{
	(void)state;
	assert_int_equal(password_is_common("password", 8), 1);
	assert_int_equal(password_is_common("PaSsWoRd", 8), 1);
	assert_int_equal(password_is_common("zzqxvbnmwpl", 11), 0);
}

static void
a_missing_list_is_a_startup_error(void **state)
{
	struct sm_err err;

	(void)state;
	assert_int_equal(config_set(cf, "portal.common_passwords",
	    "/nonexistent/common.txt", &err), 0);
	assert_int_equal(password_list_load(cf, &err), -1);
	assert_non_null(strstr(err.msg, "/nonexistent/common.txt"));
	assert_int_equal(config_set(cf, "portal.common_passwords", "", &err), 0);
	assert_int_equal(password_list_load(cf, &err), 0);
}

int
main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test(each_refusal_names_its_reason),
		cmocka_unit_test(long_uncommon_passwords_pass_without_composition_rules),
		cmocka_unit_test(the_list_is_loaded_and_case_blind),
		cmocka_unit_test(a_missing_list_is_a_startup_error),
	};

	return cmocka_run_group_tests(tests, setup, teardown);
}
