/* pin.c - setting, recovering and resetting a patient's PIN (recovery and
 * reset serve the registered password of register.c the same way).  The PIN is
 * Argon2id over the peppered pre-hash (answer.c), kept in the patient's
 * recipients row (kind pin), so later messages to the same address ask
 * for it.  Setting it needs the link (the SMS) and is possible only while
 * none is set; changing it needs the link and a one-time key mailed to
 * the recovery email.  Logs and events carry ids only: never a PIN, a key,
 * an address or a link. */
#include <stdio.h>
#include <string.h>

#include <sodium.h>

#include "answer.h"
#include "config.h"
#include "csrf.h"
#include "db.h"
#include "form.h"
#include "log.h"
#include "mail.h"
#include "page.h"
#include "patient.h"
#include "pickup.h"
#include "pin.h"
#include "ratelimit.h"
#include "recipient_import.h"
#include "register.h"
#include "router.h"
#include "session.h"

int
pin_format_ok(const char *s, size_t n)
{
	size_t i;

	if (s == NULL || n < PIN_MIN || n > PIN_MAX)
		return 0;
	for (i = 0; i < n; i++)
		if (s[i] < '0' || s[i] > '9')
			return 0;
	return 1;
}

/* Checks the two PIN fields; an error key for the form, or NULL. */
static const char *
pin_fields(const struct form *f, const char **pin, size_t *plen)
{
	const char *pin2;
	size_t len2 = 0;

	*pin = form_get(f, "pin", plen);
	pin2 = form_get(f, "pin2", &len2);
	if (!pin_format_ok(*pin, *plen))
		return "PinFormat";
	if (pin2 == NULL || len2 != *plen || sodium_memcmp(*pin, pin2, len2) != 0)
		return "PinMismatch";
	return NULL;
}

void
pin_set_post(struct ctx *c, const struct form *f)
{
	struct portal *p = c->p;
	char hash[SM_ANSWER_HASH_TEXT], sess[SESSION_CHARS + 1], detail[64];
	const char *pin, *rec, *bad;
	size_t plen = 0, rlen = 0;
	struct sm_err err;
	long long rid = 0;
	int r;

	memset(hash, 0, sizeof(hash));
	memset(sess, 0, sizeof(sess));
	if ((bad = pin_fields(f, &pin, &plen)) != NULL) {
		pickup_form(c, 400, bad);
		goto out;
	}
	rec = form_get(f, "recovery", &rlen);
	if (rec == NULL || !rimport_address_ok(rec, rlen)) {
		pickup_form(c, 400, "RecoveryFormat");
		goto out;
	}
	if (answer_hash(p->kr, &p->cost, pin, plen, hash, &err) == -1) {
		log_err("pin_error", "delivery=%lld reason=\"%s\"",
		    c->l.sl.delivery_id, err.msg);
		page_notice(p, c->w, 500, "error", c->lang, &c->b, c->base, NULL);
		goto out;
	}
	if (db_begin(p->db, &err) == -1)
		goto unavailable;
	r = patient_store_first(c, "pin", hash, rec, &rid, &err);
	if (r == 1) {
		/* Someone set a PIN between the page and this POST: it is
		 * theirs to enter now, never ours to overwrite. */
		db_rollback(p->db);
		log_warn("pin_already_set", "delivery=%lld", c->l.sl.delivery_id);
		snprintf(c->l.sl.answer_hash, sizeof(c->l.sl.answer_hash), "set");
		pickup_form(c, 409, "PinTaken");
		goto out;
	}
	snprintf(detail, sizeof(detail), "recipient=%lld", rid);
	if (r == -1 || ctx_event(c, "pin_set", detail) == -1 ||
	    session_create(p, c->l.sl.delivery_id, sess, &err) == -1 ||
	    ctx_event(c, "verified", "pin=set") == -1 ||
	    db_commit(p->db, &err) == -1) {
		db_rollback(p->db);
		goto unavailable;
	}
	log_event("pin_set", "delivery=%lld recipient=%lld", c->l.sl.delivery_id, rid);
	patient_open_message(c, sess);
	goto out;
unavailable:
	ctx_unavailable(c, &err);
out:
	sodium_memzero(hash, sizeof(hash));
	sodium_memzero(sess, sizeof(sess));
}

