/* http.c - the request a FastCGI server handed us and the one response we
 * write back.  The security headers are in place from resp_init on, so no
 * handler can forget them; a header with a control byte is refused, so no
 * value can split the response. */
#include <errno.h>
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include <sodium.h>

#include "crypto.h"
#include "http.h"

static const char *
param(FCGX_Request *f, const char *name)
{
	return f != NULL ? FCGX_GetParam(name, f->envp) : NULL;
}

static void
copy_bounded(char *out, size_t cap, const char *in)
{
	size_t n = in ? strlen(in) : 0;

	if (n >= cap)
		n = cap - 1;
	if (n > 0)
		memcpy(out, in, n);
	out[n] = '\0';
}

void
req_init(struct request *r, FCGX_Request *f)
{
	const char *uri, *q, *cl;
	size_t plen;

	memset(r, 0, sizeof(*r));
	r->fcgi = f;
	r->content_length = -1;
	copy_bounded(r->method, sizeof(r->method), param(f, "REQUEST_METHOD"));
	/* REQUEST_URI is the raw target: the token is matched byte for byte,
	 * never after a server's decoding or normalisation. */
	uri = param(f, "REQUEST_URI");
	if (uri == NULL)
		uri = "/";
	q = strchr(uri, '?');
	plen = q ? (size_t)(q - uri) : strlen(uri);
	if (plen > HTTP_PATH_MAX || (q && strlen(q + 1) > HTTP_PATH_MAX)) {
		r->path_too_long = 1;
	} else {
		memcpy(r->path, uri, plen);
		r->path[plen] = '\0';
		if (q != NULL)
			copy_bounded(r->query, sizeof(r->query), q + 1);
	}
	copy_bounded(r->client_addr, sizeof(r->client_addr), param(f, "REMOTE_ADDR"));
	copy_bounded(r->user_agent, sizeof(r->user_agent), param(f, "HTTP_USER_AGENT"));
	r->cookie = param(f, "HTTP_COOKIE");
	r->accept_language = param(f, "HTTP_ACCEPT_LANGUAGE");
	r->content_type = param(f, "CONTENT_TYPE");
	r->range = param(f, "HTTP_RANGE");
	r->authorization = param(f, "HTTP_AUTHORIZATION");
	cl = param(f, "CONTENT_LENGTH");
	if (cl != NULL && cl[0] != '\0') {
		char *end;
		long long v;

		errno = 0;
		v = strtoll(cl, &end, 10);
		if (errno == 0 && *end == '\0' && v >= 0 && cl[0] != '-' && cl[0] != '+')
			r->content_length = v;
	} else if (cl != NULL) {
		r->content_length = 0;
	}
}

int
req_read_body(struct request *r, struct buf *b, size_t max)
{
	char chunk[4096];
	long long left;

	if (r->content_length < 0 || (unsigned long long)r->content_length > max)
		return -1;
	if (r->fcgi == NULL)
		return r->content_length == 0 ? 0 : -1;
	left = r->content_length;
	while (left > 0) {
		int want = left > (long long)sizeof(chunk) ? (int)sizeof(chunk) : (int)left;
		int got = FCGX_GetStr(chunk, want, r->fcgi->in);

		if (got <= 0 || buf_append(b, chunk, (size_t)got) == -1)
			return -1;
		left -= got;
	}
	return 0;
}

const char *
http_reason(int status)
{
	switch (status) {
	case 200: return "OK";
	case 206: return "Partial Content";
	case 303: return "See Other";
	case 400: return "Bad Request";
	case 401: return "Unauthorized";
	case 403: return "Forbidden";
	case 404: return "Not Found";
	case 405: return "Method Not Allowed";
	case 409: return "Conflict";
	case 410: return "Gone";
	case 413: return "Content Too Large";
	case 414: return "URI Too Long";
	case 415: return "Unsupported Media Type";
	case 416: return "Range Not Satisfiable";
	case 422: return "Unprocessable Content";
	case 423: return "Locked";
	case 429: return "Too Many Requests";
	case 500: return "Internal Server Error";
	case 503: return "Service Unavailable";
	default: return "Unknown";
	}
}

void
resp_init(struct response *w, struct request *r)
{
	unsigned char raw[16];

	memset(w, 0, sizeof(*w));
	w->req = r;
	w->status = 200;
	w->csp = CSP_PAGE;
	buf_init(&w->body, HTTP_BODY_MAX);
	randombytes_buf(raw, sizeof(raw));
	sodium_bin2base64(w->nonce, sizeof(w->nonce), raw, sizeof(raw),
	    sodium_base64_VARIANT_URLSAFE_NO_PADDING);
	/* Tokens travel in URLs: no Referer may carry one elsewhere.  Every
	 * response may be personal, so none is stored by a cache. */
	resp_header(w, "Referrer-Policy", "no-referrer");
	resp_header(w, "Cache-Control", "no-store");
	resp_header(w, "Strict-Transport-Security", "max-age=31536000; includeSubDomains");
	resp_header(w, "X-Content-Type-Options", "nosniff");
	resp_header(w, "Cross-Origin-Opener-Policy", "same-origin");
	resp_header(w, "Cross-Origin-Resource-Policy", "same-origin");
	resp_header(w, "Permissions-Policy", "camera=(), microphone=(), geolocation=()");
}

void
resp_free(struct response *w)
{
	buf_free(&w->body);
}

