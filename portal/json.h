/* json.h - JSON responses of the API (jansson): a body, or an error
 * {"error": {"code": "...", "message": "..."}} with a stable code. */
#ifndef PORTAL_JSON_H
#define PORTAL_JSON_H

#include <jansson.h>

#include "http.h"

/* Sends o with status; takes o's reference (also on failure).  -1 when it
 * could not be serialised (a 500 is sent then). */
int jout_send(struct response *w, int status, json_t *o);
/* An error body; extra (may be NULL, reference taken) is merged into the
 * "error" object, e.g. a list of bad rows. */
int jout_error(struct response *w, int status, const char *code,
    const char *message, json_t *extra);

#endif
