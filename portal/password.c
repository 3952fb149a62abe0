/* password.c - the strength check for passwords patients choose.  The
 * list is a read-only open-addressing hash set filled once in the parent
 * before the workers fork; it never holds a patient's password, and this
 * file never logs one. */
#include <ctype.h>
#include <errno.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include <sodium.h>

#include "answer.h"
#include "config.h"
#include "password.h"

#define LIST_MAX 200000		/* entries; the shipped list has ~20000 */
#define ENTRY_MAX 128		/* bytes of one entry */

static char **slots;		/* NULL or a lowercase entry */
static size_t nslots;		/* a power of two, at least twice the entries */

static uint64_t
fnv1a(const char *s, size_t n)
{
	uint64_t h = 1469598103934665603ULL;
	size_t i;

	for (i = 0; i < n; i++) {
		h ^= (unsigned char)tolower((unsigned char)s[i]);
		h *= 1099511628211ULL;
	}
	return h;
}

static int
same(const char *entry, const char *s, size_t n)
{
	size_t i;

	for (i = 0; i < n; i++)
		if (entry[i] == '\0' ||
		    entry[i] != (char)tolower((unsigned char)s[i]))
			return 0;
	return entry[n] == '\0';
}

static int
insert(const char *s, size_t n)
{
	size_t i = (size_t)fnv1a(s, n) & (nslots - 1), k;
	char *e;

	while (slots[i] != NULL) {
		if (same(slots[i], s, n))
			return 0;
		i = (i + 1) & (nslots - 1);
	}
	if ((e = malloc(n + 1)) == NULL)
		return -1;
	for (k = 0; k < n; k++)
		e[k] = (char)tolower((unsigned char)s[k]);
	e[n] = '\0';
	slots[i] = e;
	return 0;
}

int
password_list_load(const struct config *cf, struct sm_err *err)
{
	const char *conf = config_str(cf, "portal.common_passwords");
	char path[1100], line[ENTRY_MAX + 2];
	size_t count = 0, n;
	FILE *f = NULL;
	int ret = -1;

	password_list_free();
	if (conf[0] != '\0')
		n = (size_t)snprintf(path, sizeof(path), "%s", conf);
	else
		n = (size_t)snprintf(path, sizeof(path), "%s/common-passwords.txt",
		    config_str(cf, "portal.templates"));
	if (n >= sizeof(path)) {
		sm_err_set(err, "common passwords path too long");
		goto out;
	}
	if ((f = fopen(path, "re")) == NULL) {
		sm_err_set(err, "%s: %s", path, strerror(errno));
		goto out;
	}
	/* Count first so the table is sized once. */
	while (fgets(line, sizeof(line), f) != NULL)
		count++;
	if (count > LIST_MAX) {
		sm_err_set(err, "%s: more than %d lines", path, LIST_MAX);
		goto out;
	}
	for (nslots = 64; nslots < count * 2; nslots *= 2)
		;
	if ((slots = calloc(nslots, sizeof(*slots))) == NULL) {
		sm_err_set(err, "out of memory for the common passwords");
		goto out;
	}
	rewind(f);
	while (fgets(line, sizeof(line), f) != NULL) {
		n = strcspn(line, "\r\n");
		if (line[n] == '\0' && !feof(f)) {
			sm_err_set(err, "%s: a line longer than %d bytes", path, ENTRY_MAX);
			goto out;
		}
		if (n == 0 || line[0] == '#')
			continue;
		if (insert(line, n) == -1) {
			sm_err_set(err, "out of memory for the common passwords");
			goto out;
		}
	}
	if (ferror(f)) {
		sm_err_set(err, "%s: read error", path);
		goto out;
	}
	ret = 0;
out:
	if (f != NULL)
		fclose(f);
	if (ret == -1)
		password_list_free();
	return ret;
}

void
password_list_free(void)
{
	size_t i;

	for (i = 0; slots != NULL && i < nslots; i++)
		free(slots[i]);
	free(slots);
	slots = NULL;
	nslots = 0;
}

int
password_is_common(const char *s, size_t n)
{
	size_t i;

	if (slots == NULL || n > ENTRY_MAX)
		return 0;
	for (i = (size_t)fnv1a(s, n) & (nslots - 1); slots[i] != NULL;
	    i = (i + 1) & (nslots - 1))
		if (same(slots[i], s, n))
			return 1;
	return 0;
}

/* Characters, not bytes: a UTF-8 continuation byte does not count. */
static size_t
chars(const char *s, size_t n)
{
	size_t i, c = 0;

	for (i = 0; i < n; i++)
		c += ((unsigned char)s[i] & 0xC0) != 0x80;
	return c;
}

const char *
password_check(const struct config *cf, const char *pw, size_t n,
    const char *pw2, size_t n2)
{
	char norm[SM_ANSWER_MAX * 4];
	const char *bad = NULL;
	size_t nlen = 0;
	struct sm_err err;

	/* The normal verify path compares normalised answers (answer.h), so
	 * length and the list are judged on what is actually hashed:
	 * "Pass Word-123" counts as "password123". */
	if (pw == NULL || n == 0 || n > SM_ANSWER_MAX ||
	    answer_normalise(pw, n, DATE_MDY, norm, sizeof(norm), &nlen, &err) == -1)
		bad = "PasswordFormat";
	else if (chars(norm, nlen) < (size_t)config_int(cf, "portal.password_min"))
		bad = "PasswordShort";
	else if (password_is_common(norm, nlen) || password_is_common(pw, n))
		bad = "PasswordCommon";
	else if (pw2 == NULL || n2 != n || sodium_memcmp(pw, pw2, n) != 0)
		bad = "PasswordMismatch";
	sodium_memzero(norm, sizeof(norm));
	return bad;
}
