/* apikey.c - API keys: made from 256 random bits, kept as a hash.
 * A fast hash is enough: nobody guesses 256 bits, and the API checks a key
 * on every request.  Comparison is constant-time. */
#include <stdio.h>
#include <string.h>
#include <time.h>

#include <sodium.h>

#include "apikey.h"
#include "db.h"

static void
key_hash(const char *key, size_t len, unsigned char h[32])
{
	(void)crypto_generichash(h, 32, (const unsigned char *)key, len, NULL, 0);
}

int
apikey_create(struct db *db, long long lab_id, const char *label,
    char key[APIKEY_CHARS + 1], char prefix[APIKEY_PREFIX_CHARS + 1],
    struct sm_err *err)
{
	static const char sql[] = "INSERT INTO api_keys (lab_id, prefix, hash,"
	    " label, created) VALUES (?, ?, ?, ?, ?)";
	unsigned char pre[APIKEY_PREFIX_CHARS / 2], secret[32], h[32];
	char sec[44];
	struct db_val a[5];
	int rc = -1;

	if (label != NULL && strlen(label) > 100) {
		sm_err_set(err, "a label is at most 100 characters");
		return -1;
	}
	randombytes_buf(pre, sizeof(pre));
	randombytes_buf(secret, sizeof(secret));
	sodium_bin2hex(prefix, APIKEY_PREFIX_CHARS + 1, pre, sizeof(pre));
	sodium_bin2base64(sec, sizeof(sec), secret, sizeof(secret),
	    sodium_base64_VARIANT_URLSAFE_NO_PADDING);
	snprintf(key, APIKEY_CHARS + 1, "smk_%s_%s", prefix, sec);
	key_hash(key, APIKEY_CHARS, h);
	a[0] = DB_I(lab_id);
	a[1] = DB_S(prefix);
	a[2] = DB_B(h, sizeof(h));
	a[3] = DB_SNUL(label);
	a[4] = DB_I(time(NULL));
	if (db_exec(db, sql, a, 5, NULL, NULL, err) == -1) {
		sodium_memzero(key, APIKEY_CHARS + 1);
		goto out;
	}
	rc = 0;
out:
	sodium_memzero(secret, sizeof(secret));
	sodium_memzero(sec, sizeof(sec));
	return rc;
}

int
apikey_revoke(struct db *db, long long lab_id, const char *prefix,
    struct sm_err *err)
{
	static const char sql[] = "UPDATE api_keys SET revoked = ?"
	    " WHERE prefix = ? AND revoked IS NULL AND (? = 0 OR lab_id = ?)";
	unsigned long long n = 0;
	struct db_val a[4];

	a[0] = DB_I(time(NULL));
	a[1] = DB_S(prefix);
	a[2] = DB_I(lab_id);
	a[3] = DB_I(lab_id);
	if (db_exec(db, sql, a, 4, &n, NULL, err) == -1)
		return -1;
	if (n == 0) {
		sm_err_set(err, "no live API key with prefix \"%.16s\"", prefix);
		return APIKEY_NOTFOUND;
	}
	return 0;
}

int
apikey_check(struct db *db, const char *key, size_t len,
    long long *lab_id, long long *key_id, struct sm_err *err)
{
	static const char sql[] = "SELECT id, lab_id, hash FROM api_keys"
	    " WHERE prefix = ? AND revoked IS NULL";
	static const char used[] = "UPDATE api_keys SET last_used = ? WHERE id = ?";
	char prefix[APIKEY_PREFIX_CHARS + 1];
	unsigned char want[32], have[32];
	struct db_val a[2];
	struct db_col c[3];
	size_t i;
	int r;

	if (len != APIKEY_CHARS || memcmp(key, "smk_", 4) != 0 ||
	    key[4 + APIKEY_PREFIX_CHARS] != '_')
		return 0;
	for (i = 0; i < APIKEY_PREFIX_CHARS; i++) {
		char ch = key[4 + i];

		if (!((ch >= '0' && ch <= '9') || (ch >= 'a' && ch <= 'f')))
			return 0;
		prefix[i] = ch;
	}
	prefix[APIKEY_PREFIX_CHARS] = '\0';
	a[0] = DB_S(prefix);
	c[0] = DB_COL_I(key_id);
	c[1] = DB_COL_I(lab_id);
	c[2] = DB_COL_B(have, sizeof(have));
	r = db_query_row(db, sql, a, 1, c, 3, err);
	if (r != 1)
		return r;
	key_hash(key, len, want);
	if (c[2].len != sizeof(have) || sodium_memcmp(want, have, 32) != 0)
		return 0;
	a[0] = DB_I(time(NULL));
	a[1] = DB_I(*key_id);
	if (db_exec(db, used, a, 2, NULL, NULL, err) == -1)
		return -1;
	return 1;
}

int
apikey_list(struct db *db, long long lab_id,
    int (*fn)(const struct apikey_info *k, void *arg), void *arg,
    struct sm_err *err)
{
	static const char sql[] = "SELECT k.prefix, l.name, COALESCE(k.label, ''),"
	    " k.created, COALESCE(k.last_used, 0), COALESCE(k.revoked, 0)"
	    " FROM api_keys k JOIN labs l ON l.id = k.lab_id"
	    " WHERE (? = 0 OR k.lab_id = ?) ORDER BY k.id";
	struct apikey_info k;
	struct db_val a[2];
	struct db_col c[6];
	int r;

	memset(&k, 0, sizeof(k));
	a[0] = DB_I(lab_id);
	a[1] = DB_I(lab_id);
	c[0] = DB_COL_S(k.prefix, sizeof(k.prefix));
	c[1] = DB_COL_S(k.lab, sizeof(k.lab));
	c[2] = DB_COL_S(k.label, sizeof(k.label));
	c[3] = DB_COL_I(&k.created);
	c[4] = DB_COL_I(&k.last_used);
	c[5] = DB_COL_I(&k.revoked);
	if (db_query(db, sql, a, 2, c, 6, err) == -1)
		return -1;
	while ((r = db_fetch(db, err)) == 1) {
		if (fn(&k, arg) == -1) {
			sm_err_set(err, "output failed");
			r = -1;
			break;
		}
	}
	db_query_end(db);
	return r == -1 ? -1 : 0;
}
