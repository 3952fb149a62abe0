/* test_crypto.c - what lib/crypto.c promises: chunks that only open where
 * they were sealed, data keys bound to their message, rotation, signatures
 * over every field, canonical tokens and key files that are never
 * overwritten.  Keys live in a mkdtemp directory removed at the end. */
#include <stdarg.h>
#include <stddef.h>
#include <setjmp.h>
#include <stdint.h>
#include <cmocka.h>

#include <sys/stat.h>
#include <dirent.h>
#include <errno.h>
#include <fcntl.h>
#include <limits.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include "crypto.h"

/* ---- helpers ------------------------------------------------------------ */

static char *
tmpdir_new(void)
{
	char tmpl[] = "/tmp/sm-test-crypto-XXXXXX";
	char *d = mkdtemp(tmpl);

	assert_non_null(d);
	d = strdup(d);
	assert_non_null(d);
	return d;
}

/* The directories hold only flat files we made. */
static void
tmpdir_free(char *dir)
{
	char path[PATH_MAX];
	struct dirent *de;
	DIR *dh;

	if (dir == NULL)
		return;
	dh = opendir(dir);
	if (dh != NULL) {
		while ((de = readdir(dh)) != NULL) {
			if (strcmp(de->d_name, ".") == 0 ||
			    strcmp(de->d_name, "..") == 0)
				continue;
			if (snprintf(path, sizeof(path), "%s/%s", dir,
			    de->d_name) < (int)sizeof(path))
				(void)unlink(path);
		}
		(void)closedir(dh);
	}
	(void)rmdir(dir);
	free(dir);
}

static void
path_in(char *out, size_t cap, const char *dir, const char *name)
{
	int n = snprintf(out, cap, "%s/%s", dir, name);

	assert_true(n > 0 && (size_t)n < cap);
}

static size_t
read_file(const char *dir, const char *name, unsigned char *buf, size_t cap)
{
	char path[PATH_MAX];
	ssize_t n;
	int fd;

	path_in(path, sizeof(path), dir, name);
	fd = open(path, O_RDONLY);
	assert_true(fd >= 0);
	n = read(fd, buf, cap);
	assert_true(n >= 0);
	assert_int_equal(close(fd), 0);
	return (size_t)n;
}

static void
write_file(const char *dir, const char *name, const void *p, size_t n,
    mode_t mode)
{
	char path[PATH_MAX];
	int fd;

	path_in(path, sizeof(path), dir, name);
	(void)unlink(path);
	fd = open(path, O_WRONLY | O_CREAT | O_EXCL, mode);
	assert_true(fd >= 0);
	assert_int_equal(fchmod(fd, mode), 0);
	assert_int_equal(write(fd, p, n), (ssize_t)n);
	assert_int_equal(close(fd), 0);
}

static mode_t
file_mode(const char *dir, const char *name)
{
	char path[PATH_MAX];
	struct stat st;

	path_in(path, sizeof(path), dir, name);
	assert_int_equal(stat(path, &st), 0);
	return st.st_mode & 07777;
}

static int
exists(const char *dir, const char *name)
{
	char path[PATH_MAX];
	struct stat st;

	path_in(path, sizeof(path), dir, name);
	return lstat(path, &st) == 0;
}

static void
remove_file(const char *dir, const char *name)
{
	char path[PATH_MAX];

	path_in(path, sizeof(path), dir, name);
	assert_int_equal(unlink(path), 0);
}

static void
assert_err_contains(const struct sm_err *err, const char *want)
{
	if (strstr(err->msg, want) == NULL)
		fail_msg("error \"%s\" does not mention \"%s\"", err->msg, want);
}

/* A fresh key directory per test, removed even when the test fails. */
static int
dir_setup(void **state)
{
	char tmpl[] = "/tmp/sm-test-crypto-XXXXXX";
	char *d = mkdtemp(tmpl);

	*state = d != NULL ? strdup(d) : NULL;
	return *state != NULL ? 0 : -1;
}

static int
dir_teardown(void **state)
{
	tmpdir_free(*state);
	return 0;
}

/* ---- shared keys ---------------------------------------------------------- */

struct fixture {
	char *dir;
	struct keyring *sealer;	/* milter: escrow v2 public, signing secret */
	struct keyring *opener;	/* portal/ctl: every escrow secret, sign pub */
	struct keyring *sealer_v1;
};

static int
group_setup(void **state)
{
	struct fixture *fx;
	struct sm_err err = { "" };

	if (sodium_init() < 0)
		return -1;
	fx = calloc(1, sizeof(*fx));
	if (fx == NULL)
		return -1;
	fx->dir = tmpdir_new();
	if (keyring_generate(fx->dir, 1, KEY_ESCROW_SECRET | KEY_SIGN_SECRET |
	    KEY_PEPPER, &err) == -1 ||
	    keyring_generate(fx->dir, 2, KEY_ESCROW_SECRET, &err) == -1 ||
	    keyring_load(&fx->sealer, fx->dir, 2, KEY_ESCROW_PUBLIC |
	    KEY_SIGN_SECRET, &err) == -1 ||
	    keyring_load(&fx->sealer_v1, fx->dir, 1, KEY_ESCROW_PUBLIC, &err)
	    == -1 ||
	    keyring_load(&fx->opener, fx->dir, 2, KEY_ESCROW_SECRET |
	    KEY_SIGN_PUBLIC, &err) == -1) {
		print_error("fixture: %s\n", err.msg);
		return -1;
	}
	*state = fx;
	return 0;
}

static int
group_teardown(void **state)
{
	struct fixture *fx = *state;

	if (fx == NULL)
		return 0;
	keyring_free(fx->sealer);
	keyring_free(fx->sealer_v1);
	keyring_free(fx->opener);
	tmpdir_free(fx->dir);
	free(fx);
	return 0;
}

/* ---- chunks ------------------------------------------------------------- */