/* The recovery email on file for the link's PIN, "" when none. */
static int
recovery_email(struct ctx *c, char *out, size_t cap, struct sm_err *err)
{
	static const char sql[] = "SELECT COALESCE(recovery_email, '')"
	    " FROM recipients WHERE id = ?";
	struct db_val a = DB_I(c->l.sl.recipient_id);
	struct db_col col = DB_COL_S(out, cap);
	int r;

	out[0] = '\0';
	r = db_query_row(c->p->db, sql, &a, 1, &col, 1, err);
	return r == -1 ? -1 : 0;
}

/* Recovery is the same for the PIN and the registered password; these
 * are what differ.  The PIN's link goes to the recovery email, the
 * password's to the address the messages go to. */
struct recovery_flow {
	enum verif_kind kind;
	const char *purpose;		/* patient_tokens.purpose */
	const char *texts;		/* "Pin" or "Password": lang file section */
	const char *sent_event, *reset_event;
	const char *recover_method;	/* pickup_form_as methods of the forms */
	const char *reset_method;
	const char *sent_notice;	/* the page after the link was mailed */
};

static const struct recovery_flow flows[] = {
	{ VERIF_PIN, "pin_recovery", "Pin", "pin_recovery_sent", "pin_reset",
	    "recover", "resetpin", "recoversent" },
	{ VERIF_REGISTERED, "password_reset", "Password", "password_reset_sent",
	    "password_changed", "recoverpassword", "resetpassword", "resetsent" },
};

/* The flow of the link when its patient has a secret to recover, or NULL. */
static const struct recovery_flow *
flow_of(const struct ctx *c)
{
	size_t i;

	if (c->l.sl.recipient_id == 0 || c->l.sl.answer_hash[0] == '\0')
		return NULL;
	for (i = 0; i < sizeof(flows) / sizeof(flows[0]); i++)
		if (flows[i].kind == c->l.sl.kind)
			return &flows[i];
	return NULL;
}

static const char *
flow_text(const struct ctx *c, const struct recovery_flow *fl, const char *what)
{
	char key[64];

	snprintf(key, sizeof(key), "%s.%s", fl->texts, what);
	return page_text_set(c->p->pages, c->b.template_set, c->lang, key);
}

/* Where the flow's mails go: the recovery email or the address itself. */
static int
flow_email(struct ctx *c, const struct recovery_flow *fl, char *out,
    size_t cap, struct sm_err *err)
{
	if (fl->kind == VERIF_PIN)
		return recovery_email(c, out, cap, err);
	snprintf(out, cap, "%s", c->l.sl.address);
	return 0;
}

