/* answer.c - one normal form for verification answers, then a peppered
 * Argon2id hash.  An answer is a secret: it is wiped after use and never
 * appears in an error message, a log line or anything but the hash. */
#include <string.h>

#include <glib.h>

#include "answer.h"
#include "crypto.h"

/* NFKC and case folding can grow text (a ligature becomes several
 * letters); anything beyond this from SM_ANSWER_MAX bytes is refused. */
#define NORM_CAP (SM_ANSWER_MAX * 8 + 1)
#define ARGON2ID_PREFIX "$argon2id$"

static void
wipe_gfree(gchar *p)
{
	if (p == NULL)
		return;
	sodium_memzero(p, strlen(p));
	g_free(p);
}

/* Characters people type differently for the same answer.  Mail clients
 * and word processors turn '-' into dashes and '\'' into curly quotes, and
 * paste invisible format characters, so those go too. */
static int
dropped(gunichar c)
{
	switch (c) {
	case '.':
	case ',':
	case '-':
	case '/':
	case '\'':
	case 0x2018:		/* left single quotation mark */
	case 0x2019:		/* right single quotation mark (apostrophe) */
	case 0x2212:		/* minus sign */
		return 1;
	default:
		break;
	}
	if (g_unichar_isspace(c))
		return 1;
	switch (g_unichar_type(c)) {
	case G_UNICODE_DASH_PUNCTUATION:
	case G_UNICODE_FORMAT:
		return 1;
	default:
		return 0;
	}
}

/* A run of 1..max ASCII digits; its value and length. */
static size_t
digits(const char *s, size_t n, size_t max, unsigned *val)
{
	size_t i;

	*val = 0;
	for (i = 0; i < n && i < max + 1; i++) {
		if (s[i] < '0' || s[i] > '9')
			break;
		*val = *val * 10 + (unsigned)(s[i] - '0');
	}
	return i > max ? 0 : i;
}

static int
valid_date(unsigned y, unsigned m, unsigned d)
{
	static const unsigned mdays[12] = {
		31, 29, 31, 30, 31, 30, 31, 31, 30, 31, 30, 31
	};

	if (y < 1000 || y > 9999 || m < 1 || m > 12 || d < 1 ||
	    d > mdays[m - 1])
		return 0;
	if (m == 2 && d == 29 &&
	    !((y % 4 == 0 && y % 100 != 0) || y % 400 == 0))
		return 0;
	return 1;
}

/* "1990-03-04", "1990/3/4", "03/04/1990", "3.4.1990": three numbers and
 * one separator used twice.  The year is four digits, first or last; when
 * last, the lab's date order says which of the others is the month.
 * Anything else, including an impossible date, is left to be text. */
static int
parse_date(const char *s, size_t n, enum date_order order, char out[9])
{
	unsigned v[3], y, m, d;
	size_t len[3], off = 0;
	char sep = 0;
	int i;

	for (i = 0; i < 3; i++) {
		len[i] = digits(s + off, n - off, 4, &v[i]);
		if (len[i] == 0)
			return 0;
		off += len[i];
		if (i == 2)
			break;
		if (off >= n || (s[off] != '-' && s[off] != '/' &&
		    s[off] != '.') || (sep != 0 && s[off] != sep))
			return 0;
		sep = s[off++];
	}
	if (off != n)
		return 0;
	if (len[0] == 4 && len[1] <= 2 && len[2] <= 2) {
		y = v[0];
		m = v[1];
		d = v[2];
	} else if (len[0] <= 2 && len[1] <= 2 && len[2] == 4) {
		y = v[2];
		m = order == DATE_MDY ? v[0] : v[1];
		d = order == DATE_MDY ? v[1] : v[0];
	} else
		return 0;
	if (!valid_date(y, m, d))
		return 0;
	out[0] = (char)('0' + y / 1000);
	out[1] = (char)('0' + y / 100 % 10);
	out[2] = (char)('0' + y / 10 % 10);
	out[3] = (char)('0' + y % 10);
	out[4] = (char)('0' + m / 10);
	out[5] = (char)('0' + m % 10);
	out[6] = (char)('0' + d / 10);
	out[7] = (char)('0' + d % 10);
	out[8] = '\0';
	return 1;
}

