/* sms.c - the SMS notice text, its sealing, and queueing it.
 * Never logs or returns the text: it holds a working link.  The phone
 * number goes into the queue row (the gateway needs it) and nowhere else. */
#include <stdint.h>
#include <stdio.h>
#include <string.h>
#include <time.h>

#include <glib.h>
#include <sodium.h>

#include "db.h"
#include "event.h"
#include "sms.h"

#define NONCE crypto_aead_xchacha20poly1305_ietf_NPUBBYTES
#define ABYTES crypto_aead_xchacha20poly1305_ietf_ABYTES
#define AD_PREFIX "sealmail-sms-v1"

int
sms_phone_ok(const char *s, size_t n)
{
	size_t i;

	if (n < 9 || n > SMS_PHONE_MAX || s[0] != '+' || s[1] == '0')
		return 0;
	for (i = 1; i < n; i++)
		if (s[i] < '0' || s[i] > '9')
			return 0;
	return 1;
}

int
sms_phone_of_address(const char *addr, char out[SMS_PHONE_MAX + 1])
{
	const char *at = strrchr(addr, '@');
	size_t n;

	if (at == NULL || at == addr)
		return 0;
	n = (size_t)(at - addr);
	if (!sms_phone_ok(addr, n))
		return 0;
	memcpy(out, addr, n);
	out[n] = '\0';
	return 1;
}

/* GSM 03.38 basic set beyond printable ASCII (code points). */
static const gunichar gsm_basic_extra[] = {
	0x00a3, 0x00a5, 0x00e8, 0x00e9, 0x00f9, 0x00ec, 0x00f2, 0x00c7, 0x00d8,
	0x00f8, 0x00c5, 0x00e5, 0x0394, 0x03a6, 0x0393, 0x039b, 0x03a9, 0x03a0,
	0x03a8, 0x03a3, 0x0398, 0x039e, 0x00c6, 0x00e6, 0x00df, 0x00c9, 0x00a4,
	0x00a1, 0x00c4, 0x00d6, 0x00d1, 0x00dc, 0x00a7, 0x00bf, 0x00e4, 0x00f6,
	0x00f1, 0x00fc, 0x00e0,
};

static int
septets(gunichar c)
{
	size_t i;

	if (c == '\n' || c == '\r')
		return 1;
	if (c == '^' || c == '{' || c == '}' || c == '\\' || c == '[' ||
	    c == ']' || c == '~' || c == '|' || c == 0x20ac)
		return 2;	/* escape + extension table */
	if (c >= 0x20 && c < 0x7f && c != '`')
		return 1;
	for (i = 0; i < sizeof(gsm_basic_extra) / sizeof(gsm_basic_extra[0]); i++)
		if (gsm_basic_extra[i] == c)
			return 1;
	return -1;
}

int
sms_gsm7_len(const char *text)
{
	const char *p;
	int n = 0, s;

	if (!g_utf8_validate(text, -1, NULL))
		return -1;
	for (p = text; *p != '\0'; p = g_utf8_next_char(p)) {
		if ((s = septets(g_utf8_get_char(p))) < 0)
			return -1;
		n += s;
	}
	return n;
}

static int
fits(const char *t, size_t cap)
{
	int n = sms_gsm7_len(t);

	return n >= 0 && n <= SMS_TEXT_MAX && strlen(t) < cap &&
	    strlen(t) <= SMS_TEXT_MAX * 2;
}

int
sms_text(const char *lab_name, const char *link, char *out, size_t cap,
    struct sm_err *err)
{
	int n;

	if (lab_name != NULL && lab_name[0] != '\0') {
		n = snprintf(out, cap, "%s: you have a secure message. Open: %s",
		    lab_name, link);
		if (n > 0 && (size_t)n < cap && fits(out, cap))
			return 0;
	}
	n = snprintf(out, cap, "You have a secure message. Open: %s", link);
	if (n > 0 && (size_t)n < cap && fits(out, cap))
		return 0;
	sodium_memzero(out, cap);
	sm_err_set(err, "the SMS text would exceed %d GSM-7 characters"
	    " (portal.url too long?)", SMS_TEXT_MAX);
	return -1;
}

static void
make_ad(const char *message_id, const char *phone, unsigned char *ad,
    size_t *adlen)
{
	size_t a = sizeof(AD_PREFIX), b = strlen(message_id), c = strlen(phone);

	/* fixed-size fields, NUL-separated: unambiguous */
	memcpy(ad, AD_PREFIX, a);
	memcpy(ad + a, message_id, b + 1);
	memcpy(ad + a + b + 1, phone, c + 1);
	*adlen = a + b + 1 + c + 1;
}

