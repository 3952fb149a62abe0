/* totp.c - TOTP codes through liboath; secrets sealed for storage.
 * liboath does the HMAC and the window; this file adds what the library
 * leaves to its caller: replay refusal, strict code syntax, and never
 * keeping a secret in the clear anywhere but memory that is wiped. */
#include <pthread.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include <liboath/oath.h>
#include <sodium.h>

#include "crypto.h"
#include "totp.h"

#define SEAL_CONTEXT "sealmail-totp-v1"
#define NONCE_BYTES crypto_aead_xchacha20poly1305_ietf_NPUBBYTES

static pthread_once_t oath_once = PTHREAD_ONCE_INIT;
static int oath_ready;

static void
oath_start(void)
{
	oath_ready = oath_init() == OATH_OK;
}

static int
ready(void)
{
	return pthread_once(&oath_once, oath_start) == 0 && oath_ready;
}

int
totp_generate(const unsigned char *secret, size_t len, time_t now,
    unsigned digits, char *out)
{
	if (!ready() || digits < 6 || digits > 8)
		return -1;
	return oath_totp_generate((const char *)secret, len, now, TOTP_STEP,
	    OATH_TOTP_DEFAULT_START_TIME, digits, out) == OATH_OK ? 0 : -1;
}

int
totp_verify(const unsigned char *secret, size_t len, const char *code,
    time_t now, unsigned window, long long last_step, long long *step)
{
	uint64_t counter = 0;
	size_t i, n;
	int pos = 0, r;

	if (!ready() || code == NULL)
		return -1;
	n = strnlen(code, 9);
	if (n < 6 || n > 8)
		return 1;
	for (i = 0; i < n; i++)
		if (code[i] < '0' || code[i] > '9')
			return 1;
	r = oath_totp_validate3((const char *)secret, len, now, TOTP_STEP,
	    OATH_TOTP_DEFAULT_START_TIME, window, &pos, &counter, code);
	if (r == OATH_INVALID_OTP)
		return 1;
	if (r < 0)
		return -1;
	if ((long long)counter <= last_step)
		return 1;	/* replayed, or an older code after a newer one */
	*step = (long long)counter;
	return 0;
}

/* Escapes everything but unreserved characters (RFC 3986). */
static int
pct(const char *in, char *out, size_t cap)
{
	static const char hex[] = "0123456789ABCDEF";
	size_t o = 0;

	for (; *in != '\0'; in++) {
		unsigned char c = (unsigned char)*in;

		if ((c >= 'A' && c <= 'Z') || (c >= 'a' && c <= 'z') ||
		    (c >= '0' && c <= '9') || c == '-' || c == '.' || c == '_' ||
		    c == '~') {
			if (o + 1 >= cap)
				return -1;
			out[o++] = (char)c;
		} else {
			if (o + 3 >= cap)
				return -1;
			out[o++] = '%';
			out[o++] = hex[c >> 4];
			out[o++] = hex[c & 15];
		}
	}
	out[o] = '\0';
	return 0;
}

int
totp_uri(const unsigned char *secret, size_t len, const char *issuer,
    const char *account, char *out, size_t cap, struct sm_err *err)
{
	char iss[128], acc[256];
	char *b32 = NULL;
	size_t b32len = 0, i;
	int n, rc = -1;

	if (!ready() || pct(issuer, iss, sizeof(iss)) == -1 ||
	    pct(account, acc, sizeof(acc)) == -1) {
		sm_err_set(err, "TOTP issuer or account too long");
		return -1;
	}
	if (oath_base32_encode((const char *)secret, len, &b32, &b32len) !=
	    OATH_OK) {
		sm_err_set(err, "base32 encoding failed");
		return -1;
	}
	/* Authenticator apps want the secret without '=' padding. */
	for (i = b32len; i > 0 && b32[i - 1] == '='; i--)
		;
	n = snprintf(out, cap, "otpauth://totp/%s:%s?secret=%.*s&issuer=%s"
	    "&algorithm=SHA1&digits=%d&period=%d", iss, acc, (int)i, b32, iss,
	    TOTP_DIGITS, TOTP_STEP);
	if (n < 0 || (size_t)n >= cap) {
		sm_err_set(err, "TOTP URI too long");
		goto out;
	}
	rc = 0;
out:
	sodium_memzero(b32, b32len);
	free(b32);
	return rc;
}

