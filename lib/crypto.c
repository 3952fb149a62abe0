/* crypto.c - the only place sealmail touches key material and ciphers.
 * Secret keys stay in sodium_malloc'd memory that is wiped when freed; a data
 * key never leaves here except sealed to an escrow public key, and key files
 * are created but never overwritten. */
#include <sys/stat.h>
#include <errno.h>
#include <fcntl.h>
#include <limits.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include "config.h"
#include "crypto.h"

#define CHUNK_AD_PREFIX "sealmail-chunk-v1"
#define CHUNK_AD_PREFIX_LEN (sizeof(CHUNK_AD_PREFIX) - 1)
#define CHUNK_AD_LEN (CHUNK_AD_PREFIX_LEN + SM_ID_BYTES + 8 + 1)

#define SIG_PREFIX "sealmail-msg-v1"
#define SIG_PREFIX_LEN (sizeof(SIG_PREFIX) - 1)
#define SIG_MSG_LEN (SIG_PREFIX_LEN + SM_ID_BYTES + 8 + 8 + 8 + 8 + 4 + \
    SM_HASH_BYTES)

#define ESCROW_KEYBYTES crypto_box_SECRETKEYBYTES
#define ESCROW_PUBBYTES crypto_box_PUBLICKEYBYTES

/* Everything secret in one sodium_malloc'd block: guard pages around it,
 * locked against swapping where the platform allows, wiped by sodium_free,
 * and read-only once loaded so a stray write faults instead of corrupting
 * a key. Index 0 of escrow_sk is unused: versions start at 1. */
struct keyring_secret {
	unsigned char escrow_sk[SM_ESCROW_VERSIONS_MAX + 1][ESCROW_KEYBYTES];
	unsigned char sign_sk[crypto_sign_SECRETKEYBYTES];
	unsigned char pepper[SM_PEPPER_BYTES];
	unsigned char audit[SM_AUDIT_KEY_BYTES];
	unsigned char sms[SM_SMS_KEY_BYTES];
};

struct keyring {
	struct keyring_secret *sec;
	int version;
	int have_escrow_pk;		/* current version's public key */
	int have_sign_sk;
	int have_sign_pk;
	int have_pepper;
	int have_audit;
	int have_sms;
	unsigned char have_escrow_sk[SM_ESCROW_VERSIONS_MAX + 1];
	/* Public halves: the current one for sealing, and one per loaded
	 * secret because crypto_box_seal_open needs both halves. */
	unsigned char escrow_pk[SM_ESCROW_VERSIONS_MAX + 1][ESCROW_PUBBYTES];
	unsigned char sign_pk[crypto_sign_PUBLICKEYBYTES];
};

static int
key_path(char *out, size_t cap, const char *dir, const char *name,
    struct sm_err *err)
{
	int n;

	n = snprintf(out, cap, "%s/%s", dir, name);
	if (n < 0 || (size_t)n >= cap) {
		sm_err_set(err, "key directory path is too long: %.64s...", dir);
		return -1;
	}
	return 0;
}

static int
escrow_name(char *out, size_t cap, int version, const char *ext)
{
	int n;

	n = snprintf(out, cap, "escrow-%d.%s", version, ext);
	return (n < 0 || (size_t)n >= cap) ? -1 : 0;
}

/* 1 when path exists, 0 when it does not, -1 when we cannot tell (which
 * must not be mistaken for "absent", or generate would try to create it). */
static int
file_exists(const char *path, struct sm_err *err)
{
	struct stat st;

	if (lstat(path, &st) == 0)
		return 1;
	if (errno == ENOENT)
		return 0;
	sm_err_set(err, "%s: %s", path, strerror(errno));
	return -1;
}

/* Public keys are not secret, so any mode will do, but the length must be
 * exact: a short or long file is a damaged or wrong file, never a key. */
static int
read_public(const char *path, unsigned char *buf, size_t want,
    struct sm_err *err)
{
	unsigned char tmp[128];
	struct stat st;
	size_t off = 0;
	int fd, rc = -1;

