/* template.c - parse-once ClearSilver templates for notices (and pages).
 * ClearSilver keeps render state in the CSPARSE (locals, output callback)
 * and parses with a global node counter, so neither parsing nor rendering
 * one parse tree is safe from two threads: one process-wide mutex guards
 * both.  A render is tens of microseconds, far below a message's database
 * round trips, so the lock is not what limits throughput.  Each render gets
 * a fresh HDF, so a template's <?cs set ?> cannot leak into the next one. */
#include <errno.h>
#include <fcntl.h>
#include <pthread.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <unistd.h>

#include <ClearSilver.h>

#include "template.h"

struct template {
	CSPARSE *cs;
	HDF *hdf;		/* parse-time HDF: only Config.* */
	enum template_escape esc;
};

static pthread_mutex_t cs_lock = PTHREAD_MUTEX_INITIALIZER;

/* Turns a NEOERR into a sentence and frees it. */
static void
neo_fail(NEOERR *nerr, const char *what, struct sm_err *err)
{
	STRING s;

	string_init(&s);
	nerr_error_string(nerr, &s);
	sm_err_set(err, "%s: %s", what, s.buf ? s.buf : "unknown error");
	string_clear(&s);
	nerr_ignore(&nerr);
}

int
template_global_init(struct sm_err *err)
{
	NEOERR *nerr = nerr_init();

	if (nerr != STATUS_OK) {
		neo_fail(nerr, "clearsilver", err);
		return -1;
	}
	return 0;
}

/* Refuses <?cs include ?>: a notice template is one self-contained file. */
static NEOERR *
no_include(void *ctx, HDF *hdf, const char *filename, char **contents)
{
	(void)ctx;
	(void)hdf;
	(void)filename;
	*contents = NULL;
	return nerr_raise(NERR_ASSERT, "templates may not include other files");
}

static int
read_file(const char *path, char **out, size_t *outlen, struct sm_err *err)
{
	struct stat st;
	char *p = NULL;
	size_t got = 0;
	int fd, ret = -1;

	fd = open(path, O_RDONLY | O_CLOEXEC | O_NOFOLLOW);
	if (fd == -1) {
		sm_err_set(err, "%s: %s", path, strerror(errno));
		return -1;
	}
	if (fstat(fd, &st) == -1 || !S_ISREG(st.st_mode)) {
		sm_err_set(err, "%s: not a regular file", path);
		goto out;
	}
	if (st.st_size > TEMPLATE_FILE_MAX) {
		sm_err_set(err, "%s: larger than %d bytes", path, TEMPLATE_FILE_MAX);
		goto out;
	}
	p = malloc((size_t)st.st_size + 1);
	if (p == NULL) {
		sm_err_set(err, "out of memory");
		goto out;
	}
	while (got < (size_t)st.st_size) {
		ssize_t n = read(fd, p + got, (size_t)st.st_size - got);

		if (n == -1 && errno == EINTR)
			continue;
		if (n <= 0) {
			sm_err_set(err, "%s: short read", path);
			goto out;
		}
		got += (size_t)n;
	}
	p[got] = '\0';
	*out = p;
	*outlen = got;
	p = NULL;
	ret = 0;
out:
	free(p);
	close(fd);
	return ret;
}

static const char *
mode_name(enum template_escape esc)
{
	return esc == TEMPLATE_HTML ? "html" : "none";
}

int
template_load(struct template **out, const char *path,
    enum template_escape esc, struct sm_err *err)
{
	struct template *t;
	NEOERR *nerr;
	char *src = NULL;
	size_t len = 0;
	int locked = 0, ret = -1;

	t = calloc(1, sizeof(*t));
	if (t == NULL) {
		sm_err_set(err, "out of memory");
		return -1;
	}
	t->esc = esc;
	if (read_file(path, &src, &len, err) == -1)
		goto out;
	if (pthread_mutex_lock(&cs_lock) != 0) {
		sm_err_set(err, "template lock failed");
		goto out;
	}
	locked = 1;
	/* The escape mode is read by cs_init and applied while parsing. */
	if ((nerr = hdf_init(&t->hdf)) != STATUS_OK ||
	    (nerr = hdf_set_value(t->hdf, "Config.VarEscapeMode", mode_name(esc))) != STATUS_OK ||
	    (nerr = cs_init(&t->cs, t->hdf)) != STATUS_OK ||
	    (nerr = cgi_register_strfuncs(t->cs)) != STATUS_OK) {
		neo_fail(nerr, path, err);
		goto out;
	}
	cs_register_fileload(t->cs, NULL, no_include);
	nerr = cs_parse_string(t->cs, src, len);
	src = NULL;		/* owned by the parse tree from here, even on error */
	if (nerr != STATUS_OK) {
		neo_fail(nerr, path, err);
		goto out;
	}
	*out = t;
	t = NULL;
	ret = 0;
out:
	if (locked)
		pthread_mutex_unlock(&cs_lock);
	free(src);
	template_free(t);
	return ret;
}