static void
chunk_round_trip_restores_every_size(void **state)
{
	static const size_t sizes[] = { 0, 1, 15, 16, 17, 4096, 1 << 20 };
	unsigned char key[SM_KEY_BYTES], id[SM_ID_BYTES];
	unsigned char *pt, *ct, *back;
	struct sm_err err = { "" };
	size_t i;

	(void)state;
	datakey_new(key);
	msgid_new(id);
	for (i = 0; i < sizeof(sizes) / sizeof(sizes[0]); i++) {
		size_t n = sizes[i];
		int final = i + 1 == sizeof(sizes) / sizeof(sizes[0]);

		pt = malloc(n + 1);
		ct = malloc(n + SM_TAG_BYTES);
		back = malloc(n + 1);
		assert_non_null(pt);
		assert_non_null(ct);
		assert_non_null(back);
		randombytes_buf(pt, n);
		assert_int_equal(chunk_seal(key, id, i, final, pt, n, ct), 0);
		/* Short ciphertexts can match by chance (1 in 256 for one byte). */
		if (n >= 16)
			assert_memory_not_equal(pt, ct, n);
		assert_int_equal(chunk_open(key, id, i, final, ct,
		    n + SM_TAG_BYTES, back, &err), 0);
		if (n > 0)
			assert_memory_equal(pt, back, n);
		free(pt);
		free(ct);
		free(back);
	}
}

/* The construction the design fixes: nonce = idx (8 bytes big-endian) then
 * zeros; AD = "sealmail-chunk-v1" || id || idx BE || final.  Built by hand
 * here, so a change of format cannot slip through as "still round-trips". */
static void
chunk_format_is_xchacha20poly1305_with_index_nonce_and_bound_ad(void **state)
{
	static const unsigned char pt[] = "lab result";
	unsigned char key[SM_KEY_BYTES], id[SM_ID_BYTES];
	unsigned char nonce[crypto_aead_xchacha20poly1305_ietf_NPUBBYTES];
	unsigned char ad[17 + SM_ID_BYTES + 8 + 1];
	unsigned char ct[sizeof(pt) + SM_TAG_BYTES], ref[sizeof(ct)];
	unsigned long long reflen = 0;
	const uint64_t idx = 0x0102030405060708ULL;

	(void)state;
	memset(key, 0x11, sizeof(key));
	memset(id, 0x22, sizeof(id));
	memset(nonce, 0, sizeof(nonce));
	memcpy(nonce, "\x01\x02\x03\x04\x05\x06\x07\x08", 8);
	memcpy(ad, "sealmail-chunk-v1", 17);
	memcpy(ad + 17, id, SM_ID_BYTES);
	memcpy(ad + 17 + SM_ID_BYTES, "\x01\x02\x03\x04\x05\x06\x07\x08", 8);
	ad[sizeof(ad) - 1] = 1;
	assert_int_equal(crypto_aead_xchacha20poly1305_ietf_encrypt(ref,
	    &reflen, pt, sizeof(pt), ad, sizeof(ad), NULL, nonce, key), 0);
	assert_int_equal(chunk_seal(key, id, idx, 1, pt, sizeof(pt), ct), 0);
	assert_memory_equal(ct, ref, sizeof(ct));
}

enum tamper {
	T_TRUNCATED_LAST_AS_NONFINAL,
	T_FINAL_FLAG_ADDED,
	T_REORDERED,
	T_OTHER_MESSAGE_SAME_KEY,
	T_OTHER_MESSAGE_OTHER_KEY,
	T_FLIPPED_BIT_BODY,
	T_FLIPPED_BIT_TAG,
	T_WRONG_KEY,
	T_CUT_SHORT,
	T_SHORTER_THAN_TAG,
};

struct tamper_case {
	const char *name;
	enum tamper how;
	const char *why;	/* what the error must say */
};

static const struct tamper_case tamper_cases[] = {
	{ "truncation: last chunk opened as non-final",
	    T_TRUNCATED_LAST_AS_NONFINAL, "failed authentication" },
	{ "middle chunk presented as the final one",
	    T_FINAL_FLAG_ADDED, "failed authentication" },
	{ "reordering: chunk opened at another index",
	    T_REORDERED, "failed authentication" },
	{ "substitution: chunk from another message, same key",
	    T_OTHER_MESSAGE_SAME_KEY, "failed authentication" },
	{ "substitution: chunk from another message, its own key",
	    T_OTHER_MESSAGE_OTHER_KEY, "failed authentication" },
	{ "flipped bit in the ciphertext",
	    T_FLIPPED_BIT_BODY, "failed authentication" },
	{ "flipped bit in the tag",
	    T_FLIPPED_BIT_TAG, "failed authentication" },
	{ "wrong key",
	    T_WRONG_KEY, "failed authentication" },
	{ "last byte cut off",
	    T_CUT_SHORT, "failed authentication" },
	{ "shorter than a tag",
	    T_SHORTER_THAN_TAG, "shorter than its authentication tag" },
};

static void
chunk_open_detects_every_tampering(void **state)
{
	unsigned char key[SM_KEY_BYTES], key2[SM_KEY_BYTES];
	unsigned char id[SM_ID_BYTES], id2[SM_ID_BYTES];
	unsigned char pt[3][100], ct[3][100 + SM_TAG_BYTES];
	unsigned char other[100 + SM_TAG_BYTES], back[100 + SM_TAG_BYTES];
	size_t i;

	(void)state;
	datakey_new(key);
	datakey_new(key2);
	msgid_new(id);
	msgid_new(id2);
	for (i = 0; i < 3; i++) {
		randombytes_buf(pt[i], sizeof(pt[i]));
		assert_int_equal(chunk_seal(key, id, i, i == 2, pt[i],
		    sizeof(pt[i]), ct[i]), 0);
	}
	for (i = 0; i < sizeof(tamper_cases) / sizeof(tamper_cases[0]); i++) {
		const struct tamper_case *tc = &tamper_cases[i];
		unsigned char c[sizeof(ct[0])];
		const unsigned char *k = key, *mid = id;
		uint64_t idx = 1;
		size_t len = sizeof(c);
		int final = 0, rc;
		struct sm_err err = { "" };

		memcpy(c, ct[1], sizeof(c));
		switch (tc->how) {
		case T_TRUNCATED_LAST_AS_NONFINAL:
			memcpy(c, ct[2], sizeof(c));
			idx = 2;
			break;
		case T_FINAL_FLAG_ADDED:
			final = 1;
			break;
		case T_REORDERED:
			memcpy(c, ct[0], sizeof(c));
			break;
		case T_OTHER_MESSAGE_SAME_KEY:
			assert_int_equal(chunk_seal(key, id2, 1, 0, pt[1],
			    sizeof(pt[1]), other), 0);
			memcpy(c, other, sizeof(c));
			break;
		case T_OTHER_MESSAGE_OTHER_KEY:
			assert_int_equal(chunk_seal(key2, id2, 1, 0, pt[1],
			    sizeof(pt[1]), other), 0);
			memcpy(c, other, sizeof(c));
			break;
		case T_FLIPPED_BIT_BODY:
			c[42] ^= 0x04;
			break;
		case T_FLIPPED_BIT_TAG:
			c[sizeof(c) - 1] ^= 0x80;
			break;
		case T_WRONG_KEY:
			k = key2;
			break;
		case T_CUT_SHORT:
			len--;
			break;
		case T_SHORTER_THAN_TAG:
			len = SM_TAG_BYTES - 1;
			break;
		}
		rc = chunk_open(k, mid, idx, final, c, len, back, &err);
		if (rc != -1)
			fail_msg("%s: chunk opened", tc->name);
		if (strstr(err.msg, tc->why) == NULL)
			fail_msg("%s: error \"%s\" lacks \"%s\"", tc->name,
			    err.msg, tc->why);
	}
	/* The untouched chunks still open: the cases fail for their reason. */
	for (i = 0; i < 3; i++) {
		struct sm_err err = { "" };

		assert_int_equal(chunk_open(key, id, i, i == 2, ct[i],
		    sizeof(ct[i]), back, &err), 0);
		assert_memory_equal(back, pt[i], sizeof(pt[i]));
	}
}

