/* page.h - the portal's HTML: templates parsed once per worker (and again
 * on SIGHUP), language files, and rendering into a response.  Every page
 * is header.cs + the page's template + footer.cs, rendered with
 * Config.VarEscapeMode = html forced by lib/template.c. */
#ifndef PORTAL_PAGE_H
#define PORTAL_PAGE_H

#include <stddef.h>

#include "err.h"
#include "template.h"

struct portal;
struct response;
struct brand;
struct pages;

enum page_name {
	PAGE_HEADER,
	PAGE_FOOTER,
	PAGE_PICKUP,
	PAGE_NOTICE,
	PAGE_VIEW,
	PAGE_ADMIN_LOGIN,
	PAGE_ADMIN_MESSAGES,
	PAGE_ADMIN_MESSAGE,
	PAGE_ADMIN_UPLOAD,
	PAGE_ADMIN_NOTICE,
	PAGE_COUNT
};

#define PAGE_LANGS "en|es"	/* the languages shipped, first the default */
#define PAGE_VARS_MAX 50000	/* a long text part is one var per line */

/* A page's variables beyond the common ones (Lab.*, Text.*, Page.Lang...).
 * Names and values are copied. */
struct page_vars {
	struct template_var *v;
	size_t n, cap;
	int failed;		/* a set was refused: render the error page */
};

void page_vars_init(struct page_vars *pv);
void page_vars_free(struct page_vars *pv);
/* -1 when full or out of memory (and pv->failed is set). */
int page_set(struct page_vars *pv, const char *name, const char *value);
int page_setf(struct page_vars *pv, const char *name, const char *fmt, ...)
	__attribute__((format(printf, 3, 4)));
/* The name is formatted, the value copied as is. */
int page_setn(struct page_vars *pv, const char *value, const char *namefmt, ...)
	__attribute__((format(printf, 3, 4)));

int pages_load(struct pages **out, const char *dir, struct sm_err *err);
void pages_free(struct pages *pg);

/* The language of this request: ?lang= when supported, else
 * Accept-Language, else English.  Returns a static string. */
const char *page_lang(const char *query, const char *accept_language);
/* A text of the language file ("Notice.expired.Title"), or "". */
const char *page_text(const struct pages *pg, const char *lang, const char *key);
/* The same, preferring the texts of the lab's template set. */
const char *page_text_set(const struct pages *pg, const char *set,
    const char *lang, const char *key);

/* "23 December 2026, 09:15 UTC" in the language's pattern (Date.Pattern,
 * Date.PatternTime: %D day, %M month name, %Y year, %T time). */
void page_date(const struct pages *pg, const char *lang, long long t,
    int with_time, char *out, size_t cap);

/* Renders the page into w's body with status and Content-Type set.
 * On a template failure w gets a plain 500 page instead. */
int page_render(struct portal *p, struct response *w, int status,
    enum page_name page, const char *lang, const struct brand *b,
    const char *path, const struct page_vars *pv);

/* A page that only explains: kind is "unknown", "expired", "retracted",
 * "purged", "locked", "unavailable", "error", "badrequest", "toolarge",
 * "ratelimited", "register", "session".  Titles and texts come from the
 * language file (Notice.<kind>.Title / .Text). */
int page_notice(struct portal *p, struct response *w, int status,
    const char *kind, const char *lang, const struct brand *b,
    const char *path, const struct page_vars *extra);

#endif
