/* seal.c - sealing one message: lab, headers, escrow, notices, rewrite.
 * The original is never held in memory: headers are staged (bounded) until
 * end-of-header, then headers and body stream into the store one chunk at a
 * time.  Every failure after a lab matched is a 4xx or a 5xx: a lab's
 * message never leaves with its original body.  Logs carry ids, sizes and
 * outcomes; never a body, subject, answer, password, token or recipient
 * list. */
#include <pthread.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <strings.h>
#include <time.h>

#include <sodium.h>

#include "buf.h"
#include "crypto.h"
#include "db.h"
#include "event.h"
#include "lab.h"
#include "log.h"
#include "notify.h"
#include "pool.h"
#include "recipient.h"
#include "seal.h"
#include "smfi.h"
#include "sms.h"
#include "store.h"

#define SEAL_HEADER_MAX (1024 * 1024)	/* staged original header bytes */
#define SEAL_NAMES_MAX 4096		/* distinct header names */

struct hname {
	char *name;
	int count;
};

struct rcpt {
	char *raw;		/* as the MTA gave it, for smfi_delrcpt */
	char *addr;		/* without angle brackets */
	struct recipient rec;
	int has_rec;
	struct store_delivery d;
	char token[SM_TOKEN_TEXT];
	char phone[SMS_PHONE_MAX + 1];	/* "" when no SMS notice */
	int sms_only;			/* no email notice */
};

struct seal_msg {
	struct seal_conn *conn;
	struct db *db;
	int db_broken;
	int has_lab;
	struct lab lab;
	char sender[SM_ADDRESS_MAX + 1];
	char qid[32];
	struct rcpt *rcpts;
	size_t nrcpts, caprcpts;
	size_t nrcpt_seen;		/* also those past the limit */
	struct hname *hn;
	size_t nhn;
	int names_overflow;
	int ours;			/* X-Sealmail-* headers seen */
	struct buf hdrs;		/* original header section, staged */
	struct buf kept;		/* From/Sender/Reply-To for notices */
	struct policy_hdrs ph;
	struct policy pol;
	char answer_hash[SM_ANSWER_HASH_TEXT];
	int eoh_done;
	enum seal_rc failed;		/* sticky refusal once decided */
	struct policy_reply rep;
	struct store_buf *buf;		/* lent to st, from the kept ones */
	struct store_msg *st;
};

/* Messages inside end-of-message work (commit, notices, rewrite): the
 * only step that must not be cut short at shutdown.  A message between
 * callbacks is safe to drop: its transaction rolls back and the MTA,
 * losing the milter, applies milter_default_action (tempfail). */
static pthread_mutex_t busy_lock = PTHREAD_MUTEX_INITIALIZER;
static int busy;

int
seal_busy(void)
{
	int n;

	pthread_mutex_lock(&busy_lock);
	n = busy;
	pthread_mutex_unlock(&busy_lock);
	return n;
}

static void
busy_add(int d)
{
	pthread_mutex_lock(&busy_lock);
	busy += d;
	pthread_mutex_unlock(&busy_lock);
}

/* Store buffers (the data key's locked page, the chunk buffers) outlive
 * messages and connections: libmilter runs a thread per SMTP session and a
 * lab's client often sends one message per session, so mapping, locking
 * and wiping them for each message cost more than sealing a small result.
 * A sealed message holds a database connection too, so no more buffers
 * exist than milter.db_connections (at most SEAL_BUFS_MAX). */
#define SEAL_BUFS_MAX 256
static pthread_mutex_t bufs_lock = PTHREAD_MUTEX_INITIALIZER;
static struct store_buf *bufs[SEAL_BUFS_MAX];
static int nbufs;

static struct store_buf *
buf_take(void)
{
	struct store_buf *b = NULL;

	pthread_mutex_lock(&bufs_lock);
	if (nbufs > 0)
		b = bufs[--nbufs];
	pthread_mutex_unlock(&bufs_lock);
	return b != NULL ? b : calloc(1, sizeof(*b));
}

