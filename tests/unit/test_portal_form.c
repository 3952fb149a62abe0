/* test_portal_form.c - the portal's parsers accept what browsers send and
 * refuse everything malformed: forms, cookies, Accept-Language, Range,
 * download filenames, multipart/form-data uploads, and the CSRF token's
 * binding. */
#include <stdarg.h>
#include <stddef.h>
#include <setjmp.h>
#include <stdint.h>
#include <stdio.h>
#include <string.h>
#include <time.h>

#include <cmocka.h>
#include <sodium.h>

#include "csrf.h"
#include "form.h"
#include "multipart.h"

static void
form_decodes_plus_and_percent(void **state)
{
	struct form f;
	size_t n;
	const char *s = "csrf=1.abc&answer=Smith+Jones%2C%20Jr%C3%A9";

	(void)state;
	assert_int_equal(form_parse(&f, s, strlen(s)), 0);
	assert_string_equal(form_get(&f, "answer", &n), "Smith Jones, Jr\xc3\xa9");
	assert_int_equal(n, strlen("Smith Jones, Jr\xc3\xa9"));
	assert_string_equal(form_get(&f, "csrf", NULL), "1.abc");
	assert_null(form_get(&f, "missing", NULL));
}

static void
form_refuses_malformed_percent_encoding(void **state)
{
	static const char *const bad[] = {
		"answer=%", "answer=%4", "answer=%zz", "answer=abc%G1",
		"answer=%00", "a%=1", "=1",
	};
	struct form f;
	size_t i;

	(void)state;
	for (i = 0; i < sizeof(bad) / sizeof(bad[0]); i++)
		assert_int_equal(form_parse(&f, bad[i], strlen(bad[i])), -1);
}

static void
form_refuses_duplicates_overlong_and_too_many(void **state)
{
	char big[FORM_VALUE_MAX + 16];
	char many[1024];
	struct form f;
	size_t i, o = 0;

	(void)state;
	assert_int_equal(form_parse(&f, "a=1&a=2", 7), -1);
	memcpy(big, "a=", 2);
	memset(big + 2, 'x', FORM_VALUE_MAX + 1);
	assert_int_equal(form_parse(&f, big, FORM_VALUE_MAX + 3), -1);
	assert_int_equal(form_parse(&f, big, FORM_VALUE_MAX + 2), 0);
	for (i = 0; i <= FORM_FIELDS_MAX; i++)
		o += (size_t)snprintf(many + o, sizeof(many) - o, "f%zu=1&", i);
	assert_int_equal(form_parse(&f, many, o), -1);
}

static void
form_value_is_bounded_by_length_not_nul(void **state)
{
	struct form f;
	const char s[] = "answer=abcdef";

	(void)state;
	assert_int_equal(form_parse(&f, s, 10), 0);
	assert_string_equal(form_get(&f, "answer", NULL), "abc");
}

static void
cookie_found_among_others(void **state)
{
	char v[32];

	(void)state;
	assert_int_equal(cookie_get("a=1; sm_pre=XYZ; b=2", "sm_pre", v, sizeof(v)), 1);
	assert_string_equal(v, "XYZ");
	assert_int_equal(cookie_get("xsm_pre=1", "sm_pre", v, sizeof(v)), 0);
	assert_int_equal(cookie_get(NULL, "sm_pre", v, sizeof(v)), 0);
	assert_int_equal(cookie_get("sm_pre=0123456789", "sm_pre", v, 5), -1);
}

static void
lang_pick_honours_quality_and_subtags(void **state)
{
	char out[8];

	(void)state;
	assert_string_equal(lang_pick("es-ES,es;q=0.9,en;q=0.8", "en|es", out, sizeof(out)), "es");
	assert_string_equal(lang_pick("fr, en;q=0.5, es;q=0.4", "en|es", out, sizeof(out)), "en");
	assert_string_equal(lang_pick("EN-gb", "en|es", out, sizeof(out)), "en");
	assert_null(lang_pick("fr, de", "en|es", out, sizeof(out)));
	assert_null(lang_pick("es;q=0", "en|es", out, sizeof(out)));
	assert_null(lang_pick(NULL, "en|es", out, sizeof(out)));
}

