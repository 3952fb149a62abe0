/* callbacks.c - libmilter callbacks translated into seal.c calls.
 * Each xxfi_* fetches the connection context, calls one seal_* function and
 * maps its result to an SMFIS_* code with an SMTP reply.  No SQL, crypto or
 * parsing here.  The connection context lives from negotiate/connect to
 * close; the message context is ended by seal_msg_end on every path. */
#include <arpa/inet.h>
#include <netinet/in.h>
#include <string.h>
#include <sys/socket.h>

#include "callbacks.h"
#include "log.h"
#include "smfi.h"

static const struct seal_env *cb_env;

static struct seal_conn *
conn_get(SMFICTX *ctx, int create)
{
	struct seal_conn *c = sm_getpriv(ctx);

	if (c == NULL && create) {
		c = seal_conn_new(cb_env);
		if (c != NULL && sm_setpriv(ctx, c) == -1) {
			seal_conn_free(c);
			c = NULL;
		}
	}
	return c;
}

static sfsistat
reply(SMFICTX *ctx, enum seal_rc rc, const struct policy_reply *rep)
{
	switch (rc) {
	case SEAL_OK:
		return SMFIS_CONTINUE;
	case SEAL_SKIP:
		return SMFIS_SKIP;
	case SEAL_DISCARD:
		return SMFIS_DISCARD;
	case SEAL_REJECT:
		if (sm_setreply(ctx, rep->rcode, rep->xcode, rep->text) == -1)
			log_warn("setreply_failed", "code=%s", rep->xcode);
		return SMFIS_REJECT;
	case SEAL_TEMPFAIL:
		break;
	}
	if (sm_setreply(ctx, rep->rcode[0] == '4' ? rep->rcode : "451",
	    rep->rcode[0] == '4' ? rep->xcode : "4.3.0",
	    rep->text[0] ? rep->text : "sealmail: try again later") == -1)
		log_warn("setreply_failed", "code=4.3.0");
	return SMFIS_TEMPFAIL;
}

static sfsistat
no_context(SMFICTX *ctx)
{
	(void)sm_setreply(ctx, "451", "4.3.0", "sealmail: out of memory, try again later");
	return SMFIS_TEMPFAIL;
}

static sfsistat
cb_negotiate(SMFICTX *ctx, unsigned long f0, unsigned long f1,
    unsigned long f2, unsigned long f3, unsigned long *pf0,
    unsigned long *pf1, unsigned long *pf2, unsigned long *pf3)
{
	/* Steps without a callback are switched off; headers need no
	 * per-header reply (refusals come at end of header). */
	unsigned long want = SMFIP_NOHELO | SMFIP_NOUNKNOWN | SMFIP_NODATA |
	    SMFIP_HDR_LEADSPC | SMFIP_NR_HDR | SMFIP_SKIP;
	struct seal_conn *c;

	(void)f2;
	(void)f3;
	if ((f0 & SEAL_SMFIF) != SEAL_SMFIF) {
		log_err("negotiate", "reason=%s", "MTA lacks header, body or recipient changes");
		return SMFIS_REJECT;
	}
	c = conn_get(ctx, 1);
	if (c == NULL)
		return SMFIS_REJECT;
	*pf0 = SEAL_SMFIF;
	*pf1 = f1 & want;
	*pf2 = 0;
	*pf3 = 0;
	c->leadspc = (f1 & SMFIP_HDR_LEADSPC) != 0;
	c->can_skip = (f1 & SMFIP_SKIP) != 0;
	c->nr_hdr = (f1 & SMFIP_NR_HDR) != 0;
	return SMFIS_CONTINUE;
}

static sfsistat
cb_connect(SMFICTX *ctx, char *hostname, _SOCK_ADDR *sa)
{
	struct seal_conn *c = conn_get(ctx, 1);
	const void *a = NULL;

	(void)hostname;
	if (c == NULL)
		return no_context(ctx);
	c->client_addr[0] = '\0';
	if (sa != NULL && sa->sa_family == AF_INET)
		a = &((const struct sockaddr_in *)(const void *)sa)->sin_addr;
	else if (sa != NULL && sa->sa_family == AF_INET6)
		a = &((const struct sockaddr_in6 *)(const void *)sa)->sin6_addr;
	if (a != NULL && inet_ntop(sa->sa_family, a, c->client_addr,
	    sizeof(c->client_addr)) == NULL)
		c->client_addr[0] = '\0';
	return SMFIS_CONTINUE;
}

