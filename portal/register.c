/* register.c - proving the address and setting a registered patient's
 * password.  The code goes to the delivery's own address through
 * portal.sendmail, never the milter; only a keyed hash of it is stored
 * (patient_tokens, purpose address_code), it lasts 15 minutes, is spent
 * by its first right entry or its fifth wrong one, and a new code spends
 * the old.  Logs and events carry ids and outcomes only: never a code, a
 * password or an address. */
#include <stdio.h>
#include <string.h>

#include <sodium.h>

#include "answer.h"
#include "config.h"
#include "crypto.h"
#include "db.h"
#include "form.h"
#include "log.h"
#include "mail.h"
#include "page.h"
#include "password.h"
#include "patient.h"
#include "pickup.h"
#include "register.h"
#include "router.h"
#include "session.h"

#define CODE_PREFIX "sealmail-address-code-v1"

const char *
register_fields(const struct config *cf, const struct form *f,
    const char **pw, size_t *n)
{
	const char *pw2;
	size_t n2 = 0;

	*n = 0;
	*pw = form_get(f, "password", n);
	pw2 = form_get(f, "password2", &n2);
	return password_check(cf, *pw, *n, pw2, n2);
}

/* A code's hash, keyed with the pepper (a stolen table does not let anyone
 * try the 10^8 codes offline) and bound to the lab, the address and the
 * second it was made, so equal codes of two patients never collide. */
static void
code_hash(const struct ctx *c, long long created, const char *code, size_t n,
    unsigned char out[SM_HASH_BYTES])
{
	crypto_generichash_state st;
	char num[64];
	int k;

	crypto_generichash_init(&st, keyring_pepper(c->p->kr), SM_PEPPER_BYTES,
	    SM_HASH_BYTES);
	crypto_generichash_update(&st, (const unsigned char *)CODE_PREFIX,
	    sizeof(CODE_PREFIX));
	k = snprintf(num, sizeof(num), "%lld:%lld:", c->l.sl.lab_id, created);
	crypto_generichash_update(&st, (const unsigned char *)num, (size_t)k);
	crypto_generichash_update(&st, (const unsigned char *)c->l.sl.address,
	    strlen(c->l.sl.address) + 1);
	crypto_generichash_update(&st, (const unsigned char *)code, n);
	crypto_generichash_final(&st, out, SM_HASH_BYTES);
}

/* Spends the address's open codes and stores a new one, in one
 * transaction. */
static int
code_store(struct ctx *c, const char *code, struct sm_err *err)
{
	static const char spend[] = "UPDATE patient_tokens SET used = ?"
	    " WHERE purpose = 'address_code' AND lab_id = ? AND address = ?"
	    " AND used IS NULL";
	static const char ins[] = "INSERT INTO patient_tokens (hash, purpose,"
	    " lab_id, address, delivery_id, created, expires)"
	    " VALUES (?, 'address_code', ?, ?, ?, ?, ?)";
	struct portal *p = c->p;
	unsigned char h[SM_HASH_BYTES];
	struct db_val a[6];

	code_hash(c, (long long)p->now, code, strlen(code), h);
	if (db_begin(p->db, err) == -1)
		return -1;
	a[0] = DB_I(p->now);
	a[1] = DB_I(c->l.sl.lab_id);
	a[2] = DB_S(c->l.sl.address);
	if (db_exec(p->db, spend, a, 3, NULL, NULL, err) == -1)
		goto fail;
	a[0] = DB_B(h, sizeof(h));
	a[1] = DB_I(c->l.sl.lab_id);
	a[2] = DB_S(c->l.sl.address);
	a[3] = DB_I(c->l.sl.delivery_id);
	a[4] = DB_I(p->now);
	a[5] = DB_I(p->now + REGISTER_CODE_SECONDS);
	if (db_exec(p->db, ins, a, 6, NULL, NULL, err) == -1 ||
	    db_commit(p->db, err) == -1)
		goto fail;
	return 0;
fail:
	db_rollback(p->db);
	return -1;
}