/* The message using b has ended: store_free wiped what it left in b. */
static void
buf_give(struct store_buf *b)
{
	if (b == NULL)
		return;
	pthread_mutex_lock(&bufs_lock);
	if (nbufs < SEAL_BUFS_MAX) {
		bufs[nbufs++] = b;
		b = NULL;
	}
	pthread_mutex_unlock(&bufs_lock);
	store_buf_free(b);
	free(b);
}

struct seal_conn *
seal_conn_new(const struct seal_env *env)
{
	struct seal_conn *c = calloc(1, sizeof(*c));

	if (c != NULL)
		c->env = env;
	return c;
}

void
seal_conn_free(struct seal_conn *c)
{
	if (c == NULL)
		return;
	seal_msg_end(c);
	free(c);
}

static enum seal_rc
tempfail(struct seal_msg *m, struct policy_reply *rep, const char *what,
    const struct sm_err *err)
{
	char q[300];

	log_err("tempfail", "qid=%s lab=%lld what=%s reason=%s",
	    m->qid[0] ? m->qid : "-", m->has_lab ? m->lab.id : 0LL, what,
	    log_quote(err != NULL ? err->msg : "", q, sizeof(q)));
	policy_reply_set(rep, "451", "4.3.0", "sealmail: %s, try again later", what);
	m->rep = *rep;
	m->failed = SEAL_TEMPFAIL;
	return SEAL_TEMPFAIL;
}

static enum seal_rc
refuse(struct seal_msg *m, struct policy_reply *rep)
{
	char q[600];

	log_event("refused", "qid=%s lab=%lld code=%s reason=%s",
	    m->qid[0] ? m->qid : "-", m->lab.id, rep->xcode,
	    log_quote(rep->text, q, sizeof(q)));
	m->rep = *rep;
	m->failed = SEAL_REJECT;
	return SEAL_REJECT;
}

static void
release_db(struct seal_msg *m)
{
	if (m->db != NULL)
		pool_put(m->conn->env->pool, m->db, m->db_broken);
	m->db = NULL;
}

void
seal_msg_end(struct seal_conn *c)
{
	struct seal_msg *m;
	size_t i;

	if (c == NULL || (m = c->msg) == NULL)
		return;
	c->msg = NULL;
	/* Rolls back an uncommitted escrow (on this message's connection,
	 * before the connection goes back to the pool) and wipes its key. */
	store_free(m->st);
	buf_give(m->buf);
	release_db(m);
	for (i = 0; i < m->nrcpts; i++) {
		free(m->rcpts[i].raw);
		free(m->rcpts[i].addr);
		sodium_memzero(m->rcpts[i].token, sizeof(m->rcpts[i].token));
	}
	free(m->rcpts);
	for (i = 0; i < m->nhn; i++)
		free(m->hn[i].name);
	free(m->hn);
	buf_free(&m->hdrs);
	buf_free(&m->kept);
	policy_hdrs_free(&m->ph);
	sodium_memzero(&m->pol, sizeof(m->pol));
	sodium_memzero(m->answer_hash, sizeof(m->answer_hash));
	free(m);
}

/* "<a@b>" -> "a@b"; -1 when the result does not fit. */
static int
strip_brackets(const char *in, char *out, size_t cap)
{
	size_t n = strlen(in);

	if (n >= 2 && in[0] == '<' && in[n - 1] == '>') {
		in++;
		n -= 2;
	}
	if (n >= cap)
		return -1;
	memcpy(out, in, n);
	out[n] = '\0';
	return 0;
}

