/* notify.c - rendering notices and submitting the per-recipient ones.
 * A notice carries the lab's name, the link, the expiry and the lab's own
 * reference: never a byte of the sealed message.  Templates are parsed once
 * per template set and kept for the life of the process (restart the milter
 * after editing them).  Separate notices go through the MTA's sendmail
 * command with an argv (no shell), so an address cannot become a command. */
#ifndef _GNU_SOURCE
#define _GNU_SOURCE		/* pipe2, posix_spawn_file_actions_addclosefrom_np */
#endif
#include <errno.h>
#include <fcntl.h>
#include <pthread.h>
#include <signal.h>
#include <spawn.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <strings.h>
#include <sys/stat.h>
#include <sys/wait.h>
#include <time.h>
#include <unistd.h>

#include <gmime/gmime.h>
#include <sodium.h>

#include "log.h"
#include "notify.h"
#include "template.h"

#define SENDMAIL_ARGS_MAX 16
#define SET_KEY_MAX (LAB_NAME_MAX + 1 + 64)

/* One parsed pair of templates. */
struct tset {
	char key[SET_KEY_MAX + 1];	/* "" default, "set", "set/variant" */
	struct template *txt;
	struct template *html;
	int missing;			/* no such directory: use the default */
	struct tset *next;
};

struct notify {
	const struct config *cf;
	char dir[1024];
	char url[600];
	char *sendmail_copy;		/* milter.sendmail, split in place */
	char *argv[SENDMAIL_ARGS_MAX + 1];
	int argc;
	pthread_mutex_t lock;
	struct tset *def;
	struct tset *sets;
};

static const char *const kept_headers[] = {
	"From", "Sender", "Reply-To", "Date", "Message-ID",
	/* Trace lines stay: RFC 5321 asks relays not to remove them, they
	 * carry routing (no content), and Postfix writes "for <address>"
	 * only when a message has a single recipient, who is this one. */
	"Received",
};

int
notify_header_kept(const char *name)
{
	size_t i;

	for (i = 0; i < sizeof(kept_headers) / sizeof(kept_headers[0]); i++)
		if (strcasecmp(name, kept_headers[i]) == 0)
			return 1;
	return 0;
}

static void
tset_free(struct tset *s)
{
	if (s == NULL)
		return;
	template_free(s->txt);
	template_free(s->html);
	free(s);
}

/* Parses dir/notice.txt.cs and dir/notice.html.cs; 0 with s->missing set
 * when dir has no notice.txt.cs at all. */
static int
tset_load(struct tset *s, const char *dir, struct sm_err *err)
{
	char path[1200];
	struct stat st;
	int n;

	n = snprintf(path, sizeof(path), "%s/notice.txt.cs", dir);
	if (n < 0 || (size_t)n >= sizeof(path)) {
		sm_err_set(err, "template path too long");
		return -1;
	}
	if (stat(path, &st) == -1 && errno == ENOENT) {
		s->missing = 1;
		return 0;
	}
	if (template_load(&s->txt, path, TEMPLATE_RAW, err) == -1)
		return -1;
	n = snprintf(path, sizeof(path), "%s/notice.html.cs", dir);
	if (n < 0 || (size_t)n >= sizeof(path)) {
		sm_err_set(err, "template path too long");
		return -1;
	}
	return template_load(&s->html, path, TEMPLATE_HTML, err);
}

/* Splits milter.sendmail on spaces: an argv, never a shell line. */
static int
split_command(struct notify *n, const char *cmd, struct sm_err *err)
{
	char *p, *save = NULL;

	n->sendmail_copy = strdup(cmd);
	if (n->sendmail_copy == NULL) {
		sm_err_set(err, "out of memory");
		return -1;
	}
	for (p = strtok_r(n->sendmail_copy, " \t", &save); p != NULL;
	    p = strtok_r(NULL, " \t", &save)) {
		if (n->argc >= SENDMAIL_ARGS_MAX - 5) {
			sm_err_set(err, "milter.sendmail has too many words");
			return -1;
		}
		n->argv[n->argc++] = p;
	}
	if (n->argc == 0 || n->argv[0][0] != '/') {
		sm_err_set(err, "milter.sendmail must start with an absolute path");
		return -1;
	}
	return 0;
}