	if (want > sizeof(tmp) - 1) {
		sm_err_set(err, "%s: internal error: key size %zu", path, want);
		return -1;
	}
	fd = open(path, O_RDONLY | O_CLOEXEC | O_NOCTTY);
	if (fd == -1) {
		sm_err_set(err, "%s: %s", path, strerror(errno));
		return -1;
	}
	if (fstat(fd, &st) == -1) {
		sm_err_set(err, "%s: %s", path, strerror(errno));
		goto out;
	}
	if (!S_ISREG(st.st_mode)) {
		sm_err_set(err, "%s: not a regular file", path);
		goto out;
	}
	/* Read one byte more than wanted so a long file is noticed. */
	while (off < want + 1) {
		ssize_t n = read(fd, tmp + off, want + 1 - off);

		if (n == -1 && errno == EINTR)
			continue;
		if (n == -1) {
			sm_err_set(err, "%s: %s", path, strerror(errno));
			goto out;
		}
		if (n == 0)
			break;
		off += (size_t)n;
	}
	if (off != want) {
		sm_err_set(err, "%s: expected %zu bytes, found %s%zu", path, want,
		    off > want ? "more than " : "", off > want ? want : off);
		goto out;
	}
	memcpy(buf, tmp, want);
	rc = 0;
out:
	close(fd);
	return rc;
}

static int
read_secret(const char *path, unsigned char *buf, size_t want,
    struct sm_err *err)
{
	size_t got = 0;

	if (config_secret_read(path, buf, want, want, &got, err) == -1)
		return -1;
	if (got != want) {
		sodium_memzero(buf, want);
		sm_err_set(err, "%s: expected %zu bytes, found %zu", path, want, got);
		return -1;
	}
	return 0;
}

static int
load_escrow_secrets(struct keyring *kr, const char *dir, struct sm_err *err)
{
	char name[64], path[PATH_MAX];
	int v, e;

	for (v = 1; v <= SM_ESCROW_VERSIONS_MAX; v++) {
		if (escrow_name(name, sizeof(name), v, "key") == -1 ||
		    key_path(path, sizeof(path), dir, name, err) == -1)
			return -1;
		e = file_exists(path, err);
		if (e == -1)
			return -1;
		if (e == 0) {
			if (v == kr->version) {
				sm_err_set(err, "%s: missing: the secret key of "
				    "the current escrow version %d is needed",
				    path, v);
				return -1;
			}
			continue;
		}
		if (read_secret(path, kr->sec->escrow_sk[v], ESCROW_KEYBYTES,
		    err) == -1)
			return -1;
		if (crypto_scalarmult_base(kr->escrow_pk[v],
		    kr->sec->escrow_sk[v]) != 0) {
			sm_err_set(err, "%s: not a usable X25519 secret key",
			    path);
			return -1;
		}
		kr->have_escrow_sk[v] = 1;
	}
	return 0;
}

static int
load_escrow_public(struct keyring *kr, const char *dir, struct sm_err *err)
{
	unsigned char pk[ESCROW_PUBBYTES];
	char name[64], path[PATH_MAX];

	if (escrow_name(name, sizeof(name), kr->version, "pub") == -1 ||
	    key_path(path, sizeof(path), dir, name, err) == -1)
		return -1;
	if (read_public(path, pk, sizeof(pk), err) == -1)
		return -1;
	/* A pub that does not match its key would seal messages nobody can
	 * open; better to refuse to start. */
	if (kr->have_escrow_sk[kr->version] &&
	    sodium_memcmp(pk, kr->escrow_pk[kr->version], sizeof(pk)) != 0) {
		sm_err_set(err, "%s: does not match escrow-%d.key", path,
		    kr->version);
		return -1;
	}
	memcpy(kr->escrow_pk[kr->version], pk, sizeof(pk));
	kr->have_escrow_pk = 1;
	return 0;
}

static int
load_sign_secret(struct keyring *kr, const char *dir, struct sm_err *err)
{
	unsigned char seed[crypto_sign_SEEDBYTES];
	unsigned char pk[crypto_sign_PUBLICKEYBYTES];
	unsigned char *sk2 = NULL;
	char path[PATH_MAX];
	int rc = -1;

	if (key_path(path, sizeof(path), dir, "sign.key", err) == -1)
		return -1;
	if (read_secret(path, kr->sec->sign_sk, crypto_sign_SECRETKEYBYTES,
	    err) == -1)
		return -1;
	/* An Ed25519 secret key is seed || public key; a file whose halves
	 * disagree is damaged and would make signatures nobody can check. */
	sk2 = sodium_malloc(crypto_sign_SECRETKEYBYTES);
	if (sk2 == NULL) {
		sm_err_set(err, "%s: out of memory", path);
		goto out;
	}
	if (crypto_sign_ed25519_sk_to_seed(seed, kr->sec->sign_sk) != 0 ||
	    crypto_sign_seed_keypair(pk, sk2, seed) != 0 ||
	    sodium_memcmp(sk2, kr->sec->sign_sk,
	    crypto_sign_SECRETKEYBYTES) != 0) {
		sm_err_set(err, "%s: not a valid Ed25519 secret key "
		    "(its two halves do not match)", path);
		goto out;
	}
	memcpy(kr->sign_pk, pk, sizeof(pk));
	kr->have_sign_sk = 1;
	kr->have_sign_pk = 1;
	rc = 0;
out:
	sodium_memzero(seed, sizeof(seed));
	sodium_free(sk2);
	return rc;
}

