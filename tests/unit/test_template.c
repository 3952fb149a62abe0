/* test_template.c - ClearSilver rendering as the milter uses it: HTML
 * templates escape every value whatever the template says, text templates
 * keep values raw but without control characters, renders do not leak into
 * each other, includes are refused, and concurrent renders are safe.  The
 * shipped notice templates are rendered with hostile values. */
#include <stdarg.h>
#include <stddef.h>
#include <setjmp.h>
#include <stdint.h>
#include <cmocka.h>

#include <pthread.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include "template.h"

static char tmpdir[] = "/tmp/test_template.XXXXXX";

/* ClearSilver 0.10.5 leaks 32 bytes when cs_parse_string fails (a refused
 * include, a syntax error): a once-per-bad-template cost in its code, not
 * ours.  Tell LeakSanitizer (sanitizer builds) so the rest stays checked. */
const char *__lsan_default_suppressions(void);
const char *
__lsan_default_suppressions(void)
{
	return "leak:cs_parse_string\n";
}

/* Without this LeakSanitizer writes its "Suppressions used" table to
 * ASAN_OPTIONS' log_path, and tests/run counts any file there as a report. */
const char *__lsan_default_options(void);
const char *
__lsan_default_options(void)
{
	return "print_suppressions=0";
}

static const char *
write_tpl(const char *name, const char *text)
{
	static char path[256];
	FILE *f;

	snprintf(path, sizeof(path), "%s/%s", tmpdir, name);
	f = fopen(path, "w");
	assert_non_null(f);
	assert_int_equal(fputs(text, f) >= 0, 1);
	assert_int_equal(fclose(f), 0);
	return path;
}

static const char *
srcdir(void)
{
	const char *s = getenv("top_srcdir");

	return s != NULL ? s : ".";
}

static char *
render1(struct template *t, const struct template_var *v, size_t n)
{
	struct buf b;
	struct sm_err err;
	char *s;

	buf_init(&b, 1 << 20);
	if (template_render(t, v, n, &b, &err) == -1)
		fail_msg("render: %s", err.msg);
	s = strdup(buf_cstr(&b));
	buf_free(&b);
	assert_non_null(s);
	return s;
}

static void
html_escapes_every_var(void **state)
{
	struct template *t;
	struct sm_err err;
	const struct template_var v[] = {
		{ "Lab.Name", "<b>Lab & \"Co\"</b>" },
		{ "Link", "https://x/m/a\"onmouseover=alert(1)" },
	};
	char *out;

	(void)state;
	assert_int_equal(template_load(&t, write_tpl("a.html.cs",
	    "<p><?cs var:Lab.Name ?></p><a href=\"<?cs var:Link ?>\">x</a>"),
	    TEMPLATE_HTML, &err), 0);
	out = render1(t, v, 2);
	assert_string_equal(out, "<p>&lt;b&gt;Lab &amp; &quot;Co&quot;&lt;/b&gt;</p>"
	    "<a href=\"https://x/m/a&quot;onmouseover=alert(1)\">x</a>");
	free(out);
	template_free(t);
}

static void
text_is_raw_without_control_characters(void **state)
{
	struct template *t;
	struct sm_err err;
	const struct template_var v[] = {
		{ "Lab.Name", "<Lab> & Co\r\nBcc: victim@example.org\x07" },
	};
	char *out;

	(void)state;
	assert_int_equal(template_load(&t, write_tpl("a.txt.cs",
	    "From <?cs var:Lab.Name ?>.\n"), TEMPLATE_RAW, &err), 0);
	out = render1(t, v, 1);
	assert_string_equal(out, "From <Lab> & Co  Bcc: victim@example.org .\n");
	free(out);
	template_free(t);
}

static void
renders_do_not_leak_into_each_other(void **state)
{
	struct template *t;
	struct sm_err err;
	const struct template_var with[] = { { "Reference", "REF-1" } };
	const struct template_var without[] = { { "Reference", NULL } };
	char *a, *b;

	(void)state;
	assert_int_equal(template_load(&t, write_tpl("b.txt.cs",
	    "<?cs if:Reference ?>ref=<?cs var:Reference ?><?cs /if ?>"
	    "<?cs if:Seen ?>leak<?cs /if ?><?cs set:Seen = 1 ?>"),
	    TEMPLATE_RAW, &err), 0);
	a = render1(t, with, 1);
	b = render1(t, without, 1);
	assert_string_equal(a, "ref=REF-1");
	assert_string_equal(b, "");
	free(a);
	free(b);
	template_free(t);
}

static void
include_is_refused(void **state)
{
	struct template *t = NULL;
	struct sm_err err;

	(void)state;
	write_tpl("secret.cs", "SECRET");
	assert_int_equal(template_load(&t, write_tpl("c.txt.cs",
	    "x<?cs include:\"/etc/passwd\" ?>"), TEMPLATE_RAW, &err), -1);
	assert_null(t);
}

static void
syntax_error_is_reported(void **state)
{
	struct template *t = NULL;
	struct sm_err err;

	(void)state;
	assert_int_equal(template_load(&t, write_tpl("d.txt.cs",
	    "<?cs if:x ?>unclosed"), TEMPLATE_RAW, &err), -1);
	assert_true(strlen(err.msg) > 0);
}

static void
output_cap_is_enforced(void **state)
{
	struct template *t;
	struct sm_err err;
	struct buf b;
	const struct template_var v[] = { { "Lab.Name", "0123456789" } };

	(void)state;
	assert_int_equal(template_load(&t, write_tpl("e.txt.cs",
	    "<?cs var:Lab.Name ?><?cs var:Lab.Name ?><?cs var:Lab.Name ?>"),
	    TEMPLATE_RAW, &err), 0);
	buf_init(&b, 25);
	assert_int_equal(template_render(t, v, 1, &b, &err), -1);
	assert_int_equal(b.len, 0);	/* never half a rendering */
	buf_free(&b);
	template_free(t);
}

