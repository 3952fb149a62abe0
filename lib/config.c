/* config.c - sealmail.conf: ClearSilver HDF parsed, then checked against one
 * table of every key.  Unknown keys and bad values are errors naming the file
 * and line; nothing is guessed.  Secrets are only ever paths here. */
#include <sys/stat.h>
#include <errno.h>
#include <fcntl.h>
#include <limits.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include <ClearSilver.h>
#include <sodium.h>

#include "buf.h"
#include "config.h"

#ifndef SYSCONFDIR
#define SYSCONFDIR "/etc"
#endif
#ifndef PKGDATADIR
#define PKGDATADIR "/usr/share/sealmail"
#endif

enum cf_type { CF_STR, CF_INT, CF_BOOL, CF_MODE, CF_CHOICE };

struct cf_key {
	const char *name;
	enum cf_type type;
	const char *def;
	long long min, max;	/* CF_INT bounds; CF_STR max length */
	const char *choices;	/* CF_CHOICE: '|'-separated */
};

#define ETC SYSCONFDIR "/sealmail"

/* Every key sealmail knows.  Documented in doc/sealmail.conf.5; a test
 * fails when one is missing there. */
static const struct cf_key keys[] = {
	{ "log.facility", CF_CHOICE, "mail", 0, 0,
	    "mail|daemon|local0|local1|local2|local3|local4|local5|local6|local7" },
	{ "database.host", CF_STR, "", 0, 255, NULL },
	{ "database.port", CF_INT, "3306", 1, 65535, NULL },
	{ "database.socket", CF_STR, "", 0, 1024, NULL },
	{ "database.name", CF_STR, "sealmail", 1, 64, NULL },
	{ "database.connect_timeout", CF_INT, "5", 1, 300, NULL },
	{ "database.tls", CF_BOOL, "0", 0, 0, NULL },
	{ "database.tls_ca", CF_STR, "", 0, 1024, NULL },
	{ "database.milter.user", CF_STR, "sealmail_milter", 1, 80, NULL },
	{ "database.milter.password_file", CF_STR, ETC "/db-milter.pass", 1, 1024, NULL },
	{ "database.portal.user", CF_STR, "sealmail_portal", 1, 80, NULL },
	{ "database.portal.password_file", CF_STR, ETC "/db-portal.pass", 1, 1024, NULL },
	{ "database.sms.user", CF_STR, "sealmail_sms", 1, 80, NULL },
	{ "database.sms.password_file", CF_STR, ETC "/db-sms.pass", 1, 1024, NULL },
	{ "database.admin.user", CF_STR, "sealmail_admin", 1, 80, NULL },
	{ "database.admin.password_file", CF_STR, ETC "/db-admin.pass", 1, 1024, NULL },
	{ "keys.dir", CF_STR, ETC "/keys", 1, 1024, NULL },
	{ "keys.escrow_version", CF_INT, "1", 1, 64, NULL },
	{ "crypto.chunk_size", CF_INT, "1048576", 65536, 8388608, NULL },
	{ "crypto.argon2_ops", CF_INT, "1", 1, 16, NULL },
	{ "crypto.argon2_mem_kib", CF_INT, "4096", 8, 4194304, NULL },
	{ "crypto.date_order", CF_CHOICE, "mdy", 0, 0, "mdy|dmy" },
	{ "milter.socket", CF_STR, "unix:/run/sealmail/milter.sock", 6, 1024, NULL },
	{ "milter.socket_mode", CF_MODE, "0660", 0, 0777, NULL },
	{ "milter.socket_group", CF_STR, "", 0, 64, NULL },
	{ "milter.user", CF_STR, "", 0, 64, NULL },
	{ "milter.pid_file", CF_STR, "/run/sealmail/milter.pid", 1, 1024, NULL },
	{ "milter.sendmail", CF_STR, "/usr/sbin/sendmail", 1, 1024, NULL },
	{ "milter.templates", CF_STR, PKGDATADIR "/templates", 1, 1024, NULL },
	{ "milter.max_recipients", CF_INT, "1000", 1, 100000, NULL },
	{ "milter.max_message_size", CF_INT, "262144000", 1024, 4294967296LL, NULL },
	{ "milter.db_connections", CF_INT, "8", 1, 256, NULL },
	{ "portal.url", CF_STR, "https://localhost", 8, 512, NULL },
	{ "portal.socket", CF_STR, "unix:/run/sealmail/portal.sock", 0, 1024, NULL },
	{ "portal.socket_mode", CF_MODE, "0660", 0, 0777, NULL },
	{ "portal.socket_group", CF_STR, "", 0, 64, NULL },
	{ "portal.user", CF_STR, "", 0, 64, NULL },
	{ "portal.pid_file", CF_STR, "/run/sealmail/portal.pid", 0, 1024, NULL },
	{ "portal.workers", CF_INT, "4", 1, 256, NULL },
	{ "portal.templates", CF_STR, PKGDATADIR "/portal", 1, 1024, NULL },
	{ "portal.session_idle", CF_INT, "900", 60, 86400, NULL },
	{ "portal.session_max", CF_INT, "7200", 300, 604800, NULL },
	{ "portal.csrf_lifetime", CF_INT, "3600", 60, 86400, NULL },
	{ "portal.max_attempts", CF_INT, "5", 1, 100, NULL },
	{ "portal.lock_seconds", CF_INT, "900", 10, 604800, NULL },
	{ "portal.rate_limit", CF_INT, "20", 1, 100000, NULL },
	{ "portal.rate_window", CF_INT, "600", 10, 86400, NULL },
	{ "portal.api_rate_limit", CF_INT, "600", 1, 1000000, NULL },
	{ "portal.api_rate_window", CF_INT, "60", 1, 86400, NULL },
	{ "portal.max_form_bytes", CF_INT, "8192", 1024, 1048576, NULL },
	{ "portal.inline_text_max", CF_INT, "1048576", 4096, 16777216, NULL },
	{ "portal.lab_cache_seconds", CF_INT, "60", 0, 3600, NULL },
	{ "portal.smime_dir", CF_STR, "", 0, 1024, NULL },
	{ "portal.sendmail", CF_STR, "/usr/sbin/sendmail", 1, 1024, NULL },
	{ "portal.mail_from", CF_STR, "sealmail@localhost", 3, 320, NULL },
	{ "portal.password_min", CF_INT, "10", 8, 128, NULL },
	{ "portal.common_passwords", CF_STR, "", 0, 1024, NULL },
	{ "sms.gateway", CF_CHOICE, "none", 0, 0, "none|http|command" },
	{ "sms.url", CF_STR, "", 0, 1024, NULL },
	{ "sms.token_file", CF_STR, "", 0, 1024, NULL },
	{ "sms.command", CF_STR, "", 0, 1024, NULL },
	{ "sms.timeout", CF_INT, "10", 1, 300, NULL },
	{ "sms.retry_min", CF_INT, "30", 1, 86400, NULL },
	{ "sms.retry_max", CF_INT, "900", 1, 86400, NULL },
	{ "sms.max_age", CF_INT, "259200", 60, 2592000, NULL },
	{ "sms.poll_interval", CF_INT, "5", 1, 3600, NULL },
	{ "sms.batch", CF_INT, "20", 1, 1000, NULL },
	{ "sms.pid_file", CF_STR, "/run/sealmail/smsd.pid", 0, 1024, NULL },
	{ "sms.user", CF_STR, "", 0, 64, NULL },
};