static int
load_sign_public(struct keyring *kr, const char *dir, struct sm_err *err)
{
	unsigned char pk[crypto_sign_PUBLICKEYBYTES];
	char path[PATH_MAX];

	if (key_path(path, sizeof(path), dir, "sign.pub", err) == -1)
		return -1;
	if (read_public(path, pk, sizeof(pk), err) == -1)
		return -1;
	if (kr->have_sign_sk &&
	    sodium_memcmp(pk, kr->sign_pk, sizeof(pk)) != 0) {
		sm_err_set(err, "%s: does not match sign.key", path);
		return -1;
	}
	memcpy(kr->sign_pk, pk, sizeof(pk));
	kr->have_sign_pk = 1;
	return 0;
}

static int
load_pepper(struct keyring *kr, const char *dir, struct sm_err *err)
{
	char path[PATH_MAX];

	if (key_path(path, sizeof(path), dir, "pepper", err) == -1)
		return -1;
	if (read_secret(path, kr->sec->pepper, SM_PEPPER_BYTES, err) == -1)
		return -1;
	kr->have_pepper = 1;
	return 0;
}

static int
load_audit(struct keyring *kr, const char *dir, struct sm_err *err)
{
	char path[PATH_MAX];

	if (key_path(path, sizeof(path), dir, "audit", err) == -1)
		return -1;
	if (read_secret(path, kr->sec->audit, SM_AUDIT_KEY_BYTES, err) == -1)
		return -1;
	kr->have_audit = 1;
	return 0;
}

static int
load_sms(struct keyring *kr, const char *dir, struct sm_err *err)
{
	char path[PATH_MAX];

	if (key_path(path, sizeof(path), dir, "sms", err) == -1)
		return -1;
	if (read_secret(path, kr->sec->sms, SM_SMS_KEY_BYTES, err) == -1)
		return -1;
	kr->have_sms = 1;
	return 0;
}

int
keyring_load(struct keyring **out, const char *dir, int escrow_version,
    unsigned need, struct sm_err *err)
{
	const unsigned known = KEY_ESCROW_PUBLIC | KEY_ESCROW_SECRET |
	    KEY_SIGN_SECRET | KEY_SIGN_PUBLIC | KEY_PEPPER | KEY_AUDIT | KEY_SMS;
	struct keyring *kr = NULL;
	int rc = -1;

	*out = NULL;
	if (sodium_init() < 0) {
		sm_err_set(err, "libsodium failed to initialise");
		return -1;
	}
	if ((need & ~known) != 0 || need == 0) {
		sm_err_set(err, "keyring_load: no or unknown keys asked for (%#x)",
		    need);
		return -1;
	}
	if ((need & (KEY_ESCROW_PUBLIC | KEY_ESCROW_SECRET)) != 0 &&
	    (escrow_version < 1 || escrow_version > SM_ESCROW_VERSIONS_MAX)) {
		sm_err_set(err, "escrow key version %d is out of range 1..%d",
		    escrow_version, SM_ESCROW_VERSIONS_MAX);
		return -1;
	}
	kr = calloc(1, sizeof(*kr));
	if (kr == NULL) {
		sm_err_set(err, "out of memory loading keys");
		return -1;
	}
	kr->version = escrow_version;
	/* sodium_malloc also mlocks the block where the platform lets it. */
	kr->sec = sodium_malloc(sizeof(*kr->sec));
	if (kr->sec == NULL) {
		sm_err_set(err, "out of memory (or locked memory) loading keys");
		goto out;
	}
	sodium_memzero(kr->sec, sizeof(*kr->sec));

	/* Secrets before publics, so each public file is checked against
	 * the secret it belongs to when both are asked for. */
	if ((need & KEY_ESCROW_SECRET) != 0 &&
	    load_escrow_secrets(kr, dir, err) == -1)
		goto out;
	if ((need & KEY_ESCROW_PUBLIC) != 0 &&
	    load_escrow_public(kr, dir, err) == -1)
		goto out;
	if ((need & KEY_ESCROW_SECRET) != 0)
		kr->have_escrow_pk = 1;	/* derived from the current secret */
	if ((need & KEY_SIGN_SECRET) != 0 &&
	    load_sign_secret(kr, dir, err) == -1)
		goto out;
	if ((need & KEY_SIGN_PUBLIC) != 0 &&
	    load_sign_public(kr, dir, err) == -1)
		goto out;
	if ((need & KEY_PEPPER) != 0 && load_pepper(kr, dir, err) == -1)
		goto out;
	if ((need & KEY_AUDIT) != 0 && load_audit(kr, dir, err) == -1)
		goto out;
	if ((need & KEY_SMS) != 0 && load_sms(kr, dir, err) == -1)
		goto out;
	if (sodium_mprotect_readonly(kr->sec) != 0) {
		sm_err_set(err, "cannot protect key memory: %s",
		    strerror(errno));
		goto out;
	}
	*out = kr;
	kr = NULL;
	rc = 0;
out:
	keyring_free(kr);
	return rc;
}

