/* main.c - sealmail-smsd: hands queued SMS notices to the gateway.
 * A program of its own, not a milter thread: a slow or dead gateway must
 * never hold up mail, and only this process holds the gateway's token.
 * The queue lives in MariaDB, so this process keeps no state: a restart,
 * a dead database or a dead gateway only delays SMS.  Logs carry queue
 * ids and outcomes, never a number or a text. */
#include <sys/stat.h>
#include <errno.h>
#include <fcntl.h>
#include <getopt.h>
#include <grp.h>
#include <pwd.h>
#include <signal.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>
#include <unistd.h>

#include <curl/curl.h>
#include <mysql.h>
#include <sodium.h>

#include "config.h"
#include "crypto.h"
#include "db.h"
#include "event.h"
#include "gateway.h"
#include "log.h"
#include "queue.h"
#include "sms.h"

#include "build.h"

#define DEFAULT_CONF SYSCONFDIR "/sealmail/sealmail.conf"
#define BATCH_MAX 1000

static const char usage_text[] =
    "usage: sealmail-smsd [-1fnV] [-c file]\n"
    "  -c file   configuration (default " DEFAULT_CONF ")\n"
    "  -f        stay in the foreground and log to stderr\n"
    "  -1        send what is due once, then exit (cron, tests)\n"
    "  -n        print the effective configuration and exit\n"
    "  -V        print the version and exit\n"
    "  -h        this help\n";

struct smsd {
	struct config *cf;
	struct keyring *kr;
	struct gateway *gw;
	struct db *db;
	struct queue_policy qp;
	int lease;
	size_t batch;
	char pid_path[1024];
};

static int
load_keys(struct smsd *s, struct sm_err *err)
{
	const char *dir = config_str(s->cf, "keys.dir");
	int version = (int)config_int(s->cf, "keys.escrow_version");
	struct sm_err why;
	char q[300];

	if (keyring_load(&s->kr, dir, version, KEY_SMS | KEY_AUDIT, &why) == 0)
		return event_audit_key_set(s->kr, err);
	if (keyring_load(&s->kr, dir, version, KEY_SMS, err) == -1)
		return -1;
	log_warn("no_audit_key", "reason=%s events=unsigned",
	    log_quote(why.msg, q, sizeof(q)));
	return 0;
}

static int
daemonize(struct sm_err *err)
{
	pid_t pid;
	int fd;

	if ((pid = fork()) == -1)
		goto fail;
	if (pid > 0)
		_exit(0);
	if (setsid() == -1 || (pid = fork()) == -1)
		goto fail;
	if (pid > 0)
		_exit(0);
	if (chdir("/") == -1 || (fd = open("/dev/null", O_RDWR)) == -1)
		goto fail;
	if (dup2(fd, 0) == -1 || dup2(fd, 1) == -1 || dup2(fd, 2) == -1)
		goto fail;
	if (fd > 2)
		close(fd);
	return 0;
fail:
	sm_err_set(err, "cannot become a daemon: %s", strerror(errno));
	return -1;
}

static int
write_pid(struct smsd *s, struct sm_err *err)
{
	const char *path = config_str(s->cf, "sms.pid_file");
	char line[32];
	int fd, n;

	if (path[0] == '\0')
		return 0;
	if (strlen(path) >= sizeof(s->pid_path)) {
		sm_err_set(err, "sms.pid_file too long");
		return -1;
	}
	fd = open(path, O_WRONLY | O_CREAT | O_TRUNC | O_NOFOLLOW | O_CLOEXEC, 0644);
	if (fd == -1) {
		sm_err_set(err, "%s: %s", path, strerror(errno));
		return -1;
	}
	n = snprintf(line, sizeof(line), "%ld\n", (long)getpid());
	if (n < 0 || write(fd, line, (size_t)n) != n || close(fd) == -1) {
		sm_err_set(err, "%s: write failed", path);
		if (n < 0)
			close(fd);
		return -1;
	}
	memcpy(s->pid_path, path, strlen(path) + 1);
	return 0;
}

