/* keys.c - sealmailctl keygen and reseal.
 * keygen only ever adds key files.  reseal moves every data key to the
 * current escrow key pair, so an old pair can be retired: the chunks are
 * not touched, only the sealed data keys. */
#include <getopt.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include <sodium.h>

#include "crypto.h"
#include "ctl.h"
#include "db.h"
#include "log.h"

int
cmd_keygen(struct ctl *c)
{
	struct sm_err err;
	const char *dir = config_str(c->cf, "keys.dir");
	int version = (int)config_int(c->cf, "keys.escrow_version");

	if (c->argc > 1)
		return ctl_fail("usage: sealmailctl keygen  (creates what keys.dir lacks"
		    " for keys.escrow_version)");
	if (keyring_generate(dir, version, KEY_ESCROW_PUBLIC | KEY_ESCROW_SECRET |
	    KEY_SIGN_SECRET | KEY_SIGN_PUBLIC | KEY_PEPPER | KEY_AUDIT | KEY_SMS, &err) == -1)
		return ctl_fail("%s", err.msg);
	printf("keys in %s complete for escrow version %d\n", dir, version);
	return 0;
}

#define RESEAL_BATCH 256

struct pending {
	char id[SM_ID_HEX];
	long long version;
	unsigned char sealed[SM_SEALED_KEY_BYTES];
};

int
cmd_reseal(struct ctl *c)
{
	static const char pick[] = "SELECT id, key_version, sealed_key FROM messages"
	    " WHERE sealed_key IS NOT NULL AND key_version <> ? AND id > ?"
	    " ORDER BY id LIMIT 256";
	/* A purge between our SELECT and this UPDATE must stay a purge. */
	static const char upd[] = "UPDATE messages SET sealed_key = ?, key_version = ?"
	    " WHERE id = ? AND key_version = ? AND sealed_key IS NOT NULL";
	struct pending *batch = NULL;
	struct keyring *kr = NULL;
	struct db *db = NULL;
	struct sm_err err;
	unsigned char *key = NULL;
	unsigned long long done = 0, bad = 0;
	char last[SM_ID_HEX] = "";
	int version = (int)config_int(c->cf, "keys.escrow_version");
	int rc = 1;

	if (c->argc > 1)
		return ctl_fail("usage: sealmailctl reseal");
	batch = calloc(RESEAL_BATCH, sizeof(*batch));
	key = sodium_malloc(SM_KEY_BYTES);
	if (batch == NULL || key == NULL) {
		rc = ctl_fail("out of memory");
		goto out;
	}
	if (keyring_load(&kr, config_str(c->cf, "keys.dir"), version,
	    KEY_ESCROW_PUBLIC | KEY_ESCROW_SECRET, &err) == -1 ||
	    db_open(&db, c->cf, DB_ROLE_ADMIN, &err) == -1) {
		rc = ctl_fail("%s", err.msg);
		goto out;
	}
	for (;;) {
		struct db_val arg[2] = { DB_I(version), DB_S(last) };
		struct pending row;
		struct db_col cols[3];
		size_t n = 0, i;
		int f;

		cols[0] = DB_COL_S(row.id, sizeof(row.id));
		cols[1] = DB_COL_I(&row.version);
		cols[2] = DB_COL_B(row.sealed, sizeof(row.sealed));
		if (db_query(db, pick, arg, 2, cols, 3, &err) == -1) {
			rc = ctl_fail("%s", err.msg);
			goto out;
		}
		while (n < RESEAL_BATCH && (f = db_fetch(db, &err)) == 1) {
			if (cols[2].len != SM_SEALED_KEY_BYTES) {
				db_query_end(db);
				rc = ctl_fail("message %s: sealed key has a wrong length", row.id);
				goto out;
			}
			batch[n++] = row;
		}
		db_query_end(db);
		if (n == 0)
			break;
		for (i = 0; i < n; i++) {
			unsigned char id[SM_ID_BYTES], sealed[SM_SEALED_KEY_BYTES];
			struct db_val a[4];

			snprintf(last, sizeof(last), "%s", batch[i].id);
			/* One message that cannot be opened (tampered with, or
			 * its key version lost) must not keep the others on
			 * the old key: report it and go on. */
			if (msgid_parse(batch[i].id, id) == -1 ||
			    datakey_open(kr, (int)batch[i].version, id,
			    batch[i].sealed, key, &err) == -1 ||
			    datakey_seal(kr, id, key, sealed) == -1) {
				sodium_memzero(key, SM_KEY_BYTES);
				ctl_fail("message %s not re-sealed: %s", batch[i].id, err.msg);
				bad++;
				continue;
			}
			sodium_memzero(key, SM_KEY_BYTES);
			a[0] = DB_B(sealed, sizeof(sealed));
			a[1] = DB_I(version);
			a[2] = DB_S(batch[i].id);
			a[3] = DB_I(batch[i].version);
			if (db_exec(db, upd, a, 4, NULL, NULL, &err) == -1) {
				rc = ctl_fail("%s", err.msg);
				goto out;
			}
			done++;
		}
	}
	log_event("resealed", "messages=%llu failed=%llu version=%d", done, bad, version);
	printf("%llu message key(s) re-sealed to escrow version %d\n", done, version);
	if (bad > 0)
		rc = ctl_fail("%llu message key(s) could not be opened and stay on"
		    " their old version", bad);
	else
		rc = 0;
out:
	if (key != NULL)
		sodium_free(key);
	free(batch);
	keyring_free(kr);
	db_close(db);
	return rc;
}
