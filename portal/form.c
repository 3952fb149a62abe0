/* form.c - strict parsers for forms, cookies, Accept-Language, Range and
 * download filenames.  Each takes explicit lengths and fixed-size outputs;
 * anything malformed is refused rather than repaired (OpenDMARC's CVEs
 * were all in lenient hand-written parsers). */
#include <errno.h>
#include <stdlib.h>
#include <string.h>

#include "form.h"

static int
hexval(int c)
{
	if (c >= '0' && c <= '9')
		return c - '0';
	if (c >= 'a' && c <= 'f')
		return c - 'a' + 10;
	if (c >= 'A' && c <= 'F')
		return c - 'A' + 10;
	return -1;
}

/* Decodes p[0..n) into out (cap bytes with the NUL); -1 on bad input. */
static int
pct_decode(const char *p, size_t n, char *out, size_t cap, size_t *outlen)
{
	size_t i, o = 0;

	for (i = 0; i < n; i++) {
		int c = (unsigned char)p[i];

		if (c == '+')
			c = ' ';
		else if (c == '%') {
			int hi, lo;

			if (i + 2 >= n)
				return -1;
			hi = hexval((unsigned char)p[i + 1]);
			lo = hexval((unsigned char)p[i + 2]);
			if (hi < 0 || lo < 0)
				return -1;
			c = hi * 16 + lo;
			i += 2;
		}
		if (c == 0 || o + 1 >= cap)
			return -1;
		out[o++] = (char)c;
	}
	out[o] = '\0';
	*outlen = o;
	return 0;
}

int
form_parse(struct form *f, const char *p, size_t n)
{
	size_t pos = 0;

	memset(f, 0, sizeof(*f));
	while (pos < n) {
		const char *amp = memchr(p + pos, '&', n - pos);
		size_t end = amp ? (size_t)(amp - p) : n;
		const char *eq = memchr(p + pos, '=', end - pos);
		size_t nlen, vstart, nl;
		struct form_field *ff;

		if (end == pos) {	/* "a=1&&b=2": tolerated, as browsers never send it */
			pos++;
			continue;
		}
		if (f->n >= FORM_FIELDS_MAX)
			return -1;
		ff = &f->f[f->n];
		nlen = eq ? (size_t)(eq - (p + pos)) : end - pos;
		vstart = eq ? (size_t)(eq - p) + 1 : end;
		if (pct_decode(p + pos, nlen, ff->name, sizeof(ff->name), &nl) == -1 ||
		    nl == 0 || form_get(f, ff->name, NULL) != NULL)
			return -1;
		if (pct_decode(p + vstart, end - vstart, ff->value,
		    sizeof(ff->value), &ff->len) == -1)
			return -1;
		f->n++;
		pos = end + (amp ? 1 : 0);
	}
	return 0;
}

const char *
form_get(const struct form *f, const char *name, size_t *len)
{
	size_t i;

	for (i = 0; i < f->n; i++) {
		if (strcmp(f->f[i].name, name) == 0) {
			if (len != NULL)
				*len = f->f[i].len;
			return f->f[i].value;
		}
	}
	return NULL;
}

int
cookie_get(const char *header, const char *name, char *out, size_t cap)
{
	size_t nlen = strlen(name);
	const char *p = header;

	if (header == NULL)
		return 0;
	while (*p != '\0') {
		const char *end;
		size_t len;

		while (*p == ' ' || *p == ';')
			p++;
		end = strchr(p, ';');
		len = end ? (size_t)(end - p) : strlen(p);
		if (len > nlen && strncmp(p, name, nlen) == 0 && p[nlen] == '=') {
			size_t vlen = len - nlen - 1;

			while (vlen > 0 && p[nlen + 1 + vlen - 1] == ' ')
				vlen--;
			if (vlen + 1 > cap)
				return -1;
			memcpy(out, p + nlen + 1, vlen);
			out[vlen] = '\0';
			return 1;
		}
		p += len;
	}
	return 0;
}

static int
lang_supported(const char *supported, const char *tag, size_t n)
{
	const char *p = supported;

	while (*p != '\0') {
		const char *bar = strchr(p, '|');
		size_t len = bar ? (size_t)(bar - p) : strlen(p);

		if (len == n && strncasecmp(p, tag, n) == 0)
			return 1;
		p += len + (bar ? 1 : 0);
	}
	return 0;
}

const char *
lang_pick(const char *accept, const char *supported, char *out, size_t cap)
{
	const char *p = accept, *best = NULL;
	size_t bestlen = 0;
	double bestq = 0.0;

	if (accept == NULL)
		return NULL;
	while (*p != '\0') {
		const char *end = strchr(p, ','), *semi;
		size_t len = end ? (size_t)(end - p) : strlen(p), tl;
		double q = 1.0;

		while (len > 0 && *p == ' ') {
			p++;
			len--;
		}
		semi = memchr(p, ';', len);
		tl = semi ? (size_t)(semi - p) : len;
		while (tl > 0 && p[tl - 1] == ' ')
			tl--;
		if (semi != NULL) {
			const char *qs = semi + 1;

			while (*qs == ' ')
				qs++;
			if (strncmp(qs, "q=", 2) == 0) {
				char num[8];
				size_t ql = len - (size_t)(qs + 2 - p);
				char *e;

				if (ql >= sizeof(num))
					ql = sizeof(num) - 1;
				memcpy(num, qs + 2, ql);
				num[ql] = '\0';
				q = strtod(num, &e);
				if (e == num || q < 0.0 || q > 1.0)
					q = 0.0;
			}
		}
		/* "es-ES" counts as "es": the primary subtag decides. */
		{
			const char *dash = memchr(p, '-', tl);
			size_t pl = dash ? (size_t)(dash - p) : tl;

			if (q > bestq && pl > 0 && lang_supported(supported, p, pl)) {
				best = p;
				bestlen = pl;
				bestq = q;
			}
		}
		p += len + (end ? 1 : 0);
	}
	if (best == NULL || bestlen + 1 > cap)
		return NULL;
	for (size_t i = 0; i < bestlen; i++)
		out[i] = (char)((best[i] >= 'A' && best[i] <= 'Z') ? best[i] + 32 : best[i]);
	out[bestlen] = '\0';
	return out;
}

