/* page.c - templates and language files, parsed once per worker.
 * Values reach a template only through lib/template.c, which forces the
 * html escape mode; nothing here builds HTML by hand except the last-resort
 * error page, which contains no outside value. */
#include <dirent.h>
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <time.h>

#include <ClearSilver.h>
#include <sodium.h>

#include "brand.h"
#include "form.h"
#include "http.h"
#include "log.h"
#include "page.h"
#include "portal.h"

#define SETS_MAX 32
#define LANG_TEXTS_MAX 200

static const char *const page_files[PAGE_COUNT] = {
	"header.cs", "footer.cs", "pickup.cs", "notice.cs", "view.cs",
	"admin_login.cs", "admin_messages.cs", "admin_message.cs",
	"admin_upload.cs", "admin_notice.cs",
};

static const char *const langs[] = { "en", "es" };
#define NLANGS (sizeof(langs) / sizeof(langs[0]))

struct lang {
	struct template_var v[LANG_TEXTS_MAX];
	size_t n;
};

struct page_set {
	char name[LAB_NAME_MAX + 1];
	struct template *t[PAGE_COUNT];	/* NULL: use the default set's */
	struct lang lang[NLANGS];	/* a lab's own texts, over ours */
};

struct pages {
	struct page_set set[SETS_MAX];
	size_t nsets;
	struct lang lang[NLANGS];
};

void
page_vars_init(struct page_vars *pv)
{
	memset(pv, 0, sizeof(*pv));
}

void
page_vars_free(struct page_vars *pv)
{
	size_t i;

	/* Values may be a patient's results: wiped, not only freed. */
	for (i = 0; i < pv->n; i++) {
		char *v = (char *)pv->v[i].value;

		sodium_memzero(v, strlen(v));
		free((char *)pv->v[i].name);
		free(v);
	}
	free(pv->v);
	memset(pv, 0, sizeof(*pv));
}

int
page_set(struct page_vars *pv, const char *name, const char *value)
{
	char *n = NULL, *v = NULL;

	if (pv->n == pv->cap) {
		size_t cap = pv->cap ? pv->cap * 2 : 64;
		struct template_var *nv;

		if (cap > PAGE_VARS_MAX)
			cap = PAGE_VARS_MAX;
		if (cap <= pv->n)
			goto fail;
		nv = realloc(pv->v, cap * sizeof(*nv));
		if (nv == NULL)
			goto fail;
		pv->v = nv;
		pv->cap = cap;
	}
	n = strdup(name);
	v = strdup(value);
	if (n == NULL || v == NULL)
		goto fail;
	pv->v[pv->n].name = n;
	pv->v[pv->n].value = v;
	pv->n++;
	return 0;
fail:
	free(n);
	free(v);
	pv->failed = 1;
	return -1;
}

int
page_setf(struct page_vars *pv, const char *name, const char *fmt, ...)
{
	char v[2048];
	va_list ap;
	int n;

	va_start(ap, fmt);
	n = vsnprintf(v, sizeof(v), fmt, ap);
	va_end(ap);
	if (n < 0 || (size_t)n >= sizeof(v)) {
		pv->failed = 1;
		return -1;
	}
	return page_set(pv, name, v);
}

int
page_setn(struct page_vars *pv, const char *value, const char *namefmt, ...)
{
	char name[128];
	va_list ap;
	int n;

	va_start(ap, namefmt);
	n = vsnprintf(name, sizeof(name), namefmt, ap);
	va_end(ap);
	if (n < 0 || (size_t)n >= sizeof(name)) {
		pv->failed = 1;
		return -1;
	}
	return page_set(pv, name, value);
}

/* Flattens an HDF tree into name=value pairs ("Text.Pickup.Title"). */
static int
lang_walk(struct lang *l, HDF *node, const char *prefix, struct sm_err *err)
{
	HDF *c;

	for (c = hdf_obj_child(node); c != NULL; c = hdf_obj_next(c)) {
		char name[256];
		const char *v = hdf_obj_value(c);
		int n = snprintf(name, sizeof(name), "%s%s%s", prefix,
		    prefix[0] ? "." : "", hdf_obj_name(c));

		if (n < 0 || (size_t)n >= sizeof(name)) {
			sm_err_set(err, "language key too long");
			return -1;
		}
		if (v != NULL) {
			if (l->n >= LANG_TEXTS_MAX) {
				sm_err_set(err, "too many language texts");
				return -1;
			}
			l->v[l->n].name = strdup(name);
			l->v[l->n].value = strdup(v);
			if (l->v[l->n].name == NULL || l->v[l->n].value == NULL) {
				free((char *)l->v[l->n].name);
				free((char *)l->v[l->n].value);
				sm_err_set(err, "out of memory");
				return -1;
			}
			l->n++;
		}
		if (hdf_obj_child(c) != NULL && lang_walk(l, c, name, err) == -1)
			return -1;
	}
	return 0;
}