static void
chunk_error_names_the_chunk(void **state)
{
	unsigned char key[SM_KEY_BYTES], id[SM_ID_BYTES];
	unsigned char ct[10 + SM_TAG_BYTES], back[10];
	struct sm_err err = { "" };

	(void)state;
	datakey_new(key);
	msgid_new(id);
	assert_int_equal(chunk_seal(key, id, 7, 0, (const unsigned char *)
	    "0123456789", 10, ct), 0);
	assert_int_equal(chunk_open(key, id, 8, 0, ct, sizeof(ct), back, &err),
	    -1);
	assert_string_equal(err.msg, "chunk 8 failed authentication (tampered, "
	    "truncated, reordered, from another message, or wrong key)");
}

/* ---- data keys and rotation ----------------------------------------------- */

static void
datakey_opens_for_its_own_message(void **state)
{
	struct fixture *fx = *state;
	unsigned char key[SM_KEY_BYTES], back[SM_KEY_BYTES], id[SM_ID_BYTES];
	unsigned char sealed[SM_SEALED_KEY_BYTES];
	struct sm_err err = { "" };

	datakey_new(key);
	msgid_new(id);
	assert_int_equal(datakey_seal(fx->sealer, id, key, sealed), 0);
	assert_int_equal(datakey_open(fx->opener, 2, id, sealed, back, &err), 0);
	assert_memory_equal(key, back, sizeof(key));
}

static void
datakey_refuses_another_message_id(void **state)
{
	struct fixture *fx = *state;
	unsigned char key[SM_KEY_BYTES], back[SM_KEY_BYTES];
	unsigned char id[SM_ID_BYTES], id2[SM_ID_BYTES];
	unsigned char sealed[SM_SEALED_KEY_BYTES];
	struct sm_err err = { "" };

	datakey_new(key);
	msgid_new(id);
	msgid_new(id2);
	memset(back, 0xee, sizeof(back));
	assert_int_equal(datakey_seal(fx->sealer, id, key, sealed), 0);
	assert_int_equal(datakey_open(fx->opener, 2, id2, sealed, back, &err),
	    -1);
	assert_err_contains(&err, "another message");
	/* Nothing of the key leaks out on refusal. */
	for (size_t i = 0; i < sizeof(back); i++)
		assert_int_equal(back[i], 0xee);
}

static void
datakey_refuses_a_damaged_seal(void **state)
{
	struct fixture *fx = *state;
	unsigned char key[SM_KEY_BYTES], back[SM_KEY_BYTES], id[SM_ID_BYTES];
	unsigned char sealed[SM_SEALED_KEY_BYTES];
	struct sm_err err = { "" };

	datakey_new(key);
	msgid_new(id);
	assert_int_equal(datakey_seal(fx->sealer, id, key, sealed), 0);
	sealed[SM_SEALED_KEY_BYTES / 2] ^= 1;
	assert_int_equal(datakey_open(fx->opener, 2, id, sealed, back, &err),
	    -1);
	assert_err_contains(&err, "does not open");
}

/* The sealed box holds id || key (the id first), per the design. */
static void
datakey_seal_layout_is_id_then_key(void **state)
{
	struct fixture *fx = *state;
	unsigned char key[SM_KEY_BYTES], id[SM_ID_BYTES];
	unsigned char sealed[SM_SEALED_KEY_BYTES];
	unsigned char pk[32], sk[32], pt[SM_ID_BYTES + SM_KEY_BYTES];
	size_t n;

	n = read_file(fx->dir, "escrow-2.pub", pk, sizeof(pk));
	assert_int_equal(n, sizeof(pk));
	n = read_file(fx->dir, "escrow-2.key", sk, sizeof(sk));
	assert_int_equal(n, sizeof(sk));
	datakey_new(key);
	msgid_new(id);
	assert_int_equal(datakey_seal(fx->sealer, id, key, sealed), 0);
	assert_int_equal(crypto_box_seal_open(pt, sealed, sizeof(sealed), pk,
	    sk), 0);
	assert_memory_equal(pt, id, SM_ID_BYTES);
	assert_memory_equal(pt + SM_ID_BYTES, key, SM_KEY_BYTES);
	sodium_memzero(sk, sizeof(sk));
}