int
notify_new(struct notify **out, const struct config *cf, struct sm_err *err)
{
	struct notify *n;
	const char *dir = config_str(cf, "milter.templates");
	const char *url = config_str(cf, "portal.url");
	size_t ulen = strlen(url);

	n = calloc(1, sizeof(*n));
	if (n == NULL) {
		sm_err_set(err, "out of memory");
		return -1;
	}
	if (pthread_mutex_init(&n->lock, NULL) != 0) {
		free(n);
		sm_err_set(err, "cannot create the template lock");
		return -1;
	}
	n->cf = cf;
	while (ulen > 0 && url[ulen - 1] == '/')
		ulen--;		/* "https://x/" and "https://x" give one link */
	if (strlen(dir) >= sizeof(n->dir) || ulen >= sizeof(n->url)) {
		sm_err_set(err, "milter.templates or portal.url too long");
		goto fail;
	}
	if (strncmp(url, "https://", 8) != 0 && strncmp(url, "http://", 7) != 0) {
		sm_err_set(err, "portal.url must start with https:// or http://");
		goto fail;
	}
	memcpy(n->dir, dir, strlen(dir) + 1);
	memcpy(n->url, url, ulen);
	n->url[ulen] = '\0';
	if (split_command(n, config_str(cf, "milter.sendmail"), err) == -1)
		goto fail;
	n->def = calloc(1, sizeof(*n->def));
	if (n->def == NULL) {
		sm_err_set(err, "out of memory");
		goto fail;
	}
	if (tset_load(n->def, n->dir, err) == -1)
		goto fail;
	if (n->def->missing) {
		sm_err_set(err, "%s/notice.txt.cs: no such file", n->dir);
		goto fail;
	}
	*out = n;
	return 0;
fail:
	notify_free(n);
	return -1;
}

void
notify_free(struct notify *n)
{
	struct tset *s, *next;

	if (n == NULL)
		return;
	for (s = n->sets; s != NULL; s = next) {
		next = s->next;
		tset_free(s);
	}
	tset_free(n->def);
	free(n->sendmail_copy);
	pthread_mutex_destroy(&n->lock);
	free(n);
}

/* Set and variant names become directory names: letters, digits, '-', '_'. */
static int
safe_name(const char *s)
{
	size_t i;

	if (s[0] == '\0' || s[0] == '-')
		return 0;
	for (i = 0; s[i] != '\0'; i++) {
		char c = s[i];

		if (!((c >= 'a' && c <= 'z') || (c >= 'A' && c <= 'Z') ||
		    (c >= '0' && c <= '9') || c == '-' || c == '_'))
			return 0;
	}
	return i <= 64;
}

/* The parsed set for key, loading it on first use.  NULL with err on a
 * template that does not parse; *missing when the directory is absent. */
static struct tset *
tset_get(struct notify *n, const char *set, const char *variant,
    int *missing, struct sm_err *err)
{
	char key[SET_KEY_MAX + 1], dir[1200];
	struct tset *s;
	int len;

	*missing = 0;
	if (variant[0] == '\0' && (strcmp(set, "default") == 0 || set[0] == '\0'))
		return n->def;
	if (!safe_name(set) || (variant[0] != '\0' && !safe_name(variant))) {
		sm_err_set(err, "template set name is not a plain name");
		return NULL;
	}
	len = snprintf(key, sizeof(key), "%s%s%s", set, variant[0] ? "/" : "", variant);
	if (len < 0 || (size_t)len >= sizeof(key)) {
		sm_err_set(err, "template set name too long");
		return NULL;
	}
	pthread_mutex_lock(&n->lock);
	for (s = n->sets; s != NULL; s = s->next)
		if (strcmp(s->key, key) == 0)
			break;
	if (s == NULL) {
		s = calloc(1, sizeof(*s));
		len = snprintf(dir, sizeof(dir), "%s/%s", n->dir, key);
		if (s == NULL || len < 0 || (size_t)len >= sizeof(dir)) {
			free(s);
			pthread_mutex_unlock(&n->lock);
			sm_err_set(err, "out of memory");
			return NULL;
		}
		snprintf(s->key, sizeof(s->key), "%s", key);
		/* A broken lab template is not cached: the admin may fix it
		 * and the next message tries again. */
		if (tset_load(s, dir, err) == -1) {
			tset_free(s);
			pthread_mutex_unlock(&n->lock);
			return NULL;
		}
		s->next = n->sets;
		n->sets = s;
	}
	pthread_mutex_unlock(&n->lock);
	if (s->missing) {
		*missing = 1;
		return n->def;
	}
	return s;
}

