/* api_messages.c - a lab's messages over the API: list, status, events,
 * retract, expiry, and a delivery's retract and unlock.  lib/tracking.c,
 * lib/msglist.c and lib/lifecycle.c do the work, scoped by the key's lab;
 * another lab's id gets the same 404 as an unknown one. */
#include <stdio.h>
#include <string.h>

#include <jansson.h>

#include "api_messages.h"
#include "expiry.h"
#include "json.h"
#include "log.h"
#include "msglist.h"
#include "tracking.h"

static json_t *
opt_time(long long t)
{
	return t > 0 ? json_integer(t) : json_null();
}

static void
not_found(struct api *a)
{
	jout_error(a->w, 404, "not_found", "no such message", NULL);
}

static int
list_one(const struct msglist_row *m, void *arg)
{
	json_t *arr = arg;

	return json_array_append_new(arr, json_pack("{s:s, s:s, s:s, s:I, s:I,"
	    " s:o, s:o, s:I, s:I}", "id", m->id, "reference", m->reference,
	    "sender", m->sender, "created", (json_int_t)m->created,
	    "expires", (json_int_t)m->expires, "retracted",
	    opt_time(m->retracted), "purged", opt_time(m->purged),
	    "recipients", (json_int_t)m->recipients, "opened",
	    (json_int_t)m->opened));
}

void
api_messages_list(struct api *a)
{
	struct msglist_filter f;
	struct sm_err err;
	json_t *arr;

	memset(&f, 0, sizeof(f));
	f.lab_id = a->lab_id;
	f.reference = api_qstr(a, "reference");
	f.recipient = api_qstr(a, "recipient");
	if (api_qint(a, "since", 0, 1LL << 40, 0, &f.since) == -1 ||
	    api_qint(a, "until", 0, 1LL << 40, 0, &f.until) == -1 ||
	    api_qint(a, "page", 1, 1000000, 1, &f.page) == -1 ||
	    api_qint(a, "limit", 1, 1000, 50, &f.limit) == -1)
		return;
	arr = json_array();
	if (arr == NULL || msglist_query(a->p->db, &f, list_one, arr, &err) == -1) {
		json_decref(arr);
		api_internal(a, "messages", &err);
		return;
	}
	jout_send(a->w, 200, json_pack("{s:o, s:I, s:I}", "messages", arr,
	    "page", (json_int_t)f.page, "limit", (json_int_t)f.limit));
}

static int
delivery_one(const struct track_delivery *d, void *arg)
{
	json_t *arr = arg;

	return json_array_append_new(arr, json_pack("{s:I, s:s, s:s, s:o, s:I,"
	    " s:o, s:o}", "id", (json_int_t)d->id, "address", d->address,
	    "kind", d->kind, "first_opened", opt_time(d->first_opened),
	    "failed_attempts", (json_int_t)d->failed_attempts, "locked_until",
	    opt_time(d->locked_until), "retracted", opt_time(d->retracted)));
}

/* 1 the lab's message (m filled), 0 not found (404 sent), -1 (503 sent). */
static int
load(struct api *a, const char *id, struct track_message *m)
{
	struct sm_err err;
	int rc;

	rc = track_message(a->p->db, a->lab_id, id, m, &err);
	if (rc == -1)
		api_internal(a, "message", &err);
	else if (rc == 0)
		not_found(a);
	return rc;
}

static const char *
state_of(const struct track_message *m, long long now)
{
	if (m->purged > 0)
		return "purged";
	if (m->retracted > 0)
		return "retracted";
	if (m->expires <= now)
		return "expired";
	return "active";
}

void
api_message_get(struct api *a, const char *id)
{
	struct track_message m;
	struct sm_err err;
	json_t *arr;

	if (load(a, id, &m) != 1)
		return;
	arr = json_array();
	if (arr == NULL || track_deliveries(a->p->db, id, delivery_one, arr,
	    &err) == -1) {
		json_decref(arr);
		api_internal(a, "deliveries", &err);
		return;
	}
	jout_send(a->w, 200, json_pack("{s:s, s:s, s:s, s:s, s:I, s:I, s:o,"
	    " s:o, s:I, s:o}", "id", m.id, "state", state_of(&m, a->p->now),
	    "reference", m.reference, "sender", m.sender, "created",
	    (json_int_t)m.created, "expires", (json_int_t)m.expires,
	    "retracted", opt_time(m.retracted), "purged", opt_time(m.purged),
	    "size", (json_int_t)m.size, "deliveries", arr));
}

static int
event_one(const struct track_event *ev, void *arg)
{
	json_t *arr = arg;
	json_t *o;

	o = json_pack("{s:I, s:I, s:s, s:o, s:o, s:o, s:o, s:o}", "id",
	    (json_int_t)ev->id, "at", (json_int_t)(ev->at_us / 1000000),
	    "kind", ev->kind,
	    "delivery", ev->delivery_id ? json_integer(ev->delivery_id) : json_null(),
	    "recipient", ev->address[0] ? json_string(ev->address) : json_null(),
	    "client_addr", ev->client_addr[0] ? json_string(ev->client_addr) : json_null(),
	    "user_agent", ev->user_agent[0] ? json_string(ev->user_agent) : json_null(),
	    "detail", ev->detail[0] ? json_string(ev->detail) : json_null());
	return json_array_append_new(arr, o);
}

