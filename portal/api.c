/* api.c - /api/v1/ dispatch: the key, the method, the path, and the
 * shared helpers.  It never shows why a key was refused (one 401 for
 * unknown, revoked and wrong keys) and never logs a key. */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <strings.h>

#include <sodium.h>

#include "apikey.h"
#include "config.h"
#include "api.h"
#include "api_messages.h"
#include "api_recipients.h"
#include "db.h"
#include "json.h"
#include "http.h"
#include "log.h"
#include "ratelimit.h"

int
api_body(struct api *a, struct buf *b, size_t max)
{
	if (a->r->content_length > 0 &&
	    (unsigned long long)a->r->content_length > max) {
		jout_error(a->w, 413, "too_large", "the body is larger than"
		    " this endpoint accepts", json_pack("{s:I}", "max_bytes",
		    (json_int_t)max));
		return -1;
	}
	if (a->r->content_length < 0) {
		jout_error(a->w, 400, "length_required", "a Content-Length is"
		    " required", NULL);
		return -1;
	}
	if (req_read_body(a->r, b, max) == -1) {
		jout_error(a->w, 400, "bad_body", "the body could not be read",
		    NULL);
		return -1;
	}
	return 0;
}

const char *
api_qstr(struct api *a, const char *name)
{
	size_t n;

	return form_get(&a->q, name, &n);
}

int
api_qint(struct api *a, const char *name, long long lo, long long hi,
    long long def, long long *out)
{
	const char *s = api_qstr(a, name);
	long long v = 0;
	size_t i;

	if (s == NULL) {
		*out = def;
		return 0;
	}
	for (i = 0; s[i] != '\0'; i++) {
		if (s[i] < '0' || s[i] > '9' || i >= 12)
			goto bad;
		v = v * 10 + (s[i] - '0');
	}
	if (i == 0 || v < lo || v > hi)
		goto bad;
	*out = v;
	return 0;
bad:
	{
		char msg[128];

		snprintf(msg, sizeof(msg), "%s must be a number from %lld to %lld",
		    name, lo, hi);
		jout_error(a->w, 400, "bad_parameter", msg, NULL);
	}
	return -1;
}

void
api_internal(struct api *a, const char *what, const struct sm_err *err)
{
	log_err("api_failed", "op=%s lab=%lld key=%lld reason=\"%s\"", what,
	    a->lab_id, a->key_id, err ? err->msg : "");
	portal_db_reset(a->p);
	jout_error(a->w, 503, "unavailable", "the service is unavailable;"
	    " try again later", NULL);
}

/* Counts the request against its key: 0 within the limit, else 429 or
 * 503 sent.  Per key, not per address: one lab's script running away must
 * not starve the portal, and a key is what the lab can see and revoke. */
static int
over_limit(struct api *a)
{
	unsigned char id[8];
	long long retry = 0, v = a->key_id;
	struct sm_err err;
	char secs[24];
	int i, rc;

	for (i = 7; i >= 0; i--, v >>= 8)
		id[i] = (unsigned char)(v & 0xff);
	rc = ratelimit_count(a->p, "api", id, sizeof(id),
	    config_int(a->p->cf, "portal.api_rate_limit"),
	    config_int(a->p->cf, "portal.api_rate_window"), &retry, &err);
	if (rc == -1) {
		api_internal(a, "rate limit", &err);
		return -1;
	}
	if (rc == 1) {
		log_warn("api_refused", "reason=rate_limit key=%lld", a->key_id);
		snprintf(secs, sizeof(secs), "%lld", retry);
		resp_header(a->w, "Retry-After", secs);
		jout_error(a->w, 429, "rate_limited", "too many requests for this"
		    " API key; retry later", NULL);
		return 1;
	}
	return 0;
}

/* 1 admitted, 0 refused (401 or 429 sent), -1 error (503 sent). */
static int
authenticate(struct api *a)
{
	const char *h = a->r->authorization;
	struct sm_err err;
	size_t n;
	int rc;

	if (h == NULL || strncasecmp(h, "Bearer ", 7) != 0)
		goto refuse;
	h += 7;
	while (*h == ' ')
		h++;
	n = strnlen(h, APIKEY_CHARS + 1);
	if (n == 0 || n > APIKEY_CHARS)
		goto refuse;
	rc = apikey_check(a->p->db, h, n, &a->lab_id, &a->key_id, &err);
	if (rc == -1) {
		api_internal(a, "auth", &err);
		return -1;
	}
	if (rc == 0)
		goto refuse;
	if ((rc = over_limit(a)) != 0)
		return rc == 1 ? 0 : -1;
	snprintf(a->by, sizeof(a->by), "apikey:%lld", a->key_id);
	a->who.by = a->by;
	a->who.client_addr = a->r->client_addr[0] ? a->r->client_addr : NULL;
	a->who.user_agent = a->r->user_agent[0] ? a->r->user_agent : NULL;
	return 1;
refuse:
	log_warn("api_refused", "reason=key");
	resp_header(a->w, "WWW-Authenticate", "Bearer realm=\"sealmail\"");
	jout_error(a->w, 401, "unauthorized", "a valid API key is required"
	    " (Authorization: Bearer smk_...)", NULL);
	return 0;
}