static void
send_code(struct ctx *c)
{
	struct portal *p = c->p;
	char code[REGISTER_CODE_DIGITS + 1], text[2048];
	struct sm_err err;
	int n;

	snprintf(code, sizeof(code), "%0*u", REGISTER_CODE_DIGITS,
	    (unsigned)randombytes_uniform(100000000U));
	memset(text, 0, sizeof(text));
	/* Our wording, the lab's name and the code: nothing of the message. */
	n = snprintf(text, sizeof(text), "%s\n\n%s\n\n    %s\n\n%s\n", c->b.name,
	    page_text_set(p->pages, c->b.template_set, c->lang, "Register.CodeMail"),
	    code, page_text_set(p->pages, c->b.template_set, c->lang,
	    "Register.CodeMailEnd"));
	if (n < 0 || (size_t)n >= sizeof(text)) {
		page_notice(p, c->w, 500, "error", c->lang, &c->b, c->base, NULL);
		goto out;
	}
	if (code_store(c, code, &err) == -1) {
		ctx_unavailable(c, &err);
		goto out;
	}
	if (mail_send(p->cf, c->l.sl.address, page_text_set(p->pages,
	    c->b.template_set, c->lang, "Register.CodeSubject"), text, &err) == -1) {
		log_err("mail_failed", "delivery=%lld kind=address_code reason=\"%s\"",
		    c->l.sl.delivery_id, err.msg);
		(void)ctx_event(c, "code_failed", "reason=mail");
		page_notice(p, c->w, 503, "unavailable", c->lang, &c->b, c->base, NULL);
		goto out;
	}
	(void)ctx_event(c, "code_sent", NULL);
	log_event("code_sent", "delivery=%lld", c->l.sl.delivery_id);
	pickup_form_as(c, 200, NULL, "regcode", NULL);
out:
	sodium_memzero(code, sizeof(code));
	sodium_memzero(text, sizeof(text));
}

/* Checks the entered code against the address's open code.  1 right (the
 * code is spent in the caller's transaction), 0 wrong or none, -1 error.
 * *id is the code's row. */
static int
code_check(struct ctx *c, const char *in, size_t inlen, long long *id,
    struct sm_err *err)
{
	static const char sel[] = "SELECT id, hash, created FROM patient_tokens"
	    " WHERE purpose = 'address_code' AND lab_id = ? AND address = ?"
	    " AND used IS NULL AND expires > ? ORDER BY id DESC LIMIT 1";
	static const char miss[] = "UPDATE patient_tokens SET attempts ="
	    " attempts + 1, used = IF(attempts + 1 >= ?, ?, NULL) WHERE id = ?";
	struct portal *p = c->p;
	unsigned char stored[SM_HASH_BYTES], h[SM_HASH_BYTES];
	char code[REGISTER_CODE_DIGITS + 1];
	long long created = 0;
	struct db_val a[3];
	struct db_col col[3];
	size_t i, n = 0;
	int r, ret = -1;

	*id = 0;
	/* Spaces and dashes are how people copy codes; anything else makes
	 * it wrong, still counted. */
	for (i = 0; in != NULL && i < inlen; i++) {
		if (in[i] == ' ' || in[i] == '-')
			continue;
		if (n >= REGISTER_CODE_DIGITS || in[i] < '0' || in[i] > '9') {
			n = 0;
			break;
		}
		code[n++] = in[i];
	}
	code[n] = '\0';
	a[0] = DB_I(c->l.sl.lab_id);
	a[1] = DB_S(c->l.sl.address);
	a[2] = DB_I(p->now);
	col[0] = DB_COL_I(id);
	col[1] = DB_COL_B(stored, sizeof(stored));
	col[2] = DB_COL_I(&created);
	r = db_query_row(p->db, sel, a, 3, col, 3, err);
	if (r == -1)
		goto out;
	if (r == 0) {
		ret = 0;
		goto out;
	}
	code_hash(c, created, code, n, h);
	if (n == REGISTER_CODE_DIGITS && col[1].len == sizeof(stored) &&
	    sodium_memcmp(h, stored, sizeof(h)) == 0) {
		ret = 1;
		goto out;
	}
	a[0] = DB_I(REGISTER_CODE_TRIES);
	a[1] = DB_I(p->now);
	a[2] = DB_I(*id);
	if (db_exec(p->db, miss, a, 3, NULL, NULL, err) == -1)
		goto out;
	ret = 0;
out:
	sodium_memzero(code, sizeof(code));
	return ret;
}

