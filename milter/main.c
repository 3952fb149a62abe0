/* main.c - sealmail-milter: options, keys, socket, privileges, main loop.
 * Startup order (clamav-milter, Postfix): configuration; keys; register
 * with libmilter; create the socket under a tight umask and set its mode
 * and group; daemonize; drop groups, group and user and check root cannot
 * be regained; mysql_library_init; then smfi_main.  The escrow's secret key
 * is never loaded here: a compromised mail host reads nothing stored. */
#include <errno.h>
#include <fcntl.h>
#include <getopt.h>
#include <grp.h>
#include <pthread.h>
#include <pwd.h>
#include <signal.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <sys/types.h>
#include <time.h>
#include <unistd.h>

#include <gmime/gmime.h>
#include <libmilter/mfapi.h>
#include <mysql.h>

#include "callbacks.h"
#include "config.h"
#include "crypto.h"
#include "event.h"
#include "log.h"
#include "notify.h"
#include "pool.h"
#include "seal.h"
#include "template.h"

#ifndef PACKAGE_VERSION
#define PACKAGE_VERSION "0.1.0"
#endif
#ifndef SYSCONFDIR
#define SYSCONFDIR "/etc"
#endif

#define DEFAULT_CONF SYSCONFDIR "/sealmail/sealmail.conf"
#define STOP_GRACE_SECS 10	/* for messages in flight at SIGTERM */

static const char usage_text[] =
    "usage: sealmail-milter [-fnV] [-c file]\n"
    "  -c file   configuration (default " DEFAULT_CONF ")\n"
    "  -f        stay in the foreground and log to stderr\n"
    "  -n        print the effective configuration and exit\n"
    "  -V        print the version and exit\n"
    "  -h        this help\n";

struct milter {
	struct config *cf;
	struct keyring *kr;
	struct notify *notify;
	struct pool *pool;
	struct seal_env env;
	char sock_path[1024];		/* unix socket path, "" for inet */
	char pid_path[1024];		/* "" when no pid file was written */
	pthread_t main_thread;
	int smfi_rc;
};

/* The escrow's public key, the signing key and the pepper, never the
 * escrow's secret key; the audit key too when the key directory has one,
 * so the sealed and notified events carry their MAC from the start. */
static int
load_keys(const struct config *cf, struct keyring **kr, struct sm_err *err)
{
	const char *dir = config_str(cf, "keys.dir");
	int version = (int)config_int(cf, "keys.escrow_version");
	unsigned need = KEY_ESCROW_PUBLIC | KEY_SIGN_SECRET | KEY_PEPPER;
	struct sm_err why;

	/* SMS texts are sealed before they are queued. */
	if (strcmp(config_str(cf, "sms.gateway"), "none") != 0)
		need |= KEY_SMS;
	char q[300];

	if (keyring_load(kr, dir, version, need | KEY_AUDIT, &why) == 0)
		return event_audit_key_set(*kr, err);
	if (keyring_load(kr, dir, version, need, err) == -1)
		return -1;
	log_warn("no_audit_key", "reason=%s events=unsigned",
	    log_quote(why.msg, q, sizeof(q)));
	return 0;
}

static int
build_env(struct milter *m, struct sm_err *err)
{
	const struct config *cf = m->cf;
	struct seal_env *e = &m->env;

	e->cf = cf;
	e->kr = m->kr;
	e->pool = m->pool;
	e->notify = m->notify;
	e->cost.ops = (unsigned long long)config_int(cf, "crypto.argon2_ops");
	e->cost.mem_bytes = (size_t)config_int(cf, "crypto.argon2_mem_kib") * 1024;
	e->cost.date_order = strcmp(config_str(cf, "crypto.date_order"), "dmy") == 0 ?
	    DATE_DMY : DATE_MDY;
	e->chunk_size = (size_t)config_int(cf, "crypto.chunk_size");
	e->sms_on = strcmp(config_str(cf, "sms.gateway"), "none") != 0;
	e->portal_url = config_str(cf, "portal.url");
	e->max_size = (unsigned long long)config_int(cf, "milter.max_message_size");
	e->max_rcpts = (size_t)config_int(cf, "milter.max_recipients");
	/* Below Postfix's milter_command_timeout (30 s), so our 4xx is
	 * what the client sees rather than the MTA's timeout. */
	e->pool_wait = 20;
	if (e->chunk_size == 0 || e->max_rcpts == 0) {
		sm_err_set(err, "chunk size and recipient limit must be positive");
		return -1;
	}
	return 0;
}

