/* api_recipients.c - PUT /api/v1/recipients: a JSON array of records or a
 * CSV body, through the one import path (import.c, recipient_import.c),
 * all or nothing.  Bad rows come back by line (CSV) or index (JSON) with
 * the reason; no answer ever reaches a response or a log. */
#include <stdio.h>
#include <string.h>
#include <strings.h>

#include <jansson.h>

#include "api_recipients.h"
#include "import.h"
#include "json.h"
#include "log.h"

#define API_RECORDS_MAX 100000

static int
ctype_is(const char *ct, const char *want)
{
	size_t n = strlen(want);

	return ct != NULL && strncasecmp(ct, want, n) == 0 &&
	    (ct[n] == '\0' || ct[n] == ';' || ct[n] == ' ');
}

/* A record's field: a string, null or absent.  -1 for any other type. */
static int
field(json_t *o, const char *name, const char **out)
{
	json_t *v = json_object_get(o, name);

	*out = NULL;
	if (v == NULL || json_is_null(v))
		return 0;
	if (!json_is_string(v))
		return -1;
	*out = json_string_value(v);
	/* A NUL inside would cut the value short unseen. */
	return strlen(*out) == json_string_length(v) ? 0 : -1;
}

static int
bad(json_t *errs, size_t i, const char *reason)
{
	return json_array_append_new(errs, json_pack("{s:I, s:s}", "index",
	    (json_int_t)i, "reason", reason));
}

/* Feeds the records of a JSON array; type errors are collected in errs
 * (the import is then not run).  -1 when the body is not a JSON array
 * or an empty one (400 or 422 sent). */
static int
feed_json(struct api *a, struct rimport *ri, const struct buf *b, json_t *errs)
{
	static const char *const keys[] = { "address", "kind", "question",
	    "answer", "recovery_email", "phone" };
	json_error_t je;
	json_t *arr, *o, *v;
	const char *k;
	size_t i, j;
	int rc = -1;

	arr = json_loadb(b->p ? b->p : "", b->len, JSON_REJECT_DUPLICATES, &je);
	if (arr == NULL) {
		char msg[128];

		snprintf(msg, sizeof(msg), "the body is not JSON (line %d,"
		    " column %d)", je.line, je.column);
		jout_error(a->w, 400, "not_json", msg, NULL);
		goto out;
	}
	if (!json_is_array(arr)) {
		jout_error(a->w, 400, "not_array", "the body must be a JSON array"
		    " of recipient objects", NULL);
		goto out;
	}
	if (json_array_size(arr) == 0) {
		jout_error(a->w, 422, "empty", "there is no recipient to import",
		    NULL);
		goto out;
	}
	if (json_array_size(arr) > API_RECORDS_MAX) {
		jout_error(a->w, 413, "too_many_records", "at most 100000"
		    " records in one request", NULL);
		goto out;
	}
	json_array_foreach(arr, i, o) {
		struct rimport_record rec;
		int typeok = 1;

		if (!json_is_object(o)) {
			bad(errs, i, "not an object");
			continue;
		}
		json_object_foreach(o, k, v) {
			for (j = 0; j < sizeof(keys) / sizeof(keys[0]); j++)
				if (strcmp(k, keys[j]) == 0)
					break;
			if (j == sizeof(keys) / sizeof(keys[0])) {
				bad(errs, i, "unknown field (allowed: address, kind,"
				    " question, answer, recovery_email, phone)");
				typeok = 0;
				break;
			}
		}
		if (typeok && (field(o, "address", &rec.address) == -1 ||
		    field(o, "kind", &rec.kind) == -1 ||
		    field(o, "question", &rec.question) == -1 ||
		    field(o, "answer", &rec.answer) == -1 ||
		    field(o, "recovery_email", &rec.recovery_email) == -1 ||
		    field(o, "phone", &rec.phone) == -1)) {
			bad(errs, i, "every field must be a string or null");
			typeok = 0;
		}
		if (!typeok || json_array_size(errs) > 0)
			continue;
		if (rimport_add(ri, (unsigned)i + 1, &rec) == -1)
			break;
	}
	rc = 0;
out:
	json_decref(arr);
	return rc;
}

/* The kept errors of the import as [{"line"|"index": n, "reason": s}]. */
static json_t *
row_errors(const struct rimport *ri, int json_body)
{
	json_t *errs = json_array();
	const char *reason;
	long long n;
	size_t i;

	if (errs == NULL)
		return NULL;
	for (i = 0; i < rimport_nkept(ri); i++) {
		n = import_error_split(rimport_error(ri, i), &reason);
		if (json_body)
			n = n > 0 ? n - 1 : 0;
		json_array_append_new(errs, json_pack("{s:I, s:s}",
		    json_body ? "index" : "line", (json_int_t)n, "reason", reason));
	}
	return errs;
}

void
api_recipients_put(struct api *a)
{
	struct rimport *ri = NULL;
	struct import_result res;
	struct sm_err err;
	struct buf b;
	json_t *errs = NULL;
	long long dry;
	int is_json, rc;
	char msg[128];

	buf_init(&b, API_BODY_MAX);
	if (api_qint(a, "dry_run", 0, 1, 0, &dry) == -1)
		goto out;
	is_json = ctype_is(a->r->content_type, "application/json");
	if (!is_json && !ctype_is(a->r->content_type, "text/csv")) {
		jout_error(a->w, 415, "unsupported_media_type", "send"
		    " application/json or text/csv", NULL);
		goto out;
	}
	if (api_body(a, &b, API_BODY_MAX) == -1)
		goto out;
	if (rimport_new(&ri, IMPORT_THREADS, &err) == -1) {
		api_internal(a, "import", &err);
		goto out;
	}
	if (is_json) {
		errs = json_array();
		if (errs == NULL) {
			api_internal(a, "import", NULL);
			goto out;
		}
		if (feed_json(a, ri, &b, errs) == -1)
			goto out;
		if (json_array_size(errs) > 0) {
			snprintf(msg, sizeof(msg), "%zu bad record(s); nothing"
			    " imported", json_array_size(errs));
			jout_error(a->w, 422, "invalid_rows", msg, json_pack("{s:O}",
			    "errors", errs));
			goto out;
		}
	} else {
		(void)rimport_feed(ri, b.p ? b.p : "", b.len);
	}
	buf_free(&b);
	rc = import_run(a->p, ri, a->lab_id, (int)dry, &res, &err);
	if (rc == -1) {
		api_internal(a, "import", &err);
		goto out;
	}
	if (rc == 2) {
		jout_error(a->w, 422, "empty", "there is no recipient to import",
		    NULL);
		goto out;
	}
	if (rc == 1) {
		snprintf(msg, sizeof(msg), "%zu bad row(s); nothing imported",
		    rimport_nerrors(ri));
		jout_error(a->w, 422, "invalid_rows", msg, json_pack("{s:o, s:I}",
		    "errors", row_errors(ri, is_json), "error_count",
		    (json_int_t)rimport_nerrors(ri)));
		goto out;
	}
	log_event("api_recipients", "lab=%lld key=%lld rows=%zu dry_run=%lld",
	    a->lab_id, a->key_id, res.rows, dry);
	jout_send(a->w, 200, json_pack("{s:I, s:I, s:I, s:b}", "rows",
	    (json_int_t)res.rows, "inserted", (json_int_t)res.inserted,
	    "updated", (json_int_t)res.updated, "dry_run", (int)dry));
out:
	json_decref(errs);
	rimport_free(ri);
	buf_free(&b);
}
