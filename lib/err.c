/* err.c - filling an sm_err.  Never fails, never overflows. */
#include <stdarg.h>
#include <stdio.h>

#include "err.h"

void
sm_err_set(struct sm_err *err, const char *fmt, ...)
{
	va_list ap;

	if (err == NULL)
		return;
	va_start(ap, fmt);
	if (vsnprintf(err->msg, sizeof(err->msg), fmt, ap) < 0)
		err->msg[0] = '\0';
	va_end(ap);
}