enum seal_rc
seal_msg_start(struct seal_conn *c, const char *sender_arg,
    const char *sasl_login, struct policy_reply *rep)
{
	const struct seal_env *env = c->env;
	struct lab_who who;
	struct seal_msg *m;
	struct sm_err err;
	int r;

	seal_msg_end(c);
	m = calloc(1, sizeof(*m));
	if (m == NULL) {
		policy_reply_set(rep, "451", "4.3.0", "sealmail: out of memory, try again later");
		return SEAL_TEMPFAIL;
	}
	m->conn = c;
	c->msg = m;
	buf_init(&m->hdrs, SEAL_HEADER_MAX);
	buf_init(&m->kept, 64 * 1024);
	if (strip_brackets(sender_arg ? sender_arg : "", m->sender,
	    sizeof(m->sender)) == -1) {
		policy_reply_set(rep, "553", "5.1.7", "sender address too long");
		return refuse(m, rep);
	}
	if (pool_get(env->pool, &m->db, env->pool_wait, &err) == -1)
		return tempfail(m, rep, "database unavailable", &err);
	who.sasl_login = sasl_login;
	who.client_addr = c->client_addr;
	who.sender = m->sender;
	r = lab_match(m->db, &who, &m->lab, &err);
	if (r == -1) {
		m->db_broken = 1;
		return tempfail(m, rep, "database unavailable", &err);
	}
	m->has_lab = r;
	if (!m->has_lab)
		release_db(m);	/* passes untouched: no more database work */
	return SEAL_OK;
}

enum seal_rc
seal_msg_rcpt(struct seal_conn *c, const char *rcpt_arg,
    struct policy_reply *rep)
{
	struct seal_msg *m = c->msg;
	char addr[SM_ADDRESS_MAX + 1];
	struct rcpt *r;

	if (m == NULL || !m->has_lab)
		return SEAL_OK;
	if (m->failed != SEAL_OK) {
		*rep = m->rep;
		return m->failed;
	}
	m->nrcpt_seen++;
	/* Past the limit the message is refused as a whole at end of
	 * header: sealing it for some recipients only would be a surprise. */
	if (m->nrcpts >= c->env->max_rcpts)
		return SEAL_OK;
	if (strip_brackets(rcpt_arg, addr, sizeof(addr)) == -1 || addr[0] == '\0') {
		policy_reply_set(rep, "553", "5.1.3", "recipient address empty or"
		    " longer than %d bytes", SM_ADDRESS_MAX);
		return SEAL_REJECT;	/* this recipient only */
	}
	if (m->nrcpts == m->caprcpts) {
		size_t ncap = m->caprcpts ? m->caprcpts * 2 : 4;
		struct rcpt *nr = realloc(m->rcpts, ncap * sizeof(*nr));

		if (nr == NULL)
			return tempfail(m, rep, "out of memory", NULL);
		m->rcpts = nr;
		m->caprcpts = ncap;
	}
	r = &m->rcpts[m->nrcpts];
	memset(r, 0, sizeof(*r));
	r->raw = strdup(rcpt_arg);
	r->addr = strdup(addr);
	if (r->raw == NULL || r->addr == NULL) {
		free(r->raw);
		free(r->addr);
		return tempfail(m, rep, "out of memory", NULL);
	}
	m->nrcpts++;
	return SEAL_OK;
}

static struct hname *
name_count(struct seal_msg *m, const char *name)
{
	struct hname *h;
	size_t i;

	for (i = 0; i < m->nhn; i++)
		if (strcasecmp(m->hn[i].name, name) == 0)
			return &m->hn[i];
	if (m->nhn >= SEAL_NAMES_MAX) {
		m->names_overflow = 1;
		return NULL;
	}
	if ((m->nhn & (m->nhn - 1)) == 0) {	/* grow at powers of two */
		size_t ncap = m->nhn ? m->nhn * 2 : 8;

		h = realloc(m->hn, ncap * sizeof(*h));
		if (h == NULL)
			return NULL;
		m->hn = h;
	}
	h = &m->hn[m->nhn];
	h->name = strdup(name);
	if (h->name == NULL)
		return NULL;
	h->count = 0;
	m->nhn++;
	return h;
}