/* Copies v with control bytes turned into spaces, bounded. */
static void
clean_value(const char *v, char *out, size_t cap)
{
	size_t i;

	for (i = 0; v[i] != '\0' && i + 1 < cap; i++) {
		unsigned char c = (unsigned char)v[i];

		out[i] = (c < 0x20 || c == 0x7f) ? ' ' : (char)c;
	}
	out[i] = '\0';
}

struct render_out {
	struct buf *b;
	int full;
};

static NEOERR *
emit(void *ctx, char *s)
{
	struct render_out *ro = ctx;

	if (buf_puts(ro->b, s) == -1) {
		ro->full = 1;
		return nerr_raise(NERR_NOMEM, "rendered template too large");
	}
	return STATUS_OK;
}

/* The values of one rendering, built once for several templates: a page's
 * header, body and footer, or a notice's text and HTML parts. */
struct template_data {
	HDF *hdf;
};

int
template_data_new(struct template_data **out, const struct template_var *vars,
    size_t nvars, struct sm_err *err)
{
	struct template_data *d = NULL;
	char *val = NULL;
	NEOERR *nerr;
	size_t i;
	int locked = 0, ret = -1;

	*out = NULL;
	d = calloc(1, sizeof(*d));
	val = malloc(TEMPLATE_VALUE_MAX);
	if (d == NULL || val == NULL) {
		sm_err_set(err, "out of memory");
		goto out;
	}
	if (pthread_mutex_lock(&cs_lock) != 0) {
		sm_err_set(err, "template lock failed");
		goto out;
	}
	locked = 1;
	if ((nerr = hdf_init(&d->hdf)) != STATUS_OK) {
		neo_fail(nerr, "template data", err);
		goto out;
	}
	for (i = 0; i < nvars; i++) {
		if (vars[i].value == NULL)
			continue;
		clean_value(vars[i].value, val, TEMPLATE_VALUE_MAX);
		if ((nerr = hdf_set_value(d->hdf, vars[i].name, val)) != STATUS_OK) {
			neo_fail(nerr, "template data", err);
			goto out;
		}
	}
	*out = d;
	d = NULL;
	ret = 0;
out:
	if (locked)
		pthread_mutex_unlock(&cs_lock);
	free(val);
	template_data_free(d);
	return ret;
}

void
template_data_free(struct template_data *d)
{
	if (d == NULL)
		return;
	pthread_mutex_lock(&cs_lock);
	hdf_destroy(&d->hdf);
	pthread_mutex_unlock(&cs_lock);
	free(d);
}

int
template_render_data(struct template *t, struct template_data *d,
    struct buf *out, struct sm_err *err)
{
	HDF *saved;
	NEOERR *nerr;
	struct render_out ro;
	size_t start = out->len;
	int ret = -1;

	if (pthread_mutex_lock(&cs_lock) != 0) {
		sm_err_set(err, "template lock failed");
		return -1;
	}
	/* The escape mode is the template's, set on every render, so data
	 * shared between a text and an HTML template cannot leak a mode. */
	if ((nerr = hdf_set_value(d->hdf, "Config.VarEscapeMode",
	    mode_name(t->esc))) != STATUS_OK) {
		neo_fail(nerr, "template data", err);
		goto out;
	}
	ro.b = out;
	ro.full = 0;
	/* The parse tree is rendered against this data only; CSPARSE.hdf is
	 * a public field and the lock makes the swap safe. */
	saved = t->cs->hdf;
	t->cs->hdf = d->hdf;
	nerr = cs_render(t->cs, &ro, emit);
	t->cs->hdf = saved;
	if (nerr != STATUS_OK) {
		neo_fail(nerr, ro.full ? "render" : "template render", err);
		goto out;
	}
	ret = 0;
out:
	pthread_mutex_unlock(&cs_lock);
	if (ret == -1) {
		/* Never hand back half a rendering. */
		out->len = start;
		if (out->p != NULL)
			out->p[start] = '\0';
	}
	return ret;
}

int
template_render(struct template *t, const struct template_var *vars,
    size_t nvars, struct buf *out, struct sm_err *err)
{
	struct template_data *d;
	int ret;

	if (template_data_new(&d, vars, nvars, err) == -1)
		return -1;
	ret = template_render_data(t, d, out, err);
	template_data_free(d);
	return ret;
}

void
template_free(struct template *t)
{
	if (t == NULL)
		return;
	pthread_mutex_lock(&cs_lock);
	cs_destroy(&t->cs);
	hdf_destroy(&t->hdf);
	pthread_mutex_unlock(&cs_lock);
	free(t);
}
