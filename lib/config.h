/* config.h - sealmail.conf, one HDF file read by every program.
 * Every key is declared once in config.c's table with its type, default and
 * bounds; unknown keys and out-of-range values are errors naming file and line.
 * Secrets never live in the file: only paths to files read by config_secret_read. */
#ifndef SM_CONFIG_H
#define SM_CONFIG_H

#include <stddef.h>
#include <stdio.h>

#include "err.h"

struct config;

int config_load(struct config **out, const char *path, struct sm_err *err);
/* An empty configuration with every default; for tests and -n. */
int config_defaults(struct config **out, struct sm_err *err);
/* Overrides one key (tests, command-line options); validated like the file. */
int config_set(struct config *cf, const char *key, const char *value, struct sm_err *err);
void config_free(struct config *cf);

/* The key must be in the table (abort() otherwise: a programming error). */
const char *config_str(const struct config *cf, const char *key);
long long config_int(const struct config *cf, const char *key);
int config_bool(const struct config *cf, const char *key);
const char *config_path(const struct config *cf);

/* Prints every key with its effective value, one per line (-n). */
void config_dump(const struct config *cf, FILE *out);
/* Calls fn for every key in the table (tests check each is documented). */
void config_each_key(void (*fn)(const char *key, void *arg), void *arg);

/* Reads a secret file of at most cap bytes (exactly want bytes when want > 0).
 * Refuses a file that is not a regular file, is readable or writable by
 * group or others, or is owned by someone other than the caller or root. */
int config_secret_read(const char *path, void *buf, size_t cap, size_t want,
    size_t *got, struct sm_err *err);

#endif