static int
lang_load(struct lang *l, const char *path, struct sm_err *err)
{
	HDF *hdf = NULL;
	NEOERR *nerr;
	int ret = -1;

	if ((nerr = hdf_init(&hdf)) != STATUS_OK ||
	    (nerr = hdf_read_file(hdf, path)) != STATUS_OK) {
		nerr_ignore(&nerr);
		sm_err_set(err, "%s: cannot read or parse", path);
		goto out;
	}
	ret = lang_walk(l, hdf, "", err);
out:
	hdf_destroy(&hdf);
	return ret;
}

static int
set_load(struct page_set *s, const char *dir, int required, struct sm_err *err)
{
	char path[1200];
	struct stat st;
	size_t i;

	/* A lab's set may also change any text, in lang/<code>.hdf. */
	for (i = 0; !required && i < NLANGS; i++) {
		int n = snprintf(path, sizeof(path), "%s/lang/%s.hdf", dir, langs[i]);

		if (n < 0 || (size_t)n >= sizeof(path)) {
			sm_err_set(err, "%s: path too long", dir);
			return -1;
		}
		if (stat(path, &st) == 0 && lang_load(&s->lang[i], path, err) == -1)
			return -1;
	}
	for (i = 0; i < PAGE_COUNT; i++) {
		int n = snprintf(path, sizeof(path), "%s/%s", dir, page_files[i]);

		if (n < 0 || (size_t)n >= sizeof(path)) {
			sm_err_set(err, "%s: path too long", dir);
			return -1;
		}
		if (!required && stat(path, &st) == -1)
			continue;
		if (template_load(&s->t[i], path, TEMPLATE_HTML, err) == -1)
			return -1;
	}
	return 0;
}

static int
name_ok(const char *s)
{
	size_t i;

	for (i = 0; s[i] != '\0'; i++)
		if (!((s[i] >= 'a' && s[i] <= 'z') || (s[i] >= '0' && s[i] <= '9') ||
		    s[i] == '_' || s[i] == '-'))
			return 0;
	return i > 0 && i <= LAB_NAME_MAX;
}

int
pages_load(struct pages **out, const char *dir, struct sm_err *err)
{
	struct pages *pg;
	char path[1200];
	DIR *d = NULL;
	struct dirent *de;
	size_t i;
	int n, ret = -1;

	pg = calloc(1, sizeof(*pg));
	if (pg == NULL) {
		sm_err_set(err, "out of memory");
		return -1;
	}
	snprintf(pg->set[0].name, sizeof(pg->set[0].name), "%s", "default");
	pg->nsets = 1;
	if (set_load(&pg->set[0], dir, 1, err) == -1)
		goto out;
	for (i = 0; i < NLANGS; i++) {
		n = snprintf(path, sizeof(path), "%s/lang/%s.hdf", dir, langs[i]);
		if (n < 0 || (size_t)n >= sizeof(path) ||
		    lang_load(&pg->lang[i], path, err) == -1)
			goto out;
	}
	/* A lab's own set overrides any of the files; the rest are ours. */
	n = snprintf(path, sizeof(path), "%s/sets", dir);
	if (n < 0 || (size_t)n >= sizeof(path))
		goto out;
	d = opendir(path);
	while (d != NULL && (de = readdir(d)) != NULL) {
		char sub[1300];

		if (!name_ok(de->d_name) || strcmp(de->d_name, "default") == 0)
			continue;
		if (pg->nsets >= SETS_MAX) {
			sm_err_set(err, "%s: more than %d template sets", path, SETS_MAX);
			goto out;
		}
		n = snprintf(sub, sizeof(sub), "%s/%s", path, de->d_name);
		if (n < 0 || (size_t)n >= sizeof(sub))
			continue;
		/* name_ok bounded it to LAB_NAME_MAX */
		memcpy(pg->set[pg->nsets].name, de->d_name, strlen(de->d_name) + 1);
		if (set_load(&pg->set[pg->nsets], sub, 0, err) == -1)
			goto out;
		pg->nsets++;
	}
	*out = pg;
	pg = NULL;
	ret = 0;
out:
	if (d != NULL)
		closedir(d);
	pages_free(pg);
	return ret;
}

