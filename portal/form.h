/* form.h - parsers for what a browser sends: urlencoded forms, cookies,
 * Accept-Language, Range.  Every one is bounded and strict: malformed
 * percent-encoding is an error, never passed through. */
#ifndef PORTAL_FORM_H
#define PORTAL_FORM_H

#include <stddef.h>
#include <stdint.h>

#define FORM_FIELDS_MAX 16
#define FORM_NAME_MAX 32
#define FORM_VALUE_MAX 1024

struct form_field {
	char name[FORM_NAME_MAX + 1];
	char value[FORM_VALUE_MAX + 1];
	size_t len;
};

struct form {
	struct form_field f[FORM_FIELDS_MAX];
	size_t n;
};

/* Decodes application/x-www-form-urlencoded.  -1 on bad percent-encoding,
 * a NUL byte, too many fields, a duplicate name or an overlong value. */
int form_parse(struct form *f, const char *p, size_t n);
/* The value of name, or NULL; *len gets its length. */
const char *form_get(const struct form *f, const char *name, size_t *len);

/* Copies the value of cookie name from a Cookie header into out.  1 found,
 * 0 not present, -1 when it does not fit. */
int cookie_get(const char *header, const char *name, char *out, size_t cap);

/* The first language of Accept-Language that is in supported (a
 * '|'-separated list such as "en|es"), or NULL. */
const char *lang_pick(const char *accept, const char *supported,
    char *out, size_t cap);

/* Parses a single "bytes=a-b", "bytes=a-" or "bytes=-n" range against a
 * resource of size bytes.  1 with [*start, *end] (inclusive) set, 0 when
 * the header should be ignored (several ranges, unknown unit), -1 when it
 * is unsatisfiable (416). */
int range_parse(const char *h, uint64_t size, uint64_t *start, uint64_t *end);

/* Makes a filename safe for a Content-Disposition and a listing: only the
 * last path component, no control, quote, backslash or slash bytes, no
 * leading dots, at most cap-1 bytes cut at a UTF-8 boundary; "download"
 * when nothing is left.  ascii gets the same with every non-ASCII byte
 * turned into '_' (the plain filename= for old clients). */
void filename_clean(const char *in, char *out, size_t cap, char *ascii,
    size_t acap);
/* RFC 5987 ext-value of s (UTF-8''...) into out; -1 when it does not fit. */
int filename_ext(const char *s, char *out, size_t cap);

#endif
