/* main.c - sealmail-portal: options, keys, socket, privileges, prefork.
 * Startup order: configuration; keys and the database password (files only
 * root may read); templates parsed once (workers inherit them); the
 * FastCGI socket, created under a tight umask, then its mode and group;
 * the pid file; then groups, group and user are dropped and root is
 * checked to be gone, before any worker exists.  The master only forks,
 * restarts workers that die and passes SIGHUP on; it never serves. */
#include <errno.h>
#include <fcntl.h>
#include <getopt.h>
#include <grp.h>
#include <pwd.h>
#include <signal.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/socket.h>
#include <sys/stat.h>
#include <sys/types.h>
#include <sys/wait.h>
#include <time.h>
#include <unistd.h>

#include <fcgiapp.h>
#include <mysql.h>
#include <sodium.h>

#include "brand.h"
#include "config.h"
#include "crypto.h"
#include "event.h"
#include "log.h"
#include "page.h"
#include "password.h"
#include "portal.h"
#include "template.h"
#include "worker.h"

#ifndef PACKAGE_VERSION
#define PACKAGE_VERSION "0.1.0"
#endif
#ifndef SYSCONFDIR
#define SYSCONFDIR "/etc"
#endif

#define DEFAULT_CONF SYSCONFDIR "/sealmail/sealmail.conf"
#define WORKERS_MAX 256
#define STOP_GRACE_SECS 5
#define PASSWORD_MAX 128

static const char usage_text[] =
    "usage: sealmail-portal [-fntV] [-c file]\n"
    "  -c file   configuration (default " DEFAULT_CONF ")\n"
    "  -f        stay in the foreground and log to stderr\n"
    "  -n        print the effective configuration and exit\n"
    "  -t        check configuration, keys and templates, then exit\n"
    "  -V        print the version and exit\n"
    "  -h        this help\n";

static volatile sig_atomic_t got_term, got_hup, got_chld;

static void
on_signal(int sig)
{
	if (sig == SIGTERM || sig == SIGINT)
		got_term = 1;
	else if (sig == SIGHUP)
		got_hup = 1;
	else if (sig == SIGCHLD)
		got_chld = 1;
}

/* Reads the portal's database password; it stays in locked memory for
 * reconnects after privileges are gone. */
static int
read_password(const struct config *cf, char **out, struct sm_err *err)
{
	char *pw = sodium_malloc(PASSWORD_MAX + 1);
	size_t got = 0;

	if (pw == NULL) {
		sm_err_set(err, "out of memory");
		return -1;
	}
	if (config_secret_read(config_str(cf, "database.portal.password_file"),
	    pw, PASSWORD_MAX, 0, &got, err) == -1) {
		sodium_free(pw);
		return -1;
	}
	while (got > 0 && (pw[got - 1] == '\n' || pw[got - 1] == '\r'))
		got--;
	pw[got] = '\0';
	*out = pw;
	return 0;
}

/* The listening socket: one we create from portal.socket, or the one
 * spawn-fcgi left on fd 0, or systemd's on fd 3. */
static int
open_socket(const struct config *cf, char *unix_path, size_t cap,
    struct sm_err *err)
{
	const char *spec = config_str(cf, "portal.socket");
	const char *lp = getenv("LISTEN_PID"), *lf = getenv("LISTEN_FDS");
	struct stat st;
	mode_t old;
	int fd;

