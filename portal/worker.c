/* worker.c - the FastCGI accept loop of one worker process.  A database
 * failure is a 503 page and the next request tries to connect again; the
 * worker itself only exits when told to, so one bad moment of MariaDB
 * never costs the master a fork storm. */
#include <errno.h>
#include <poll.h>
#include <signal.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>
#include <unistd.h>

#include <fcgiapp.h>
#include <gmime/gmime.h>

#include "db.h"
#include "http.h"
#include "log.h"
#include "page.h"
#include "portal.h"
#include "router.h"
#include "worker.h"

static volatile sig_atomic_t want_stop;
static volatile sig_atomic_t want_reload;
static volatile sig_atomic_t idle;

static void
on_term(int sig)
{
	(void)sig;
	/* Waiting in accept: nothing in hand, leave now. */
	if (idle)
		_exit(0);
	want_stop = 1;
}

static void
on_hup(int sig)
{
	(void)sig;
	want_reload = 1;
}

int
portal_db(struct portal *p, struct sm_err *err)
{
	if (p->db != NULL)
		return 0;
	return db_open_as(&p->db, p->cf, p->db_user, p->db_password, 0, err);
}

void
portal_db_reset(struct portal *p)
{
	/* A connection that failed mid-transaction or lost the server is
	 * dropped; the next request connects afresh. */
	if (p->db != NULL && db_in_transaction(p->db))
		db_rollback(p->db);
	db_close(p->db);
	p->db = NULL;
}

void
portal_events_flush(struct portal *p)
{
	struct sm_err err;
	size_t n = p->later.n;

	if (n == 0)
		return;
	if (portal_db(p, &err) == -1 ||
	    event_batch_flush(p->db, &p->later, &err) == -1) {
		p->later.n = 0;
		log_err("event_failed", "kind=link_fetched lost=%zu reason=\"%s\"",
		    n, err.msg);
		portal_db_reset(p);
	}
}

/* Held-back events go out before the response when no other request is
 * waiting (so an idle portal writes each at once), when the oldest is a
 * second old, and before any request that is not a GET: a worker's own
 * events keep their order (a fetch before the verification after it).
 * Under load they wait for a later request of this worker; a crash loses
 * what is held, never more than EVENT_BATCH_MAX fetches. */
static int
events_due(const struct portal *p, int listen_fd)
{
	struct pollfd pfd = { .fd = listen_fd, .events = POLLIN };
	struct timespec ts;

	if (p->later.n == 0)
		return 0;
	if (poll(&pfd, 1, 0) == 0)
		return 1;
	if (clock_gettime(CLOCK_REALTIME, &ts) == -1)
		return 1;
	return (long long)ts.tv_sec * 1000000 + ts.tv_nsec / 1000 -
	    event_batch_oldest(&p->later) >= 1000000;
}

static void
reload(struct portal *p, const char *templates)
{
	struct pages *pg = NULL;
	struct sm_err err;

	if (pages_load(&pg, templates, &err) == -1) {
		log_err("reload_failed", "reason=\"%s\" keeping=old", err.msg);
		return;
	}
	pages_free(p->pages);
	p->pages = pg;
	log_event("reloaded", "pid=%ld", (long)getpid());
}

static void
serve(struct portal *p, FCGX_Request *f, int listen_fd)
{
	struct request r;
	struct response w;

	req_init(&r, f);
	if (strcmp(r.method, "GET") != 0 && strcmp(r.method, "HEAD") != 0)
		portal_events_flush(p);
	p->now = time(NULL);
	resp_init(&w, &r);
	router_dispatch(p, &r, &w);
	/* A handler that gave up mid-transaction must not leave it open for
	 * the events below or the next request. */
	if (p->db != NULL && db_in_transaction(p->db))
		db_rollback(p->db);
	if (events_due(p, listen_fd))
		portal_events_flush(p);
	if (!w.written) {
		if (w.failed) {
			/* A handler's header was refused: never send half a
			 * response; a plain error stands in for it. */
			resp_free(&w);
			resp_init(&w, &r);
			resp_status(&w, 500);
			resp_header(&w, "Content-Type", "text/plain; charset=utf-8");
			buf_puts(&w.body, "Something went wrong. Please try again later.\n");
		}
		(void)resp_send(&w);
	}
	resp_free(&w);
}

void
worker_run(struct portal *p, int listen_fd, const char *templates)
{
	struct sigaction sa;
	FCGX_Request f;

	memset(&sa, 0, sizeof(sa));
	sigemptyset(&sa.sa_mask);
	sa.sa_handler = on_term;	/* no SA_RESTART: accept must return */
	if (sigaction(SIGTERM, &sa, NULL) == -1 || sigaction(SIGINT, &sa, NULL) == -1)
		_exit(1);
	sa.sa_handler = on_hup;
	if (sigaction(SIGHUP, &sa, NULL) == -1)
		_exit(1);
	sa.sa_handler = SIG_IGN;
	if (sigaction(SIGPIPE, &sa, NULL) == -1)
		_exit(1);
	sa.sa_handler = SIG_DFL;
	if (sigaction(SIGCHLD, &sa, NULL) == -1)
		_exit(1);
	{
		sigset_t none;

		sigemptyset(&none);
		if (sigprocmask(SIG_SETMASK, &none, NULL) == -1)
			_exit(1);
	}
	g_mime_init();
	if (FCGX_InitRequest(&f, listen_fd, FCGI_FAIL_ACCEPT_ON_INTR) != 0) {
		log_err("worker_failed", "reason=\"FCGX_InitRequest failed\"");
		_exit(1);
	}
	log_event("worker_started", "pid=%ld", (long)getpid());
	while (!want_stop) {
		if (want_reload) {
			want_reload = 0;
			reload(p, templates);
		}
		if (events_due(p, listen_fd))
			portal_events_flush(p);
		/* With events held back a SIGTERM must come through here. */
		idle = p->later.n == 0;
		if (want_stop)
			break;
		if (FCGX_Accept_r(&f) < 0) {
			idle = 0;
			if (errno == EINTR || want_stop || want_reload)
				continue;
			log_err("accept_failed", "reason=\"%s\"", strerror(errno));
			sleep(1);
			continue;
		}
		idle = 0;
		serve(p, &f, listen_fd);
		FCGX_Finish_r(&f);
	}
	FCGX_Free(&f, 0);
	portal_events_flush(p);
	db_close(p->db);
	p->db = NULL;
	pages_free(p->pages);
	p->pages = NULL;
	g_mime_shutdown();
	log_event("worker_stopped", "pid=%ld", (long)getpid());
	exit(0);
}