#define NKEYS (sizeof(keys) / sizeof(keys[0]))

struct config {
	char *path;
	char *val[NKEYS];	/* NULL: default */
	long long num[NKEYS];
};

static int
key_index(const char *name)
{
	size_t i;

	for (i = 0; i < NKEYS; i++)
		if (strcmp(keys[i].name, name) == 0)
			return (int)i;
	return -1;
}

static const struct cf_key *
key_must(const char *name, size_t *idx)
{
	int i = key_index(name);

	if (i < 0)
		abort();	/* a key missing from the table is a bug */
	*idx = (size_t)i;
	return &keys[i];
}

static int
parse_ll(const char *s, int base, long long *out)
{
	char *end;
	long long v;

	if (*s == '\0' || *s == ' ' || *s == '+')
		return -1;
	errno = 0;
	v = strtoll(s, &end, base);
	if (errno != 0 || *end != '\0')
		return -1;
	*out = v;
	return 0;
}

static int
choice_ok(const char *choices, const char *v)
{
	size_t n = strlen(v);
	const char *p = choices;

	while (*p != '\0') {
		const char *bar = strchr(p, '|');
		size_t len = bar ? (size_t)(bar - p) : strlen(p);

		if (len == n && strncmp(p, v, n) == 0)
			return 1;
		p += len + (bar ? 1 : 0);
	}
	return 0;
}

