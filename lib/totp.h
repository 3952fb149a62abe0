/* totp.h - RFC 6238 one-time codes for lab users (liboath), and the
 * sealing of their secrets for the database.  A secret is only ever stored
 * sealed under a key derived from the pepper, bound to the user's id. */
#ifndef SM_TOTP_H
#define SM_TOTP_H

#include <stddef.h>
#include <time.h>

#include "err.h"

struct keyring;

#define TOTP_SECRET_BYTES 20		/* 160 bits, as RFC 4226 recommends */
#define TOTP_DIGITS 6
#define TOTP_STEP 30
#define TOTP_SEALED_MAX 128		/* lab_users.totp_sealed */
#define TOTP_URI_MAX 512

/* The code for `now`; out has room for digits + 1.  digits 6..8. */
int totp_generate(const unsigned char *secret, size_t len, time_t now,
    unsigned digits, char *out);

/* 0 when code is right within +-window steps of now and its step is newer
 * than last_step (a code is never accepted twice); *step is then its step.
 * 1 when wrong or replayed, -1 on error.  The code's length sets the
 * digits (6..8). */
int totp_verify(const unsigned char *secret, size_t len, const char *code,
    time_t now, unsigned window, long long last_step, long long *step);

/* otpauth://totp/ISSUER:ACCOUNT?secret=BASE32&issuer=ISSUER&... */
int totp_uri(const unsigned char *secret, size_t len, const char *issuer,
    const char *account, char *out, size_t cap, struct sm_err *err);

/* XChaCha20-Poly1305 under BLAKE2b(pepper, "sealmail-totp-v1"), the user
 * id as associated data; out is nonce || ciphertext. */
int totp_seal(const struct keyring *kr, long long user_id,
    const unsigned char *secret, size_t len, unsigned char *out, size_t cap,
    size_t *outlen, struct sm_err *err);
int totp_open(const struct keyring *kr, long long user_id,
    const unsigned char *sealed, size_t n, unsigned char *secret,
    size_t cap, size_t *len, struct sm_err *err);

#endif
