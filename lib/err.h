/* err.h - a human sentence explaining why a call failed.
 * Callers show it to an operator or a log; it never carries secrets or content. */
#ifndef SM_ERR_H
#define SM_ERR_H

struct sm_err {
	char msg[256];
};

void sm_err_set(struct sm_err *err, const char *fmt, ...)
	__attribute__((format(printf, 2, 3)));

#endif
