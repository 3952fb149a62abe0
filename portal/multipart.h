/* multipart.h - a strict reader of multipart/form-data (RFC 7578) over a
 * body already in memory and bounded by the caller.  Only what a browser
 * sends for a form: parts with Content-Disposition: form-data; name=...;
 * optional filename=...; no nesting. */
#ifndef PORTAL_MULTIPART_H
#define PORTAL_MULTIPART_H

#include <stddef.h>

#define MP_BOUNDARY_MAX 70	/* RFC 2046 */
#define MP_NAME_MAX 64
#define MP_PARTS_MAX 16

struct mp_part {
	char name[MP_NAME_MAX + 1];
	int has_filename;
	const char *data;	/* into the body; not NUL-terminated */
	size_t len;
};

/* The boundary parameter of a Content-Type of multipart/form-data; -1
 * when it is another type or the boundary is missing or malformed. */
int multipart_boundary(const char *content_type, char out[MP_BOUNDARY_MAX + 1]);
/* Splits body into at most MP_PARTS_MAX parts; -1 when malformed (no
 * closing delimiter, a part without a name, too many parts...). */
int multipart_parse(const char *body, size_t n, const char *boundary,
    struct mp_part *parts, size_t *nparts);

#endif