static int
drop_privileges(struct smsd *s, struct sm_err *err)
{
	const char *user = config_str(s->cf, "sms.user");
	struct passwd *pw;

	if (user[0] == '\0')
		return 0;
	if ((pw = getpwnam(user)) == NULL) {
		sm_err_set(err, "sms.user: no user %s", user);
		return -1;
	}
	if (getuid() != 0 && geteuid() != 0) {
		if (getuid() == pw->pw_uid)
			return 0;
		sm_err_set(err, "sms.user is %s but not started as root", user);
		return -1;
	}
	if (s->pid_path[0] != '\0' &&
	    chown(s->pid_path, pw->pw_uid, pw->pw_gid) == -1) {
		sm_err_set(err, "chown %s: %s", s->pid_path, strerror(errno));
		return -1;
	}
	if (initgroups(user, pw->pw_gid) == -1 || setgid(pw->pw_gid) == -1 ||
	    setuid(pw->pw_uid) == -1) {
		sm_err_set(err, "cannot switch to user %s: %s", user, strerror(errno));
		return -1;
	}
	if (setuid(0) != -1 || geteuid() == 0) {
		sm_err_set(err, "root privileges could be regained after"
		    " switching to %s", user);
		return -1;
	}
	return 0;
}

/* One SMS: open its text, hand it over, record the outcome.  -1 only for
 * a database failure (the caller reconnects); a gateway failure is an
 * outcome. */
static int
send_one(struct smsd *s, long long id, struct sm_err *err)
{
	struct queue_row row;
	char text[SMS_TEXT_MAX * 2 + 1], reason[64], q[300];
	enum gw_result res;
	time_t now = time(NULL);
	int r, final = 0, rc = -1;

	r = queue_claim(s->db, id, now, s->lease, &row, err);
	if (r != 1) {
		rc = r;		/* 0: another sender has it */
		goto out;
	}
	if (sms_open(s->kr, row.message_id, row.phone, row.sealed,
	    row.sealed_len, text, sizeof(text), err) == -1) {
		/* Retrying cannot open it either: fail it, visibly. */
		log_err("sms_unreadable", "sms=%lld msg=%s reason=%s", id,
		    row.message_id, log_quote(err->msg, q, sizeof(q)));
		rc = queue_mark_failed(s->db, &row, now, &s->qp, 1,
		    "unreadable=1", &final, err);
		goto out;
	}
	res = gateway_send(s->gw, id, row.phone, text, reason, sizeof(reason));
	now = time(NULL);
	if (res == GW_SENT) {
		rc = queue_mark_sent(s->db, &row, now, reason, err);
		if (rc == 0)
			log_event("sms_sent", "sms=%lld msg=%s delivery=%lld"
			    " attempt=%d %s", id, row.message_id,
			    row.delivery_id, row.attempts + 1, reason);
		goto out;
	}
	rc = queue_mark_failed(s->db, &row, now, &s->qp, res == GW_REJECTED,
	    reason, &final, err);
	if (rc == 0)
		log_msg(final ? LOG_ERR : LOG_WARNING, "sms_failed",
		    "sms=%lld msg=%s delivery=%lld attempt=%d %s final=%d", id,
		    row.message_id, row.delivery_id, row.attempts + 1, reason,
		    final);
out:
	sodium_memzero(text, sizeof(text));
	sodium_memzero(&row, sizeof(row));
	return rc < 0 ? -1 : 0;
}

/* Sends what is due now; *full when the batch was full (more may wait). */
static int
run_once(struct smsd *s, int *full, struct sm_err *err)
{
	long long ids[BATCH_MAX];
	size_t n = 0, i;

	*full = 0;
	if (s->db == NULL && db_open(&s->db, s->cf, DB_ROLE_SMS, err) == -1)
		return -1;
	if (queue_due(s->db, time(NULL), ids, s->batch, &n, err) == -1)
		goto fail;
	for (i = 0; i < n; i++)
		if (send_one(s, ids[i], err) == -1)
			goto fail;
	*full = n == s->batch;
	return 0;
fail:
	db_close(s->db);	/* a fresh connection next time */
	s->db = NULL;
	return -1;
}