/* The unix socket is created 0600 under umask, then opened up to exactly
 * milter.socket_mode and milter.socket_group: never a moment wider. */
static int
open_socket(struct milter *m, struct sm_err *err)
{
	const char *conn = config_str(m->cf, "milter.socket");
	const char *group = config_str(m->cf, "milter.socket_group");
	mode_t mode = (mode_t)config_int(m->cf, "milter.socket_mode");
	const char *path = NULL;
	mode_t old;
	int rc;

	if (strncmp(conn, "unix:", 5) == 0)
		path = conn + 5;
	else if (strncmp(conn, "local:", 6) == 0)
		path = conn + 6;
	else if (strncmp(conn, "inet:", 5) != 0 && strncmp(conn, "inet6:", 6) != 0) {
		sm_err_set(err, "milter.socket must start with unix:, local:, inet: or inet6:");
		return -1;
	}
	if (path != NULL) {
		if (path[0] != '/' || strlen(path) >= sizeof(m->sock_path)) {
			sm_err_set(err, "milter.socket: the unix path must be absolute");
			return -1;
		}
		memcpy(m->sock_path, path, strlen(path) + 1);
	}
	if (smfi_setconn((char *)conn) != MI_SUCCESS) {
		sm_err_set(err, "smfi_setconn %s failed", conn);
		return -1;
	}
	old = umask(0177);
	rc = smfi_opensocket(1);	/* 1: remove a stale socket first */
	umask(old);
	if (rc != MI_SUCCESS) {
		sm_err_set(err, "cannot open the milter socket %s", conn);
		return -1;
	}
	if (path == NULL)
		return 0;
	if (group[0] != '\0') {
		struct group *gr = getgrnam(group);

		if (gr == NULL) {
			sm_err_set(err, "milter.socket_group: no group %s", group);
			return -1;
		}
		if (chown(path, (uid_t)-1, gr->gr_gid) == -1) {
			sm_err_set(err, "chown %s: %s", path, strerror(errno));
			return -1;
		}
	}
	if (chmod(path, mode) == -1) {
		sm_err_set(err, "chmod %s: %s", path, strerror(errno));
		return -1;
	}
	return 0;
}

static int
daemonize(struct sm_err *err)
{
	pid_t pid;
	int fd;

	pid = fork();
	if (pid == -1) {
		sm_err_set(err, "fork: %s", strerror(errno));
		return -1;
	}
	if (pid > 0)
		_exit(0);
	if (setsid() == -1) {
		sm_err_set(err, "setsid: %s", strerror(errno));
		return -1;
	}
	pid = fork();		/* never reacquire a controlling terminal */
	if (pid == -1) {
		sm_err_set(err, "fork: %s", strerror(errno));
		return -1;
	}
	if (pid > 0)
		_exit(0);
	if (chdir("/") == -1) {
		sm_err_set(err, "chdir /: %s", strerror(errno));
		return -1;
	}
	fd = open("/dev/null", O_RDWR);
	if (fd == -1 || dup2(fd, 0) == -1 || dup2(fd, 1) == -1 || dup2(fd, 2) == -1) {
		sm_err_set(err, "cannot redirect to /dev/null: %s", strerror(errno));
		return -1;
	}
	if (fd > 2)
		close(fd);
	return 0;
}

