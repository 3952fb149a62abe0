/* test_portal_pages.c - every portal template rendered with hostile values
 * (lab name, contact, logo URL, question, subject, file names, text) gives
 * exactly the golden output in tests/unit/golden/, where every value is
 * escaped.  UPDATE_GOLDEN=1 rewrites the golden files after a deliberate
 * template change; review the diff before committing it. */
#include <stdarg.h>
#include <stddef.h>
#include <setjmp.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <unistd.h>

#include <cmocka.h>
#include <sodium.h>

#include "brand.h"
#include "http.h"
#include "page.h"
#include "portal.h"

#define EVIL "<script>alert(\"x\")</script>&'\"><img src=x onerror=alert(1)>"

static struct portal P;
static struct brand B;
static char topdir[1024];

static int
setup(void **state)
{
	struct sm_err err;
	char dir[1200];

	(void)state;
	snprintf(topdir, sizeof(topdir), "%s", getenv("top_srcdir") ? getenv("top_srcdir") : ".");
	snprintf(dir, sizeof(dir), "%s/portal/templates", topdir);
	if (template_global_init(&err) == -1 || pages_load(&P.pages, dir, &err) == -1) {
		fprintf(stderr, "%s\n", err.msg);
		return -1;
	}
	memset(&B, 0, sizeof(B));
	snprintf(B.name, sizeof(B.name), "Lab %s", EVIL);
	snprintf(B.contact, sizeof(B.contact), "call %s", EVIL);
	snprintf(B.logo_url, sizeof(B.logo_url), "https://x/\" onerror=\"alert(1)");
	snprintf(B.colour, sizeof(B.colour), "#123456");
	snprintf(B.template_set, sizeof(B.template_set), "default");
	return 0;
}

static int
teardown(void **state)
{
	(void)state;
	pages_free(P.pages);
	return 0;
}

/* Renders into w with a fixed nonce, so the output is reproducible. */
static void
render(struct response *w, struct request *r, enum page_name page,
    const char *kind, const struct page_vars *pv)
{
	memset(r, 0, sizeof(*r));
	resp_init(w, r);
	snprintf(w->nonce, sizeof(w->nonce), "%s", "NONCE");
	if (kind != NULL)
		assert_int_equal(page_notice(&P, w, 404, kind, "en", &B,
		    "/m/TOKEN", pv), 0);
	else
		assert_int_equal(page_render(&P, w, 200, page, "en", &B,
		    "/m/TOKEN", pv), 0);
}

static void
golden(const char *name, const struct buf *body)
{
	char path[1300];
	FILE *f;
	char *want;
	long n;

	snprintf(path, sizeof(path), "%s/tests/unit/golden/portal_%s.html", topdir, name);
	if (getenv("UPDATE_GOLDEN") != NULL) {
		f = fopen(path, "wb");
		assert_non_null(f);
		assert_int_equal(fwrite(body->p, 1, body->len, f), body->len);
		assert_int_equal(fclose(f), 0);
	}
	f = fopen(path, "rb");
	if (f == NULL)
		fail_msg("%s missing (UPDATE_GOLDEN=1 writes it)", path);
	assert_int_equal(fseek(f, 0, SEEK_END), 0);
	n = ftell(f);
	rewind(f);
	want = malloc((size_t)n + 1);
	assert_non_null(want);
	assert_int_equal(fread(want, 1, (size_t)n, f), (size_t)n);
	fclose(f);
	want[n] = '\0';
	if ((size_t)n != body->len || memcmp(want, body->p, body->len) != 0)
		fail_msg("%s: output differs from the golden file", name);
	free(want);
}

/* Whatever the golden files say, no hostile value may come through raw. */
static void
nothing_raw(const struct buf *body)
{
	const char *s = body->p;

	assert_null(strstr(s, "<script"));
	assert_null(strstr(s, "<img src=x"));
	assert_null(strstr(s, "\" onerror"));
	assert_non_null(strstr(s, "&lt;script&gt;"));
}

