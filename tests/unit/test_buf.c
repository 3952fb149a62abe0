/* test_buf.c - the growing buffer never passes its cap. */
#include <stdarg.h>
#include <stddef.h>
#include <setjmp.h>
#include <stdint.h>
#include <string.h>

#include <cmocka.h>

#include "buf.h"

static void
append_within_cap_succeeds(void **state)
{
	struct buf b;

	(void)state;
	buf_init(&b, 10);
	assert_int_equal(buf_append(&b, "hello", 5), 0);
	assert_int_equal(buf_puts(&b, "world"), 0);
	assert_int_equal(b.len, 10);
	assert_string_equal(buf_cstr(&b), "helloworld");
	buf_free(&b);
}

static void
append_past_cap_fails_and_keeps_contents(void **state)
{
	struct buf b;

	(void)state;
	buf_init(&b, 8);
	assert_int_equal(buf_puts(&b, "12345"), 0);
	assert_int_equal(buf_puts(&b, "6789"), -1);
	assert_string_equal(buf_cstr(&b), "12345");
	assert_int_equal(buf_printf(&b, "%s", "abcd"), -1);
	assert_int_equal(buf_printf(&b, "%d", 678), 0);
	assert_string_equal(buf_cstr(&b), "12345678");
	buf_free(&b);
}

static void
huge_length_does_not_wrap(void **state)
{
	struct buf b;

	(void)state;
	buf_init(&b, 100);
	assert_int_equal(buf_puts(&b, "x"), 0);
	assert_int_equal(buf_append(&b, "y", SIZE_MAX), -1);
	assert_int_equal(buf_append(&b, "y", SIZE_MAX - 1), -1);
	assert_int_equal(b.len, 1);
	buf_free(&b);
}

static void
reset_and_free_are_safe_twice(void **state)
{
	struct buf b;

	(void)state;
	buf_init(&b, 64);
	assert_string_equal(buf_cstr(&b), "");
	buf_reset(&b);
	assert_int_equal(buf_puts(&b, "secret"), 0);
	buf_reset(&b);
	assert_int_equal(b.len, 0);
	buf_free(&b);
	buf_free(&b);
}

int
main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test(append_within_cap_succeeds),
		cmocka_unit_test(append_past_cap_fails_and_keeps_contents),
		cmocka_unit_test(huge_length_does_not_wrap),
		cmocka_unit_test(reset_and_free_are_safe_twice),
	};

	return cmocka_run_group_tests(tests, NULL, NULL);
}