/* Checks v for key k; fills *num.  why gets "expected ..." on failure. */
static int
check_value(const struct cf_key *k, const char *v, long long *num,
    char *why, size_t whylen)
{
	size_t i;

	for (i = 0; v[i] != '\0'; i++) {
		if ((unsigned char)v[i] < 0x20) {
			snprintf(why, whylen, "a value without control characters");
			return -1;
		}
	}
	switch (k->type) {
	case CF_STR:
		if ((long long)i < k->min || (long long)i > k->max) {
			snprintf(why, whylen, "a text of %lld to %lld characters",
			    k->min, k->max);
			return -1;
		}
		*num = 0;
		return 0;
	case CF_INT:
		if (parse_ll(v, 10, num) == -1 || *num < k->min || *num > k->max) {
			snprintf(why, whylen, "an integer from %lld to %lld",
			    k->min, k->max);
			return -1;
		}
		return 0;
	case CF_MODE:
		if (v[0] != '0' || parse_ll(v, 8, num) == -1 || *num < k->min ||
		    *num > k->max) {
			snprintf(why, whylen, "an octal mode such as 0660");
			return -1;
		}
		return 0;
	case CF_BOOL:
		if (strcmp(v, "1") == 0 || strcmp(v, "yes") == 0 ||
		    strcmp(v, "true") == 0)
			*num = 1;
		else if (strcmp(v, "0") == 0 || strcmp(v, "no") == 0 ||
		    strcmp(v, "false") == 0)
			*num = 0;
		else {
			snprintf(why, whylen, "yes or no");
			return -1;
		}
		return 0;
	case CF_CHOICE:
		if (!choice_ok(k->choices, v)) {
			snprintf(why, whylen, "one of %s", k->choices);
			return -1;
		}
		*num = 0;
		return 0;
	}
	return -1;
}

/* HDF keeps no line numbers, so find the line that set a dotted key by
 * following the block nesting of the file.  0 when not found. */
static int
find_line(const char *path, const char *key)
{
	FILE *fp;
	char line[2048];
	char stack[1024] = "";
	int lineno = 0, found = 0;

	fp = fopen(path, "r");
	if (fp == NULL)
		return 0;
	while (!found && fgets(line, sizeof(line), fp) != NULL) {
		char *s = line, *e, name[512], full[1600];
		size_t n;

		lineno++;
		while (*s == ' ' || *s == '\t')
			s++;
		if (*s == '}') {
			char *dot = strrchr(stack, '.');

			if (dot != NULL)
				*dot = '\0';
			else
				stack[0] = '\0';
			continue;
		}
		if (*s == '#' || *s == '\n' || *s == '\0')
			continue;
		for (e = s; *e != '\0' && *e != ' ' && *e != '\t' && *e != '=' &&
		    *e != '{' && *e != '\n' && *e != ':' && *e != '<'; e++)
			;
		n = (size_t)(e - s);
		if (n == 0 || n >= sizeof(name))
			continue;
		memcpy(name, s, n);
		name[n] = '\0';
		snprintf(full, sizeof(full), "%s%s%s", stack, stack[0] ? "." : "", name);
		while (*e == ' ' || *e == '\t')
			e++;
		if (*e == '{') {
			snprintf(stack, sizeof(stack), "%.1000s", full);
			continue;
		}
		if (strcmp(full, key) == 0)
			found = lineno;
	}
	fclose(fp);
	return found;
}

/* ClearSilver accepts unbalanced braces silently; an operator who forgot
 * one would get settings in the wrong block, so check them here. */
