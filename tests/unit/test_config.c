/* test_config.c - sealmail.conf: typed values, defaults, and errors that
 * name the file, the line and what was expected; secret files refused when
 * others could read them. */
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

#include "config.h"

static char dir[] = "/tmp/sm-test-config-XXXXXX";

static const char *
write_file(const char *name, const char *text, mode_t mode)
{
	static char path[256];
	FILE *fp;

	snprintf(path, sizeof(path), "%s/%s", dir, name);
	fp = fopen(path, "w");
	assert_non_null(fp);
	assert_int_equal(fputs(text, fp) >= 0, 1);
	assert_int_equal(fclose(fp), 0);
	assert_int_equal(chmod(path, mode), 0);
	return path;
}

static void
load_expect_error(const char *text, const char *needle)
{
	struct config *cf = NULL;
	struct sm_err err;
	const char *path = write_file("bad.conf", text, 0644);

	err.msg[0] = '\0';
	assert_int_equal(config_load(&cf, path, &err), -1);
	assert_null(cf);
	if (strstr(err.msg, needle) == NULL)
		fail_msg("error \"%s\" lacks \"%s\"", err.msg, needle);
	assert_non_null(strstr(err.msg, path));
}

static void
nested_blocks_set_typed_values(void **state)
{
	struct config *cf = NULL;
	struct sm_err err;
	const char *path;

	(void)state;
	path = write_file("ok.conf",
	    "# comment\n"
	    "database {\n"
	    "  port = 3307\n"
	    "  milter {\n"
	    "    user = m_user\n"
	    "  }\n"
	    "  tls = yes\n"
	    "}\n"
	    "milter.sendmail = /usr/sbin/sendmail -C /x/y\n"
	    "milter.socket_mode = 0600\n", 0644);
	assert_int_equal(config_load(&cf, path, &err), 0);
	assert_int_equal(config_int(cf, "database.port"), 3307);
	assert_string_equal(config_str(cf, "database.milter.user"), "m_user");
	assert_int_equal(config_bool(cf, "database.tls"), 1);
	assert_string_equal(config_str(cf, "milter.sendmail"), "/usr/sbin/sendmail -C /x/y");
	assert_int_equal(config_int(cf, "milter.socket_mode"), 0600);
	config_free(cf);
}

static void
unset_keys_have_defaults(void **state)
{
	struct config *cf = NULL;
	struct sm_err err;

	(void)state;
	assert_int_equal(config_defaults(&cf, &err), 0);
	assert_int_equal(config_int(cf, "database.port"), 3306);
	assert_int_equal(config_int(cf, "crypto.chunk_size"), 1048576);
	assert_string_equal(config_str(cf, "crypto.date_order"), "mdy");
	config_free(cf);
}

static void
unknown_key_names_file_and_line(void **state)
{
	(void)state;
	load_expect_error("database {\n  port = 3306\n  prot = 1\n}\n",
	    ":3: unknown setting \"database.prot\"");
}

static void
bad_integer_says_what_was_expected(void **state)
{
	(void)state;
	load_expect_error("database.port = 70000\n",
	    ":1: database.port: expected an integer from 1 to 65535");
	load_expect_error("database.port = 12abc\n", "expected an integer");
	load_expect_error("database.port = -5\n", "expected an integer");
	load_expect_error("crypto.chunk_size = 1024\n", "from 65536");
}

static void
bad_choice_bool_and_mode_are_refused(void **state)
{
	(void)state;
	load_expect_error("crypto.date_order = ymd\n", "one of mdy|dmy");
	load_expect_error("database.tls = maybe\n", "yes or no");
	load_expect_error("milter.socket_mode = 660\n", "octal mode");
	load_expect_error("milter.socket_mode = 0999\n", "octal mode");
}

static void
syntax_error_is_reported(void **state)
{
	(void)state;
	load_expect_error("database {\n  port = 1\n", ":1: syntax error: block is never closed");
	load_expect_error("database.port = 1\n}\n", ":2: \"}\" closes no block");
	load_expect_error("just words\n", "syntax error");
}

static void
missing_file_is_an_error(void **state)
{
	struct config *cf = NULL;
	struct sm_err err;

	(void)state;
	assert_int_equal(config_load(&cf, "/nonexistent/sealmail.conf", &err), -1);
	assert_non_null(strstr(err.msg, "/nonexistent/sealmail.conf"));
}

static void
override_is_validated(void **state)
{
	struct config *cf = NULL;
	struct sm_err err;

	(void)state;
	assert_int_equal(config_defaults(&cf, &err), 0);
	assert_int_equal(config_set(cf, "database.port", "3310", &err), 0);
	assert_int_equal(config_int(cf, "database.port"), 3310);
	assert_int_equal(config_set(cf, "database.port", "0", &err), -1);
	assert_int_equal(config_set(cf, "no.such", "1", &err), -1);
	assert_int_equal(config_int(cf, "database.port"), 3310);
	config_free(cf);
}