	unix_path[0] = '\0';
	if (spec[0] == '\0') {
		if (lp != NULL && lf != NULL && strtol(lp, NULL, 10) == (long)getpid() &&
		    strcmp(lf, "1") == 0)
			return 3;
		if (fstat(0, &st) == 0 && S_ISSOCK(st.st_mode))
			return 0;
		sm_err_set(err, "portal.socket is empty and no socket was inherited"
		    " (spawn-fcgi fd 0, systemd LISTEN_FDS)");
		return -1;
	}
	if (strncmp(spec, "unix:", 5) == 0) {
		const char *path = spec + 5;
		const char *group = config_str(cf, "portal.socket_group");
		mode_t mode = (mode_t)config_int(cf, "portal.socket_mode");

		if (path[0] != '/' || strlen(path) >= cap || strlen(path) > 100) {
			sm_err_set(err, "portal.socket: unix path must be absolute"
			    " and at most 100 bytes");
			return -1;
		}
		/* A stale socket from a previous run; never another file. */
		if (lstat(path, &st) == 0) {
			if (!S_ISSOCK(st.st_mode)) {
				sm_err_set(err, "%s exists and is not a socket", path);
				return -1;
			}
			if (unlink(path) == -1) {
				sm_err_set(err, "unlink %s: %s", path, strerror(errno));
				return -1;
			}
		}
		old = umask(0177);
		fd = FCGX_OpenSocket(path, 128);
		umask(old);
		if (fd < 0) {
			sm_err_set(err, "cannot listen on %s", path);
			return -1;
		}
		snprintf(unix_path, cap, "%s", path);
		if (group[0] != '\0') {
			struct group *gr = getgrnam(group);

			if (gr == NULL || chown(path, (uid_t)-1, gr->gr_gid) == -1) {
				sm_err_set(err, "portal.socket_group %s: cannot set", group);
				close(fd);
				return -1;
			}
		}
		if (chmod(path, mode) == -1) {
			sm_err_set(err, "chmod %s: %s", path, strerror(errno));
			close(fd);
			return -1;
		}
		return fd;
	}
	/* host:port, as libfcgi takes it */
	if (strchr(spec, ':') == NULL) {
		sm_err_set(err, "portal.socket: expected unix:PATH or HOST:PORT");
		return -1;
	}
	fd = FCGX_OpenSocket(spec, 128);
	if (fd < 0) {
		sm_err_set(err, "cannot listen on %s", spec);
		return -1;
	}
	return fd;
}

static int
write_pid(const char *path, struct sm_err *err)
{
	char line[32];
	int fd, n;

	if (path[0] == '\0')
		return 0;
	fd = open(path, O_WRONLY | O_CREAT | O_TRUNC | O_CLOEXEC | O_NOFOLLOW, 0644);
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
	return close(fd);
}

static int
drop_privileges(const char *user, struct sm_err *err)
{
	struct passwd *pw;

	if (user[0] == '\0') {
		if (geteuid() == 0)
			log_warn("running_as_root", "hint=\"set portal.user\"");
		return 0;
	}
	pw = getpwnam(user);
	if (pw == NULL) {
		sm_err_set(err, "portal.user %s: no such user", user);
		return -1;
	}
	if (initgroups(user, pw->pw_gid) == -1 || setgid(pw->pw_gid) == -1 ||
	    setuid(pw->pw_uid) == -1) {
		sm_err_set(err, "cannot become %s: %s", user, strerror(errno));
		return -1;
	}
	if (pw->pw_uid != 0 && (setuid(0) == 0 || seteuid(0) == 0)) {
		sm_err_set(err, "root could be regained after dropping to %s", user);
		return -1;
	}
	return 0;
}

struct slot {
	pid_t pid;
	time_t started;
};

static pid_t
spawn_worker(struct portal *p, int fd, const char *templates)
{
	pid_t pid = fork();

	if (pid == 0)
		worker_run(p, fd, templates);
	if (pid < 0)
		log_err("fork_failed", "reason=\"%s\"", strerror(errno));
	return pid;
}

static void
signal_all(struct slot *s, size_t n, int sig)
{
	size_t i;

	for (i = 0; i < n; i++)
		if (s[i].pid > 0)
			(void)kill(s[i].pid, sig);
}

static size_t
reap(struct slot *s, size_t n, int log_deaths)
{
	size_t live = 0, i;
	pid_t pid;
	int status;

	while ((pid = waitpid(-1, &status, WNOHANG)) > 0) {
		for (i = 0; i < n; i++) {
			if (s[i].pid != pid)
				continue;
			s[i].pid = 0;
			if (log_deaths)
				log_warn("worker_died", "pid=%ld status=%d signal=%d",
				    (long)pid, WIFEXITED(status) ? WEXITSTATUS(status) : -1,
				    WIFSIGNALED(status) ? WTERMSIG(status) : 0);
		}
	}
	for (i = 0; i < n; i++)
		if (s[i].pid > 0)
			live++;
	return live;
}