void
api_message_events(struct api *a, const char *id)
{
	struct track_message m;
	struct track_filter f;
	struct sm_err err;
	json_t *arr;

	memset(&f, 0, sizeof(f));
	if (api_qint(a, "page", 1, 1000000, 1, &f.page) == -1 ||
	    api_qint(a, "limit", 1, 1000, 100, &f.limit) == -1)
		return;
	if (load(a, id, &m) != 1)
		return;
	f.lab_id = a->lab_id;
	f.message_id = id;
	arr = json_array();
	if (arr == NULL || track_events(a->p->db, &f, event_one, arr, &err) == -1) {
		json_decref(arr);
		api_internal(a, "events", &err);
		return;
	}
	jout_send(a->w, 200, json_pack("{s:s, s:o, s:I, s:I}", "message", id,
	    "events", arr, "page", (json_int_t)f.page, "limit",
	    (json_int_t)f.limit));
}

void
api_message_retract(struct api *a, const char *id)
{
	struct sm_err err;
	int changed = 0, rc;

	rc = lifecycle_retract_message(a->p->db, a->lab_id, id, &a->who,
	    &changed, &err);
	if (rc == LC_NOTFOUND) {
		not_found(a);
		return;
	}
	if (rc == -1) {
		api_internal(a, "retract", &err);
		return;
	}
	log_event("api_retract", "lab=%lld key=%lld msg=%s changed=%d",
	    a->lab_id, a->key_id, id, changed);
	jout_send(a->w, 200, json_pack("{s:s, s:s, s:b}", "id", id, "state",
	    "retracted", "changed", changed));
}

/* Every message of one reference: a batch sent by mistake. */
void
api_reference_retract(struct api *a)
{
	const char *ref = api_qstr(a, "reference");
	struct sm_err err;
	size_t n = 0;

	if (ref == NULL || ref[0] == '\0' || strlen(ref) > SM_REFERENCE_MAX * 4) {
		jout_error(a->w, 400, "bad_parameter", "reference is required"
		    " (at most 200 characters)", NULL);
		return;
	}
	if (lifecycle_retract_reference(a->p->db, a->lab_id, ref, &a->who, &n,
	    &err) == -1) {
		api_internal(a, "retract", &err);
		return;
	}
	log_event("api_retract", "lab=%lld key=%lld reference=yes messages=%zu",
	    a->lab_id, a->key_id, n);
	jout_send(a->w, 200, json_pack("{s:s, s:I}", "reference", ref,
	    "retracted", (json_int_t)n));
}

void
api_message_expiry(struct api *a, const char *id)
{
	struct track_message m;
	struct sm_err err;
	json_error_t je;
	json_t *o = NULL, *v;
	struct buf b;
	time_t exp;
	int rc;

	buf_init(&b, API_SMALL_BODY_MAX);
	if (api_body(a, &b, API_SMALL_BODY_MAX) == -1)
		goto out;
	o = json_loadb(b.p ? b.p : "", b.len, JSON_REJECT_DUPLICATES, &je);
	if (o == NULL || !json_is_object(o)) {
		jout_error(a->w, 400, "not_json", "the body must be a JSON"
		    " object such as {\"expires\": \"30d\"}", NULL);
		goto out;
	}
	v = json_object_get(o, "expires");
	if (v == NULL || !json_is_string(v) || json_object_size(o) != 1) {
		jout_error(a->w, 422, "bad_expires", "\"expires\" must be the only"
		    " field, a string such as \"30d\", \"6m\", \"1y\" or"
		    " \"2027-01-31\"", NULL);
		goto out;
	}
	if (load(a, id, &m) != 1)
		goto out;
	if (expiry_parse(json_string_value(v), json_string_length(v), a->p->now,
	    &exp, &err) == -1) {
		jout_error(a->w, 422, "bad_expires", err.msg, NULL);
		goto out;
	}
	rc = lifecycle_set_expiry(a->p->db, a->lab_id, id, exp, &a->who, &err);
	if (rc == LC_NOTFOUND) {
		not_found(a);
		goto out;
	}
	if (rc == -1) {
		if (m.retracted > 0 || m.purged > 0)
			jout_error(a->w, 409, "not_active", "a retracted or purged"
			    " message keeps its expiry", NULL);
		else
			api_internal(a, "expiry", &err);
		goto out;
	}
	log_event("api_expiry", "lab=%lld key=%lld msg=%s expires=%lld",
	    a->lab_id, a->key_id, id, (long long)exp);
	jout_send(a->w, 200, json_pack("{s:s, s:I}", "id", id, "expires",
	    (json_int_t)exp));
out:
	json_decref(o);
	buf_free(&b);
}

static void
delivery_done(struct api *a, int rc, const char *what, long long id,
    const struct sm_err *err)
{
	if (rc == LC_NOTFOUND) {
		jout_error(a->w, 404, "not_found", "no such delivery", NULL);
		return;
	}
	if (rc == -1) {
		api_internal(a, what, err);
		return;
	}
	log_event("api_delivery", "op=%s lab=%lld key=%lld delivery=%lld", what,
	    a->lab_id, a->key_id, id);
	jout_send(a->w, 200, json_pack("{s:I, s:s}", "delivery", (json_int_t)id,
	    "done", what));
}

void
api_delivery_retract(struct api *a, long long id)
{
	struct sm_err err;
	int changed = 0, rc;

	rc = lifecycle_retract_delivery(a->p->db, a->lab_id, id, &a->who,
	    &changed, &err);
	delivery_done(a, rc, "retract", id, &err);
}

void
api_delivery_unlock(struct api *a, long long id)
{
	struct sm_err err;
	int rc;

	rc = lifecycle_unlock(a->p->db, a->lab_id, id, &a->who, &err);
	delivery_done(a, rc, "unlock", id, &err);
}
