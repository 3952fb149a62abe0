/* pool.h - a fixed set of database connections shared by milter threads.
 * A message takes one at envelope-from and gives it back when it ends, so
 * messages never queue behind one global connection. */
#ifndef SM_MILTER_POOL_H
#define SM_MILTER_POOL_H

#include "config.h"
#include "err.h"

struct db;
struct pool;

/* Connections are opened lazily: the milter starts (and refuses mail with a
 * 4xx) while the database is down, and recovers when it returns. */
int pool_new(struct pool **out, const struct config *cf, int size,
    struct sm_err *err);
/* Waits up to wait_secs for a free connection; -1 on timeout or when a new
 * connection cannot be opened. */
int pool_get(struct pool *p, struct db **out, int wait_secs, struct sm_err *err);
/* broken: the caller saw an error on it, so it is closed, not reused. */
void pool_put(struct pool *p, struct db *db, int broken);
void pool_free(struct pool *p);

#endif
