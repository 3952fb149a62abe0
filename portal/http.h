/* http.h - one FastCGI request and its response.
 * A response starts with the security headers every page needs; handlers
 * only add to it (a header, a cookie, a stricter policy) and it is written
 * exactly once, either whole (resp_send) or as headers followed by a
 * streamed body (resp_stream_begin, resp_stream_write). */
#ifndef PORTAL_HTTP_H
#define PORTAL_HTTP_H

#include <stddef.h>

#include <fcgiapp.h>

#include "buf.h"
#include "err.h"

#define HTTP_PATH_MAX 512	/* longer request paths are refused (414) */
#define HTTP_HEADERS_MAX 24
#define HTTP_HEADER_MAX 1024	/* bytes of one header line */
#define HTTP_BODY_MAX (4 * 1024 * 1024)	/* a rendered page, not a download */
#define HTTP_ADDR_MAX 64
#define HTTP_UA_MAX 256

struct request {
	FCGX_Request *fcgi;	/* NULL in unit tests */
	char method[8];
	char path[HTTP_PATH_MAX + 1];	/* raw, without the query */
	char query[HTTP_PATH_MAX + 1];
	int path_too_long;
	char client_addr[HTTP_ADDR_MAX + 1];
	char user_agent[HTTP_UA_MAX + 1];
	const char *cookie;		/* HTTP_COOKIE or NULL */
	const char *accept_language;	/* or NULL */
	const char *content_type;	/* or NULL */
	const char *range;		/* HTTP_RANGE or NULL */
	const char *authorization;	/* HTTP_AUTHORIZATION or NULL */
	long long content_length;	/* -1 when absent or malformed */
};

/* Which Content-Security-Policy a response carries.  Pages get the strict
 * one; an HTML part of a message gets a sandbox that nothing escapes, and
 * only it may be framed, by our own pages. */
enum csp {
	CSP_PAGE,
	CSP_SANDBOX,
};

struct response {
	struct request *req;
	int status;
	enum csp csp;
	char nonce[32];		/* for the one <style> block of a page */
	char hdr[HTTP_HEADERS_MAX][HTTP_HEADER_MAX];
	size_t nhdr;
	struct buf body;
	int written;		/* headers are out: nothing may be added */
	int failed;		/* an add was refused: send an error instead */
};

/* Fills r from the FastCGI parameters of f. */
void req_init(struct request *r, FCGX_Request *f);
/* Reads the whole body into b (at most max bytes): 0, or -1 when it is
 * larger than max, or shorter than announced. */
int req_read_body(struct request *r, struct buf *b, size_t max);

void resp_init(struct response *w, struct request *r);
void resp_free(struct response *w);
/* Back to what resp_init gave, for an error page after a handler had
 * begun a download's headers; nothing once headers are out. */
void resp_reset(struct response *w);
void resp_status(struct response *w, int status);
void resp_csp(struct response *w, enum csp csp);
/* Adds "name: value"; refuses (and marks the response failed) a value
 * with a control character or one that does not fit. */
int resp_header(struct response *w, const char *name, const char *value);
int resp_headerf(struct response *w, const char *name, const char *fmt, ...)
	__attribute__((format(printf, 3, 4)));
/* Writes status, headers and the buffered body: once. */
int resp_send(struct response *w);
/* Writes status and headers; the body follows through resp_stream_write. */
int resp_stream_begin(struct response *w);
int resp_stream_write(struct response *w, const void *p, size_t n);

const char *http_reason(int status);

/* Path segments of the admin pages and the API (not NUL-terminated). */
int path_msgid(const char *s, size_t n);
int path_number(const char *s, size_t n, long long *out);

#endif