static void
rotation_opens_each_version_with_its_own_key(void **state)
{
	struct fixture *fx = *state;
	unsigned char key1[SM_KEY_BYTES], key2[SM_KEY_BYTES];
	unsigned char back[SM_KEY_BYTES], id1[SM_ID_BYTES], id2[SM_ID_BYTES];
	unsigned char sealed1[SM_SEALED_KEY_BYTES], sealed2[SM_SEALED_KEY_BYTES];
	struct sm_err err = { "" };

	assert_int_equal(keyring_escrow_version(fx->sealer_v1), 1);
	assert_int_equal(keyring_escrow_version(fx->sealer), 2);
	datakey_new(key1);
	datakey_new(key2);
	msgid_new(id1);
	msgid_new(id2);
	assert_int_equal(datakey_seal(fx->sealer_v1, id1, key1, sealed1), 0);
	assert_int_equal(datakey_seal(fx->sealer, id2, key2, sealed2), 0);

	assert_int_equal(datakey_open(fx->opener, 1, id1, sealed1, back, &err),
	    0);
	assert_memory_equal(back, key1, sizeof(back));
	assert_int_equal(datakey_open(fx->opener, 2, id2, sealed2, back, &err),
	    0);
	assert_memory_equal(back, key2, sizeof(back));

	assert_int_equal(datakey_open(fx->opener, 2, id1, sealed1, back, &err),
	    -1);
	assert_int_equal(datakey_open(fx->opener, 1, id2, sealed2, back, &err),
	    -1);
	assert_int_equal(datakey_open(fx->opener, 3, id2, sealed2, back, &err),
	    -1);
	assert_err_contains(&err, "version 3 is not loaded");
	assert_int_equal(datakey_open(fx->opener, 0, id2, sealed2, back, &err),
	    -1);
	assert_int_equal(datakey_open(fx->opener, SM_ESCROW_VERSIONS_MAX + 1,
	    id2, sealed2, back, &err), -1);
}

static void
sealing_needs_the_public_key_and_opening_the_secret(void **state)
{
	struct fixture *fx = *state;
	unsigned char key[SM_KEY_BYTES], back[SM_KEY_BYTES], id[SM_ID_BYTES];
	unsigned char sealed[SM_SEALED_KEY_BYTES];
	struct keyring *pepper_only = NULL;
	struct sm_err err = { "" };

	datakey_new(key);
	msgid_new(id);
	assert_int_equal(keyring_load(&pepper_only, fx->dir, 0, KEY_PEPPER,
	    &err), 0);
	assert_int_equal(datakey_seal(pepper_only, id, key, sealed), -1);
	assert_int_equal(datakey_seal(fx->sealer, id, key, sealed), 0);
	/* The milter's keyring holds no escrow secret at all. */
	assert_int_equal(datakey_open(fx->sealer, 2, id, sealed, back, &err),
	    -1);
	keyring_free(pepper_only);
}

/* ---- signatures ------------------------------------------------------------ */

static void
fill_meta(struct sig_meta *m)
{
	unsigned char key[SM_KEY_BYTES], ct[3][64 + SM_TAG_BYTES];
	unsigned char pt[64];
	struct taghash th;
	int i;

	memset(m, 0, sizeof(*m));
	msgid_new(m->id);
	m->lab_id = 42;
	m->created = 1790000000;
	m->size = 3 * 64;
	m->nchunks = 3;
	m->chunk_size = 64;
	datakey_new(key);
	taghash_init(&th);
	for (i = 0; i < 3; i++) {
		randombytes_buf(pt, sizeof(pt));
		assert_int_equal(chunk_seal(key, m->id, (uint64_t)i, i == 2, pt,
		    sizeof(pt), ct[i]), 0);
		taghash_add(&th, ct[i] + sizeof(pt));
	}
	taghash_final(&th, m->taghash);
}

static void
signature_verifies_over_unchanged_metadata(void **state)
{
	struct fixture *fx = *state;
	unsigned char sig[SM_SIG_BYTES];
	struct sm_err err = { "" };
	struct sig_meta m;

	fill_meta(&m);
	assert_int_equal(msg_sign(fx->sealer, &m, sig), 0);
	assert_int_equal(msg_verify(fx->opener, &m, sig, &err), 0);
}

/* The signed bytes, built by hand from the design's layout. */
static void
signature_covers_the_documented_serialisation(void **state)
{
	struct fixture *fx = *state;
	unsigned char sig[SM_SIG_BYTES], pk[32], buf[15 + 16 + 8 * 4 + 4 + 32];
	unsigned char *p = buf;
	struct sig_meta m;

	fill_meta(&m);
	m.lab_id = 0x0102030405060708ULL;
	m.created = -2;
	m.size = 0x1112131415161718ULL;
	m.nchunks = 0x2122232425262728ULL;
	m.chunk_size = 0x31323334U;
	memcpy(p, "sealmail-msg-v1", 15);
	p += 15;
	memcpy(p, m.id, 16);
	p += 16;
	memcpy(p, "\x01\x02\x03\x04\x05\x06\x07\x08", 8);
	p += 8;
	memcpy(p, "\xff\xff\xff\xff\xff\xff\xff\xfe", 8);
	p += 8;
	memcpy(p, "\x11\x12\x13\x14\x15\x16\x17\x18", 8);
	p += 8;
	memcpy(p, "\x21\x22\x23\x24\x25\x26\x27\x28", 8);
	p += 8;
	memcpy(p, "\x31\x32\x33\x34", 4);
	p += 4;
	memcpy(p, m.taghash, 32);
	assert_int_equal(read_file(fx->dir, "sign.pub", pk, sizeof(pk)), 32);
	assert_int_equal(msg_sign(fx->sealer, &m, sig), 0);
	assert_int_equal(crypto_sign_verify_detached(sig, buf, sizeof(buf), pk),
	    0);
}

enum sig_field {
	F_ID, F_LAB, F_CREATED, F_SIZE, F_NCHUNKS, F_CHUNK_SIZE, F_TAGHASH,
	F_SIGNATURE,
};

static const struct {
	const char *name;
	enum sig_field field;
} sig_changes[] = {
	{ "message id", F_ID },
	{ "lab id", F_LAB },
	{ "created", F_CREATED },
	{ "size", F_SIZE },
	{ "number of chunks", F_NCHUNKS },
	{ "chunk size", F_CHUNK_SIZE },
	{ "tag hash", F_TAGHASH },
	{ "signature byte", F_SIGNATURE },
};

