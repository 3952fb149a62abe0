/* policy.h - what the lab asked for in X-Sealmail-* headers, validated, and
 * how each recipient will verify: headers > recipients table > lab default.
 * Pure functions over plain structs (no libmilter, no database), so every
 * accepted and refused form has a unit test. */
#ifndef SM_MILTER_POLICY_H
#define SM_MILTER_POLICY_H

#include <stddef.h>
#include <time.h>

#include "answer.h"
#include "recipient.h"
#include "store.h"

#define POLICY_PREFIX "X-Sealmail-"
#define POLICY_VALUE_MAX 2048		/* bytes kept of one header value */
#define POLICY_PHONE_MAX 16		/* "+" and 15 digits */
#define POLICY_TEMPLATE_MAX 64

enum policy_hdr {
	PH_QUESTION,
	PH_ANSWER,
	PH_PASSWORD,
	PH_EXPIRES,
	PH_REFERENCE,
	PH_PHONE,
	PH_TEMPLATE,
	PH_ID,		/* our own, on notices: accepted and removed */
	PH_NKNOWN
};

/* The raw X-Sealmail-* headers of one message. */
struct policy_hdrs {
	char *val[PH_NKNOWN];	/* unfolded, trimmed; NULL when absent */
	size_t len[PH_NKNOWN];
	int count[PH_NKNOWN];
	int too_long[PH_NKNOWN];
	char unknown[80];	/* first unknown X-Sealmail-* name, cleaned */
};

/* An SMTP refusal: "550", "5.7.1", and a sentence safe to send. */
struct policy_reply {
	char rcode[4];
	char xcode[8];
	char text[512];
};

enum policy_verif {
	PV_NONE,		/* no verification headers */
	PV_QUESTION,		/* X-Sealmail-Question + X-Sealmail-Answer */
	PV_PASSWORD,		/* X-Sealmail-Password */
};

/* The validated request. */
struct policy {
	time_t expires;
	char reference[SM_REFERENCE_MAX + 1];	/* "" when none */
	char phone[POLICY_PHONE_MAX + 1];	/* "" when none */
	char template_variant[POLICY_TEMPLATE_MAX + 1];	/* "" when none */
	enum policy_verif verif;
	char question[SM_QUESTION_MAX + 1];	/* decoded UTF-8 */
	const char *secret;	/* answer or password, decoded; in hdrs' memory */
	size_t secret_len;
};

/* 1 when name is an X-Sealmail-* header (to be removed), else 0. */
int policy_is_ours(const char *name);
/* Records one header; name must be ours.  -1 only when out of memory. */
int policy_header(struct policy_hdrs *ph, const char *name,
    const char *value, size_t vlen);
/* Wipes the answer and password, frees. */
void policy_hdrs_free(struct policy_hdrs *ph);

/* Validates the headers: 0 and *pol filled, or -1 and *rep says why (a 5xx:
 * retrying the same message cannot help).  now and default_days set the
 * expiry when X-Sealmail-Expires is absent. */
int policy_check(struct policy_hdrs *ph, time_t now, int default_days,
    enum date_order order, struct policy *pol, struct policy_reply *rep);

/* How recipient addr verifies.  rec is its recipients row or NULL;
 * answer_hash is the hash of pol->secret (NULL when pol->verif is PV_NONE).
 * Fills d (pointing into pol, rec and answer_hash) or -1 and a 5xx in rep. */
int policy_resolve(const struct policy *pol, const char *answer_hash,
    const struct recipient *rec, int lab_requires, const char *addr,
    struct store_delivery *d, struct policy_reply *rep);

/* Copies text into an SMTP reply: printable ASCII, no '%', bounded. */
void policy_reply_set(struct policy_reply *rep, const char *rcode,
    const char *xcode, const char *fmt, ...)
	__attribute__((format(printf, 4, 5)));

#endif
