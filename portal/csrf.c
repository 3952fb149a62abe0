/* csrf.c - HMAC-bound form tokens; see csrf.h for the design.  Every
 * comparison is constant-time and every length is checked before use. */
#include <stdio.h>
#include <string.h>

#include <sodium.h>

#include "csrf.h"

void
csrf_cookie_new(char out[CSRF_COOKIE_CHARS + 1])
{
	unsigned char raw[16];

	randombytes_buf(raw, sizeof(raw));
	sodium_bin2base64(out, CSRF_COOKIE_CHARS + 1, raw, sizeof(raw),
	    sodium_base64_VARIANT_URLSAFE_NO_PADDING);
}

int
csrf_cookie_ok(const char *s)
{
	unsigned char raw[16];
	size_t n;

	if (strlen(s) != CSRF_COOKIE_CHARS)
		return 0;
	return sodium_base642bin(raw, sizeof(raw), s, CSRF_COOKIE_CHARS, NULL,
	    &n, NULL, sodium_base64_VARIANT_URLSAFE_NO_PADDING) == 0 &&
	    n == sizeof(raw);
}

static void
mac(const unsigned char key[PORTAL_KEY_BYTES],
    const unsigned char link[SM_HASH_BYTES], const char *cookie,
    long long t, unsigned char out[crypto_auth_hmacsha256_BYTES])
{
	crypto_auth_hmacsha256_state st;
	char ts[24];
	int n = snprintf(ts, sizeof(ts), "%lld", t);

	crypto_auth_hmacsha256_init(&st, key, PORTAL_KEY_BYTES);
	crypto_auth_hmacsha256_update(&st, (const unsigned char *)"sm-csrf-1", 9);
	crypto_auth_hmacsha256_update(&st, link, SM_HASH_BYTES);
	crypto_auth_hmacsha256_update(&st, (const unsigned char *)cookie,
	    strlen(cookie));
	crypto_auth_hmacsha256_update(&st, (const unsigned char *)ts, (size_t)n);
	crypto_auth_hmacsha256_final(&st, out);
}

int
csrf_make(const unsigned char key[PORTAL_KEY_BYTES],
    const unsigned char link[SM_HASH_BYTES], const char *cookie, time_t now,
    char out[CSRF_TEXT])
{
	unsigned char m[crypto_auth_hmacsha256_BYTES];
	char b64[64];
	int n;

	if (!csrf_cookie_ok(cookie))
		return -1;
	mac(key, link, cookie, (long long)now, m);
	sodium_bin2base64(b64, sizeof(b64), m, sizeof(m),
	    sodium_base64_VARIANT_URLSAFE_NO_PADDING);
	n = snprintf(out, CSRF_TEXT, "%lld.%s", (long long)now, b64);
	return n < 0 || n >= CSRF_TEXT ? -1 : 0;
}

int
csrf_check(const unsigned char key[PORTAL_KEY_BYTES],
    const unsigned char link[SM_HASH_BYTES], const char *cookie,
    const char *token, size_t len, time_t now, long long lifetime)
{
	unsigned char want[crypto_auth_hmacsha256_BYTES];
	unsigned char got[crypto_auth_hmacsha256_BYTES];
	const char *dot;
	long long t = 0;
	size_t i, n;

	if (cookie == NULL || !csrf_cookie_ok(cookie) || len == 0 || len >= CSRF_TEXT)
		return -1;
	dot = memchr(token, '.', len);
	if (dot == NULL || dot == token || dot - token > 12)
		return -1;
	for (i = 0; token + i < dot; i++) {
		if (token[i] < '0' || token[i] > '9')
			return -1;
		t = t * 10 + (token[i] - '0');
	}
	/* A minute of clock skew between portal hosts, no more. */
	if (t > (long long)now + 60 || (long long)now - t > lifetime)
		return -1;
	if (sodium_base642bin(got, sizeof(got), dot + 1,
	    len - (size_t)(dot + 1 - token), NULL, &n, NULL,
	    sodium_base64_VARIANT_URLSAFE_NO_PADDING) != 0 || n != sizeof(got))
		return -1;
	mac(key, link, cookie, t, want);
	return sodium_memcmp(want, got, sizeof(want)) == 0 ? 0 : -1;
}