static void
signature_fails_when_any_field_changes(void **state)
{
	struct fixture *fx = *state;
	unsigned char sig[SM_SIG_BYTES];
	struct sig_meta m;
	size_t i;

	fill_meta(&m);
	assert_int_equal(msg_sign(fx->sealer, &m, sig), 0);
	for (i = 0; i < sizeof(sig_changes) / sizeof(sig_changes[0]); i++) {
		unsigned char s[SM_SIG_BYTES];
		struct sig_meta c = m;
		struct sm_err err = { "" };

		memcpy(s, sig, sizeof(s));
		switch (sig_changes[i].field) {
		case F_ID:
			c.id[15] ^= 1;
			break;
		case F_LAB:
			c.lab_id++;
			break;
		case F_CREATED:
			c.created--;
			break;
		case F_SIZE:
			c.size ^= 1ULL << 40;
			break;
		case F_NCHUNKS:
			c.nchunks--;
			break;
		case F_CHUNK_SIZE:
			c.chunk_size++;
			break;
		case F_TAGHASH:
			c.taghash[0] ^= 0x80;
			break;
		case F_SIGNATURE:
			s[10] ^= 0x01;
			break;
		}
		if (msg_verify(fx->opener, &c, s, &err) != -1)
			fail_msg("changed %s still verifies", sig_changes[i].name);
		assert_err_contains(&err, "does not verify");
	}
}

static void
signature_from_another_key_fails(void **state)
{
	struct fixture *fx = *state;
	struct keyring *other = NULL;
	unsigned char sig[SM_SIG_BYTES];
	struct sm_err err = { "" };
	struct sig_meta m;
	char *dir = tmpdir_new();

	assert_int_equal(keyring_generate(dir, 1, KEY_SIGN_SECRET, &err), 0);
	assert_int_equal(keyring_load(&other, dir, 1, KEY_SIGN_SECRET, &err), 0);
	fill_meta(&m);
	assert_int_equal(msg_sign(other, &m, sig), 0);
	assert_int_equal(msg_verify(fx->opener, &m, sig, &err), -1);
	/* and the signer cannot verify without a public key loaded... it can:
	 * the public half is inside the Ed25519 secret key. */
	assert_int_equal(msg_verify(other, &m, sig, &err), 0);
	/* A keyring without the signing secret cannot sign. */
	assert_int_equal(msg_sign(fx->opener, &m, sig), -1);
	keyring_free(other);
	tmpdir_free(dir);
}

static void
taghash_depends_on_tag_order(void **state)
{
	unsigned char a[SM_TAG_BYTES], b[SM_TAG_BYTES];
	unsigned char h1[SM_HASH_BYTES], h2[SM_HASH_BYTES], h3[SM_HASH_BYTES];
	struct taghash th;

	(void)state;
	memset(a, 'a', sizeof(a));
	memset(b, 'b', sizeof(b));
	taghash_init(&th);
	taghash_add(&th, a);
	taghash_add(&th, b);
	taghash_final(&th, h1);
	taghash_init(&th);
	taghash_add(&th, b);
	taghash_add(&th, a);
	taghash_final(&th, h2);
	taghash_init(&th);
	taghash_add(&th, a);
	taghash_final(&th, h3);
	assert_memory_not_equal(h1, h2, sizeof(h1));
	assert_memory_not_equal(h1, h3, sizeof(h1));
}

/* The hash the signature covers is plain BLAKE2b-256 over the tags in
 * order, and its state may live anywhere, such as a calloc'd store
 * context at an address that is not 64-byte aligned. */
static void
taghash_is_blake2b_of_the_tags_even_when_unaligned(void **state)
{
	struct holder {
		char pad[8];
		struct taghash th;
	};
	unsigned char tags[3][SM_TAG_BYTES], want[SM_HASH_BYTES];
	unsigned char got[SM_HASH_BYTES];
	unsigned char *raw;
	struct holder *h;
	int i, off;

	(void)state;
	randombytes_buf(tags, sizeof(tags));
	assert_int_equal(crypto_generichash(want, sizeof(want),
	    (const unsigned char *)tags, sizeof(tags), NULL, 0), 0);
	raw = malloc(sizeof(struct holder) + 64);
	assert_non_null(raw);
	for (off = 0; off < 64; off += 8) {
		h = (struct holder *)(void *)(raw + off);
		taghash_init(&h->th);
		for (i = 0; i < 3; i++)
			taghash_add(&h->th, tags[i]);
		taghash_final(&h->th, got);
		assert_memory_equal(got, want, sizeof(want));
	}
	free(raw);
}

/* ---- tokens and ids --------------------------------------------------------- */

static int
b64url_char(char c)
{
	return (c >= 'A' && c <= 'Z') || (c >= 'a' && c <= 'z') ||
	    (c >= '0' && c <= '9') || c == '-' || c == '_';
}

static void
token_new_is_43_base64url_chars_and_hashes_back(void **state)
{
	char text[SM_TOKEN_TEXT], text2[SM_TOKEN_TEXT];
	unsigned char hash[SM_HASH_BYTES], again[SM_HASH_BYTES], raw[32];
	size_t i, got = 0;

	(void)state;
	token_new(text, hash);
	token_new(text2, again);
	assert_int_equal(strlen(text), SM_TOKEN_CHARS);
	assert_string_not_equal(text, text2);
	for (i = 0; i < SM_TOKEN_CHARS; i++)
		assert_true(b64url_char(text[i]));
	assert_int_equal(token_hash(text, strlen(text), again), 0);
	assert_memory_equal(hash, again, sizeof(hash));
	/* The stored hash is BLAKE2b-256 of the 32 raw bytes. */
	assert_int_equal(sodium_base642bin(raw, sizeof(raw), text, SM_TOKEN_CHARS,
	    NULL, &got, NULL, sodium_base64_VARIANT_URLSAFE_NO_PADDING), 0);
	assert_int_equal(got, 32);
	assert_int_equal(crypto_generichash(again, sizeof(again), raw,
	    sizeof(raw), NULL, 0), 0);
	assert_memory_equal(hash, again, sizeof(hash));
}

/* A known token: 32 zero bytes. */
#define ZERO_TOKEN "AAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAA"