void
keyring_free(struct keyring *kr)
{
	if (kr == NULL)
		return;
	sodium_free(kr->sec);	/* wipes and unlocks, even when read-only */
	sodium_memzero(kr, sizeof(*kr));
	free(kr);
}

int
keyring_escrow_version(const struct keyring *kr)
{
	return kr->version;
}

const unsigned char *
keyring_pepper(const struct keyring *kr)
{
	if (kr == NULL || !kr->have_pepper)
		return NULL;
	return kr->sec->pepper;
}

const unsigned char *
keyring_audit_key(const struct keyring *kr)
{
	if (kr == NULL || !kr->have_audit)
		return NULL;
	return kr->sec->audit;
}

const unsigned char *
keyring_sms_key(const struct keyring *kr)
{
	if (kr == NULL || !kr->have_sms)
		return NULL;
	return kr->sec->sms;
}

/* Creates path exclusively; a file that appeared meanwhile is an error,
 * never overwritten.  A file we created but could not fill is removed, so
 * a later run does not find half a key. */
static int
write_new(const char *path, const unsigned char *data, size_t len,
    mode_t mode, struct sm_err *err)
{
	size_t off = 0;
	int fd, rc = -1;

	fd = open(path, O_WRONLY | O_CREAT | O_EXCL | O_NOFOLLOW | O_CLOEXEC,
	    mode);
	if (fd == -1) {
		sm_err_set(err, "%s: cannot create: %s", path, strerror(errno));
		return -1;
	}
	/* The umask may have taken bits away; a public key other programs
	 * cannot read is as broken as a secret others can. */
	if (fchmod(fd, mode) == -1) {
		sm_err_set(err, "%s: chmod: %s", path, strerror(errno));
		goto out;
	}
	while (off < len) {
		ssize_t n = write(fd, data + off, len - off);

		if (n == -1 && errno == EINTR)
			continue;
		if (n == -1) {
			sm_err_set(err, "%s: write: %s", path, strerror(errno));
			goto out;
		}
		off += (size_t)n;
	}
	if (fsync(fd) == -1) {
		sm_err_set(err, "%s: fsync: %s", path, strerror(errno));
		goto out;
	}
	rc = 0;
out:
	if (close(fd) == -1 && rc == 0) {
		sm_err_set(err, "%s: close: %s", path, strerror(errno));
		rc = -1;
	}
	if (rc == -1)
		(void)unlink(path);
	return rc;
}

enum pair_kind { PAIR_ESCROW, PAIR_SIGN };

_Static_assert(ESCROW_PUBBYTES <= crypto_sign_PUBLICKEYBYTES &&
    ESCROW_KEYBYTES <= crypto_sign_SECRETKEYBYTES,
    "generate_pair's buffers hold either kind of key");

/* Makes whichever half of a key pair is missing.  A lone secret gets its
 * public half derived again; a lone public key is an error, since a new
 * secret could never match it. */
