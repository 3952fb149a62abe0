/* test_totp.c - TOTP for lab users: the RFC 6238 test vectors, replay and
 * window rules, the enrolment URI, and the sealed storage of secrets. */
#include <stdarg.h>
#include <stddef.h>
#include <setjmp.h>
#include <stdint.h>
#include <stdio.h>
#include <string.h>
#include <unistd.h>

#include <cmocka.h>
#include <sodium.h>

#include "crypto.h"
#include "totp.h"

/* RFC 6238 appendix B, HMAC-SHA1, 8 digits. */
static const unsigned char rfc_secret[] = "12345678901234567890";
static const struct { long long t; const char *code; } rfc[] = {
	{ 59LL, "94287082" },
	{ 1111111109LL, "07081804" },
	{ 1111111111LL, "14050471" },
	{ 1234567890LL, "89005924" },
	{ 2000000000LL, "69279037" },
	{ 20000000000LL, "65353130" },
};

static void
rfc6238_vectors_generate(void **s)
{
	char out[9];
	size_t i;

	(void)s;
	for (i = 0; i < sizeof(rfc) / sizeof(rfc[0]); i++) {
		assert_int_equal(totp_generate(rfc_secret, 20, (time_t)rfc[i].t, 8,
		    out), 0);
		assert_string_equal(out, rfc[i].code);
	}
}

static void
rfc6238_vectors_verify(void **s)
{
	long long step = 0;
	size_t i;

	(void)s;
	for (i = 0; i < sizeof(rfc) / sizeof(rfc[0]); i++) {
		assert_int_equal(totp_verify(rfc_secret, 20, rfc[i].code,
		    (time_t)rfc[i].t, 0, 0, &step), 0);
		assert_int_equal(step, rfc[i].t / 30);
	}
}

static void
wrong_and_malformed_codes_fail(void **s)
{
	long long step = 0;

	(void)s;
	assert_int_equal(totp_verify(rfc_secret, 20, "94287083", 59, 1, 0, &step), 1);
	assert_int_equal(totp_verify(rfc_secret, 20, "9428708", 59, 1, 0, &step), 1);
	assert_int_equal(totp_verify(rfc_secret, 20, "94287O82", 59, 1, 0, &step), 1);
	assert_int_equal(totp_verify(rfc_secret, 20, "", 59, 1, 0, &step), 1);
	assert_int_equal(totp_verify(rfc_secret, 20, "942870820", 59, 1, 0, &step), 1);
}

static void
window_allows_one_step_of_drift_only(void **s)
{
	const time_t now = 1234567890;
	char prev[7], far[7];
	long long step = 0;

	(void)s;
	assert_int_equal(totp_generate(rfc_secret, 20, now - 30, 6, prev), 0);
	assert_int_equal(totp_generate(rfc_secret, 20, now - 90, 6, far), 0);
	assert_int_equal(totp_verify(rfc_secret, 20, prev, now, 1, 0, &step), 0);
	assert_int_equal(totp_verify(rfc_secret, 20, far, now, 1, 0, &step), 1);
}

static void
a_code_is_never_accepted_twice(void **s)
{
	const time_t now = 1700000000;
	char code[7];
	long long step = 0, again = 0;

	(void)s;
	assert_int_equal(totp_generate(rfc_secret, 20, now, 6, code), 0);
	assert_int_equal(totp_verify(rfc_secret, 20, code, now, 1, 0, &step), 0);
	assert_int_equal(totp_verify(rfc_secret, 20, code, now, 1, step, &again), 1);
	/* Nor an older one after a newer one. */
	assert_int_equal(totp_generate(rfc_secret, 20, now - 30, 6, code), 0);
	assert_int_equal(totp_verify(rfc_secret, 20, code, now, 1, step, &again), 1);
}

static void
uri_carries_unpadded_base32_and_escaped_names(void **s)
{
	char uri[TOTP_URI_MAX];
	struct sm_err err;

	(void)s;
	assert_int_equal(totp_uri(rfc_secret, 20, "sealmail", "lab one/a@b",
	    uri, sizeof(uri), &err), 0);
	assert_string_equal(uri, "otpauth://totp/sealmail:lab%20one%2Fa%40b?"
	    "secret=GEZDGNBVGY3TQOJQGEZDGNBVGY3TQOJQ&issuer=sealmail"
	    "&algorithm=SHA1&digits=6&period=30");
	assert_int_equal(totp_uri(rfc_secret, 20, "sealmail", "x", uri, 40,
	    &err), -1);
}

static void
sealed_secret_opens_only_for_its_user(void **s)
{
	char dir[] = "/tmp/test_totp.XXXXXX", path[64];
	unsigned char sealed[TOTP_SEALED_MAX], out[TOTP_SECRET_BYTES];
	struct keyring *kr = NULL;
	struct sm_err err;
	size_t n = 0, len = 0;

	(void)s;
	assert_non_null(mkdtemp(dir));
	assert_int_equal(keyring_generate(dir, 1, KEY_PEPPER, &err), 0);
	assert_int_equal(keyring_load(&kr, dir, 0, KEY_PEPPER, &err), 0);
	assert_int_equal(totp_seal(kr, 7, rfc_secret, 20, sealed, sizeof(sealed),
	    &n, &err), 0);
	assert_null(memmem(sealed, n, rfc_secret, 20));
	assert_int_equal(totp_open(kr, 7, sealed, n, out, sizeof(out), &len,
	    &err), 0);
	assert_int_equal(len, 20);
	assert_memory_equal(out, rfc_secret, 20);
	assert_int_equal(totp_open(kr, 8, sealed, n, out, sizeof(out), &len,
	    &err), -1);
	sealed[n - 1] ^= 1;
	assert_int_equal(totp_open(kr, 7, sealed, n, out, sizeof(out), &len,
	    &err), -1);
	keyring_free(kr);
	snprintf(path, sizeof(path), "%s/pepper", dir);
	unlink(path);
	rmdir(dir);
}

int
main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test(rfc6238_vectors_generate),
		cmocka_unit_test(rfc6238_vectors_verify),
		cmocka_unit_test(wrong_and_malformed_codes_fail),
		cmocka_unit_test(window_allows_one_step_of_drift_only),
		cmocka_unit_test(a_code_is_never_accepted_twice),
		cmocka_unit_test(uri_carries_unpadded_base32_and_escaped_names),
		cmocka_unit_test(sealed_secret_opens_only_for_its_user),
	};

	if (sodium_init() < 0)
		return 1;
	return cmocka_run_group_tests(tests, NULL, NULL);
}