static int
seal_key(const struct keyring *kr, unsigned char key[32], struct sm_err *err)
{
	const unsigned char *pepper = keyring_pepper(kr);

	if (pepper == NULL) {
		sm_err_set(err, "the pepper key is not loaded");
		return -1;
	}
	if (crypto_generichash(key, 32, (const unsigned char *)SEAL_CONTEXT,
	    sizeof(SEAL_CONTEXT) - 1, pepper, SM_PEPPER_BYTES) != 0) {
		sm_err_set(err, "TOTP key derivation failed");
		return -1;
	}
	return 0;
}

static void
seal_ad(long long user_id, unsigned char ad[sizeof(SEAL_CONTEXT) - 1 + 8])
{
	uint64_t u = (uint64_t)user_id;
	int i;

	memcpy(ad, SEAL_CONTEXT, sizeof(SEAL_CONTEXT) - 1);
	for (i = 7; i >= 0; i--) {
		ad[sizeof(SEAL_CONTEXT) - 1 + (size_t)i] = (unsigned char)(u & 0xff);
		u >>= 8;
	}
}

int
totp_seal(const struct keyring *kr, long long user_id,
    const unsigned char *secret, size_t len, unsigned char *out, size_t cap,
    size_t *outlen, struct sm_err *err)
{
	unsigned char key[32], ad[sizeof(SEAL_CONTEXT) - 1 + 8];
	unsigned long long clen = 0;
	int rc = -1;

	if (cap < NONCE_BYTES + len + crypto_aead_xchacha20poly1305_ietf_ABYTES) {
		sm_err_set(err, "no room for the sealed TOTP secret");
		return -1;
	}
	if (seal_key(kr, key, err) == -1)
		return -1;
	seal_ad(user_id, ad);
	randombytes_buf(out, NONCE_BYTES);
	if (crypto_aead_xchacha20poly1305_ietf_encrypt(out + NONCE_BYTES, &clen,
	    secret, len, ad, sizeof(ad), NULL, out, key) != 0) {
		sm_err_set(err, "sealing the TOTP secret failed");
		goto out;
	}
	*outlen = NONCE_BYTES + (size_t)clen;
	rc = 0;
out:
	sodium_memzero(key, sizeof(key));
	return rc;
}

int
totp_open(const struct keyring *kr, long long user_id,
    const unsigned char *sealed, size_t n, unsigned char *secret,
    size_t cap, size_t *len, struct sm_err *err)
{
	unsigned char key[32], ad[sizeof(SEAL_CONTEXT) - 1 + 8];
	unsigned long long plen = 0;
	int rc = -1;

	if (n < NONCE_BYTES + crypto_aead_xchacha20poly1305_ietf_ABYTES ||
	    cap < n - NONCE_BYTES - crypto_aead_xchacha20poly1305_ietf_ABYTES) {
		sm_err_set(err, "sealed TOTP secret has a wrong size");
		return -1;
	}
	if (seal_key(kr, key, err) == -1)
		return -1;
	seal_ad(user_id, ad);
	if (crypto_aead_xchacha20poly1305_ietf_decrypt(secret, &plen, NULL,
	    sealed + NONCE_BYTES, n - NONCE_BYTES, ad, sizeof(ad), sealed,
	    key) != 0) {
		sm_err_set(err, "TOTP secret does not open (another user's, "
		    "damaged, or another pepper)");
		goto out;
	}
	*len = (size_t)plen;
	rc = 0;
out:
	sodium_memzero(key, sizeof(key));
	return rc;
}
