/* ratelimit.c - one upsert and one read per verification attempt.  The
 * window resets in the same statement that counts, so two workers racing
 * on a fresh window cannot both start it at 1. */
#include <arpa/inet.h>
#include <string.h>

#include <sodium.h>

#include "config.h"
#include "db.h"
#include "ratelimit.h"

size_t
ratelimit_client(const char *addr, unsigned char out[16])
{
	unsigned char a6[16];
	size_t n;

	if (inet_pton(AF_INET, addr, out) == 1)
		return 4;
	if (inet_pton(AF_INET6, addr, a6) == 1) {
		/* A v4-mapped address is the IPv4 host it maps. */
		static const unsigned char mapped[12] = { 0, 0, 0, 0, 0, 0, 0, 0,
		    0, 0, 0xff, 0xff };

		if (memcmp(a6, mapped, 12) == 0) {
			memcpy(out, a6 + 12, 4);
			return 4;
		}
		memcpy(out, a6, 8);
		return 8;
	}
	n = strlen(addr);
	if (n > 16)
		n = 16;
	memcpy(out, addr, n);
	return n;
}

int
ratelimit_hit(struct portal *p, const char *scope, const char *addr,
    long long *retry_after, struct sm_err *err)
{
	unsigned char client[16];
	size_t clen = ratelimit_client(addr, client);

	return ratelimit_count(p, scope, client, clen,
	    config_int(p->cf, "portal.rate_limit"),
	    config_int(p->cf, "portal.rate_window"), retry_after, err);
}

int
ratelimit_count(struct portal *p, const char *scope,
    const unsigned char *client, size_t clen, long long limit,
    long long window, long long *retry_after, struct sm_err *err)
{
	/* hits is assigned before window_start, so both read the old
	 * window_start (MariaDB evaluates SET left to right). */
	static const char up[] = "INSERT INTO rate_limits (scope, client,"
	    " window_start, hits) VALUES (?, ?, ?, 1) ON DUPLICATE KEY UPDATE"
	    " hits = IF(window_start <= ?, 1, hits + 1),"
	    " window_start = IF(window_start <= ?, ?, window_start)";
	static const char sel[] = "SELECT hits, window_start FROM rate_limits"
	    " WHERE scope = ? AND client = ?";
	/* Each scope has its own window: only its own stale rows go. */
	static const char gc[] = "DELETE FROM rate_limits WHERE scope = ?"
	    " AND window_start <= ?";
	long long stale = (long long)p->now - window, hits, start;
	struct db_val args[6];
	struct db_col c[2];
	int rc;

	args[0] = DB_S(scope);
	args[1] = DB_B(client, clen);
	args[2] = DB_I(p->now);
	args[3] = DB_I(stale);
	args[4] = DB_I(stale);
	args[5] = DB_I(p->now);
	if (db_exec(p->db, up, args, 6, NULL, NULL, err) == -1)
		return -1;
	c[0] = DB_COL_I(&hits);
	c[1] = DB_COL_I(&start);
	rc = db_query_row(p->db, sel, args, 2, c, 2, err);
	if (rc != 1) {
		if (rc == 0)
			sm_err_set(err, "rate limit row vanished");
		return -1;
	}
	if (randombytes_uniform(256) == 0) {
		struct db_val a[2] = { DB_S(scope), DB_I(stale) };
		struct sm_err ignored;

		(void)db_exec(p->db, gc, a, 2, NULL, NULL, &ignored);
	}
	if (hits > limit) {
		*retry_after = start + window - (long long)p->now;
		if (*retry_after < 1)
			*retry_after = 1;
		return 1;
	}
	return 0;
}