/* Appends "Name:value\r\n" with continuation line feeds made CRLF. */
static int
append_header(struct buf *b, const char *name, const char *value, int leadspc)
{
	size_t i;

	if (buf_puts(b, name) == -1 || buf_append(b, leadspc ? ":" : ": ",
	    leadspc ? 1 : 2) == -1)
		return -1;
	for (i = 0; value[i] != '\0'; i++) {
		if (value[i] == '\n' && (i == 0 || value[i - 1] != '\r')) {
			if (buf_append(b, "\r\n", 2) == -1)
				return -1;
		} else if (buf_append(b, &value[i], 1) == -1) {
			return -1;
		}
	}
	return buf_append(b, "\r\n", 2);
}

enum seal_rc
seal_msg_header(struct seal_conn *c, const char *name, const char *value,
    struct policy_reply *rep)
{
	struct seal_msg *m = c->msg;
	struct hname *h;
	int ours;

	if (m == NULL || m->failed != SEAL_OK)
		return SEAL_OK;		/* reported at end of header */
	ours = policy_is_ours(name);
	/* Unsealed mail only needs the names of the headers to strip. */
	if (!m->has_lab && !ours)
		return SEAL_OK;
	h = name_count(m, name);
	if (h == NULL && !m->names_overflow)
		return tempfail(m, rep, "out of memory", NULL);
	if (h != NULL)
		h->count++;
	if (!m->has_lab) {
		m->ours += ours;
		return SEAL_OK;
	}
	if (ours) {
		m->ours++;
		if (policy_header(&m->ph, name, value, strlen(value)) == -1)
			return tempfail(m, rep, "out of memory", NULL);
		/* X-Sealmail-* headers are instructions to us, not part of
		 * the message: the answer must not sit in the escrow. */
		return SEAL_OK;
	}
	/* An overflow is refused at end of header; stop growing then. */
	if (m->hdrs.len <= SEAL_HEADER_MAX)
		if (append_header(&m->hdrs, name, value, c->leadspc) == -1)
			m->hdrs.len = SEAL_HEADER_MAX + 1;
	if (strcasecmp(name, "From") == 0 || strcasecmp(name, "Sender") == 0 ||
	    strcasecmp(name, "Reply-To") == 0)
		if (append_header(&m->kept, name, value, c->leadspc) == -1)
			return tempfail(m, rep, "out of memory", NULL);
	return SEAL_OK;
}

/* Verification for every recipient; one lookup each when headers do not
 * decide for all. */
static enum seal_rc
resolve_rcpts(struct seal_msg *m, struct policy_reply *rep)
{
	const struct seal_env *env = m->conn->env;
	struct sm_err err;
	size_t i;
	int r;

	/* One X-Sealmail-Phone names one patient: with several recipients
	 * it could not say whose number it is. */
	if (m->pol.phone[0] != '\0' && m->nrcpts != 1) {
		policy_reply_set(rep, "550", "5.7.1", "X-Sealmail-Phone applies"
		    " to one recipient: send one message per patient");
		return refuse(m, rep);
	}
	if (m->pol.verif != PV_NONE &&
	    answer_hash(env->kr, &env->cost, m->pol.secret, m->pol.secret_len,
	    m->answer_hash, &err) == -1)
		return tempfail(m, rep, "cannot hash the answer", &err);
	for (i = 0; i < m->nrcpts; i++) {
		struct rcpt *rc = &m->rcpts[i];
		const char *who = rc->addr;

		/* "+4915112345678@..." is a patient known by number only:
		 * the number is the address, and only an SMS can reach it. */
		if (sms_phone_of_address(rc->addr, rc->phone)) {
			rc->sms_only = 1;
			who = rc->phone;
		} else if (m->pol.phone[0] != '\0') {
			memcpy(rc->phone, m->pol.phone, sizeof(rc->phone));
			rc->sms_only = !m->lab.sms_with_email;
		}
		if (rc->phone[0] != '\0' && !env->sms_on) {
			policy_reply_set(rep, "550", "5.7.1", "this server sends"
			    " no SMS notices (sms.gateway is none)");
			return refuse(m, rep);
		}
		if (m->pol.verif == PV_NONE) {
			r = recipient_find(m->db, m->lab.id, who, &rc->rec, &err);
			if (r == -1) {
				m->db_broken = 1;
				return tempfail(m, rep, "database unavailable", &err);
			}
			rc->has_rec = r;
		}
		if (policy_resolve(&m->pol, m->pol.verif != PV_NONE ?
		    m->answer_hash : NULL, rc->has_rec ? &rc->rec : NULL,
		    m->lab.require_verification || rc->phone[0] != '\0', who,
		    &rc->d, rep) == -1) {
			/* An SMS patient nobody set a secret for picks a PIN
			 * at the first visit. */
			if (rc->phone[0] == '\0')
				return refuse(m, rep);
			memset(&rc->d, 0, sizeof(rc->d));
			rc->d.address = who;
			rc->d.kind = VERIF_PIN;
		}
	}
	return SEAL_OK;
}

