/* crypto.h - keys, chunk encryption, data-key sealing, signatures, tokens.
 * Everything here is libsodium.  A data key only ever leaves this module
 * sealed to the escrow public key; secret keys live in sodium_malloc'd,
 * locked memory and are wiped on free. */
#ifndef SM_CRYPTO_H
#define SM_CRYPTO_H

#include <stddef.h>
#include <stdint.h>

#include <sodium.h>

#include "err.h"

#define SM_ID_BYTES 16			/* message id */
#define SM_ID_HEX (SM_ID_BYTES * 2 + 1)	/* hex text with NUL */
#define SM_KEY_BYTES crypto_aead_xchacha20poly1305_ietf_KEYBYTES
#define SM_TAG_BYTES crypto_aead_xchacha20poly1305_ietf_ABYTES
#define SM_SEALED_KEY_BYTES (crypto_box_SEALBYTES + SM_ID_BYTES + SM_KEY_BYTES)
#define SM_SIG_BYTES crypto_sign_BYTES
#define SM_HASH_BYTES 32
#define SM_TOKEN_BYTES 32
#define SM_TOKEN_CHARS 43		/* base64url, no padding */
#define SM_TOKEN_TEXT (SM_TOKEN_CHARS + 1)
#define SM_PEPPER_BYTES 32
#define SM_AUDIT_KEY_BYTES crypto_generichash_KEYBYTES
#define SM_ESCROW_VERSIONS_MAX 64
#define SM_SMS_KEY_BYTES crypto_aead_xchacha20poly1305_ietf_KEYBYTES

/* Which keys a program needs from the key directory. */
enum key_need {
	KEY_ESCROW_PUBLIC = 1 << 0,	/* current version: sealing (milter) */
	KEY_ESCROW_SECRET = 1 << 1,	/* every version present: opening */
	KEY_SIGN_SECRET = 1 << 2,	/* signing sealed messages (milter) */
	KEY_SIGN_PUBLIC = 1 << 3,	/* checking signatures (portal, ctl) */
	KEY_PEPPER = 1 << 4,		/* answer and password hashing */
	KEY_AUDIT = 1 << 5,		/* MACs on the audit trail (event.h) */
	KEY_SMS = 1 << 6,		/* SMS texts waiting in the queue (sms.h) */
};

/* Key directory layout (one file per key, raw bytes):
 *   escrow-N.pub  escrow-N.key  sign.pub  sign.key  pepper  audit  sms
 * Secret files must be mode 0600 or stricter (config_secret_read). */
struct keyring;

int keyring_load(struct keyring **out, const char *dir, int escrow_version,
    unsigned need, struct sm_err *err);
void keyring_free(struct keyring *kr);
int keyring_escrow_version(const struct keyring *kr);
const unsigned char *keyring_pepper(const struct keyring *kr);
/* SM_AUDIT_KEY_BYTES, or NULL when KEY_AUDIT was not loaded. */
const unsigned char *keyring_audit_key(const struct keyring *kr);
/* SM_SMS_KEY_BYTES, or NULL when KEY_SMS was not loaded. */
const unsigned char *keyring_sms_key(const struct keyring *kr);

/* Creates the key files of `what` that do not exist yet (never overwrites):
 * for KEY_ESCROW_* the pair of the given version, for KEY_SIGN_* the
 * signing pair, KEY_PEPPER the pepper.  Secret files are written 0600. */
int keyring_generate(const char *dir, int escrow_version, unsigned what,
    struct sm_err *err);

/* A fresh random message id, and its hex form. */
void msgid_new(unsigned char id[SM_ID_BYTES]);
void msgid_hex(const unsigned char id[SM_ID_BYTES], char out[SM_ID_HEX]);
int msgid_parse(const char *hex, unsigned char id[SM_ID_BYTES]);

void datakey_new(unsigned char key[SM_KEY_BYTES]);

/* Encrypts chunk idx of message id.  The index, the final flag and the
 * message id are authenticated, so a chunk moved, dropped, reordered or
 * taken from another message fails to open.  ct has room for n + SM_TAG_BYTES. */
int chunk_seal(const unsigned char key[SM_KEY_BYTES],
    const unsigned char id[SM_ID_BYTES], uint64_t idx, int final,
    const unsigned char *pt, size_t n, unsigned char *ct);
/* pt has room for ctlen - SM_TAG_BYTES.  -1 with a clear reason on failure. */
int chunk_open(const unsigned char key[SM_KEY_BYTES],
    const unsigned char id[SM_ID_BYTES], uint64_t idx, int final,
    const unsigned char *ct, size_t ctlen, unsigned char *pt,
    struct sm_err *err);

/* Seals id||key to the current escrow public key. */
int datakey_seal(const struct keyring *kr, const unsigned char id[SM_ID_BYTES],
    const unsigned char key[SM_KEY_BYTES],
    unsigned char out[SM_SEALED_KEY_BYTES]);
/* Opens with the secret key of `version`; fails when the id inside differs. */
int datakey_open(const struct keyring *kr, int version,
    const unsigned char id[SM_ID_BYTES],
    const unsigned char sealed[SM_SEALED_KEY_BYTES],
    unsigned char key[SM_KEY_BYTES], struct sm_err *err);

/* What the signature covers.  taghash is BLAKE2b over the chunk tags in
 * order; each tag is the Poly1305 MAC of that chunk's ciphertext, so the
 * signature binds the whole ciphertext without hashing it a second time. */
struct sig_meta {
	unsigned char id[SM_ID_BYTES];
	uint64_t lab_id;
	int64_t created;
	uint64_t size;
	uint64_t nchunks;
	uint32_t chunk_size;
	unsigned char taghash[SM_HASH_BYTES];
};

/* Plain bytes, not crypto_generichash_state: that type demands 64-byte
 * alignment, which a malloc'd struct embedding it does not get (UBSan
 * aborts, and the compiler may emit aligned stores).  crypto.c works on an
 * aligned copy. */
struct taghash {
	unsigned char st[sizeof(crypto_generichash_state)];
};
void taghash_init(struct taghash *th);
void taghash_add(struct taghash *th, const unsigned char tag[SM_TAG_BYTES]);
void taghash_final(struct taghash *th, unsigned char out[SM_HASH_BYTES]);

int msg_sign(const struct keyring *kr, const struct sig_meta *m,
    unsigned char sig[SM_SIG_BYTES]);
int msg_verify(const struct keyring *kr, const struct sig_meta *m,
    const unsigned char sig[SM_SIG_BYTES], struct sm_err *err);

/* A new link token (text for the URL) and the hash the database keeps. */
void token_new(char text[SM_TOKEN_TEXT], unsigned char hash[SM_HASH_BYTES]);
/* Hashes a token from a URL; -1 unless it is exactly SM_TOKEN_CHARS
 * base64url characters decoding to SM_TOKEN_BYTES. */
int token_hash(const char *text, size_t len, unsigned char hash[SM_HASH_BYTES]);

#endif
