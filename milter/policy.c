/* policy.c - parsing and validating what a lab asks for in X-Sealmail-*
 * headers, and choosing each recipient's verification.
 * Refuses rather than guesses: a duplicate, unknown, malformed or
 * over-long header is a 5xx naming the header, never silently ignored,
 * because an ignored header means a patient's results sealed under terms
 * the lab did not ask for.  Never puts an answer or password in a reply. */
#include <ctype.h>
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <strings.h>

#include <gmime/gmime.h>
#include <sodium.h>

#include "expiry.h"
#include "policy.h"
#include "sms.h"

static const char *const hdr_names[PH_NKNOWN] = {
	"X-Sealmail-Question", "X-Sealmail-Answer", "X-Sealmail-Password",
	"X-Sealmail-Expires", "X-Sealmail-Reference", "X-Sealmail-Phone",
	"X-Sealmail-Template", "X-Sealmail-Id",
};

int
policy_is_ours(const char *name)
{
	return strncasecmp(name, POLICY_PREFIX, sizeof(POLICY_PREFIX) - 1) == 0;
}

static void
clean_copy(const char *in, char *out, size_t cap)
{
	size_t i, o = 0;

	for (i = 0; in[i] != '\0' && o + 1 < cap; i++) {
		unsigned char c = (unsigned char)in[i];

		out[o++] = (c < 0x20 || c >= 0x7f || c == '%') ? '?' : (char)c;
	}
	out[o] = '\0';
}

void
policy_reply_set(struct policy_reply *rep, const char *rcode,
    const char *xcode, const char *fmt, ...)
{
	char raw[sizeof(rep->text)];
	va_list ap;

	va_start(ap, fmt);
	if (vsnprintf(raw, sizeof(raw), fmt, ap) < 0)
		raw[0] = '\0';
	va_end(ap);
	clean_copy(raw, rep->text, sizeof(rep->text));
	clean_copy(rcode, rep->rcode, sizeof(rep->rcode));
	clean_copy(xcode, rep->xcode, sizeof(rep->xcode));
}

int
policy_header(struct policy_hdrs *ph, const char *name, const char *value,
    size_t vlen)
{
	size_t i, o, start, end;
	char *v;
	int k;

	for (k = 0; k < PH_NKNOWN; k++)
		if (strcasecmp(name, hdr_names[k]) == 0)
			break;
	if (k == PH_NKNOWN) {
		if (ph->unknown[0] == '\0')
			clean_copy(name, ph->unknown, sizeof(ph->unknown));
		return 0;
	}
	ph->count[k]++;
	if (ph->count[k] > 1)
		return 0;	/* refused in policy_check; keep the first */
	if (vlen > POLICY_VALUE_MAX) {
		ph->too_long[k] = 1;
		return 0;
	}
	v = malloc(vlen + 1);
	if (v == NULL)
		return -1;
	/* Unfold: drop the line breaks of continuation lines; folding
	 * whitespace (a tab, usually) reads as one space. */
	for (i = 0, o = 0; i < vlen; i++)
		if (value[i] != '\r' && value[i] != '\n')
			v[o++] = value[i] == '\t' ? ' ' : value[i];
	for (start = 0; start < o && (v[start] == ' ' || v[start] == '\t'); start++)
		;
	for (end = o; end > start && (v[end - 1] == ' ' || v[end - 1] == '\t'); end--)
		;
	memmove(v, v + start, end - start);
	v[end - start] = '\0';
	ph->val[k] = v;
	ph->len[k] = end - start;
	return 0;
}

void
policy_hdrs_free(struct policy_hdrs *ph)
{
	int k;

	for (k = 0; k < PH_NKNOWN; k++) {
		if (ph->val[k] != NULL) {
			sodium_memzero(ph->val[k], ph->len[k]);
			free(ph->val[k]);
		}
	}
	memset(ph, 0, sizeof(*ph));
}

/* Printable: no control bytes in any form of the text. */
static int
has_control(const char *s, size_t n)
{
	size_t i;

	for (i = 0; i < n; i++) {
		unsigned char c = (unsigned char)s[i];

		if (c < 0x20 || c == 0x7f)
			return 1;
	}
	return 0;
}

