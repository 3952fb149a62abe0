/* smfi.h - the seam between sealmail and libmilter.
 * Every smfi_* call the milter makes goes through these wrappers (as
 * OpenDKIM's dkimf_* do), so a unit test can link a fake of this file and
 * drive the real callbacks and sealing code without a socket or an MTA. */
#ifndef SM_MILTER_SMFI_H
#define SM_MILTER_SMFI_H

#include <stddef.h>

#include <libmilter/mfapi.h>

void *sm_getpriv(SMFICTX *ctx);
int sm_setpriv(SMFICTX *ctx, void *priv);
/* NULL when the MTA did not send the macro. */
const char *sm_getsymval(SMFICTX *ctx, const char *name);
/* rcode "451"/"550", xcode "4.3.0"; text must not contain '%' (libmilter
 * hands it to the MTA as a format-free string, but Postfix logs it). */
int sm_setreply(SMFICTX *ctx, const char *rcode, const char *xcode,
    const char *text);
int sm_addheader(SMFICTX *ctx, const char *name, const char *value);
/* value NULL deletes the idx-th (1-based) header called name. */
int sm_chgheader(SMFICTX *ctx, const char *name, int idx, const char *value);
int sm_delrcpt(SMFICTX *ctx, const char *rcpt);
int sm_replacebody(SMFICTX *ctx, const unsigned char *p, size_t n);
int sm_progress(SMFICTX *ctx);

#endif