static void
method_not_allowed(struct api *a, const char *allow)
{
	resp_header(a->w, "Allow", allow);
	jout_error(a->w, 405, "method_not_allowed", "this method is not"
	    " allowed here", NULL);
}

static void
not_found(struct api *a)
{
	jout_error(a->w, 404, "not_found", "no such resource", NULL);
}

/* After authentication: path (below /api/v1) to handler. */
static void
route(struct api *a, const char *path)
{
	const char *m = a->r->method;
	const char *id, *slash;
	char idbuf[SM_ID_HEX];
	size_t idlen;
	long long n;

	if (strcmp(path, "/recipients") == 0) {
		if (strcmp(m, "PUT") != 0)
			{ method_not_allowed(a, "PUT"); return; }
		{ api_recipients_put(a); return; }
	}
	if (strcmp(path, "/messages") == 0) {
		if (strcmp(m, "GET") != 0)
			{ method_not_allowed(a, "GET"); return; }
		{ api_messages_list(a); return; }
	}
	if (strcmp(path, "/messages/retract") == 0) {
		if (strcmp(m, "POST") != 0)
			{ method_not_allowed(a, "POST"); return; }
		{ api_reference_retract(a); return; }
	}
	if (strncmp(path, "/messages/", 10) == 0) {
		id = path + 10;
		slash = strchr(id, '/');
		idlen = slash ? (size_t)(slash - id) : strlen(id);
		if (!path_msgid(id, idlen))
			{ not_found(a); return; }
		memcpy(idbuf, id, idlen);
		idbuf[idlen] = '\0';
		if (slash == NULL) {
			if (strcmp(m, "GET") != 0)
				{ method_not_allowed(a, "GET"); return; }
			{ api_message_get(a, idbuf); return; }
		}
		if (strcmp(slash, "/events") == 0) {
			if (strcmp(m, "GET") != 0)
				{ method_not_allowed(a, "GET"); return; }
			{ api_message_events(a, idbuf); return; }
		}
		if (strcmp(slash, "/retract") == 0 || strcmp(slash, "/expiry") == 0) {
			if (strcmp(m, "POST") != 0)
				{ method_not_allowed(a, "POST"); return; }
			if (slash[1] == 'r')
				{ api_message_retract(a, idbuf); return; }
			{ api_message_expiry(a, idbuf); return; }
		}
		{ not_found(a); return; }
	}
	if (strncmp(path, "/deliveries/", 12) == 0) {
		id = path + 12;
		slash = strchr(id, '/');
		if (slash == NULL || !path_number(id, (size_t)(slash - id), &n))
			{ not_found(a); return; }
		if (strcmp(slash, "/retract") != 0 && strcmp(slash, "/unlock") != 0)
			{ not_found(a); return; }
		if (strcmp(m, "POST") != 0)
			{ method_not_allowed(a, "POST"); return; }
		if (slash[1] == 'r')
			{ api_delivery_retract(a, n); return; }
		{ api_delivery_unlock(a, n); return; }
	}
	not_found(a);
}

void
api_dispatch(struct portal *p, struct request *r, struct response *w)
{
	struct api *a;
	struct sm_err err;

	a = calloc(1, sizeof(*a));
	if (a == NULL) {
		resp_status(w, 503);
		return;
	}
	a->p = p;
	a->r = r;
	a->w = w;
	if (r->path_too_long) {
		jout_error(w, 414, "uri_too_long", "the request target is too long",
		    NULL);
		goto out;
	}
	if (form_parse(&a->q, r->query, strlen(r->query)) == -1) {
		jout_error(w, 400, "bad_query", "the query string is malformed",
		    NULL);
		goto out;
	}
	if (portal_db(p, &err) == -1) {
		api_internal(a, "connect", &err);
		goto out;
	}
	if (authenticate(a) != 1)
		goto out;
	route(a, r->path + strlen("/api/v1"));
out:
	sodium_memzero(a, sizeof(*a));
	free(a);
}