static void
secret_file_with_mode_0600_is_read(void **state)
{
	char buf[64];
	size_t got = 0;
	struct sm_err err;
	const char *path = write_file("secret", "s3cret", 0600);

	(void)state;
	assert_int_equal(config_secret_read(path, buf, sizeof(buf), 0, &got, &err), 0);
	assert_int_equal(got, 6);
	assert_memory_equal(buf, "s3cret", 6);
	assert_int_equal(config_secret_read(path, buf, sizeof(buf), 6, &got, &err), 0);
	assert_int_equal(config_secret_read(path, buf, sizeof(buf), 7, &got, &err), -1);
	assert_int_equal(config_secret_read(path, buf, 4, 0, &got, &err), -1);
	assert_non_null(strstr(err.msg, "longer than"));
}

static void
secret_file_readable_by_others_is_refused(void **state)
{
	char buf[64];
	size_t got;
	struct sm_err err;
	const char *path;

	(void)state;
	path = write_file("open-secret", "s3cret", 0644);
	assert_int_equal(config_secret_read(path, buf, sizeof(buf), 0, &got, &err), -1);
	assert_non_null(strstr(err.msg, "chmod 0600"));
	path = write_file("group-secret", "s3cret", 0640);
	assert_int_equal(config_secret_read(path, buf, sizeof(buf), 0, &got, &err), -1);
}

static void
secret_symlink_and_directory_are_refused(void **state)
{
	char buf[64], link[300];
	size_t got;
	struct sm_err err;
	const char *path = write_file("real-secret", "s3cret", 0600);

	(void)state;
	snprintf(link, sizeof(link), "%s/link-secret", dir);
	assert_int_equal(symlink(path, link), 0);
	assert_int_equal(config_secret_read(link, buf, sizeof(buf), 0, &got, &err), -1);
	assert_int_equal(config_secret_read(dir, buf, sizeof(buf), 0, &got, &err), -1);
	unlink(link);
}

static void
check_documented(const char *key, void *arg)
{
	const char *page = arg;
	char needle[128];

	snprintf(needle, sizeof(needle), "\n.It Cm %s", key);
	if (strstr(page, needle) == NULL) {
		snprintf(needle, sizeof(needle), "\n.B %s\n", key);
		if (strstr(page, needle) == NULL)
			fail_msg("%s is not documented in doc/sealmail.conf.5", key);
	}
}

static void
every_key_is_documented(void **state)
{
	const char *src = getenv("top_srcdir");
	char path[512], *page;
	FILE *fp;
	long n;

	(void)state;
	snprintf(path, sizeof(path), "%s/doc/sealmail.conf.5", src ? src : ".");
	fp = fopen(path, "r");
	if (fp == NULL)
		fail_msg("cannot open %s", path);
	assert_int_equal(fseek(fp, 0, SEEK_END), 0);
	n = ftell(fp);
	assert_true(n > 0);
	rewind(fp);
	page = calloc(1, (size_t)n + 2);
	assert_non_null(page);
	page[0] = '\n';
	assert_int_equal(fread(page + 1, 1, (size_t)n, fp), (size_t)n);
	fclose(fp);
	config_each_key(check_documented, page);
	free(page);
}

static int
setup(void **state)
{
	(void)state;
	return mkdtemp(dir) == NULL ? -1 : 0;
}

static int
teardown(void **state)
{
	const char *names[] = { "ok.conf", "bad.conf", "secret", "open-secret",
	    "group-secret", "real-secret" };
	char path[300];
	size_t i;

	(void)state;
	for (i = 0; i < sizeof(names) / sizeof(names[0]); i++) {
		snprintf(path, sizeof(path), "%s/%s", dir, names[i]);
		unlink(path);
	}
	return rmdir(dir);
}

int
main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test(nested_blocks_set_typed_values),
		cmocka_unit_test(unset_keys_have_defaults),
		cmocka_unit_test(unknown_key_names_file_and_line),
		cmocka_unit_test(bad_integer_says_what_was_expected),
		cmocka_unit_test(bad_choice_bool_and_mode_are_refused),
		cmocka_unit_test(syntax_error_is_reported),
		cmocka_unit_test(missing_file_is_an_error),
		cmocka_unit_test(override_is_validated),
		cmocka_unit_test(secret_file_with_mode_0600_is_read),
		cmocka_unit_test(secret_file_readable_by_others_is_refused),
		cmocka_unit_test(secret_symlink_and_directory_are_refused),
		cmocka_unit_test(every_key_is_documented),
	};

	return cmocka_run_group_tests(tests, setup, teardown);
}
