/* log.h - one line per event, key=value, to syslog or stderr.
 * Never pass a body, subject, answer, password, token or recipient list. */
#ifndef SM_LOG_H
#define SM_LOG_H

#include <syslog.h>

int log_facility(const char *name);
void log_open(const char *ident, int to_stderr, int facility);
void log_close(void);
/* Writes "event=<event> <fmt...>" at the given priority. */
void log_msg(int prio, const char *event, const char *fmt, ...)
	__attribute__((format(printf, 3, 4)));

#define log_event(ev, ...) log_msg(LOG_INFO, (ev), __VA_ARGS__)
#define log_warn(ev, ...) log_msg(LOG_WARNING, (ev), __VA_ARGS__)
#define log_err(ev, ...) log_msg(LOG_ERR, (ev), __VA_ARGS__)

/* Makes a value safe for a key=value line: quotes it, replaces control
 * bytes and quotes, and bounds its length.  Returns out. */
const char *log_quote(const char *in, char *out, size_t cap);

#endif