static void
pickup_escapes_every_value(void **state)
{
	struct page_vars pv;
	struct request r;
	struct response w;

	(void)state;
	page_vars_init(&pv);
	page_set(&pv, "Page.Csrf", "1.\"><script>");
	page_set(&pv, "Page.Method", "question");
	page_set(&pv, "Page.Question", "Year? " EVIL);
	page_set(&pv, "Page.Expires", "23 December 2026");
	page_set(&pv, "Page.Action", "/m/TOKEN?lang=en\"><script>");
	page_set(&pv, "Page.Error", "Wrong " EVIL);
	page_set(&pv, "Page.LockedUntil", "soon " EVIL);
	render(&w, &r, PAGE_PICKUP, NULL, &pv);
	nothing_raw(&w.body);
	golden("pickup", &w.body);
	resp_free(&w);
	page_vars_free(&pv);
}

static void
notices_escape_every_value(void **state)
{
	static const char *const kinds[] = { "unknown", "expired", "retracted",
	    "purged", "locked", "ratelimited", "register", "unavailable",
	    "error", "damaged", "badrequest", "toolarge", "notfound" };
	struct page_vars pv;
	struct request r;
	struct response w;
	size_t i;

	(void)state;
	for (i = 0; i < sizeof(kinds) / sizeof(kinds[0]); i++) {
		page_vars_init(&pv);
		page_set(&pv, "Page.LockedUntil", EVIL);
		render(&w, &r, PAGE_NOTICE, kinds[i], &pv);
		nothing_raw(&w.body);
		/* Every kind has its own title and text in the language file. */
		{
			char key[64];

			snprintf(key, sizeof(key), "Notice.%s.Title", kinds[i]);
			assert_true(page_text(P.pages, "en", key)[0] != '\0');
			assert_true(page_text(P.pages, "es", key)[0] != '\0');
			assert_non_null(strstr(w.body.p, page_text(P.pages, "en", key)));
		}
		if (strcmp(kinds[i], "locked") == 0)
			golden("notice_locked", &w.body);
		resp_free(&w);
		page_vars_free(&pv);
	}
}

static void
view_escapes_headers_text_and_names(void **state)
{
	struct page_vars pv;
	struct request r;
	struct response w;

	(void)state;
	page_vars_init(&pv);
	page_set(&pv, "Msg.From", "Lab " EVIL);
	page_set(&pv, "Msg.Date", "Mon " EVIL);
	page_set(&pv, "Msg.Subject", "Results " EVIL);
	page_set(&pv, "Msg.EmlUrl", "/m/TOKEN/eml?lang=en");
	page_set(&pv, "Msg.HasAttachments", "1");
	page_set(&pv, "Parts.0.Role", "text");
	page_set(&pv, "Parts.0.Lines.0", "first " EVIL);
	page_set(&pv, "Parts.0.Lines.0.Br", "1");
	page_set(&pv, "Parts.0.Lines.1", "second");
	page_set(&pv, "Parts.0.Lines.1.Br", "1");
	page_set(&pv, "Parts.0.Truncated", "1");
	page_set(&pv, "Parts.0.DownloadUrl", "/m/TOKEN/part/1?download=1");
	page_set(&pv, "Parts.1.Role", "html");
	page_set(&pv, "Parts.1.Url", "/m/TOKEN/part/2\"><script>");
	page_set(&pv, "Parts.1.DownloadUrl", "/m/TOKEN/part/2?download=1");
	page_set(&pv, "Parts.2.Role", "attachment");
	page_set(&pv, "Parts.2.Name", "report " EVIL ".pdf");
	page_set(&pv, "Parts.2.Size", "12 kB");
	page_set(&pv, "Parts.2.Url", "/m/TOKEN/part/3?lang=en");
	render(&w, &r, PAGE_VIEW, NULL, &pv);
	nothing_raw(&w.body);
	assert_non_null(strstr(w.body.p, "<iframe sandbox src="));
	golden("view", &w.body);
	resp_free(&w);
	page_vars_free(&pv);
}

/* Every admin template, every variable hostile: nothing comes out raw,
 * and values placed in URLs are URL-escaped as well. */