void
pin_recover(struct ctx *c, int is_post)
{
	static const char ins[] = "INSERT INTO patient_tokens (hash, purpose,"
	    " lab_id, address, delivery_id, created, expires)"
	    " VALUES (?, ?, ?, ?, ?, ?, ?)";
	const struct recovery_flow *fl = flow_of(c);
	struct portal *p = c->p;
	char email[SM_ADDRESS_MAX + 1], key[SM_TOKEN_TEXT], link[600];
	char text[2048], path[128], url[256];
	unsigned char kh[SM_HASH_BYTES];
	struct form *f = NULL;
	struct db_val a[7];
	struct sm_err err;
	int n;

	memset(key, 0, sizeof(key));
	memset(link, 0, sizeof(link));
	memset(text, 0, sizeof(text));
	if (fl == NULL) {
		page_notice(p, c->w, 404, "notfound", c->lang, &c->b, NULL, NULL);
		goto out;
	}
	if (!is_post) {
		pickup_form_as(c, 200, NULL, fl->recover_method, NULL);
		goto out;
	}
	f = calloc(1, sizeof(*f));
	if (f == NULL) {
		page_notice(p, c->w, 503, "unavailable", c->lang, &c->b, c->base, NULL);
		goto out;
	}
	if (patient_read_post(c, "recover", fl->recover_method, f) == -1)
		goto out;
	if (flow_email(c, fl, email, sizeof(email), &err) == -1) {
		ctx_unavailable(c, &err);
		goto out;
	}
	if (email[0] == '\0') {
		page_notice(p, c->w, 200, "norecovery", c->lang, &c->b, c->base, NULL);
		goto out;
	}
	token_new(key, kh);
	a[0] = DB_B(kh, sizeof(kh));
	a[1] = DB_S(fl->purpose);
	a[2] = DB_I(c->l.sl.lab_id);
	a[3] = DB_S(c->l.sl.address);
	a[4] = DB_I(c->l.sl.delivery_id);
	a[5] = DB_I(p->now);
	a[6] = DB_I(p->now + PIN_RESET_SECONDS);
	snprintf(path, sizeof(path), "/reset?k=%s", key);
	ctx_url(c, path, url, sizeof(url));
	n = snprintf(link, sizeof(link), "%s%s", config_str(p->cf, "portal.url"), url);
	if (n < 0 || (size_t)n >= sizeof(link)) {
		page_notice(p, c->w, 500, "error", c->lang, &c->b, c->base, NULL);
		goto out;
	}
	/* Our own wording from the language file, the lab's name, and the
	 * link on a line of its own so no mail client breaks it. */
	n = snprintf(text, sizeof(text), "%s\n\n%s\n\n%s\n\n%s\n", c->b.name,
	    flow_text(c, fl, "RecoverMail"), link, flow_text(c, fl, "RecoverMailEnd"));
	if (n < 0 || (size_t)n >= sizeof(text)) {
		page_notice(p, c->w, 500, "error", c->lang, &c->b, c->base, NULL);
		goto out;
	}
	if (db_exec(p->db, ins, a, 7, NULL, NULL, &err) == -1) {
		ctx_unavailable(c, &err);
		goto out;
	}
	if (mail_send(p->cf, email, flow_text(c, fl, "RecoverSubject"), text,
	    &err) == -1) {
		log_err("mail_failed", "delivery=%lld kind=%s reason=\"%s\"",
		    c->l.sl.delivery_id, fl->purpose, err.msg);
		page_notice(p, c->w, 503, "unavailable", c->lang, &c->b, c->base, NULL);
		goto out;
	}
	(void)ctx_event(c, fl->sent_event, NULL);
	log_event(fl->sent_event, "delivery=%lld recipient=%lld",
	    c->l.sl.delivery_id, c->l.sl.recipient_id);
	page_notice(p, c->w, 200, fl->sent_notice, c->lang, &c->b, c->base, NULL);
out:
	sodium_memzero(key, sizeof(key));
	sodium_memzero(link, sizeof(link));
	sodium_memzero(text, sizeof(text));
	free(f);
}

/* The unused, unexpired recovery key k of this link's address: its row id,
 * 0 when there is none, -1 on error. */
static long long
reset_key(struct ctx *c, const struct recovery_flow *fl, const char *k,
    size_t klen, struct sm_err *err)
{
	static const char sql[] = "SELECT id FROM patient_tokens WHERE hash = ?"
	    " AND purpose = ? AND used IS NULL AND expires > ?"
	    " AND lab_id = ? AND address = ?";
	unsigned char kh[SM_HASH_BYTES];
	long long id = 0;
	struct db_val a[5];
	struct db_col col = DB_COL_I(&id);
	int r;

	if (k == NULL || token_hash(k, klen, kh) == -1)
		return 0;
	a[0] = DB_B(kh, sizeof(kh));
	a[1] = DB_S(fl->purpose);
	a[2] = DB_I(c->p->now);
	a[3] = DB_I(c->l.sl.lab_id);
	a[4] = DB_S(c->l.sl.address);
	r = db_query_row(c->p->db, sql, a, 5, &col, 1, err);
	return r == 1 ? id : r;
}

static int
store_new_pin(struct ctx *c, long long key_id, const char *hash,
    struct sm_err *err)
{
	static const char use[] = "UPDATE patient_tokens SET used = ?"
	    " WHERE id = ? AND used IS NULL";
	static const char upd[] = "UPDATE recipients SET answer_hash = ?,"
	    " updated = ? WHERE id = ?";
	static const char unlock[] = "UPDATE deliveries SET failed_attempts = 0,"
	    " locked_until = NULL WHERE id = ? OR recipient_id = ?";
	unsigned long long n = 0;
	struct db_val a[3];

	a[0] = DB_I(c->p->now);
	a[1] = DB_I(key_id);
	if (db_exec(c->p->db, use, a, 2, &n, NULL, err) == -1)
		return -1;
	if (n != 1) {
		sm_err_set(err, "recovery key used meanwhile");
		return 1;
	}
	a[0] = DB_S(hash);
	a[1] = DB_I(c->p->now);
	a[2] = DB_I(c->l.sl.recipient_id);
	if (db_exec(c->p->db, upd, a, 3, NULL, NULL, err) == -1)
		return -1;
	a[0] = DB_I(c->l.sl.delivery_id);
	a[1] = DB_I(c->l.sl.recipient_id);
	return db_exec(c->p->db, unlock, a, 2, NULL, NULL, err);
}