void
pages_free(struct pages *pg)
{
	size_t i, j;

	if (pg == NULL)
		return;
	for (i = 0; i < SETS_MAX; i++) {
		size_t k;

		for (j = 0; j < PAGE_COUNT; j++)
			template_free(pg->set[i].t[j]);
		for (k = 0; k < NLANGS; k++) {
			for (j = 0; j < pg->set[i].lang[k].n; j++) {
				free((char *)pg->set[i].lang[k].v[j].name);
				free((char *)pg->set[i].lang[k].v[j].value);
			}
		}
	}
	for (i = 0; i < NLANGS; i++) {
		for (j = 0; j < pg->lang[i].n; j++) {
			free((char *)pg->lang[i].v[j].name);
			free((char *)pg->lang[i].v[j].value);
		}
	}
	free(pg);
}

static size_t
lang_index(const char *lang)
{
	size_t i;

	for (i = 0; i < NLANGS; i++)
		if (strcmp(langs[i], lang) == 0)
			return i;
	return 0;
}

const char *
page_lang(const char *query, const char *accept_language)
{
	char pick[8];
	const char *p = query;
	size_t i;

	/* ?lang=xx anywhere in the query: the switch on every page. */
	while (p != NULL && *p != '\0') {
		if (strncmp(p, "lang=", 5) == 0) {
			for (i = 0; i < NLANGS; i++) {
				size_t l = strlen(langs[i]);

				if (strncmp(p + 5, langs[i], l) == 0 &&
				    (p[5 + l] == '\0' || p[5 + l] == '&'))
					return langs[i];
			}
		}
		p = strchr(p, '&');
		if (p != NULL)
			p++;
	}
	if (lang_pick(accept_language, PAGE_LANGS, pick, sizeof(pick)) != NULL)
		return langs[lang_index(pick)];
	return langs[0];
}

static const struct page_set *
set_of(const struct pages *pg, const char *set)
{
	size_t i;

	for (i = 1; set != NULL && i < pg->nsets; i++)
		if (strcmp(pg->set[i].name, set) == 0)
			return &pg->set[i];
	return NULL;
}

static const char *
lang_find(const struct lang *l, const char *name)
{
	size_t i;

	for (i = 0; i < l->n; i++)
		if (strcmp(l->v[i].name, name) == 0)
			return l->v[i].value;
	return NULL;
}

const char *
page_text_set(const struct pages *pg, const char *set, const char *lang,
    const char *key)
{
	const struct page_set *s = set_of(pg, set);
	const char *v = NULL;
	char name[256];
	int n = snprintf(name, sizeof(name), "Text.%s", key);

	if (n < 0 || (size_t)n >= sizeof(name))
		return "";
	if (s != NULL)
		v = lang_find(&s->lang[lang_index(lang)], name);
	if (v == NULL)
		v = lang_find(&pg->lang[lang_index(lang)], name);
	return v != NULL ? v : "";
}

const char *
page_text(const struct pages *pg, const char *lang, const char *key)
{
	return page_text_set(pg, NULL, lang, key);
}

void
page_date(const struct pages *pg, const char *lang, long long t,
    int with_time, char *out, size_t cap)
{
	const char *pat = page_text(pg, lang, with_time ? "Date.PatternTime" : "Date.Pattern");
	time_t tt = (time_t)t;
	struct tm tm;
	size_t o = 0;

	out[0] = '\0';
	if (cap == 0 || gmtime_r(&tt, &tm) == NULL)
		return;
	if (pat[0] == '\0')
		pat = with_time ? "%D %M %Y %T UTC" : "%D %M %Y";
	for (; *pat != '\0' && o + 1 < cap; pat++) {
		char piece[64];
		int n;

		/* %D day, %M month name, %Y year, %T hh:mm; the rest is text. */
		if (pat[0] != '%' || pat[1] == '\0') {
			piece[0] = *pat;
			piece[1] = '\0';
			n = 1;
		} else {
			switch (*++pat) {
			case 'D':
				n = snprintf(piece, sizeof(piece), "%d", tm.tm_mday);
				break;
			case 'M': {
				char key[32];

				snprintf(key, sizeof(key), "Month.%d", tm.tm_mon + 1);
				n = snprintf(piece, sizeof(piece), "%s",
				    page_text(pg, lang, key));
				break;
			}
			case 'Y':
				n = snprintf(piece, sizeof(piece), "%d", tm.tm_year + 1900);
				break;
			case 'T':
				n = snprintf(piece, sizeof(piece), "%02d:%02d",
				    tm.tm_hour, tm.tm_min);
				break;
			default:
				piece[0] = *pat;
				piece[1] = '\0';
				n = 1;
				break;
			}
		}
		if (n < 0 || (size_t)n >= sizeof(piece) || o + (size_t)n + 1 > cap)
			break;
		memcpy(out + o, piece, (size_t)n);
		o += (size_t)n;
	}
	out[o] = '\0';
}