static int
write_pid(struct milter *m, struct sm_err *err)
{
	const char *path = config_str(m->cf, "milter.pid_file");
	char line[32];
	int fd, n;

	if (strlen(path) >= sizeof(m->pid_path)) {
		sm_err_set(err, "milter.pid_file too long");
		return -1;
	}
	fd = open(path, O_WRONLY | O_CREAT | O_TRUNC | O_NOFOLLOW | O_CLOEXEC, 0644);
	if (fd == -1) {
		sm_err_set(err, "%s: %s", path, strerror(errno));
		return -1;
	}
	n = snprintf(line, sizeof(line), "%ld\n", (long)getpid());
	if (n < 0 || write(fd, line, (size_t)n) != n) {
		sm_err_set(err, "%s: write failed", path);
		close(fd);
		return -1;
	}
	if (close(fd) == -1) {
		sm_err_set(err, "%s: %s", path, strerror(errno));
		return -1;
	}
	memcpy(m->pid_path, path, strlen(path) + 1);
	return 0;
}

static int
drop_privileges(struct milter *m, struct sm_err *err)
{
	const char *user = config_str(m->cf, "milter.user");
	struct passwd *pw;

	if (user[0] == '\0')
		return 0;
	pw = getpwnam(user);
	if (pw == NULL) {
		sm_err_set(err, "milter.user: no user %s", user);
		return -1;
	}
	if (getuid() != 0 && geteuid() != 0) {
		if (getuid() == pw->pw_uid)
			return 0;
		sm_err_set(err, "milter.user is %s but not started as root", user);
		return -1;
	}
	/* The pid file stays removable by the unprivileged process. */
	if (m->pid_path[0] != '\0' && chown(m->pid_path, pw->pw_uid, pw->pw_gid) == -1) {
		sm_err_set(err, "chown %s: %s", m->pid_path, strerror(errno));
		return -1;
	}
	if (initgroups(user, pw->pw_gid) == -1 || setgid(pw->pw_gid) == -1 ||
	    setuid(pw->pw_uid) == -1) {
		sm_err_set(err, "cannot switch to user %s: %s", user, strerror(errno));
		return -1;
	}
	if (setuid(0) != -1 || geteuid() == 0) {
		sm_err_set(err, "root privileges could be regained after switching to %s", user);
		return -1;
	}
	return 0;
}

static void *
smfi_thread(void *arg)
{
	struct milter *m = arg;

	m->smfi_rc = smfi_main();
	/* smfi_main returned on its own (an error or libmilter's own
	 * signal handling): wake the main thread to clean up. */
	pthread_kill(m->main_thread, SIGUSR1);
	return NULL;
}

static void
cleanup_files(struct milter *m)
{
	if (m->sock_path[0] != '\0')
		(void)unlink(m->sock_path);
	if (m->pid_path[0] != '\0')
		(void)unlink(m->pid_path);
}

/* libmilter notices a stop only when its listener's poll times out
 * (about 5 s).  The main thread takes the signals instead, removes the
 * socket, lets end-of-message work in progress finish (a commit and its
 * notices), and exits without waiting for libmilter: an MTA whose milter
 * connection drops mid-message applies milter_default_action (tempfail),
 * so nothing is lost or passes in clear. */
static int
wait_for_signals(struct milter *m, const sigset_t *set)
{
	struct timespec nap = { 0, 50 * 1000 * 1000 };
	time_t until;
	int sig;

	for (;;) {
		if (sigwait(set, &sig) != 0)
			continue;
		if (sig == SIGHUP) {
			log_event("sighup", "action=%s", "ignored; restart to reload");
			continue;
		}
		break;
	}
	if (sig == SIGUSR1) {
		log_event("stopped", "reason=%s rc=%d", "smfi_main returned", m->smfi_rc);
		return m->smfi_rc == MI_SUCCESS ? 0 : 1;
	}
	/* Not smfi_stop(): it takes libmilter's listener lock, which the
	 * listener holds through its 5 s poll.  Removing the socket path is
	 * enough to turn new connections away. */
	cleanup_files(m);
	until = time(NULL) + STOP_GRACE_SECS;
	while (seal_busy() > 0 && time(NULL) < until)
		nanosleep(&nap, NULL);
	log_event("stopped", "signal=%d in_flight=%d", sig, seal_busy());
	return 0;
}