static int
generate_pair(const char *dir, enum pair_kind kind, const char *skname,
    const char *pkname, int *created, struct sm_err *err)
{
	const size_t sklen = kind == PAIR_ESCROW ? ESCROW_KEYBYTES :
	    crypto_sign_SECRETKEYBYTES;
	const size_t pklen = kind == PAIR_ESCROW ? ESCROW_PUBBYTES :
	    crypto_sign_PUBLICKEYBYTES;
	char skpath[PATH_MAX], pkpath[PATH_MAX];
	unsigned char pk[crypto_sign_PUBLICKEYBYTES];
	unsigned char *sk = NULL;
	int sk_exists, pk_exists, rc = -1;

	if (key_path(skpath, sizeof(skpath), dir, skname, err) == -1 ||
	    key_path(pkpath, sizeof(pkpath), dir, pkname, err) == -1)
		return -1;
	if ((sk_exists = file_exists(skpath, err)) == -1 ||
	    (pk_exists = file_exists(pkpath, err)) == -1)
		return -1;
	if (sk_exists && pk_exists)
		return 0;
	if (!sk_exists && pk_exists) {
		sm_err_set(err, "%s exists without %s: refusing to make a new "
		    "secret key that would not match it", pkpath, skpath);
		return -1;
	}
	sk = sodium_malloc(crypto_sign_SECRETKEYBYTES);
	if (sk == NULL) {
		sm_err_set(err, "%s: out of memory", skpath);
		return -1;
	}
	if (sk_exists) {
		if (read_secret(skpath, sk, sklen, err) == -1)
			goto out;
		if (kind == PAIR_ESCROW ? crypto_scalarmult_base(pk, sk) :
		    crypto_sign_ed25519_sk_to_pk(pk, sk)) {
			sm_err_set(err, "%s: cannot derive the public key",
			    skpath);
			goto out;
		}
	} else {
		if (kind == PAIR_ESCROW ? crypto_box_keypair(pk, sk) :
		    crypto_sign_keypair(pk, sk)) {
			sm_err_set(err, "%s: key generation failed", skpath);
			goto out;
		}
		/* The secret first: a crash before the public half leaves
		 * a state the next run repairs (see above). */
		if (write_new(skpath, sk, sklen, 0600, err) == -1)
			goto out;
	}
	if (write_new(pkpath, pk, pklen, 0644, err) == -1)
		goto out;
	*created = 1;
	rc = 0;
out:
	sodium_free(sk);
	return rc;
}

/* A random secret of len bytes in a file of its own (pepper, audit). */
static int
generate_secret(const char *dir, const char *name, size_t len, int *created,
    struct sm_err *err)
{
	char path[PATH_MAX];
	unsigned char *key = NULL;
	int e, rc = -1;

	if (key_path(path, sizeof(path), dir, name, err) == -1)
		return -1;
	if ((e = file_exists(path, err)) != 0)
		return e == 1 ? 0 : -1;
	key = sodium_malloc(len);
	if (key == NULL) {
		sm_err_set(err, "%s: out of memory", path);
		return -1;
	}
	randombytes_buf(key, len);
	if (write_new(path, key, len, 0600, err) == -1)
		goto out;
	*created = 1;
	rc = 0;
out:
	sodium_free(key);
	return rc;
}

/* New directory entries are only durable once the directory is synced. */
static int
sync_dir(const char *dir, struct sm_err *err)
{
	int fd, rc = 0;

	fd = open(dir, O_RDONLY | O_DIRECTORY | O_CLOEXEC);
	if (fd == -1) {
		sm_err_set(err, "%s: %s", dir, strerror(errno));
		return -1;
	}
	if (fsync(fd) == -1) {
		sm_err_set(err, "%s: fsync: %s", dir, strerror(errno));
		rc = -1;
	}
	if (close(fd) == -1 && rc == 0) {
		sm_err_set(err, "%s: close: %s", dir, strerror(errno));
		rc = -1;
	}
	return rc;
}

int
keyring_generate(const char *dir, int escrow_version, unsigned what,
    struct sm_err *err)
{
	const unsigned known = KEY_ESCROW_PUBLIC | KEY_ESCROW_SECRET |
	    KEY_SIGN_SECRET | KEY_SIGN_PUBLIC | KEY_PEPPER | KEY_AUDIT | KEY_SMS;
	char skname[64], pkname[64];
	struct stat st;
	int created = 0;

