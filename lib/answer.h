/* answer.h - verification answers and passwords.
 * normalise -> keyed BLAKE2b with the pepper -> Argon2id string.
 * The same normalisation runs where answers are set (milter, CSV, API) and
 * where they are checked (portal), so "Smith-Jones " matches "smith jones". */
#ifndef SM_ANSWER_H
#define SM_ANSWER_H

#include <stddef.h>

#include <sodium.h>

#include "err.h"

#define SM_ANSWER_MAX 256		/* bytes of input accepted */
#define SM_ANSWER_HASH_TEXT crypto_pwhash_STRBYTES

struct keyring;

enum date_order { DATE_MDY, DATE_DMY };

struct answer_cost {
	unsigned long long ops;
	size_t mem_bytes;
	enum date_order date_order;
};

/* Trim, Unicode NFKC and case-fold, drop spaces, dots, commas, dashes and
 * slashes; a date in any usual form becomes YYYYMMDD.  -1 on invalid UTF-8,
 * empty result or input over SM_ANSWER_MAX. */
int answer_normalise(const char *in, size_t n, enum date_order order,
    char *out, size_t cap, size_t *outlen, struct sm_err *err);

int answer_hash(const struct keyring *kr, const struct answer_cost *cost,
    const char *answer, size_t n, char out[SM_ANSWER_HASH_TEXT],
    struct sm_err *err);
/* 0 when the answer matches, 1 when it does not, -1 on error. */
int answer_check(const struct keyring *kr, const struct answer_cost *cost,
    const char *stored, const char *answer, size_t n, struct sm_err *err);

#endif
