/* link.c - token to delivery.  A GET may be a mail scanner: this costs one
 * indexed lookup and never changes anything.  A malformed token is hashed
 * into a well-formed one that matches nothing, so it costs the same
 * lookup as an unknown token and leaves the same page. */
#include <string.h>

#include <sodium.h>

#include "link.h"
#include "portal.h"

static int
token_wellformed(const char *t, size_t len)
{
	unsigned char h[SM_HASH_BYTES];

	return token_hash(t, len, h) == 0;
}

int
link_load(struct portal *p, const char *token, size_t len, struct link *l,
    struct sm_err *err)
{
	char dummy[SM_TOKEN_TEXT];
	const char *t = token;
	int rc;

	memset(l, 0, sizeof(*l));
	l->state = LINK_UNKNOWN;
	if (token_wellformed(token, len)) {
		memcpy(l->token, token, len);
		l->token[len] = '\0';
	} else {
		unsigned char h[SM_TOKEN_BYTES];

		/* The "sealmail-nolink" key makes the dummy differ from any
		 * real token's form; 2^-256 odds it matches one. */
		crypto_generichash(h, sizeof(h), (const unsigned char *)token,
		    len, (const unsigned char *)"sealmail-nolink", 15);
		sodium_bin2base64(dummy, sizeof(dummy), h, sizeof(h),
		    sodium_base64_VARIANT_URLSAFE_NO_PADDING);
		t = dummy;
		len = strlen(dummy);
	}
	rc = store_find_link(p->db, t, len, &l->sl, err);
	if (rc == -1)
		return -1;
	if (rc == 0 || t == dummy) {
		memset(&l->sl, 0, sizeof(l->sl));
		l->state = LINK_UNKNOWN;
		return 0;
	}
	if (l->sl.purged)
		l->state = LINK_PURGED;
	else if (l->sl.retracted != 0)
		l->state = LINK_RETRACTED;
	else if (l->sl.expires <= (long long)p->now)
		l->state = LINK_EXPIRED;
	else
		l->state = LINK_OK;
	return 0;
}

int
link_locked(const struct portal *p, const struct link *l)
{
	return l->sl.locked_until > (long long)p->now;
}