	if (sodium_init() < 0) {
		sm_err_set(err, "libsodium failed to initialise");
		return -1;
	}
	if ((what & ~known) != 0 || what == 0) {
		sm_err_set(err, "keyring_generate: no or unknown keys asked for "
		    "(%#x)", what);
		return -1;
	}
	if (stat(dir, &st) == -1) {
		sm_err_set(err, "key directory %s: %s", dir, strerror(errno));
		return -1;
	}
	if (!S_ISDIR(st.st_mode)) {
		sm_err_set(err, "key directory %s: not a directory", dir);
		return -1;
	}
	if ((what & (KEY_ESCROW_PUBLIC | KEY_ESCROW_SECRET)) != 0) {
		if (escrow_version < 1 ||
		    escrow_version > SM_ESCROW_VERSIONS_MAX) {
			sm_err_set(err, "escrow key version %d is out of range "
			    "1..%d", escrow_version, SM_ESCROW_VERSIONS_MAX);
			return -1;
		}
		if (escrow_name(skname, sizeof(skname), escrow_version,
		    "key") == -1 || escrow_name(pkname, sizeof(pkname),
		    escrow_version, "pub") == -1) {
			sm_err_set(err, "escrow key name too long");
			return -1;
		}
		if (generate_pair(dir, PAIR_ESCROW, skname, pkname, &created,
		    err) == -1)
			return -1;
	}
	if ((what & (KEY_SIGN_PUBLIC | KEY_SIGN_SECRET)) != 0 &&
	    generate_pair(dir, PAIR_SIGN, "sign.key", "sign.pub", &created,
	    err) == -1)
		return -1;
	if ((what & KEY_PEPPER) != 0 && generate_secret(dir, "pepper",
	    SM_PEPPER_BYTES, &created, err) == -1)
		return -1;
	if ((what & KEY_AUDIT) != 0 && generate_secret(dir, "audit",
	    SM_AUDIT_KEY_BYTES, &created, err) == -1)
		return -1;
	if ((what & KEY_SMS) != 0 && generate_secret(dir, "sms",
	    SM_SMS_KEY_BYTES, &created, err) == -1)
		return -1;
	if (created && sync_dir(dir, err) == -1)
		return -1;
	return 0;
}

void
msgid_new(unsigned char id[SM_ID_BYTES])
{
	randombytes_buf(id, SM_ID_BYTES);
}

void
msgid_hex(const unsigned char id[SM_ID_BYTES], char out[SM_ID_HEX])
{
	(void)sodium_bin2hex(out, SM_ID_HEX, id, SM_ID_BYTES);
}

int
msgid_parse(const char *hex, unsigned char id[SM_ID_BYTES])
{
	size_t i, got = 0;

	if (hex == NULL)
		return -1;
	/* Only the form msgid_hex writes, so one id has one spelling; the
	 * loop stops at a NUL before reading past a short string. */
	for (i = 0; i < SM_ID_BYTES * 2; i++) {
		char c = hex[i];

		if (!((c >= '0' && c <= '9') || (c >= 'a' && c <= 'f')))
			return -1;
	}
	if (hex[SM_ID_BYTES * 2] != '\0')
		return -1;
	if (sodium_hex2bin(id, SM_ID_BYTES, hex, SM_ID_BYTES * 2, NULL, &got,
	    NULL) != 0 || got != SM_ID_BYTES)
		return -1;
	return 0;
}

void
datakey_new(unsigned char key[SM_KEY_BYTES])
{
	crypto_aead_xchacha20poly1305_ietf_keygen(key);
}

static void
put_be64(unsigned char *p, uint64_t v)
{
	int i;

	for (i = 7; i >= 0; i--) {
		p[i] = (unsigned char)(v & 0xff);
		v >>= 8;
	}
}

static void
put_be32(unsigned char *p, uint32_t v)
{
	int i;

	for (i = 3; i >= 0; i--) {
		p[i] = (unsigned char)(v & 0xff);
		v >>= 8;
	}
}

/* The key is fresh for every message, so the index alone makes each nonce
 * unique under that key; deriving it saves storing 24 bytes per chunk. */
static void
chunk_nonce(uint64_t idx,
    unsigned char nonce[crypto_aead_xchacha20poly1305_ietf_NPUBBYTES])
{
	memset(nonce, 0, crypto_aead_xchacha20poly1305_ietf_NPUBBYTES);
	put_be64(nonce, idx);
}

static void
chunk_ad(const unsigned char id[SM_ID_BYTES], uint64_t idx, int final,
    unsigned char ad[CHUNK_AD_LEN])
{
	memcpy(ad, CHUNK_AD_PREFIX, CHUNK_AD_PREFIX_LEN);
	memcpy(ad + CHUNK_AD_PREFIX_LEN, id, SM_ID_BYTES);
	put_be64(ad + CHUNK_AD_PREFIX_LEN + SM_ID_BYTES, idx);
	ad[CHUNK_AD_LEN - 1] = final ? 1 : 0;
}

int
chunk_seal(const unsigned char key[SM_KEY_BYTES],
    const unsigned char id[SM_ID_BYTES], uint64_t idx, int final,
    const unsigned char *pt, size_t n, unsigned char *ct)
{
	unsigned char nonce[crypto_aead_xchacha20poly1305_ietf_NPUBBYTES];
	unsigned char ad[CHUNK_AD_LEN];
	unsigned long long ctlen = 0;

	if (n > crypto_aead_xchacha20poly1305_ietf_MESSAGEBYTES_MAX)
		return -1;
	chunk_nonce(idx, nonce);
	chunk_ad(id, idx, final, ad);
	if (crypto_aead_xchacha20poly1305_ietf_encrypt(ct, &ctlen, pt, n, ad,
	    sizeof(ad), NULL, nonce, key) != 0 ||
	    ctlen != (unsigned long long)n + SM_TAG_BYTES)
		return -1;
	return 0;
}