enum seal_rc
seal_msg_eoh(struct seal_conn *c, struct policy_reply *rep)
{
	const struct seal_env *env = c->env;
	struct seal_msg *m = c->msg;
	struct store_meta meta;
	struct sm_err err;
	enum seal_rc rc;
	time_t now;
	int r;

	if (m == NULL || !m->has_lab)
		return SEAL_OK;
	if (m->failed != SEAL_OK) {
		*rep = m->rep;
		return m->failed;
	}
	if (m->eoh_done)
		return SEAL_OK;
	m->eoh_done = 1;
	if (m->nrcpt_seen > env->max_rcpts) {
		policy_reply_set(rep, "550", "5.5.3", "too many recipients for"
		    " a sealed message (%zu, at most %zu): send it in smaller"
		    " batches", m->nrcpt_seen, env->max_rcpts);
		return refuse(m, rep);
	}
	if (m->nrcpts == 0) {
		policy_reply_set(rep, "554", "5.5.1", "no valid recipients");
		return refuse(m, rep);
	}
	if (m->hdrs.len > SEAL_HEADER_MAX || m->names_overflow) {
		policy_reply_set(rep, "552", "5.3.4", "message header too large"
		    " to seal (more than %d bytes or %d header names)",
		    SEAL_HEADER_MAX, SEAL_NAMES_MAX);
		return refuse(m, rep);
	}
	now = time(NULL);
	if (policy_check(&m->ph, now, m->lab.default_expiry_days,
	    env->cost.date_order, &m->pol, rep) == -1)
		return refuse(m, rep);
	r = notify_has_variant(env->notify, &m->lab, m->pol.template_variant, &err);
	if (r == -1)
		return tempfail(m, rep, "notice template broken", &err);
	if (r == 0) {
		policy_reply_set(rep, "550", "5.7.1", "X-Sealmail-Template: this"
		    " lab has no template variant %s", m->pol.template_variant);
		return refuse(m, rep);
	}
	if ((rc = resolve_rcpts(m, rep)) != SEAL_OK)
		return rc;
	memset(&meta, 0, sizeof(meta));
	meta.lab_id = m->lab.id;
	meta.sender = m->sender;
	meta.reference = m->pol.reference[0] ? m->pol.reference : NULL;
	meta.expires = m->pol.expires;
	meta.chunk_size = env->chunk_size;
	meta.created = now;
	if ((m->buf = buf_take()) == NULL)
		return tempfail(m, rep, "out of memory", NULL);
	meta.buf = m->buf;
	if (store_begin(&m->st, m->db, env->kr, &meta, &err) == -1)
		return tempfail(m, rep, "cannot open the escrow", &err);
	if (store_append(m->st, m->hdrs.p ? m->hdrs.p : "", m->hdrs.len, &err) == -1 ||
	    store_append(m->st, "\r\n", 2, &err) == -1) {
		m->db_broken = 1;
		return tempfail(m, rep, "escrow write failed", &err);
	}
	buf_free(&m->hdrs);	/* wiped: it held the original headers */
	return SEAL_OK;
}

