/* admin_actions.c - the POSTs that change a lab's messages.  Each one:
 * the form and its CSRF token, the role, then one call of lib/lifecycle.c
 * scoped by the user's lab (which records the event), then a redirect
 * (303) back to the message.  Another lab's id gets the 404 of an unknown
 * one and changes nothing. */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "admin_actions.h"
#include "expiry.h"
#include "log.h"

/* The form of an action: CSRF checked and role allowed; -1 when the
 * answer was given already. */
static struct form *
action_form(struct admin *a)
{
	struct form *f = calloc(1, sizeof(*f));

	if (f == NULL) {
		admin_unavailable(a, "form", NULL);
		return NULL;
	}
	if (admin_form(a, f) == -1 || !admin_may_change(a)) {
		free(f);
		return NULL;
	}
	return f;
}

static void
back_to(struct admin *a, const char *id, const char *done)
{
	char url[128];

	snprintf(url, sizeof(url), "/admin/messages/%s?done=%s", id, done);
	admin_redirect(a, url);
}

static void
gone(struct admin *a)
{
	admin_notice(a, 404, "Not found", "There is no such message or"
	    " recipient for your lab.");
}

void
admin_retract_message(struct admin *a, const char *id)
{
	struct form *f;
	struct sm_err err;
	int changed = 0, rc;

	if ((f = action_form(a)) == NULL)
		return;
	rc = lifecycle_retract_message(a->p->db, a->lab_id, id, &a->who,
	    &changed, &err);
	if (rc == LC_NOTFOUND)
		gone(a);
	else if (rc == -1)
		admin_unavailable(a, "retract", &err);
	else {
		log_event("admin_retract", "user=%lld lab=%lld msg=%s changed=%d",
		    a->user_id, a->lab_id, id, changed);
		back_to(a, id, "retracted");
	}
	free(f);
}

void
admin_set_expiry(struct admin *a, const char *id)
{
	struct form *f;
	struct sm_err err;
	const char *v;
	size_t n = 0;
	time_t exp;
	int rc;

	if ((f = action_form(a)) == NULL)
		return;
	v = form_get(f, "expires", &n);
	if (v == NULL || expiry_parse(v, n, a->p->now, &exp, &err) == -1) {
		admin_notice(a, 422, "Expiry not changed", "Write the new expiry"
		    " as 7d, 2w, 6m, 1y or a date YYYY-MM-DD, from 1 day to 10"
		    " years ahead.");
		goto out;
	}
	rc = lifecycle_set_expiry(a->p->db, a->lab_id, id, exp, &a->who, &err);
	if (rc == LC_NOTFOUND)
		gone(a);
	else if (rc == -1)
		admin_notice(a, 409, "Expiry not changed", "A retracted or purged"
		    " message keeps its expiry.");
	else {
		log_event("admin_expiry", "user=%lld lab=%lld msg=%s expires=%lld",
		    a->user_id, a->lab_id, id, (long long)exp);
		back_to(a, id, "expiry");
	}
out:
	free(f);
}

/* Delivery forms name their message for the way back; only a well-formed
 * id of 32 hex digits is used, else the list. */
static void
back_from_delivery(struct admin *a, struct form *f, const char *done)
{
	const char *m;
	size_t n = 0, i;

	m = form_get(f, "message", &n);
	for (i = 0; m != NULL && i < n; i++)
		if (!((m[i] >= '0' && m[i] <= '9') || (m[i] >= 'a' && m[i] <= 'f')))
			break;
	if (m != NULL && n == SM_ID_HEX - 1 && i == n)
		back_to(a, m, done);
	else
		admin_redirect(a, "/admin/messages");
}

void
admin_retract_delivery(struct admin *a, long long id)
{
	struct form *f;
	struct sm_err err;
	int changed = 0, rc;

	if ((f = action_form(a)) == NULL)
		return;
	rc = lifecycle_retract_delivery(a->p->db, a->lab_id, id, &a->who,
	    &changed, &err);
	if (rc == LC_NOTFOUND)
		gone(a);
	else if (rc == -1)
		admin_unavailable(a, "retract_delivery", &err);
	else {
		log_event("admin_retract_delivery", "user=%lld lab=%lld"
		    " delivery=%lld changed=%d", a->user_id, a->lab_id, id, changed);
		back_from_delivery(a, f, "delivery-retracted");
	}
	free(f);
}

void
admin_unlock_delivery(struct admin *a, long long id)
{
	struct form *f;
	struct sm_err err;
	int rc;

	if ((f = action_form(a)) == NULL)
		return;
	rc = lifecycle_unlock(a->p->db, a->lab_id, id, &a->who, &err);
	if (rc == LC_NOTFOUND)
		gone(a);
	else if (rc == -1)
		admin_unavailable(a, "unlock", &err);
	else {
		log_event("admin_unlock", "user=%lld lab=%lld delivery=%lld",
		    a->user_id, a->lab_id, id);
		back_from_delivery(a, f, "unlocked");
	}
	free(f);
}

void
admin_retract_reference(struct admin *a)
{
	struct page_vars pv;
	struct form *f;
	struct sm_err err;
	const char *ref;
	size_t n = 0, count = 0;
	char msg[160];
	int rc;

	if ((f = action_form(a)) == NULL)
		return;
	ref = form_get(f, "reference", &n);
	if (ref == NULL || n == 0 || n > 200) {
		admin_notice(a, 422, "Nothing retracted", "Give the reference"
		    " whose messages are to be retracted.");
		goto out;
	}
	rc = lifecycle_retract_reference(a->p->db, a->lab_id, ref, &a->who,
	    &count, &err);
	if (rc == LC_NOTFOUND) {
		admin_notice(a, 404, "Nothing retracted", "Your lab has no"
		    " message with that reference that is not retracted yet.");
		goto out;
	}
	if (rc == -1) {
		admin_unavailable(a, "retract_reference", &err);
		goto out;
	}
	log_event("admin_retract_reference", "user=%lld lab=%lld count=%zu",
	    a->user_id, a->lab_id, count);
	snprintf(msg, sizeof(msg), "%zu message(s) retracted.", count);
	page_vars_init(&pv);
	page_set(&pv, "Page.Title", "Reference retracted");
	page_set(&pv, "Page.Text", msg);
	page_set(&pv, "Page.Reference", ref);
	admin_render(a, 200, PAGE_ADMIN_NOTICE, &pv);
	page_vars_free(&pv);
out:
	free(f);
}