static void
admin_pages_escape_every_value(void **state)
{
	static const enum page_name pages[] = { PAGE_ADMIN_LOGIN,
	    PAGE_ADMIN_MESSAGES, PAGE_ADMIN_MESSAGE, PAGE_ADMIN_UPLOAD,
	    PAGE_ADMIN_NOTICE };
	static const char *const names[] = { "Admin.Csrf", "Admin.Login",
	    "Admin.Role", "Page.Title", "Page.Text", "Page.Error",
	    "Page.Reference", "Page.Done", "Filter.Reference",
	    "Filter.Recipient", "Filter.From", "Filter.To", "Pager.Page",
	    "Pager.Prev", "Pager.Next", "Rows.0.Id", "Rows.0.Reference",
	    "Rows.0.Sender", "Rows.0.Created", "Rows.0.Expires", "Rows.0.State",
	    "Rows.0.Opened", "Msg.Id", "Msg.Reference", "Msg.Sender",
	    "Msg.Created", "Msg.Expires", "Msg.State", "Deliveries.0.Id",
	    "Deliveries.0.Address", "Deliveries.0.Kind",
	    "Deliveries.0.FirstOpened", "Deliveries.0.Failed",
	    "Deliveries.0.LockedUntil", "Events.0.At", "Events.0.Kind",
	    "Events.0.Label", "Events.0.Recipient", "Events.0.Client",
	    "Events.0.Agent", "Events.0.Detail", "Result.Rows",
	    "Result.Errors", "Result.More", "Errors.0.Line", "Errors.0.Reason" };
	struct page_vars pv;
	struct request r;
	struct response w;
	size_t i, j;

	(void)state;
	for (i = 0; i < sizeof(pages) / sizeof(pages[0]); i++) {
		page_vars_init(&pv);
		for (j = 0; j < sizeof(names) / sizeof(names[0]); j++)
			page_set(&pv, names[j], EVIL);
		page_set(&pv, "Admin.CanChange", "1");
		page_set(&pv, "Msg.Active", "1");
		page_set(&pv, "Events.0.Automated", "1");
		render(&w, &r, pages[i], NULL, &pv);
		nothing_raw(&w.body);
		if (pages[i] == PAGE_ADMIN_MESSAGES)
			assert_non_null(strstr(w.body.p, "reference=%3Cscript%3E"));
		if (pages[i] == PAGE_ADMIN_MESSAGE)
			assert_non_null(strstr(w.body.p, "likely automated"));
		resp_free(&w);
		page_vars_free(&pv);
	}
}

static void
copy_file(const char *from, const char *to)
{
	char buf[8192];
	FILE *in = fopen(from, "rb"), *out = fopen(to, "wb");
	size_t n;

	assert_non_null(in);
	assert_non_null(out);
	while ((n = fread(buf, 1, sizeof(buf), in)) > 0)
		assert_int_equal(fwrite(buf, 1, n, out), n);
	fclose(in);
	assert_int_equal(fclose(out), 0);
}

static void
write_file(const char *path, const char *text)
{
	FILE *f = fopen(path, "wb");

	assert_non_null(f);
	assert_int_equal(fputs(text, f) >= 0, 1);
	assert_int_equal(fclose(f), 0);
}

/* A lab's template set overrides the files it has, and only for that
 * lab; the values it renders are escaped like everywhere else. */
