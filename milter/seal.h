/* seal.h - one connection's and one message's sealing state.
 * callbacks.c turns each libmilter callback into one call here and maps the
 * result to an SMFIS_* code; everything between "which lab?" and "replace
 * the body" happens in seal.c. */
#ifndef SM_MILTER_SEAL_H
#define SM_MILTER_SEAL_H

#include <stddef.h>
#include <stdint.h>

#include <libmilter/mfapi.h>

#include "answer.h"
#include "config.h"
#include "policy.h"

struct keyring;
struct notify;
struct pool;
struct seal_msg;

/* What every message needs; built once by main.c, read-only afterwards. */
struct seal_env {
	const struct config *cf;
	const struct keyring *kr;
	struct pool *pool;
	struct notify *notify;
	struct answer_cost cost;
	size_t chunk_size;
	unsigned long long max_size;
	size_t max_rcpts;
	int pool_wait;			/* seconds to wait for a connection */
};

struct seal_conn {
	const struct seal_env *env;
	char client_addr[64];		/* numeric, "" when not an IP peer */
	int leadspc;			/* SMFIP_HDR_LEADSPC negotiated */
	int can_skip;			/* SMFIP_SKIP negotiated */
	int nr_hdr;			/* SMFIP_NR_HDR: no reply to headers */
	struct seal_msg *msg;		/* the message in progress, or NULL */
};

enum seal_rc {
	SEAL_OK = 0,
	SEAL_SKIP = 1,		/* not ours: the MTA may skip the body */
	SEAL_TEMPFAIL = -1,	/* 4xx: reply filled */
	SEAL_REJECT = -2,	/* 5xx: reply filled */
};

struct seal_conn *seal_conn_new(const struct seal_env *env);
/* Frees the connection and any message still in progress (rolled back). */
void seal_conn_free(struct seal_conn *c);

/* MAIL FROM: decides whether the message belongs to a lab.  A database
 * failure is a tempfail: not knowing is not the same as "not a lab's". */
enum seal_rc seal_msg_start(struct seal_conn *c, const char *sender_arg,
    const char *sasl_login, struct policy_reply *rep);
enum seal_rc seal_msg_rcpt(struct seal_conn *c, const char *rcpt_arg,
    struct policy_reply *rep);
enum seal_rc seal_msg_header(struct seal_conn *c, const char *name,
    const char *value, struct policy_reply *rep);
/* Validates the headers, resolves verification, opens the escrow. */
enum seal_rc seal_msg_eoh(struct seal_conn *c, struct policy_reply *rep);
enum seal_rc seal_msg_body(struct seal_conn *c, const unsigned char *p,
    size_t n, struct policy_reply *rep);
/* Commits the escrow, sends the notices, rewrites the message. */
enum seal_rc seal_msg_eom(struct seal_conn *c, SMFICTX *ctx,
    struct policy_reply *rep);
/* Ends the message on every path (after eom, abort, close, a new MAIL). */
void seal_msg_end(struct seal_conn *c);

/* Messages inside end-of-message work, which shutdown waits for. */
int seal_busy(void);

#endif
