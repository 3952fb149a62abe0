/* log.c - key=value event lines to syslog or stderr.
 * Callers pass only ids and outcomes; log_quote makes outside text (an
 * address, an error from a library) safe to put in a line. */
#include <stdarg.h>
#include <stdio.h>
#include <string.h>
#include <time.h>
#include <unistd.h>

#include "log.h"

static int log_stderr = 1;
static const char *log_ident = "sealmail";

/* The syslog facility named by log.facility (config.c allows only these). */
int
log_facility(const char *name)
{
	static const struct { const char *n; int f; } map[] = {
		{ "mail", LOG_MAIL }, { "daemon", LOG_DAEMON },
		{ "local0", LOG_LOCAL0 }, { "local1", LOG_LOCAL1 },
		{ "local2", LOG_LOCAL2 }, { "local3", LOG_LOCAL3 },
		{ "local4", LOG_LOCAL4 }, { "local5", LOG_LOCAL5 },
		{ "local6", LOG_LOCAL6 }, { "local7", LOG_LOCAL7 },
	};
	size_t i;

	for (i = 0; i < sizeof(map) / sizeof(map[0]); i++)
		if (strcmp(map[i].n, name) == 0)
			return map[i].f;
	return LOG_MAIL;
}

void
log_open(const char *ident, int to_stderr, int facility)
{
	log_ident = ident;
	log_stderr = to_stderr;
	if (!to_stderr)
		openlog(ident, LOG_PID | LOG_NDELAY, facility);
}

void
log_close(void)
{
	if (!log_stderr)
		closelog();
}

static const char *
prio_name(int prio)
{
	switch (prio) {
	case LOG_ERR:
		return "error";
	case LOG_WARNING:
		return "warning";
	case LOG_DEBUG:
		return "debug";
	default:
		return "info";
	}
}

void
log_msg(int prio, const char *event, const char *fmt, ...)
{
	char line[1024];
	va_list ap;
	int n;

	va_start(ap, fmt);
	n = vsnprintf(line, sizeof(line), fmt, ap);
	va_end(ap);
	if (n < 0)
		line[0] = '\0';
	if (log_stderr) {
		char stamp[32];
		time_t now = time(NULL);
		struct tm tm;

		if (gmtime_r(&now, &tm) == NULL ||
		    strftime(stamp, sizeof(stamp), "%Y-%m-%dT%H:%M:%SZ", &tm) == 0)
			stamp[0] = '\0';
		fprintf(stderr, "%s %s[%ld]: level=%s event=%s %s\n", stamp,
		    log_ident, (long)getpid(), prio_name(prio), event, line);
	} else {
		syslog(prio, "event=%s %s", event, line);
	}
}

const char *
log_quote(const char *in, char *out, size_t cap)
{
	size_t i, o = 0;

	if (cap < 3) {
		if (cap > 0)
			out[0] = '\0';
		return out;
	}
	out[o++] = '"';
	for (i = 0; in != NULL && in[i] != '\0' && o + 2 < cap; i++) {
		unsigned char c = (unsigned char)in[i];

		out[o++] = (c < 0x20 || c == 0x7f || c == '"' || c == '\\') ? '?' : (char)c;
	}
	out[o++] = '"';
	out[o] = '\0';
	return out;
}