static void
lab_template_set_overrides_its_files(void **state)
{
	static const char *const files[] = { "header.cs", "footer.cs",
	    "pickup.cs", "notice.cs", "view.cs", "admin_login.cs",
	    "admin_messages.cs", "admin_message.cs", "admin_upload.cs",
	    "admin_notice.cs", "lang/en.hdf", "lang/es.hdf" };
	char tmpl[] = "/tmp/test_portal_pages.XXXXXX", from[1400], to[1400];
	struct pages *saved = P.pages, *pg = NULL;
	struct sm_err err;
	struct request r;
	struct response w;
	size_t i;

	(void)state;
	assert_non_null(mkdtemp(tmpl));
	snprintf(to, sizeof(to), "%s/lang", tmpl);
	assert_int_equal(mkdir(to, 0755), 0);
	snprintf(to, sizeof(to), "%s/sets", tmpl);
	assert_int_equal(mkdir(to, 0755), 0);
	snprintf(to, sizeof(to), "%s/sets/special", tmpl);
	assert_int_equal(mkdir(to, 0755), 0);
	for (i = 0; i < sizeof(files) / sizeof(files[0]); i++) {
		snprintf(from, sizeof(from), "%s/portal/templates/%s", topdir, files[i]);
		snprintf(to, sizeof(to), "%s/%s", tmpl, files[i]);
		copy_file(from, to);
	}
	snprintf(to, sizeof(to), "%s/sets/special/notice.cs", tmpl);
	write_file(to, "<p>SPECIAL <?cs var:Lab.Name ?> <?cs var:Page.Title ?></p>\n");
	snprintf(to, sizeof(to), "%s/sets/special/lang", tmpl);
	assert_int_equal(mkdir(to, 0755), 0);
	snprintf(to, sizeof(to), "%s/sets/special/lang/en.hdf", tmpl);
	write_file(to, "Text.Notice.expired.Title = Old <results>\nText.Footer = Our footer\n");
	assert_int_equal(pages_load(&pg, tmpl, &err), 0);
	P.pages = pg;
	snprintf(B.template_set, sizeof(B.template_set), "special");
	render(&w, &r, PAGE_NOTICE, "expired", NULL);
	assert_non_null(strstr(w.body.p, "<p>SPECIAL Lab &lt;script&gt;"));
	assert_non_null(strstr(w.body.p, "<!DOCTYPE html>"));	/* our header */
	/* its own texts, escaped, over ours; ours where it has none */
	assert_non_null(strstr(w.body.p, " Old &lt;results&gt;</p>"));
	assert_non_null(strstr(w.body.p, "<p>Our footer</p>"));
	assert_non_null(strstr(w.body.p, "Skip to content"));
	resp_free(&w);
	snprintf(B.template_set, sizeof(B.template_set), "default");
	render(&w, &r, PAGE_NOTICE, "expired", NULL);
	assert_null(strstr(w.body.p, "SPECIAL"));
	assert_null(strstr(w.body.p, "Our footer"));
	resp_free(&w);
	P.pages = saved;
	pages_free(pg);
	for (i = 0; i < sizeof(files) / sizeof(files[0]); i++) {
		snprintf(to, sizeof(to), "%s/%s", tmpl, files[i]);
		unlink(to);
	}
	snprintf(to, sizeof(to), "%s/sets/special/notice.cs", tmpl);
	unlink(to);
	snprintf(to, sizeof(to), "%s/sets/special/lang/en.hdf", tmpl);
	unlink(to);
	snprintf(to, sizeof(to), "%s/sets/special/lang", tmpl);
	rmdir(to);
	snprintf(to, sizeof(to), "%s/sets/special", tmpl);
	rmdir(to);
	snprintf(to, sizeof(to), "%s/sets", tmpl);
	rmdir(to);
	snprintf(to, sizeof(to), "%s/lang", tmpl);
	rmdir(to);
	rmdir(tmpl);
}

static void
page_vars_hold_exactly_their_maximum(void **state)
{
	struct page_vars pv;
	size_t i;

	(void)state;
	page_vars_init(&pv);
	for (i = 0; i < PAGE_VARS_MAX; i++)
		if (page_setn(&pv, "x", "Parts.0.Lines.%zu", i) == -1)
			break;
	assert_int_equal(i, PAGE_VARS_MAX);
	assert_false(pv.failed);
	assert_int_equal(page_set(&pv, "One.Too.Many", "x"), -1);
	assert_true(pv.failed);
	page_vars_free(&pv);
}

static void
spanish_dates_and_texts(void **state)
{
	char out[128];

	(void)state;
	page_date(P.pages, "es", 1798070400, 0, out, sizeof(out));	/* 2026-12-24 */
	assert_string_equal(out, "24 de diciembre de 2026");
	page_date(P.pages, "en", 1798070400 + 3600 + 120, 1, out, sizeof(out));
	assert_string_equal(out, "24 December 2026, 01:02 UTC");
	assert_string_equal(page_lang("lang=es", "en"), "es");
	assert_string_equal(page_lang("x=1&lang=en", "es"), "en");
	assert_string_equal(page_lang("lang=fr", "es-MX,es;q=0.8"), "es");
	assert_string_equal(page_lang("lang=ES", NULL), "en");
	assert_string_equal(page_lang("", "de"), "en");
}

int
main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test(pickup_escapes_every_value),
		cmocka_unit_test(notices_escape_every_value),
		cmocka_unit_test(view_escapes_headers_text_and_names),
		cmocka_unit_test(admin_pages_escape_every_value),
		cmocka_unit_test(lab_template_set_overrides_its_files),
		cmocka_unit_test(page_vars_hold_exactly_their_maximum),
		cmocka_unit_test(spanish_dates_and_texts),
	};

	if (sodium_init() < 0)
		return 1;
	return cmocka_run_group_tests(tests, setup, teardown);
}