static int
check_braces(const char *path, struct sm_err *err)
{
	FILE *fp;
	char line[2048], heredoc[64] = "";
	int lineno = 0, depth = 0, opened[32], rc = -1;

	fp = fopen(path, "r");
	if (fp == NULL) {
		sm_err_set(err, "%s: %s", path, strerror(errno));
		return -1;
	}
	while (fgets(line, sizeof(line), fp) != NULL) {
		char *s = line, *e = line + strlen(line), *here;

		lineno++;
		while (e > s && (e[-1] == '\n' || e[-1] == '\r' || e[-1] == ' ' ||
		    e[-1] == '\t'))
			*--e = '\0';
		while (*s == ' ' || *s == '\t')
			s++;
		if (heredoc[0] != '\0') {
			if (strcmp(s, heredoc) == 0)
				heredoc[0] = '\0';
			continue;
		}
		if (*s == '#' || *s == '\0')
			continue;
		here = strstr(s, "<<");
		if (here != NULL && strchr(s, '=') == NULL) {
			for (here += 2; *here == ' '; here++)
				;
			snprintf(heredoc, sizeof(heredoc), "%s", here);
			continue;
		}
		if (strcmp(s, "}") == 0) {
			if (depth == 0) {
				sm_err_set(err, "%s:%d: \"}\" closes no block", path, lineno);
				goto out;
			}
			depth--;
		} else if (e > s && e[-1] == '{' && strchr(s, '=') == NULL) {
			if (depth == (int)(sizeof(opened) / sizeof(opened[0]))) {
				sm_err_set(err, "%s:%d: blocks nested too deep", path, lineno);
				goto out;
			}
			opened[depth++] = lineno;
		}
	}
	if (depth > 0) {
		sm_err_set(err, "%s:%d: syntax error: block is never closed with \"}\"",
		    path, opened[depth - 1]);
		goto out;
	}
	rc = 0;
out:
	fclose(fp);
	return rc;
}

static int
config_new(struct config **out, const char *path)
{
	struct config *cf = calloc(1, sizeof(*cf));
	size_t i;

	if (cf == NULL)
		return -1;
	cf->path = strdup(path);
	if (cf->path == NULL) {
		free(cf);
		return -1;
	}
	for (i = 0; i < NKEYS; i++) {
		char why[128];

		if (check_value(&keys[i], keys[i].def, &cf->num[i], why,
		    sizeof(why)) == -1)
			abort();	/* a bad default is a bug */
	}
	*out = cf;
	return 0;
}

int
config_defaults(struct config **out, struct sm_err *err)
{
	if (config_new(out, "(defaults)") == -1) {
		sm_err_set(err, "out of memory");
		return -1;
	}
	return 0;
}

static int
set_value(struct config *cf, const char *key, const char *value, int line,
    struct sm_err *err)
{
	char why[160];
	long long num;
	int i = key_index(key);
	char *copy;

	if (i < 0) {
		sm_err_set(err, "%s:%d: unknown setting \"%.100s\"", cf->path,
		    line, key);
		return -1;
	}
	if (check_value(&keys[i], value, &num, why, sizeof(why)) == -1) {
		sm_err_set(err, "%s:%d: %s: expected %s", cf->path, line, key, why);
		return -1;
	}
	copy = strdup(value);
	if (copy == NULL) {
		sm_err_set(err, "out of memory");
		return -1;
	}
	free(cf->val[i]);
	cf->val[i] = copy;
	cf->num[i] = num;
	return 0;
}

int
config_set(struct config *cf, const char *key, const char *value,
    struct sm_err *err)
{
	return set_value(cf, key, value, 0, err);
}

/* Walks the HDF tree; every node with a value must be a known key. */
static int
walk(struct config *cf, HDF *node, struct buf *prefix, struct sm_err *err)
{
	for (; node != NULL; node = hdf_obj_next(node)) {
		size_t mark = prefix->len;
		const char *name = hdf_obj_name(node), *value;
		HDF *child;

		if ((mark > 0 && buf_append(prefix, ".", 1) == -1) ||
		    buf_puts(prefix, name ? name : "") == -1) {
			sm_err_set(err, "%s: setting name too long", cf->path);
			return -1;
		}
		value = hdf_obj_value(node);
		child = hdf_obj_child(node);
		if (value != NULL && set_value(cf, buf_cstr(prefix), value,
		    find_line(cf->path, buf_cstr(prefix)), err) == -1)
			return -1;
		if (value == NULL && child == NULL) {
			sm_err_set(err, "%s:%d: \"%.100s\" is an empty block",
			    cf->path, find_line(cf->path, buf_cstr(prefix)),
			    buf_cstr(prefix));
			return -1;
		}
		if (child != NULL && walk(cf, child, prefix, err) == -1)
			return -1;
		prefix->len = mark;
		prefix->p[mark] = '\0';
	}
	return 0;
}