/* Decodes RFC 2047 encoded-words into UTF-8 in place (the result is never
 * longer than the encoded form); refuses invalid UTF-8 and control bytes. */
static int
decode_text(struct policy_hdrs *ph, int k)
{
	char *dec;
	size_t n;

	if (!g_utf8_validate(ph->val[k], (gssize)ph->len[k], NULL))
		return -1;
	dec = g_mime_utils_header_decode_text(NULL, ph->val[k]);
	if (dec == NULL)
		return -1;
	n = strlen(dec);
	if (n > ph->len[k] || !g_utf8_validate(dec, (gssize)n, NULL) ||
	    has_control(dec, n)) {
		sodium_memzero(dec, n);
		g_free(dec);
		return -1;
	}
	memcpy(ph->val[k], dec, n + 1);
	sodium_memzero(ph->val[k] + n, ph->len[k] - n);
	ph->len[k] = n;
	sodium_memzero(dec, n);
	g_free(dec);
	return 0;
}

/* The same check as the queue's: E.164, "+" and 8 to 15 digits. */
static int
valid_phone(const char *s, size_t n)
{
	return sms_phone_ok(s, n);
}

/* A variant names a directory: no dots or slashes, so no traversal. */
static int
valid_variant(const char *s, size_t n)
{
	size_t i;

	if (n < 1 || n > POLICY_TEMPLATE_MAX || s[0] == '-')
		return 0;
	for (i = 0; i < n; i++) {
		unsigned char c = (unsigned char)s[i];

		if (!isalnum(c) && c != '-' && c != '_')
			return 0;
	}
	return 1;
}

static int
valid_reference(const char *s, size_t n)
{
	size_t i;

	if (n < 1 || n > SM_REFERENCE_MAX)
		return 0;
	for (i = 0; i < n; i++)
		if ((unsigned char)s[i] < 0x20 || (unsigned char)s[i] > 0x7e)
			return 0;
	return 1;
}

#define REFUSE(...) do { \
	policy_reply_set(rep, "550", "5.7.1", __VA_ARGS__); \
	return -1; \
} while (0)

int
policy_check(struct policy_hdrs *ph, time_t now, int default_days,
    enum date_order order, struct policy *pol, struct policy_reply *rep)
{
	struct sm_err err;
	char norm[SM_ANSWER_MAX * 4];
	size_t normlen;
	int k;

	memset(pol, 0, sizeof(*pol));
	if (ph->unknown[0] != '\0')
		REFUSE("unknown header %s: sealmail knows X-Sealmail-Question,"
		    " -Answer, -Password, -Expires, -Reference, -Phone and"
		    " -Template", ph->unknown);
	for (k = 0; k < PH_NKNOWN; k++) {
		if (ph->count[k] > 1 && k != PH_ID)
			REFUSE("%s appears %d times: set it once", hdr_names[k],
			    ph->count[k]);
		if (ph->too_long[k])
			REFUSE("%s is longer than %d bytes", hdr_names[k],
			    POLICY_VALUE_MAX);
		if (ph->val[k] != NULL && ph->len[k] == 0 && k != PH_ID)
			REFUSE("%s is empty", hdr_names[k]);
	}

	/* Expiry: the lab's header, else the lab's default. */
	if (ph->val[PH_EXPIRES] != NULL) {
		if (expiry_parse(ph->val[PH_EXPIRES], ph->len[PH_EXPIRES], now,
		    &pol->expires, &err) == -1) {
			policy_reply_set(rep, "550", "5.6.0",
			    "X-Sealmail-Expires: %s (use 7d, 2w, 6m, 10y or"
			    " YYYY-MM-DD, 1 day to 10 years)", err.msg);
			return -1;
		}
	} else {
		pol->expires = now + (time_t)default_days * 24 * 3600;
	}