/* The shipped templates, with every value hostile. */
static const struct template_var hostile[] = {
	{ "Lab.Name", "<script>alert('name')</script>" },
	{ "Lab.Contact", "\"><img src=x onerror=alert(1)>" },
	{ "Lab.Colour", "#1f5f8b" },
	{ "Link", "https://portal.example/m/TOKEN\"><script>x</script>" },
	{ "Expires", "1 January 2030" },
	{ "Reference", "</p><iframe src=//evil>" },
};

static void
shipped_html_notice_escapes_hostile_values(void **state)
{
	char path[1024];
	struct template *t;
	struct sm_err err;
	char *out;

	(void)state;
	snprintf(path, sizeof(path), "%s/milter/templates/notice.html.cs", srcdir());
	if (template_load(&t, path, TEMPLATE_HTML, &err) == -1)
		fail_msg("%s", err.msg);
	out = render1(t, hostile, sizeof(hostile) / sizeof(hostile[0]));
	assert_null(strstr(out, "<script"));
	assert_null(strstr(out, "<img src=x"));
	assert_null(strstr(out, "<iframe"));
	assert_non_null(strstr(out, "&lt;script&gt;alert(&#39;name&#39;)&lt;/script&gt;"));
	assert_non_null(strstr(out, "&lt;iframe src=//evil&gt;"));
	assert_non_null(strstr(out, "https://portal.example/m/TOKEN&quot;&gt;"));
	assert_non_null(strstr(out, "1 January 2030"));
	free(out);
	template_free(t);
}

static void
shipped_text_notice_has_link_and_reference(void **state)
{
	char path[1024];
	struct template *t;
	struct sm_err err;
	const struct template_var v[] = {
		{ "Lab.Name", "Lab" }, { "Link", "https://p/m/abc" },
		{ "Expires", "2 February 2030" }, { "Reference", "R-9" },
	};
	char *out;

	(void)state;
	snprintf(path, sizeof(path), "%s/milter/templates/notice.txt.cs", srcdir());
	if (template_load(&t, path, TEMPLATE_RAW, &err) == -1)
		fail_msg("%s", err.msg);
	out = render1(t, v, 4);
	assert_non_null(strstr(out, "\nhttps://p/m/abc\n"));
	assert_non_null(strstr(out, "until 2 February 2030."));
	assert_non_null(strstr(out, "Reference: R-9"));
	assert_null(strstr(out, "<?cs"));
	free(out);
	template_free(t);
}

struct worker {
	struct template *t;
	int id;
	int bad;
};

static void *
work(void *arg)
{
	struct worker *w = arg;
	char name[32], want[64];
	struct template_var v[1];
	struct sm_err err;
	struct buf b;
	int i;

	snprintf(name, sizeof(name), "lab-%d", w->id);
	snprintf(want, sizeof(want), "<p>lab-%d</p>", w->id);
	v[0].name = "Lab.Name";
	v[0].value = name;
	buf_init(&b, 4096);
	for (i = 0; i < 500; i++) {
		buf_reset(&b);
		if (template_render(w->t, v, 1, &b, &err) == -1 ||
		    strcmp(buf_cstr(&b), want) != 0)
			w->bad++;
	}
	buf_free(&b);
	return NULL;
}

static void
concurrent_renders_keep_their_own_values(void **state)
{
	struct worker w[4];
	pthread_t th[4];
	struct template *t;
	struct sm_err err;
	int i;

	(void)state;
	assert_int_equal(template_load(&t, write_tpl("f.html.cs",
	    "<p><?cs var:Lab.Name ?></p>"), TEMPLATE_HTML, &err), 0);
	for (i = 0; i < 4; i++) {
		w[i].t = t;
		w[i].id = i;
		w[i].bad = 0;
		assert_int_equal(pthread_create(&th[i], NULL, work, &w[i]), 0);
	}
	for (i = 0; i < 4; i++) {
		assert_int_equal(pthread_join(th[i], NULL), 0);
		assert_int_equal(w[i].bad, 0);
	}
	template_free(t);
}

static int
setup(void **state)
{
	struct sm_err err;

	(void)state;
	if (mkdtemp(tmpdir) == NULL)
		return -1;
	return template_global_init(&err);
}

static int
teardown(void **state)
{
	char cmd[64];
	const char *names[] = { "a.html.cs", "a.txt.cs", "b.txt.cs", "c.txt.cs",
	    "d.txt.cs", "e.txt.cs", "f.html.cs", "secret.cs" };
	size_t i;

	(void)state;
	for (i = 0; i < sizeof(names) / sizeof(names[0]); i++) {
		snprintf(cmd, sizeof(cmd), "%s/%s", tmpdir, names[i]);
		(void)unlink(cmd);
	}
	return rmdir(tmpdir);
}

int
main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test(html_escapes_every_var),
		cmocka_unit_test(text_is_raw_without_control_characters),
		cmocka_unit_test(renders_do_not_leak_into_each_other),
		cmocka_unit_test(include_is_refused),
		cmocka_unit_test(syntax_error_is_reported),
		cmocka_unit_test(output_cap_is_enforced),
		cmocka_unit_test(shipped_html_notice_escapes_hostile_values),
		cmocka_unit_test(shipped_text_notice_has_link_and_reference),
		cmocka_unit_test(concurrent_renders_keep_their_own_values),
	};

	return cmocka_run_group_tests_name("template", tests, setup, teardown);
}
