/* mail.c - one message to one patient through sendmail(1), run without a
 * shell (posix_spawn) with a fixed environment.  The recipient travels
 * after "--" and must be a plain address, so it can never become an
 * option; headers are built from checked values only. */
#include <sys/types.h>
#include <sys/wait.h>
#include <errno.h>
#include <fcntl.h>
#include <spawn.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>
#include <unistd.h>

#include <sodium.h>

#include "buf.h"
#include "mail.h"

#define ARGS_MAX 16
#define MAIL_MAX (64 * 1024)

/* An address we put in a header or on a command line: printable ASCII,
 * no spaces, brackets or quotes, one @. */
static int
addr_ok(const char *s)
{
	size_t i, n = strlen(s), at = 0;

	if (n < 3 || n > 320 || s[0] == '-')
		return 0;
	for (i = 0; i < n; i++) {
		unsigned char c = (unsigned char)s[i];

		if (c <= 0x20 || c >= 0x7f || strchr("<>()[]\\,;:\"", c) != NULL)
			return 0;
		at += c == '@';
	}
	return at == 1;
}

static int
write_all(int fd, const char *p, size_t n)
{
	while (n > 0) {
		ssize_t w = write(fd, p, n);

		if (w < 0) {
			if (errno == EINTR)
				continue;
			return -1;
		}
		p += w;
		n -= (size_t)w;
	}
	return 0;
}

int
mail_send(const struct config *cf, const char *rcpt, const char *subject,
    const char *text, struct sm_err *err)
{
	static char *const envp[] = { "PATH=/usr/sbin:/usr/bin:/sbin:/bin", NULL };
	const char *from = config_str(cf, "portal.mail_from");
	char cmd[1025], *argv[ARGS_MAX + 6], *p, date[64], rnd[33];
	unsigned char r[16];
	posix_spawn_file_actions_t fa;
	struct buf m;
	time_t now = time(NULL);
	struct tm tm;
	int fds[2] = { -1, -1 }, fa_ok = 0, argc = 0, status, ret = -1;
	pid_t pid = -1;

	buf_init(&m, MAIL_MAX);
	if (!addr_ok(rcpt) || !addr_ok(from)) {
		sm_err_set(err, "refusing to mail: bad recipient or portal.mail_from");
		goto out;
	}
	/* The command and its fixed options, split on spaces in a copy. */
	if (snprintf(cmd, sizeof(cmd), "%s", config_str(cf, "portal.sendmail")) >=
	    (int)sizeof(cmd)) {
		sm_err_set(err, "portal.sendmail too long");
		goto out;
	}
	for (p = cmd; *p != '\0';) {
		while (*p == ' ')
			*p++ = '\0';
		if (*p == '\0')
			break;
		if (argc >= ARGS_MAX) {
			sm_err_set(err, "portal.sendmail has too many words");
			goto out;
		}
		argv[argc++] = p;
		while (*p != '\0' && *p != ' ')
			p++;
	}
	if (argc == 0 || argv[0][0] != '/') {
		sm_err_set(err, "portal.sendmail must start with an absolute path");
		goto out;
	}
	argv[argc++] = "-i";
	argv[argc++] = "-f";
	argv[argc++] = (char *)from;
	argv[argc++] = "--";
	argv[argc++] = (char *)rcpt;
	argv[argc] = NULL;
	gmtime_r(&now, &tm);
	strftime(date, sizeof(date), "%a, %d %b %Y %H:%M:%S +0000", &tm);
	randombytes_buf(r, sizeof(r));
	sodium_bin2hex(rnd, sizeof(rnd), r, sizeof(r));
	if (buf_printf(&m, "From: <%s>\nTo: <%s>\nSubject: %s\nDate: %s\n"
	    "Message-ID: <%s@sealmail.portal>\nMIME-Version: 1.0\n"
	    "Content-Type: text/plain; charset=utf-8\n"
	    "Content-Transfer-Encoding: 8bit\nAuto-Submitted: auto-generated\n\n",
	    from, rcpt, subject, date, rnd) == -1 || buf_puts(&m, text) == -1) {
		sm_err_set(err, "mail too large");
		goto out;
	}
	if (pipe2(fds, O_CLOEXEC) == -1) {
		sm_err_set(err, "pipe: %s", strerror(errno));
		goto out;
	}
	if (posix_spawn_file_actions_init(&fa) != 0) {
		sm_err_set(err, "posix_spawn_file_actions_init failed");
		goto out;
	}
	fa_ok = 1;
	if (posix_spawn_file_actions_adddup2(&fa, fds[0], 0) != 0 ||
	    posix_spawn_file_actions_addopen(&fa, 1, "/dev/null", O_WRONLY, 0) != 0 ||
	    posix_spawn_file_actions_addopen(&fa, 2, "/dev/null", O_WRONLY, 0) != 0) {
		sm_err_set(err, "posix_spawn file actions failed");
		goto out;
	}
	errno = posix_spawn(&pid, argv[0], &fa, NULL, argv, envp);
	if (errno != 0) {
		sm_err_set(err, "cannot run %s: %s", argv[0], strerror(errno));
		pid = -1;
		goto out;
	}
	close(fds[0]);
	fds[0] = -1;
	if (write_all(fds[1], m.p, m.len) == -1) {
		sm_err_set(err, "%s: writing the mail failed: %s", argv[0],
		    strerror(errno));
		goto out;
	}
	close(fds[1]);
	fds[1] = -1;
	ret = 0;
out:
	if (fds[0] != -1)
		close(fds[0]);
	if (fds[1] != -1)
		close(fds[1]);
	if (pid != -1) {
		while (waitpid(pid, &status, 0) == -1) {
			if (errno != EINTR) {
				sm_err_set(err, "waitpid: %s", strerror(errno));
				ret = -1;
				break;
			}
		}
		if (ret == 0 && (!WIFEXITED(status) || WEXITSTATUS(status) != 0)) {
			sm_err_set(err, "%s exited with status %d", argv[0],
			    WIFEXITED(status) ? WEXITSTATUS(status) : -1);
			ret = -1;
		}
	}
	if (fa_ok)
		posix_spawn_file_actions_destroy(&fa);
	if (m.p != NULL)
		sodium_memzero(m.p, m.len);	/* it held a recovery link */
	buf_free(&m);
	return ret;
}