static sfsistat
cb_envfrom(SMFICTX *ctx, char **argv)
{
	struct seal_conn *c = conn_get(ctx, 1);
	struct policy_reply rep;

	if (c == NULL)
		return no_context(ctx);
	memset(&rep, 0, sizeof(rep));
	return reply(ctx, seal_msg_start(c, argv[0],
	    sm_getsymval(ctx, "{auth_authen}"), &rep), &rep);
}

static sfsistat
cb_envrcpt(SMFICTX *ctx, char **argv)
{
	struct seal_conn *c = conn_get(ctx, 0);
	struct policy_reply rep;

	if (c == NULL)
		return no_context(ctx);
	memset(&rep, 0, sizeof(rep));
	return reply(ctx, seal_msg_rcpt(c, argv[0], &rep), &rep);
}

static sfsistat
cb_header(SMFICTX *ctx, char *name, char *value)
{
	struct seal_conn *c = conn_get(ctx, 0);
	struct policy_reply rep;

	if (c == NULL)
		return no_context(ctx);
	memset(&rep, 0, sizeof(rep));
	/* Failures stick to the message and are answered at end of
	 * header, so no per-header reply is needed. */
	(void)seal_msg_header(c, name, value, &rep);
	return c->nr_hdr ? SMFIS_NOREPLY : SMFIS_CONTINUE;
}

static sfsistat
cb_eoh(SMFICTX *ctx)
{
	struct seal_conn *c = conn_get(ctx, 0);
	struct policy_reply rep;

	if (c == NULL)
		return no_context(ctx);
	memset(&rep, 0, sizeof(rep));
	return reply(ctx, seal_msg_eoh(c, &rep), &rep);
}

static sfsistat
cb_body(SMFICTX *ctx, unsigned char *p, size_t n)
{
	struct seal_conn *c = conn_get(ctx, 0);
	struct policy_reply rep;

	if (c == NULL)
		return no_context(ctx);
	memset(&rep, 0, sizeof(rep));
	return reply(ctx, seal_msg_body(c, p, n, &rep), &rep);
}

static sfsistat
cb_eom(SMFICTX *ctx)
{
	struct seal_conn *c = conn_get(ctx, 0);
	struct policy_reply rep;
	sfsistat r;

	if (c == NULL)
		return no_context(ctx);
	memset(&rep, 0, sizeof(rep));
	r = reply(ctx, seal_msg_eom(c, ctx, &rep), &rep);
	seal_msg_end(c);
	return r;
}

static sfsistat
cb_abort(SMFICTX *ctx)
{
	seal_msg_end(conn_get(ctx, 0));
	return SMFIS_CONTINUE;
}

static sfsistat
cb_close(SMFICTX *ctx)
{
	struct seal_conn *c = conn_get(ctx, 0);

	/* close may be the only callback, with no context at all. */
	if (c != NULL) {
		(void)sm_setpriv(ctx, NULL);
		seal_conn_free(c);
	}
	return SMFIS_CONTINUE;
}

void
callbacks_init(struct smfiDesc *desc, const struct seal_env *env)
{
	cb_env = env;
	memset(desc, 0, sizeof(*desc));
	desc->xxfi_name = "sealmail";
	desc->xxfi_version = SMFI_VERSION;
	desc->xxfi_flags = SEAL_SMFIF;
	desc->xxfi_connect = cb_connect;
	desc->xxfi_envfrom = cb_envfrom;
	desc->xxfi_envrcpt = cb_envrcpt;
	desc->xxfi_header = cb_header;
	desc->xxfi_eoh = cb_eoh;
	desc->xxfi_body = cb_body;
	desc->xxfi_eom = cb_eom;
	desc->xxfi_abort = cb_abort;
	desc->xxfi_close = cb_close;
	desc->xxfi_negotiate = cb_negotiate;
}