enum seal_rc
seal_msg_body(struct seal_conn *c, const unsigned char *p, size_t n,
    struct policy_reply *rep)
{
	struct seal_msg *m = c->msg;
	struct sm_err err;
	enum seal_rc rc;

	if (m == NULL || !m->has_lab)
		return c->can_skip ? SEAL_SKIP : SEAL_OK;
	if (!m->eoh_done && (rc = seal_msg_eoh(c, rep)) != SEAL_OK)
		return rc;
	if (m->failed != SEAL_OK) {
		*rep = m->rep;
		return m->failed;
	}
	if (store_msg_size(m->st) + n > c->env->max_size) {
		policy_reply_set(rep, "552", "5.3.4", "message too big to seal"
		    " (more than %llu bytes)", c->env->max_size);
		return refuse(m, rep);
	}
	if (store_append(m->st, p, n, &err) == -1) {
		m->db_broken = 1;
		return tempfail(m, rep, "escrow write failed", &err);
	}
	return SEAL_OK;
}

/* Deletes every occurrence of each header not kept (all X-Sealmail-*
 * when keep_others), highest index first so no index shifts under us. */
static int
strip_headers(struct seal_msg *m, SMFICTX *ctx, int sealed)
{
	size_t i;
	int k;

	for (i = 0; i < m->nhn; i++) {
		const char *name = m->hn[i].name;

		if (sealed ? notify_header_kept(name) : !policy_is_ours(name))
			continue;
		for (k = m->hn[i].count; k >= 1; k--)
			if (sm_chgheader(ctx, name, k, NULL) == -1)
				return -1;
	}
	return 0;
}

static int
add_header(struct seal_conn *c, SMFICTX *ctx, const char *name,
    const char *value)
{
	char v[1200];
	int n;

	/* With SMFIP_HDR_LEADSPC the MTA adds no space after the colon. */
	n = snprintf(v, sizeof(v), "%s%s", c->leadspc ? " " : "", value);
	if (n < 0 || (size_t)n >= sizeof(v))
		return -1;
	return sm_addheader(ctx, name, v);
}

/* The original message becomes the first recipient's notice. */
static int
rewrite_in_place(struct seal_msg *m, SMFICTX *ctx, size_t first,
    const struct notice *nt)
{
	struct seal_conn *c = m->conn;
	char to[SM_ADDRESS_MAX + 3];
	size_t i;

	for (i = 0; i < m->nrcpts; i++)
		if (i != first && sm_delrcpt(ctx, m->rcpts[i].raw) == -1)
			return -1;
	snprintf(to, sizeof(to), "<%s>", m->rcpts[first].addr);
	if (strip_headers(m, ctx, 1) == -1 ||
	    add_header(c, ctx, "To", to) == -1 ||
	    add_header(c, ctx, "Subject", nt->subject) == -1 ||
	    add_header(c, ctx, "MIME-Version", "1.0") == -1 ||
	    add_header(c, ctx, "Content-Type", nt->content_type) == -1 ||
	    add_header(c, ctx, "Content-Transfer-Encoding", nt->cte) == -1 ||
	    add_header(c, ctx, "X-Sealmail-Id", store_msg_id(m->st)) == -1)
		return -1;
	return sm_replacebody(ctx, (const unsigned char *)nt->body.p, nt->body.len);
}

/* The escrow committed with its `notified` events, but the notices did
 * not all go out and the MTA will retry (sealing again).  The trail says
 * so, best effort: the message is being tempfailed either way. */
static void
record_notify_failed(struct seal_msg *m)
{
	struct sm_err err;
	struct event ev;
	char q[300];

	memset(&ev, 0, sizeof(ev));
	ev.kind = "notify_failed";
	ev.lab_id = m->lab.id;
	ev.message_id = store_msg_id(m->st);
	ev.client_addr = m->conn->client_addr[0] ? m->conn->client_addr : NULL;
	if (event_record(m->db, &ev, &err) == -1) {
		m->db_broken = 1;
		log_warn("event_failed", "msg=%s kind=notify_failed reason=%s",
		    store_msg_id(m->st), log_quote(err.msg, q, sizeof(q)));
	}
}