static int
supervise(struct portal *p, int fd, const char *templates, size_t nworkers)
{
	struct slot slots[WORKERS_MAX];
	sigset_t block, old;
	size_t i;
	time_t deadline;

	memset(slots, 0, sizeof(slots));
	sigemptyset(&block);
	sigaddset(&block, SIGCHLD);
	sigaddset(&block, SIGTERM);
	sigaddset(&block, SIGINT);
	sigaddset(&block, SIGHUP);
	if (sigprocmask(SIG_BLOCK, &block, &old) == -1)
		return -1;
	while (!got_term) {
		time_t now = time(NULL);
		int wait_a_bit = 0;

		(void)reap(slots, nworkers, 1);
		for (i = 0; i < nworkers; i++) {
			if (slots[i].pid > 0)
				continue;
			/* A worker that dies at once would die again: one
			 * restart per slot per second, not a fork storm. */
			if (slots[i].started != 0 && now - slots[i].started < 1) {
				wait_a_bit = 1;
				continue;
			}
			slots[i].pid = spawn_worker(p, fd, templates);
			slots[i].started = now;
		}
		if (got_hup) {
			struct pages *pg = NULL;
			struct sm_err err;

			got_hup = 0;
			/* New workers must get the new templates too. */
			if (pages_load(&pg, templates, &err) == 0) {
				pages_free(p->pages);
				p->pages = pg;
			} else {
				log_err("reload_failed", "reason=\"%s\"", err.msg);
			}
			signal_all(slots, nworkers, SIGHUP);
		}
		if (wait_a_bit) {
			/* Cannot fail with these arguments; if it did, stop
			 * cleanly rather than supervise blind. */
			if (sigprocmask(SIG_SETMASK, &old, NULL) == -1) {
				got_term = 1;
				break;
			}
			sleep(1);
			if (sigprocmask(SIG_BLOCK, &block, NULL) == -1) {
				got_term = 1;
				break;
			}
		} else if (!got_term && !got_hup && !got_chld) {
			sigsuspend(&old);
		}
		got_chld = 0;
	}
	log_event("stopping", "workers=%zu", nworkers);
	signal_all(slots, nworkers, SIGTERM);
	deadline = time(NULL) + STOP_GRACE_SECS;
	while (reap(slots, nworkers, 0) > 0 && time(NULL) < deadline) {
		struct timespec ts = { 0, 50 * 1000 * 1000 };

		nanosleep(&ts, NULL);
	}
	signal_all(slots, nworkers, SIGKILL);
	while (reap(slots, nworkers, 0) > 0) {
		struct timespec ts = { 0, 20 * 1000 * 1000 };

		nanosleep(&ts, NULL);
	}
	sigprocmask(SIG_SETMASK, &old, NULL);
	return 0;
}

/* The escrow's secret keys, the signature key and the pepper; the audit
 * key too when the key directory has one, so the portal's events carry
 * their MAC from the start (event.h). */
static int
load_keys(const struct config *cf, struct keyring **kr, struct sm_err *err)
{
	const char *dir = config_str(cf, "keys.dir");
	int version = (int)config_int(cf, "keys.escrow_version");
	unsigned need = KEY_ESCROW_SECRET | KEY_SIGN_PUBLIC | KEY_PEPPER;
	struct sm_err why;

	if (keyring_load(kr, dir, version, need | KEY_AUDIT, &why) == 0)
		return event_audit_key_set(*kr, err);
	if (keyring_load(kr, dir, version, need, err) == -1)
		return -1;
	log_warn("no_audit_key", "reason=\"%s\" events=unsigned", why.msg);
	return 0;
}

static void
derive_csrf_key(struct portal *p)
{
	static const char ctx[] = "sealmail portal csrf key v1";

	crypto_generichash(p->csrf_key, sizeof(p->csrf_key),
	    (const unsigned char *)ctx, sizeof(ctx) - 1,
	    keyring_pepper(p->kr), SM_PEPPER_BYTES);
}

