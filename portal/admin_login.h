/* admin_login.h - the admin login (login, password, TOTP code) and logout. */
#ifndef PORTAL_ADMIN_LOGIN_H
#define PORTAL_ADMIN_LOGIN_H

#include "admin.h"

/* The form, with an error sentence of ours or NULL. */
void admin_login_form(struct admin *a, int status, const char *error);
void admin_login_post(struct admin *a);
void admin_logout(struct admin *a);

#endif
