/* labref.h - what the lab-side commands (recipients, events, lifecycle,
 * audit, users, apikeys) share: the admin connection, lab lookup, the
 * answer hashing cost and the keys they need. */
#ifndef SM_CTL_LABREF_H
#define SM_CTL_LABREF_H

#include "answer.h"
#include "config.h"
#include "err.h"

struct db;
struct keyring;

int labref_open(const struct config *cf, struct db **db, struct sm_err *err);
/* The id of the lab called name; -1 with "no lab named ..." otherwise. */
int labref_id(struct db *db, const char *name, long long *id,
    struct sm_err *err);
void labref_cost(const struct config *cf, struct answer_cost *cost);
/* Loads `need` from keys.dir; with KEY_AUDIT also arms event_record. */
int labref_keys(const struct config *cf, unsigned need, struct keyring **kr,
    struct sm_err *err);
/* Prints a Unix time as UTC ISO 8601 into out ("-" for 0). */
const char *labref_time(long long t, char *out, size_t cap);
/* Parses YYYY-MM-DD[THH:MM[:SS]] (UTC) or a Unix time; -1 if malformed. */
int labref_parse_time(const char *s, long long *out);

#endif