static int
code_spend(struct ctx *c, long long id, struct sm_err *err)
{
	static const char use[] = "UPDATE patient_tokens SET used = ?"
	    " WHERE id = ? AND used IS NULL";
	unsigned long long n = 0;
	struct db_val a[2];

	a[0] = DB_I(c->p->now);
	a[1] = DB_I(id);
	if (db_exec(c->p->db, use, a, 2, &n, NULL, err) == -1)
		return -1;
	return n == 1 ? 0 : 1;
}

static void
set_password(struct ctx *c, const struct form *f)
{
	struct portal *p = c->p;
	char hash[SM_ANSWER_HASH_TEXT], sess[SESSION_CHARS + 1], detail[64];
	const char *pw, *bad, *code;
	size_t n = 0, clen = 0;
	struct sm_err err;
	long long rid = 0, code_id = 0;
	int r;

	memset(hash, 0, sizeof(hash));
	memset(sess, 0, sizeof(sess));
	if ((bad = register_fields(p->cf, f, &pw, &n)) != NULL) {
		pickup_form_as(c, 400, bad, "regcode", NULL);
		goto out;
	}
	code = form_get(f, "code", &clen);
	r = code_check(c, code, clen, &code_id, &err);
	if (r == -1) {
		ctx_unavailable(c, &err);
		goto out;
	}
	if (r == 0) {
		(void)ctx_event(c, "code_failed", "reason=wrong");
		log_warn("code_failed", "delivery=%lld", c->l.sl.delivery_id);
		pickup_form_as(c, 400, "CodeWrong", "regcode", NULL);
		goto out;
	}
	if (answer_hash(p->kr, &p->cost, pw, n, hash, &err) == -1) {
		log_err("register_error", "delivery=%lld reason=\"%s\"",
		    c->l.sl.delivery_id, err.msg);
		page_notice(p, c->w, 500, "error", c->lang, &c->b, c->base, NULL);
		goto out;
	}
	if (db_begin(p->db, &err) == -1) {
		ctx_unavailable(c, &err);
		goto out;
	}
	r = code_spend(c, code_id, &err);
	if (r == 0)
		r = patient_store_first(c, "registered", hash, NULL, &rid, &err);
	if (r == 1) {
		/* Another tab spent the code or set the password first. */
		db_rollback(p->db);
		log_warn("password_already_set", "delivery=%lld", c->l.sl.delivery_id);
		page_notice(p, c->w, 409, "registered", c->lang, &c->b, c->base, NULL);
		goto out;
	}
	snprintf(detail, sizeof(detail), "recipient=%lld", rid);
	if (r == -1 || ctx_event(c, "password_set", detail) == -1 ||
	    session_create(p, c->l.sl.delivery_id, sess, &err) == -1 ||
	    ctx_event(c, "verified", "password=set") == -1 ||
	    db_commit(p->db, &err) == -1) {
		db_rollback(p->db);
		ctx_unavailable(c, &err);
		goto out;
	}
	log_event("password_set", "delivery=%lld recipient=%lld",
	    c->l.sl.delivery_id, rid);
	/* The owner of the address hears of it; a failure is only logged:
	 * the password is set and the patient is in. */
	if (mail_send(p->cf, c->l.sl.address, page_text_set(p->pages,
	    c->b.template_set, c->lang, "Password.SetSubject"),
	    page_text_set(p->pages, c->b.template_set, c->lang,
	    "Password.SetMail"), &err) == -1)
		log_err("mail_failed", "delivery=%lld kind=password_set reason=\"%s\"",
		    c->l.sl.delivery_id, err.msg);
	patient_open_message(c, sess);
out:
	sodium_memzero(hash, sizeof(hash));
	sodium_memzero(sess, sizeof(sess));
}

void
register_post(struct ctx *c, const struct form *f)
{
	const char *step;
	size_t n = 0;

	step = form_get(f, "step", &n);
	if (step != NULL && n == 3 && memcmp(step, "set", 3) == 0)
		set_password(c, f);
	else
		send_code(c);
}