static const struct {
	const char *name;
	const char *text;
	size_t len;
} bad_tokens[] = {
	{ "empty", "", 0 },
	{ "42 chars", ZERO_TOKEN, 42 },
	{ "44 chars", ZERO_TOKEN "A", 44 },
	{ "padded", ZERO_TOKEN "=", 44 },
	{ "standard base64 '+'", "+AAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAA", 43 },
	{ "standard base64 '/'", "AAAAAAAAAAAAAAAAAAAA/AAAAAAAAAAAAAAAAAAAAAA", 43 },
	{ "space inside", "AAAAAAAAAAAAAAAAAAAA AAAAAAAAAAAAAAAAAAAAAA", 43 },
	{ "NUL inside", "AAAAAAAAAAAAAAAAAAAA\0AAAAAAAAAAAAAAAAAAAAAA", 43 },
	{ "percent-encoded", "%41AAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAA", 43 },
	{ "non-ASCII", "\xc3\xa9" "AAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAA", 43 },
	/* 'B' sets one of the two unused low bits: a second spelling of the
	 * zero token, which must not be accepted. */
	{ "non-canonical last char", "AAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAB", 43 },
	{ "non-canonical last char '_'", "AAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAA_", 43 },
};

static void
token_hash_refuses_every_malformed_token(void **state)
{
	unsigned char hash[SM_HASH_BYTES];
	size_t i;

	(void)state;
	assert_int_equal(token_hash(ZERO_TOKEN, 43, hash), 0);
	assert_int_equal(token_hash("AAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAE",
	    43, hash), 0);
	for (i = 0; i < sizeof(bad_tokens) / sizeof(bad_tokens[0]); i++) {
		if (token_hash(bad_tokens[i].text, bad_tokens[i].len, hash) != -1)
			fail_msg("token \"%s\" accepted", bad_tokens[i].name);
	}
	assert_int_equal(token_hash(NULL, 43, hash), -1);
}

static void
msgid_hex_round_trips_and_parse_takes_only_lowercase_hex(void **state)
{
	static const char *bad[] = {
		"", "0123456789abcdef0123456789abcde",
		"0123456789abcdef0123456789abcdef0",
		"0123456789ABCDEF0123456789ABCDEF",
		"0123456789abcdef0123456789abcdeg",
		" 0123456789abcdef0123456789abcde",
		"0123456789abcdef0123456789abcdef\n",
	};
	unsigned char id[SM_ID_BYTES], back[SM_ID_BYTES];
	char hex[SM_ID_HEX];
	size_t i;

	(void)state;
	msgid_new(id);
	msgid_hex(id, hex);
	assert_int_equal(strlen(hex), 32);
	assert_int_equal(msgid_parse(hex, back), 0);
	assert_memory_equal(id, back, sizeof(id));
	assert_int_equal(msgid_parse("00ff00ff00ff00ff00ff00ff00ff00ff", back), 0);
	assert_int_equal(back[1], 0xff);
	for (i = 0; i < sizeof(bad) / sizeof(bad[0]); i++) {
		if (msgid_parse(bad[i], back) != -1)
			fail_msg("msgid \"%s\" accepted", bad[i]);
	}
	assert_int_equal(msgid_parse(NULL, back), -1);
}

/* ---- key files ---------------------------------------------------------------- */

static void
generate_writes_every_file_with_its_mode_and_size(void **state)
{
	static const struct {
		const char *name;
		mode_t mode;
		size_t size;
	} files[] = {
		{ "escrow-3.key", 0600, 32 },
		{ "escrow-3.pub", 0644, 32 },
		{ "sign.key", 0600, 64 },
		{ "sign.pub", 0644, 32 },
		{ "pepper", 0600, 32 },
	};
	unsigned char buf[128];
	struct sm_err err = { "" };
	char *dir = *state;
	mode_t old;
	size_t i;

	/* A tight umask must not leave the public keys unreadable. */
	old = umask(077);
	assert_int_equal(keyring_generate(dir, 3, KEY_ESCROW_PUBLIC |
	    KEY_SIGN_PUBLIC | KEY_PEPPER, &err), 0);
	(void)umask(old);
	for (i = 0; i < sizeof(files) / sizeof(files[0]); i++) {
		if (file_mode(dir, files[i].name) != files[i].mode)
			fail_msg("%s has mode %04o", files[i].name,
			    (unsigned)file_mode(dir, files[i].name));
		assert_int_equal(read_file(dir, files[i].name, buf, sizeof(buf)),
		    files[i].size);
	}
	assert_false(exists(dir, "escrow-1.key"));
}

static void
generate_never_overwrites(void **state)
{
	static const char *names[] = {
		"escrow-1.key", "escrow-1.pub", "sign.key", "sign.pub", "pepper"
	};
	const unsigned all = KEY_ESCROW_SECRET | KEY_SIGN_SECRET | KEY_PEPPER;
	unsigned char before[5][64], after[64];
	size_t len[5];
	struct sm_err err = { "" };
	char *dir = *state;
	size_t i;

	assert_int_equal(keyring_generate(dir, 1, all, &err), 0);
	for (i = 0; i < 5; i++)
		len[i] = read_file(dir, names[i], before[i], sizeof(before[i]));
	assert_int_equal(keyring_generate(dir, 1, all, &err), 0);
	for (i = 0; i < 5; i++) {
		assert_int_equal(read_file(dir, names[i], after, sizeof(after)),
		    len[i]);
		if (memcmp(before[i], after, len[i]) != 0)
			fail_msg("%s was overwritten", names[i]);
	}
	/* Even a file that is not a valid key is left alone. */
	remove_file(dir, "pepper");
	write_file(dir, "pepper", "x", 1, 0600);
	assert_int_equal(keyring_generate(dir, 1, KEY_PEPPER, &err), 0);
	assert_int_equal(read_file(dir, "pepper", after, sizeof(after)), 1);
}

static void
generate_rederives_a_missing_public_half(void **state)
{
	unsigned char pub[32], again[32];
	struct keyring *kr = NULL;
	struct sm_err err = { "" };
	char *dir = *state;

	assert_int_equal(keyring_generate(dir, 1, KEY_ESCROW_SECRET |
	    KEY_SIGN_SECRET, &err), 0);
	assert_int_equal(read_file(dir, "escrow-1.pub", pub, sizeof(pub)), 32);
	remove_file(dir, "escrow-1.pub");
	remove_file(dir, "sign.pub");
	assert_int_equal(keyring_generate(dir, 1, KEY_ESCROW_SECRET |
	    KEY_SIGN_SECRET, &err), 0);
	assert_int_equal(read_file(dir, "escrow-1.pub", again, sizeof(again)),
	    32);
	assert_memory_equal(pub, again, sizeof(pub));
	assert_int_equal(keyring_load(&kr, dir, 1, KEY_ESCROW_SECRET |
	    KEY_ESCROW_PUBLIC | KEY_SIGN_SECRET | KEY_SIGN_PUBLIC, &err), 0);
	keyring_free(kr);
}

