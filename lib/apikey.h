/* apikey.h - per-lab API keys: "smk_<12 hex prefix>_<43 base64url>".
 * Only BLAKE2b of the whole key is stored; the key is shown once, at
 * creation.  The prefix finds the row and names the key to operators. */
#ifndef SM_APIKEY_H
#define SM_APIKEY_H

#include <stddef.h>

#include "err.h"

struct db;

#define APIKEY_PREFIX_CHARS 12
#define APIKEY_CHARS (4 + APIKEY_PREFIX_CHARS + 1 + 43)
#define APIKEY_NOTFOUND (-2)

int apikey_create(struct db *db, long long lab_id, const char *label,
    char key[APIKEY_CHARS + 1], char prefix[APIKEY_PREFIX_CHARS + 1],
    struct sm_err *err);
/* lab_id 0: any lab (sealmailctl).  APIKEY_NOTFOUND when no such live key. */
int apikey_revoke(struct db *db, long long lab_id, const char *prefix,
    struct sm_err *err);
/* 1 valid (lab and key id filled, last_used updated), 0 unknown, revoked
 * or wrong, -1 error.  The same 0 for every kind of wrong key. */
int apikey_check(struct db *db, const char *key, size_t len,
    long long *lab_id, long long *key_id, struct sm_err *err);

struct apikey_info {
	char prefix[APIKEY_PREFIX_CHARS + 1];
	char lab[65];
	char label[401];
	long long created, last_used, revoked;
};
int apikey_list(struct db *db, long long lab_id,
    int (*fn)(const struct apikey_info *k, void *arg), void *arg,
    struct sm_err *err);

#endif