void
resp_reset(struct response *w)
{
	struct request *r = w->req;

	if (w->written)
		return;
	resp_free(w);
	resp_init(w, r);
}

void
resp_status(struct response *w, int status)
{
	w->status = status;
}

void
resp_csp(struct response *w, enum csp csp)
{
	w->csp = csp;
}

int
resp_header(struct response *w, const char *name, const char *value)
{
	const char *s;
	int n;

	if (w->written || w->nhdr >= HTTP_HEADERS_MAX)
		goto refuse;
	for (s = value; *s != '\0'; s++)
		if ((unsigned char)*s < 0x20 || *s == 0x7f)
			goto refuse;
	n = snprintf(w->hdr[w->nhdr], HTTP_HEADER_MAX, "%s: %s\r\n", name, value);
	if (n < 0 || n >= HTTP_HEADER_MAX)
		goto refuse;
	w->nhdr++;
	return 0;
refuse:
	w->failed = 1;
	return -1;
}

int
resp_headerf(struct response *w, const char *name, const char *fmt, ...)
{
	char v[HTTP_HEADER_MAX];
	va_list ap;
	int n;

	va_start(ap, fmt);
	n = vsnprintf(v, sizeof(v), fmt, ap);
	va_end(ap);
	if (n < 0 || (size_t)n >= sizeof(v)) {
		w->failed = 1;
		return -1;
	}
	return resp_header(w, name, v);
}

static const char *
csp_text(const struct response *w, char *out, size_t cap)
{
	switch (w->csp) {
	case CSP_SANDBOX:
		/* An HTML part from the lab: no script, no form, no plugin,
		 * no request anywhere (remote images would tell a sender the
		 * message was read); only inline styles and embedded images. */
		snprintf(out, cap, "sandbox; default-src 'none'; "
		    "style-src 'unsafe-inline'; img-src data:; "
		    "frame-ancestors 'self'; base-uri 'none'; form-action 'none'");
		break;
	case CSP_PAGE:
	default:
		snprintf(out, cap, "default-src 'none'; "
		    "style-src 'self' 'nonce-%s'; img-src 'self' https: data:; "
		    "form-action 'self'; frame-src 'self'; frame-ancestors 'none'; "
		    "base-uri 'none'", w->nonce);
		break;
	}
	return out;
}

static int
out_write(struct response *w, const void *p, size_t n)
{
	const char *s = p;

	if (w->req->fcgi == NULL)
		return 0;
	while (n > 0) {
		int chunk = n > 65536 ? 65536 : (int)n;

		if (FCGX_PutStr(s, chunk, w->req->fcgi->out) != chunk)
			return -1;
		s += chunk;
		n -= (size_t)chunk;
	}
	return 0;
}

static int
write_head(struct response *w)
{
	char line[HTTP_HEADER_MAX], csp[512];
	size_t i;
	int n;

	if (w->written)
		return -1;
	w->written = 1;
	n = snprintf(line, sizeof(line), "Status: %d %s\r\n", w->status,
	    http_reason(w->status));
	if (n < 0 || out_write(w, line, (size_t)n) == -1)
		return -1;
	for (i = 0; i < w->nhdr; i++)
		if (out_write(w, w->hdr[i], strlen(w->hdr[i])) == -1)
			return -1;
	n = snprintf(line, sizeof(line), "Content-Security-Policy: %s\r\n",
	    csp_text(w, csp, sizeof(csp)));
	if (n < 0 || (size_t)n >= sizeof(line) || out_write(w, line, (size_t)n) == -1)
		return -1;
	/* Old browsers that ignore frame-ancestors. */
	{
		const char *xfo = w->csp == CSP_SANDBOX ?
		    "X-Frame-Options: SAMEORIGIN\r\n" : "X-Frame-Options: DENY\r\n";

		if (out_write(w, xfo, strlen(xfo)) == -1)
			return -1;
	}
	return 0;
}

int
resp_send(struct response *w)
{
	char line[64];
	int n;

	n = snprintf(line, sizeof(line), "%zu", w->body.len);
	if (n < 0 || resp_header(w, "Content-Length", line) == -1)
		return -1;
	if (write_head(w) == -1 || out_write(w, "\r\n", 2) == -1)
		return -1;
	if (w->body.len > 0 && out_write(w, w->body.p, w->body.len) == -1)
		return -1;
	return 0;
}

int
resp_stream_begin(struct response *w)
{
	if (write_head(w) == -1 || out_write(w, "\r\n", 2) == -1)
		return -1;
	return 0;
}

int
resp_stream_write(struct response *w, const void *p, size_t n)
{
	if (!w->written)
		return -1;
	return out_write(w, p, n);
}

/* A message id in a path: 32 lowercase hex digits, as stored. */
int
path_msgid(const char *s, size_t n)
{
	size_t i;

	if (n != SM_ID_HEX - 1)
		return 0;
	for (i = 0; i < n; i++)
		if (!((s[i] >= '0' && s[i] <= '9') || (s[i] >= 'a' && s[i] <= 'f')))
			return 0;
	return 1;
}

/* A positive decimal id in a path, at most 18 digits. */
int
path_number(const char *s, size_t n, long long *out)
{
	long long v = 0;
	size_t i;

	if (n == 0 || n > 18)
		return 0;
	for (i = 0; i < n; i++) {
		if (s[i] < '0' || s[i] > '9')
			return 0;
		v = v * 10 + (s[i] - '0');
	}
	*out = v;
	return v > 0;
}