static int
parse_u64(const char *s, size_t n, uint64_t *out)
{
	uint64_t v = 0;
	size_t i;

	if (n == 0 || n > 19)
		return -1;
	for (i = 0; i < n; i++) {
		if (s[i] < '0' || s[i] > '9')
			return -1;
		v = v * 10 + (uint64_t)(s[i] - '0');
	}
	*out = v;
	return 0;
}

int
range_parse(const char *h, uint64_t size, uint64_t *start, uint64_t *end)
{
	const char *spec, *dash;
	size_t len;

	if (h == NULL || strncmp(h, "bytes=", 6) != 0)
		return 0;
	spec = h + 6;
	if (strchr(spec, ',') != NULL)
		return 0;	/* several ranges: send the whole, as RFC 9110 allows */
	len = strlen(spec);
	dash = memchr(spec, '-', len);
	if (dash == NULL)
		return 0;
	if (dash == spec) {
		uint64_t n;

		if (parse_u64(dash + 1, len - 1, &n) == -1)
			return 0;
		if (n == 0 || size == 0)
			return -1;
		*start = n >= size ? 0 : size - n;
		*end = size - 1;
		return 1;
	}
	if (parse_u64(spec, (size_t)(dash - spec), start) == -1)
		return 0;
	if (dash[1] == '\0')
		*end = size > 0 ? size - 1 : 0;
	else if (parse_u64(dash + 1, len - (size_t)(dash - spec) - 1, end) == -1)
		return 0;
	if (*start >= size)
		return -1;
	if (*end < *start)
		return 0;	/* syntactically invalid: ignored */
	if (*end >= size)
		*end = size - 1;
	return 1;
}

/* Length of the valid UTF-8 sequence at p (at most n), or 0. */
static size_t
utf8_len(const unsigned char *p, size_t n)
{
	size_t want, i;

	if (p[0] < 0x80)
		return 1;
	if (p[0] >= 0xc2 && p[0] <= 0xdf)
		want = 2;
	else if (p[0] >= 0xe0 && p[0] <= 0xef)
		want = 3;
	else if (p[0] >= 0xf0 && p[0] <= 0xf4)
		want = 4;
	else
		return 0;
	if (want > n)
		return 0;
	for (i = 1; i < want; i++)
		if ((p[i] & 0xc0) != 0x80)
			return 0;
	return want;
}

void
filename_clean(const char *in, char *out, size_t cap, char *ascii, size_t acap)
{
	const char *base = in, *s;
	size_t o = 0, a = 0, n;

	for (s = in; *s != '\0'; s++)
		if (*s == '/' || *s == '\\')
			base = s + 1;
	while (*base == '.' || *base == ' ')
		base++;
	n = strlen(base);
	for (s = base; *s != '\0' && o + 1 < cap;) {
		unsigned char c = (unsigned char)*s;
		size_t l = utf8_len((const unsigned char *)s, n - (size_t)(s - base));

		if (l == 0 || c < 0x20 || c == 0x7f || c == '"' || c == ';' ||
		    c == '%' || c == '<' || c == '>' || c == '`' || c == '*' ||
		    c == '?' || c == ':' || c == '|') {
			out[o++] = '_';
			if (ascii != NULL && a + 1 < acap)
				ascii[a++] = '_';
			s += l ? l : 1;
			continue;
		}
		if (o + l >= cap)
			break;
		memcpy(out + o, s, l);
		o += l;
		if (ascii != NULL && a + 1 < acap)
			ascii[a++] = l == 1 ? (char)c : '_';
		s += l;
	}
	while (o > 0 && (out[o - 1] == ' ' || out[o - 1] == '.'))
		o--;
	out[o] = '\0';
	if (ascii != NULL && acap > 0) {
		while (a > 0 && (ascii[a - 1] == ' ' || ascii[a - 1] == '.'))
			a--;
		ascii[a] = '\0';
	}
	if (o == 0 && cap > 8) {
		memcpy(out, "download", 9);
		if (ascii != NULL && acap > 8)
			memcpy(ascii, "download", 9);
	}
}

int
filename_ext(const char *s, char *out, size_t cap)
{
	static const char hex[] = "0123456789ABCDEF";
	size_t o;

	if (cap < 8)
		return -1;
	memcpy(out, "UTF-8''", 7);
	o = 7;
	for (; *s != '\0'; s++) {
		unsigned char c = (unsigned char)*s;
		/* attr-char of RFC 5987 */
		int plain = (c >= 'a' && c <= 'z') || (c >= 'A' && c <= 'Z') ||
		    (c >= '0' && c <= '9') || strchr("!#$&+-.^_`|~", c) != NULL;

		if (c == 0)
			break;
		if (plain) {
			if (o + 2 > cap)
				return -1;
			out[o++] = (char)c;
		} else {
			if (o + 4 > cap)
				return -1;
			out[o++] = '%';
			out[o++] = hex[c >> 4];
			out[o++] = hex[c & 15];
		}
	}
	out[o] = '\0';
	return 0;
}