int
notify_has_variant(struct notify *n, const struct lab *lab,
    const char *variant, struct sm_err *err)
{
	int missing;

	if (variant[0] == '\0')
		return 1;
	if (tset_get(n, lab->template_set, variant, &missing, err) == NULL)
		return -1;
	return !missing;
}

void
notice_init(struct notice *nt)
{
	memset(nt, 0, sizeof(*nt));
	buf_init(&nt->body, NOTICE_MAX * 3);
}

void
notice_free(struct notice *nt)
{
	buf_free(&nt->body);
}

/* Appends src with every line ending made CRLF; reports 8-bit bytes and
 * whether any line is longer than SMTP allows (998). */
static int
append_crlf(struct buf *b, const char *src, size_t n, int *eightbit,
    int *longline)
{
	size_t i, col = 0;

	for (i = 0; i < n; i++) {
		unsigned char c = (unsigned char)src[i];

		if (c == '\r')
			continue;
		if (c == '\n') {
			if (buf_append(b, "\r\n", 2) == -1)
				return -1;
			col = 0;
			continue;
		}
		if (c >= 0x80)
			*eightbit = 1;
		if (++col > 998)
			*longline = 1;
		if (buf_append(b, &src[i], 1) == -1)
			return -1;
	}
	if (col > 0 && buf_append(b, "\r\n", 2) == -1)
		return -1;
	return 0;
}

/* Quoted-printable (RFC 2045) for a part with over-long lines. */
static int
append_qp(struct buf *b, const char *src, size_t n)
{
	static const char hex[] = "0123456789ABCDEF";
	size_t i, col = 0;

	for (i = 0; i < n; i++) {
		unsigned char c = (unsigned char)src[i];
		char enc[3];
		size_t w;

		if (c == '\r')
			continue;
		if (c == '\n') {
			if (buf_append(b, "\r\n", 2) == -1)
				return -1;
			col = 0;
			continue;
		}
		if ((c >= 33 && c <= 126 && c != '=') ||
		    (c == ' ' && i + 1 < n && src[i + 1] != '\n' && src[i + 1] != '\r')) {
			enc[0] = (char)c;
			w = 1;
		} else {
			enc[0] = '=';
			enc[1] = hex[c >> 4];
			enc[2] = hex[c & 15];
			w = 3;
		}
		if (col + w > 75) {
			if (buf_append(b, "=\r\n", 3) == -1)
				return -1;
			col = 0;
		}
		if (buf_append(b, enc, w) == -1)
			return -1;
		col += w;
	}
	if (col > 0 && buf_append(b, "\r\n", 2) == -1)
		return -1;
	return 0;
}

static int
append_part(struct buf *b, const char *boundary, const char *type,
    const char *src, size_t n, int *any8)
{
	struct buf tmp;
	int eight = 0, longline = 0, rc = -1;

	buf_init(&tmp, NOTICE_MAX * 2);
	if (append_crlf(&tmp, src, n, &eight, &longline) == -1)
		goto out;
	if (buf_printf(b, "--%s\r\nContent-Type: %s; charset=utf-8\r\n"
	    "Content-Transfer-Encoding: %s\r\n\r\n", boundary, type,
	    longline ? "quoted-printable" : eight ? "8bit" : "7bit") == -1)
		goto out;
	if (longline)
		rc = append_qp(b, src, n);
	else
		rc = buf_append(b, tmp.p ? tmp.p : "", tmp.len);
	if (!longline && eight)
		*any8 = 1;
out:
	buf_free(&tmp);
	return rc;
}

static int
valid_colour(const char *c)
{
	size_t i;

	if (c[0] != '#' || strlen(c) != 7)
		return 0;
	for (i = 1; i < 7; i++) {
		char x = c[i];

		if (!((x >= '0' && x <= '9') || (x >= 'a' && x <= 'f') ||
		    (x >= 'A' && x <= 'F')))
			return 0;
	}
	return 1;
}

