/* smfi.c - thin wrappers over libmilter (see smfi.h for why).
 * libmilter's prototypes take char * where they mean const char *; the casts
 * live here and nowhere else.  No logic: a test double replaces this file. */
#include <limits.h>

#include "smfi.h"

void *
sm_getpriv(SMFICTX *ctx)
{
	return smfi_getpriv(ctx);
}

int
sm_setpriv(SMFICTX *ctx, void *priv)
{
	return smfi_setpriv(ctx, priv) == MI_SUCCESS ? 0 : -1;
}

const char *
sm_getsymval(SMFICTX *ctx, const char *name)
{
	return smfi_getsymval(ctx, (char *)name);
}

int
sm_setreply(SMFICTX *ctx, const char *rcode, const char *xcode,
    const char *text)
{
	return smfi_setreply(ctx, (char *)rcode, (char *)xcode,
	    (char *)text) == MI_SUCCESS ? 0 : -1;
}

int
sm_addheader(SMFICTX *ctx, const char *name, const char *value)
{
	return smfi_addheader(ctx, (char *)name, (char *)value) == MI_SUCCESS ? 0 : -1;
}

int
sm_chgheader(SMFICTX *ctx, const char *name, int idx, const char *value)
{
	return smfi_chgheader(ctx, (char *)name, idx, (char *)value) == MI_SUCCESS ? 0 : -1;
}

int
sm_delrcpt(SMFICTX *ctx, const char *rcpt)
{
	return smfi_delrcpt(ctx, (char *)rcpt) == MI_SUCCESS ? 0 : -1;
}

int
sm_replacebody(SMFICTX *ctx, const unsigned char *p, size_t n)
{
	/* Pieces of at most 1000 bytes: miltertest (OpenDKIM 2.11, our test
	 * tool) reads each reply into a 1 KiB stack buffer without a bounds
	 * check.  A notice is a few kilobytes, so the extra packets cost
	 * nothing measurable, and libmilter takes an int length anyway. */
	while (n > 0) {
		size_t take = n > 1000 ? 1000 : n;

		if (smfi_replacebody(ctx, (unsigned char *)p, (int)take) != MI_SUCCESS)
			return -1;
		p += take;
		n -= take;
	}
	return 0;
}

int
sm_progress(SMFICTX *ctx)
{
	return smfi_progress(ctx) == MI_SUCCESS ? 0 : -1;
}
