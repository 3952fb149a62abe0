/* worker.h - one prefork worker: accepts on the shared FastCGI socket,
 * serves one request at a time through the router, reloads its templates
 * on SIGHUP and leaves on SIGTERM once the request in hand is answered. */
#ifndef PORTAL_WORKER_H
#define PORTAL_WORKER_H

struct portal;

/* Never returns: exits 0 when asked to stop, 1 on a fatal error. */
void worker_run(struct portal *p, int listen_fd, const char *templates)
	__attribute__((noreturn));

#endif