static void
generate_refuses_a_public_key_without_its_secret(void **state)
{
	struct sm_err err = { "" };
	char *dir = *state;

	assert_int_equal(keyring_generate(dir, 1, KEY_ESCROW_SECRET, &err), 0);
	remove_file(dir, "escrow-1.key");
	assert_int_equal(keyring_generate(dir, 1, KEY_ESCROW_SECRET, &err), -1);
	assert_err_contains(&err, "escrow-1.pub exists without");
	assert_false(exists(dir, "escrow-1.key"));
}

static void
generate_refuses_a_missing_directory_and_bad_versions(void **state)
{
	struct sm_err err = { "" };
	char *dir = *state;

	assert_int_equal(keyring_generate("/nonexistent/sealmail-keys", 1,
	    KEY_PEPPER, &err), -1);
	assert_err_contains(&err, "/nonexistent/sealmail-keys");
	assert_int_equal(keyring_generate(dir, 0, KEY_ESCROW_SECRET, &err), -1);
	assert_int_equal(keyring_generate(dir, SM_ESCROW_VERSIONS_MAX + 1,
	    KEY_ESCROW_SECRET, &err), -1);
	assert_int_equal(keyring_generate(dir, 1, 0, &err), -1);
}

enum load_break {
	B_SECRET_0644, B_SECRET_0640, B_MISSING_SIGN_KEY, B_MISSING_PUB,
	B_MISSING_CURRENT_ESCROW, B_SHORT_PUB, B_LONG_PUB, B_SHORT_SECRET,
	B_MISMATCHED_PUB, B_DAMAGED_SIGN_KEY, B_SECRET_IS_DIR,
};

static const struct {
	const char *name;
	enum load_break how;
	unsigned need;
	const char *file;	/* the error must name it */
	const char *why;
} load_breaks[] = {
	{ "secret file mode 0644", B_SECRET_0644, KEY_PEPPER, "pepper",
	    "mode 0644" },
	{ "secret file mode 0640", B_SECRET_0640, KEY_SIGN_SECRET, "sign.key",
	    "mode 0640" },
	{ "missing sign.key", B_MISSING_SIGN_KEY, KEY_SIGN_SECRET, "sign.key",
	    "No such file" },
	{ "missing escrow public key", B_MISSING_PUB, KEY_ESCROW_PUBLIC,
	    "escrow-2.pub", "No such file" },
	{ "missing current escrow secret", B_MISSING_CURRENT_ESCROW,
	    KEY_ESCROW_SECRET, "escrow-2.key", "current escrow version" },
	{ "public key one byte short", B_SHORT_PUB, KEY_SIGN_PUBLIC, "sign.pub",
	    "expected 32 bytes" },
	{ "public key one byte long", B_LONG_PUB, KEY_ESCROW_PUBLIC,
	    "escrow-2.pub", "expected 32 bytes" },
	{ "secret key one byte short", B_SHORT_SECRET, KEY_ESCROW_SECRET,
	    "escrow-1.key", "expected 32 bytes" },
	{ "public key of another pair", B_MISMATCHED_PUB,
	    KEY_ESCROW_SECRET | KEY_ESCROW_PUBLIC, "escrow-2.pub",
	    "does not match" },
	{ "damaged signing key", B_DAMAGED_SIGN_KEY, KEY_SIGN_SECRET,
	    "sign.key", "not a valid Ed25519" },
	{ "secret that is a directory", B_SECRET_IS_DIR, KEY_PEPPER, "pepper",
	    "" },
};

static void
load_refuses_unsafe_missing_or_damaged_key_files(void **state)
{
	const unsigned all = KEY_ESCROW_SECRET | KEY_SIGN_SECRET | KEY_PEPPER;
	size_t i;

	(void)state;
	for (i = 0; i < sizeof(load_breaks) / sizeof(load_breaks[0]); i++) {
		unsigned char buf[64], junk[33];
		struct keyring *kr = NULL;
		struct sm_err err = { "" };
		char *dir = tmpdir_new(), *other;
		char path[PATH_MAX];

		assert_int_equal(keyring_generate(dir, 1, all, &err), 0);
		assert_int_equal(keyring_generate(dir, 2, all, &err), 0);
		/* The unbroken directory loads, so the break is the cause. */
		assert_int_equal(keyring_load(&kr, dir, 2, load_breaks[i].need,
		    &err), 0);
		keyring_free(kr);
		kr = NULL;
		memset(junk, 'j', sizeof(junk));
		path_in(path, sizeof(path), dir, load_breaks[i].file);
		switch (load_breaks[i].how) {
		case B_SECRET_0644:
			assert_int_equal(chmod(path, 0644), 0);
			break;
		case B_SECRET_0640:
			assert_int_equal(chmod(path, 0640), 0);
			break;
		case B_MISSING_SIGN_KEY:
		case B_MISSING_PUB:
		case B_MISSING_CURRENT_ESCROW:
			assert_int_equal(unlink(path), 0);
			break;
		case B_SHORT_PUB:
			write_file(dir, load_breaks[i].file, junk, 31, 0644);
			break;
		case B_LONG_PUB:
			write_file(dir, load_breaks[i].file, junk, 33, 0644);
			break;
		case B_SHORT_SECRET:
			write_file(dir, load_breaks[i].file, junk, 31, 0600);
			break;
		case B_MISMATCHED_PUB:
			other = tmpdir_new();
			assert_int_equal(keyring_generate(other, 2,
			    KEY_ESCROW_PUBLIC, &err), 0);
			assert_int_equal(read_file(other, "escrow-2.pub", buf,
			    sizeof(buf)), 32);
			write_file(dir, load_breaks[i].file, buf, 32, 0644);
			tmpdir_free(other);
			break;
		case B_DAMAGED_SIGN_KEY:
			assert_int_equal(read_file(dir, "sign.key", buf,
			    sizeof(buf)), 64);
			buf[40] ^= 1;	/* in the public half */
			write_file(dir, load_breaks[i].file, buf, 64, 0600);
			break;
		case B_SECRET_IS_DIR:
			assert_int_equal(unlink(path), 0);
			assert_int_equal(mkdir(path, 0700), 0);
			break;
		}
		if (keyring_load(&kr, dir, 2, load_breaks[i].need, &err) != -1)
			fail_msg("%s: keys loaded", load_breaks[i].name);
		assert_null(kr);
		if (strstr(err.msg, load_breaks[i].file) == NULL ||
		    strstr(err.msg, load_breaks[i].why) == NULL)
			fail_msg("%s: error \"%s\" should name %s and say \"%s\"",
			    load_breaks[i].name, err.msg, load_breaks[i].file,
			    load_breaks[i].why);
		if (load_breaks[i].how == B_SECRET_IS_DIR)
			assert_int_equal(rmdir(path), 0);
		tmpdir_free(dir);
	}
}