static void
range_forms_and_unsatisfiable(void **state)
{
	uint64_t a, b;

	(void)state;
	assert_int_equal(range_parse("bytes=0-99", 1000, &a, &b), 1);
	assert_true(a == 0 && b == 99);
	assert_int_equal(range_parse("bytes=900-", 1000, &a, &b), 1);
	assert_true(a == 900 && b == 999);
	assert_int_equal(range_parse("bytes=-100", 1000, &a, &b), 1);
	assert_true(a == 900 && b == 999);
	assert_int_equal(range_parse("bytes=500-5000", 1000, &a, &b), 1);
	assert_true(a == 500 && b == 999);
	assert_int_equal(range_parse("bytes=1000-", 1000, &a, &b), -1);
	assert_int_equal(range_parse("bytes=-0", 1000, &a, &b), -1);
	/* ignored: several ranges, other units, garbage, reversed */
	assert_int_equal(range_parse("bytes=0-1,5-6", 1000, &a, &b), 0);
	assert_int_equal(range_parse("items=0-1", 1000, &a, &b), 0);
	assert_int_equal(range_parse("bytes=x-1", 1000, &a, &b), 0);
	assert_int_equal(range_parse("bytes=9-1", 1000, &a, &b), 0);
	assert_int_equal(range_parse("bytes=99999999999999999999-", 1000, &a, &b), 0);
	assert_int_equal(range_parse(NULL, 1000, &a, &b), 0);
}

static void
filename_loses_paths_quotes_and_controls(void **state)
{
	char out[64], ascii[64];

	(void)state;
	filename_clean("../../etc/passwd", out, sizeof(out), ascii, sizeof(ascii));
	assert_string_equal(out, "passwd");
	filename_clean("C:\\Users\\x\\r\"e\rp;o\nrt.pdf", out, sizeof(out), ascii, sizeof(ascii));
	assert_string_equal(out, "r_e_p_o_rt.pdf");
	filename_clean("inf\xc3\xb6rme <b>.pdf", out, sizeof(out), ascii, sizeof(ascii));
	assert_string_equal(out, "inf\xc3\xb6rme _b_.pdf");
	assert_string_equal(ascii, "inf_rme _b_.pdf");
	filename_clean("...", out, sizeof(out), ascii, sizeof(ascii));
	assert_string_equal(out, "download");
	filename_clean("bad\xff\xfeutf8.txt", out, sizeof(out), NULL, 0);
	assert_string_equal(out, "bad__utf8.txt");
	/* cut on a character boundary */
	filename_clean("\xc3\xa9\xc3\xa9\xc3\xa9\xc3\xa9\xc3\xa9", out, 6, NULL, 0);
	assert_string_equal(out, "\xc3\xa9\xc3\xa9");
}

static void
filename_ext_is_rfc5987(void **state)
{
	char out[64];

	(void)state;
	assert_int_equal(filename_ext("inf\xc3\xb6rme 1.pdf", out, sizeof(out)), 0);
	assert_string_equal(out, "UTF-8''inf%C3%B6rme%201.pdf");
	assert_int_equal(filename_ext("aaaaaaaaaaaaaaaaaaaa", out, 20), -1);
}

static void
csrf_binds_link_cookie_and_time(void **state)
{
	unsigned char key[PORTAL_KEY_BYTES], link[SM_HASH_BYTES], other[SM_HASH_BYTES];
	char cookie[CSRF_COOKIE_CHARS + 1], cookie2[CSRF_COOKIE_CHARS + 1];
	char tok[CSRF_TEXT];
	time_t now = 1700000000;

	(void)state;
	randombytes_buf(key, sizeof(key));
	randombytes_buf(link, sizeof(link));
	randombytes_buf(other, sizeof(other));
	csrf_cookie_new(cookie);
	csrf_cookie_new(cookie2);
	assert_true(csrf_cookie_ok(cookie));
	assert_false(csrf_cookie_ok("short"));
	assert_int_equal(csrf_make(key, link, cookie, now, tok), 0);
	assert_int_equal(csrf_check(key, link, cookie, tok, strlen(tok), now + 10, 3600), 0);
	/* another link, another browser, too old, from the future, tampered */
	assert_int_equal(csrf_check(key, other, cookie, tok, strlen(tok), now, 3600), -1);
	assert_int_equal(csrf_check(key, link, cookie2, tok, strlen(tok), now, 3600), -1);
	assert_int_equal(csrf_check(key, link, cookie, tok, strlen(tok), now + 3601, 3600), -1);
	assert_int_equal(csrf_check(key, link, cookie, tok, strlen(tok), now - 120, 3600), -1);
	tok[strlen(tok) - 1] ^= 1;
	assert_int_equal(csrf_check(key, link, cookie, tok, strlen(tok), now, 3600), -1);
	assert_int_equal(csrf_check(key, link, cookie, "", 0, now, 3600), -1);
	assert_int_equal(csrf_check(key, link, NULL, "1.x", 3, now, 3600), -1);
}

