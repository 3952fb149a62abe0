/* admin_upload.c - GET/POST /admin/recipients: a CSV file sent as
 * multipart/form-data, bounded, checked by its CSRF field and the role,
 * then the one import path (import.c -> recipient_import.c): all or
 * nothing, every bad row shown by line, or only checked with dry_run.
 * Nothing of a row is logged; answers are never shown. */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "admin_upload.h"
#include "import.h"
#include "log.h"
#include "multipart.h"

void
admin_upload_form(struct admin *a)
{
	struct page_vars pv;

	page_vars_init(&pv);
	page_set(&pv, "Page.Title", "Recipients");
	admin_render(a, 200, PAGE_ADMIN_UPLOAD, &pv);
	page_vars_free(&pv);
}

static void
result(struct admin *a, int status, struct rimport *ri,
    const struct import_result *res, int dry)
{
	struct page_vars pv;
	const char *reason;
	char num[32];
	long long line;
	size_t i;

	page_vars_init(&pv);
	page_set(&pv, "Page.Title", "Recipients");
	snprintf(num, sizeof(num), "%zu", res->rows);
	page_set(&pv, "Result.Rows", num);
	if (dry)
		page_set(&pv, "Result.DryRun", "1");
	if (res->written) {
		snprintf(num, sizeof(num), "%zu", res->inserted);
		page_set(&pv, "Result.Inserted", num);
		snprintf(num, sizeof(num), "%zu", res->updated);
		page_set(&pv, "Result.Updated", num);
	}
	if (ri != NULL && rimport_nerrors(ri) > 0) {
		snprintf(num, sizeof(num), "%zu", rimport_nerrors(ri));
		page_set(&pv, "Result.Errors", num);
		for (i = 0; i < rimport_nkept(ri); i++) {
			line = import_error_split(rimport_error(ri, i), &reason);
			snprintf(num, sizeof(num), "%lld", line);
			page_setn(&pv, num, "Errors.%zu.Line", i);
			page_setn(&pv, reason, "Errors.%zu.Reason", i);
		}
		if (rimport_nerrors(ri) > rimport_nkept(ri)) {
			snprintf(num, sizeof(num), "%zu",
			    rimport_nerrors(ri) - rimport_nkept(ri));
			page_set(&pv, "Result.More", num);
		}
	}
	admin_render(a, status, PAGE_ADMIN_UPLOAD, &pv);
	page_vars_free(&pv);
}

void
admin_upload_post(struct admin *a)
{
	struct mp_part parts[MP_PARTS_MAX];
	char boundary[MP_BOUNDARY_MAX + 1];
	const struct mp_part *file = NULL, *csrf = NULL;
	struct import_result res;
	struct rimport *ri = NULL;
	struct sm_err err;
	struct buf body;
	size_t n = 0, i;
	int dry = 0, rc;

	memset(&res, 0, sizeof(res));
	buf_init(&body, ADMIN_UPLOAD_MAX);
	if (a->r->content_length > ADMIN_UPLOAD_MAX) {
		admin_notice(a, 413, "File too large", "A recipients file may"
		    " have at most 8 MB. Split it and upload the parts.");
		goto out;
	}
	if (multipart_boundary(a->r->content_type, boundary) == -1 ||
	    req_read_body(a->r, &body, body.max) == -1 ||
	    multipart_parse(body.p ? body.p : "", body.len, boundary, parts,
	    &n) == -1) {
		admin_notice(a, 400, "Bad request", "The upload could not be"
		    " read. Choose a CSV file and send the form again.");
		goto out;
	}
	for (i = 0; i < n; i++) {
		if (strcmp(parts[i].name, "csrf") == 0 && csrf == NULL)
			csrf = &parts[i];
		else if (strcmp(parts[i].name, "file") == 0 && file == NULL)
			file = &parts[i];
		else if (strcmp(parts[i].name, "dry_run") == 0)
			dry = parts[i].len == 1 && parts[i].data[0] == '1';
	}
	if (csrf == NULL || admin_csrf_check(a, csrf->data, csrf->len) == -1) {
		log_warn("admin_csrf_failed", "user=%lld", a->user_id);
		admin_notice(a, 403, "Form expired", "This form has expired or"
		    " did not come from this site. Go back, reload the page and"
		    " try again.");
		goto out;
	}
	if (!admin_may_change(a))
		goto out;
	if (file == NULL || file->len == 0) {
		admin_notice(a, 422, "No file", "Choose a CSV file to upload.");
		goto out;
	}
	if (rimport_new(&ri, IMPORT_THREADS, &err) == -1) {
		admin_unavailable(a, "import", &err);
		goto out;
	}
	(void)rimport_feed(ri, file->data, file->len);
	buf_free(&body);
	rc = import_run(a->p, ri, a->lab_id, dry, &res, &err);
	if (rc == -1) {
		admin_unavailable(a, "import", &err);
		goto out;
	}
	log_event("admin_upload", "user=%lld lab=%lld rows=%zu errors=%zu"
	    " dry_run=%d written=%d", a->user_id, a->lab_id, res.rows,
	    rimport_nerrors(ri), dry, res.written);
	result(a, rc == 0 ? 200 : 422, ri, &res, dry);
out:
	rimport_free(ri);
	buf_free(&body);
}
