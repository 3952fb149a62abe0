/* notify.h - the notice that replaces a sealed message: a text and HTML
 * alternative rendered from the lab's ClearSilver templates, and the
 * separate submission of one notice per extra recipient through the MTA's
 * sendmail command. */
#ifndef SM_MILTER_NOTIFY_H
#define SM_MILTER_NOTIFY_H

#include <stddef.h>
#include <time.h>

#include "buf.h"
#include "config.h"
#include "err.h"
#include "lab.h"

#define NOTICE_MAX (512 * 1024)		/* bytes of one rendered notice */

struct notify;

/* Loads the default template set (<milter.templates>/notice.*.cs): a broken
 * default is a startup error, not a per-message surprise. */
int notify_new(struct notify **out, const struct config *cf, struct sm_err *err);
void notify_free(struct notify *n);

/* 1 when the lab has the template variant (or variant is ""), 0 when not,
 * -1 on error (a template that does not parse). */
int notify_has_variant(struct notify *n, const struct lab *lab,
    const char *variant, struct sm_err *err);

struct notice_info {
	const struct lab *lab;
	const char *variant;		/* "" for the lab's own set */
	const char *token;		/* link token */
	time_t expires;
	const char *reference;		/* "" when none */
};

struct notice {
	struct buf body;		/* multipart/alternative, CRLF lines */
	char content_type[160];		/* with the boundary */
	const char *cte;		/* "7bit" or "8bit" */
	char subject[1024];		/* RFC 2047 encoded when needed */
};

void notice_init(struct notice *nt);
void notice_free(struct notice *nt);
int notify_render(struct notify *n, const struct notice_info *ni,
    struct notice *out, struct sm_err *err);

/* The headers kept from the original message on the in-place notice (and
 * copied onto separate ones).  Everything else may carry PHI. */
int notify_header_kept(const char *name);

/* Writes a complete separate notice to rcpt: headers (the kept ones given
 * in `kept`, already "Name: value\r\n" lines) and the rendered body, and
 * submits it with milter.sendmail -i -f sender -- rcpt.  0 only when the
 * command exited with status 0. */
int notify_submit(struct notify *n, const char *sender, const char *rcpt,
    const char *kept, size_t keptlen, const char *message_id,
    const struct notice *nt, struct sm_err *err);

#endif