int
config_load(struct config **out, const char *path, struct sm_err *err)
{
	struct config *cf = NULL;
	HDF *hdf = NULL;
	NEOERR *nerr;
	struct buf prefix;
	struct stat st;
	int rc = -1;

	buf_init(&prefix, 1024);
	if (stat(path, &st) == -1) {
		sm_err_set(err, "%s: %s", path, strerror(errno));
		goto out;
	}
	if (!S_ISREG(st.st_mode)) {
		sm_err_set(err, "%s: not a regular file", path);
		goto out;
	}
	if (check_braces(path, err) == -1)
		goto out;
	if (config_new(&cf, path) == -1) {
		sm_err_set(err, "out of memory");
		goto out;
	}
	nerr = hdf_init(&hdf);
	if (nerr == STATUS_OK)
		nerr = hdf_read_file(hdf, path);
	if (nerr != STATUS_OK) {
		STRING s;

		string_init(&s);
		nerr_error_string(nerr, &s);
		sm_err_set(err, "%s: syntax error: %.200s", path,
		    s.buf ? s.buf : "unreadable");
		string_clear(&s);
		nerr_ignore(&nerr);
		goto out;
	}
	if (walk(cf, hdf_obj_child(hdf), &prefix, err) == -1)
		goto out;
	*out = cf;
	cf = NULL;
	rc = 0;
out:
	buf_free(&prefix);
	if (hdf != NULL)
		hdf_destroy(&hdf);
	config_free(cf);
	return rc;
}

void
config_free(struct config *cf)
{
	size_t i;

	if (cf == NULL)
		return;
	for (i = 0; i < NKEYS; i++)
		free(cf->val[i]);
	free(cf->path);
	free(cf);
}

const char *
config_str(const struct config *cf, const char *key)
{
	size_t i;
	const struct cf_key *k = key_must(key, &i);

	return cf->val[i] ? cf->val[i] : k->def;
}

long long
config_int(const struct config *cf, const char *key)
{
	size_t i;

	key_must(key, &i);
	return cf->num[i];
}

int
config_bool(const struct config *cf, const char *key)
{
	return config_int(cf, key) != 0;
}

const char *
config_path(const struct config *cf)
{
	return cf->path;
}

void
config_dump(const struct config *cf, FILE *out)
{
	size_t i;

	for (i = 0; i < NKEYS; i++)
		fprintf(out, "%s = %s\n", keys[i].name,
		    cf->val[i] ? cf->val[i] : keys[i].def);
}

void
config_each_key(void (*fn)(const char *key, void *arg), void *arg)
{
	size_t i;

	for (i = 0; i < NKEYS; i++)
		fn(keys[i].name, arg);
}

int
config_secret_read(const char *path, void *buf, size_t cap, size_t want,
    size_t *got, struct sm_err *err)
{
	struct stat st;
	size_t off = 0;
	int fd, rc = -1;

	fd = open(path, O_RDONLY | O_NOFOLLOW | O_CLOEXEC);
	if (fd == -1) {
		sm_err_set(err, "%s: %s", path, strerror(errno));
		return -1;
	}
	if (fstat(fd, &st) == -1) {
		sm_err_set(err, "%s: %s", path, strerror(errno));
		goto out;
	}
	if (!S_ISREG(st.st_mode)) {
		sm_err_set(err, "%s: not a regular file", path);
		goto out;
	}
	if ((st.st_mode & 077) != 0) {
		sm_err_set(err, "%s: mode %04o lets others read it: chmod 0600 it",
		    path, (unsigned)(st.st_mode & 07777));
		goto out;
	}
	if (st.st_uid != geteuid() && st.st_uid != 0) {
		sm_err_set(err, "%s: owned by uid %u, expected uid %u or root",
		    path, (unsigned)st.st_uid, (unsigned)geteuid());
		goto out;
	}
	for (;;) {
		ssize_t n;

		if (off == cap) {
			char extra;

			n = read(fd, &extra, 1);
			if (n > 0) {
				sm_err_set(err, "%s: longer than %zu bytes", path, cap);
				goto out;
			}
		} else
			n = read(fd, (char *)buf + off, cap - off);
		if (n == -1 && errno == EINTR)
			continue;
		if (n == -1) {
			sm_err_set(err, "%s: %s", path, strerror(errno));
			goto out;
		}
		if (n == 0)
			break;
		off += (size_t)n;
	}
	if (want > 0 && off != want) {
		sm_err_set(err, "%s: expected %zu bytes, found %zu", path, want, off);
		goto out;
	}
	if (got != NULL)
		*got = off;
	rc = 0;
out:
	if (rc == -1)
		sodium_memzero(buf, cap);
	close(fd);
	return rc;
}