static void
multipart_reads_what_a_browser_sends(void **state)
{
	static const char body[] = "--XyZ\r\n"
	    "Content-Disposition: form-data; name=\"csrf\"\r\n\r\n"
	    "1.tok\r\n--XyZ\r\n"
	    "Content-Disposition: form-data; name=\"file\"; filename=\"r.csv\"\r\n"
	    "Content-Type: text/csv\r\n\r\n"
	    "address,kind\r\n--XyZa,b\r\n\r\n--XyZ\r\n"
	    "Content-Disposition: form-data; name=\"dry_run\"\r\n\r\n"
	    "1\r\n--XyZ--\r\n";
	struct mp_part p[MP_PARTS_MAX];
	char b[MP_BOUNDARY_MAX + 1];
	size_t n;

	(void)state;
	assert_int_equal(multipart_boundary("multipart/form-data; boundary=XyZ", b), 0);
	assert_string_equal(b, "XyZ");
	assert_int_equal(multipart_boundary("multipart/form-data; boundary=\"a b\"", b), 0);
	assert_string_equal(b, "a b");
	assert_int_equal(multipart_boundary("text/plain; boundary=XyZ", b), -1);
	assert_int_equal(multipart_boundary("multipart/form-data", b), -1);
	assert_int_equal(multipart_boundary("multipart/form-data; boundary=", b), -1);
	assert_int_equal(multipart_boundary("multipart/form-data; boundary=a<b", b), -1);
	assert_int_equal(multipart_parse(body, sizeof(body) - 1, "XyZ", p, &n), 0);
	assert_int_equal(n, 3);
	assert_string_equal(p[0].name, "csrf");
	assert_int_equal(p[0].len, 5);
	assert_memory_equal(p[0].data, "1.tok", 5);
	assert_string_equal(p[1].name, "file");
	assert_int_equal(p[1].has_filename, 1);
	/* a line that starts like the boundary is data, not a delimiter */
	assert_int_equal(p[1].len, strlen("address,kind\r\n--XyZa,b\r\n"));
	assert_string_equal(p[2].name, "dry_run");
	assert_int_equal(p[2].has_filename, 0);
}

static void
multipart_refuses_malformed_bodies(void **state)
{
	static const char *const bad[] = {
		"",
		"--XyZ--\r\n",					/* no part */
		"--XyZ\r\nContent-Disposition: form-data; name=\"a\"\r\n\r\nx",	/* unclosed */
		"--XyZ\r\nContent-Type: text/plain\r\n\r\nx\r\n--XyZ--",	/* no name */
		"--XyZ\r\nContent-Disposition: attachment; name=\"a\"\r\n\r\nx\r\n--XyZ--",
		"--XyZ\r\nContent-Disposition: form-data; name=\"a\r\n\r\nx\r\n--XyZ--",
		"--XyZ\r\nContent-Disposition: form-data; filename=\"a\"\r\n\r\nx\r\n--XyZ--",
		"junk--XyZ\r\nContent-Disposition: form-data; name=\"a\"\r\n\r\nx\r\n--XyZ--",
	};
	struct mp_part p[MP_PARTS_MAX];
	char many[4096];
	size_t i, n, o = 0;

	(void)state;
	for (i = 0; i < sizeof(bad) / sizeof(bad[0]); i++)
		assert_int_equal(multipart_parse(bad[i], strlen(bad[i]), "XyZ", p, &n), -1);
	for (i = 0; i <= MP_PARTS_MAX; i++)
		o += (size_t)snprintf(many + o, sizeof(many) - o, "--XyZ\r\n"
		    "Content-Disposition: form-data; name=\"f%zu\"\r\n\r\nv\r\n", i);
	o += (size_t)snprintf(many + o, sizeof(many) - o, "--XyZ--\r\n");
	assert_int_equal(multipart_parse(many, o, "XyZ", p, &n), -1);
}

int
main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test(form_decodes_plus_and_percent),
		cmocka_unit_test(form_refuses_malformed_percent_encoding),
		cmocka_unit_test(form_refuses_duplicates_overlong_and_too_many),
		cmocka_unit_test(form_value_is_bounded_by_length_not_nul),
		cmocka_unit_test(cookie_found_among_others),
		cmocka_unit_test(lang_pick_honours_quality_and_subtags),
		cmocka_unit_test(range_forms_and_unsatisfiable),
		cmocka_unit_test(filename_loses_paths_quotes_and_controls),
		cmocka_unit_test(filename_ext_is_rfc5987),
		cmocka_unit_test(csrf_binds_link_cookie_and_time),
		cmocka_unit_test(multipart_reads_what_a_browser_sends),
		cmocka_unit_test(multipart_refuses_malformed_bodies),
	};

	if (sodium_init() < 0)
		return 1;
	return cmocka_run_group_tests(tests, NULL, NULL);
}
