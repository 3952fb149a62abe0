/* migrate.h - the schema as ordered migrations, applied once each.
 * The migrations are compiled in (sql/embed.sh); the database records which
 * ran in schema_migrations, so running again does nothing. */
#ifndef SM_MIGRATE_H
#define SM_MIGRATE_H

#include "err.h"

struct db;

struct migration {
	unsigned version;
	const char *name;
	const char *sql;
};

extern const struct migration migrations[];
extern const unsigned nmigrations;

/* Applies every pending migration; *applied gets how many ran. */
int migrate_run(struct db *db, unsigned *applied, struct sm_err *err);
/* The highest version applied (0 for an empty database) and the latest known. */
int migrate_status(struct db *db, unsigned *current, unsigned *latest,
    struct sm_err *err);

#endif
