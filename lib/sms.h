/* sms.h - SMS notices: the phone forms we accept, the text (no PHI, one
 * GSM-7 segment), and the queue row the milter writes for sealmail-smsd.
 * The text carries a working link, so it only ever sits in the database
 * sealed with the `sms` key; it never reaches a log. */
#ifndef SM_SMS_H
#define SM_SMS_H

#include <stddef.h>
#include <time.h>

#include "crypto.h"
#include "err.h"

struct db;
struct keyring;

#define SMS_PHONE_MAX 16		/* "+" and 15 digits */
#define SMS_TEXT_MAX 160		/* GSM-7 septets in one segment */
/* Sealed text: nonce, ciphertext of at most SMS_TEXT_MAX * 2 bytes (UTF-8
 * of GSM-7 characters), tag. */
#define SMS_SEALED_MAX (crypto_aead_xchacha20poly1305_ietf_NPUBBYTES + \
	SMS_TEXT_MAX * 2 + crypto_aead_xchacha20poly1305_ietf_ABYTES)

/* 1 when s[0..n) is E.164: "+" and 8 to 15 digits, the first not 0. */
int sms_phone_ok(const char *s, size_t n);
/* 1 and out filled when addr's local part is a phone number
 * ("+4915112345678@sms.example"): such a recipient gets only the SMS. */
int sms_phone_of_address(const char *addr, char out[SMS_PHONE_MAX + 1]);

/* Septets text takes in GSM-7 (extension characters count two), or -1
 * when it has a character GSM-7 lacks. */
int sms_gsm7_len(const char *text);

/* The notice: "<lab>: you have a secure message. Open: <link>", the lab's
 * name left out when it is not GSM-7 or would not fit.  -1 when even the
 * bare link does not fit one segment (portal.url too long). */
int sms_text(const char *lab_name, const char *link, char *out, size_t cap,
    struct sm_err *err);

/* Seals/opens text bound to its message id and phone. */
int sms_seal(const struct keyring *kr, const char *message_id,
    const char *phone, const char *text, unsigned char *out, size_t cap,
    size_t *outlen, struct sm_err *err);
int sms_open(const struct keyring *kr, const char *message_id,
    const char *phone, const unsigned char *in, size_t inlen, char *text,
    size_t cap, struct sm_err *err);

/* Queues one SMS (state queued, due now) and records sms_queued. */
struct sms_item {
	long long lab_id;
	const char *message_id;
	long long delivery_id;
	const char *phone;
	const char *text;
	const char *client_addr;	/* for the event, or NULL */
};
int sms_queue_add(struct db *db, const struct keyring *kr,
    const struct sms_item *it, long long *queue_id, struct sm_err *err);

#endif