static int
run(struct smsd *s, int once, const sigset_t *set)
{
	struct timespec ts;
	struct sm_err err;
	int full = 0, down = 0, sig;
	char q[300];

	for (;;) {
		if (run_once(s, &full, &err) == -1) {
			if (!down)
				log_err("db_unavailable", "reason=%s retry_in=%lld",
				    log_quote(err.msg, q, sizeof(q)),
				    config_int(s->cf, "sms.poll_interval"));
			down = 1;
			if (once)
				return 1;
		} else if (down) {
			log_event("db_available", "state=ok");
			down = 0;
		}
		if (once && !full)
			return 0;
		ts.tv_sec = full ? 0 : (time_t)config_int(s->cf, "sms.poll_interval");
		ts.tv_nsec = full ? 1000000 : 0;
		sig = sigtimedwait(set, NULL, &ts);
		if (sig > 0) {
			log_event("stopped", "signal=%d", sig);
			return 0;
		}
	}
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
	struct smsd s;
	struct sm_err err;
	sigset_t set;
	int fg = 0, dump = 0, once = 0, ch, rc = 1;

	memset(&s, 0, sizeof(s));
	while ((ch = getopt_long(argc, argv, "1c:fnVh", longopts, NULL)) != -1) {
		switch (ch) {
		case '1':
			once = 1;
			break;
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
			printf("sealmail-smsd %s\n", PACKAGE_VERSION);
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
	if (config_load(&s.cf, conf, &err) == -1) {
		fprintf(stderr, "sealmail-smsd: %s\n", err.msg);
		return 1;
	}
	if (dump) {
		config_dump(s.cf, stdout);
		config_free(s.cf);
		return 0;
	}
	fg = fg || once;
	log_open("sealmail-smsd", fg, LOG_MAIL);
	signal(SIGPIPE, SIG_IGN);	/* a command that exits early */
	s.qp.retry_min = (int)config_int(s.cf, "sms.retry_min");
	s.qp.retry_max = (int)config_int(s.cf, "sms.retry_max");
	s.qp.max_age = (int)config_int(s.cf, "sms.max_age");
	s.batch = (size_t)config_int(s.cf, "sms.batch");
	/* A claimed row comes back to the queue if we die mid-send. */
	s.lease = (int)config_int(s.cf, "sms.timeout") + 60;
	if (s.qp.retry_max < s.qp.retry_min) {
		sm_err_set(&err, "sms.retry_max is below sms.retry_min");
		goto fail;
	}
	if (curl_global_init(CURL_GLOBAL_DEFAULT) != CURLE_OK) {
		sm_err_set(&err, "curl_global_init failed");
		goto fail;
	}
	if (mysql_library_init(0, NULL, NULL) != 0) {
		sm_err_set(&err, "mysql_library_init failed");
		goto fail;
	}
	if (load_keys(&s, &err) == -1 || gateway_open(&s.gw, s.cf, &err) == -1)
		goto fail;
	if (!fg && daemonize(&err) == -1)
		goto fail;
	if (!once && write_pid(&s, &err) == -1)
		goto fail;
	if (drop_privileges(&s, &err) == -1)
		goto fail;
	sigemptyset(&set);
	sigaddset(&set, SIGTERM);
	sigaddset(&set, SIGINT);
	sigaddset(&set, SIGHUP);
	if (sigprocmask(SIG_BLOCK, &set, NULL) == -1) {
		sm_err_set(&err, "cannot block signals");
		goto fail;
	}
	log_event("started", "version=%s gateway=%s pid=%ld", PACKAGE_VERSION,
	    config_str(s.cf, "sms.gateway"), (long)getpid());
	rc = run(&s, once, &set);
	goto out;
fail:
	log_err("startup_failed", "reason=%s", err.msg);
	if (!fg)
		fprintf(stderr, "sealmail-smsd: %s\n", err.msg);
out:
	if (s.pid_path[0] != '\0')
		(void)unlink(s.pid_path);
	db_close(s.db);
	gateway_free(s.gw);
	keyring_free(s.kr);
	config_free(s.cf);
	log_close();
	return rc;
}
