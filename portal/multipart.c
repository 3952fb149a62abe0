/* multipart.c - multipart/form-data, strictly: every part must have a
 * form-data Content-Disposition with a name, the body must end with the
 * closing delimiter, and nothing is copied but the part names. */
#include <string.h>
#include <strings.h>

#include "multipart.h"

#define HEADERS_MAX 4096

static int
bchar_ok(int c)
{
	return (c >= '0' && c <= '9') || (c >= 'a' && c <= 'z') ||
	    (c >= 'A' && c <= 'Z') || strchr("'()+_,-./:=? ", c) != NULL;
}

int
multipart_boundary(const char *ct, char out[MP_BOUNDARY_MAX + 1])
{
	const char *b;
	size_t n = 0;

	if (ct == NULL || strncasecmp(ct, "multipart/form-data", 19) != 0)
		return -1;
	b = strcasestr(ct + 19, "boundary=");
	if (b == NULL)
		return -1;
	b += 9;
	if (*b == '"') {
		b++;
		while (b[n] != '\0' && b[n] != '"')
			n++;
		if (b[n] != '"')
			return -1;
	} else {
		while (b[n] != '\0' && b[n] != ';' && b[n] != ' ')
			n++;
	}
	if (n == 0 || n > MP_BOUNDARY_MAX || b[n - 1] == ' ')
		return -1;
	memcpy(out, b, n);
	out[n] = '\0';
	for (n = 0; out[n] != '\0'; n++)
		if (!bchar_ok((unsigned char)out[n]))
			return -1;
	return 0;
}

/* name="..." (or filename="...") in a Content-Disposition line. */
static int
disposition_param(const char *h, size_t n, const char *key, char *out,
    size_t cap, int *found)
{
	size_t klen = strlen(key), i, j;

	*found = 0;
	for (i = 0; i + klen + 2 <= n; i++) {
		if (strncasecmp(h + i, key, klen) != 0 || h[i + klen] != '=' ||
		    h[i + klen + 1] != '"')
			continue;
		/* "filename" also ends in "name": a match must start a word. */
		if (i > 0 && h[i - 1] != ' ' && h[i - 1] != ';')
			continue;
		i += klen + 2;
		for (j = 0; i + j < n && h[i + j] != '"'; j++)
			if (out != NULL && j + 1 >= cap)
				return -1;
		if (i + j >= n)
			return -1;
		if (out != NULL) {
			memcpy(out, h + i, j);
			out[j] = '\0';
		}
		*found = 1;
		return 0;
	}
	return 0;
}

static int
part_headers(const char *h, size_t n, struct mp_part *p)
{
	const char *line = h, *end = h + n, *eol;
	int have = 0, found;

	while (line < end) {
		size_t len;

		eol = memmem(line, (size_t)(end - line), "\r\n", 2);
		len = eol ? (size_t)(eol - line) : (size_t)(end - line);
		if (len > 20 && strncasecmp(line, "Content-Disposition:", 20) == 0) {
			const char *v = line + 20;
			size_t vn = len - 20;

			while (vn > 0 && *v == ' ') {
				v++;
				vn--;
			}
			if (vn < 9 || strncasecmp(v, "form-data", 9) != 0 || have)
				return -1;
			if (disposition_param(v, vn, "name", p->name,
			    sizeof(p->name), &found) == -1 || !found ||
			    p->name[0] == '\0')
				return -1;
			if (disposition_param(v, vn, "filename", NULL, 0,
			    &p->has_filename) == -1)
				return -1;
			have = 1;
		}
		line += len + 2;
	}
	return have ? 0 : -1;
}

int
multipart_parse(const char *body, size_t n, const char *boundary,
    struct mp_part *parts, size_t *nparts)
{
	char delim[MP_BOUNDARY_MAX + 5];
	size_t dlen, blen = strlen(boundary);
	const char *p = body, *end = body + n, *hend, *next;

	*nparts = 0;
	if (blen == 0 || blen > MP_BOUNDARY_MAX)
		return -1;
	/* "\r\n--boundary": the first one may lack the CRLF. */
	memcpy(delim, "\r\n--", 4);
	memcpy(delim + 4, boundary, blen);
	dlen = blen + 4;
	if (n < dlen - 2 || memcmp(p, delim + 2, dlen - 2) != 0)
		return -1;
	p += dlen - 2;
	for (;;) {
		struct mp_part *pt;

		if (end - p >= 2 && p[0] == '-' && p[1] == '-')
			return *nparts > 0 ? 0 : -1;
		if (end - p < 2 || p[0] != '\r' || p[1] != '\n')
			return -1;
		p += 2;
		if (*nparts >= MP_PARTS_MAX)
			return -1;
		hend = memmem(p, (size_t)(end - p) < HEADERS_MAX ?
		    (size_t)(end - p) : HEADERS_MAX, "\r\n\r\n", 4);
		if (hend == NULL)
			return -1;
		pt = &parts[*nparts];
		memset(pt, 0, sizeof(*pt));
		if (part_headers(p, (size_t)(hend - p), pt) == -1)
			return -1;
		p = hend + 4;
		/* A delimiter is a whole line: "\r\n--boundary" followed by
		 * CRLF or by the closing "--". */
		next = p;
		for (;;) {
			next = memmem(next, (size_t)(end - next), delim, dlen);
			if (next == NULL)
				return -1;
			if (end - (next + dlen) >= 2 &&
			    ((next[dlen] == '\r' && next[dlen + 1] == '\n') ||
			    (next[dlen] == '-' && next[dlen + 1] == '-')))
				break;
			next++;
		}
		pt->data = p;
		pt->len = (size_t)(next - p);
		(*nparts)++;
		p = next + dlen;
	}
}
