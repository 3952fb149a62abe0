/* pool.c - database connections for milter threads.
 * A connection that saw any error is closed rather than returned: after a
 * failure inside a transaction its state is unknown, and reconnecting costs
 * less than reasoning about it.  Never holds the lock during network I/O. */
#include <errno.h>
#include <pthread.h>
#include <stdlib.h>
#include <time.h>

#include "db.h"
#include "pool.h"

struct pool {
	const struct config *cf;
	struct db_login *login;	/* read before privileges are dropped */
	pthread_mutex_t lock;
	pthread_cond_t freed;
	struct db **idle;	/* open, unused connections */
	int nidle;
	int nout;		/* taken by messages, or being opened */
	int size;
};

int
pool_new(struct pool **out, const struct config *cf, int size,
    struct sm_err *err)
{
	struct pool *p;

	if (size < 1) {
		sm_err_set(err, "database pool size must be at least 1");
		return -1;
	}
	p = calloc(1, sizeof(*p));
	if (p == NULL || (p->idle = calloc((size_t)size, sizeof(*p->idle))) == NULL) {
		free(p);
		sm_err_set(err, "out of memory");
		return -1;
	}
	/* Connections open lazily, after the privilege drop, when the
	 * password file is no longer readable: read it now. */
	if (db_login_load(&p->login, cf, DB_ROLE_MILTER, err) == -1) {
		free(p->idle);
		free(p);
		return -1;
	}
	if (pthread_mutex_init(&p->lock, NULL) != 0) {
		db_login_free(p->login);
		free(p->idle);
		free(p);
		sm_err_set(err, "cannot create the pool lock");
		return -1;
	}
	if (pthread_cond_init(&p->freed, NULL) != 0) {
		pthread_mutex_destroy(&p->lock);
		db_login_free(p->login);
		free(p->idle);
		free(p);
		sm_err_set(err, "cannot create the pool condition");
		return -1;
	}
	p->cf = cf;
	p->size = size;
	*out = p;
	return 0;
}

int
pool_get(struct pool *p, struct db **out, int wait_secs, struct sm_err *err)
{
	struct timespec until;
	struct db *db = NULL;
	int rc = 0;

	if (clock_gettime(CLOCK_REALTIME, &until) == -1) {
		sm_err_set(err, "clock_gettime: %d", errno);
		return -1;
	}
	until.tv_sec += wait_secs;
	pthread_mutex_lock(&p->lock);
	while (p->nidle == 0 && p->nout >= p->size && rc != ETIMEDOUT)
		rc = pthread_cond_timedwait(&p->freed, &p->lock, &until);
	if (p->nidle > 0) {
		db = p->idle[--p->nidle];
		p->nout++;
		pthread_mutex_unlock(&p->lock);
		*out = db;
		return 0;
	}
	if (p->nout >= p->size) {
		pthread_mutex_unlock(&p->lock);
		sm_err_set(err, "no free database connection after %d s", wait_secs);
		return -1;
	}
	p->nout++;		/* reserve the slot, then connect unlocked */
	pthread_mutex_unlock(&p->lock);
	if (db_open_login(&db, p->cf, p->login, err) == -1) {
		pthread_mutex_lock(&p->lock);
		p->nout--;
		pthread_cond_signal(&p->freed);
		pthread_mutex_unlock(&p->lock);
		return -1;
	}
	*out = db;
	return 0;
}

void
pool_put(struct pool *p, struct db *db, int broken)
{
	if (db == NULL)
		return;
	if (broken || db_in_transaction(db)) {
		db_close(db);
		db = NULL;
	}
	pthread_mutex_lock(&p->lock);
	p->nout--;
	if (db != NULL)
		p->idle[p->nidle++] = db;
	pthread_cond_signal(&p->freed);
	pthread_mutex_unlock(&p->lock);
}

void
pool_free(struct pool *p)
{
	int i;

	if (p == NULL)
		return;
	for (i = 0; i < p->nidle; i++)
		db_close(p->idle[i]);
	pthread_cond_destroy(&p->freed);
	pthread_mutex_destroy(&p->lock);
	db_login_free(p->login);
	free(p->idle);
	free(p);
}
