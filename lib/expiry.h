/* expiry.h - how long a sealed message stays readable: 1 day to 10 years.
 * Accepts "7d", "2w", "6m", "10y" and a date "YYYY-MM-DD"; nothing else is
 * guessed at. */
#ifndef SM_EXPIRY_H
#define SM_EXPIRY_H

#include <stddef.h>
#include <time.h>

#include "err.h"

#define EXPIRY_MIN_SECS (24LL * 3600)

/* Sets *expires (Unix time) from now; -1 with a reason when malformed or
 * outside 1 day .. 10 years. */
int expiry_parse(const char *s, size_t n, time_t now, time_t *expires,
    struct sm_err *err);

#endif
