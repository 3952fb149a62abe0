/* ctl.h - what sealmailctl's command files share. */
#ifndef SM_CTL_H
#define SM_CTL_H

#include "config.h"

struct ctl {
	struct config *cf;
	int json;
	int argc;
	char **argv;		/* the command's own arguments, argv[0] its name */
};

int cmd_init(struct ctl *c);
int cmd_migrate(struct ctl *c);
int cmd_keygen(struct ctl *c);
int cmd_reseal(struct ctl *c);
int cmd_lab(struct ctl *c);
int cmd_recipients(struct ctl *c);
int cmd_events(struct ctl *c);
int cmd_status(struct ctl *c);
int cmd_retract(struct ctl *c);
int cmd_expire(struct ctl *c);
int cmd_unlock(struct ctl *c);
int cmd_purge(struct ctl *c);
int cmd_audit(struct ctl *c);
int cmd_user(struct ctl *c);
int cmd_apikey(struct ctl *c);

/* Prints "sealmailctl: <msg>" to stderr; returns 1 (the exit status). */
int ctl_fail(const char *fmt, ...) __attribute__((format(printf, 1, 2)));
/* Strict decimal parse into [min, max]. */
int ctl_parse_int(const char *s, long long min, long long max, long long *out);

#endif