static void
encode_subject(const char *subject, char *out, size_t cap)
{
	char clean[LAB_TEXT_MAX + 1];
	char *enc;
	size_t i;

	for (i = 0; subject[i] != '\0' && i + 1 < sizeof(clean); i++) {
		unsigned char c = (unsigned char)subject[i];

		clean[i] = (c < 0x20 || c == 0x7f) ? ' ' : (char)c;
	}
	clean[i] = '\0';
	enc = g_mime_utils_header_encode_text(NULL, clean, "utf-8");
	snprintf(out, cap, "%s", enc != NULL ? enc : "You have a secure message");
	g_free(enc);
	/* GMime may fold a long encoded subject; a folded line must
	 * continue with whitespace, which GMime guarantees, so only bare
	 * line feeds need to become CRLF-free: join them. */
	for (i = 0; out[i] != '\0'; i++)
		if (out[i] == '\r' || out[i] == '\n')
			out[i] = ' ';
}

int
notify_render(struct notify *n, const struct notice_info *ni,
    struct notice *out, struct sm_err *err)
{
	unsigned char rnd[12];
	char boundary[48], link[sizeof(n->url) + 8 + 64], expires[64];
	struct template_var v[8];
	struct buf txt, html;
	struct tset *s;
	struct tm tm;
	size_t i;
	int any8 = 0, missing, ret = -1;

	buf_init(&txt, NOTICE_MAX);
	buf_init(&html, NOTICE_MAX);
	s = tset_get(n, ni->lab->template_set, ni->variant, &missing, err);
	if (s == NULL)
		goto out;
	if (snprintf(link, sizeof(link), "%s/m/%s", n->url, ni->token) >= (int)sizeof(link)) {
		sm_err_set(err, "link too long");
		goto out;
	}
	if (gmtime_r(&ni->expires, &tm) == NULL ||
	    strftime(expires, sizeof(expires), "%d %B %Y", &tm) == 0) {
		sm_err_set(err, "cannot format the expiry date");
		goto out;
	}
	i = 0;
	v[i++] = (struct template_var){ "Lab.Name", ni->lab->display_name };
	v[i++] = (struct template_var){ "Lab.Contact", ni->lab->contact };
	v[i++] = (struct template_var){ "Lab.Colour",
	    valid_colour(ni->lab->colour) ? ni->lab->colour : "#1f5f8b" };
	/* Only an https logo: an image URL is fetched by the patient's mail
	 * client, and plain http would leak that a notice was opened. */
	v[i++] = (struct template_var){ "Lab.Logo",
	    strncmp(ni->lab->logo_url, "https://", 8) == 0 ? ni->lab->logo_url : NULL };
	v[i++] = (struct template_var){ "Link", link };
	v[i++] = (struct template_var){ "Expires", expires };
	v[i++] = (struct template_var){ "Reference",
	    ni->reference[0] ? ni->reference : NULL };
	if (template_render(s->txt, v, i, &txt, err) == -1 ||
	    template_render(s->html, v, i, &html, err) == -1)
		goto out;
	randombytes_buf(rnd, sizeof(rnd));
	/* "=_" cannot occur in quoted-printable text, and the random part
	 * makes a collision with the templates' own text hopeless. */
	memcpy(boundary, "=_sealmail_", 11);
	sodium_bin2hex(boundary + 11, sizeof(boundary) - 11, rnd, sizeof(rnd));
	buf_reset(&out->body);
	if (buf_puts(&out->body, "This is a message in MIME format.\r\n\r\n") == -1 ||
	    append_part(&out->body, boundary, "text/plain", txt.p ? txt.p : "",
	    txt.len, &any8) == -1 ||
	    append_part(&out->body, boundary, "text/html", html.p ? html.p : "",
	    html.len, &any8) == -1 ||
	    buf_printf(&out->body, "--%s--\r\n", boundary) == -1) {
		sm_err_set(err, "notice larger than %d bytes", NOTICE_MAX);
		goto out;
	}
	snprintf(out->content_type, sizeof(out->content_type),
	    "multipart/alternative; boundary=\"%s\"", boundary);
	out->cte = any8 ? "8bit" : "7bit";
	encode_subject(ni->lab->notice_subject, out->subject, sizeof(out->subject));
	ret = 0;
out:
	sodium_memzero(link, sizeof(link));
	buf_free(&txt);
	buf_free(&html);
	return ret;
}