static struct template *
pick(const struct pages *pg, const char *set, enum page_name page)
{
	size_t i;

	for (i = 1; i < pg->nsets; i++)
		if (strcmp(pg->set[i].name, set) == 0 && pg->set[i].t[page] != NULL)
			return pg->set[i].t[page];
	return pg->set[0].t[page];
}

/* The last resort when a template fails: fixed text, no outside value. */
static void
plain_error(struct response *w)
{
	static const char html[] = "<!DOCTYPE html>\n<html lang=\"en\"><head>"
	    "<meta charset=\"utf-8\"><title>Error</title></head><body>"
	    "<h1>Something went wrong</h1><p>Please try again later.</p>"
	    "</body></html>\n";

	buf_reset(&w->body);
	resp_status(w, 500);
	buf_puts(&w->body, html);
}

int
page_render(struct portal *p, struct response *w, int status,
    enum page_name page, const char *lang, const struct brand *b,
    const char *path, const struct page_vars *pv)
{
	static const enum page_name order[3] = { PAGE_HEADER, 0, PAGE_FOOTER };
	const struct lang *l = &p->pages->lang[lang_index(lang)];
	const struct page_set *s = set_of(p->pages, b->template_set);
	const struct lang *sl = s != NULL ? &s->lang[lang_index(lang)] : NULL;
	struct template_var *all = NULL;
	struct template_data *data = NULL;
	struct sm_err err;
	size_t n = 0, i, j;
	int ret = -1;

	if (pv->failed) {
		log_err("render_failed", "page=%d reason=\"page variables\"", (int)page);
		goto fail;
	}
	all = calloc(l->n + (sl ? sl->n : 0) + pv->n + 16, sizeof(*all));
	if (all == NULL)
		goto fail;
	/* The lab's texts after ours: a later value of a name wins. */
	for (i = 0; i < l->n; i++)
		all[n++] = l->v[i];
	for (i = 0; sl != NULL && i < sl->n; i++)
		all[n++] = sl->v[i];
	all[n++] = (struct template_var){ "Lab.Name", b->name };
	all[n++] = (struct template_var){ "Lab.Contact", b->contact };
	all[n++] = (struct template_var){ "Lab.Logo", b->logo_url[0] ? b->logo_url : NULL };
	all[n++] = (struct template_var){ "Lab.Colour", b->colour };
	all[n++] = (struct template_var){ "Page.Lang", lang };
	all[n++] = (struct template_var){ "Page.Nonce", w->nonce };
	all[n++] = (struct template_var){ "Page.Path", path };
	for (i = 0; i < NLANGS; i++)
		if (strcmp(langs[i], lang) != 0) {
			all[n++] = (struct template_var){ "Page.OtherLang", langs[i] };
			break;
		}
	for (i = 0; i < pv->n; i++)
		all[n++] = pv->v[i];
	buf_reset(&w->body);
	if (template_data_new(&data, all, n, &err) == -1) {
		log_err("render_failed", "page=%d reason=\"%s\"", (int)page, err.msg);
		goto fail;
	}
	for (j = 0; j < 3; j++) {
		enum page_name which = j == 1 ? page : order[j];

		if (template_render_data(pick(p->pages, b->template_set, which),
		    data, &w->body, &err) == -1) {
			log_err("render_failed", "page=%d reason=\"%s\"", (int)which, err.msg);
			goto fail;
		}
	}
	resp_status(w, status);
	resp_header(w, "Content-Type", "text/html; charset=utf-8");
	resp_header(w, "Content-Language", lang);
	ret = 0;
	goto out;
fail:
	plain_error(w);
	resp_header(w, "Content-Type", "text/html; charset=utf-8");
out:
	template_data_free(data);
	free(all);
	return ret;
}

int
page_notice(struct portal *p, struct response *w, int status,
    const char *kind, const char *lang, const struct brand *b,
    const char *path, const struct page_vars *extra)
{
	struct page_vars pv;
	char key[64];
	size_t i;
	int ret;

	page_vars_init(&pv);
	snprintf(key, sizeof(key), "Notice.%s.Title", kind);
	page_set(&pv, "Page.Title", page_text_set(p->pages, b->template_set, lang, key));
	snprintf(key, sizeof(key), "Notice.%s.Text", kind);
	page_set(&pv, "Page.Text", page_text_set(p->pages, b->template_set, lang, key));
	page_set(&pv, "Page.Kind", kind);
	for (i = 0; extra != NULL && i < extra->n; i++)
		page_set(&pv, extra->v[i].name, extra->v[i].value);
	ret = page_render(p, w, status, PAGE_NOTICE, lang, b, path, &pv);
	page_vars_free(&pv);
	return ret;
}
