/* admin.h - /admin/: the pages of a lab's own staff.  A lab user logs in
 * with login, password and TOTP code (labuser.c); the session cookie is
 * kept hashed in admin_sessions; every POST carries a CSRF token bound to
 * the session (or, for the login form, to a pre-session cookie).  Every
 * query is scoped by the user's lab; a viewer only reads.
 * URL map:
 *   GET/POST /admin/login, POST /admin/logout          admin_login.c
 *   GET  /admin/messages[?reference=&recipient=&from=&to=&page=]
 *   GET  /admin/messages/{id}                           admin_messages.c
 *   POST /admin/messages/{id}/retract, /expiry
 *   POST /admin/deliveries/{id}/retract, /unlock
 *   POST /admin/references/retract                      admin_actions.c
 *   GET/POST /admin/recipients                          admin_upload.c
 *   GET  /admin/audit.csv                               admin_export.c */
#ifndef PORTAL_ADMIN_H
#define PORTAL_ADMIN_H

#include <stddef.h>

#include "brand.h"
#include "crypto.h"
#include "csrf.h"
#include "form.h"
#include "http.h"
#include "labuser.h"
#include "lifecycle.h"
#include "page.h"
#include "portal.h"

#define ADMIN_COOKIE "sm_admin"
#define ADMIN_PRE_COOKIE "sm_apre"
#define ADMIN_PATH "/admin/"

struct admin {
	struct portal *p;
	struct request *r;
	struct response *w;
	struct brand b;
	/* Set once the session is valid. */
	int logged_in;
	long long user_id, lab_id;
	char login[LABUSER_LOGIN_MAX + 1];
	enum labuser_role role;
	unsigned char sid_hash[SM_HASH_BYTES];
	char pre[CSRF_COOKIE_CHARS + 1];	/* the pre-session cookie */
	char csrf[CSRF_TEXT];			/* for the forms of this page */
	char by[LABUSER_LOGIN_MAX + 8];		/* "user:<login>" */
	struct actor who;
	struct form q;				/* the query string */
};

void admin_dispatch(struct portal *p, struct request *r, struct response *w);

/* Shared by the admin pages. */
/* Renders page with the common Admin.* variables. */
void admin_render(struct admin *a, int status, enum page_name page,
    struct page_vars *pv);
/* A page that explains (title and text are fixed strings of ours). */
void admin_notice(struct admin *a, int status, const char *title,
    const char *text);
/* 503: the database failed (the reason is logged, never shown). */
void admin_unavailable(struct admin *a, const char *what,
    const struct sm_err *err);
/* 303 to a path of ours. */
void admin_redirect(struct admin *a, const char *path);
/* Reads an urlencoded POST body into f and checks its CSRF token; on
 * failure the answer (400, 403, 413) is already given and -1 returned. */
int admin_form(struct admin *a, struct form *f);
/* Checks a CSRF token of this session; 0 good. */
int admin_csrf_check(struct admin *a, const char *tok, size_t len);
/* 1 when the user may change things; else a 403 page is given. */
int admin_may_change(struct admin *a);
/* A query parameter or NULL. */
const char *admin_q(struct admin *a, const char *name);
/* "23 Nov 2026 10:15:02 UTC"; "-" for 0. */
void admin_time(long long t, char *out, size_t cap);

#endif