/* Writes all of p to fd, turning CRLF into LF: sendmail's input is a
 * local text file, not SMTP. */
static int
write_lf(int fd, const char *p, size_t n)
{
	char out[8192];
	size_t i = 0, o;

	while (i < n) {
		size_t off = 0;

		for (o = 0; i < n && o < sizeof(out); i++)
			if (!(p[i] == '\r' && i + 1 < n && p[i + 1] == '\n'))
				out[o++] = p[i];
		while (off < o) {
			ssize_t w = write(fd, out + off, o - off);

			if (w == -1 && errno == EINTR)
				continue;
			if (w <= 0)
				return -1;
			off += (size_t)w;
		}
	}
	return 0;
}

static int
build_headers(struct buf *h, const char *kept, size_t keptlen,
    const char *rcpt, const char *message_id, const char *sender,
    const struct notice *nt)
{
	unsigned char rnd[8];
	char date[64], rhex[17];
	const char *domain;
	time_t now = time(NULL);
	struct tm tm;

	if (gmtime_r(&now, &tm) == NULL ||
	    strftime(date, sizeof(date), "%a, %d %b %Y %H:%M:%S +0000", &tm) == 0)
		return -1;
	randombytes_buf(rnd, sizeof(rnd));
	sodium_bin2hex(rhex, sizeof(rhex), rnd, sizeof(rnd));
	domain = strrchr(sender, '@');
	domain = (domain != NULL && domain[1] != '\0') ? domain + 1 : "sealmail.invalid";
	if (buf_append(h, kept, keptlen) == -1 ||
	    buf_printf(h, "To: <%s>\r\nSubject: %s\r\nDate: %s\r\n"
	    "Message-ID: <%s.%s@%s>\r\nMIME-Version: 1.0\r\n"
	    "Content-Type: %s\r\nContent-Transfer-Encoding: %s\r\n"
	    "X-Sealmail-Id: %s\r\n\r\n", rcpt, nt->subject, date, message_id,
	    rhex, domain, nt->content_type, nt->cte, message_id) == -1)
		return -1;
	return 0;
}

int
notify_submit(struct notify *n, const char *sender, const char *rcpt,
    const char *kept, size_t keptlen, const char *message_id,
    const struct notice *nt, struct sm_err *err)
{
	static char *const envp[] = { "PATH=/usr/sbin:/usr/bin:/sbin:/bin", NULL };
	char *argv[SENDMAIL_ARGS_MAX + 1];
	posix_spawn_file_actions_t fa;
	struct buf h;
	int fds[2] = { -1, -1 }, fa_ok = 0, status, argc, ret = -1;
	pid_t pid = -1;

	buf_init(&h, 64 * 1024);
	if (build_headers(&h, kept, keptlen, rcpt, message_id, sender, nt) == -1) {
		sm_err_set(err, "notice headers too large");
		goto out;
	}
	for (argc = 0; argc < n->argc; argc++)
		argv[argc] = n->argv[argc];
	argv[argc++] = "-i";
	argv[argc++] = "-f";
	argv[argc++] = (char *)sender;
	argv[argc++] = "--";
	argv[argc++] = (char *)rcpt;
	argv[argc] = NULL;
	/* O_CLOEXEC: a notice spawned by another thread at the same moment
	 * must not inherit our write end, or our child never sees EOF. */
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
	    posix_spawn_file_actions_addopen(&fa, 2, "/dev/null", O_WRONLY, 0) != 0 ||
	    posix_spawn_file_actions_addclosefrom_np(&fa, 3) != 0) {
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
	if (write_lf(fds[1], h.p, h.len) == -1 ||
	    write_lf(fds[1], nt->body.p, nt->body.len) == -1) {
		sm_err_set(err, "%s: writing the notice failed: %s", argv[0],
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
			sm_err_set(err, "%s exited with %s %d", argv[0],
			    WIFEXITED(status) ? "status" : "signal",
			    WIFEXITED(status) ? WEXITSTATUS(status) : WTERMSIG(status));
			ret = -1;
		}
	}
	if (fa_ok)
		posix_spawn_file_actions_destroy(&fa);
	buf_free(&h);
	return ret;
}
