/* smime.h - S/MIME (CMS) signing of the "download original" .eml with the
 * lab's certificate, streamed: the message is read once, chunk by chunk,
 * digested and written out as it goes, then the signature follows, so
 * memory stays one chunk whatever the message size. */
#ifndef PORTAL_SMIME_H
#define PORTAL_SMIME_H

#include <stddef.h>

#include "err.h"

/* Reads up to cap bytes; *got 0 at the end; -1 on error. */
typedef int (*smime_read_fn)(void *ctx, void *buf, size_t cap, size_t *got);
/* Writes all n bytes or returns -1. */
typedef int (*smime_write_fn)(void *ctx, const void *p, size_t n);

struct smime_signer;

/* Looks for DIR/LAB.pem (certificate, then any chain) and DIR/LAB.key
 * (private key, mode 0600, owned by the portal's user).  1 loaded, 0 the
 * lab has none (or dir is ""), -1 when the files exist but are unusable. */
int smime_signer_load(struct smime_signer **out, const char *dir,
    const char *lab, struct sm_err *err);
void smime_signer_free(struct smime_signer *s);

/* Writes a multipart/signed S/MIME message whose first part is the
 * content read through rd (line ends canonicalised to CRLF, as S/MIME
 * requires) and whose second is the detached CMS signature.  A failure
 * after the first write can only cut the output short. */
int smime_sign_stream(struct smime_signer *s, smime_read_fn rd, void *rctx,
    smime_write_fn wr, void *wctx, struct sm_err *err);

#endif