/* After the commit: one queued SMS per recipient with a number.  A failure
 * tempfails the message like a notice that cannot be submitted. */
static int
queue_sms(struct seal_msg *m, struct sm_err *err)
{
	const struct seal_env *env = m->conn->env;
	char link[600], text[SMS_TEXT_MAX * 2 + 1];
	struct sms_item it;
	long long qid;
	size_t i;
	int n, rc = -1;

	for (i = 0; i < m->nrcpts; i++) {
		struct rcpt *r = &m->rcpts[i];

		if (r->phone[0] == '\0')
			continue;
		n = snprintf(link, sizeof(link), "%s/m/%s", env->portal_url,
		    r->token);
		if (n < 0 || (size_t)n >= sizeof(link)) {
			sm_err_set(err, "portal.url too long for an SMS");
			goto out;
		}
		if (sms_text(m->lab.display_name, link, text, sizeof(text),
		    err) == -1)
			goto out;
		memset(&it, 0, sizeof(it));
		it.lab_id = m->lab.id;
		it.message_id = store_msg_id(m->st);
		it.delivery_id = store_msg_delivery_id(m->st, i);
		it.phone = r->phone;
		it.text = text;
		it.client_addr = m->conn->client_addr[0] ? m->conn->client_addr : NULL;
		if (sms_queue_add(m->db, env->kr, &it, &qid, err) == -1)
			goto out;
		log_event("sms_queued", "msg=%s delivery=%lld sms=%lld lab=%lld",
		    it.message_id, it.delivery_id, qid, m->lab.id);
	}
	rc = 0;
out:
	sodium_memzero(link, sizeof(link));
	sodium_memzero(text, sizeof(text));
	return rc;
}

static enum seal_rc eom_work(struct seal_conn *, SMFICTX *, struct policy_reply *);

enum seal_rc
seal_msg_eom(struct seal_conn *c, SMFICTX *ctx, struct policy_reply *rep)
{
	enum seal_rc rc;

	busy_add(1);
	rc = eom_work(c, ctx, rep);
	busy_add(-1);
	return rc;
}