int
chunk_open(const unsigned char key[SM_KEY_BYTES],
    const unsigned char id[SM_ID_BYTES], uint64_t idx, int final,
    const unsigned char *ct, size_t ctlen, unsigned char *pt,
    struct sm_err *err)
{
	unsigned char nonce[crypto_aead_xchacha20poly1305_ietf_NPUBBYTES];
	unsigned char ad[CHUNK_AD_LEN];
	unsigned long long ptlen = 0;

	if (ctlen < SM_TAG_BYTES) {
		sm_err_set(err, "chunk %llu is %zu bytes, shorter than its "
		    "authentication tag", (unsigned long long)idx, ctlen);
		return -1;
	}
	chunk_nonce(idx, nonce);
	chunk_ad(id, idx, final, ad);
	if (crypto_aead_xchacha20poly1305_ietf_decrypt(pt, &ptlen, NULL, ct,
	    ctlen, ad, sizeof(ad), nonce, key) != 0) {
		sm_err_set(err, "chunk %llu failed authentication (tampered, "
		    "truncated, reordered, from another message, or wrong key)",
		    (unsigned long long)idx);
		return -1;
	}
	if (ptlen != (unsigned long long)(ctlen - SM_TAG_BYTES)) {
		sodium_memzero(pt, ctlen - SM_TAG_BYTES);
		sm_err_set(err, "chunk %llu: unexpected plaintext length",
		    (unsigned long long)idx);
		return -1;
	}
	return 0;
}

int
datakey_seal(const struct keyring *kr, const unsigned char id[SM_ID_BYTES],
    const unsigned char key[SM_KEY_BYTES],
    unsigned char out[SM_SEALED_KEY_BYTES])
{
	unsigned char pt[SM_ID_BYTES + SM_KEY_BYTES];
	int rc = -1;

	if (kr == NULL || !kr->have_escrow_pk)
		return -1;
	/* The id inside binds the key to its message: a sealed key copied
	 * onto another row will not open for that row. */
	memcpy(pt, id, SM_ID_BYTES);
	memcpy(pt + SM_ID_BYTES, key, SM_KEY_BYTES);
	if (crypto_box_seal(out, pt, sizeof(pt), kr->escrow_pk[kr->version]) != 0)
		goto out;
	rc = 0;
out:
	sodium_memzero(pt, sizeof(pt));
	return rc;
}

int
datakey_open(const struct keyring *kr, int version,
    const unsigned char id[SM_ID_BYTES],
    const unsigned char sealed[SM_SEALED_KEY_BYTES],
    unsigned char key[SM_KEY_BYTES], struct sm_err *err)
{
	unsigned char pt[SM_ID_BYTES + SM_KEY_BYTES];
	int rc = -1;

	if (kr == NULL || version < 1 || version > SM_ESCROW_VERSIONS_MAX ||
	    !kr->have_escrow_sk[version]) {
		sm_err_set(err, "escrow secret key version %d is not loaded",
		    version);
		return -1;
	}
	if (crypto_box_seal_open(pt, sealed, SM_SEALED_KEY_BYTES,
	    kr->escrow_pk[version], kr->sec->escrow_sk[version]) != 0) {
		sm_err_set(err, "sealed data key does not open with escrow key "
		    "version %d (damaged, or sealed to another key)", version);
		goto out;
	}
	if (sodium_memcmp(pt, id, SM_ID_BYTES) != 0) {
		sm_err_set(err, "sealed data key belongs to another message");
		goto out;
	}
	memcpy(key, pt + SM_ID_BYTES, SM_KEY_BYTES);
	rc = 0;
out:
	sodium_memzero(pt, sizeof(pt));
	return rc;
}

/* The state needs no key: the tags are already MACs under the secret data
 * key, and the signature over this hash is what makes it trustworthy.
 * struct taghash holds the state unaligned (see crypto.h), so each call
 * works on an aligned copy; a BLAKE2b state holds no pointers. */
void
taghash_init(struct taghash *th)
{
	crypto_generichash_state st;

	/* Cannot fail: the output length is in range. */
	(void)crypto_generichash_init(&st, NULL, 0, SM_HASH_BYTES);
	memcpy(th->st, &st, sizeof(st));
}

