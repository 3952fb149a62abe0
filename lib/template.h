/* template.h - ClearSilver templates parsed once, rendered many times.
 * HTML templates render with Config.VarEscapeMode = html forced in code, so
 * every var: is escaped whatever the template says; text templates render
 * raw.  Values have control characters replaced before they reach either. */
#ifndef SM_TEMPLATE_H
#define SM_TEMPLATE_H

#include <stddef.h>

#include "buf.h"
#include "err.h"

#define TEMPLATE_FILE_MAX (256 * 1024)	/* bytes of template source */
#define TEMPLATE_VALUE_MAX 4096		/* bytes of one value */

enum template_escape {
	TEMPLATE_RAW,		/* text/plain output */
	TEMPLATE_HTML,		/* every var: html-escaped */
};

struct template_var {
	const char *name;	/* HDF name, e.g. "Lab.Name" */
	const char *value;	/* UTF-8; NULL renders as unset */
};

struct template;

/* Once, before threads: ClearSilver registers its error types lazily and
 * not thread-safely. */
int template_global_init(struct sm_err *err);

/* Reads and parses path (at most TEMPLATE_FILE_MAX bytes).  The template may
 * not include other files. */
int template_load(struct template **out, const char *path,
    enum template_escape esc, struct sm_err *err);
/* Appends the rendering to out (whose cap bounds it).  Thread-safe. */
int template_render(struct template *t, const struct template_var *vars,
    size_t nvars, struct buf *out, struct sm_err *err);

/* The same in two steps, for several templates over the same values:
 * building the values is most of the cost of a small page. */
struct template_data;
int template_data_new(struct template_data **out,
    const struct template_var *vars, size_t nvars, struct sm_err *err);
int template_render_data(struct template *t, struct template_data *d,
    struct buf *out, struct sm_err *err);
void template_data_free(struct template_data *d);
void template_free(struct template *t);

#endif