void
pin_reset(struct ctx *c, int is_post)
{
	const struct recovery_flow *fl = flow_of(c);
	struct portal *p = c->p;
	char hash[SM_ANSWER_HASH_TEXT], sess[SESSION_CHARS + 1], email[SM_ADDRESS_MAX + 1];
	struct form *q = NULL, *f = NULL;
	const char *k, *pin, *bad;
	size_t klen = 0, plen = 0;
	struct sm_err err;
	long long key_id;
	int r;

	memset(hash, 0, sizeof(hash));
	memset(sess, 0, sizeof(sess));
	q = calloc(1, sizeof(*q));
	f = calloc(1, sizeof(*f));
	if (q == NULL || f == NULL) {
		page_notice(p, c->w, 503, "unavailable", c->lang, &c->b, c->base, NULL);
		goto out;
	}
	if (fl == NULL) {
		page_notice(p, c->w, 404, "notfound", c->lang, &c->b, NULL, NULL);
		goto out;
	}
	if (is_post) {
		if (patient_read_post(c, "recover", fl->reset_method, f) == -1)
			goto out;
		k = form_get(f, "k", &klen);
	} else {
		if (form_parse(q, c->r->query, strlen(c->r->query)) == -1)
			k = NULL;
		else
			k = form_get(q, "k", &klen);
	}
	key_id = reset_key(c, fl, k, klen, &err);
	if (key_id == -1) {
		ctx_unavailable(c, &err);
		goto out;
	}
	if (key_id == 0) {
		page_notice(p, c->w, 410, "resetinvalid", c->lang, &c->b, c->base, NULL);
		goto out;
	}
	if (!is_post) {
		pickup_form_as(c, 200, NULL, fl->reset_method, k);
		goto out;
	}
	if (fl->kind == VERIF_PIN)
		bad = pin_fields(f, &pin, &plen);
	else
		bad = register_fields(p->cf, f, &pin, &plen);
	if (bad != NULL) {
		pickup_form_as(c, 400, bad, fl->reset_method, k);
		goto out;
	}
	if (answer_hash(p->kr, &p->cost, pin, plen, hash, &err) == -1) {
		log_err("pin_error", "delivery=%lld reason=\"%s\"",
		    c->l.sl.delivery_id, err.msg);
		page_notice(p, c->w, 500, "error", c->lang, &c->b, c->base, NULL);
		goto out;
	}
	if (db_begin(p->db, &err) == -1) {
		ctx_unavailable(c, &err);
		goto out;
	}
	r = store_new_pin(c, key_id, hash, &err);
	if (r == 1) {
		db_rollback(p->db);
		page_notice(p, c->w, 410, "resetinvalid", c->lang, &c->b, c->base, NULL);
		goto out;
	}
	if (r == -1 || ctx_event(c, fl->reset_event, NULL) == -1 ||
	    session_create(p, c->l.sl.delivery_id, sess, &err) == -1 ||
	    ctx_event(c, "verified", fl->kind == VERIF_PIN ?
	    "pin=reset" : "password=reset") == -1 ||
	    db_commit(p->db, &err) == -1) {
		db_rollback(p->db);
		ctx_unavailable(c, &err);
		goto out;
	}
	log_event(fl->reset_event, "delivery=%lld recipient=%lld", c->l.sl.delivery_id,
	    c->l.sl.recipient_id);
	/* Tell the owner of the recovery email; a failure is only logged:
	 * the change is made and the patient is in. */
	if (flow_email(c, fl, email, sizeof(email), &err) == 0 && email[0] != '\0' &&
	    mail_send(p->cf, email, flow_text(c, fl, "ChangedSubject"),
	    flow_text(c, fl, "ChangedMail"), &err) == -1)
		log_err("mail_failed", "delivery=%lld kind=%s reason=\"%s\"",
		    c->l.sl.delivery_id, fl->reset_event, err.msg);
	patient_open_message(c, sess);
out:
	sodium_memzero(hash, sizeof(hash));
	sodium_memzero(sess, sizeof(sess));
	if (f != NULL)
		sodium_memzero(f, sizeof(*f));
	free(q);
	free(f);
}
