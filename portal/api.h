/* api.h - /api/v1/: JSON for a lab's own systems, authenticated by a
 * per-lab API key (Authorization: Bearer smk_...).  Every query is scoped
 * by the key's lab; another lab's id answers exactly like an unknown one.
 * URL map:
 *   PUT  /api/v1/recipients[?dry_run=1]      api_recipients.c
 *   GET  /api/v1/messages[?reference=&recipient=&page=&limit=]
 *   GET  /api/v1/messages/{id}
 *   GET  /api/v1/messages/{id}/events[?page=&limit=]
 *   POST /api/v1/messages/{id}/retract
 *   POST /api/v1/messages/{id}/expiry         {"expires": "30d"}
 *   POST /api/v1/deliveries/{id}/retract
 *   POST /api/v1/deliveries/{id}/unlock       api_messages.c */
#ifndef PORTAL_API_H
#define PORTAL_API_H

#include <stddef.h>

#include "buf.h"
#include "crypto.h"
#include "form.h"
#include "http.h"
#include "lifecycle.h"
#include "portal.h"

#define API_BODY_MAX (8 * 1024 * 1024)	/* a recipients upload */
#define API_SMALL_BODY_MAX 4096		/* everything else */

struct api {
	struct portal *p;
	struct request *r;
	struct response *w;
	long long lab_id;
	long long key_id;
	char by[32];		/* "apikey:<id>" for the event rows */
	struct actor who;
	struct form q;		/* the query string */
};

void api_dispatch(struct portal *p, struct request *r, struct response *w);

/* Shared by the handlers. */
/* Reads the body (at most max bytes) into b; on failure the error
 * response (413 or 400) is already set and -1 returned. */
int api_body(struct api *a, struct buf *b, size_t max);
/* A query parameter as a number in lo..hi, def when absent; -1 (and a
 * 400 sent) when malformed or out of range. */
int api_qint(struct api *a, const char *name, long long lo, long long hi,
    long long def, long long *out);
/* A query parameter or NULL. */
const char *api_qstr(struct api *a, const char *name);
/* 500 or 503 with the reason logged, never shown. */
void api_internal(struct api *a, const char *what, const struct sm_err *err);

#endif