static void
load_takes_every_escrow_version_present(void **state)
{
	unsigned char key[SM_KEY_BYTES], back[SM_KEY_BYTES], id[SM_ID_BYTES];
	unsigned char sealed[SM_SEALED_KEY_BYTES];
	struct keyring *old = NULL, *kr = NULL;
	struct sm_err err = { "" };
	char *dir = *state;

	/* Versions 1, 5 and 64 exist; 2-4 were retired. */
	assert_int_equal(keyring_generate(dir, 1, KEY_ESCROW_SECRET, &err), 0);
	assert_int_equal(keyring_generate(dir, 5, KEY_ESCROW_SECRET, &err), 0);
	assert_int_equal(keyring_generate(dir, SM_ESCROW_VERSIONS_MAX,
	    KEY_ESCROW_SECRET, &err), 0);
	assert_int_equal(keyring_load(&old, dir, SM_ESCROW_VERSIONS_MAX,
	    KEY_ESCROW_PUBLIC, &err), 0);
	assert_int_equal(keyring_load(&kr, dir, 5, KEY_ESCROW_SECRET, &err), 0);
	datakey_new(key);
	msgid_new(id);
	assert_int_equal(datakey_seal(old, id, key, sealed), 0);
	assert_int_equal(datakey_open(kr, SM_ESCROW_VERSIONS_MAX, id, sealed,
	    back, &err), 0);
	assert_memory_equal(key, back, sizeof(key));
	assert_int_equal(datakey_open(kr, 3, id, sealed, back, &err), -1);
	keyring_free(old);
	keyring_free(kr);
}

static void
load_refuses_bad_arguments(void **state)
{
	struct keyring *kr = NULL;
	struct sm_err err = { "" };
	char *dir = *state;

	assert_int_equal(keyring_generate(dir, 1, KEY_ESCROW_SECRET, &err), 0);
	assert_int_equal(keyring_load(&kr, dir, 0, KEY_ESCROW_PUBLIC, &err), -1);
	assert_int_equal(keyring_load(&kr, dir, SM_ESCROW_VERSIONS_MAX + 1,
	    KEY_ESCROW_SECRET, &err), -1);
	assert_int_equal(keyring_load(&kr, dir, 1, 0, &err), -1);
	assert_int_equal(keyring_load(&kr, dir, 1, 1u << 9, &err), -1);
	assert_null(kr);
	/* A keyring without the pepper has none to give. */
	assert_int_equal(keyring_load(&kr, dir, 1, KEY_ESCROW_PUBLIC, &err), 0);
	assert_null(keyring_pepper(kr));
	keyring_free(kr);
	keyring_free(NULL);
}

int
main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test(chunk_round_trip_restores_every_size),
		cmocka_unit_test(chunk_format_is_xchacha20poly1305_with_index_nonce_and_bound_ad),
		cmocka_unit_test(chunk_open_detects_every_tampering),
		cmocka_unit_test(chunk_error_names_the_chunk),
		cmocka_unit_test(datakey_opens_for_its_own_message),
		cmocka_unit_test(datakey_refuses_another_message_id),
		cmocka_unit_test(datakey_refuses_a_damaged_seal),
		cmocka_unit_test(datakey_seal_layout_is_id_then_key),
		cmocka_unit_test(rotation_opens_each_version_with_its_own_key),
		cmocka_unit_test(sealing_needs_the_public_key_and_opening_the_secret),
		cmocka_unit_test(signature_verifies_over_unchanged_metadata),
		cmocka_unit_test(signature_covers_the_documented_serialisation),
		cmocka_unit_test(signature_fails_when_any_field_changes),
		cmocka_unit_test(signature_from_another_key_fails),
		cmocka_unit_test(taghash_depends_on_tag_order),
		cmocka_unit_test(taghash_is_blake2b_of_the_tags_even_when_unaligned),
		cmocka_unit_test(token_new_is_43_base64url_chars_and_hashes_back),
		cmocka_unit_test(token_hash_refuses_every_malformed_token),
		cmocka_unit_test(msgid_hex_round_trips_and_parse_takes_only_lowercase_hex),
		cmocka_unit_test_setup_teardown(generate_writes_every_file_with_its_mode_and_size,
		    dir_setup, dir_teardown),
		cmocka_unit_test_setup_teardown(generate_never_overwrites,
		    dir_setup, dir_teardown),
		cmocka_unit_test_setup_teardown(generate_rederives_a_missing_public_half,
		    dir_setup, dir_teardown),
		cmocka_unit_test_setup_teardown(generate_refuses_a_public_key_without_its_secret,
		    dir_setup, dir_teardown),
		cmocka_unit_test_setup_teardown(generate_refuses_a_missing_directory_and_bad_versions,
		    dir_setup, dir_teardown),
		cmocka_unit_test(load_refuses_unsafe_missing_or_damaged_key_files),
		cmocka_unit_test_setup_teardown(load_takes_every_escrow_version_present,
		    dir_setup, dir_teardown),
		cmocka_unit_test_setup_teardown(load_refuses_bad_arguments,
		    dir_setup, dir_teardown),
	};

	return cmocka_run_group_tests_name("crypto", tests, group_setup,
	    group_teardown);
}