	if (ph->val[PH_REFERENCE] != NULL) {
		if (!valid_reference(ph->val[PH_REFERENCE], ph->len[PH_REFERENCE]))
			REFUSE("X-Sealmail-Reference must be 1 to %d printable"
			    " ASCII characters", SM_REFERENCE_MAX);
		memcpy(pol->reference, ph->val[PH_REFERENCE], ph->len[PH_REFERENCE] + 1);
	}
	if (ph->val[PH_PHONE] != NULL) {
		if (!valid_phone(ph->val[PH_PHONE], ph->len[PH_PHONE]))
			REFUSE("X-Sealmail-Phone must be in E.164 form:"
			    " + and 8 to 15 digits, the first not 0");
		memcpy(pol->phone, ph->val[PH_PHONE], ph->len[PH_PHONE] + 1);
	}
	if (ph->val[PH_TEMPLATE] != NULL) {
		if (!valid_variant(ph->val[PH_TEMPLATE], ph->len[PH_TEMPLATE]))
			REFUSE("X-Sealmail-Template must be 1 to %d letters,"
			    " digits, '-' or '_'", POLICY_TEMPLATE_MAX);
		memcpy(pol->template_variant, ph->val[PH_TEMPLATE],
		    ph->len[PH_TEMPLATE] + 1);
	}

	/* Verification: a question with its answer, or a password; never
	 * both, never half of the first. */
	if (ph->val[PH_PASSWORD] != NULL &&
	    (ph->val[PH_QUESTION] != NULL || ph->val[PH_ANSWER] != NULL))
		REFUSE("set either X-Sealmail-Question with X-Sealmail-Answer,"
		    " or X-Sealmail-Password, not both");
	if ((ph->val[PH_QUESTION] != NULL) != (ph->val[PH_ANSWER] != NULL))
		REFUSE("X-Sealmail-Question and X-Sealmail-Answer must be set"
		    " together");
	if (ph->val[PH_QUESTION] != NULL) {
		if (decode_text(ph, PH_QUESTION) == -1)
			REFUSE("X-Sealmail-Question is not valid UTF-8 text");
		if (ph->len[PH_QUESTION] == 0 || ph->len[PH_QUESTION] > SM_QUESTION_MAX)
			REFUSE("X-Sealmail-Question must be 1 to %d bytes",
			    SM_QUESTION_MAX);
		memcpy(pol->question, ph->val[PH_QUESTION], ph->len[PH_QUESTION] + 1);
		k = PH_ANSWER;
		pol->verif = PV_QUESTION;
	} else if (ph->val[PH_PASSWORD] != NULL) {
		k = PH_PASSWORD;
		pol->verif = PV_PASSWORD;
	} else {
		return 0;
	}
	if (decode_text(ph, k) == -1)
		REFUSE("%s is not valid UTF-8 text", hdr_names[k]);
	/* The same normalisation the portal applies: an answer that
	 * normalises to nothing could never be typed in. */
	if (answer_normalise(ph->val[k], ph->len[k], order, norm, sizeof(norm),
	    &normlen, &err) == -1) {
		sodium_memzero(norm, sizeof(norm));
		REFUSE("%s cannot be used: %s", hdr_names[k], err.msg);
	}
	sodium_memzero(norm, sizeof(norm));
	pol->secret = ph->val[k];
	pol->secret_len = ph->len[k];
	return 0;
}

int
policy_resolve(const struct policy *pol, const char *answer_hash,
    const struct recipient *rec, int lab_requires, const char *addr,
    struct store_delivery *d, struct policy_reply *rep)
{
	memset(d, 0, sizeof(*d));
	d->address = addr;
	switch (pol->verif) {
	case PV_QUESTION:
		d->kind = VERIF_QUESTION;
		d->question = pol->question;
		d->answer_hash = answer_hash;
		return 0;
	case PV_PASSWORD:
		d->kind = VERIF_PASSWORD;
		d->answer_hash = answer_hash;
		return 0;
	case PV_NONE:
		break;
	}
	if (rec != NULL && recipient_usable(rec)) {
		/* Question and hash both stay in the table (the portal reads
		 * them through recipient_id), so a lab that later changes a
		 * recipient's question and answer changes them together. */
		d->kind = rec->kind;
		d->question = NULL;
		d->recipient_id = rec->id;
		return 0;
	}
	if (!lab_requires) {
		d->kind = VERIF_REGISTERED;
		return 0;
	}
	policy_reply_set(rep, "550", "5.7.1", "no way to verify recipient <%s>:"
	    " set X-Sealmail-Question/Answer or X-Sealmail-Password, or"
	    " upload the recipient", addr);
	return -1;
}