#define AD_MAX (sizeof(AD_PREFIX) + SM_ID_HEX + SMS_PHONE_MAX + 2)

static int
ids_ok(const char *message_id, const char *phone, struct sm_err *err)
{
	if (strlen(message_id) >= SM_ID_HEX ||
	    !sms_phone_ok(phone, strlen(phone))) {
		sm_err_set(err, "bad message id or phone for an SMS");
		return -1;
	}
	return 0;
}

int
sms_seal(const struct keyring *kr, const char *message_id, const char *phone,
    const char *text, unsigned char *out, size_t cap, size_t *outlen,
    struct sm_err *err)
{
	const unsigned char *key = keyring_sms_key(kr);
	unsigned char ad[AD_MAX];
	size_t n = strlen(text), adlen;
	unsigned long long clen;

	if (key == NULL) {
		sm_err_set(err, "the sms key is not loaded");
		return -1;
	}
	if (ids_ok(message_id, phone, err) == -1)
		return -1;
	if (n > SMS_TEXT_MAX * 2 || cap < NONCE + n + ABYTES) {
		sm_err_set(err, "SMS text too long to seal");
		return -1;
	}
	make_ad(message_id, phone, ad, &adlen);
	randombytes_buf(out, NONCE);
	if (crypto_aead_xchacha20poly1305_ietf_encrypt(out + NONCE, &clen,
	    (const unsigned char *)text, n, ad, adlen, NULL, out, key) != 0) {
		sm_err_set(err, "SMS text sealing failed");
		return -1;
	}
	*outlen = NONCE + (size_t)clen;
	return 0;
}

int
sms_open(const struct keyring *kr, const char *message_id, const char *phone,
    const unsigned char *in, size_t inlen, char *text, size_t cap,
    struct sm_err *err)
{
	const unsigned char *key = keyring_sms_key(kr);
	unsigned char ad[AD_MAX];
	unsigned long long mlen;
	size_t adlen;

	if (key == NULL) {
		sm_err_set(err, "the sms key is not loaded");
		return -1;
	}
	if (ids_ok(message_id, phone, err) == -1)
		return -1;
	if (inlen < NONCE + ABYTES || inlen - NONCE - ABYTES >= cap) {
		sm_err_set(err, "sealed SMS text has a bad length");
		return -1;
	}
	make_ad(message_id, phone, ad, &adlen);
	if (crypto_aead_xchacha20poly1305_ietf_decrypt((unsigned char *)text,
	    &mlen, NULL, in + NONCE, inlen - NONCE, ad, adlen, in, key) != 0) {
		sm_err_set(err, "sealed SMS text does not open (wrong key or"
		    " tampered row)");
		return -1;
	}
	text[mlen] = '\0';
	return 0;
}

int
sms_queue_add(struct db *db, const struct keyring *kr,
    const struct sms_item *it, long long *queue_id, struct sm_err *err)
{
	static const char sql[] = "INSERT INTO sms_queue (lab_id, message_id,"
	    " delivery_id, phone, sealed_text, created, next_attempt)"
	    " VALUES (?, ?, ?, ?, ?, ?, ?)";
	unsigned char sealed[SMS_SEALED_MAX];
	unsigned long long id = 0;
	struct db_val a[7];
	struct event ev;
	char detail[64];
	size_t slen;
	time_t now = time(NULL);
	int rc = -1;

	if (sms_seal(kr, it->message_id, it->phone, it->text, sealed,
	    sizeof(sealed), &slen, err) == -1)
		goto out;
	a[0] = DB_I(it->lab_id);
	a[1] = DB_S(it->message_id);
	a[2] = DB_I(it->delivery_id);
	a[3] = DB_S(it->phone);
	a[4] = DB_B(sealed, slen);
	a[5] = DB_I(now);
	a[6] = DB_I(now);
	if (db_begin(db, err) == -1)
		goto out;
	if (db_exec(db, sql, a, 7, NULL, &id, err) == -1)
		goto rollback;
	snprintf(detail, sizeof(detail), "sms=%llu", id);
	memset(&ev, 0, sizeof(ev));
	ev.kind = "sms_queued";
	ev.lab_id = it->lab_id;
	ev.message_id = it->message_id;
	ev.delivery_id = it->delivery_id;
	ev.client_addr = it->client_addr;
	ev.detail = detail;
	if (event_record(db, &ev, err) == -1 || db_commit(db, err) == -1)
		goto rollback;
	if (queue_id != NULL)
		*queue_id = (long long)id;
	rc = 0;
	goto out;
rollback:
	db_rollback(db);
out:
	sodium_memzero(sealed, sizeof(sealed));
	return rc;
}