static enum seal_rc
eom_work(struct seal_conn *c, SMFICTX *ctx, struct policy_reply *rep)
{
	const struct seal_env *env = c->env;
	struct seal_msg *m = c->msg;
	struct notice_info ni;
	struct notice first_nt, other;
	const char *qid;
	struct sm_err err;
	enum seal_rc rc = SEAL_TEMPFAIL;
	int r, committed = 0;
	size_t i, first;

	if (m == NULL)
		return SEAL_OK;
	qid = sm_getsymval(ctx, "i");
	if (qid != NULL)
		snprintf(m->qid, sizeof(m->qid), "%s", qid);
	if (!m->has_lab) {
		if (m->ours > 0) {
			if (strip_headers(m, ctx, 0) == -1)
				return tempfail(m, rep, "cannot remove X-Sealmail headers", NULL);
			log_event("passed", "qid=%s stripped=%d", m->qid[0] ? m->qid : "-",
			    m->ours);
		}
		return SEAL_OK;
	}
	/* A message without a body never saw end-of-header work. */
	if (!m->eoh_done && (rc = seal_msg_eoh(c, rep)) != SEAL_OK)
		return rc;
	if (m->failed != SEAL_OK) {
		*rep = m->rep;
		return m->failed;
	}
	notice_init(&first_nt);
	notice_init(&other);
	/* The first recipient with an email notice gets the message
	 * rewritten in place; when every one is SMS-only, none does. */
	for (first = 0; first < m->nrcpts && m->rcpts[first].sms_only; first++)
		;
	for (i = 0; i < m->nrcpts; i++) {
		/* Recorded in the commit's transaction, before the notices go
		 * out; a notice that then fails adds a notify_failed event.
		 * An SMS notice has its own events (sms_queued, sms_sent). */
		m->rcpts[i].d.notified = m->rcpts[i].sms_only ? NULL :
		    i == first ? "in-place" : "separate";
		if (store_add_delivery(m->st, &m->rcpts[i].d, m->rcpts[i].token, &err) == -1) {
			rc = tempfail(m, rep, "cannot record the recipients", &err);
			goto out;
		}
	}
	memset(&ni, 0, sizeof(ni));
	ni.lab = &m->lab;
	ni.variant = m->pol.template_variant;
	ni.expires = m->pol.expires;
	ni.reference = m->pol.reference;
	ni.token = first < m->nrcpts ? m->rcpts[first].token : m->rcpts[0].token;
	/* Render before committing: a broken template must not leave an
	 * escrow row that nobody was told about. */
	if (notify_render(env->notify, &ni, &first_nt, &err) == -1) {
		rc = tempfail(m, rep, "cannot render the notice", &err);
		goto out;
	}
	(void)sm_progress(ctx);
	if ((r = store_commit(m->st, c->client_addr[0] ? c->client_addr : NULL,
	    &err)) != 0) {
		/* The connection died around COMMIT and the store could not
		 * learn the outcome: the row may exist.  Named in the log so
		 * an operator can purge it if nobody was notified; the MTA's
		 * retry seals the message again. */
		if (r == STORE_COMMIT_UNKNOWN)
			log_warn("commit_unknown", "msg=%s lab=%lld",
			    store_msg_id(m->st), m->lab.id);
		m->db_broken = 1;
		rc = tempfail(m, rep, "escrow commit failed", &err);
		goto out;
	}
	committed = 1;
	log_event("sealed", "msg=%s qid=%s lab=%lld via=%s rcpts=%zu size=%llu",
	    store_msg_id(m->st), m->qid[0] ? m->qid : "-", m->lab.id,
	    lab_via_name(m->lab.via), m->nrcpts,
	    (unsigned long long)store_msg_size(m->st));
	/* The escrow is committed first so no notice ever points at nothing.
	 * If a separate notice cannot be submitted the whole message is
	 * tempfailed: the MTA retries it, sealing it again, so recipients
	 * already notified get a second notice with a second link (both
	 * work).  A duplicate notice is better than a patient never told. */
	if (queue_sms(m, &err) == -1) {
		m->db_broken = 1;
		rc = tempfail(m, rep, "cannot queue an SMS notice", &err);
		goto out;
	}
	for (i = 0; i < m->nrcpts; i++) {
		if (i == first || m->rcpts[i].sms_only)
			continue;
		ni.token = m->rcpts[i].token;
		if (notify_render(env->notify, &ni, &other, &err) == -1) {
			rc = tempfail(m, rep, "cannot render the notice", &err);
			goto out;
		}
		if (notify_submit(env->notify, m->sender, m->rcpts[i].addr,
		    m->kept.p ? m->kept.p : "", m->kept.len, store_msg_id(m->st),
		    &other, &err) == -1) {
			rc = tempfail(m, rep, "cannot submit a notice", &err);
			goto out;
		}
		if (i % 16 == 0)
			(void)sm_progress(ctx);
	}
	if (first == m->nrcpts) {
		/* Sealed and queued as SMS only: nothing leaves by mail. */
		log_event("discarded", "msg=%s reason=sms-only",
		    store_msg_id(m->st));
		rc = SEAL_DISCARD;
		goto out;
	}
	if (rewrite_in_place(m, ctx, first, &first_nt) == -1) {
		rc = tempfail(m, rep, "cannot rewrite the message", NULL);
		goto out;
	}
	rc = SEAL_OK;
out:
	if (committed && rc != SEAL_OK && rc != SEAL_DISCARD)
		record_notify_failed(m);
	notice_free(&first_nt);
	notice_free(&other);
	return rc;
}
