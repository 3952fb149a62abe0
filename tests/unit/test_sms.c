/* test_sms.c - what lib/sms.c promises: which phone forms are numbers, the
 * GSM-7 length of a text, a notice text that always fits one segment, and
 * a sealed text that only opens for its own message and number. */
#include <stdarg.h>
#include <stddef.h>
#include <setjmp.h>
#include <stdint.h>
#include <cmocka.h>

#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include "crypto.h"
#include "sms.h"

static void
phone_forms_accepted_and_refused(void **state)
{
	char out[SMS_PHONE_MAX + 1];

	(void)state;
	assert_true(sms_phone_ok("+4915112345678", 14));
	assert_true(sms_phone_ok("+12025550123", 12));
	assert_false(sms_phone_ok("4915112345678", 13));	/* no + */
	assert_false(sms_phone_ok("+0915112345678", 14));	/* leading 0 */
	assert_false(sms_phone_ok("+1234567", 8));		/* 7 digits */
	assert_false(sms_phone_ok("+1234567890123456", 17));	/* 16 digits */
	assert_false(sms_phone_ok("+49 151 123", 11));
	assert_true(sms_phone_of_address("+4915112345678@sms.example", out));
	assert_string_equal(out, "+4915112345678");
	assert_false(sms_phone_of_address("jane@example.org", out));
	assert_false(sms_phone_of_address("+49151x@example.org", out));
	assert_false(sms_phone_of_address("+4915112345678", out));
}

static void
gsm7_counts_extension_characters_twice(void **state)
{
	(void)state;
	assert_int_equal(sms_gsm7_len("abc"), 3);
	assert_int_equal(sms_gsm7_len("a{b}"), 6);
	assert_int_equal(sms_gsm7_len("\xe2\x82\xac"), 2);	/* euro */
	assert_int_equal(sms_gsm7_len("Labor M\xc3\xbcller"), 12);	/* u umlaut */
	assert_int_equal(sms_gsm7_len("\xc5\x81\xc3\xb3" "dz"), -1);	/* L stroke */
	assert_int_equal(sms_gsm7_len("a`b"), -1);
	assert_int_equal(sms_gsm7_len("\xff"), -1);	/* not UTF-8 */
}

static const char link43[] = "https://results.example.org/m/"
    "abcdefghijABCDEFGHIJabcdefghijABCDEFGHIJ_-0";

static void
text_names_the_lab_when_it_fits(void **state)
{
	char t[SMS_TEXT_MAX * 2 + 1];
	struct sm_err err;

	(void)state;
	assert_int_equal(sms_text("Stack Test Laboratory", link43, t, sizeof(t),
	    &err), 0);
	assert_non_null(strstr(t, "Stack Test Laboratory: "));
	assert_non_null(strstr(t, link43));
	assert_in_range(sms_gsm7_len(t), 1, SMS_TEXT_MAX);
}

static void
text_drops_a_lab_name_that_is_not_gsm7_or_too_long(void **state)
{
	char t[SMS_TEXT_MAX * 2 + 1], longname[200];
	struct sm_err err;

	(void)state;
	assert_int_equal(sms_text("\xc5\x81\xc3\xb3" "dz Lab", link43, t,
	    sizeof(t), &err), 0);
	assert_string_equal(t, "You have a secure message. Open: https://"
	    "results.example.org/m/abcdefghijABCDEFGHIJabcdefghijABCDEFGHIJ_-0");
	memset(longname, 'L', sizeof(longname) - 1);
	longname[sizeof(longname) - 1] = '\0';
	assert_int_equal(sms_text(longname, link43, t, sizeof(t), &err), 0);
	assert_null(strstr(t, "LLL"));
	assert_in_range(sms_gsm7_len(t), 1, SMS_TEXT_MAX);
}

static void
text_refuses_a_link_that_cannot_fit(void **state)
{
	char t[SMS_TEXT_MAX * 2 + 1], link[300];
	struct sm_err err;

	(void)state;
	memset(link, 'x', sizeof(link) - 1);
	link[sizeof(link) - 1] = '\0';
	assert_int_equal(sms_text("Lab", link, t, sizeof(t), &err), -1);
	assert_non_null(strstr(err.msg, "160"));
}

static void
sealed_text_opens_only_for_its_message_and_number(void **state)
{
	char dir[] = "/tmp/sm-test-sms-XXXXXX", path[64], t[400];
	static const char id[] = "0123456789abcdef0123456789abcdef";
	static const char id2[] = "0123456789abcdef0123456789abcdee";
	unsigned char sealed[SMS_SEALED_MAX];
	struct keyring *kr = NULL, *nokey = NULL;
	struct sm_err err;
	size_t n = 0;

	(void)state;
	assert_non_null(mkdtemp(dir));
	assert_int_equal(keyring_generate(dir, 1, KEY_SMS | KEY_AUDIT, &err), 0);
	assert_int_equal(keyring_load(&kr, dir, 1, KEY_SMS, &err), 0);
	assert_int_equal(keyring_load(&nokey, dir, 1, KEY_AUDIT, &err), 0);
	assert_int_equal(sms_seal(kr, id, "+4915112345678", "hello link", sealed,
	    sizeof(sealed), &n, &err), 0);
	assert_null(memmem(sealed, n, "hello", 5));
	assert_int_equal(sms_open(kr, id, "+4915112345678", sealed, n, t,
	    sizeof(t), &err), 0);
	assert_string_equal(t, "hello link");
	assert_int_equal(sms_open(kr, id2, "+4915112345678", sealed, n, t,
	    sizeof(t), &err), -1);
	assert_int_equal(sms_open(kr, id, "+4915112345679", sealed, n, t,
	    sizeof(t), &err), -1);
	sealed[n - 1] ^= 1;
	assert_int_equal(sms_open(kr, id, "+4915112345678", sealed, n, t,
	    sizeof(t), &err), -1);
	assert_int_equal(sms_seal(nokey, id, "+4915112345678", "x", sealed,
	    sizeof(sealed), &n, &err), -1);
	assert_int_equal(sms_seal(kr, id, "12345", "x", sealed,
	    sizeof(sealed), &n, &err), -1);
	keyring_free(kr);
	keyring_free(nokey);
	snprintf(path, sizeof(path), "%s/sms", dir);
	unlink(path);
	snprintf(path, sizeof(path), "%s/audit", dir);
	unlink(path);
	rmdir(dir);
}

int
main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test(phone_forms_accepted_and_refused),
		cmocka_unit_test(gsm7_counts_extension_characters_twice),
		cmocka_unit_test(text_names_the_lab_when_it_fits),
		cmocka_unit_test(text_drops_a_lab_name_that_is_not_gsm7_or_too_long),
		cmocka_unit_test(text_refuses_a_link_that_cannot_fit),
		cmocka_unit_test(sealed_text_opens_only_for_its_message_and_number),
	};

	return cmocka_run_group_tests_name("sms", tests, NULL, NULL);
}
