/* test_portal_http.c - every response starts with the security headers,
 * headers cannot be split by a value, and a response is written once. */
#include <stdarg.h>
#include <stddef.h>
#include <setjmp.h>
#include <stdint.h>
#include <string.h>

#include <cmocka.h>
#include <sodium.h>

#include "http.h"

static int
has_header(const struct response *w, const char *line)
{
	size_t i;

	for (i = 0; i < w->nhdr; i++)
		if (strncmp(w->hdr[i], line, strlen(line)) == 0)
			return 1;
	return 0;
}

static void
new_response_has_security_headers(void **state)
{
	struct request r;
	struct response w;

	(void)state;
	memset(&r, 0, sizeof(r));
	resp_init(&w, &r);
	assert_true(has_header(&w, "Referrer-Policy: no-referrer\r\n"));
	assert_true(has_header(&w, "Cache-Control: no-store\r\n"));
	assert_true(has_header(&w, "Strict-Transport-Security: max-age="));
	assert_true(has_header(&w, "X-Content-Type-Options: nosniff\r\n"));
	assert_int_equal(w.csp, CSP_PAGE);
	assert_int_equal(w.status, 200);
	assert_false(w.failed);
	resp_free(&w);
}

static void
header_with_newline_is_refused(void **state)
{
	struct request r;
	struct response w;
	size_t before;

	(void)state;
	memset(&r, 0, sizeof(r));
	resp_init(&w, &r);
	before = w.nhdr;
	assert_int_equal(resp_header(&w, "Location", "/x\r\nSet-Cookie: a=b"), -1);
	assert_int_equal(w.nhdr, before);
	assert_true(w.failed);
	resp_free(&w);
}

static void
response_is_written_once(void **state)
{
	struct request r;
	struct response w;

	(void)state;
	memset(&r, 0, sizeof(r));
	resp_init(&w, &r);
	assert_int_equal(resp_send(&w), 0);
	assert_true(w.written);
	assert_int_equal(resp_send(&w), -1);
	assert_int_equal(resp_header(&w, "X-Late", "1"), -1);
	resp_free(&w);
}

static void
stream_write_needs_headers_first(void **state)
{
	struct request r;
	struct response w;

	(void)state;
	memset(&r, 0, sizeof(r));
	resp_init(&w, &r);
	assert_int_equal(resp_stream_write(&w, "x", 1), -1);
	assert_int_equal(resp_stream_begin(&w), 0);
	assert_int_equal(resp_stream_write(&w, "x", 1), 0);
	assert_int_equal(resp_stream_begin(&w), -1);
	resp_free(&w);
}

static void
reset_drops_a_downloads_headers_but_keeps_security(void **state)
{
	struct request r;
	struct response w;

	(void)state;
	memset(&r, 0, sizeof(r));
	resp_init(&w, &r);
	resp_status(&w, 206);
	resp_csp(&w, CSP_SANDBOX);
	assert_int_equal(resp_header(&w, "Content-Type", "application/octet-stream"), 0);
	resp_reset(&w);
	assert_false(has_header(&w, "Content-Type:"));
	assert_true(has_header(&w, "Referrer-Policy: no-referrer\r\n"));
	assert_int_equal(w.status, 200);
	assert_int_equal(w.csp, CSP_PAGE);
	resp_free(&w);
}

static void
request_without_fastcgi_has_no_body(void **state)
{
	struct request r;
	struct buf b;

	(void)state;
	req_init(&r, NULL);
	assert_string_equal(r.path, "/");
	assert_int_equal(r.content_length, -1);
	buf_init(&b, 100);
	assert_int_equal(req_read_body(&r, &b, 100), -1);
	buf_free(&b);
}

int
main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test(new_response_has_security_headers),
		cmocka_unit_test(header_with_newline_is_refused),
		cmocka_unit_test(response_is_written_once),
		cmocka_unit_test(stream_write_needs_headers_first),
		cmocka_unit_test(reset_drops_a_downloads_headers_but_keeps_security),
		cmocka_unit_test(request_without_fastcgi_has_no_body),
	};

	if (sodium_init() < 0)
		return 1;
	return cmocka_run_group_tests(tests, NULL, NULL);
}