int
answer_normalise(const char *in, size_t n, enum date_order order,
    char *out, size_t cap, size_t *outlen, struct sm_err *err)
{
	gchar *nfkc = NULL, *folded = NULL, *norm = NULL;
	const gchar *p, *start, *end;
	char date[9];
	size_t len = 0;
	int rc = -1;

	*outlen = 0;
	if (cap == 0) {
		sm_err_set(err, "answer_normalise: no room for the result");
		return -1;
	}
	out[0] = '\0';
	if (n > SM_ANSWER_MAX) {
		sm_err_set(err, "answer is longer than %d bytes", SM_ANSWER_MAX);
		return -1;
	}
	if (n > 0 && memchr(in, '\0', n) != NULL) {
		sm_err_set(err, "answer contains a NUL byte");
		return -1;
	}
	if (n > 0 && !g_utf8_validate(in, (gssize)n, NULL)) {
		sm_err_set(err, "answer is not valid UTF-8");
		return -1;
	}
	/* NFKC first, so full-width digits and no-break spaces become the
	 * ASCII the date and trim rules see; again after folding, because
	 * folding can leave text that is no longer in normal form. */
	nfkc = g_utf8_normalize(n > 0 ? in : "", (gssize)n, G_NORMALIZE_NFKC);
	if (nfkc == NULL)
		goto bad;
	folded = g_utf8_casefold(nfkc, -1);
	if (folded == NULL)
		goto bad;
	norm = g_utf8_normalize(folded, -1, G_NORMALIZE_NFKC);
	if (norm == NULL)
		goto bad;

	start = norm;
	end = norm + strlen(norm);
	while (start < end && g_unichar_isspace(g_utf8_get_char(start)))
		start = g_utf8_next_char(start);
	while (end > start) {
		const gchar *prev = g_utf8_prev_char(end);

		if (!g_unichar_isspace(g_utf8_get_char(prev)))
			break;
		end = prev;
	}
	if (parse_date(start, (size_t)(end - start), order, date)) {
		if (cap < sizeof(date))
			goto toolong;
		memcpy(out, date, sizeof(date));
		len = sizeof(date) - 1;
		rc = 0;
		goto out;
	}
	for (p = start; p < end; p = g_utf8_next_char(p)) {
		size_t clen = (size_t)(g_utf8_next_char(p) - p);

		if (dropped(g_utf8_get_char(p)))
			continue;
		if (clen >= cap - len)
			goto toolong;
		memcpy(out + len, p, clen);
		len += clen;
	}
	out[len] = '\0';
	if (len == 0) {
		sm_err_set(err, "answer is empty once spaces and punctuation "
		    "are removed");
		goto out;
	}
	rc = 0;
	goto out;
toolong:
	sm_err_set(err, "answer is too long once normalised");
	goto out;
bad:
	/* Validated above, so only memory can be short here. */
	sm_err_set(err, "answer could not be normalised (out of memory?)");
out:
	wipe_gfree(norm);
	wipe_gfree(folded);
	wipe_gfree(nfkc);
	sodium_memzero(date, sizeof(date));
	if (rc == 0)
		*outlen = len;
	else {
		sodium_memzero(out, cap);
		len = 0;
	}
	return rc;
}

/* normalise, then BLAKE2b keyed with the pepper: what Argon2id sees.  A
 * database copy without the key directory has nothing to guess against. */
static int
prehash(const struct keyring *kr, const struct answer_cost *cost,
    const char *answer, size_t n, unsigned char pre[crypto_generichash_BYTES],
    struct sm_err *err)
{
	const unsigned char *pepper;
	char norm[NORM_CAP];
	size_t len = 0;
	int rc = -1;

	pepper = kr != NULL ? keyring_pepper(kr) : NULL;
	if (pepper == NULL) {
		sm_err_set(err, "the pepper key is not loaded");
		return -1;
	}
	if (cost == NULL) {
		sm_err_set(err, "no answer hashing cost given");
		return -1;
	}
	if (answer_normalise(answer, n, cost->date_order, norm, sizeof(norm),
	    &len, err) == -1)
		goto out;
	if (crypto_generichash(pre, crypto_generichash_BYTES,
	    (const unsigned char *)norm, len, pepper, SM_PEPPER_BYTES) != 0) {
		sm_err_set(err, "answer pre-hash failed");
		goto out;
	}
	rc = 0;
out:
	sodium_memzero(norm, sizeof(norm));
	return rc;
}

int
answer_hash(const struct keyring *kr, const struct answer_cost *cost,
    const char *answer, size_t n, char out[SM_ANSWER_HASH_TEXT],
    struct sm_err *err)
{
	unsigned char pre[crypto_generichash_BYTES];
	int rc = -1;

	if (cost != NULL &&
	    (cost->ops < crypto_pwhash_argon2id_OPSLIMIT_MIN ||
	    cost->ops > crypto_pwhash_argon2id_OPSLIMIT_MAX ||
	    cost->mem_bytes < crypto_pwhash_argon2id_MEMLIMIT_MIN ||
	    cost->mem_bytes > crypto_pwhash_argon2id_MEMLIMIT_MAX)) {
		sm_err_set(err, "Argon2id cost out of range: ops %llu, "
		    "memory %zu bytes", cost->ops, cost->mem_bytes);
		return -1;
	}
	if (prehash(kr, cost, answer, n, pre, err) == -1)
		goto out;
	if (crypto_pwhash_str_alg(out, (const char *)pre, sizeof(pre),
	    cost->ops, cost->mem_bytes, crypto_pwhash_ALG_ARGON2ID13) != 0) {
		sm_err_set(err, "Argon2id hashing failed (out of memory for "
		    "%zu bytes?)", cost->mem_bytes);
		goto out;
	}
	rc = 0;
out:
	sodium_memzero(pre, sizeof(pre));
	return rc;
}

int
answer_check(const struct keyring *kr, const struct answer_cost *cost,
    const char *stored, const char *answer, size_t n, struct sm_err *err)
{
	unsigned char pre[crypto_generichash_BYTES];
	int rc = -1;

	/* Only a string answer_hash wrote: a damaged or foreign hash is an
	 * error to report, not a wrong answer to count against a patient. */
	if (stored == NULL ||
	    strnlen(stored, SM_ANSWER_HASH_TEXT) == SM_ANSWER_HASH_TEXT ||
	    strncmp(stored, ARGON2ID_PREFIX, sizeof(ARGON2ID_PREFIX) - 1) != 0) {
		sm_err_set(err, "stored answer hash is not an Argon2id string");
		return -1;
	}
	if (prehash(kr, cost, answer, n, pre, err) == -1)
		goto out;
	rc = crypto_pwhash_str_verify(stored, (const char *)pre,
	    sizeof(pre)) == 0 ? 0 : 1;
out:
	sodium_memzero(pre, sizeof(pre));
	return rc;
}