void
taghash_add(struct taghash *th, const unsigned char tag[SM_TAG_BYTES])
{
	crypto_generichash_state st;

	memcpy(&st, th->st, sizeof(st));
	(void)crypto_generichash_update(&st, tag, SM_TAG_BYTES);
	memcpy(th->st, &st, sizeof(st));
}

void
taghash_final(struct taghash *th, unsigned char out[SM_HASH_BYTES])
{
	crypto_generichash_state st;

	memcpy(&st, th->st, sizeof(st));
	(void)crypto_generichash_final(&st, out, SM_HASH_BYTES);
	memcpy(th->st, &st, sizeof(st));
}

/* Fixed-width big-endian fields after a version prefix: one byte string
 * per metadata, whatever the platform, and never ambiguous. */
static void
sig_message(const struct sig_meta *m, unsigned char buf[SIG_MSG_LEN])
{
	unsigned char *p = buf;

	memcpy(p, SIG_PREFIX, SIG_PREFIX_LEN);
	p += SIG_PREFIX_LEN;
	memcpy(p, m->id, SM_ID_BYTES);
	p += SM_ID_BYTES;
	put_be64(p, m->lab_id);
	p += 8;
	put_be64(p, (uint64_t)m->created);
	p += 8;
	put_be64(p, m->size);
	p += 8;
	put_be64(p, m->nchunks);
	p += 8;
	put_be32(p, m->chunk_size);
	p += 4;
	memcpy(p, m->taghash, SM_HASH_BYTES);
}

int
msg_sign(const struct keyring *kr, const struct sig_meta *m,
    unsigned char sig[SM_SIG_BYTES])
{
	unsigned char buf[SIG_MSG_LEN];

	if (kr == NULL || !kr->have_sign_sk)
		return -1;
	sig_message(m, buf);
	if (crypto_sign_detached(sig, NULL, buf, sizeof(buf),
	    kr->sec->sign_sk) != 0)
		return -1;
	return 0;
}

int
msg_verify(const struct keyring *kr, const struct sig_meta *m,
    const unsigned char sig[SM_SIG_BYTES], struct sm_err *err)
{
	unsigned char buf[SIG_MSG_LEN];

	if (kr == NULL || !kr->have_sign_pk) {
		sm_err_set(err, "signing public key is not loaded");
		return -1;
	}
	sig_message(m, buf);
	if (crypto_sign_verify_detached(sig, buf, sizeof(buf),
	    kr->sign_pk) != 0) {
		sm_err_set(err, "message signature does not verify (metadata "
		    "or ciphertext changed, or signed with another key)");
		return -1;
	}
	return 0;
}

void
token_new(char text[SM_TOKEN_TEXT], unsigned char hash[SM_HASH_BYTES])
{
	unsigned char raw[SM_TOKEN_BYTES];

	randombytes_buf(raw, sizeof(raw));
	(void)sodium_bin2base64(text, SM_TOKEN_TEXT, raw, sizeof(raw),
	    sodium_base64_VARIANT_URLSAFE_NO_PADDING);
	(void)crypto_generichash(hash, SM_HASH_BYTES, raw, sizeof(raw), NULL, 0);
	sodium_memzero(raw, sizeof(raw));
}

int
token_hash(const char *text, size_t len, unsigned char hash[SM_HASH_BYTES])
{
	unsigned char raw[SM_TOKEN_BYTES];
	char again[SM_TOKEN_TEXT];
	const char *end = NULL;
	size_t i, got = 0;
	int rc = -1;

	if (text == NULL || len != SM_TOKEN_CHARS)
		return -1;
	for (i = 0; i < len; i++) {
		char c = text[i];

		if (!((c >= 'A' && c <= 'Z') || (c >= 'a' && c <= 'z') ||
		    (c >= '0' && c <= '9') || c == '-' || c == '_'))
			return -1;
	}
	if (sodium_base642bin(raw, sizeof(raw), text, len, NULL, &got, &end,
	    sodium_base64_VARIANT_URLSAFE_NO_PADDING) != 0 ||
	    got != sizeof(raw) || end != text + len)
		goto out;
	/* 43 characters carry 258 bits: only the spelling token_new writes
	 * is accepted, so one token never has two URLs. */
	if (sodium_bin2base64(again, sizeof(again), raw, sizeof(raw),
	    sodium_base64_VARIANT_URLSAFE_NO_PADDING) == NULL ||
	    memcmp(again, text, len) != 0)
		goto out;
	if (crypto_generichash(hash, SM_HASH_BYTES, raw, sizeof(raw), NULL,
	    0) != 0)
		goto out;
	rc = 0;
out:
	sodium_memzero(raw, sizeof(raw));
	sodium_memzero(again, sizeof(again));
	return rc;
}
