/* password.h - what makes a patient's own password acceptable (issue 3,
 * registration): a minimum length (portal.password_min) and absence from
 * the common-passwords list shipped with the portal; no composition rules.
 * The list is loaded once per process before the workers start. */
#ifndef PORTAL_PASSWORD_H
#define PORTAL_PASSWORD_H

#include <stddef.h>

#include "err.h"

struct config;

/* Loads the list (one password a line, '#' comments) into a hash set;
 * an empty path means <portal.templates>/common-passwords.txt.  0 or -1. */
int password_list_load(const struct config *cf, struct sm_err *err);
void password_list_free(void);
/* 1 when s[0..n) is on the list (compared case-insensitively). */
int password_is_common(const char *s, size_t n);

/* Checks a new password and its repetition; NULL when acceptable, else the
 * key of an Error text: PasswordShort, PasswordCommon, PasswordMismatch,
 * PasswordFormat. */
const char *password_check(const struct config *cf, const char *pw, size_t n,
    const char *pw2, size_t n2);

#endif
