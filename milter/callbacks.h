/* callbacks.h - the libmilter callback table of sealmail-milter. */
#ifndef SM_MILTER_CALLBACKS_H
#define SM_MILTER_CALLBACKS_H

#include <libmilter/mfapi.h>

#include "seal.h"

/* The capabilities registered with smfi_register. */
#define SEAL_SMFIF (SMFIF_ADDHDRS | SMFIF_CHGHDRS | SMFIF_CHGBODY | SMFIF_DELRCPT)

/* Fills desc; env must outlive smfi_main. */
void callbacks_init(struct smfiDesc *desc, const struct seal_env *env);

#endif