int
main(int argc, char **argv)
{
	const char *conf = DEFAULT_CONF;
	struct config *cf = NULL;
	struct keyring *kr = NULL;
	struct portal p;
	struct sm_err err;
	struct sigaction sa;
	char sock_path[1024] = "", *pw = NULL;
	const char *pid_path = "";
	int c, fg = 0, dump = 0, test = 0, fd = -1, ret = 1;

	memset(&p, 0, sizeof(p));
	while ((c = getopt(argc, argv, "c:fntVh")) != -1) {
		switch (c) {
		case 'c':
			conf = optarg;
			break;
		case 'f':
			fg = 1;
			break;
		case 'n':
			dump = 1;
			break;
		case 't':
			test = 1;
			break;
		case 'V':
			printf("sealmail-portal %s\n", PACKAGE_VERSION);
			return 0;
		case 'h':
			fputs(usage_text, stdout);
			return 0;
		default:
			fputs(usage_text, stderr);
			return 2;
		}
	}
	if (optind != argc) {
		fputs(usage_text, stderr);
		return 2;
	}
	if (sodium_init() < 0) {
		fprintf(stderr, "sealmail-portal: libsodium failed to initialise\n");
		return 1;
	}
	if (config_load(&cf, conf, &err) == -1) {
		fprintf(stderr, "sealmail-portal: %s\n", err.msg);
		return 1;
	}
	if (dump) {
		config_dump(cf, stdout);
		config_free(cf);
		return 0;
	}
	log_open("sealmail-portal", fg || test, log_facility(config_str(cf, "log.facility")));
	p.cf = cf;
	p.db_user = config_str(cf, "database.portal.user");
	p.cost.ops = (unsigned long long)config_int(cf, "crypto.argon2_ops");
	p.cost.mem_bytes = (size_t)config_int(cf, "crypto.argon2_mem_kib") * 1024;
	p.cost.date_order = strcmp(config_str(cf, "crypto.date_order"), "dmy") == 0 ?
	    DATE_DMY : DATE_MDY;
	if (load_keys(cf, &kr, &err) == -1 ||
	    read_password(cf, &pw, &err) == -1 ||
	    template_global_init(&err) == -1 ||
	    pages_load(&p.pages, config_str(cf, "portal.templates"), &err) == -1 ||
	    password_list_load(cf, &err) == -1 ||
	    brand_cache_new(&p.brands) == -1) {
		log_err("startup_failed", "reason=\"%s\"", err.msg);
		goto out;
	}
	p.kr = kr;
	p.db_password = pw;
	derive_csrf_key(&p);
	if (test) {
		log_event("config_ok", "conf=%s", conf);
		ret = 0;
		goto out;
	}
	if (mysql_library_init(0, NULL, NULL) != 0) {
		log_err("startup_failed", "reason=\"mysql_library_init failed\"");
		goto out;
	}
	if (FCGX_Init() != 0) {
		log_err("startup_failed", "reason=\"FCGX_Init failed\"");
		goto out;
	}
	fd = open_socket(cf, sock_path, sizeof(sock_path), &err);
	if (fd < 0) {
		log_err("startup_failed", "reason=\"%s\"", err.msg);
		goto out;
	}
	pid_path = config_str(cf, "portal.pid_file");
	if (write_pid(pid_path, &err) == -1 ||
	    drop_privileges(config_str(cf, "portal.user"), &err) == -1) {
		log_err("startup_failed", "reason=\"%s\"", err.msg);
		pid_path = "";
		goto out;
	}
	memset(&sa, 0, sizeof(sa));
	sigemptyset(&sa.sa_mask);
	sa.sa_handler = on_signal;
	if (sigaction(SIGTERM, &sa, NULL) == -1 || sigaction(SIGINT, &sa, NULL) == -1 ||
	    sigaction(SIGHUP, &sa, NULL) == -1 || sigaction(SIGCHLD, &sa, NULL) == -1) {
		log_err("startup_failed", "reason=\"sigaction failed\"");
		goto out;
	}
	sa.sa_handler = SIG_IGN;
	(void)sigaction(SIGPIPE, &sa, NULL);
	log_event("started", "version=%s workers=%lld socket=%s", PACKAGE_VERSION,
	    config_int(cf, "portal.workers"),
	    sock_path[0] ? sock_path : "inherited");
	if (supervise(&p, fd, config_str(cf, "portal.templates"),
	    (size_t)config_int(cf, "portal.workers")) == 0)
		ret = 0;
	log_event("stopped", "status=%d", ret);
out:
	if (fd > 0)
		close(fd);
	if (sock_path[0] != '\0')
		(void)unlink(sock_path);
	if (pid_path[0] != '\0')
		(void)unlink(pid_path);
	brand_cache_free(p.brands);
	pages_free(p.pages);
	password_list_free();
	if (pw != NULL)
		sodium_free(pw);
	event_audit_key_clear();
	keyring_free(kr);
	config_free(cf);
	log_close();
	return ret;
}
