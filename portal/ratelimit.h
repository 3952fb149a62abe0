/* ratelimit.h - verification attempts per client address, across links,
 * and API requests per key.
 * Counted in MariaDB (table rate_limits) so every worker and portal host
 * shares one count; a fixed window of portal.rate_window seconds. */
#ifndef PORTAL_RATELIMIT_H
#define PORTAL_RATELIMIT_H

#include "err.h"
#include "portal.h"

/* Counts one attempt by addr.  1 over the limit (*retry_after set), 0
 * within it, -1 database error (the caller fails closed). */
int ratelimit_hit(struct portal *p, const char *scope, const char *addr,
    long long *retry_after, struct sm_err *err);

/* The same for any client key (an API key's id) with its own limit per
 * window of seconds. */
int ratelimit_count(struct portal *p, const char *scope,
    const unsigned char *client, size_t clen, long long limit,
    long long window, long long *retry_after, struct sm_err *err);

/* The bytes a client is counted under: 4 for IPv4, the /64 (8 bytes) of
 * IPv6, else the text itself bounded to 16.  Returns the length. */
size_t ratelimit_client(const char *addr, unsigned char out[16]);

#endif