static void
usage(FILE *f)
{
	fputs(usage_text, f);
}

int
main(int argc, char **argv)
{
	static const struct option longopts[] = {
		{ "help", no_argument, NULL, 'h' },
		{ "version", no_argument, NULL, 'V' },
		{ NULL, 0, NULL, 0 },
	};
	const char *conf = DEFAULT_CONF;
	struct milter m;
	struct smfiDesc desc;
	struct sm_err err;
	sigset_t set;
	pthread_t tid;
	int fg = 0, dump = 0, ch, rc = 1;

	memset(&m, 0, sizeof(m));
	while ((ch = getopt_long(argc, argv, "c:fnVh", longopts, NULL)) != -1) {
		switch (ch) {
		case 'c':
			conf = optarg;
			break;
		case 'f':
			fg = 1;
			break;
		case 'n':
			dump = 1;
			break;
		case 'V':
			printf("sealmail-milter %s\n", PACKAGE_VERSION);
			return 0;
		case 'h':
			usage(stdout);
			return 0;
		default:
			usage(stderr);
			return 2;
		}
	}
	if (optind != argc) {
		usage(stderr);
		return 2;
	}
	if (config_load(&m.cf, conf, &err) == -1) {
		fprintf(stderr, "sealmail-milter: %s\n", err.msg);
		return 1;
	}
	if (dump) {
		config_dump(m.cf, stdout);
		config_free(m.cf);
		return 0;
	}
	log_open("sealmail-milter", fg, log_facility(config_str(m.cf, "log.facility")));
	signal(SIGPIPE, SIG_IGN);	/* a dying sendmail must not kill us */
	g_mime_init();
	if (template_global_init(&err) == -1)
		goto fail;
	if (load_keys(m.cf, &m.kr, &err) == -1)
		goto fail;
	if (notify_new(&m.notify, m.cf, &err) == -1)
		goto fail;
	if (pool_new(&m.pool, m.cf, (int)config_int(m.cf, "milter.db_connections"),
	    &err) == -1 || build_env(&m, &err) == -1)
		goto fail;
	callbacks_init(&desc, &m.env);
	if (smfi_register(desc) != MI_SUCCESS) {
		sm_err_set(&err, "smfi_register failed");
		goto fail;
	}
	if (open_socket(&m, &err) == -1)
		goto fail;
	if (!fg && daemonize(&err) == -1)
		goto fail;
	if (!fg && write_pid(&m, &err) == -1)
		goto fail;
	if (drop_privileges(&m, &err) == -1)
		goto fail;
	if (mysql_library_init(0, NULL, NULL) != 0) {
		sm_err_set(&err, "mysql_library_init failed");
		goto fail;
	}
	/* Blocked here, so every thread created from now on has them
	 * blocked too and only this thread's sigwait takes them. */
	sigemptyset(&set);
	sigaddset(&set, SIGTERM);
	sigaddset(&set, SIGINT);
	sigaddset(&set, SIGHUP);
	sigaddset(&set, SIGUSR1);
	if (pthread_sigmask(SIG_BLOCK, &set, NULL) != 0) {
		sm_err_set(&err, "cannot block signals");
		goto fail;
	}
	m.main_thread = pthread_self();
	if (pthread_create(&tid, NULL, smfi_thread, &m) != 0) {
		sm_err_set(&err, "cannot start the milter thread");
		goto fail;
	}
	log_event("started", "version=%s socket=%s pid=%ld", PACKAGE_VERSION,
	    config_str(m.cf, "milter.socket"), (long)getpid());
	rc = wait_for_signals(&m, &set);
	cleanup_files(&m);
	log_close();
	/* Other threads may still be inside libmilter or a message: exit
	 * without running destructors under them. */
	_exit(rc);
fail:
	log_err("startup_failed", "reason=%s", err.msg);
	if (!fg)
		fprintf(stderr, "sealmail-milter: %s\n", err.msg);
	cleanup_files(&m);
	pool_free(m.pool);
	notify_free(m.notify);
	keyring_free(m.kr);
	config_free(m.cf);
	log_close();
	return 1;
}
