/* json.c - writing the API's JSON into a response.  Everything goes
 * through jansson; no JSON text is assembled by hand. */
#include <stdlib.h>
#include <string.h>

#include "json.h"

int
jout_send(struct response *w, int status, json_t *o)
{
	char *s = NULL;
	int rc = -1;

	if (o != NULL)
		s = json_dumps(o, JSON_COMPACT | JSON_ENSURE_ASCII);
	if (s == NULL || buf_puts(&w->body, s) == -1 ||
	    buf_puts(&w->body, "\n") == -1) {
		buf_reset(&w->body);
		resp_status(w, 500);
		buf_puts(&w->body, "{\"error\":{\"code\":\"internal\","
		    "\"message\":\"the response could not be built\"}}\n");
	} else {
		resp_status(w, status);
		rc = 0;
	}
	resp_header(w, "Content-Type", "application/json");
	free(s);
	json_decref(o);
	return rc;
}

int
jout_error(struct response *w, int status, const char *code,
    const char *message, json_t *extra)
{
	json_t *e;

	e = json_pack("{s:s, s:s}", "code", code, "message", message);
	if (e != NULL && extra != NULL && json_object_update(e, extra) == -1) {
		json_decref(e);
		e = NULL;
	}
	json_decref(extra);
	return jout_send(w, status, e ? json_pack("{s:o}", "error", e) : NULL);
}
